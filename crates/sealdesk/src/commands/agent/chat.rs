//! The terminal agent's conversations: the team queue with a preview read through the History
//! Member, accepting one, reading it (joining from the Welcome that names one of this device's
//! key packages, decrypting in log order) and sending end-to-end encrypted messages.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::ws::{Connection, Credential};
use sealdesk_core::random::Random as _;
use sealdesk_mls::bundle::{KeyKind, OpeningKey, Recipient, open_bundle};
use sealdesk_mls::payload::{Body, Payload};
use sealdesk_mls::{KeyPackageSecrets, LogItem, Replay, Replayed, addressed_to};
use sealdesk_mls::{Processed, certs, seal};
use sealdesk_proto::keys::HistoryMemberState;
use sealdesk_proto::ws::{SystemEvent, WireKind, WireParty};
use sealdesk_proto::{ConversationId, StaffId};

use super::device::{Opened, now};
use super::membership;
use super::state::Conversation;
use crate::commands::session::fail;
use crate::exit::{DATA_ERR, Failure};
use crate::output;

fn bad(message: impl Into<String>) -> anyhow::Error {
    Failure::new(DATA_ERR, message).into()
}

/// How a decrypted payload reads in the terminal (text only: markup is not interpreted).
fn render(plaintext: &[u8]) -> Option<String> {
    match Payload::decode(plaintext).ok()?.body {
        Body::Text(t) => Some(t),
        Body::Prechat(fields) => Some(
            fields
                .iter()
                .map(|(k, v)| format!("[{k}] {v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Body::File(f) => Some(format!("[file {} bytes, {}]", f.size, f.media_type)),
        Body::Typing(_) | Body::Read(_) | Body::LeaveRequest => None,
    }
}

/// Terminal output must not carry control characters from a message (escape sequences).
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

fn label(identity: &[u8]) -> String {
    if identity.starts_with(certs::VISITOR_MAGIC.as_slice()) {
        return "visitor".into();
    }
    certs::chain_device(identity).map_or_else(|| "unknown".into(), |b| b.label)
}

/// The queue of the caller's teams, each with the first lines the History Member can read.
pub(crate) async fn queue(dev: &Opened) -> anyhow::Result<()> {
    dev.chain()?;
    let tenant = dev.profile.tenant_id;
    let list = dev
        .http
        .conversations(tenant, "state=queued")
        .await
        .map_err(fail)?;
    if list.conversations.is_empty() {
        output::line("the queue is empty");
    }
    for c in &list.conversations {
        let preview = preview(dev, c.id)
            .await
            .unwrap_or_else(|e| vec![format!("(no preview: {e})")]);
        output::line(&format!("{}  queued since {}", c.id, c.created_at));
        for line in preview.iter().take(3) {
            output::line(&format!("    {}", printable(line)));
        }
    }
    Ok(())
}

/// Opens a History Member bundle with one of this device's team keys, checking the sealer's
/// chain at `at` (Unix seconds).
pub(super) fn open_with_team_keys(
    dev: &Opened,
    sealed_b64: &str,
    at: u64,
) -> anyhow::Result<Option<KeyPackageSecrets>> {
    let sealed = STANDARD
        .decode(sealed_b64)
        .map_err(|_| bad("the bundle is not base64"))?;
    for key in &dev.secrets.team_keys {
        let ikm = STANDARD
            .decode(&key.ikm)
            .map_err(|_| bad("device.json is damaged"))?;
        let pair = seal::derive_keys(&ikm)?;
        let opening = OpeningKey {
            recipient: Recipient {
                kind: KeyKind::Team,
                key_version: key.version,
                public: pair.public,
            },
            private: &pair.private,
        };
        if let Ok(s) = open_bundle(&sealed, &opening, &dev.anchor, at) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// Every History Member of the conversation this device can open, in generation order
/// (E2EE.md §3 "Rotation": each bundle is sealed to the team key version of its time; the
/// device keeps every version it was given).
async fn history_secrets(
    dev: &Opened,
    id: ConversationId,
) -> anyhow::Result<Vec<KeyPackageSecrets>> {
    let member = dev
        .http
        .history_member(dev.profile.tenant_id, id)
        .await
        .map_err(fail)?;
    let mut secrets = Vec::new();
    if member.members.is_empty()
        && let Some(b) = &member.sealed_bundle
    {
        secrets.extend(open_with_team_keys(dev, b, now())?);
    }
    for m in &member.members {
        if m.state != HistoryMemberState::Abandoned {
            // Its own bundle, else a copy carried over to this device's team at a transfer.
            secrets.extend(super::carry::generation_secrets(dev, m)?);
        }
    }
    if secrets.is_empty() {
        return Err(bad("none of this device's team keys opens it"));
    }
    Ok(secrets)
}

/// The conversation read through its History Members: bundles opened with the team keys
/// this device holds, the log replayed with each generation in turn.
async fn preview(dev: &Opened, id: ConversationId) -> anyhow::Result<Vec<String>> {
    let tenant = dev.profile.tenant_id;
    let secrets = history_secrets(dev, id).await?;
    let mut replay = Replay::generations(&secrets, &dev.anchor)?;
    let mut lines = Vec::new();
    let mut after = 0;
    loop {
        let page = dev
            .http
            .entries(tenant, id, after, 500)
            .await
            .map_err(fail)?;
        for e in &page.entries {
            after = e.seq;
            let bytes = STANDARD
                .decode(&e.p)
                .map_err(|_| bad("an entry is not base64"))?;
            let item = match e.k {
                WireKind::Welcome => LogItem::Welcome(&bytes),
                WireKind::Handshake => LogItem::Handshake(&bytes),
                WireKind::Application => LogItem::Application(&bytes),
                WireKind::System => continue,
            };
            let at = u64::try_from(e.at / 1000).unwrap_or(0);
            match replay.feed(item, at)? {
                Replayed::Message { plaintext, sender } => {
                    if let Some(text) = render(&plaintext) {
                        lines.push(format!("{}: {text}", label(&sender)));
                    }
                }
                Replayed::Unreadable => {
                    lines.push("(a message sealed to a team key this device does not hold)".into());
                }
                _ => {}
            }
        }
        if page.entries.len() < 500 {
            return Ok(lines);
        }
    }
}

/// A conversation's whole history, as the team reads it through its History Member (closed
/// ones too, until retention deletes them).
pub(crate) async fn history(dev: &Opened, id: ConversationId) -> anyhow::Result<()> {
    dev.chain()?;
    for line in preview(dev, id).await? {
        output::line(&printable(&line));
    }
    Ok(())
}

/// Claims a conversation; the visitor's widget then adds this device.
pub(crate) async fn accept(dev: &mut Opened, id: ConversationId) -> anyhow::Result<()> {
    dev.chain()?;
    let available = dev.refill_key_packages().await?;
    let view = dev
        .http
        .claim(dev.profile.tenant_id, id)
        .await
        .map_err(fail)?;
    output::line(&format!(
        "{} is yours ({}); the visitor's widget adds this device ({available} key packages ready). \
         Then: sealdesk agent read --conversation {}",
        view.id, view.state, view.id
    ));
    Ok(())
}

/// What reading a conversation's log found, entry by entry.
struct Reading {
    me: StaffId,
    client: Option<sealdesk_mls::Client>,
    removed: bool,
    handover: bool,
    /// A transfer from another team's agent was read; their devices leave once this person
    /// is assigned.
    from_other_team: bool,
    supervisors: Vec<StaffId>,
    sent: Vec<(String, String)>,
    own_commits: Vec<String>,
}

impl Reading {
    fn own_message(&self, e: &sealdesk_proto::conversations::EntryView) -> Option<&str> {
        if e.from != WireParty::Staff(self.me) {
            return None;
        }
        let id = e.id.as_ref()?;
        self.sent
            .iter()
            .find(|(s, _)| s == id)
            .map(|(_, t)| t.as_str())
    }

    fn entry(
        &mut self,
        dev: &mut Opened,
        e: &sealdesk_proto::conversations::EntryView,
        bytes: &[u8],
    ) -> anyhow::Result<()> {
        let own_commit = e.from == WireParty::Staff(self.me)
            && e.id.as_ref().is_some_and(|i| self.own_commits.contains(i));
        let own_text = self.own_message(e).map(str::to_owned);
        match (e.k, self.client.as_mut()) {
            (WireKind::Welcome, None) => {
                if let Some(joined) = join(dev, bytes)? {
                    self.client = Some(joined);
                    output::line("(joined the conversation)");
                }
            }
            // Ours, merged when it was accepted.
            (WireKind::Handshake, Some(_)) if own_commit => {
                self.own_commits.retain(|i| Some(i) != e.id.as_ref());
            }
            (WireKind::Handshake, Some(c)) => {
                if let Processed::Commit {
                    removed_self: true, ..
                } = c.process(bytes)?
                {
                    self.removed = true;
                }
            }
            (WireKind::Application, Some(_)) if own_text.is_some() => {
                output::line(&format!(
                    "you: {}",
                    printable(own_text.as_deref().unwrap_or_default())
                ));
            }
            (WireKind::Application, Some(c)) => match c.process(bytes) {
                Ok(Processed::Application { plaintext, sender }) => {
                    if let Some(text) = render(&plaintext) {
                        let who = c
                            .member_identity(sender)
                            .map_or_else(|| "?".into(), |i| label(&i));
                        output::line(&format!("{who}: {}", printable(&text)));
                    }
                }
                Ok(Processed::Commit { .. }) => {}
                Err(e) => output::line(&format!("(a message could not be verified: {e})")),
            },
            (WireKind::System, _) => self.event(bytes),
            _ => {}
        }
        Ok(())
    }

    fn event(&mut self, bytes: &[u8]) {
        match serde_json::from_slice::<SystemEvent>(bytes) {
            Ok(SystemEvent::TransferredToAgent { to, .. }) if to == self.me => {
                output::line("(transferred to you)");
                self.handover = true;
            }
            Ok(SystemEvent::SupervisorJoined { staff }) => {
                output::line("(a supervisor joined)");
                self.supervisors.push(staff);
            }
            Ok(SystemEvent::TransferredToTeam { from, .. }) => {
                output::line("(transferred to another team)");
                self.from_other_team = from.is_some();
            }
            // Taken from another team's transfer: the previous team's agent leaves the group
            // as after a transfer to this person.
            Ok(SystemEvent::Assigned { agent }) => {
                output::line("(assigned)");
                if agent == self.me && std::mem::take(&mut self.from_other_team) {
                    self.handover = true;
                }
            }
            Ok(SystemEvent::Closed { .. }) => output::line("(the conversation was closed)"),
            _ => output::line("(conversation event)"),
        }
    }

    /// At the log's end: the membership changes the log asked of this device.
    async fn act(&mut self, dev: &Opened, id: ConversationId) {
        let Some(c) = self.client.as_mut().filter(|_| !self.removed) else {
            return;
        };
        if self.handover {
            match membership::remove_previous_agents(dev, id, c).await {
                Ok(commit) => self.own_commits.extend(commit),
                Err(e) => output::line(&format!(
                    "(the previous agent's devices could not be removed: {e})"
                )),
            }
        }
        for staff in std::mem::take(&mut self.supervisors) {
            match membership::add_supervisor(dev, id, c, staff).await {
                Ok(commit) => self.own_commits.extend(commit),
                Err(e) => output::line(&format!("(the supervisor could not be added: {e})")),
            }
        }
    }
}

/// Reads the conversation's new entries: joins from the Welcome naming one of this device's
/// key packages, processes commits, prints messages, then makes the membership changes the
/// log asked for. The state is saved.
pub(crate) async fn read(dev: &mut Opened, id: ConversationId) -> anyhow::Result<()> {
    dev.chain()?;
    let tenant = dev.profile.tenant_id;
    let state = dev
        .secrets
        .conversations
        .iter()
        .position(|c| c.id == id)
        .map(|i| dev.secrets.conversations.remove(i));
    let mut cursor = state.as_ref().map_or(0, |s| s.cursor);
    let mut reading = Reading {
        me: dev.staff,
        client: state.as_ref().map(|s| dev.restore(&s.client)).transpose()?,
        removed: false,
        handover: false,
        from_other_team: false,
        supervisors: Vec::new(),
        sent: state.as_ref().map(|s| s.sent.clone()).unwrap_or_default(),
        own_commits: state
            .as_ref()
            .map(|s| s.own_commits.clone())
            .unwrap_or_default(),
    };
    loop {
        let page = match dev.http.entries(tenant, id, cursor, 500).await {
            Ok(page) => page,
            // Transferred away or deleted: this person may not read it any more, and the
            // device keeps nothing of it.
            Err(sealdesk_client::ClientError::Api { status: 404, .. }) => {
                output::line("(this conversation is no longer yours: removed from this device)");
                return dev.save();
            }
            Err(e) => return Err(fail(e)),
        };
        for e in &page.entries {
            cursor = e.seq;
            let bytes = STANDARD
                .decode(&e.p)
                .map_err(|_| bad("an entry is not base64"))?;
            reading.entry(dev, e, &bytes)?;
        }
        if page.entries.len() < 500 {
            break;
        }
    }
    reading.act(dev, id).await;
    match reading.client.take() {
        Some(c) if !reading.removed => dev.secrets.conversations.push(Conversation {
            id,
            client: STANDARD.encode(c.save()?),
            cursor,
            sent: std::mem::take(&mut reading.sent),
            own_commits: std::mem::take(&mut reading.own_commits),
        }),
        Some(_) => output::line("(this device was removed from the conversation)"),
        None => output::line("(not a member yet: the visitor's widget has not added this device)"),
    }
    dev.save()
}

/// The client of the key package a Welcome names, joined; the package leaves the pending list.
fn join(dev: &mut Opened, welcome: &[u8]) -> anyhow::Result<Option<sealdesk_mls::Client>> {
    let mut found = None;
    for (i, kp) in dev.secrets.key_packages.iter().enumerate() {
        let hash_ref = STANDARD
            .decode(&kp.hash_ref)
            .map_err(|_| bad("device.json is damaged"))?;
        if addressed_to(welcome, &hash_ref)? {
            found = Some(i);
            break;
        }
    }
    let Some(i) = found else {
        return Ok(None);
    };
    let pending = dev.secrets.key_packages.remove(i);
    let mut client = dev.restore(&pending.client)?;
    client.join(welcome)?;
    Ok(Some(client))
}

/// Sends `text` to a conversation this device is in (read it first to catch up).
pub(crate) async fn send(dev: &mut Opened, id: ConversationId, text: &str) -> anyhow::Result<()> {
    dev.chain()?;
    let index = dev
        .secrets
        .conversations
        .iter()
        .position(|c| c.id == id)
        .ok_or_else(|| bad("not a member of this conversation yet: `sealdesk agent read` first"))?;
    let mut client = dev.restore(&dev.secrets.conversations[index].client)?;
    let mut msg_id = [0u8; 16];
    sealdesk_crypto::OsRandom.fill(&mut msg_id);
    let payload = Payload {
        msg_id,
        sent_at_ms: now() * 1000,
        body: Body::Text(text.to_owned()),
    }
    .encode()?;
    let ciphertext = client.send(&payload)?;
    let client_id = format!("ta-{}", hex::encode(msg_id));
    let url = url::Url::parse(&dev.profile.server)?;
    let mut conn =
        Connection::connect(&url, &Credential::Bearer(dev.profile.token.clone())).await?;
    conn.send(id, &client_id, WireKind::Application, &ciphertext)
        .await?;
    conn.close().await.ok();
    let state = &mut dev.secrets.conversations[index];
    state.client = STANDARD.encode(client.save()?);
    state.sent.push((client_id, text.to_owned()));
    dev.save()?;
    output::line("sent");
    Ok(())
}
