//! The self-test's conversation, end-to-end encrypted: the visitor and the agent are real MLS
//! clients (`sealdesk-mls`, our profile) and the server sees only ciphertext. The visitor
//! starts the group with its `GroupInfo`, adds a History Member and the agent in one commit,
//! and sends the Welcome; the agent joins from the log; messages go both ways and each is
//! decrypted by the other side; the agent rotates its keys (a self-update commit) while the
//! visitor is away, and the visitor resumes through it; finally the History Member replays
//! the whole log from the REST API, as an archive reader would.

use std::collections::HashMap;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::Client;
use sealdesk_client::ws::{Connection, Credential, Cursors, Received};
use sealdesk_crypto::OsRandom;
use sealdesk_mls::certs::Role;
use sealdesk_mls::payload::{Body, Payload};
use sealdesk_mls::{Client as Mls, Processed, profile};
use sealdesk_proto::auth::{ClientKind, LoginRequest, Secret};
use sealdesk_proto::ws::{ServerFrame, WireKind};
use sealdesk_proto::{ConversationId, TenantId};
use url::Url;

use super::keys::{fill_history_pool, open_history};
use super::{Fixture, ROUNDS, WHILE_AWAY, step, wait_assigned};

/// What the exchange measured and checked.
pub(super) struct Measured {
    pub(super) conversation: ConversationId,
    pub(super) latencies: Vec<f64>,
    pub(super) in_order: bool,
    pub(super) resume_ok: bool,
    /// Messages the visitor and the agent decrypted to exactly what the other sent.
    pub(super) decrypted: usize,
    /// Messages sent (each must be decrypted once by its recipient).
    pub(super) sent: usize,
    /// Messages the History Member's replay of the log decrypted correctly.
    pub(super) history_decrypted: usize,
    /// Visitor, agent and History Member agree on epoch, authenticator, exporter, roster.
    pub(super) epochs_agree: bool,
    pub(super) epoch: u64,
}

/// Application payload v1 (`sealdesk_mls::payload`) carrying `text`.
fn text_payload(text: &str, random: &dyn sealdesk_core::random::Random) -> anyhow::Result<Vec<u8>> {
    let mut msg_id = [0u8; 16];
    random.fill(&mut msg_id);
    Ok(Payload {
        msg_id,
        sent_at_ms: 0,
        body: Body::Text(text.to_owned()),
    }
    .encode()?)
}

/// The text of a decrypted payload, if it is one.
fn text_of(plaintext: &[u8]) -> Option<String> {
    match Payload::decode(plaintext).ok()?.body {
        Body::Text(t) => Some(t),
        _ => None,
    }
}

/// One side of the conversation: its connection, cursors and MLS client.
struct Side {
    conn: Connection,
    cursors: Cursors,
    mls: Mls,
}

fn application(processed: Processed) -> anyhow::Result<Vec<u8>> {
    match processed {
        Processed::Application { plaintext, .. } => Ok(plaintext),
        Processed::Commit { .. } => Err(anyhow::anyhow!("expected a message, got a commit")),
    }
}

