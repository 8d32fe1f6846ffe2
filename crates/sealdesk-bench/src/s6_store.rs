//! S6, the persistence engine alone: a fresh store seeded with one tenant, team, visitor and
//! many conversations; many tasks appending through one `GroupCommitter`; every transaction
//! timed; then a check that the log holds exactly what was acknowledged.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_trait::async_trait;
use hdrhistogram::Histogram;
use sealdesk_core::clock::{Clock, SystemClock};
use sealdesk_core::domain::{
    AppendOutcome, ClientMsgId, Conversation, DomainName, EntryKind, LogEntry, NewConversation,
    NewEntry, NewTeam, NewTenant, NewVisitor, Party, TeamName, TenantName, TenantSettings,
};
use sealdesk_core::ids::IdGenerator;
use sealdesk_core::random::SeededRandom;
use sealdesk_proto::{ConversationId, TenantId};
use sealdesk_store::group_commit::{CommitConfig, GroupCommitter, NoSink};
use sealdesk_store::postgres::{self, PgOptions};
use sealdesk_store::{DynStore, LogRepo, StoreAdmin, StoreResult, sqlite};
use serde::Serialize;

use crate::s6_cpu::{self, Ticks};
use crate::stats::{self, Latency, f};

/// Where a fresh store lives.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A new database file in a new directory under this one.
    Sqlite(PathBuf),
    /// A new schema in the database at this URL.
    Postgres(String),
}

impl Target {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Target::Sqlite(_) => "sqlite",
            Target::Postgres(_) => "postgres",
        }
    }
}

/// A fresh, migrated store and what removes it.
pub(crate) struct Fresh {
    pub(crate) store: DynStore,
    sqlite_file: Option<PathBuf>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(tempfile::TempDir),
    Schema { url: String, schema: String },
}

impl Fresh {
    pub(crate) async fn open(target: &Target, seed: u64) -> anyhow::Result<Self> {
        match target {
            Target::Sqlite(dir) => {
                let dir = tempfile::Builder::new()
                    .prefix("sealdesk-s6-")
                    .tempdir_in(dir)
                    .with_context(|| format!("cannot create a directory in {}", dir.display()))?;
                let file = dir.path().join("s6.db");
                let store = sqlite::open(&file).await?;
                store.migrate().await?;
                Ok(Self {
                    store: Arc::new(store),
                    sqlite_file: Some(file),
                    cleanup: Cleanup::Dir(dir),
                })
            }
            Target::Postgres(url) => {
                let schema = format!("s6_{}_{seed}", std::process::id());
                postgres::create_schema(url, &schema).await?;
                let opts = PgOptions {
                    max_connections: 8,
                    schema: Some(schema.clone()),
                    ..PgOptions::default()
                };
                let store = postgres::connect(url, &opts).await?;
                store.migrate().await?;
                Ok(Self {
                    store: Arc::new(store),
                    sqlite_file: None,
                    cleanup: Cleanup::Schema {
                        url: url.clone(),
                        schema,
                    },
                })
            }
        }
    }

    /// The SQLite database's size in bytes (pages in use, the WAL included); `None` on
    /// PostgreSQL.
    pub(crate) async fn sqlite_bytes(&self) -> anyhow::Result<Option<u64>> {
        let Some(file) = &self.sqlite_file else {
            return Ok(None);
        };
        // A second handle on the same file reads the page count and size through SQLite.
        let probe = sqlite::open(file).await?;
        let first = |v: Vec<String>| -> anyhow::Result<u64> {
            v.first()
                .context("empty pragma result")?
                .parse()
                .context("not a number")
        };
        let pages = first(probe.pragma("page_count").await?)?;
        let size = first(probe.pragma("page_size").await?)?;
        probe.close().await;
        Ok(Some(pages * size))
    }

    pub(crate) async fn remove(self) -> anyhow::Result<()> {
        self.store.close().await;
        match self.cleanup {
            Cleanup::Dir(dir) => dir
                .close()
                .context("cannot remove the database directory")?,
            Cleanup::Schema { url, schema } => postgres::drop_schema(&url, &schema).await?,
        }
        Ok(())
    }
}

