//! Team and archive key announcements (E2EE.md §3). The server keeps the public halves so
//! that every team member's console can seal History Member bundles to them; it checks each
//! announcement against the tenant's root keys (defence in depth: clients verify it again
//! against the root they pin) and keeps versions in sequence.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sealdesk_core::access::Principal;
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::KeyKind;
use sealdesk_proto::TeamId;
use sealdesk_store::{Constraint, KeyScope, SealingKey, StoreError};

use super::audit;
use super::key_packages::anchor_of;
use crate::error::ApiError;
use crate::state::AppState;

/// Largest announcement accepted (an issuing certificate is under 300 bytes).
pub const MAX_ANNOUNCEMENT: usize = 1024;
/// How far an announcement's creation time may be from the server's clock. The issuing
/// certificate is checked at that time, so without this bound a leaked issuing key could
/// backdate announcements into its old validity.
pub const MAX_CLOCK_SKEW_SECS: u64 = 86_400;

/// Verifies and stores the next version of a team or archive key.
pub async fn publish(
    state: &AppState,
    principal: Principal,
    announcement: &str,
) -> Result<SealingKey, ApiError> {
    let bytes = STANDARD
        .decode(announcement)
        .map_err(|_| ApiError::BadRequest("the announcement is not base64".into()))?;
    if bytes.len() > MAX_ANNOUNCEMENT {
        return Err(ApiError::BadRequest(format!(
            "an announcement is at most {MAX_ANNOUNCEMENT} bytes"
        )));
    }
    let anchor = anchor_of(state, principal.tenant).await?;
    let verified = Announcement::verify(&bytes, &anchor)
        .map_err(|e| ApiError::MlsRejected(format!("key announcement: {e}")))?;
    let now = u64::try_from(state.clock().now().unix_timestamp()).unwrap_or(0);
    if verified.created.abs_diff(now) > MAX_CLOCK_SKEW_SECS {
        return Err(ApiError::MlsRejected(
            "the announcement's creation time is more than a day from now".into(),
        ));
    }
    let scope = match verified.kind {
        KeyKind::Archive => KeyScope::Archive,
        KeyKind::Team => KeyScope::Team(TeamId::from_uuid(uuid::Uuid::from_bytes(verified.team))),
    };
    let key = SealingKey {
        scope,
        version: verified.version,
        public_key: verified.public,
        announcement: Bytes::from(bytes),
        created_at: state.clock().now(),
    };
    state
        .store()
        .add_sealing_key(principal.tenant, &key)
        .await
        .map_err(|e| match e {
            StoreError::Conflict {
                constraint: Constraint::KeyVersion,
            } => ApiError::Conflict(
                "not the next version of this key (fetch the list and announce the next one)"
                    .into(),
            ),
            other => other.into(),
        })?;
    audit::event(
        state,
        AuditAction::KeyOperation,
        Actor::Staff(principal.staff),
    )
    .tenant(principal.tenant)
    .detail(
        "operation",
        match verified.kind {
            KeyKind::Team => "team_key_announced",
            KeyKind::Archive => "archive_key_announced",
        },
    )
    .detail("version", verified.version.to_string())
    .detail(
        "fingerprint",
        hex::encode(sealdesk_crypto::passphrase::sha256(&verified.public)),
    )
    .record(state)
    .await;
    Ok(key)
}
