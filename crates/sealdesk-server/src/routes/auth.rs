//! Login, logout, the current session, and re-authentication (password or passkey), which
//! replaces the session.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_core::auth::{Session, SessionKind};
use sealdesk_proto::auth::{ClientKind, LoginRequest, LoginResponse, ReauthRequest, SessionInfo};
use sealdesk_proto::passkeys::PasskeyChallenge;
use secrecy::{ExposeSecret, SecretString};

use crate::app::audit;
use crate::auth::credentials::{self, Offered};
use crate::auth::passkeys::reauth as passkey_login;
use crate::auth::{Auth, client, sessions};
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// The client's address and user agent, for handlers that run before authentication.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    /// Address.
    pub ip: std::net::IpAddr,
    /// User agent.
    pub user_agent: Option<String>,
}

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientMeta {
            ip: client::client_ip(parts, &state.config().server.trusted_proxies),
            user_agent: client::user_agent(parts),
        })
    }
}

pub(crate) fn offered(
    password: &sealdesk_proto::auth::Secret,
    totp: Option<&sealdesk_proto::auth::Secret>,
    recovery: Option<&sealdesk_proto::auth::Secret>,
) -> Offered {
    Offered {
        password: SecretString::from(password.0.clone()),
        totp: totp.map(|t| SecretString::from(t.0.clone())),
        recovery_code: recovery.map(|r| SecretString::from(r.0.clone())),
    }
}

/// Builds the login answer: token for the CLI, cookie and CSRF token for browsers.
pub(crate) async fn login_response(
    state: &AppState,
    verified: &credentials::Verified,
    client_kind: ClientKind,
    meta: ClientMeta,
) -> Result<Response, ApiError> {
    let (session, token) =
        sessions::issue(state, verified, client_kind, meta.ip, meta.user_agent).await?;
    audit::event(
        state,
        AuditAction::LoginSucceeded,
        Actor::Staff(verified.staff.id),
    )
    .tenant(verified.tenant.id)
    .target(format!("session:{}", session.id))
    .detail("client", session.kind.as_str())
    .detail("second_factor", verified.second_factor.to_string())
    .ip(meta.ip)
    .record(state)
    .await;
    session_response(state, verified, &session, &token, client_kind)
}

/// The answer that hands a new session to its client: the token in the body for the CLI; an
/// `HttpOnly` cookie and the CSRF token for browsers (the token never reaches page script).
fn session_response(
    state: &AppState,
    verified: &credentials::Verified,
    session: &Session,
    token: &SecretString,
    client_kind: ClientKind,
) -> Result<Response, ApiError> {
    let info = sessions::info(session, verified.staff.view(), verified.second_factor);
    let mut headers = HeaderMap::new();
    let body = match client_kind {
        ClientKind::Cli => LoginResponse {
            session: info,
            token: Some(token.expose_secret().to_owned()),
            csrf_token: None,
        },
        ClientKind::Browser => {
            headers.insert(
                SET_COOKIE,
                sessions::session_cookie(token, session.absolute_expires_at, state.clock().now())?,
            );
            LoginResponse {
                session: info,
                token: None,
                csrf_token: Some(sessions::csrf_token(state, session.id)?),
            }
        }
    };
    Ok((StatusCode::OK, headers, Json(body)).into_response())
}

/// Logs in with every factor the account has, in one request.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "invalid_credentials: wrong or missing factor, unknown account", body = sealdesk_proto::ErrorBody),
        (status = 429, description = "rate_limited: too many failures; see Retry-After", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    meta: ClientMeta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let offered = offered(&req.password, req.totp.as_ref(), req.recovery_code.as_ref());
    let verified =
        credentials::attempt(&state, req.tenant_id, &req.email, &offered, meta.ip).await?;
    login_response(&state, &verified, req.client, meta).await
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204, description = "Logged out"), (status = 401, description = "No session", body = sealdesk_proto::ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let now = state.clock().now();
    state
        .store()
        .revoke_session(
            auth.principal.tenant,
            auth.principal.staff,
            auth.session.id,
            now,
        )
        .await?;
    audit::event(
        &state,
        AuditAction::Logout,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(auth.principal.tenant)
    .target(format!("session:{}", auth.session.id))
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, sessions::clear_cookie())],
    )
        .into_response())
}

