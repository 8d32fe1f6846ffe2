//! Registering a passkey for the caller's account (W3C WebAuthn Level 3 §7.1). User
//! verification is required, so every stored passkey is a multi-factor authenticator; the
//! account's existing credentials are excluded so one authenticator is not registered twice
//! (§5.4.3 `excludeCredentials`).

use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_proto::passkeys::{PasskeyChallenge, PasskeyRegisterFinish, PasskeyView};
use sealdesk_store::{CeremonyKind, Constraint, PasskeyRecord, StoreError};
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential};

use super::ceremony;
use crate::app::audit;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

/// Longest passkey name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Internal(e.into())
}

/// Starts a registration for the caller; the user handle is the account id (§5.4.3: an
/// opaque id, never the e-mail).
pub async fn start(
    state: &AppState,
    webauthn: &Webauthn,
    auth: &Auth,
) -> Result<PasskeyChallenge, ApiError> {
    let (tenant, staff) = (auth.principal.tenant, auth.principal.staff);
    let mut exclude = Vec::new();
    for record in state.store().list_passkeys(tenant, staff).await? {
        let passkey: Passkey = serde_json::from_str(&record.passkey).map_err(internal)?;
        exclude.push(passkey.cred_id().clone());
    }
    let (options, registration) = webauthn
        .start_passkey_registration(
            staff.as_uuid(),
            auth.staff.email.as_str(),
            &auth.staff.display_name.to_string(),
            Some(exclude),
        )
        .map_err(internal)?;
    let ceremony_id = ceremony::put(
        state,
        tenant,
        Some(staff),
        CeremonyKind::Registration,
        &registration,
    )
    .await?;
    Ok(PasskeyChallenge {
        ceremony_id,
        options: ceremony::options_json(&options)?,
    })
}

/// Verifies the authenticator's response and stores the passkey.
pub async fn finish(
    state: &AppState,
    webauthn: &Webauthn,
    auth: &Auth,
    req: &PasskeyRegisterFinish,
) -> Result<PasskeyView, ApiError> {
    let name = req.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::Invalid(sealdesk_core::ValidationError::new(
            "name",
            format!("give the passkey a name of 1 to {MAX_NAME_CHARS} characters"),
        )));
    }
    let (tenant, staff) = (auth.principal.tenant, auth.principal.staff);
    let expired = || {
        ApiError::BadRequest("this registration expired or was already used; start again".into())
    };
    let (ceremony, registration) =
        ceremony::take::<PasskeyRegistration>(state, req.ceremony_id, CeremonyKind::Registration)
            .await?
            .ok_or_else(expired)?;
    // Another account's ceremony is treated as unknown, so its existence is not revealed.
    if ceremony.tenant != tenant || ceremony.staff != Some(staff) {
        return Err(expired());
    }
    let credential: RegisterPublicKeyCredential = serde_json::from_value(req.credential.clone())
        .map_err(|_| {
            ApiError::BadRequest("credential is not a WebAuthn registration response".into())
        })?;
    // Checks the challenge, origin, RP id hash, user presence and verification, and the
    // algorithm (§7.1 steps 7 to 22).
    let passkey = webauthn
        .finish_passkey_registration(&credential, &registration)
        .map_err(|e| ApiError::BadRequest(format!("the passkey could not be verified: {e}")))?;
    let mut id = [0; 16];
    state.random().fill(&mut id);
    let record = PasskeyRecord {
        id: uuid::Builder::from_random_bytes(id).into_uuid(),
        tenant,
        staff,
        credential_id: passkey.cred_id().clone(),
        passkey: serde_json::to_string(&passkey).map_err(internal)?,
        name: name.to_owned(),
        created_at: state.clock().now(),
        last_used_at: None,
    };
    let stored = state
        .store()
        .create_passkey(&record)
        .await
        .map_err(|e| match e {
            StoreError::Conflict {
                constraint: Constraint::PasskeyCredential,
            } => ApiError::Conflict("this passkey is already registered".into()),
            other => other.into(),
        })?;
    audit::event(state, AuditAction::PasskeyAdded, Actor::Staff(staff))
        .tenant(tenant)
        .target(format!("passkey:{}", stored.id))
        .ip(auth.ip)
        .record(state)
        .await;
    Ok(view(&stored))
}

/// The client's view of a stored passkey.
pub fn view(record: &PasskeyRecord) -> PasskeyView {
    PasskeyView {
        id: record.id,
        name: record.name.clone(),
        created_at: record.created_at,
        last_used_at: record.last_used_at,
    }
}
