//! MLS costs (the E2EE issue's benchmark), in process with `sealdesk-mls` and our profile:
//! encrypt and decrypt per message against the bare AEAD the ciphersuite uses (the floor:
//! AES-128-GCM of the same plaintext through the same crypto provider), the server's
//! per-message framing check, commit cost against group size (create, process by a member,
//! validation by the server's `PublicGroup`), and a History Member's replay of a
//! 1,000-message conversation.

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use hdrhistogram::Histogram;
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::crypto::OpenMlsCrypto as _;
use openmls_traits::types::AeadType;
use sealdesk_mls::ds::GroupView;
use sealdesk_mls::{Client, CredentialCheck, Processed, Provider, profile};
use serde::Serialize;

use crate::procfs::Environment;
use crate::stats::{self, Latency};

/// `sealdesk-bench mls`.
#[derive(Debug, Args)]
pub(crate) struct MlsArgs {
    /// Messages per encrypt/decrypt measurement.
    #[arg(long, default_value_t = 5_000)]
    pub(crate) messages: u32,
    /// Group sizes for the commit measurements.
    #[arg(long, value_delimiter = ',', default_value = "2,4,8,16,32,64,128")]
    pub(crate) sizes: Vec<u32>,
    /// Commits measured per group size.
    #[arg(long, default_value_t = 20)]
    pub(crate) commits: u32,
    /// Messages in the conversation the History Member replays.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) history: u32,
    /// Write the JSON result here as well as to standard output.
    #[arg(long)]
    pub(crate) out: Option<std::path::PathBuf>,
}

struct Anyone;

impl CredentialCheck for Anyone {
    fn check(&self, _: &[u8], _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

fn client(name: &str) -> anyhow::Result<Client> {
    Ok(Client::new(name.as_bytes(), std::sync::Arc::new(Anyone))?)
}

#[derive(Debug, Serialize)]
struct MessageCost {
    plaintext_bytes: usize,
    ciphertext_bytes: usize,
    /// Means from the total time of all operations (sub-microsecond precision).
    encrypt_mean_us: f64,
    decrypt_mean_us: f64,
    /// The server's framing check of an application message (`GroupView::check_application`).
    server_check_mean_us: f64,
    /// The floor: AES-128-GCM of the same plaintext through the same provider.
    aead_floor_mean_us: f64,
    /// (encrypt + decrypt) / (2 × floor).
    ratio_to_floor: f64,
    /// Per-operation distributions (1 µs resolution).
    encrypt: Latency,
    decrypt: Latency,
}

#[derive(Debug, Serialize)]
struct CommitCost {
    members: u32,
    /// A self-update commit by one member (update path of log2(n) nodes).
    create: Latency,
    /// Processing it by another member.
    process: Latency,
    /// Validation by the server (`PublicGroup`), before sequencing.
    server_validate: Latency,
    commit_bytes: usize,
}

#[derive(Debug, Serialize)]
struct Replay {
    messages: u32,
    commits: u32,
    total_ms: f64,
    per_message_us: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    environment: Environment,
    messages: Vec<MessageCost>,
    commits: Vec<CommitCost>,
    history_replay: Replay,
}

fn us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn timed<T>(h: &mut Histogram<u64>, total: &mut Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    // Sub-microsecond operations count as 1 µs in the histogram; `total` keeps the rest.
    stats::record(h, took);
    *total += took;
    out
}

fn mean_us(total: Duration, n: u32) -> f64 {
    total.as_secs_f64() * 1e6 / f64::from(n.max(1))
}

/// Two members (visitor, agent) in a group the server follows.
fn pair() -> anyhow::Result<(Client, Client, GroupView)> {
    let mut visitor = client("visitor")?;
    let mut agent = client("agent")?;
    visitor.create_group(b"bench")?;
    let mut view = GroupView::from_group_info(&visitor.group_info()?)?;
    let out = visitor.commit(
        &[agent.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)?],
        &[],
    )?;
    view.merge(view.stage_commit(&out.commit)?)?;
    visitor.merge()?;
    agent.join(&out.welcome.context("no Welcome")?)?;
    Ok((visitor, agent, view))
}

fn message_cost(size: usize, n: u32) -> anyhow::Result<MessageCost> {
    let (mut visitor, mut agent, view) = pair()?;
    let plaintext = vec![b'x'; size];
    let (mut enc, mut dec, mut check, mut floor) = (
        stats::histogram()?,
        stats::histogram()?,
        stats::histogram()?,
        stats::histogram()?,
    );
    let (mut t_enc, mut t_dec, mut t_check, mut t_floor) = Default::default();
    let mut ciphertext_bytes = 0;
    for _ in 0..n {
        let ct = timed(&mut enc, &mut t_enc, || visitor.send(&plaintext))?;
        ciphertext_bytes = ct.len();
        timed(&mut check, &mut t_check, || view.check_application(&ct))?;
        let got = timed(&mut dec, &mut t_dec, || agent.process(&ct))?;
        anyhow::ensure!(
            matches!(got, Processed::Application { ref plaintext, .. } if plaintext.len() == size),
            "decryption failed"
        );
    }
    let provider = Provider::default();
    let (key, nonce) = ([7u8; 16], [9u8; 12]);
    for _ in 0..n {
        timed(&mut floor, &mut t_floor, || {
            provider
                .crypto()
                .aead_encrypt(AeadType::Aes128Gcm, &key, &plaintext, &nonce, b"")
        })
        .map_err(|e| anyhow::anyhow!("AEAD: {e:?}"))?;
    }
    Ok(MessageCost {
        plaintext_bytes: size,
        ciphertext_bytes,
        encrypt_mean_us: mean_us(t_enc, n),
        decrypt_mean_us: mean_us(t_dec, n),
        server_check_mean_us: mean_us(t_check, n),
        aead_floor_mean_us: mean_us(t_floor, n),
        ratio_to_floor: (t_enc + t_dec).as_secs_f64() / (2.0 * t_floor.as_secs_f64()),
        encrypt: Latency::of(&enc)?,
        decrypt: Latency::of(&dec)?,
    })
}

fn commit_cost(members: u32, commits: u32) -> anyhow::Result<CommitCost> {
    let mut creator = client("member-0")?;
    creator.create_group(b"bench-commits")?;
    let mut view = GroupView::from_group_info(&creator.group_info()?)?;
    let mut others = Vec::new();
    let mut kps = Vec::new();
    for i in 1..members {
        let mut c = client(&format!("member-{i}"))?;
        kps.push(c.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)?);
        others.push(c);
    }
    let out = creator.commit(&kps, &[])?;
    view.merge(view.stage_commit(&out.commit)?)?;
    creator.merge()?;
    let welcome = out.welcome.context("no Welcome")?;
    // Only one other member needs to follow (every member does the same work).
    let mut follower = others.into_iter().next().context("a group of at least 2")?;
    follower.join(&welcome)?;
    let (mut create, mut process, mut validate) = (
        stats::histogram()?,
        stats::histogram()?,
        stats::histogram()?,
    );
    let mut total = Duration::ZERO;
    let mut commit_bytes = 0;
    for _ in 0..commits {
        let commit = timed(&mut create, &mut total, || creator.self_update())?;
        commit_bytes = commit.len();
        let staged = timed(&mut validate, &mut total, || view.stage_commit(&commit))?;
        view.merge(staged)?;
        creator.merge()?;
        timed(&mut process, &mut total, || follower.process(&commit))?;
    }
    Ok(CommitCost {
        members,
        create: Latency::of(&create)?,
        process: Latency::of(&process)?,
        server_validate: Latency::of(&validate)?,
        commit_bytes,
    })
}