/// The current session and account.
#[utoipa::path(get, path = "/api/auth/session", tag = "auth",
    responses((status = 200, description = "The session", body = SessionInfo), (status = 401, description = "No session", body = sealdesk_proto::ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<SessionInfo>, ApiError> {
    // Everything comes from the extractor's one store query.
    let mut info = sessions::info(&auth.session, auth.staff.view(), auth.second_factor);
    if auth.session.kind == SessionKind::Browser {
        info.csrf_token = Some(sessions::csrf_token(&state, auth.session.id)?);
    }
    Ok(Json(info))
}

/// Proves identity again, with the password (and second factor) or a passkey, and replaces
/// the session: the answer carries a new token (or cookie and CSRF token) and the old one
/// stops working (OWASP ASVS v5.0.0-7.2.4). The new session counts as freshly authenticated
/// for sensitive actions in the next five minutes (7.5.1).
#[utoipa::path(post, path = "/api/auth/reauth", tag = "auth", request_body = ReauthRequest,
    responses(
        (status = 200, description = "Re-authenticated: a new session replaces the current one", body = LoginResponse),
        (status = 400, description = "Neither or both of password and passkey given", body = sealdesk_proto::ErrorBody),
        (status = 401, description = "invalid_credentials: wrong password, factor or passkey assertion", body = sealdesk_proto::ErrorBody),
        (status = 403, description = "API tokens cannot re-authenticate", body = sealdesk_proto::ErrorBody),
        (status = 429, description = "rate_limited: too many failures; see Retry-After", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn reauth(
    State(state): State<AppState>,
    auth: Auth,
    meta: ClientMeta,
    ApiJson(req): ApiJson<ReauthRequest>,
) -> Result<Response, ApiError> {
    let client_kind = match auth.session.kind {
        SessionKind::Browser => ClientKind::Browser,
        SessionKind::Cli => ClientKind::Cli,
        // An API token is a credential of its own, never upgraded by a password.
        SessionKind::ApiToken => return Err(ApiError::Forbidden),
    };
    let (verified, method) = match (&req.password, &req.passkey) {
        (Some(password), None) => {
            let offered = offered(password, req.totp.as_ref(), req.recovery_code.as_ref());
            let verified = credentials::attempt(
                &state,
                auth.principal.tenant,
                auth.staff.email.as_str(),
                &offered,
                auth.ip,
            )
            .await?;
            (verified, "password")
        }
        (None, Some(assertion)) if req.totp.is_none() && req.recovery_code.is_none() => {
            let webauthn = crate::auth::passkeys::require(&state)?;
            let verified =
                passkey_login::reauthenticate(&state, &webauthn, &auth, assertion).await?;
            (verified, "passkey")
        }
        _ => {
            return Err(ApiError::BadRequest(
                "give either the password (with totp or recovery_code when the account has \
                 a second factor) or a passkey assertion"
                    .into(),
            ));
        }
    };
    if verified.staff.id != auth.principal.staff {
        return Err(ApiError::InvalidCredentials);
    }
    let (session, token) = sessions::rotate(
        &state,
        &auth.session,
        &verified,
        client_kind,
        meta.ip,
        meta.user_agent,
    )
    .await?;
    audit::event(
        &state,
        AuditAction::Reauthenticated,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(auth.principal.tenant)
    .target(format!("session:{}", session.id))
    .detail("replaced", format!("session:{}", auth.session.id))
    .detail("method", method)
    .ip(auth.ip)
    .record(&state)
    .await;
    session_response(&state, &verified, &session, &token, client_kind)
}

/// Starts a passkey re-authentication: a challenge for the caller's own passkeys, to sign
/// with `navigator.credentials.get()` and send to `POST /api/auth/reauth` as `passkey`.
#[utoipa::path(post, path = "/api/auth/reauth/passkey", tag = "auth",
    responses(
        (status = 200, description = "Pass `options` to navigator.credentials.get()", body = PasskeyChallenge),
        (status = 403, description = "API tokens cannot re-authenticate", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "Passkeys are off: server.public_url is not set", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "The account has no passkey", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn reauth_passkey_start(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<PasskeyChallenge>, ApiError> {
    if auth.session.kind == SessionKind::ApiToken {
        return Err(ApiError::Forbidden);
    }
    let webauthn = crate::auth::passkeys::require(&state)?;
    Ok(Json(
        passkey_login::start_reauthentication(&state, &webauthn, &auth).await?,
    ))
}
