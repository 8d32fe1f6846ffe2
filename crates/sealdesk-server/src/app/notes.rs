//! Staff-only content: internal notes on a conversation and a team's canned responses. Both
//! are opaque payloads (clients encrypt them); visitors never reach either.
//!
//! Who may do what:
//! - notes: staff who may read the conversation (`conversations::readable`) read and add
//!   them; everyone else gets `NotFound`;
//! - canned responses: members of the team and supervisors and above read them; staff with
//!   `ManageCannedResponses` (supervisors and above) create, replace and delete them. Another
//!   team's list is `NotFound` for an agent outside it (OWASP ASVS v5.0.0-8.2.1, 8.2.2).
//!
//! Replacing one (an edit, or a re-seal to the team's newest key after a rotation) is a
//! compare-and-swap: the client names the key version it read, and the store swaps the payload
//! only if it is still the one the server compared (a lost race is `conflict`, so two
//! consoles re-sealing at once cannot undo each other). The server cannot open the payload;
//! it checks the `SDT1` header only: a canned response of this tenant and team, sealed to the
//! team's newest announced key and to nothing else (`docs/e2ee.md`).

use bytes::Bytes;
use sealdesk_core::ValidationError;
use sealdesk_core::access::{Action, Principal, allowed};
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_core::ids::IdGenerator;
use sealdesk_mls::bundle::KeyKind;
use sealdesk_mls::teamseal::{self, ContentKind};
use sealdesk_proto::{CannedResponseId, ConversationId, TeamId};
use sealdesk_store::{CannedResponse, Carried, CarriedNote, KeyScope, Note};
use sha2::{Digest as _, Sha256};

use crate::app::audit;
use crate::app::conversations::{self, Caller};
use crate::error::ApiError;
use crate::state::AppState;

/// Checks an opaque payload: not empty, at most `chat.max_payload_bytes`.
fn checked_payload(state: &AppState, payload: Vec<u8>) -> Result<Bytes, ApiError> {
    let max = state.config().chat.max_payload_bytes;
    if payload.is_empty() {
        return Err(ValidationError::new("p", "must not be empty").into());
    }
    if payload.len() > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "a payload may have at most {max} bytes"
        )));
    }
    Ok(Bytes::from(payload))
}

/// The notes of a conversation the staff member may read, oldest first, and the copies
/// carried over to other teams at transfers (`super::carry`).
pub async fn list_notes(
    state: &AppState,
    principal: Principal,
    id: ConversationId,
) -> Result<(Vec<Note>, Vec<Carried<CarriedNote>>), ApiError> {
    let caller = Caller::staff(state, principal).await?;
    conversations::readable(state, &caller, id).await?;
    let store = state.store();
    Ok((
        store.list_notes(principal.tenant, id).await?,
        store.carried_notes(principal.tenant, id).await?,
    ))
}

/// Adds a note to a conversation the staff member may read (closed ones included: a note
/// after the fact is still useful to colleagues).
pub async fn add_note(
    state: &AppState,
    principal: Principal,
    id: ConversationId,
    payload: Vec<u8>,
) -> Result<Note, ApiError> {
    let caller = Caller::staff(state, principal).await?;
    conversations::readable(state, &caller, id).await?;
    let payload = checked_payload(state, payload)?;
    Ok(state
        .store()
        .add_note(
            principal.tenant,
            id,
            principal.staff,
            &payload,
            state.clock().now(),
        )
        .await?)
}

