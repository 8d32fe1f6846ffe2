//! `sealdesk selftest`: proves a running server carries end-to-end encrypted conversations.
//! With the admin access of the data directory it provisions a throwaway tenant, team, agent
//! and visitor, then through the real server at `--server` exchanges MLS-encrypted messages
//! (including `--message`; see `exchange`), checks delivery, order, decryption, resume after
//! a reconnect and a History Member's replay, prints a JSON summary, and erases the
//! throwaway tenant unless `--keep`.

mod exchange;
mod keys;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use sealdesk_client::Client;
use sealdesk_proto::{ConversationId, TenantId};
use sealdesk_server::app::tenancy::{self, CreateStaff, CreateTenant, Deps};
use secrecy::SecretString;
use serde::Serialize;
use url::Url;

use crate::cli::SelftestArgs;
use crate::exit::{Failure, SOFTWARE, UNAVAILABLE};

/// How long any single step may take before the self-test fails.
const STEP: Duration = Duration::from_secs(15);
/// Messages each way besides the operator's.
const ROUNDS: usize = 20;
/// Messages sent while the visitor is away.
const WHILE_AWAY: usize = 5;

/// The printed summary (the acceptance checks read `ok`, `messages`, `p50_ms`, `p99_ms`).
#[derive(Debug, Serialize)]
#[allow(clippy::struct_excessive_bools)] // a flat JSON report, one flag per check
struct Report {
    ok: bool,
    messages: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    in_order: bool,
    resume_ok: bool,
    /// The messages were MLS-encrypted end to end (always, since the MLS issue).
    e2ee: bool,
    /// Messages the visitor and the agent decrypted to exactly what the other sent.
    decrypted: usize,
    /// Messages the History Member's replay of the log decrypted.
    history_decrypted: usize,
    /// Every client ended on the same epoch, epoch authenticator and exporter.
    epochs_agree: bool,
    epoch: u64,
    server: String,
    tenant: TenantId,
    conversation: Option<ConversationId>,
    kept: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub(crate) async fn run(
    config_file: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    args: SelftestArgs,
) -> anyhow::Result<()> {
    let config = super::load_config(config_file, data_dir, Vec::new())?;
    let deps = super::deps(&config).await?;
    let server = Url::parse(&args.server)
        .map_err(|_| Failure::new(crate::exit::DATA_ERR, "--server must be a URL"))?;
    let fixture = provision(&deps).await?;
    let outcome = Box::pin(exchange::exchange(
        &server,
        &fixture,
        args.message.as_deref(),
    ))
    .await;
    let kept = args.keep;
    if !kept {
        let deleted = deps
            .store
            .delete_tenant(fixture.tenant)
            .await
            .context("cannot erase the throwaway tenant")?;
        let blobs = sealdesk_server::blobs::BlobStore::new(&config.data_dir);
        sealdesk_server::blobs::remove_orphans(&*deps.store, &blobs, &deleted.orphaned_blobs).await;
    }
    let report = match outcome {
        Ok(measured) => Report {
            ok: measured.in_order
                && measured.resume_ok
                && measured.decrypted == measured.sent
                && measured.history_decrypted == measured.sent
                && measured.epochs_agree,
            messages: measured.sent,
            p50_ms: percentile(&measured.latencies, 500),
            p99_ms: percentile(&measured.latencies, 990),
            max_ms: percentile(&measured.latencies, 1000),
            in_order: measured.in_order,
            resume_ok: measured.resume_ok,
            e2ee: true,
            decrypted: measured.decrypted,
            history_decrypted: measured.history_decrypted,
            epochs_agree: measured.epochs_agree,
            epoch: measured.epoch,
            server: server.to_string(),
            tenant: fixture.tenant,
            conversation: Some(measured.conversation),
            kept,
            error: None,
        },
        Err(e) => Report {
            ok: false,
            messages: 0,
            p50_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
            in_order: false,
            resume_ok: false,
            e2ee: true,
            decrypted: 0,
            history_decrypted: 0,
            epochs_agree: false,
            epoch: 0,
            server: server.to_string(),
            tenant: fixture.tenant,
            conversation: None,
            kept,
            error: Some(format!("{e:#}")),
        },
    };
    if args.json {
        crate::output::json(&report)?;
    } else {
        crate::output::line(&format!(
            "{}: {} end-to-end encrypted messages ({} decrypted, {} by the history replay), p50 {:.2} ms, p99 {:.2} ms, order {}, resume {}{}",
            if report.ok { "ok" } else { "FAILED" },
            report.messages,
            report.decrypted,
            report.history_decrypted,
            report.p50_ms,
            report.p99_ms,
            if report.in_order { "ok" } else { "broken" },
            if report.resume_ok { "ok" } else { "broken" },
            report
                .error
                .as_ref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default(),
        ));
    }
    if report.ok {
        Ok(())
    } else {
        Err(Failure::new(SOFTWARE, "the self-test failed").into())
    }
}

struct Fixture {
    tenant: TenantId,
    team: sealdesk_proto::TeamId,
    agent_email: String,
    agent_password: String,
    keys: keys::Keys,
}

/// A throwaway tenant whose agent logs in with a password only, with a key hierarchy of its
/// own (root key registered with the server, so its membership policy applies).
async fn provision(deps: &Deps) -> anyhow::Result<Fixture> {
    let mut tag = [0u8; 6];
    deps.random.fill(&mut tag);
    let tag = hex::encode(tag);
    let tenant = tenancy::create_tenant(
        deps,
        CreateTenant {
            name: format!("Selftest {tag}"),
            domains: vec![format!("selftest-{tag}.invalid")],
            origins: Vec::new(),
            retention_days: 1,
            require_second_factor: false,
        },
    )
    .await
    .context("cannot create the throwaway tenant")?;
    let team = tenancy::create_team(deps, tenant.id, "Selftest").await?;
    let mut secret = [0u8; 24];
    deps.random.fill(&mut secret);
    let agent_password = format!("Sd-{}", hex::encode(secret));
    let agent_email = format!("agent@selftest-{tag}.invalid");
    let agent = tenancy::create_staff(
        deps,
        CreateStaff {
            tenant: tenant.id,
            email: agent_email.clone(),
            role: "agent".into(),
            display_name: Some("Selftest agent".into()),
            password: Some(SecretString::from(agent_password.clone())),
        },
    )
    .await?;
    deps.store
        .add_team_member(tenant.id, team.id, agent.id)
        .await?;
    let keys = keys::Keys::generate(deps, tenant.id, team.id).await?;
    Ok(Fixture {
        tenant: tenant.id,
        team: team.id,
        agent_email,
        agent_password,
        keys,
    })
}

async fn step<T>(
    what: &str,
    fut: impl Future<Output = Result<T, impl std::fmt::Display>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(STEP, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(anyhow::anyhow!("{what}: {e}")),
        Err(_) => Err(Failure::new(UNAVAILABLE, format!("{what}: timed out")).into()),
    }
}

async fn wait_assigned(
    agent: &Client,
    tenant: TenantId,
    conversation: ConversationId,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + STEP;
    while Instant::now() < deadline {
        let mine = agent
            .conversations(tenant, "mine=true&state=assigned")
            .await?;
        if mine.conversations.iter().any(|c| c.id == conversation) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(anyhow::anyhow!(
        "the conversation was never assigned to the agent"
    ))
}

fn percentile(samples: &[f64], per_mille: usize) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    // Nearest rank, in integers: index = round((n - 1) × q).
    let index = ((sorted.len() - 1) * per_mille + 500) / 1000;
    sorted[index.min(sorted.len() - 1)]
}
