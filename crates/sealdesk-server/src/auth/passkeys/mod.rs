//! Passkeys (WebAuthn, W3C WebAuthn Level 3) for staff: the relying party derived from
//! `server.public_url`, ceremony state kept in the database between start and finish, login
//! with a passkey (alone, or after the password as a second factor), and re-authentication.

pub mod ceremony;
pub mod login;
pub mod reauth;
pub mod register;

use std::sync::Arc;

use url::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// How long a started ceremony can be finished: the timeout W3C WebAuthn Level 3 §15.1
/// recommends when user verification is required (300 s), also sent to the browser.
pub const CEREMONY_TTL: std::time::Duration = std::time::Duration::from_mins(5);

/// Builds the relying party from `server.public_url`: its host is the RP id and its origin
/// the only accepted origin (W3C WebAuthn Level 3 §5.1.3 step 8, §7.1 step 9). `Ok(None)`
/// without a public URL: the RP id must be the name users reach the server by, which the
/// server cannot guess from its listener, so passkeys stay off rather than be bound to a
/// wrong name. `Err` when the URL cannot serve as a WebAuthn origin (for example an IP
/// address, which is not a valid RP id).
pub fn relying_party(config: &Config) -> Result<Option<Webauthn>, String> {
    let Some(public) = &config.server.public_url else {
        return Ok(None);
    };
    let rp_id = public.domain().ok_or_else(|| {
        format!(
            "server.public_url {public} has no domain name to use as the WebAuthn relying party id"
        )
    })?;
    let origin = Url::parse(&public.origin().ascii_serialization())
        .map_err(|e| format!("server.public_url {public}: {e}"))?;
    WebauthnBuilder::new(rp_id, &origin)
        .and_then(|b| b.rp_name("Sealdesk").timeout(CEREMONY_TTL).build())
        .map(Some)
        .map_err(|e| format!("server.public_url {public} cannot be a WebAuthn origin: {e}"))
}

/// The relying party, or a 404 saying why passkeys are off.
pub fn require(state: &AppState) -> Result<Arc<Webauthn>, ApiError> {
    state.webauthn().ok_or(ApiError::PasskeysUnavailable)
}

#[cfg(test)]
mod tests {
    use sealdesk_crypto::password::HashPolicy;

    use super::*;

    fn config(public_url: Option<&str>) -> Config {
        let mut config =
            Config::for_data_dir("/nonexistent".into(), HashPolicy::INSECURE_TEST_ONLY);
        config.server.public_url = public_url.map(|u| Url::parse(u).unwrap());
        config
    }

    #[test]
    fn passkeys_are_off_without_a_public_url() {
        assert!(relying_party(&config(None)).unwrap().is_none());
    }

    #[test]
    fn the_public_url_names_the_relying_party() {
        let rp = relying_party(&config(Some("https://support.example.com/desk/")))
            .unwrap()
            .unwrap();
        assert_eq!(
            rp.get_allowed_origins(),
            [Url::parse("https://support.example.com").unwrap()]
        );
    }

    #[test]
    fn an_ip_address_cannot_be_a_relying_party() {
        let err = relying_party(&config(Some("https://192.0.2.7"))).unwrap_err();
        assert!(err.contains("no domain name"), "{err}");
    }
}
