//! Re-authentication with a passkey: a challenge for the signed-in account's own passkeys,
//! then an assertion checked exactly as a passkey login's (challenge, origin, RP id,
//! signature, user verification, counter), under the same throttling and audit. A passkey
//! that verified the user is a multi-factor authenticator (NIST SP 800-63B §5.1.9), so it
//! proves identity again on its own, like a password with its second factor.

use sealdesk_proto::passkeys::{PasskeyAssertion, PasskeyChallenge};
use sealdesk_store::CeremonyKind;
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::Passkey;

use super::ceremony;
use super::login::{Flow, LoginState, check, internal, store_ceremony};
use crate::auth::Auth;
use crate::auth::credentials::{self, Failure, Verified};
use crate::error::ApiError;
use crate::state::AppState;

/// Starts re-authenticating `auth`'s account: the challenge lists its passkeys, and the
/// ceremony names the account, so only its credentials can answer it. `Conflict` when the
/// account has no passkey (re-authenticate with the password instead).
pub async fn start_reauthentication(
    state: &AppState,
    webauthn: &Webauthn,
    auth: &Auth,
) -> Result<PasskeyChallenge, ApiError> {
    let (tenant, staff) = (auth.principal.tenant, auth.principal.staff);
    let mut passkeys = Vec::new();
    for record in state.store().list_passkeys(tenant, staff).await? {
        passkeys.push(serde_json::from_str::<Passkey>(&record.passkey).map_err(internal)?);
    }
    if passkeys.is_empty() {
        return Err(ApiError::Conflict(
            "this account has no passkey; re-authenticate with the password".into(),
        ));
    }
    let (options, auth_state) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(internal)?;
    let login = LoginState {
        email: Some(auth.staff.email.as_str().to_owned()),
        flow: Flow::Account { state: auth_state },
    };
    store_ceremony(state, tenant, Some(staff), &login, &options).await
}

/// Checks a re-authentication assertion for `auth`'s account. The ceremony is taken (single
/// use) and must have been started for this very account, which also rules out a
/// discoverable login ceremony; then the assertion is verified as for a login. Every failure
/// counts towards the account's and the address's throttling and answers
/// `invalid_credentials` (OWASP ASVS v5.0.0-6.3.1, 6.3.8).
pub async fn reauthenticate(
    state: &AppState,
    webauthn: &Webauthn,
    auth: &Auth,
    assertion: &PasskeyAssertion,
) -> Result<Verified, ApiError> {
    let (tenant, staff) = (auth.principal.tenant, auth.principal.staff);
    let email = auth.staff.email.as_str();
    let taken =
        ceremony::take::<LoginState>(state, assertion.ceremony_id, CeremonyKind::Authentication)
            .await?
            .filter(|(c, _)| c.tenant == tenant && c.staff == Some(staff));
    let Some((ceremony, login)) = taken else {
        let refused = async { Ok(Err(Failure::PasskeyCeremony)) };
        return credentials::throttled(state, Some(tenant), Some(email), auth.ip, refused).await;
    };
    let checked = check(
        state,
        webauthn,
        &ceremony,
        login.flow,
        &assertion.credential,
        None,
        auth.ip,
    );
    credentials::throttled(state, Some(tenant), Some(email), auth.ip, checked).await
}
