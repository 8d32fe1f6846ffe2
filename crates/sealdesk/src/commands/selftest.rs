//! `sealdesk selftest`: proves a running server carries conversations. With the admin access
//! of the data directory it provisions a throwaway tenant, team, agent and visitor, then
//! through the real server at `--server` exchanges messages (including `--message`), checks
//! delivery, order and resume after a reconnect, prints a JSON summary, and erases the
//! throwaway tenant unless `--keep`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use sealdesk_client::Client;
use sealdesk_client::ws::{Connection, Credential, Cursors};
use sealdesk_proto::auth::{ClientKind, LoginRequest, Secret};
use sealdesk_proto::ws::{ServerFrame, WireKind};
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
    let outcome = Box::pin(exchange(&server, &fixture, args.message.as_deref())).await;
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
            ok: measured.in_order && measured.resume_ok,
            messages: measured.latencies.len() + WHILE_AWAY,
            p50_ms: percentile(&measured.latencies, 500),
            p99_ms: percentile(&measured.latencies, 990),
            max_ms: percentile(&measured.latencies, 1000),
            in_order: measured.in_order,
            resume_ok: measured.resume_ok,
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
            "{}: {} messages, p50 {:.2} ms, p99 {:.2} ms, order {}, resume {}{}",
            if report.ok { "ok" } else { "FAILED" },
            report.messages,
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
}

/// A throwaway tenant whose agent logs in with a password only.
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
    Ok(Fixture {
        tenant: tenant.id,
        team: team.id,
        agent_email,
        agent_password,
    })
}

