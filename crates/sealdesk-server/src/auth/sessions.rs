//! Issuing sessions: a random bearer token shown once and stored only as its SHA-256
//! (OWASP ASVS v5.0.0-7.2.2), idle and absolute lifetimes from the tenant's policy, rotation
//! on re-authentication, the browser cookie, and the CSRF token derived from the session id.

use std::net::IpAddr;

use axum::http::HeaderValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sealdesk_core::auth::{NewSession, Session, SessionKind};
use sealdesk_core::domain::TenantSettings;
use sealdesk_crypto::token::{self, TokenKind};
use sealdesk_proto::auth::{ClientKind, SessionInfo};
use sealdesk_proto::tenancy::StaffView;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::SESSION_COOKIE;
use super::credentials::Verified;
use crate::error::ApiError;
use crate::state::AppState;

/// Scope marking a session that may only enrol a second factor.
pub const SCOPE_ENROL_ONLY: &str = "enrol_second_factor";

/// Idle and absolute expiry for a new session of `kind` at `now`.
pub fn lifetimes(
    settings: &TenantSettings,
    kind: SessionKind,
    now: OffsetDateTime,
) -> (Option<OffsetDateTime>, OffsetDateTime) {
    let absolute = now + Duration::hours(i64::from(settings.session_absolute_hours));
    let idle_minutes = match kind {
        SessionKind::Browser => settings.session_idle_minutes,
        SessionKind::Cli => settings
            .session_idle_minutes
            .saturating_mul(super::CLI_IDLE_FACTOR),
        SessionKind::ApiToken => return (None, absolute),
    };
    let idle = (now + Duration::minutes(i64::from(idle_minutes))).min(absolute);
    (Some(idle), absolute)
}

/// A new session for a verified login, with its token (shown once): a fresh 256-bit token
/// stored only as its SHA-256 (OWASP ASVS v5.0.0-7.2.2), a fresh random id, lifetimes from
/// the tenant's policy, and the enrolment-only scope when the tenant requires a second
/// factor the account does not have.
fn new_session(
    state: &AppState,
    verified: &Verified,
    client: ClientKind,
    ip: IpAddr,
    user_agent: Option<String>,
) -> (NewSession, SecretString) {
    let kind = match client {
        ClientKind::Browser => SessionKind::Browser,
        ClientKind::Cli => SessionKind::Cli,
    };
    let token_kind = if kind == SessionKind::Browser {
        TokenKind::Session
    } else {
        TokenKind::Cli
    };
    let (token, token_hash) = token::generate(state.random(), token_kind);
    let now = state.clock().now();
    let (idle, absolute) = lifetimes(&verified.tenant.settings, kind, now);
    let mut id = [0u8; 16];
    state.random().fill(&mut id);
    let new = NewSession {
        id: uuid::Builder::from_random_bytes(id).into_uuid(),
        tenant: verified.tenant.id,
        staff: verified.staff.id,
        token_hash,
        kind,
        name: None,
        scopes: if verified.restricted {
            vec![SCOPE_ENROL_ONLY.to_owned()]
        } else {
            Vec::new()
        },
        created_at: now,
        idle_expires_at: idle,
        absolute_expires_at: absolute,
        ip: Some(ip.to_string()),
        user_agent,
    };
    (new, token)
}

/// Creates a session for a verified login; returns it with its token (shown once).
pub async fn issue(
    state: &AppState,
    verified: &Verified,
    client: ClientKind,
    ip: IpAddr,
    user_agent: Option<String>,
) -> Result<(Session, SecretString), ApiError> {
    let (new, token) = new_session(state, verified, client, ip, user_agent);
    let session = state.store().create_session(&new).await?;
    Ok((session, token))
}

/// Replaces session `old` after a re-authentication: a new token and id (OWASP ASVS
/// v5.0.0-7.2.4, "a new session token on user authentication, including re-authentication,
/// and terminates the current session token"), lifetimes and scope as for a login at this
/// moment, and the old session revoked in the same store transaction. `Unauthenticated` when
/// `old` was revoked, expired or rotated meanwhile (a concurrent logout or re-authentication).
pub async fn rotate(
    state: &AppState,
    old: &Session,
    verified: &Verified,
    client: ClientKind,
    ip: IpAddr,
    user_agent: Option<String>,
) -> Result<(Session, SecretString), ApiError> {
    let (new, token) = new_session(state, verified, client, ip, user_agent);
    let session = state
        .store()
        .rotate_session(old.id, &new)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok((session, token))
}

/// The CSRF token of a browser session: HMAC-SHA256 of its id under a key derived from the
/// master key (a synchronizer token that needs no storage; OWASP CSRF Prevention Cheat Sheet,
/// "HMAC based token pattern").
pub fn csrf_token(state: &AppState, session_id: Uuid) -> Result<String, ApiError> {
    let (_, key) = state
        .master_key()
        .derive_key(None, "csrf")
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    mac.update(session_id.as_bytes());
    Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// `Set-Cookie` for a browser session: `HttpOnly`, `Secure`, `SameSite=Strict`, host-only.
pub fn session_cookie(
    token: &SecretString,
    expires: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<HeaderValue, ApiError> {
    let max_age = (expires - now).whole_seconds().max(0);
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict",
        token.expose_secret()
    ))
    .map_err(|e| ApiError::Internal(e.into()))
}

/// `Set-Cookie` that deletes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-sealdesk_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
    )
}

/// The session as the API shows it to its owner.
pub fn info(session: &Session, staff: StaffView, second_factor: bool) -> SessionInfo {
    SessionInfo {
        session_id: session.id,
        staff,
        kind: session.kind.as_str().to_owned(),
        restricted: session.scopes.iter().any(|s| s == SCOPE_ENROL_ONLY),
        second_factor,
        expires_at: session.absolute_expires_at,
        idle_expires_at: session.idle_expires_at,
        authenticated_at: session.authenticated_at,
        csrf_token: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn lifetimes_follow_the_tenant_policy() {
        let s = TenantSettings::default();
        let now = datetime!(2026-01-01 0:00 UTC);
        let (idle, abs) = lifetimes(&s, SessionKind::Browser, now);
        assert_eq!(idle, Some(now + Duration::minutes(30)));
        assert_eq!(abs, now + Duration::hours(12));
        let (idle, _) = lifetimes(&s, SessionKind::Cli, now);
        assert_eq!(idle, Some(now + Duration::minutes(240)));
        let (idle, _) = lifetimes(&s, SessionKind::ApiToken, now);
        assert_eq!(idle, None);
        let short = TenantSettings {
            session_absolute_hours: 1,
            session_idle_minutes: 120,
            ..s
        };
        let (idle, abs) = lifetimes(&short, SessionKind::Browser, now);
        assert_eq!(idle, Some(abs), "idle expiry never passes the absolute one");
    }
}
