//! Logging in with a passkey. A passkey that verified the user is a multi-factor
//! cryptographic authenticator (NIST SP 800-63B §5.1.9, AAL2), so it is a complete login on
//! its own; with the password it is the second factor after it. Failures share the throttling,
//! the generic `invalid_credentials` answer and the audit reasons of password logins
//! (OWASP ASVS v5.0.0-6.3.8, 6.3.1).

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealdesk_proto::TenantId;
use sealdesk_proto::auth::Secret;
use sealdesk_proto::passkeys::{PasskeyChallenge, PasskeyLoginFinish, PasskeyLoginStart};
use sealdesk_store::{Ceremony, CeremonyKind, StoreError};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use webauthn_rs::Webauthn;
use webauthn_rs::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PublicKeyCredential,
};

use super::ceremony;
use crate::auth::credentials::{self, Failure, Verified};
use crate::error::ApiError;
use crate::state::AppState;

/// What a login ceremony remembers between start and finish.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct LoginState {
    /// The e-mail given at start (normalised), for the per-account throttle.
    pub(super) email: Option<String>,
    pub(super) flow: Flow,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Flow {
    /// The account's own credentials were offered; the ceremony row names the account.
    Account { state: PasskeyAuthentication },
    /// No account named (or a decoy for an unknown one): the credential names the account.
    Discoverable { state: DiscoverableAuthentication },
}

pub(super) fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Internal(e.into())
}

/// Starts a login. With an e-mail whose account has passkeys, the challenge lists them;
/// otherwise (no e-mail, unknown tenant or account, no passkeys) it is a discoverable-credential
/// challenge, and for an e-mail it lists deterministic decoy credential ids, so the answer
/// does not reveal whether the account exists or has passkeys (OWASP ASVS v5.0.0-6.3.8).
pub async fn start(
    state: &AppState,
    webauthn: &Webauthn,
    req: &PasskeyLoginStart,
) -> Result<PasskeyChallenge, ApiError> {
    let email = req.email.as_deref().map(|e| e.trim().to_lowercase());
    let Some(email) = email else {
        let (options, auth) = webauthn
            .start_discoverable_authentication()
            .map_err(internal)?;
        let login = LoginState {
            email: None,
            flow: Flow::Discoverable { state: auth },
        };
        return store_ceremony(state, req.tenant_id, None, &login, &options).await;
    };
    let staff = match state
        .store()
        .find_staff_by_email(req.tenant_id, &email)
        .await
    {
        Ok(found) => found.filter(|s| !s.disabled),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let mut passkeys = Vec::new();
    if let Some(staff) = &staff {
        for record in state.store().list_passkeys(req.tenant_id, staff.id).await? {
            passkeys.push(serde_json::from_str::<Passkey>(&record.passkey).map_err(internal)?);
        }
    }
    if let (Some(staff), false) = (staff, passkeys.is_empty()) {
        let (options, auth) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(internal)?;
        let login = LoginState {
            email: Some(email),
            flow: Flow::Account { state: auth },
        };
        return store_ceremony(state, req.tenant_id, Some(staff.id), &login, &options).await;
    }
    let (options, auth) = webauthn
        .start_discoverable_authentication()
        .map_err(internal)?;
    let mut options = ceremony::options_json(&options)?;
    decoy(state, req.tenant_id, &email, &mut options)?;
    let login = LoginState {
        email: Some(email),
        flow: Flow::Discoverable { state: auth },
    };
    store_ceremony(state, req.tenant_id, None, &login, &options).await
}

pub(super) async fn store_ceremony<T: Serialize>(
    state: &AppState,
    tenant: TenantId,
    staff: Option<sealdesk_proto::StaffId>,
    login: &LoginState,
    options: &T,
) -> Result<PasskeyChallenge, ApiError> {
    let ceremony_id =
        ceremony::put(state, tenant, staff, CeremonyKind::Authentication, login).await?;
    Ok(PasskeyChallenge {
        ceremony_id,
        options: ceremony::options_json(options)?,
    })
}

/// Gives a discoverable challenge the shape of an account challenge: no conditional
/// mediation, no extensions, and credential ids from webauthn-rs's fake-credential generator,
/// keyed by a master-key-derived secret so the same e-mail always gets the same ids.
fn decoy(
    state: &AppState,
    tenant: TenantId,
    email: &str,
    options: &mut serde_json::Value,
) -> Result<(), ApiError> {
    let (_, key) = state
        .master_key()
        .derive_key(None, "passkey-decoy")
        .map_err(internal)?;
    let generator = WebauthnFakeCredentialGenerator::<FakePasskeyDistribution>::new(key.as_slice())
        .map_err(internal)?;
    let ids = generator
        .generate(format!("{tenant}\n{email}").as_bytes())
        .map_err(internal)?;
    let allow: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({"type": "public-key", "id": URL_SAFE_NO_PAD.encode(id.as_slice())}))
        .collect();
    if let Some(object) = options.as_object_mut() {
        object.remove("mediation");
    }
    if let Some(public_key) = options
        .get_mut("publicKey")
        .and_then(serde_json::Value::as_object_mut)
    {
        public_key.remove("extensions");
        public_key.insert("allowCredentials".into(), allow.into());
    }
    Ok(())
}

