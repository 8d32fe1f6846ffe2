//! Passkey routes: the caller's passkeys (register, list, remove) and passkey login. The
//! WebAuthn work happens in `auth::passkeys`; without `server.public_url` every route answers
//! 404 saying passkeys are off.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use sealdesk_core::access::Action;
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_proto::passkeys::{
    PasskeyChallenge, PasskeyLoginFinish, PasskeyLoginStart, PasskeyRegisterFinish, PasskeyView,
};
use uuid::Uuid;

use super::auth::{ClientMeta, login_response};
use crate::app::audit;
use crate::auth::Auth;
use crate::auth::passkeys::{self, login, register};
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// Starts registering a passkey (needs a recent proof of identity).
#[utoipa::path(post, path = "/api/account/passkeys/register/start", tag = "account",
    responses(
        (status = 200, description = "Pass `options` to navigator.credentials.create()", body = PasskeyChallenge),
        (status = 401, description = "reauthentication_required", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "Passkeys are off: server.public_url is not set", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn register_start(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<PasskeyChallenge>, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    auth.require_recent_auth(state.clock().now())?;
    let webauthn = passkeys::require(&state)?;
    Ok(Json(register::start(&state, &webauthn, &auth).await?))
}

/// Finishes registering a passkey with the authenticator's response.
#[utoipa::path(post, path = "/api/account/passkeys/register/finish", tag = "account",
    request_body = PasskeyRegisterFinish,
    responses(
        (status = 200, description = "Registered", body = PasskeyView),
        (status = 400, description = "Expired or used ceremony, or a response that does not verify", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "This passkey is already registered", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn register_finish(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<PasskeyRegisterFinish>,
) -> Result<Json<PasskeyView>, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    let webauthn = passkeys::require(&state)?;
    Ok(Json(
        register::finish(&state, &webauthn, &auth, &req).await?,
    ))
}

/// The caller's passkeys, oldest first.
#[utoipa::path(get, path = "/api/account/passkeys", tag = "account",
    responses((status = 200, description = "Registered passkeys", body = Vec<PasskeyView>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<PasskeyView>>, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    let records = state
        .store()
        .list_passkeys(auth.principal.tenant, auth.principal.staff)
        .await?;
    Ok(Json(records.iter().map(register::view).collect()))
}

/// Removes one of the caller's passkeys (needs a recent proof of identity). The last second
/// factor of an account whose tenant requires one cannot be removed.
#[utoipa::path(delete, path = "/api/account/passkeys/{id}", tag = "account",
    params(("id" = Uuid, Path, description = "Passkey id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "Not one of yours", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "It is the last second factor and the tenant requires one", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    auth.require_recent_auth(state.clock().now())?;
    let (tenant_id, staff) = (auth.principal.tenant, auth.principal.staff);
    let store = state.store();
    let passkeys = store.list_passkeys(tenant_id, staff).await?;
    if !passkeys.iter().any(|p| p.id == id) {
        return Err(ApiError::NotFound);
    }
    let tenant = store.get_tenant(tenant_id).await?;
    let has_totp = store
        .get_totp(tenant_id, staff)
        .await?
        .is_some_and(|t| t.confirmed_at.is_some());
    if tenant.settings.require_second_factor && !has_totp && passkeys.len() == 1 {
        return Err(ApiError::Conflict(
            "this tenant requires a second factor; enrol another before removing this passkey"
                .into(),
        ));
    }
    if !store.delete_passkey(tenant_id, staff, id).await? {
        return Err(ApiError::NotFound);
    }
    audit::event(&state, AuditAction::PasskeyRemoved, Actor::Staff(staff))
        .tenant(tenant_id)
        .target(format!("passkey:{id}"))
        .ip(auth.ip)
        .record(&state)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a passkey login. The answer looks the same whether or not the account exists.
#[utoipa::path(post, path = "/api/auth/passkey/start", tag = "auth", request_body = PasskeyLoginStart,
    responses(
        (status = 200, description = "Pass `options` to navigator.credentials.get()", body = PasskeyChallenge),
        (status = 404, description = "Passkeys are off: server.public_url is not set", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn login_start(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PasskeyLoginStart>,
) -> Result<Json<PasskeyChallenge>, ApiError> {
    let webauthn = passkeys::require(&state)?;
    Ok(Json(login::start(&state, &webauthn, &req).await?))
}

/// Finishes a passkey login: the passkey alone (it verified the user), or with the password
/// as its second factor.
#[utoipa::path(post, path = "/api/auth/passkey/finish", tag = "auth", request_body = PasskeyLoginFinish,
    responses(
        (status = 200, description = "Logged in", body = sealdesk_proto::auth::LoginResponse),
        (status = 401, description = "invalid_credentials: the assertion, ceremony or password is wrong", body = sealdesk_proto::ErrorBody),
        (status = 429, description = "rate_limited: too many failures; see Retry-After", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn login_finish(
    State(state): State<AppState>,
    meta: ClientMeta,
    ApiJson(req): ApiJson<PasskeyLoginFinish>,
) -> Result<Response, ApiError> {
    let webauthn = passkeys::require(&state)?;
    let verified = login::finish(&state, &webauthn, &req, meta.ip).await?;
    login_response(&state, &verified, req.client, meta).await
}
