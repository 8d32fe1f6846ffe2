//! `sealdesk agent rekey`: after a team key rotation, re-key the History Member of this
//! agent's open conversations (E2EE.md §3 "Rotation"), so a removed team member who kept the
//! old team key cannot read what follows; and after a conversation moved to another team,
//! give it a History Member of its new team (docs/e2ee.md, "Transfer to another team"). For
//! each conversation whose current History Member bundle is sealed to an older version than
//! the team's newest announced key, or made for another team: catch up,
//! take the rotation member from the server, check its certificate (a History Member of the
//! conversation's team under the pinned root, as the widget checks the first one) and that
//! its bundle opens with the new team key into exactly that key package, then commit
//! `Remove(old) + Add(new)`. A commit that lost a race (`stale_epoch`, E2EE.md §9.2) is
//! discarded, the log read again, and the commit rebuilt. A supervisor's device then
//! re-seals the teams' canned responses to the newest team key (`content::reseal_canned`).

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::ws::{Connection, Credential, WsClientError};
use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::{self, KeyKind, OpeningKey, Recipient, open_bundle};
use sealdesk_mls::certs::{self, ChainCheck, Role};
use sealdesk_mls::ds::check_key_package;
use sealdesk_mls::{Client as Mls, seal};
use sealdesk_proto::ws::WireKind;
use sealdesk_proto::{ConversationId, ErrorCode, TeamId};
use sealdesk_server::app::key_packages::MAX_LIFETIME_SECS;

use super::chat::read;
use super::device::{Opened, now};
use crate::commands::session::fail;
use crate::exit::{DATA_ERR, Failure};
use crate::output;

/// Attempts per conversation when other members' commits keep winning the epoch.
const ATTEMPTS: u32 = 3;

fn bad(message: impl Into<String>) -> anyhow::Error {
    Failure::new(DATA_ERR, message).into()
}

/// The newest announced key version of each team, verified under the pinned root.
async fn newest_team_keys(dev: &Opened) -> anyhow::Result<HashMap<TeamId, u32>> {
    let announced = dev
        .http
        .sealing_keys(dev.profile.tenant_id)
        .await
        .map_err(fail)?;
    let mut newest = HashMap::new();
    for k in &announced.keys {
        let Some(a) = STANDARD
            .decode(&k.announcement)
            .ok()
            .and_then(|b| Announcement::verify(&b, &dev.anchor).ok())
        else {
            continue;
        };
        if a.kind == KeyKind::Team {
            let team = TeamId::from_uuid(uuid::Uuid::from_bytes(a.team));
            let v = newest.entry(team).or_insert(0);
            *v = (*v).max(a.version);
        }
    }
    Ok(newest)
}