/// Whether the staff member may read the team's canned responses: a member, or a
/// supervisor and above. `NotFound` for a team that is not the tenant's, or one the caller
/// may not see.
async fn may_read_team(
    state: &AppState,
    principal: Principal,
    team: TeamId,
) -> Result<(), ApiError> {
    let store = state.store();
    store.get_team(principal.tenant, team).await?;
    if allowed(principal.role, Action::SuperviseConversations) {
        return Ok(());
    }
    let teams = store
        .teams_of_staff(principal.tenant, principal.staff)
        .await?;
    if teams.contains(&team) {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// A team's canned responses, oldest first.
pub async fn list_canned(
    state: &AppState,
    principal: Principal,
    team: TeamId,
) -> Result<Vec<CannedResponse>, ApiError> {
    may_read_team(state, principal, team).await?;
    Ok(state
        .store()
        .list_canned_responses(principal.tenant, team)
        .await?)
}

/// Creates a canned response (the caller checked `ManageCannedResponses`).
pub async fn create_canned(
    state: &AppState,
    principal: Principal,
    team: TeamId,
    payload: Vec<u8>,
) -> Result<CannedResponse, ApiError> {
    let payload = checked_payload(state, payload)?;
    let response = CannedResponse {
        id: IdGenerator::new(state.clock(), state.random()).canned_response(),
        tenant_id: principal.tenant,
        team_id: team,
        payload,
        created_by: principal.staff,
        created_at: state.clock().now(),
    };
    state.store().create_canned_response(&response).await?;
    Ok(response)
}

/// Deletes a canned response (the caller checked `ManageCannedResponses`); `NotFound` if
/// the team has no such response.
pub async fn delete_canned(
    state: &AppState,
    principal: Principal,
    team: TeamId,
    id: CannedResponseId,
) -> Result<(), ApiError> {
    if state
        .store()
        .delete_canned_response(principal.tenant, team, id)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// The team key version an `SDT1` canned response's cleartext header says it is sealed to
/// (the highest, if several). `None` for anything else.
pub fn canned_team_key_version(sealed: &[u8]) -> Option<u32> {
    let envelope = teamseal::parse(sealed).ok()?;
    if envelope.kind != ContentKind::Canned {
        return None;
    }
    envelope
        .seals
        .iter()
        .filter(|(r, _)| r.kind == KeyKind::Team)
        .map(|(r, _)| r.key_version)
        .max()
}

/// Checks a replacement's header: a canned response of the caller's tenant and `team`, sealed
/// to the team's newest announced key (version and public key) and to no other key. Returns
/// that version.
async fn check_sealed_to_newest(
    state: &AppState,
    principal: Principal,
    team: TeamId,
    payload: &[u8],
) -> Result<u32, ApiError> {
    let invalid = |why: &str| ApiError::from(ValidationError::new("p", why));
    let envelope =
        teamseal::parse(payload).map_err(|_| invalid("must be a team-sealed object (SDT1)"))?;
    if envelope.kind != ContentKind::Canned
        || envelope.tenant != *principal.tenant.as_uuid().as_bytes()
        || envelope.team != *team.as_uuid().as_bytes()
    {
        return Err(invalid("must be a canned response of this tenant and team"));
    }
    let newest = state
        .store()
        .sealing_keys(principal.tenant)
        .await?
        .into_iter()
        .filter(|k| k.scope == KeyScope::Team(team))
        .max_by_key(|k| k.version)
        .ok_or_else(|| ApiError::Conflict("the team has no key yet".into()))?;
    let to_newest = envelope.seals.iter().all(|(r, _)| {
        r.kind == KeyKind::Team && r.key_version == newest.version && r.public == newest.public_key
    });
    if envelope.seals.is_empty() || !to_newest {
        return Err(ApiError::Conflict(format!(
            "seal the canned response to the team's newest key (version {}) only",
            newest.version
        )));
    }
    Ok(newest.version)
}

/// Replaces a canned response's payload (the caller checked `ManageCannedResponses`) if its
/// stored payload is still sealed to `read_version`, and then only by swapping exactly the
/// payload compared here. The caller becomes the recorded author and now the recorded time:
/// readers check the new sealing device's certificate at that time.
pub async fn replace_canned(
    state: &AppState,
    principal: Principal,
    team: TeamId,
    id: CannedResponseId,
    (read_version, read_sha256): (u32, [u8; 32]),
    payload: Vec<u8>,
) -> Result<CannedResponse, ApiError> {
    let payload = checked_payload(state, payload)?;
    let stored = state
        .store()
        .list_canned_responses(principal.tenant, team)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(ApiError::NotFound)?;
    let changed = || {
        ApiError::Conflict(
            "the canned response has changed since it was read: fetch it again".into(),
        )
    };
    // What the client read must still be what is stored: the same bytes, not only the same
    // key version, or a second editor would silently overwrite the first one's edit.
    let from = canned_team_key_version(&stored.payload);
    if from != Some(read_version) || Sha256::digest(&stored.payload)[..] != read_sha256[..] {
        return Err(changed());
    }
    let to = check_sealed_to_newest(state, principal, team, &payload).await?;
    let replacement = CannedResponse {
        payload,
        created_by: principal.staff,
        created_at: state.clock().now(),
        ..stored.clone()
    };
    if !state
        .store()
        .replace_canned_response(&replacement, &stored.payload)
        .await?
    {
        return Err(changed());
    }
    // Content-free: ids and key versions only (OWASP ASVS v5.0.0-16.2.1, 16.2.5).
    audit::event(
        state,
        AuditAction::KeyOperation,
        Actor::Staff(principal.staff),
    )
    .tenant(principal.tenant)
    .target(format!("canned_response:{id}"))
    .detail("operation", "canned_response_replaced")
    .detail("team", team.to_string())
    .detail("from_version", read_version.to_string())
    .detail("to_version", to.to_string())
    .record(state)
    .await;
    Ok(replacement)
}
