//! Copies a transfer to another team carries over (docs/e2ee.md, "Transfer to another
//! team"): the transferring agent's client re-seals each earlier History Member bundle
//! (`SDB1`) and each internal note (`SDT1`) to the new team's newest announced key and the
//! archive key, and the server stores them with the transfer.
//!
//! The server cannot open them. It checks what it can read, the cleartext headers: this
//! tenant, the new team, sealed to exactly the new team's newest key (version and public key)
//! and the tenant's newest archive key, of bounded size, one copy per original of this
//! conversation. Readers do the rest: the seal, the re-sealer's chain at the stored time, and
//! (for a bundle) that the secrets match the generation's key package, so a re-sealer cannot
//! substitute another History Member (OWASP ASVS v5.0.0-11.2.2: the server never decrypts).

use std::collections::BTreeSet;

use bytes::Bytes;
use sealdesk_core::ValidationError;
use sealdesk_core::access::Principal;
use sealdesk_core::domain::Conversation;
use sealdesk_mls::bundle::{self, KeyKind, Recipient};
use sealdesk_mls::teamseal::{self, ContentKind};
use sealdesk_proto::{ConversationId, TeamId, TenantId};
use sealdesk_store::{Carried, CarriedBundle, CarriedNote, CarryOver, KeyScope, SealingKey};

use super::key_packages::MAX_SEALED_BUNDLE;
use crate::error::ApiError;
use crate::state::AppState;

/// At most this many copies of each kind in one transfer.
pub const MAX_COPIES: usize = 500;

/// What the client sent, decoded from base64.
#[derive(Debug, Default, Clone)]
pub struct CarryRequest {
    /// (generation, re-sealed `SDB1`).
    pub bundles: Vec<(u32, Vec<u8>)>,
    /// (note seq, re-sealed `SDT1`).
    pub notes: Vec<(u64, Vec<u8>)>,
}

fn invalid(why: impl Into<String>) -> ApiError {
    ValidationError::new("carry", why).into()
}

/// The new team's newest key and the tenant's newest archive key, if announced.
async fn newest_keys(
    state: &AppState,
    tenant: TenantId,
    team: TeamId,
) -> Result<(SealingKey, Option<SealingKey>), ApiError> {
    let keys = state.store().sealing_keys(tenant).await?;
    let newest = |scope: KeyScope| {
        keys.iter()
            .filter(|k| k.scope == scope)
            .max_by_key(|k| k.version)
            .cloned()
    };
    let team_key = newest(KeyScope::Team(team))
        .ok_or_else(|| ApiError::Conflict("the new team has no announced key yet".into()))?;
    Ok((team_key, newest(KeyScope::Archive)))
}

/// Sealed to exactly the team's newest key and the archive's newest one (when announced).
fn sealed_to_newest(
    seals: &[Recipient],
    team_key: &SealingKey,
    archive: Option<&SealingKey>,
) -> Result<(), ApiError> {
    let is = |r: &Recipient, kind: KeyKind, k: &SealingKey| {
        r.kind == kind && r.key_version == k.version && r.public == k.public_key
    };
    let to_team = seals
        .iter()
        .filter(|r| is(r, KeyKind::Team, team_key))
        .count();
    let to_archive = archive.map_or(0, |a| {
        seals.iter().filter(|r| is(r, KeyKind::Archive, a)).count()
    });
    if to_team != 1
        || to_archive != usize::from(archive.is_some())
        || seals.len() != to_team + to_archive
    {
        return Err(ApiError::Conflict(format!(
            "seal each copy to the new team's newest key (version {}) and the archive's \
             newest key only",
            team_key.version
        )));
    }
    Ok(())
}

