//! Staff-only content: internal notes on a conversation and a team's canned responses. Both
//! are opaque payloads (clients encrypt them); visitors never reach either.
//!
//! Who may do what:
//! - notes: staff who may read the conversation (`conversations::readable`) read and add
//!   them; everyone else gets `NotFound`;
//! - canned responses: members of the team and supervisors and above read them; staff with
//!   `ManageCannedResponses` (supervisors and above) create and delete them. Another team's
//!   list is `NotFound` for an agent outside it (OWASP ASVS v5.0.0-8.2.1, 8.2.2).

use bytes::Bytes;
use sealdesk_core::ValidationError;
use sealdesk_core::access::{Action, Principal, allowed};
use sealdesk_core::ids::IdGenerator;
use sealdesk_proto::{CannedResponseId, ConversationId, TeamId};
use sealdesk_store::{CannedResponse, Note};

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

/// The notes of a conversation the staff member may read, oldest first.
pub async fn list_notes(
    state: &AppState,
    principal: Principal,
    id: ConversationId,
) -> Result<Vec<Note>, ApiError> {
    let caller = Caller::staff(state, principal).await?;
    conversations::readable(state, &caller, id).await?;
    Ok(state.store().list_notes(principal.tenant, id).await?)
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