/// Finishes a login under the same throttling and audit as password logins.
pub async fn finish(
    state: &AppState,
    webauthn: &Webauthn,
    req: &PasskeyLoginFinish,
    ip: IpAddr,
) -> Result<Verified, ApiError> {
    let taken =
        ceremony::take::<LoginState>(state, req.ceremony_id, CeremonyKind::Authentication).await?;
    let Some((ceremony, login)) = taken else {
        // Unknown, used or expired: a replayed assertion ends here.
        let refused = async { Ok(Err(Failure::PasskeyCeremony)) };
        return credentials::throttled(state, None, None, ip, refused).await;
    };
    let (tenant, email) = (ceremony.tenant, login.email.clone());
    let password = req.password.as_ref();
    let checked = check(
        state,
        webauthn,
        &ceremony,
        login.flow,
        &req.credential,
        password,
        ip,
    );
    credentials::throttled(state, Some(tenant), email.as_deref(), ip, checked).await
}

/// Verifies the assertion (`credential`, the JSON of a `PublicKeyCredential`) against the
/// ceremony, then the password when one was given.
pub(super) async fn check(
    state: &AppState,
    webauthn: &Webauthn,
    ceremony: &Ceremony,
    flow: Flow,
    credential: &serde_json::Value,
    password: Option<&Secret>,
    ip: IpAddr,
) -> Result<Result<Verified, Failure>, ApiError> {
    let store = state.store();
    let tenant = match credentials::active_tenant(state, ceremony.tenant, ip).await? {
        Ok(t) => t,
        Err(f) => return Ok(Err(f)),
    };
    let Ok(credential) = serde_json::from_value::<PublicKeyCredential>(credential.clone()) else {
        return Ok(Err(Failure::Passkey));
    };
    // The credential must be registered in this tenant and, when the ceremony named an
    // account, to that account (W3C WebAuthn Level 3 §7.2 steps 5 and 6).
    let record = store
        .find_passkey_by_credential(credential.get_credential_id())
        .await?
        .filter(|r| r.tenant == tenant.id)
        .filter(|r| ceremony.staff.is_none_or(|s| s == r.staff))
        .filter(|r| {
            credential
                .get_user_unique_id()
                .is_none_or(|handle| handle == r.staff.as_uuid().as_bytes())
        });
    let Some(record) = record else {
        return Ok(Err(Failure::Passkey));
    };
    let staff = match store.get_staff(tenant.id, record.staff).await {
        Ok(s) if !s.disabled => s,
        Ok(_) | Err(StoreError::NotFound) => return Ok(Err(Failure::Account)),
        Err(e) => return Err(e.into()),
    };
    let mut passkey: Passkey = serde_json::from_str(&record.passkey).map_err(internal)?;
    // webauthn-rs checks the challenge, origin, RP id hash, signature, user verification
    // (required) and the signature counter (§7.2 steps 11 to 21).
    let result = match flow {
        Flow::Account { state: auth } => webauthn.finish_passkey_authentication(&credential, &auth),
        Flow::Discoverable { state: auth } => {
            webauthn.finish_discoverable_authentication_v2(&credential, auth, &passkey)
        }
    };
    let result = match result {
        Ok(r) if r.user_verified() => r,
        _ => return Ok(Err(Failure::Passkey)),
    };
    passkey.update_credential(&result);
    let json = serde_json::to_string(&passkey).map_err(internal)?;
    store
        .update_passkey_after_use(tenant.id, record.id, &json, state.clock().now())
        .await?;
    if let Some(password) = password {
        let password = SecretString::from(password.0.clone());
        if let Err(f) = credentials::password_matches(state, &tenant, &staff, &password).await? {
            return Ok(Err(f));
        }
    }
    Ok(Ok(Verified {
        staff,
        tenant,
        second_factor: true,
        restricted: false,
    }))
}