/// Checks a carry-over for a transfer of `conversation` to `team` by `principal`, and
/// returns what the store keeps. `invalid` (field `carry`) for a malformed copy, another
/// tenant's or team's, one that is too large, repeated, or of an original the conversation
/// does not have; `conflict` when not sealed to the newest keys.
pub async fn checked(
    state: &AppState,
    principal: &Principal,
    conversation: &Conversation,
    team: TeamId,
    request: CarryRequest,
) -> Result<CarryOver, ApiError> {
    if team == conversation.team_id {
        return Err(invalid("only a transfer to another team carries copies"));
    }
    if request.bundles.len() > MAX_COPIES || request.notes.len() > MAX_COPIES {
        return Err(invalid(format!("at most {MAX_COPIES} copies of each kind")));
    }
    let tenant = principal.tenant;
    let (tenant_bytes, team_bytes) = (*tenant.as_uuid().as_bytes(), *team.as_uuid().as_bytes());
    let (team_key, archive) = newest_keys(state, tenant, team).await?;
    let store = state.store();
    let generations: BTreeSet<u32> = store
        .conversation_history_members(tenant, conversation.id)
        .await?
        .iter()
        .map(|m| m.generation)
        .collect();
    let seqs: BTreeSet<u64> = store
        .list_notes(tenant, conversation.id)
        .await?
        .iter()
        .map(|n| n.seq)
        .collect();

    let mut seen = BTreeSet::new();
    let mut bundles = Vec::with_capacity(request.bundles.len());
    for (generation, sealed) in request.bundles {
        if !generations.contains(&generation) || !seen.insert(generation) {
            return Err(invalid(format!(
                "generation {generation}: not one of the conversation's, or repeated"
            )));
        }
        if sealed.is_empty() || sealed.len() > MAX_SEALED_BUNDLE {
            return Err(invalid(format!(
                "generation {generation}: a bundle is 1 to {MAX_SEALED_BUNDLE} bytes"
            )));
        }
        let envelope = bundle::parse(&sealed)
            .map_err(|_| invalid(format!("generation {generation}: not a bundle (SDB1)")))?;
        if envelope.tenant != tenant_bytes || envelope.team != team_bytes {
            return Err(invalid(format!(
                "generation {generation}: the bundle must name this tenant and the new team"
            )));
        }
        let seals: Vec<Recipient> = envelope.seals.iter().map(|(r, _)| *r).collect();
        sealed_to_newest(&seals, &team_key, archive.as_ref())?;
        bundles.push(CarriedBundle {
            generation,
            sealed_bundle: Bytes::from(sealed),
            team_key_version: team_key.version,
        });
    }

    let max = state.config().chat.max_payload_bytes;
    let mut seen = BTreeSet::new();
    let mut notes = Vec::with_capacity(request.notes.len());
    for (seq, payload) in request.notes {
        if !seqs.contains(&seq) || !seen.insert(seq) {
            return Err(invalid(format!(
                "note {seq}: not one of the conversation's, or repeated"
            )));
        }
        if payload.is_empty() || payload.len() > max {
            return Err(invalid(format!("note {seq}: a note is 1 to {max} bytes")));
        }
        let envelope = teamseal::parse(&payload)
            .map_err(|_| invalid(format!("note {seq}: not a team-sealed object (SDT1)")))?;
        if envelope.kind != ContentKind::Note
            || envelope.tenant != tenant_bytes
            || envelope.team != team_bytes
        {
            return Err(invalid(format!(
                "note {seq}: must be a note of this tenant and the new team"
            )));
        }
        let seals: Vec<Recipient> = envelope.seals.iter().map(|(r, _)| *r).collect();
        sealed_to_newest(&seals, &team_key, archive.as_ref())?;
        notes.push(CarriedNote {
            seq,
            payload: Bytes::from(payload),
        });
    }
    Ok(CarryOver {
        team,
        resealed_by: principal.staff,
        bundles,
        notes,
    })
}

/// The conversation's carried bundles (the caller checked that the reader may read it).
pub async fn bundles(
    state: &AppState,
    tenant: TenantId,
    id: ConversationId,
) -> Result<Vec<Carried<CarriedBundle>>, ApiError> {
    Ok(state.store().carried_bundles(tenant, id).await?)
}
