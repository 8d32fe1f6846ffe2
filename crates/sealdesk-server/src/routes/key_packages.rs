//! The key-package directory over REST: a staff device publishes and checks its stock; a
//! conversation's member (visitor or staff) takes the key packages to add an agent.

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_core::access::Action;
use sealdesk_proto::keys::{
    CarriedBundleView, DeviceStockList, DeviceStockView, HistoryGenerationView, HistoryMemberState,
    HistoryMemberView, HistoryPoolStock, HistoryPoolUpload, KeyPackageList, KeyPackageUpload,
    KeyPackageView, TakeKeyPackages,
};
use sealdesk_proto::{ConversationId, TeamId, TenantId};
use sealdesk_store::TakenKeyPackage;

use crate::app::conversations::Caller;
use crate::app::key_packages::{self, LOW_WATER};
use crate::auth::Auth;
use crate::auth::extract::TenantScope;
use crate::error::{ApiError, ApiJson};
use crate::routes::visitors::VisitorAuth;
use crate::state::AppState;

fn list(taken: Vec<TakenKeyPackage>) -> KeyPackageList {
    KeyPackageList {
        key_packages: taken
            .into_iter()
            .map(|t| KeyPackageView {
                device_key: STANDARD.encode(t.device_key),
                key_package: STANDARD.encode(&t.payload),
                last_resort: t.last_resort,
            })
            .collect(),
    }
}

/// Publishes key packages of one of the caller's devices (its certificate chain must lead to
/// the tenant's root key).
#[utoipa::path(post, path = "/api/account/key-packages", tag = "account",
    request_body = KeyPackageUpload,
    responses((status = 200, description = "The device's stock afterwards", body = DeviceStockView),
        (status = 400, description = "Not base64, or a key package the directory refuses (`mls_rejected`)", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "The tenant has no root key, or the device is full", body = sealdesk_proto::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<KeyPackageUpload>,
) -> Result<Json<DeviceStockView>, ApiError> {
    auth.require(Action::HandleConversations, auth.principal.tenant)?;
    let (device, available) = key_packages::publish(
        &state,
        auth.principal,
        &req.key_packages,
        req.last_resort.as_deref(),
    )
    .await?;
    let stock = key_packages::stock(&state, auth.principal).await?;
    Ok(Json(DeviceStockView {
        device_key: STANDARD.encode(device),
        available,
        last_resort: stock
            .iter()
            .any(|d| d.device_key == device && d.last_resort),
    }))
}

/// The caller's devices and how many key packages each still holds.
#[utoipa::path(get, path = "/api/account/key-packages", tag = "account",
    responses((status = 200, description = "By device", body = DeviceStockList)))]
pub async fn stock(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<DeviceStockList>, ApiError> {
    auth.require(Action::HandleConversations, auth.principal.tenant)?;
    let devices = key_packages::stock(&state, auth.principal).await?;
    Ok(Json(DeviceStockList {
        devices: devices
            .into_iter()
            .map(|d| DeviceStockView {
                device_key: STANDARD.encode(d.device_key),
                available: d.available,
                last_resort: d.last_resort,
            })
            .collect(),
        low_water: LOW_WATER,
    }))
}

/// Takes one key package per device of the conversation's assignee that is not yet in its
/// group, for the visitor's widget to add them.
#[utoipa::path(post, path = "/api/visitor/conversations/{id}/key-packages", tag = "widget",
    security(("bearer" = [])),
    request_body = TakeKeyPackages,
    params(("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "One per device", body = KeyPackageList),
        (status = 403, description = "Another agent than the assignee", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "Not one of the visitor's conversations", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "No agent assigned yet", body = sealdesk_proto::ErrorBody)))]
pub async fn visitor_take(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    Path(id): Path<ConversationId>,
    ApiJson(req): ApiJson<TakeKeyPackages>,
) -> Result<Json<KeyPackageList>, ApiError> {
    Ok(Json(list(
        key_packages::take(&state, &visitor.caller(), id, req.staff).await?,
    )))
}

/// Takes one key package per device of a staff member (default: the assignee) not yet in the
/// conversation's group, for a member adding them (transfer, supervisor join).
#[utoipa::path(post, path = "/api/tenants/{tenant}/conversations/{id}/key-packages", tag = "conversations",
    request_body = TakeKeyPackages,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "One per device", body = KeyPackageList),
        (status = 403, description = "May read but not write the conversation", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "No such conversation for the caller", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "No agent assigned yet", body = sealdesk_proto::ErrorBody)))]
pub async fn staff_take(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
    ApiJson(req): ApiJson<TakeKeyPackages>,
) -> Result<Json<KeyPackageList>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    let caller = Caller::staff(&state, auth.principal).await?;
    Ok(Json(list(
        key_packages::take(&state, &caller, id, req.staff).await?,
    )))
}

/// Adds History Member key packages to a team's pool (members of the team).
#[utoipa::path(post, path = "/api/tenants/{tenant}/teams/{team}/history-pool", tag = "conversations",
    request_body = HistoryPoolUpload,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "The pool afterwards", body = HistoryPoolStock),
        (status = 400, description = "Not base64, or a key package the directory refuses (`mls_rejected`)", body = sealdesk_proto::ErrorBody),
        (status = 403, description = "Not a member of the team", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "The tenant has no root key, or the pool is full", body = sealdesk_proto::ErrorBody)))]
