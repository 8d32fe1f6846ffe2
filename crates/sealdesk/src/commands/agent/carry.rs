//! Carrying a conversation's earlier history and notes over to another team at a transfer
//! (docs/e2ee.md, "Transfer to another team"), and reading what was carried.
//!
//! The transferring agent's device, which still reads the conversation and holds its team's
//! key, opens each History Member bundle and each note and re-seals them to the new team's
//! newest key and the archive key (each verified under the pinned root), signed by itself. A
//! note becomes plaintext version 2, naming its original author. The new team's readers fall
//! back to these copies when their key opens no original: a bundle copy counts only if its
//! secrets are for the generation's own key package (its reference, RFC 9420 §5.2, is what
//! the log's commit added), so a re-sealer cannot substitute another member; a note copy
//! shows its author as the re-sealer names them, verified at the recorded time, and who
//! re-sealed it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_mls::KeyPackageSecrets;
use sealdesk_mls::bundle::seal_bundle;
use sealdesk_mls::teamseal::{self, Note, Opened as Sealed, Origin};
use sealdesk_proto::content::NoteView;
use sealdesk_proto::conversations::{CarriedBundleUpload, CarriedNoteUpload, CarryOverUpload};
use sealdesk_proto::keys::{HistoryGenerationView, HistoryMemberState};
use sealdesk_proto::{ConversationId, TeamId};

use sealdesk_mls::certs::Role;

use super::chat::{open_with_team_keys, printable};
use super::content::{by, open_with, recipients};
use super::device::{Opened, now};
use crate::commands::session::fail;
use crate::exit::{DATA_ERR, Failure};

fn bad(message: impl Into<String>) -> anyhow::Error {
    Failure::new(DATA_ERR, message).into()
}

/// A generation's History Member secrets: its own bundle opened with this device's team
/// keys, else a copy carried over to this device's team whose secrets are for the
/// generation's key package. `None` when nothing opens.
pub(crate) fn generation_secrets(
    dev: &Opened,
    member: &HistoryGenerationView,
) -> anyhow::Result<Option<KeyPackageSecrets>> {
    if let Some(s) = open_with_team_keys(dev, &member.sealed_bundle, now())? {
        return Ok(Some(s));
    }
    let key_package = STANDARD
        .decode(&member.key_package)
        .map_err(|_| bad("a key package is not base64"))?;
    for copy in &member.carried {
        let at = u64::try_from(copy.at / 1000).unwrap_or(0);
        if let Some(s) = open_with_team_keys(dev, &copy.sealed_bundle, at)?
            && s.key_package == key_package
        {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// A note opened with this device's team keys: the original, else a copy carried over to
/// this device's team. `None` when it holds none of their keys.
pub(crate) fn open_note(
    dev: &Opened,
    n: &NoteView,
    conversation: [u8; 16],
) -> anyhow::Result<Option<Result<Sealed<Note>, sealdesk_mls::MlsError>>> {
    let candidates =
        std::iter::once((n.p.as_str(), n.at)).chain(n.carried.iter().map(|c| (c.p.as_str(), c.at)));
    for (p, at_ms) in candidates {
        let bytes = STANDARD
            .decode(p)
            .map_err(|_| bad("a note is not base64"))?;
        let at = u64::try_from(at_ms / 1000).unwrap_or(0);
        if let Some(opened) = open_with(dev, &bytes, |key| {
            teamseal::open_note(&bytes, conversation, key, &dev.anchor, at)
        })? {
            return Ok(Some(opened));
        }
    }
    Ok(None)
}

fn role(author: &teamseal::Author) -> &'static str {
    match author.certificate.role {
        Role::Supervisor => "supervisor",
        _ => "agent",
    }
}

/// Who a note is by: "Jane D. (agent, verified)", or for a note carried over "Ann D.
/// (agent) · carried over by Max M. (verified)" (the re-sealer's seal vouches for the text
/// and the author it names). An error when the author a carried note names does not verify.
pub(crate) fn author_line(
    dev: &Opened,
    opened: &Sealed<Note>,
) -> Result<String, sealdesk_mls::MlsError> {
    match teamseal::carried_author(&opened.content, &dev.anchor) {
        None => Ok(by(&opened.author)),
        Some(original) => {
            let original = original?;
            Ok(format!(
                "{} ({}) · carried over by {} (verified)",
                printable(&original.certificate.label),
                role(&original),
                printable(&opened.author.certificate.label)
            ))
        }
    }
}

/// The copies a transfer of `id` to `team` carries: every retired and active generation's
/// bundle and every note this device opens, re-sealed to `team`'s newest key and the archive
/// key, and how many it could not open (those stay unread for the new team; the transfer is
/// not held up by a key version this device was never given).
pub(crate) async fn copies(
    dev: &Opened,
    id: ConversationId,
    team: TeamId,
) -> anyhow::Result<(CarryOverUpload, usize)> {
    let chain = dev.chain()?;
    let signer = dev.signer()?;
    let tenant = dev.profile.tenant_id;
    let (tenant_bytes, team_bytes) = (*tenant.as_uuid().as_bytes(), *team.as_uuid().as_bytes());
    let to = recipients(dev, team, true).await?;
    let member = dev.http.history_member(tenant, id).await.map_err(fail)?;
    let (mut bundles, mut skipped) = (Vec::new(), 0);
    for m in &member.members {
        if matches!(
            m.state,
            HistoryMemberState::Abandoned | HistoryMemberState::Pending
        ) {
            continue;
        }
        let Some(secrets) = generation_secrets(dev, m)? else {
            skipped += 1;
            continue;
        };
        let sealed = seal_bundle(&secrets, tenant_bytes, team_bytes, chain, &to, &signer)?;
        bundles.push(CarriedBundleUpload {
            generation: m.generation,
            sealed_bundle: STANDARD.encode(sealed),
        });
    }
    let conversation = *id.as_uuid().as_bytes();
    let list = dev.http.notes(tenant, id).await.map_err(fail)?;
    let mut notes = Vec::new();
    for n in &list.notes {
        // A note that does not verify is not vouched for by this device either.
        let Some(Ok(opened)) = open_note(dev, n, conversation)? else {
            skipped += 1;
            continue;
        };
        // The original author: the note's own sealer, or whom an earlier carry named.
        let mut note = opened.content;
        if note.carried_from.is_none() {
            let bytes = STANDARD
                .decode(&n.p)
                .map_err(|_| bad("a note is not base64"))?;
            note.carried_from = Some(Origin {
                chain: teamseal::parse(&bytes)?.chain.to_vec(),
                recorded_ms: u64::try_from(n.at).unwrap_or(0),
            });
        }
        let sealed = teamseal::seal_note(&note, tenant_bytes, team_bytes, chain, &to, &signer)?;
        notes.push(CarriedNoteUpload {
            seq: n.seq,
            p: STANDARD.encode(sealed),
        });
    }
    Ok((CarryOverUpload { bundles, notes }, skipped))
}
