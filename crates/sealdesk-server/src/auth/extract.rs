//! The `Auth` extractor: finds the session from the bearer token or the session cookie,
//! checks that it, its account and its tenant are active, enforces CSRF on cookie-carried
//! state-changing requests, and records activity. Handlers then call [`Auth::require`].

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use sealdesk_core::access::{Action, Denied, Principal, authorize};
use sealdesk_core::auth::{Session, SessionKind};
use sealdesk_core::domain::Staff;
use sealdesk_crypto::token;
use sealdesk_proto::TenantId;
use time::Duration;

use super::sessions::{SCOPE_ENROL_ONLY, csrf_token};
use super::{CSRF_HEADER, REAUTH_WINDOW, SESSION_COOKIE, TOUCH_INTERVAL, client};
use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated request.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Who.
    pub principal: Principal,
    /// Their account.
    pub staff: Staff,
    /// The session or API token used.
    pub session: Session,
    /// The client's address.
    pub ip: IpAddr,
    /// When the request was authenticated (the injected clock's time).
    pub at: time::OffsetDateTime,
    /// Whether the account has a second factor (confirmed TOTP or a passkey), as read with
    /// the session.
    pub second_factor: bool,
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Several extractors of one request may need the caller; authenticate once.
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let auth = authenticate(parts, state).await?;
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

/// Refuses, before any request body is read, a request whose `{tenant}` path segment is not
/// the caller's tenant: 404, exactly like a missing resource (so even body validation never
/// runs for another tenant's paths).
#[derive(Debug, Clone, Copy)]
pub struct TenantScope;

impl FromRequestParts<AppState> for TenantScope {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        let tenant = params
            .iter()
            .find(|(k, _)| *k == "tenant")
            .map(|(_, v)| v.to_owned());
        match tenant.and_then(|t| t.parse::<TenantId>().ok()) {
            Some(t) if t == auth.principal.tenant => Ok(TenantScope),
            _ => Err(ApiError::NotFound),
        }
    }
}

/// Finds and checks the session behind a request: one read-only store query for the
/// session, its account, its tenant and the account's second factor, so that disabling an
/// account or tenant or revoking a session takes effect on the next request (OWASP ASVS
/// v5.0.0-7.4.2), and one write at most once a minute per session to move its idle expiry.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Auth, ApiError> {
    let (raw, via_cookie) = match (bearer(parts), cookie(parts)) {
        (Some(t), _) => (t, false),
        (None, Some(c)) => (c, true),
        (None, None) => return Err(ApiError::Unauthenticated),
    };
    if token::parse(raw).is_none() {
        return Err(ApiError::Unauthenticated);
    }
    let store = state.store();
    let now = state.clock().now();
    let resolved = store
        .resolve_session(&token::digest(raw))
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let session = resolved.session;
    if !session.is_active(now) || (via_cookie && session.kind != SessionKind::Browser) {
        return Err(ApiError::Unauthenticated);
    }
    if resolved.staff.disabled || resolved.tenant_disabled {
        return Err(ApiError::Unauthenticated);
    }
    if via_cookie && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let expected = csrf_token(state, session.id)?;
        if !sealdesk_crypto::ct_eq(sent.as_bytes(), expected.as_bytes()) {
            return Err(ApiError::Forbidden);
        }
    }
    // Idle timeout (OWASP ASVS v5.0.0-7.3.1): the stored idle expiry moves forward at most
    // once a minute per session, so most requests are read-only. Between two writes the
    // stored expiry lags real activity by under a minute: a session can lapse up to a minute
    // before `last activity + idle limit`, never after it.
    let since_seen = now - session.last_seen_at;
    if since_seen > Duration::try_from(TOUCH_INTERVAL).unwrap_or(Duration::MINUTE) {
        let idle = super::sessions::lifetimes(&resolved.tenant_settings, session.kind, now)
            .0
            .map(|i| i.min(session.absolute_expires_at));
        store.touch_session(session.id, now, idle).await?;
    }
    let ip = client::client_ip(parts, &state.config().server.trusted_proxies);
    Ok(Auth {
        principal: Principal {
            tenant: session.tenant,
            staff: session.staff,
            role: resolved.staff.role,
        },
        staff: resolved.staff,
        session,
        ip,
        at: now,
        second_factor: resolved.second_factor,
    })
}

impl Auth {
    /// Whether this session may only enrol a second factor.
    pub fn restricted(&self) -> bool {
        self.session.scopes.iter().any(|s| s == SCOPE_ENROL_ONLY)
    }

    /// Checks that the caller may do `action` on a resource of `tenant`: same tenant (else
    /// 404), role allows it (else 403), the session is not enrolment-only, API-token scope,
    /// and a recent proof of identity for sensitive actions.
    pub fn require(&self, action: Action, tenant: TenantId) -> Result<(), ApiError> {
        authorize(&self.principal, action, tenant).map_err(|d| match d {
            Denied::OutOfScope => ApiError::NotFound,
            Denied::Forbidden => ApiError::Forbidden,
        })?;
        if self.restricted() && action != Action::ManageOwnAccount {
            return Err(ApiError::SecondFactorRequired);
        }
        // The matrix's sensitive actions always need a fresh proof of identity, whichever
        // handler performs them (docs/permissions.md).
        if action.needs_recent_auth() {
            self.require_recent_auth(self.at)?;
        }
        if self.session.kind == SessionKind::ApiToken
            && !self
                .session
                .scopes
                .iter()
                .any(|s| *s == action_name(action))
        {
            return Err(ApiError::Forbidden);
        }
        Ok(())
    }

    /// Requires a proof of identity within [`REAUTH_WINDOW`].
    pub fn require_recent_auth(&self, now: time::OffsetDateTime) -> Result<(), ApiError> {
        let window = Duration::try_from(REAUTH_WINDOW).unwrap_or(Duration::minutes(5));
        if self.session.kind == SessionKind::ApiToken
            || now - self.session.authenticated_at > window
        {
            return Err(ApiError::ReauthenticationRequired);
        }
        Ok(())
    }
}

/// The scope name of an action, as API tokens list them.
pub fn action_name(action: Action) -> String {
    format!("{action:?}")
}
