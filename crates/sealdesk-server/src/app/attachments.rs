//! Attachment use cases: a participant with write access uploads a client-encrypted blob to a
//! conversation; anyone who may read the conversation downloads it by its SHA-256. A blob is
//! reachable only through a conversation that references it: the same bytes referenced by
//! another conversation (or tenant) are `NotFound` here (OWASP ASVS v5.0.0-8.2.2, no IDOR).

use bytes::Bytes;
use futures_util::Stream;
use sealdesk_core::ValidationError;
use sealdesk_core::auth::Digest;
use sealdesk_core::domain::{ConversationState, Party};
use sealdesk_proto::ConversationId;
use sealdesk_store::{Attachment, Uploader};

use crate::app::conversations::{self, Caller};
use crate::blobs::BlobError;
use crate::error::ApiError;
use crate::state::AppState;

/// A stored attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// SHA-256 of the bytes, computed by the server while receiving them.
    pub sha256: Digest,
    /// Size in bytes.
    pub size: u64,
}

/// Parses the `{sha256}` of a download path: exactly 64 hex digits.
pub fn parse_sha256(raw: &str) -> Result<Digest, ApiError> {
    let mut digest = [0u8; 32];
    if raw.len() != 64 || hex::decode_to_slice(raw, &mut digest).is_err() {
        return Err(ValidationError::new("sha256", "must be 64 hexadecimal digits").into());
    }
    Ok(digest)
}

/// Uploads `body` to a conversation the caller may write to (a closed one refuses it). The
/// caller's access is checked before a byte of the body is read; a body longer than
/// `chat.attachment_max_bytes` (declared or streamed) is refused with 413 and nothing is
/// kept. The blob is durable on disk before its reference is committed.
pub async fn upload<S, E>(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
    declared_len: Option<u64>,
    body: S,
) -> Result<Stored, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (conversation, access) = conversations::readable(state, caller, id).await?;
    if !access.write {
        return Err(ApiError::Forbidden);
    }
    if conversation.state == ConversationState::Closed {
        return Err(ApiError::ConversationClosed);
    }
    let max = state.config().chat.attachment_max_bytes;
    let too_large =
        || ApiError::PayloadTooLarge(format!("an attachment may have at most {max} bytes"));
    if declared_len.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let blobs = state.blobs();
    let received = blobs
        .receive(body, max, state.random())
        .await
        .map_err(|e| match e {
            BlobError::TooLarge { .. } => too_large(),
            BlobError::Empty => {
                ValidationError::new("body", "an attachment must not be empty").into()
            }
            BlobError::Body(m) => ApiError::BadRequest(m),
            BlobError::Io(e) => ApiError::Internal(e.into()),
        })?;
    let stored = Stored {
        sha256: received.sha256,
        size: received.size,
    };
    let attachment = Attachment {
        tenant_id: conversation.tenant_id,
        conversation_id: conversation.id,
        sha256: stored.sha256,
        size: stored.size,
        uploaded_by: match caller.party() {
            Party::Visitor(v) => Uploader::Visitor(v),
            Party::Staff(s) => Uploader::Staff(s),
            Party::System => return Err(ApiError::Forbidden),
        },
        created_at: state.clock().now(),
    };
    let _guard = blobs.lock(&stored.sha256).await;
    blobs
        .persist(received)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    if let Err(e) = state.store().add_attachment(&attachment).await {
        // The conversation was deleted meanwhile, or the store failed: do not leave a file
        // that nothing references (unless another conversation does).
        if let Ok(false) = state.store().blob_referenced(&stored.sha256).await
            && let Err(io) = blobs.remove(&stored.sha256).await
        {
            tracing::warn!(error = %io, "could not remove an unreferenced blob");
        }
        return Err(e.into());
    }
    Ok(stored)
}

/// Opens an attachment of a conversation the caller may read: the file and its size.
/// `NotFound` if the caller may not read the conversation or the conversation does not
/// reference the blob.
pub async fn open(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
    sha256: &Digest,
) -> Result<(tokio::fs::File, u64), ApiError> {
    conversations::readable(state, caller, id).await?;
    state
        .store()
        .get_attachment(caller.tenant(), id, sha256)
        .await?
        .ok_or(ApiError::NotFound)?;
    match state.blobs().open(sha256).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => {
            // Referenced but missing: the data directory lost a file (restored backup,
            // manual deletion). Say so in the log; the client sees a plain 404.
            tracing::error!(sha256 = %hex::encode(sha256), "a referenced attachment blob is missing");
            Err(ApiError::NotFound)
        }
        Err(e) => Err(ApiError::Internal(e.into())),
    }
}
