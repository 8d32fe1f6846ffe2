//! Identity tokens per inbox: the key settings (an HS256 secret the server generates and
//! keeps sealed by the master key, or the tenant's Ed25519 public key) and the verification
//! that turns a token into the verified visitor for that customer.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealdesk_core::ValidationError;
use sealdesk_core::domain::Team;
use sealdesk_crypto::identity_token::{self, IdentityKey};
use sealdesk_proto::conversations::{InboxIdentityRequest, InboxIdentityView};
use sealdesk_proto::{TeamId, TenantId};
use sealdesk_store::{IdentityKeyKind, InboxIdentity};

use crate::error::ApiError;
use crate::state::AppState;

/// The master-key purpose of sealed HS256 secrets (context: the team id).
pub const SEAL_PURPOSE: &str = "inbox-identity";
/// Bytes of a generated HS256 secret (RFC 7518 §3.2: at least the hash size).
const SECRET_BYTES: usize = 32;

/// The `aud` an inbox's identity tokens must carry: the team id.
pub fn audience(team: TeamId) -> String {
    team.to_string()
}

/// The view of an inbox's settings (never the secret).
pub fn view(team: TeamId, identity: Option<&InboxIdentity>) -> InboxIdentityView {
    match identity {
        None => InboxIdentityView {
            kind: "off".into(),
            required: false,
            public_key: None,
            secret: None,
            audience: audience(team),
        },
        Some(i) => InboxIdentityView {
            kind: i.kind.as_str().into(),
            required: i.required,
            public_key: (i.kind == IdentityKeyKind::Ed25519)
                .then(|| URL_SAFE_NO_PAD.encode(&i.key)),
            secret: None,
            audience: audience(team),
        },
    }
}

/// Applies new settings; for `hs256` a fresh secret is generated and returned once.
pub async fn set(
    state: &AppState,
    tenant: TenantId,
    team: &Team,
    request: &InboxIdentityRequest,
) -> Result<InboxIdentityView, ApiError> {
    let store = state.store();
    let now = state.clock().now();
    let (kind, key, secret) = match request.kind.as_str() {
        "off" => {
            store.clear_inbox_identity(tenant, team.id).await?;
            return Ok(view(team.id, None));
        }
        "hs256" => {
            let mut secret = zeroize::Zeroizing::new([0u8; SECRET_BYTES]);
            state.random().fill(secret.as_mut());
            let context = team.id.to_string();
            let sealed = state.master_key().seal(
                state.random(),
                SEAL_PURPOSE,
                context.as_bytes(),
                secret.as_ref(),
            );
            (
                IdentityKeyKind::Hs256,
                sealed,
                Some(URL_SAFE_NO_PAD.encode(secret.as_ref())),
            )
        }
        "ed25519" => {
            let raw = request
                .public_key
                .as_deref()
                .and_then(|k| URL_SAFE_NO_PAD.decode(k.trim_end_matches('=')).ok())
                .filter(|k| IdentityKey::ed25519(k).is_some())
                .ok_or_else(|| {
                    ValidationError::new(
                        "public_key",
                        "must be an Ed25519 public key: 32 bytes, base64url",
                    )
                })?;
            (IdentityKeyKind::Ed25519, raw, None)
        }
        _ => {
            return Err(ValidationError::new("kind", "must be hs256, ed25519 or off").into());
        }
    };
    let identity = InboxIdentity {
        tenant_id: tenant,
        team_id: team.id,
        kind,
        key,
        required: request.required,
        updated_at: now,
    };
    store.set_inbox_identity(&identity).await?;
    let mut shown = view(team.id, Some(&identity));
    shown.secret = secret;
    Ok(shown)
}

/// Verifies `token` for the inbox and returns the customer id (`sub`). Any failure is
/// `unauthenticated`, without saying which check failed.
pub fn verify(state: &AppState, identity: &InboxIdentity, token: &str) -> Result<String, ApiError> {
    let key = match identity.kind {
        IdentityKeyKind::Hs256 => {
            let context = identity.team_id.to_string();
            let secret = state
                .open_sealed(SEAL_PURPOSE, context.as_bytes(), &identity.key)
                .map_err(|e| ApiError::Internal(e.into()))?;
            IdentityKey::Hs256(secret.to_vec())
        }
        IdentityKeyKind::Ed25519 => IdentityKey::ed25519(&identity.key)
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored Ed25519 key is invalid")))?,
    };
    let now = state.clock().now().unix_timestamp();
    identity_token::verify(token, &key, &audience(identity.team_id), now)
        .map_err(|_| ApiError::Unauthenticated)
}
