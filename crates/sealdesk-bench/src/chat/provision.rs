//! Provisioning our server for the chat scenarios, through the same paths real clients use:
//! the admin CLI for the tenant, team and staff (before the server starts), then HTTP for
//! logins, routing (`manual`), team membership and availability, and per conversation a
//! visitor ticket, `POST /api/visitor/conversations`, the visitor's first message over a
//! WebSocket (which queues the conversation) and the agent's claim.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::StreamExt as _;
use sealdesk_client::Client;
use sealdesk_client::ws::{Connection, Credential};
use sealdesk_proto::auth::{ClientKind, LoginRequest, Secret};
use sealdesk_proto::ws::WireKind;
use sealdesk_proto::{StaffId, TeamId, TenantId};

use crate::server::admin;

/// Password of every provisioned staff account.
const PASSWORD: &str = "quartz-Lp9wK4-orbit-7Vq2mZ-lantern-R8x";
/// Conversations per agent (the largest capacity the server accepts).
pub(crate) const PER_AGENT: usize = 100;

/// The tenant, team and staff made with the admin CLI.
#[derive(Debug, Clone)]
pub(crate) struct Desk {
    tenant: TenantId,
    team: TeamId,
    admin: String,
    supervisor: String,
    agents: Vec<(String, StaffId)>,
}

fn str_field<'a>(v: &'a serde_json::Value, key: &str) -> anyhow::Result<&'a str> {
    v[key]
        .as_str()
        .with_context(|| format!("admin output has no {key}: {v}"))
}

fn parse<T: std::str::FromStr>(text: &str) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| anyhow::anyhow!("bad id {text:?}: {e}"))
}

