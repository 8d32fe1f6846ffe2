//! Membership changes the terminal agent makes (E2EE.md §5.4, §5.5): adding a supervisor's
//! devices, handing a conversation to another agent or team, and, after a transfer to this
//! person (or their claim of a conversation another team sent), removing the previous
//! agent's devices (MLS lets no member remove itself).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::ws::{Connection, Credential};
use sealdesk_mls::certs;
use sealdesk_proto::ws::WireKind;
use sealdesk_proto::{ConversationId, StaffId, TeamId};

use super::chat::read;
use super::device::{Opened, now};
use crate::commands::session::fail;
use crate::exit::{DATA_ERR, Failure};
use crate::output;

fn bad(message: impl Into<String>) -> anyhow::Error {
    Failure::new(DATA_ERR, message).into()
}

/// A supervisor joined: the device, at the log's end, adds the supervisor's devices (their
/// certificates must be supervisors' under the pinned root; E2EE.md §5.5), in one commit
/// with its Welcome. If someone else added them first, the commit is stale and dropped.
pub(super) async fn add_supervisor(
    dev: &Opened,
    id: ConversationId,
    client: &mut sealdesk_mls::Client,
    staff: StaffId,
) -> anyhow::Result<Option<String>> {
    let tenant = dev.profile.tenant_id;
    let taken = dev
        .http
        .take_key_packages(tenant, id, Some(staff))
        .await
        .map_err(fail)?;
    let mut packages = Vec::new();
    for kp in &taken.key_packages {
        let bytes = STANDARD
            .decode(&kp.key_package)
            .map_err(|_| bad("a key package is not base64"))?;
        let entry = sealdesk_mls::ds::check_key_package(&bytes, &dev.anchor, now(), u64::MAX)
            .map_err(|e| bad(format!("a supervisor key package: {e}")))?;
        if entry.role != certs::Role::Supervisor {
            return Err(bad("the joining member's device is not a supervisor's"));
        }
        packages.push(bytes);
    }
    if packages.is_empty() {
        return Ok(None);
    }
    let out = client.commit(&packages, &[])?;
    let commit = commit_and_send(dev, id, client, out, &format!("sup-{staff}")).await?;
    output::line("(added the supervisor's devices)");
    Ok(Some(commit))
}

/// Sends a commit and then its Welcome, if any (a refused commit is discarded).
async fn commit_and_send(
    dev: &Opened,
    id: ConversationId,
    client: &mut sealdesk_mls::Client,
    out: sealdesk_mls::Outgoing,
    tag: &str,
) -> anyhow::Result<String> {
    let url = url::Url::parse(&dev.profile.server)?;
    let mut conn =
        Connection::connect(&url, &Credential::Bearer(dev.profile.token.clone())).await?;
    let commit_id = format!("ta-{tag}");
    if let Err(e) = conn
        .send(id, &commit_id, WireKind::Handshake, &out.commit)
        .await
    {
        client.discard()?;
        conn.close().await.ok();
        return Err(e.into());
    }
    client.merge()?;
    if let Some(welcome) = out.welcome {
        conn.send(id, &format!("ta-{tag}-w"), WireKind::Welcome, &welcome)
            .await?;
    }
    conn.close().await.ok();
    Ok(commit_id)
}

/// After a transfer to this person: the agent devices that are not theirs (the previous
/// assignee's) leave the group. MLS lets no member remove itself (RFC 9420 §12.2), so the
/// new assignee does it; supervisors and the History Member stay.
pub(super) async fn remove_previous_agents(
    dev: &Opened,
    id: ConversationId,
    client: &mut sealdesk_mls::Client,
) -> anyhow::Result<Option<String>> {
    let mine: Vec<[u8; 32]> = dev
        .http
        .my_devices()
        .await
        .map_err(fail)?
        .devices
        .iter()
        .filter_map(|d| STANDARD.decode(&d.signature_key).ok()?.try_into().ok())
        .collect();
    let leaves: Vec<u32> = client
        .epoch_info()?
        .members
        .iter()
        .filter(|m| {
            certs::chain_device(&m.identity).is_some_and(|body| {
                body.role == certs::Role::Agent && !mine.contains(&body.subject)
            })
        })
        .map(|m| m.leaf)
        .collect();
    if leaves.is_empty() {
        return Ok(None);
    }
    let out = client.commit(&[], &leaves)?;
    let commit =
        commit_and_send(dev, id, client, out, &format!("handover-{}", leaves.len())).await?;
    output::line(&format!(
        "(removed the previous agent's {} device(s))",
        leaves.len()
    ));
    Ok(Some(commit))
}