/// One tenant with `n` conversations of one visitor.
pub(crate) async fn seed(
    store: &DynStore,
    n: usize,
    seed: u64,
) -> anyhow::Result<Vec<Conversation>> {
    let clock = SystemClock;
    let random = SeededRandom::new(seed);
    let ids = IdGenerator::new(&clock, &random);
    let now = clock.now();
    let tenant = NewTenant::new(
        ids.tenant(),
        TenantName::parse("S6 bench")?,
        vec![DomainName::parse(&format!("s6-{seed}.bench.example"))?],
        vec![],
        TenantSettings::default(),
        now,
    )?;
    store.create_tenant(&tenant).await?;
    let team = store
        .create_team(&NewTeam {
            id: ids.team(),
            tenant_id: tenant.id,
            name: TeamName::parse("Support")?,
            created_at: now,
        })
        .await?;
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_be_bytes());
    let visitor = store
        .create_visitor(&NewVisitor {
            id: ids.visitor(),
            tenant_id: tenant.id,
            team_id: team.id,
            key_hash: key,
            external_id: None,
            created_at: now,
        })
        .await?;
    let mut conversations = Vec::with_capacity(n);
    for _ in 0..n {
        conversations.push(
            store
                .create_conversation(&NewConversation {
                    id: ids.conversation(),
                    tenant_id: tenant.id,
                    team_id: team.id,
                    visitor_id: visitor.id,
                    reopened_from: None,
                    consent_notice: None,
                    created_at: now,
                })
                .await?,
        );
    }
    Ok(conversations)
}

/// A `LogRepo` that times every `append_batch` (one transaction, one fsync) and records its
/// size.
struct TimedLog {
    inner: DynStore,
    commit_us: Mutex<Histogram<u64>>,
    sizes: Mutex<Histogram<u64>>,
}

#[async_trait]
impl LogRepo for TimedLog {
    async fn append_batch(&self, entries: &[NewEntry]) -> StoreResult<Vec<AppendOutcome>> {
        let started = Instant::now();
        let result = self.inner.append_batch(entries).await;
        let took = started.elapsed();
        if result.is_ok() {
            if let Ok(mut h) = self.commit_us.lock() {
                stats::record(&mut h, took);
            }
            if let Ok(mut h) = self.sizes.lock() {
                h.saturating_record(entries.len() as u64);
            }
        }
        result
    }

    async fn read_log(
        &self,
        tenant: TenantId,
        id: ConversationId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<LogEntry>> {
        self.inner.read_log(tenant, id, after, limit).await
    }
}

/// How one measurement appends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    /// Entries appended before the clock starts (not reported).
    pub(crate) warmup: u64,
    /// Entries measured.
    pub(crate) entries: u64,
    /// Concurrent appending tasks.
    pub(crate) tasks: usize,
    /// Payload bytes per entry.
    pub(crate) payload: usize,
    /// The committer's largest batch (1: one commit per entry, the baseline).
    pub(crate) max_batch: usize,
    /// The committer's batching window.
    pub(crate) window: Duration,
    /// Before the warm-up, wait until other processes use less than this (% of one core).
    pub(crate) quiet_pct: Option<f64>,
}

/// What one measurement found.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Measured {
    pub(crate) backend: &'static str,
    /// `group` (batches up to `max_batch`) or `single` (one entry per commit).
    pub(crate) mode: &'static str,
    pub(crate) max_batch: usize,
    pub(crate) tasks: usize,
    pub(crate) entries: u64,
    pub(crate) elapsed_s: f64,
    /// Acknowledged (durable) appends per second.
    pub(crate) appends_per_s: f64,
    /// From queueing an entry to its durable acknowledgement.
    pub(crate) ack: Latency,
    /// Duration of each `append_batch` transaction, commit (fsync) included.
    pub(crate) commit: Latency,
    pub(crate) commits: u64,
    pub(crate) entries_per_commit_mean: f64,
    pub(crate) entries_per_commit_p50: u64,
    pub(crate) entries_per_commit_p99: u64,
    /// Commits (each one fsync, or one WAL flush on PostgreSQL) per 1,000 appends.
    pub(crate) commits_per_1000: f64,
    pub(crate) failed_commits: u64,
    /// CPU of this process per append, µs (SQLite runs in this process; PostgreSQL's own
    /// processes are not included).
    pub(crate) process_cpu_us_per_append: f64,
    /// CPU of this process during the measurement, % of one core.
    pub(crate) process_cpu_pct: f64,
    /// CPU of PostgreSQL's processes during the measurement, % of one core.
    pub(crate) postgres_cpu_pct: f64,
    /// CPU of every other process during the measurement (disturbance), % of one core.
    pub(crate) other_cpu_pct: f64,
    /// Seconds waited for the machine to go quiet before the warm-up (`None`: not asked, or it
    /// never did).
    pub(crate) quiet_wait_s: Option<f64>,
    /// Which attempt this was (a disturbed measurement is repeated on a fresh store).
    pub(crate) attempt: u32,
    /// Growth of the database per appended entry (SQLite only), bytes.
    pub(crate) db_bytes_per_entry: Option<f64>,
    /// Entries read back in the correctness check.
    pub(crate) verified_entries: u64,
}