pub(super) async fn exchange(
    server: &Url,
    fixture: &Fixture,
    message: Option<&str>,
) -> anyhow::Result<Measured> {
    let http = Client::new(server.as_str())?;
    let token = log_in_agent(&http, fixture).await?;
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
    let mut visitor = Side {
        conn: step(
            "visitor connect",
            Connection::connect(server, &Credential::Ticket(ticket.ticket.clone())),
        )
        .await?,
        cursors: Cursors::default(),
        mls: fixture.keys.visitor(conversation.as_uuid().as_bytes())?,
    };
    let agent_device = fixture
        .keys
        .device(Role::Agent, "Self-test agent", [0; 16])?;
    fill_history_pool(fixture, &agent_http, &agent_device).await?;
    let mut agent = Side {
        conn: step(
            "agent connect",
            Connection::connect(server, &Credential::Bearer(token)),
        )
        .await?,
        cursors: Cursors::default(),
        mls: agent_device.mls,
    };

    let mut texts: Vec<String> = Vec::new();
    texts.push(message.unwrap_or("Sealdesk self-test").to_owned());
    texts.extend((1..ROUNDS).map(|i| format!("self-test message {i}")));
    let mut sent_texts: HashMap<String, String> = HashMap::new();

    start_group(&mut visitor, &visitor_http, &mut agent.mls, conversation).await?;
    let first = visitor.mls.send(&text_payload(&texts[0], &OsRandom)?)?;
    step(
        "first send",
        visitor
            .conn
            .send(conversation, "st-v-0", WireKind::Application, &first),
    )
    .await?;
    sent_texts.insert("st-v-0".into(), texts[0].clone());
    let sent_first = Instant::now();
    wait_assigned(&agent_http, fixture.tenant, conversation).await?;
    step("agent subscribe", agent.conn.subscribe(conversation, 0)).await?;
    step("visitor subscribe", visitor.conn.subscribe(conversation, 0)).await?;

    let mut measured = Measured {
        conversation,
        latencies: Vec::new(),
        in_order: true,
        resume_ok: false,
        decrypted: 0,
        sent: 1,
        history_decrypted: 0,
        epochs_agree: false,
        epoch: 0,
    };
    agent_joins(
        &mut agent,
        conversation,
        &texts[0],
        sent_first,
        &mut measured,
    )
    .await?;
    ping_pong(
        &mut visitor,
        &mut agent,
        conversation,
        &texts,
        &mut measured,
        &mut sent_texts,
    )
    .await?;
    measured.resume_ok = Box::pin(resume(
        server,
        fixture,
        &http,
        ticket.visitor_key.as_deref(),
        &mut visitor,
        &mut agent,
        conversation,
        &mut measured,
        &mut sent_texts,
    ))
    .await?;
    let mut history = open_history(&agent_http, fixture, conversation).await?;
    measured.history_decrypted = replay_history(
        &agent_http,
        fixture.tenant,
        conversation,
        &mut history,
        &sent_texts,
    )
    .await?;
    let visitor_epoch = visitor.mls.epoch_info()?;
    measured.epoch = visitor_epoch.epoch;
    measured.epochs_agree =
        agent.mls.epoch_info()? == visitor_epoch && history.epoch_info()? == visitor_epoch;
    agent.conn.close().await.ok();
    Ok(measured)
}

/// The agent's password login (the throwaway tenant does not require a second factor).
async fn log_in_agent(http: &Client, fixture: &Fixture) -> anyhow::Result<String> {
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
    Ok(token)
}