/// Hands the conversation to another agent: this device adds the agent's devices (their
/// certificates checked under the pinned root), then the server moves the conversation; the
/// new assignee's client removes this person's devices when it reads the transfer.
pub(crate) async fn transfer(
    dev: &mut Opened,
    id: ConversationId,
    to: StaffId,
) -> anyhow::Result<()> {
    read(dev, id).await?;
    let index = dev
        .secrets
        .conversations
        .iter()
        .position(|c| c.id == id)
        .ok_or_else(|| bad("not a member of this conversation"))?;
    let mut client = dev.restore(&dev.secrets.conversations[index].client)?;
    let tenant = dev.profile.tenant_id;
    let taken = dev
        .http
        .take_key_packages(tenant, id, Some(to))
        .await
        .map_err(fail)?;
    let mut packages = Vec::new();
    for kp in &taken.key_packages {
        let bytes = STANDARD
            .decode(&kp.key_package)
            .map_err(|_| bad("a key package is not base64"))?;
        let entry = sealdesk_mls::ds::check_key_package(&bytes, &dev.anchor, now(), u64::MAX)
            .map_err(|e| bad(format!("the new agent's key package: {e}")))?;
        if !matches!(entry.role, certs::Role::Agent | certs::Role::Supervisor) {
            return Err(bad("the new agent's device is not certified as an agent"));
        }
        packages.push(bytes);
    }
    if packages.is_empty() {
        return Err(bad(
            "the new agent has no device with key packages: they must enrol first",
        ));
    }
    let out = client.commit(&packages, &[])?;
    let commit = commit_and_send(dev, id, &mut client, out, &format!("transfer-{to}")).await?;
    dev.secrets.conversations[index].client = STANDARD.encode(client.save()?);
    dev.secrets.conversations[index].own_commits.push(commit);
    dev.save()?;
    dev.http
        .transfer(
            tenant,
            id,
            &sealdesk_proto::conversations::TransferRequest {
                agent: Some(to),
                team: None,
                carry: None,
            },
        )
        .await
        .map_err(fail)?;
    output::line(&format!(
        "{id} transferred; the new agent's devices were added"
    ));
    Ok(())
}

/// Moves the conversation to another team's queue (docs/e2ee.md, "Transfer to another
/// team"). This device stays in the group until the new assignee's client removes it (MLS
/// lets no member remove itself); the server stops serving this person the log at once. The
/// new team's assignee re-keys the History Member to one of their team (`agent rekey`).
pub(crate) async fn transfer_to_team(
    dev: &mut Opened,
    id: ConversationId,
    team: TeamId,
) -> anyhow::Result<()> {
    read(dev, id).await?;
    // The new team's key opens neither the earlier History Member bundles nor the notes:
    // carry them over re-sealed, while this device still reads them.
    let (carry, skipped) = super::carry::copies(dev, id, team).await?;
    let (bundles, notes) = (carry.bundles.len(), carry.notes.len());
    dev.http
        .transfer(
            dev.profile.tenant_id,
            id,
            &sealdesk_proto::conversations::TransferRequest {
                agent: None,
                team: Some(team),
                carry: Some(carry),
            },
        )
        .await
        .map_err(fail)?;
    if skipped > 0 {
        output::line(&format!(
            "{skipped} History Member bundle(s) or note(s) do not open on this device: not \
             carried over"
        ));
    }
    output::line(&format!(
        "{id} transferred to team {team} with {bundles} History Member bundle(s) and {notes} \
         note(s) carried over; whoever takes it there re-keys its History Member \
         (`sealdesk agent rekey`)"
    ));
    Ok(())
}

/// Joins a colleague's conversation as a supervisor; the assignee's client then adds this
/// device, and `read` joins from that Welcome.
pub(crate) async fn supervise(dev: &mut Opened, id: ConversationId) -> anyhow::Result<()> {
    dev.chain()?;
    let available = dev.refill_key_packages().await?;
    dev.http
        .join(dev.profile.tenant_id, id)
        .await
        .map_err(fail)?;
    output::line(&format!(
        "joined {id} as a supervisor ({available} key packages ready); the assignee's client adds \
         this device, then: sealdesk agent read --conversation {id}"
    ));
    Ok(())
}