/// A conversation of `messages` messages (a self-update every 100), then a fresh History
/// Member replays it from the Welcome, as the console's queue preview and the archive do.
fn replay(messages: u32) -> anyhow::Result<Replay> {
    let mut visitor = client("visitor")?;
    let mut agent = client("agent")?;
    let mut history = client("history")?;
    visitor.create_group(b"bench-history")?;
    let hm_kp = history.key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)?;
    let secrets = history.export_last_key_package()?;
    let out = visitor.commit(
        &[
            hm_kp,
            agent.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)?,
        ],
        &[],
    )?;
    visitor.merge()?;
    let welcome = out.welcome.context("no Welcome")?;
    agent.join(&welcome)?;
    let mut log = Vec::with_capacity(usize::try_from(messages)? + 16);
    let mut commits = 0;
    for i in 0..messages {
        if i > 0 && i % 100 == 0 {
            let c = visitor.self_update()?;
            visitor.merge()?;
            agent.process(&c)?;
            log.push(c);
            commits += 1;
        }
        let (from, to) = if i % 2 == 0 {
            (&mut visitor, &mut agent)
        } else {
            (&mut agent, &mut visitor)
        };
        let ct =
            from.send(format!("message {i} of the conversation, typed by a person").as_bytes())?;
        to.process(&ct)?;
        log.push(ct);
    }
    let started = Instant::now();
    let mut reader = client("archive")?;
    reader.import_key_package(&secrets)?;
    reader.join(&welcome)?;
    let mut read = 0;
    for entry in &log {
        if let Processed::Application { .. } = reader.process(entry)? {
            read += 1;
        }
    }
    let total = started.elapsed();
    anyhow::ensure!(
        read == messages,
        "the replay decrypted {read} of {messages}"
    );
    Ok(Replay {
        messages,
        commits,
        total_ms: stats::f(us(total)) / 1000.0,
        per_message_us: stats::f(us(total)) / f64::from(messages),
    })
}

pub(crate) fn run(args: &MlsArgs) -> anyhow::Result<()> {
    let environment = Environment::collect("in-process (sealdesk-mls)");
    let mut messages = Vec::new();
    for size in [100, 1_000, 10_000] {
        messages.push(message_cost(size, args.messages)?);
    }
    let mut commits = Vec::new();
    for &n in &args.sizes {
        commits.push(commit_cost(n.max(2), args.commits)?);
    }
    let report = Report {
        environment,
        messages,
        commits,
        history_replay: replay(args.history)?,
    };
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(path) = &args.out {
        std::fs::write(path, &json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    writeln!(std::io::stdout().lock(), "{json}")?;
    Ok(())
}
