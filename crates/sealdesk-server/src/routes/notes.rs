//! Staff-only endpoints for internal notes on a conversation and a team's canned responses.
//! Payloads are opaque (standard base64 in JSON). There is no visitor route to either.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_core::ValidationError;
use sealdesk_core::access::Action;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::content::{
    CannedResponseList, CannedResponseView, CarriedNoteView, NewPayload, NoteList, NoteView,
    ReplaceCannedResponse,
};
use sealdesk_proto::{CannedResponseId, ConversationId, TeamId, TenantId};
use sealdesk_store::{CannedResponse, Carried, CarriedNote, Note};

use crate::app::notes;
use crate::auth::Auth;
use crate::auth::extract::TenantScope;
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

fn decode(p: &str) -> Result<Vec<u8>, ApiError> {
    STANDARD
        .decode(p)
        .map_err(|_| ValidationError::new("p", "must be standard base64").into())
}

fn note_view(n: &Note) -> NoteView {
    note_view_with(n, &[])
}

/// A note with its copies carried over to other teams.
fn note_view_with(n: &Note, carried: &[Carried<CarriedNote>]) -> NoteView {
    NoteView {
        carried: carried
            .iter()
            .filter(|c| c.copy.seq == n.seq)
            .map(|c| CarriedNoteView {
                team_id: c.team,
                resealed_by: c.resealed_by,
                at: to_unix_ms(c.carried_at),
                p: STANDARD.encode(&c.copy.payload),
            })
            .collect(),
        conversation_id: n.conversation_id,
        seq: n.seq,
        author: n.author,
        at: to_unix_ms(n.created_at),
        p: STANDARD.encode(&n.payload),
    }
}

fn canned_view(c: &CannedResponse) -> CannedResponseView {
    CannedResponseView {
        id: c.id,
        team_id: c.team_id,
        created_by: c.created_by,
        created_at: c.created_at,
        p: STANDARD.encode(&c.payload),
    }
}

/// A conversation's internal notes (staff who may read the conversation).
#[utoipa::path(get, path = "/api/tenants/{tenant}/conversations/{id}/notes", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "Oldest first, each with its copies carried over to other teams", body = NoteList),
        (status = 404, description = "No such conversation for the caller", body = sealdesk_proto::ErrorBody)))]
pub async fn list_notes(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
) -> Result<Json<NoteList>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    let (found, carried) = notes::list_notes(&state, auth.principal, id).await?;
    Ok(Json(NoteList {
        notes: found.iter().map(|n| note_view_with(n, &carried)).collect(),
    }))
}

/// Adds an internal note (never shown to the visitor).
#[utoipa::path(post, path = "/api/tenants/{tenant}/conversations/{id}/notes", tag = "conversations",
    request_body = NewPayload,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "Added", body = NoteView),
        (status = 404, description = "No such conversation for the caller", body = sealdesk_proto::ErrorBody),
        (status = 413, description = "Payload larger than `chat.max_payload_bytes`", body = sealdesk_proto::ErrorBody)))]
pub async fn add_note(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
    ApiJson(req): ApiJson<NewPayload>,
) -> Result<Json<NoteView>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    let payload = decode(&req.p)?;
    let note = notes::add_note(&state, auth.principal, id, payload).await?;
    Ok(Json(note_view(&note)))
}

/// A team's canned responses (its members, and supervisors and above).
#[utoipa::path(get, path = "/api/tenants/{tenant}/teams/{team}/canned-responses", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "Oldest first", body = CannedResponseList),
        (status = 404, description = "No such team for the caller", body = sealdesk_proto::ErrorBody)))]
pub async fn list_canned(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
) -> Result<Json<CannedResponseList>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    let found = notes::list_canned(&state, auth.principal, team).await?;
    Ok(Json(CannedResponseList {
        canned_responses: found.iter().map(canned_view).collect(),
    }))
}

/// Creates a canned response for a team (supervisors and above).
#[utoipa::path(post, path = "/api/tenants/{tenant}/teams/{team}/canned-responses", tag = "conversations",
    request_body = NewPayload,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "Created", body = CannedResponseView),
        (status = 403, description = "The role may not edit canned responses", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "No such team", body = sealdesk_proto::ErrorBody)))]
pub async fn create_canned(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
    ApiJson(req): ApiJson<NewPayload>,
) -> Result<Json<CannedResponseView>, ApiError> {
    auth.require(Action::ManageCannedResponses, tenant)?;
    let payload = decode(&req.p)?;
    let created = notes::create_canned(&state, auth.principal, team, payload).await?;
    Ok(Json(canned_view(&created)))
}

/// Replaces a canned response's sealed payload (supervisors and above): an edit, or a re-seal
/// to the team's newest key version after a rotation. Compare-and-swap on the payload the
/// client read (its SHA-256) and its key version.
#[utoipa::path(put, path = "/api/tenants/{tenant}/teams/{team}/canned-responses/{id}", tag = "conversations",
    request_body = ReplaceCannedResponse,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id"),
        ("id" = CannedResponseId, Path, description = "Canned response id")),
    responses((status = 200, description = "Replaced", body = CannedResponseView),
        (status = 400, description = "Not an SDT1 canned response of this tenant and team", body = sealdesk_proto::ErrorBody),
        (status = 403, description = "The role may not edit canned responses", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "No such canned response in the team", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "Changed since it was read, or not sealed to the team's newest key only", body = sealdesk_proto::ErrorBody),
        (status = 413, description = "Payload larger than `chat.max_payload_bytes`", body = sealdesk_proto::ErrorBody)))]
pub async fn replace_canned(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team, id)): Path<(TenantId, TeamId, CannedResponseId)>,
    ApiJson(req): ApiJson<ReplaceCannedResponse>,
) -> Result<Json<CannedResponseView>, ApiError> {
    auth.require(Action::ManageCannedResponses, tenant)?;
    let payload = decode(&req.p)?;
    let read = STANDARD
        .decode(&req.read_sha256)
        .ok()
        .and_then(|d| <[u8; 32]>::try_from(d).ok())
        .ok_or_else(|| ValidationError::new("read_sha256", "must be a base64 SHA-256 digest"))
        .map_err(ApiError::from)?;
    let replaced = notes::replace_canned(
        &state,
        auth.principal,
        team,
        id,
        (req.key_version, read),
        payload,
    )
    .await?;
    Ok(Json(canned_view(&replaced)))
}

/// Deletes a canned response of a team (supervisors and above).
#[utoipa::path(delete, path = "/api/tenants/{tenant}/teams/{team}/canned-responses/{id}", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id"),
        ("id" = CannedResponseId, Path, description = "Canned response id")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "The role may not edit canned responses", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "No such canned response in the team", body = sealdesk_proto::ErrorBody)))]
pub async fn delete_canned(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team, id)): Path<(TenantId, TeamId, CannedResponseId)>,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::ManageCannedResponses, tenant)?;
    notes::delete_canned(&state, auth.principal, team, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
