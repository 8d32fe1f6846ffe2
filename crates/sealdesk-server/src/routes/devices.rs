//! Device enrolment over REST: a staff device registers and fetches its certificate and team
//! key wraps; admins list pending devices, certify them after comparing fingerprints, revoke
//! them, and upload team keys wrapped to them.

use axum::Json;
use axum::extract::{Path, Query, State};
use sealdesk_core::access::Action;
use sealdesk_proto::devices::{
    CertifyDevice, DeviceList, DeviceRequest, DeviceView, KeyWrapList, KeyWrapUpload,
};
use sealdesk_proto::{DeviceId, TenantId};
use serde::Deserialize;

use crate::app::devices;
use crate::auth::Auth;
use crate::auth::extract::TenantScope;
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// Asks to enrol this device: registers its public keys (pending until an admin certifies
/// it). Show the returned fingerprint to the admin.
#[utoipa::path(post, path = "/api/account/devices", tag = "account",
    request_body = DeviceRequest,
    responses((status = 200, description = "Registered, pending", body = DeviceView),
        (status = 400, description = "A key or the label is unusable", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "The key is already registered, or too many devices", body = sealdesk_proto::ErrorBody)))]
pub async fn request(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<DeviceRequest>,
) -> Result<Json<DeviceView>, ApiError> {
    auth.require(Action::ViewQueue, auth.principal.tenant)?;
    let device = devices::request(&state, auth.principal, &req).await?;
    Ok(Json(devices::view(&device)))
}

/// The caller's devices, with their certificates once issued.
#[utoipa::path(get, path = "/api/account/devices", tag = "account",
    responses((status = 200, description = "Oldest first", body = DeviceList)))]
pub async fn own_list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<DeviceList>, ApiError> {
    auth.require(Action::ViewQueue, auth.principal.tenant)?;
    let list = state
        .store()
        .list_devices(auth.principal.tenant, Some(auth.principal.staff))
        .await?;
    Ok(Json(DeviceList {
        devices: list.iter().map(devices::view).collect(),
    }))
}

/// Revokes one of the caller's devices (a lost laptop).
#[utoipa::path(delete, path = "/api/account/devices/{id}", tag = "account",
    params(("id" = DeviceId, Path, description = "Device id")),
    responses((status = 200, description = "Revoked", body = DeviceView),
        (status = 404, description = "Not one of the caller's devices", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "Already revoked", body = sealdesk_proto::ErrorBody)))]
pub async fn own_revoke(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<DeviceId>,
) -> Result<Json<DeviceView>, ApiError> {
    auth.require(Action::ViewQueue, auth.principal.tenant)?;
    devices::own(&state, auth.principal, id).await?;
    let device = devices::revoke(&state, auth.principal, id).await?;
    Ok(Json(devices::view(&device)))
}

/// The team keys wrapped to one of the caller's devices.
#[utoipa::path(get, path = "/api/account/devices/{id}/key-wraps", tag = "account",
    params(("id" = DeviceId, Path, description = "Device id")),
    responses((status = 200, description = "By team, then version", body = KeyWrapList),
        (status = 404, description = "Not one of the caller's devices", body = sealdesk_proto::ErrorBody)))]
pub async fn own_wraps(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<DeviceId>,
) -> Result<Json<KeyWrapList>, ApiError> {
    auth.require(Action::ViewQueue, auth.principal.tenant)?;
    Ok(Json(KeyWrapList {
        wraps: devices::own_wraps(&state, auth.principal, id).await?,
    }))
}

/// Filter of the tenant's device list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct DeviceQuery {
    /// Only devices in this state (`pending`, `certified`, `revoked`).
    pub status: Option<String>,
}

/// The tenant's devices (for admins who enrol them).
#[utoipa::path(get, path = "/api/tenants/{tenant}/devices", tag = "admin",
    params(("tenant" = TenantId, Path, description = "Tenant id"), DeviceQuery),
    responses((status = 200, description = "Oldest request first", body = DeviceList)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
    Query(query): Query<DeviceQuery>,
) -> Result<Json<DeviceList>, ApiError> {
    auth.require(Action::EnrolDevices, tenant)?;
    let all = state.store().list_devices(tenant, None).await?;
    Ok(Json(DeviceList {
        devices: all
            .iter()
            .filter(|d| {
                query
                    .status
                    .as_deref()
                    .is_none_or(|s| d.status.as_str() == s)
            })
            .map(devices::view)
            .collect(),
    }))
}

/// Certifies a pending device: the fingerprint the admin compared with the device's screen
/// and the certificate chain they made for its signature key.
#[utoipa::path(post, path = "/api/tenants/{tenant}/devices/{id}/certificate", tag = "admin",
    request_body = CertifyDevice,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = DeviceId, Path, description = "Device id")),
    responses((status = 200, description = "Certified", body = DeviceView),
        (status = 400, description = "Wrong fingerprint (`invalid_input`), or a chain that does not certify this device under the tenant's roots (`mls_rejected`)", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "Not pending, or the tenant has no root key", body = sealdesk_proto::ErrorBody)))]
pub async fn certify(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, DeviceId)>,
    ApiJson(req): ApiJson<CertifyDevice>,
) -> Result<Json<DeviceView>, ApiError> {
    auth.require(Action::EnrolDevices, tenant)?;
    auth.require_recent_auth(auth.at)?;
    let device = devices::certify(
        &state,
        auth.principal,
        id,
        &req.fingerprint,
        &req.credential,
    )
    .await?;
    Ok(Json(devices::view(&device)))
}

/// Revokes a device of any staff member of the tenant.
#[utoipa::path(delete, path = "/api/tenants/{tenant}/devices/{id}", tag = "admin",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = DeviceId, Path, description = "Device id")),
    responses((status = 200, description = "Revoked", body = DeviceView),
        (status = 409, description = "Already revoked", body = sealdesk_proto::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, DeviceId)>,
) -> Result<Json<DeviceView>, ApiError> {
    auth.require(Action::EnrolDevices, tenant)?;
    let device = devices::revoke(&state, auth.principal, id).await?;
    Ok(Json(devices::view(&device)))
}

/// Stores team keys wrapped to certified devices (sealed by the admin's client; the server
/// cannot open them).
#[utoipa::path(post, path = "/api/tenants/{tenant}/key-wraps", tag = "admin",
    request_body = KeyWrapUpload,
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 204, description = "Stored"),
        (status = 404, description = "A device or team is not the tenant's", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "A device is not certified, or a key version was never announced", body = sealdesk_proto::ErrorBody)))]
pub async fn add_wraps(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
    ApiJson(req): ApiJson<KeyWrapUpload>,
) -> Result<axum::http::StatusCode, ApiError> {
    auth.require(Action::EnrolDevices, tenant)?;
    devices::add_wraps(&state, auth.principal, &req.wraps).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
