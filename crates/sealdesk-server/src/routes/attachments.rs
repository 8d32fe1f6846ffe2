//! Attachment endpoints: upload (raw `application/octet-stream` body, streamed to disk under
//! `chat.attachment_max_bytes`) and download by SHA-256, for visitors (ticket) and staff.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;
use sealdesk_core::access::Action;
use sealdesk_proto::content::AttachmentRef;
use sealdesk_proto::{ConversationId, TenantId};
use tokio::io::AsyncReadExt;

use crate::app::attachments::{self, Stored};
use crate::app::conversations::Caller;
use crate::auth::Auth;
use crate::auth::extract::TenantScope;
use crate::error::ApiError;
use crate::routes::visitors::VisitorAuth;
use crate::state::AppState;

/// The upload routes. The edge's `server.body_limit_bytes` does not apply to them
/// (`middleware::limit_body`): they enforce `chat.attachment_max_bytes` while streaming.
pub const UPLOAD_PATHS: [&str; 2] = [
    "/api/visitor/conversations/{id}/attachments",
    "/api/tenants/{tenant}/conversations/{id}/attachments",
];

/// Read size of a download.
const CHUNK: usize = 64 * 1024;

/// Refuses a body that is not declared as opaque bytes (415), so a form post or a JSON body
/// sent here by mistake is never stored.
fn require_octet_stream(headers: &HeaderMap) -> Result<(), ApiError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/octet-stream"));
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType("application/octet-stream"))
    }
}

/// The request's declared body length, if it has a valid `Content-Length`.
pub(crate) fn declared_len(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn upload(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
    headers: &HeaderMap,
    body: Body,
) -> Result<Json<AttachmentRef>, ApiError> {
    require_octet_stream(headers)?;
    let stored = attachments::upload(
        state,
        caller,
        id,
        declared_len(headers),
        body.into_data_stream(),
    )
    .await?;
    Ok(Json(view(stored)))
}

fn view(stored: Stored) -> AttachmentRef {
    AttachmentRef {
        sha256: hex::encode(stored.sha256),
        size: stored.size,
    }
}

/// The file as a streamed response: opaque bytes, to be saved, never rendered by a browser
/// (`Content-Disposition: attachment` with a server-chosen name, OWASP ASVS v5.0.0-5.4.1;
/// `nosniff` and the default CSP come from the edge).
async fn download(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
    sha256: &str,
) -> Result<Response, ApiError> {
    let digest = attachments::parse_sha256(sha256)?;
    let (file, len) = attachments::open(state, caller, id, &digest).await?;
    let mut response = Body::from_stream(read_chunks(file)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    // The name is the hex digest: server-chosen, nothing to escape (5.4.2).
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.bin\"",
        hex::encode(digest)
    )) {
        h.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

fn read_chunks(file: tokio::fs::File) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0u8; CHUNK];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), file)))
    })
}

/// Uploads an attachment (client-encrypted bytes) to one of the visitor's conversations.
#[utoipa::path(post, path = "/api/visitor/conversations/{id}/attachments", tag = "widget",
    security(("bearer" = [])),
    params(("id" = ConversationId, Path, description = "Conversation id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The encrypted blob, at most `chat.attachment_max_bytes` (default 10 MiB)"),
    responses((status = 200, description = "Stored under its SHA-256", body = AttachmentRef),
        (status = 404, description = "Not one of the visitor's conversations", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "The conversation is closed", body = sealdesk_proto::ErrorBody),
        (status = 413, description = "Larger than the limit", body = sealdesk_proto::ErrorBody),
        (status = 415, description = "Not application/octet-stream", body = sealdesk_proto::ErrorBody)))]
pub async fn visitor_upload(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    Path(id): Path<ConversationId>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<AttachmentRef>, ApiError> {
    upload(&state, &visitor.caller(), id, &headers, body).await
}

/// Downloads an attachment of one of the visitor's conversations.
#[utoipa::path(get, path = "/api/visitor/conversations/{id}/attachments/{sha256}", tag = "widget",
    security(("bearer" = [])),
    params(("id" = ConversationId, Path, description = "Conversation id"),
        ("sha256" = String, Path, description = "SHA-256 of the blob, 64 hex digits")),
    responses((status = 200, description = "The blob", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 404, description = "No such attachment in this conversation", body = sealdesk_proto::ErrorBody)))]
pub async fn visitor_download(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    Path((id, sha256)): Path<(ConversationId, String)>,
) -> Result<Response, ApiError> {
    download(&state, &visitor.caller(), id, &sha256).await
}

/// Uploads an attachment (client-encrypted bytes) to a conversation the caller may write to.
#[utoipa::path(post, path = "/api/tenants/{tenant}/conversations/{id}/attachments", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The encrypted blob, at most `chat.attachment_max_bytes` (default 10 MiB)"),
    responses((status = 200, description = "Stored under its SHA-256", body = AttachmentRef),
        (status = 403, description = "May read but not write the conversation", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "No such conversation for the caller", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "The conversation is closed", body = sealdesk_proto::ErrorBody),
        (status = 413, description = "Larger than the limit", body = sealdesk_proto::ErrorBody),
        (status = 415, description = "Not application/octet-stream", body = sealdesk_proto::ErrorBody)))]
pub async fn staff_upload(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<AttachmentRef>, ApiError> {
    let caller = staff_caller(&state, &auth, tenant).await?;
    upload(&state, &caller, id, &headers, body).await
}

/// Downloads an attachment of a conversation the caller may read.
#[utoipa::path(get, path = "/api/tenants/{tenant}/conversations/{id}/attachments/{sha256}", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id"),
        ("sha256" = String, Path, description = "SHA-256 of the blob, 64 hex digits")),
    responses((status = 200, description = "The blob", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 404, description = "No such attachment in this conversation for the caller", body = sealdesk_proto::ErrorBody)))]
pub async fn staff_download(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id, sha256)): Path<(TenantId, ConversationId, String)>,
) -> Result<Response, ApiError> {
    let caller = staff_caller(&state, &auth, tenant).await?;
    download(&state, &caller, id, &sha256).await
}

async fn staff_caller(state: &AppState, auth: &Auth, tenant: TenantId) -> Result<Caller, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    Caller::staff(state, auth.principal).await
}