/// This agent's open conversations (assigned to them), or the ones named.
async fn targets(
    dev: &Opened,
    named: &[ConversationId],
) -> anyhow::Result<Vec<(ConversationId, TeamId)>> {
    let tenant = dev.profile.tenant_id;
    if !named.is_empty() {
        let mut out = Vec::new();
        for id in named {
            let c = dev.http.conversation(tenant, *id).await.map_err(fail)?;
            out.push((c.id, c.team_id));
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    let mut before: Option<ConversationId> = None;
    loop {
        let query = before.map_or_else(
            || "mine=true&state=assigned&limit=200".to_owned(),
            |b| format!("mine=true&state=assigned&limit=200&before={b}"),
        );
        let page = dev.http.conversations(tenant, &query).await.map_err(fail)?;
        out.extend(page.conversations.iter().map(|c| (c.id, c.team_id)));
        match page.conversations.last() {
            Some(last) if page.conversations.len() == 200 => before = Some(last.id),
            _ => return Ok(out),
        }
    }
}

/// The team and the team key version the bundle's header names (the seal itself is checked
/// on opening).
fn sealed_to(sealed_b64: Option<&str>) -> Option<(TeamId, Option<u32>)> {
    let sealed = STANDARD.decode(sealed_b64?).ok()?;
    let envelope = bundle::parse(&sealed).ok()?;
    let version = envelope
        .seals
        .iter()
        .filter(|(r, _)| r.kind == KeyKind::Team)
        .map(|(r, _)| r.key_version)
        .max();
    Some((
        TeamId::from_uuid(uuid::Uuid::from_bytes(envelope.team)),
        version,
    ))
}

/// The rotation member, checked: a History Member certificate of `team` under the pinned
/// root (E2EE.md §4, as the widget checks the first one), whose bundle opens with this
/// device's team key `version` into the very key package offered (RFC 9420 §5.2 reference).
async fn checked_member(
    dev: &Opened,
    id: ConversationId,
    team: TeamId,
    version: u32,
) -> anyhow::Result<(Vec<u8>, u32)> {
    let member = dev
        .http
        .rotation_member(dev.profile.tenant_id, id)
        .await
        .map_err(fail)?;
    let kp = STANDARD
        .decode(&member.key_package)
        .map_err(|_| bad("the key package is not base64"))?;
    let entry = check_key_package(&kp, &dev.anchor, now(), MAX_LIFETIME_SECS)
        .map_err(|e| bad(format!("the new History Member: {e}")))?;
    if entry.role != Role::History || entry.team != *team.as_uuid().as_bytes() {
        return Err(bad(
            "the new History Member is not certified as this team's archive",
        ));
    }
    let key = dev
        .secrets
        .team_keys
        .iter()
        .find(|k| k.team == team && k.version == version)
        .ok_or_else(|| {
            bad(format!(
                "this device does not hold team key version {version}: ask the owner to \
                 rewrap it (`sealdesk admin keys rewrap`), then run `sealdesk agent status`"
            ))
        })?;
    let ikm = STANDARD
        .decode(&key.ikm)
        .map_err(|_| bad("device.json is damaged"))?;
    let pair = seal::derive_keys(&ikm)?;
    let opening = OpeningKey {
        recipient: Recipient {
            kind: KeyKind::Team,
            key_version: version,
            public: pair.public,
        },
        private: &pair.private,
    };
    let sealed = STANDARD
        .decode(&member.sealed_bundle)
        .map_err(|_| bad("the bundle is not base64"))?;
    let secrets = open_bundle(&sealed, &opening, &dev.anchor, now())
        .map_err(|e| bad(format!("the new History Member's bundle: {e}")))?;
    let check = std::sync::Arc::new(ChainCheck::new(dev.anchor.clone(), now));
    let imported = Mls::new(b"rekey check", check)?.import_key_package(&secrets)?;
    if imported != entry.hash_ref {
        return Err(bad(
            "the new History Member's bundle is not its key package's private half",
        ));
    }
    Ok((kp, member.generation))
}

/// Commits the rotation; `Ok(None)` when another commit won the epoch (discarded).
async fn commit(
    dev: &Opened,
    id: ConversationId,
    client: &mut Mls,
    kp: Vec<u8>,
    tag: &str,
) -> anyhow::Result<Option<String>> {
    let old: Vec<u32> = client
        .epoch_info()?
        .members
        .iter()
        .filter(|m| certs::device_role(&m.identity) == Some(Role::History))
        .map(|m| m.leaf)
        .collect();
    let [old] = old[..] else {
        return Err(bad(format!(
            "the group has {} History Members, not one",
            old.len()
        )));
    };
    let out = client.commit(&[kp], &[old])?;
    let url = url::Url::parse(&dev.profile.server)?;
    let mut conn =
        Connection::connect(&url, &Credential::Bearer(dev.profile.token.clone())).await?;
    let commit_id = format!("ta-{tag}");
    match conn
        .send(id, &commit_id, WireKind::Handshake, &out.commit)
        .await
    {
        Ok(_) => {}
        Err(WsClientError::Server(e)) if e.code == ErrorCode::StaleEpoch => {
            client.discard()?;
            conn.close().await.ok();
            return Ok(None);
        }
        Err(e) => {
            client.discard()?;
            conn.close().await.ok();
            return Err(e.into());
        }
    }
    client.merge()?;
    if let Some(welcome) = out.welcome {
        conn.send(id, &format!("ta-{tag}-w"), WireKind::Welcome, &welcome)
            .await?;
    }
    conn.close().await.ok();
    Ok(Some(commit_id))
}

/// Re-keys one conversation; returns what to print.
async fn rekey_one(
    dev: &mut Opened,
    id: ConversationId,
    team: TeamId,
    newest: &HashMap<TeamId, u32>,
) -> anyhow::Result<String> {
    let Some(&version) = newest.get(&team) else {
        return Ok(format!(
            "{id}: the team has no announced key; nothing to do"
        ));
    };
    let current = dev
        .http
        .history_member(dev.profile.tenant_id, id)
        .await
        .map_err(fail)?;
    let (sealed_team, sealed) = sealed_to(current.sealed_bundle.as_deref()).unzip();
    let sealed = sealed.flatten();
    // Versions count per team: after a transfer to another team, the previous team's
    // member is replaced whatever its version (docs/e2ee.md, "Transfer to another team").
    let moved = sealed_team.is_some_and(|t| t != team);
    if !moved && sealed.is_some_and(|v| v >= version) {
        return Ok(format!(
            "{id}: already sealed to team key version {version}"
        ));
    }
    for attempt in 1..=ATTEMPTS {
        read(dev, id).await?;
        let index = dev
            .secrets
            .conversations
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| {
                bad(format!(
                    "{id}: this device is not in the conversation's group"
                ))
            })?;
        let (kp, generation) = checked_member(dev, id, team, version).await?;
        let mut client = dev.restore(&dev.secrets.conversations[index].client)?;
        let tag = format!("rekey-{generation}-{attempt}");
        if let Some(commit_id) = commit(dev, id, &mut client, kp, &tag).await? {
            let state = &mut dev.secrets.conversations[index];
            state.client = STANDARD.encode(client.save()?);
            state.own_commits.push(commit_id);
            dev.save()?;
            if moved {
                return Ok(format!(
                    "{id}: History Member rotated to generation {generation}, of this \
                     conversation's new team (team key version {version})"
                ));
            }
            return Ok(format!(
                "{id}: History Member rotated to generation {generation} (team key version \
                 {version}, was {})",
                sealed.map_or_else(|| "unknown".into(), |v| v.to_string())
            ));
        }
        output::line(&format!(
            "({id}: another commit came first; catching up and retrying)"
        ));
    }
    Err(bad(format!(
        "{id}: other commits kept winning the epoch; try again"
    )))
}

/// Re-keys the History Member of the named conversations, or of every open conversation
/// assigned to this agent, whose bundle is sealed to an older team key than the newest.
pub(crate) async fn rekey(dev: &mut Opened, named: &[ConversationId]) -> anyhow::Result<()> {
    dev.chain()?;
    super::refresh_team_keys(dev).await?;
    let newest = newest_team_keys(dev).await?;
    let targets = targets(dev, named).await?;
    if targets.is_empty() {
        output::line("no open conversation is assigned to you");
    }
    let mut failed = 0;
    for (id, team) in targets {
        match rekey_one(dev, id, team, &newest).await {
            Ok(line) => output::line(&line),
            Err(e) => {
                failed += 1;
                output::line(&format!("{id}: not re-keyed: {e}"));
            }
        }
    }
    // A supervisor's device also re-seals the teams' canned responses to the newest key.
    super::content::reseal_canned(dev).await?;
    if failed > 0 {
        return Err(bad(format!("{failed} conversation(s) not re-keyed")));
    }
    Ok(())
}