pub async fn publish_history(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
    ApiJson(req): ApiJson<HistoryPoolUpload>,
) -> Result<Json<HistoryPoolStock>, ApiError> {
    auth.require(Action::HandleConversations, tenant)?;
    let entries: Vec<(String, String)> = req
        .entries
        .into_iter()
        .map(|e| (e.key_package, e.sealed_bundle))
        .collect();
    let available = key_packages::publish_history(&state, auth.principal, team, &entries).await?;
    crate::metrics::history_pool(tenant, team, available, LOW_WATER);
    Ok(Json(HistoryPoolStock {
        available,
        low_water: LOW_WATER,
    }))
}

/// How many History Member key packages a team's pool holds.
#[utoipa::path(get, path = "/api/tenants/{tenant}/teams/{team}/history-pool", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "The pool", body = HistoryPoolStock)))]
pub async fn history_stock(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
) -> Result<Json<HistoryPoolStock>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    let available = state
        .store()
        .history_pool_size(tenant, team, state.clock().now())
        .await?;
    Ok(Json(HistoryPoolStock {
        available,
        low_water: LOW_WATER,
    }))
}

/// The conversation's History Member key package, for the widget creating its group (taken
/// from the team's pool once; the same one on later calls).
#[utoipa::path(post, path = "/api/visitor/conversations/{id}/history-member", tag = "widget",
    security(("bearer" = [])),
    params(("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "The key package (no bundle)", body = HistoryMemberView),
        (status = 404, description = "Not one of the visitor's conversations", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "The team's pool is empty", body = sealdesk_proto::ErrorBody)))]
pub async fn visitor_history_member(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    Path(id): Path<ConversationId>,
) -> Result<Json<HistoryMemberView>, ApiError> {
    let member = key_packages::history_member(&state, &visitor.caller(), id).await?;
    Ok(Json(HistoryMemberView {
        key_package: STANDARD.encode(&member.key_package),
        sealed_bundle: None,
        members: Vec::new(),
    }))
}

fn generation(m: &sealdesk_store::HistoryGeneration) -> HistoryGenerationView {
    generation_with(m, &[])
}

/// A generation with the copies of its bundle carried over to other teams.
fn generation_with(
    m: &sealdesk_store::HistoryGeneration,
    carried: &[sealdesk_store::Carried<sealdesk_store::CarriedBundle>],
) -> HistoryGenerationView {
    HistoryGenerationView {
        carried: carried
            .iter()
            .filter(|c| c.copy.generation == m.generation)
            .map(|c| CarriedBundleView {
                team_id: c.team,
                sealed_bundle: STANDARD.encode(&c.copy.sealed_bundle),
                team_key_version: c.copy.team_key_version,
                resealed_by: c.resealed_by,
                at: sealdesk_core::clock::to_unix_ms(c.carried_at),
            })
            .collect(),
        generation: m.generation,
        state: match m.state {
            sealdesk_store::HistoryMemberState::Pending => HistoryMemberState::Pending,
            sealdesk_store::HistoryMemberState::Active => HistoryMemberState::Active,
            sealdesk_store::HistoryMemberState::Retired => HistoryMemberState::Retired,
            sealdesk_store::HistoryMemberState::Abandoned => HistoryMemberState::Abandoned,
        },
        key_package: STANDARD.encode(&m.package.key_package),
        sealed_bundle: STANDARD.encode(&m.package.sealed_bundle),
        team_key_version: m.team_key_version,
    }
}

/// The conversation's History Member with its sealed bundle: what a team member's console
/// opens (with the team key) to preview or replay the conversation. `members` lists every
/// History Member the conversation had (after team key rotations), by generation.
#[utoipa::path(get, path = "/api/tenants/{tenant}/conversations/{id}/history-member", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "The current key package and sealed bundle, and every generation with the copies carried over to other teams", body = HistoryMemberView),
        (status = 404, description = "No such conversation for the caller, or no History Member", body = sealdesk_proto::ErrorBody)))]
pub async fn staff_history_member(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
) -> Result<Json<HistoryMemberView>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    let caller = Caller::staff(&state, auth.principal).await?;
    let (member, members) = key_packages::history_bundle(&state, &caller, id).await?;
    let carried = crate::app::carry::bundles(&state, auth.principal.tenant, id).await?;
    Ok(Json(HistoryMemberView {
        key_package: STANDARD.encode(&member.key_package),
        sealed_bundle: Some(STANDARD.encode(&member.sealed_bundle)),
        members: members
            .iter()
            .map(|m| generation_with(m, &carried))
            .collect(),
    }))
}

/// The History Member a re-key of the conversation adds after a team key rotation (E2EE.md
/// §3): sealed to the team's current key version, taken from its pool once and the same on
/// later calls until the commit `Remove(current) + Add(this)` is sequenced. For the
/// conversation's assignee or a supervisor in it; the caller checks the member's certificate
/// and opens the bundle before committing.
#[utoipa::path(post, path = "/api/tenants/{tenant}/conversations/{id}/history-member/rotation", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "The pending History Member", body = HistoryGenerationView),
        (status = 403, description = "May read but not write the conversation", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "No such conversation for the caller, or no History Member yet", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "Closed (`conversation_closed`), already sealed to the current team key, or none in the pool sealed to it (`conflict`)", body = sealdesk_proto::ErrorBody)))]
pub async fn rotation_member(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
) -> Result<Json<HistoryGenerationView>, ApiError> {
    auth.require(Action::HandleConversations, tenant)?;
    let caller = Caller::staff(&state, auth.principal).await?;
    let member = crate::app::history_rotation::rotation_member(&state, &caller, id).await?;
    Ok(Json(generation(&member)))
}