async fn staff(
    bin: &Path,
    cwd: &Path,
    data: &Path,
    tenant: &str,
    email: &str,
    role: &str,
) -> anyhow::Result<StaffId> {
    let v = admin(
        bin,
        cwd,
        data,
        &[
            "staff",
            "create",
            "--tenant",
            tenant,
            "--email",
            email,
            "--role",
            role,
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    )
    .await?;
    parse(str_field(&v, "id")?)
}

/// Creates the tenant (no second factor required), a team, an admin, a supervisor and
/// `agents` agents in the data directory. The server must not run yet.
pub(crate) async fn desk(
    bin: &Path,
    cwd: &Path,
    data: &Path,
    agents: usize,
) -> anyhow::Result<Desk> {
    let tenant = admin(
        bin,
        cwd,
        data,
        &[
            "tenant",
            "create",
            "--name",
            "Bench",
            "--domain",
            "bench.localhost",
            "--no-require-2fa",
        ],
        "",
    )
    .await?;
    let tenant_id = str_field(&tenant, "id")?.to_owned();
    let team = admin(
        bin,
        cwd,
        data,
        &[
            "team", "create", "--tenant", &tenant_id, "--name", "Support",
        ],
        "",
    )
    .await?;
    let team: TeamId = parse(str_field(&team, "id")?)?;
    let admin_email = "admin@bench.localhost".to_owned();
    staff(bin, cwd, data, &tenant_id, &admin_email, "admin").await?;
    let supervisor = "supervisor@bench.localhost".to_owned();
    staff(bin, cwd, data, &tenant_id, &supervisor, "supervisor").await?;
    let mut list = Vec::new();
    for i in 0..agents {
        let email = format!("agent{i}@bench.localhost");
        let id = staff(bin, cwd, data, &tenant_id, &email, "agent").await?;
        list.push((email, id));
    }
    Ok(Desk {
        tenant: parse(&tenant_id)?,
        team,
        admin: admin_email,
        supervisor,
        agents: list,
    })
}

/// What the workers need: conversations with their tickets and agents, and tokens.
#[derive(Debug, Clone)]
pub(crate) struct Provisioned {
    /// Tenant.
    pub(crate) tenant: TenantId,
    /// Conversation id, visitor ticket, agent index.
    pub(crate) convs: Vec<(uuid::Uuid, String, u32)>,
    /// One bearer token per agent.
    pub(crate) agent_tokens: Vec<String>,
    /// The supervisor's token (dashboards).
    pub(crate) supervisor_token: String,
    /// The admin's token (history checks).
    pub(crate) admin_token: String,
    /// Seconds spent provisioning over HTTP.
    pub(crate) secs: f64,
}

async fn login(
    http: &reqwest::Client,
    url: &str,
    tenant: TenantId,
    email: &str,
) -> anyhow::Result<String> {
    let client = Client::with_http(url, http.clone())?;
    let response = client
        .login(&LoginRequest {
            tenant_id: tenant,
            email: email.to_owned(),
            password: Secret(PASSWORD.to_owned()),
            totp: None,
            recovery_code: None,
            client: ClientKind::Cli,
        })
        .await
        .with_context(|| format!("login of {email} failed"))?;
    response.token.context("a CLI login returned no token")
}

/// Opens `n` conversations on the running server at `url`, each claimed by an agent; with
/// `mls`, each visitor first starts the conversation's MLS group.
pub(crate) async fn conversations(
    url: &str,
    desk: &Desk,
    n: usize,
    concurrency: usize,
    mls: bool,
) -> anyhow::Result<Provisioned> {
    let started = Instant::now();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_mins(1))
        .build()?;
    let admin_token = login(&http, url, desk.tenant, &desk.admin).await?;
    let supervisor_token = login(&http, url, desk.tenant, &desk.supervisor).await?;
    let admin = Client::with_http(url, http.clone())?.with_token(admin_token.clone());
    admin
        .set_routing(desk.tenant, desk.team, "manual")
        .await
        .context("cannot set manual routing")?;
    let mut agent_tokens = Vec::new();
    for (email, id) in &desk.agents {
        admin
            .add_team_member(desk.tenant, desk.team, *id)
            .await
            .context("cannot add an agent to the team")?;
        let token = login(&http, url, desk.tenant, email).await?;
        Client::with_http(url, http.clone())?
            .with_token(token.clone())
            .set_availability("online", Some(u16::try_from(PER_AGENT)?))
            .await
            .context("cannot set availability")?;
        agent_tokens.push(token);
    }
    let shared = Arc::new((http, url.to_owned(), desk.clone(), agent_tokens.clone()));
    let results: Vec<anyhow::Result<(uuid::Uuid, String, u32)>> = futures_util::stream::iter(0..n)
        .map(|i| {
            let shared = Arc::clone(&shared);
            async move {
                let (http, url, desk, tokens) = &*shared;
                let agent = u32::try_from(i / PER_AGENT)?;
                let token = tokens.get(agent as usize).context("too few agents")?;
                one_conversation(http, url, desk, token, mls)
                    .await
                    .map(|(c, t)| (c, t, agent))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let convs = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Provisioned {
        tenant: desk.tenant,
        convs,
        agent_tokens,
        supervisor_token,
        admin_token,
        secs: started.elapsed().as_secs_f64(),
    })
}

async fn one_conversation(
    http: &reqwest::Client,
    url: &str,
    desk: &Desk,
    agent_token: &str,
    mls: bool,
) -> anyhow::Result<(uuid::Uuid, String)> {
    let anonymous = Client::with_http(url, http.clone())?;
    let ticket = anonymous
        .visitor_ticket(desk.tenant, desk.team, None)
        .await
        .context("cannot get a visitor ticket")?
        .ticket;
    let visitor = anonymous.clone().with_token(ticket.clone());
    let conversation = visitor
        .open_conversation(None)
        .await
        .context("cannot open a conversation")?;
    let c = conversation.id;
    let base = url::Url::parse(url)?;
    let mut ws = Connection::connect(&base, &Credential::Ticket(ticket.clone()))
        .await
        .context("visitor cannot connect")?;
    let hello = if mls {
        // The visitor starts the group (group id: the conversation's UUID) with a real
        // GroupInfo, from which the server follows it; the greeting is then an application
        // message of that group.
        let check: Arc<dyn sealdesk_mls::CredentialCheck> = Arc::new(NoMembers);
        let mut client = sealdesk_mls::Client::new(b"bench-visitor", check)?;
        client.create_group(c.as_uuid().as_bytes())?;
        ws.send(c, "group", WireKind::Handshake, &client.group_info()?)
            .await
            .context("the visitor's GroupInfo was refused")?;
        crate::chat::payload::private_message(c.as_uuid().as_bytes(), 0, b"hello")
    } else {
        b"hello".to_vec()
    };
    ws.send(c, "hello", WireKind::Application, &hello)
        .await
        .context("the visitor's first message failed")?;
    ws.close().await.ok();
    anonymous
        .with_token(agent_token.to_owned())
        .claim(desk.tenant, c)
        .await
        .context("the claim failed")?;
    Ok((c.as_uuid(), ticket))
}

/// The bench's groups never add anyone, so no credential is ever checked.
struct NoMembers;

impl sealdesk_mls::CredentialCheck for NoMembers {
    fn check(&self, _: &[u8], _: &[u8]) -> Result<(), String> {
        Err("the bench adds no members".into())
    }
}

/// Generator messages found in the server's history of every conversation (the admin reads
/// them over REST): `(entries, duplicates)`, where a duplicate is a client id seen twice.
pub(crate) async fn count_history(
    url: &str,
    p: &Provisioned,
    concurrency: usize,
) -> anyhow::Result<(u64, u64)> {
    let admin = Client::new(url)?.with_token(p.admin_token.clone());
    let counts: Vec<anyhow::Result<(u64, u64)>> = futures_util::stream::iter(p.convs.iter())
        .map(|(c, _, _)| {
            let admin = admin.clone();
            let tenant = p.tenant;
            async move {
                let c = sealdesk_proto::ConversationId::from_uuid(*c);
                let mut after = 0;
                let mut seen = std::collections::HashSet::new();
                let (mut found, mut dups) = (0, 0);
                // Bounded by the log's length: every page advances `after`.
                loop {
                    let page = admin.entries(tenant, c, after, 500).await?;
                    let Some(last) = page.entries.last().map(|e| e.seq) else {
                        break;
                    };
                    for e in &page.entries {
                        if e.k == WireKind::Application
                            && crate::chat::payload::Message::decode_b64(&e.p).is_some()
                        {
                            found += 1;
                            if !seen.insert(e.id.clone()) {
                                dups += 1;
                            }
                        }
                    }
                    after = last;
                    if page.entries.len() < 500 {
                        break;
                    }
                }
                Ok((found, dups))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut total = (0, 0);
    for c in counts {
        let (found, dups) = c?;
        total.0 += found;
        total.1 += dups;
    }
    Ok(total)
}