/// Appends `load.warmup + load.entries` entries across `conversations` and measures the
/// `load.entries` after the warm-up.
pub(crate) async fn measure(
    fresh: &Fresh,
    conversations: &[Conversation],
    load: Load,
    mode: &'static str,
    backend: &'static str,
) -> anyhow::Result<Measured> {
    anyhow::ensure!(!conversations.is_empty(), "no conversations");
    let timed = Arc::new(TimedLog {
        inner: DynStore::clone(&fresh.store),
        commit_us: Mutex::new(stats::histogram()?),
        sizes: Mutex::new(Histogram::new_with_bounds(1, 1_000_000, 3)?),
    });
    let (committer, task) = GroupCommitter::spawn(
        Arc::clone(&timed) as Arc<dyn LogRepo>,
        Arc::new(NoSink),
        CommitConfig {
            max_batch: load.max_batch,
            window: load.window,
            queue: 16_384,
        },
    );
    let conversations: Arc<[Conversation]> = conversations.into();
    let acked: Arc<[AtomicU32]> = (0..conversations.len())
        .map(|_| AtomicU32::new(0))
        .collect();
    let next = Arc::new(AtomicU64::new(0));

    let quiet_wait_s = match load.quiet_pct {
        Some(limit) => s6_cpu::wait_quiet(limit, Duration::from_mins(20)).await?,
        None => None,
    };
    drive(&committer, &conversations, &acked, &next, load.warmup, load).await?;
    reset(&timed)?;
    let stats0 = snapshot(&committer);
    let bytes0 = fresh.sqlite_bytes().await?;
    let cpu = Ticks::now()?;
    let started = Instant::now();
    let ack = drive(
        &committer,
        &conversations,
        &acked,
        &next,
        load.warmup + load.entries,
        load,
    )
    .await?;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu.since()?;
    let stats1 = snapshot(&committer);
    drop(committer);
    task.await.context("the commit task panicked")?;
    let bytes1 = fresh.sqlite_bytes().await?;

    let commits = stats1.0 - stats0.0;
    let entries = stats1.1 - stats0.1;
    anyhow::ensure!(
        entries == load.entries,
        "{entries} entries committed, {} expected",
        load.entries
    );
    let sizes = timed
        .sizes
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let commit_us = timed
        .commit_us
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let commit = Latency::of(&commit_us)?;
    let verified_entries = verify(&fresh.store, &conversations, &acked).await?;
    Ok(Measured {
        backend,
        mode,
        max_batch: load.max_batch,
        tasks: load.tasks,
        entries,
        elapsed_s: elapsed,
        appends_per_s: f(entries) / elapsed,
        ack: Latency::of(&ack)?,
        commit,
        commits,
        entries_per_commit_mean: f(entries) / f(commits.max(1)),
        entries_per_commit_p50: sizes.value_at_quantile(0.5),
        entries_per_commit_p99: sizes.value_at_quantile(0.99),
        commits_per_1000: f(commits) * 1000.0 / f(entries.max(1)),
        failed_commits: stats1.2 - stats0.2,
        process_cpu_us_per_append: f(cpu.me_us) / f(entries.max(1)),
        process_cpu_pct: cpu.me_pct,
        postgres_cpu_pct: cpu.postgres_pct,
        other_cpu_pct: cpu.other_pct,
        quiet_wait_s,
        attempt: 1,
        db_bytes_per_entry: bytes0
            .zip(bytes1)
            .map(|(a, b)| f(b.saturating_sub(a)) / f(entries.max(1))),
        verified_entries,
    })
}

fn reset(timed: &TimedLog) -> anyhow::Result<()> {
    timed
        .commit_us
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .reset();
    timed
        .sizes
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .reset();
    Ok(())
}