struct Measured {
    conversation: ConversationId,
    latencies: Vec<f64>,
    in_order: bool,
    resume_ok: bool,
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

async fn exchange(
    server: &Url,
    fixture: &Fixture,
    message: Option<&str>,
) -> anyhow::Result<Measured> {
    let http = Client::new(server.as_str())?;
    let login = step(
        "agent login",
        http.login(&LoginRequest {
            tenant_id: fixture.tenant,
            email: fixture.agent_email.clone(),
            password: Secret(fixture.agent_password.clone()),
            totp: None,
            recovery_code: None,
            client: ClientKind::Cli,
        }),
    )
    .await?;
    let token = login
        .token
        .ok_or_else(|| anyhow::anyhow!("the login returned no token"))?;
    let agent_http = http.clone().with_token(token.clone());
    step(
        "availability",
        agent_http.set_availability("online", Some(5)),
    )
    .await?;
    let ticket = step(
        "visitor ticket",
        http.visitor_ticket(fixture.tenant, fixture.team, None),
    )
    .await?;
    let visitor_http = http.clone().with_token(ticket.ticket.clone());
    let conversation = step("open conversation", visitor_http.open_conversation(None))
        .await?
        .id;
    let mut visitor = step(
        "visitor connect",
        Connection::connect(server, &Credential::Ticket(ticket.ticket.clone())),
    )
    .await?;
    let mut agent = step(
        "agent connect",
        Connection::connect(server, &Credential::Bearer(token)),
    )
    .await?;

    // The visitor's first message queues the conversation; the agent (the only one, online)
    // is assigned automatically.
    let mut texts: Vec<String> = Vec::new();
    texts.push(message.unwrap_or("Sealdesk self-test").to_owned());
    texts.extend((1..ROUNDS).map(|i| format!("self-test message {i}")));
    step(
        "first send",
        visitor.send(
            conversation,
            "st-v-0",
            WireKind::Application,
            texts[0].as_bytes(),
        ),
    )
    .await?;
    let sent_first = Instant::now();
    wait_assigned(&agent_http, fixture.tenant, conversation).await?;
    step("agent subscribe", agent.subscribe(conversation, 0)).await?;
    step("visitor subscribe", visitor.subscribe(conversation, 0)).await?;

    let mut agent_cursors = Cursors::default();
    let mut visitor_cursors = Cursors::default();
    let mut latencies = Vec::new();
    let mut in_order = true;
    let mut first_seen = false;
    // The agent reads the history (first message, then routing events).
    while !first_seen {
        let frame = step("agent history", agent.next()).await?;
        match agent_cursors.accept(&frame) {
            Ok(Some(entry)) if entry.id.as_deref() == Some("st-v-0") => {
                first_seen = entry.payload == texts[0].as_bytes();
                in_order &= first_seen;
                latencies.push(sent_first.elapsed().as_secs_f64() * 1000.0);
            }
            Ok(_) => {}
            Err(_) => in_order = false,
        }
    }
    ping_pong(
        &mut visitor,
        &mut agent,
        &mut visitor_cursors,
        &mut agent_cursors,
        conversation,
        &texts,
        &mut latencies,
        &mut in_order,
    )
    .await?;
    let resume_ok = Box::pin(resume(
        server,
        fixture,
        &http,
        ticket.visitor_key.as_deref(),
        visitor,
        &mut agent,
        conversation,
        &mut visitor_cursors,
        &mut in_order,
    ))
    .await?;
    agent.close().await.ok();
    Ok(Measured {
        conversation,
        latencies,
        in_order,
        resume_ok,
    })
}

/// Messages alternate between visitor and agent; each is timed from send to arrival at the
/// other side.
#[allow(clippy::too_many_arguments)]
async fn ping_pong(
    visitor: &mut Connection,
    agent: &mut Connection,
    visitor_cursors: &mut Cursors,
    agent_cursors: &mut Cursors,
    conversation: ConversationId,
    texts: &[String],
    latencies: &mut Vec<f64>,
    in_order: &mut bool,
) -> anyhow::Result<()> {
    for (i, text) in texts.iter().enumerate().skip(1) {
        let (from, to, from_cursors, to_cursors, id) = if i % 2 == 1 {
            (
                &mut *visitor,
                &mut *agent,
                &mut *visitor_cursors,
                &mut *agent_cursors,
                format!("st-v-{i}"),
            )
        } else {
            (
                &mut *agent,
                &mut *visitor,
                &mut *agent_cursors,
                &mut *visitor_cursors,
                format!("st-a-{i}"),
            )
        };
        let started = Instant::now();
        from.send_nowait(conversation, &id, WireKind::Application, text.as_bytes())
            .await?;
        let arrived = receive(to, to_cursors, &id, in_order).await?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        *in_order &= arrived == text.as_bytes();
        step("ack", from.wait_ack(&id)).await?;
        drain_until(from, from_cursors, &id, in_order).await?;
    }
    Ok(())
}

/// The visitor goes away, the agent writes, the visitor comes back with its cursor and must
/// get exactly the gap. Returns whether it did.
#[allow(clippy::too_many_arguments)]
async fn resume(
    server: &Url,
    fixture: &Fixture,
    http: &Client,
    visitor_key: Option<&str>,
    visitor: Connection,
    agent: &mut Connection,
    conversation: ConversationId,
    visitor_cursors: &mut Cursors,
    in_order: &mut bool,
) -> anyhow::Result<bool> {
    let after = visitor_cursors.after(conversation);
    visitor.close().await.ok();
    let mut expected = HashMap::new();
    for i in 0..WHILE_AWAY {
        let id = format!("st-away-{i}");
        let body = format!("while you were away {i}");
        step(
            "send while away",
            agent.send(conversation, &id, WireKind::Application, body.as_bytes()),
        )
        .await?;
        expected.insert(id, body);
    }
    let again = step(
        "second ticket",
        http.visitor_ticket(fixture.tenant, fixture.team, visitor_key),
    )
    .await?;
    let mut visitor = step(
        "reconnect",
        Connection::connect(server, &Credential::Ticket(again.ticket)),
    )
    .await?;
    let last = step("resubscribe", visitor.subscribe(conversation, after)).await?;
    let mut resumed = Vec::new();
    while visitor_cursors.after(conversation) < last {
        let frame = step("resume", visitor.next()).await?;
        match visitor_cursors.accept(&frame) {
            Ok(Some(entry)) => resumed.push(entry),
            Ok(None) => {}
            Err(_) => {
                *in_order = false;
                break;
            }
        }
    }
    let resume_ok = resumed.len() == WHILE_AWAY
        && resumed.iter().all(|e| {
            e.id.as_ref()
                .and_then(|id| expected.get(id))
                .is_some_and(|body| body.as_bytes() == e.payload.as_slice())
        });
    visitor.close().await.ok();
    Ok(resume_ok)
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

/// Reads until the entry with client id `id` arrives; returns its payload.
async fn receive(
    conn: &mut Connection,
    cursors: &mut Cursors,
    id: &str,
    in_order: &mut bool,
) -> anyhow::Result<Vec<u8>> {
    loop {
        let frame = step("receive", conn.next()).await?;
        match cursors.accept(&frame) {
            Ok(Some(entry)) if entry.id.as_deref() == Some(id) => return Ok(entry.payload),
            Ok(_) => {}
            Err(_) => *in_order = false,
        }
        if let ServerFrame::Error(e) = frame {
            return Err(anyhow::anyhow!("server error {}: {}", e.code, e.message));
        }
    }
}

/// The sender also receives its own entry; read up to it so cursors stay exact.
async fn drain_until(
    conn: &mut Connection,
    cursors: &mut Cursors,
    id: &str,
    in_order: &mut bool,
) -> anyhow::Result<()> {
    receive(conn, cursors, id, in_order).await.map(|_| ())
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