/// The agent reads the history: it joins from the Welcome and decrypts the first message.
async fn agent_joins(
    agent: &mut Side,
    conversation: ConversationId,
    first: &str,
    sent_first: Instant,
    measured: &mut Measured,
) -> anyhow::Result<()> {
    loop {
        let entry = next_entry(agent, conversation, &mut measured.in_order).await?;
        match entry.kind {
            WireKind::Welcome => {
                agent.mls.join(&entry.payload)?;
            }
            WireKind::Application if entry.id.as_deref() == Some("st-v-0") => {
                let plain = application(agent.mls.process(&entry.payload)?)?;
                measured
                    .latencies
                    .push(sent_first.elapsed().as_secs_f64() * 1000.0);
                if text_of(&plain).as_deref() == Some(first) {
                    measured.decrypted += 1;
                }
                break;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The visitor's group: `GroupInfo` (the server starts following the group), one commit
/// adding the History Member and the agent, the Welcome.
async fn start_group(
    visitor: &mut Side,
    visitor_http: &Client,
    agent: &mut Mls,
    conversation: ConversationId,
) -> anyhow::Result<()> {
    // The conversation's History Member comes from the team's pool (the server checks).
    let member = step(
        "history member",
        visitor_http.visitor_history_member(conversation),
    )
    .await?;
    let history_kp = STANDARD
        .decode(&member.key_package)
        .map_err(|_| anyhow::anyhow!("the History Member key package is not base64"))?;
    let agent_kp = agent.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)?;
    visitor
        .mls
        .create_group(conversation.to_string().as_bytes())?;
    let info = visitor.mls.group_info()?;
    step(
        "group info",
        visitor
            .conn
            .send(conversation, "st-group", WireKind::Handshake, &info),
    )
    .await?;
    let add = visitor.mls.commit(&[history_kp, agent_kp], &[])?;
    step(
        "add commit",
        visitor
            .conn
            .send(conversation, "st-add", WireKind::Handshake, &add.commit),
    )
    .await?;
    visitor.mls.merge()?;
    let welcome = add
        .welcome
        .ok_or_else(|| anyhow::anyhow!("the add commit produced no Welcome"))?;
    step(
        "welcome",
        visitor
            .conn
            .send(conversation, "st-welcome", WireKind::Welcome, &welcome),
    )
    .await?;
    Ok(())
}

/// Messages alternate between visitor and agent; each is encrypted by its sender, decrypted
/// by the other side, and timed from send to arrival.
async fn ping_pong(
    visitor: &mut Side,
    agent: &mut Side,
    conversation: ConversationId,
    texts: &[String],
    measured: &mut Measured,
    sent_texts: &mut HashMap<String, String>,
) -> anyhow::Result<()> {
    for (i, text) in texts.iter().enumerate().skip(1) {
        let (from, to, id) = if i % 2 == 1 {
            (&mut *visitor, &mut *agent, format!("st-v-{i}"))
        } else {
            (&mut *agent, &mut *visitor, format!("st-a-{i}"))
        };
        let ciphertext = from.mls.send(&text_payload(text, &OsRandom)?)?;
        let started = Instant::now();
        from.conn
            .send_nowait(conversation, &id, WireKind::Application, &ciphertext)
            .await?;
        sent_texts.insert(id.clone(), text.clone());
        measured.sent += 1;
        let arrived = receive(to, &id, &mut measured.in_order).await?;
        measured
            .latencies
            .push(started.elapsed().as_secs_f64() * 1000.0);
        measured.in_order &= arrived.payload == ciphertext;
        if text_of(&application(to.mls.process(&arrived.payload)?)?).as_deref() == Some(text) {
            measured.decrypted += 1;
        }
        step("ack", from.conn.wait_ack(&id)).await?;
        // The sender also receives its own entry; read up to it so cursors stay exact.
        receive(from, &id, &mut measured.in_order).await?;
    }
    Ok(())
}

/// The visitor goes away; the agent rotates its keys (a self-update commit) and writes; the
/// visitor comes back with its cursor and must get exactly the gap, process the commit and
/// decrypt every message. Returns whether it did.
#[allow(clippy::too_many_arguments)]
async fn resume(
    server: &Url,
    fixture: &Fixture,
    http: &Client,
    visitor_key: Option<&str>,
    visitor: &mut Side,
    agent: &mut Side,
    conversation: ConversationId,
    measured: &mut Measured,
    sent_texts: &mut HashMap<String, String>,
) -> anyhow::Result<bool> {
    let after = visitor.cursors.after(conversation);
    let again = step(
        "second ticket",
        http.visitor_ticket(fixture.tenant, fixture.team, visitor_key),
    )
    .await?;
    let reconnected = step(
        "reconnect",
        Connection::connect(server, &Credential::Ticket(again.ticket)),
    )
    .await?;
    std::mem::replace(&mut visitor.conn, reconnected)
        .close()
        .await
        .ok();

    let update = agent.mls.self_update()?;
    step(
        "self-update",
        agent
            .conn
            .send(conversation, "st-update", WireKind::Handshake, &update),
    )
    .await?;
    agent.mls.merge()?;
    for i in 0..WHILE_AWAY {
        let id = format!("st-away-{i}");
        let body = format!("while you were away {i}");
        let ciphertext = agent.mls.send(&text_payload(&body, &OsRandom)?)?;
        step(
            "send while away",
            agent
                .conn
                .send(conversation, &id, WireKind::Application, &ciphertext),
        )
        .await?;
        sent_texts.insert(id, body);
        measured.sent += 1;
    }
    let last = step("resubscribe", visitor.conn.subscribe(conversation, after)).await?;
    let mut commits = 0;
    let mut messages = 0;
    while visitor.cursors.after(conversation) < last {
        let entry = next_entry(visitor, conversation, &mut measured.in_order).await?;
        match entry.kind {
            WireKind::Handshake => {
                visitor.mls.process(&entry.payload)?;
                commits += 1;
            }
            WireKind::Application => {
                let plain = application(visitor.mls.process(&entry.payload)?)?;
                let expected = entry.id.as_ref().and_then(|id| sent_texts.get(id));
                if expected.is_some_and(|t| text_of(&plain).as_deref() == Some(t.as_str())) {
                    measured.decrypted += 1;
                    messages += 1;
                }
            }
            _ => {}
        }
    }
    Ok(commits == 1 && messages == WHILE_AWAY)
}

/// The History Member's replay of the whole log (REST, as an archive export reads it): join
/// from the Welcome, process the commits after it, decrypt every message. Returns how many
/// messages decrypted to what was sent.
async fn replay_history(
    agent_http: &Client,
    tenant: TenantId,
    conversation: ConversationId,
    history: &mut Mls,
    sent_texts: &HashMap<String, String>,
) -> anyhow::Result<usize> {
    let mut decrypted = 0;
    let mut joined = false;
    let mut after = 0;
    loop {
        let page = step(
            "history",
            agent_http.entries(tenant, conversation, after, 500),
        )
        .await?;
        for entry in &page.entries {
            after = entry.seq;
            let payload = STANDARD.decode(&entry.p).map_err(|_| {
                anyhow::anyhow!("entry {} has a payload that is not base64", entry.seq)
            })?;
            match (entry.k, joined) {
                (WireKind::Welcome, false) => {
                    history.join(&payload)?;
                    joined = true;
                }
                (WireKind::Handshake, true) => {
                    history.process(&payload)?;
                }
                (WireKind::Application, true) => {
                    let plain = application(history.process(&payload)?)?;
                    let expected = entry.id.as_ref().and_then(|id| sent_texts.get(id));
                    if expected.is_some_and(|t| text_of(&plain).as_deref() == Some(t.as_str())) {
                        decrypted += 1;
                    }
                }
                _ => {}
            }
        }
        if page.entries.len() < 500 {
            return Ok(decrypted);
        }
    }
}

/// The next entry of `conversation` on this side's connection, checking order.
async fn next_entry(
    side: &mut Side,
    conversation: ConversationId,
    in_order: &mut bool,
) -> anyhow::Result<Received> {
    loop {
        let frame = step("receive", side.conn.next()).await?;
        if let ServerFrame::Error(e) = &frame {
            return Err(anyhow::anyhow!("server error {}: {}", e.code, e.message));
        }
        match side.cursors.accept(&frame) {
            Ok(Some(entry)) if entry.c == conversation => return Ok(entry),
            Ok(_) => {}
            Err(_) => *in_order = false,
        }
    }
}

/// Reads until the entry with client id `id` arrives.
async fn receive(side: &mut Side, id: &str, in_order: &mut bool) -> anyhow::Result<Received> {
    loop {
        let frame = step("receive", side.conn.next()).await?;
        if let ServerFrame::Error(e) = &frame {
            return Err(anyhow::anyhow!("server error {}: {}", e.code, e.message));
        }
        match side.cursors.accept(&frame) {
            Ok(Some(entry)) if entry.id.as_deref() == Some(id) => return Ok(entry),
            Ok(_) => {}
            Err(_) => *in_order = false,
        }
    }
}
