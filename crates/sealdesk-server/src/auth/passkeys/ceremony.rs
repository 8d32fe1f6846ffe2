//! WebAuthn ceremony state between the start and the finish request. webauthn-rs keeps the
//! challenge in a state value the server must hold (W3C WebAuthn Level 3 §13.4.3: challenges
//! are generated and checked by the server); Sealdesk stores it as a database row, not in one
//! node's memory, so several nodes behind a load balancer can serve one ceremony. The row is
//! taken atomically, so a challenge is answered once.

use sealdesk_proto::{StaffId, TenantId};
use sealdesk_store::{Ceremony, CeremonyKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::CEREMONY_TTL;
use crate::error::ApiError;
use crate::state::AppState;

/// Stores `state` for a new ceremony and returns its id.
pub async fn put<S: Serialize>(
    state: &AppState,
    tenant: TenantId,
    staff: Option<StaffId>,
    kind: CeremonyKind,
    ceremony_state: &S,
) -> Result<Uuid, ApiError> {
    let mut id = [0; 16];
    state.random().fill(&mut id);
    let id = uuid::Builder::from_random_bytes(id).into_uuid();
    let ttl = time::Duration::try_from(CEREMONY_TTL).unwrap_or(time::Duration::minutes(5));
    let now = state.clock().now();
    // Housekeeping on the way: ceremonies that were started and never finished would
    // otherwise pile up (login start needs no session). One indexed delete.
    state.store().purge_ceremonies(now).await?;
    let ceremony = Ceremony {
        id,
        tenant,
        staff,
        kind,
        state: serde_json::to_string(ceremony_state).map_err(|e| ApiError::Internal(e.into()))?,
        expires_at: now + ttl,
    };
    state.store().put_ceremony(&ceremony).await?;
    Ok(id)
}

/// Takes (single use) an unexpired ceremony of `kind`, with its decoded state.
pub async fn take<S: DeserializeOwned>(
    state: &AppState,
    id: Uuid,
    kind: CeremonyKind,
) -> Result<Option<(Ceremony, S)>, ApiError> {
    let Some(ceremony) = state
        .store()
        .take_ceremony(id, kind, state.clock().now())
        .await?
    else {
        return Ok(None);
    };
    let decoded =
        serde_json::from_str(&ceremony.state).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Some((ceremony, decoded)))
}

/// Serialises a webauthn-rs options value for the client.
pub fn options_json<T: Serialize>(options: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(options).map_err(|e| ApiError::Internal(e.into()))
}