/// (commits, entries, failures) so far.
fn snapshot(committer: &GroupCommitter) -> (u64, u64, u64) {
    let s = committer.stats();
    (
        s.commits.load(Ordering::Relaxed),
        s.entries.load(Ordering::Relaxed),
        s.failures.load(Ordering::Relaxed),
    )
}

/// Appends entries number `next..until` from `load.tasks` tasks (entry `j` goes to
/// conversation `j mod n` with client message id `m{j}`); returns the acknowledgement
/// latencies.
async fn drive(
    committer: &GroupCommitter,
    conversations: &Arc<[Conversation]>,
    acked: &Arc<[AtomicU32]>,
    next: &Arc<AtomicU64>,
    until: u64,
    load: Load,
) -> anyhow::Result<Histogram<u64>> {
    let mut tasks = Vec::with_capacity(load.tasks);
    for _ in 0..load.tasks {
        let committer = committer.clone();
        let conversations = Arc::clone(conversations);
        let acked = Arc::clone(acked);
        let next = Arc::clone(next);
        tasks.push(tokio::spawn(async move {
            let mut latency = stats::histogram()?;
            let clock = SystemClock;
            loop {
                let j = next.fetch_add(1, Ordering::Relaxed);
                if j >= until {
                    return anyhow::Ok(latency);
                }
                let i = usize::try_from(j % conversations.len() as u64)?;
                let c = &conversations[i];
                let entry = NewEntry {
                    tenant_id: c.tenant_id,
                    conversation_id: c.id,
                    sender: Party::Visitor(c.visitor_id),
                    kind: EntryKind::Application,
                    client_msg_id: Some(ClientMsgId::parse(&format!("m{j}"))?),
                    payload: payload(j, load.payload).into(),
                    at: clock.now(),
                };
                let started = Instant::now();
                let outcome = committer.append(entry).await?;
                stats::record(&mut latency, started.elapsed());
                anyhow::ensure!(
                    matches!(outcome, AppendOutcome::Appended(_)),
                    "entry {j} was not appended: {outcome:?}"
                );
                acked[i].fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut all = stats::histogram()?;
    for task in tasks {
        let h = task.await.context("an appending task panicked")??;
        all.add(&h)
            .map_err(|e| anyhow::anyhow!("cannot merge histograms: {e:?}"))?;
    }
    // Entries past `until` were never taken: put the counter back for the next phase.
    next.store(until, Ordering::Relaxed);
    Ok(all)
}

/// 200 opaque-looking bytes that differ per entry.
fn payload(j: u64, len: usize) -> Vec<u8> {
    let mut state = j.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Every conversation's log holds exactly its acknowledged entries, numbered 1..=n without
/// gaps, each client message id once. Returns how many entries were read.
async fn verify(
    store: &DynStore,
    conversations: &[Conversation],
    acked: &[AtomicU32],
) -> anyhow::Result<u64> {
    let mut read = 0u64;
    for (c, acked) in conversations.iter().zip(acked) {
        let want = u64::from(acked.load(Ordering::Relaxed));
        let mut seen = std::collections::HashSet::new();
        let mut after = 0;
        loop {
            let page = store.read_log(c.tenant_id, c.id, after, 1000).await?;
            let Some(last) = page.last() else { break };
            for (k, e) in (after + 1..).zip(&page) {
                anyhow::ensure!(e.seq == k, "conversation {}: gap or disorder at {k}", c.id);
                let id = e
                    .client_msg_id
                    .as_ref()
                    .context("entry without client id")?;
                anyhow::ensure!(seen.insert(id.as_str().to_owned()), "duplicate {id}");
            }
            after = last.seq;
            read += page.len() as u64;
        }
        anyhow::ensure!(
            after == want,
            "conversation {}: {after} entries stored, {want} acknowledged",
            c.id
        );
    }
    Ok(read)
}

/// Whether `dir` is on a RAM file system, where an fsync costs nothing and S6 would measure
/// the wrong thing.
pub(crate) fn on_tmpfs(dir: &Path) -> anyhow::Result<bool> {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    const RAMFS_MAGIC: i64 = 0x8584_58f6;
    let fs = rustix::fs::statfs(dir).with_context(|| format!("cannot statfs {}", dir.display()))?;
    #[allow(clippy::useless_conversion)] // the field's type differs between targets
    let kind = i64::from(fs.f_type);
    Ok(kind == TMPFS_MAGIC || kind == RAMFS_MAGIC)
}
