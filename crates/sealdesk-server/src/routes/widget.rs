//! An inbox's widget settings for admins: the privacy notice and the pre-chat fields.

use axum::Json;
use axum::extract::{Path, State};
use sealdesk_core::access::Action;
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_proto::widget::InboxWidgetSettings;
use sealdesk_proto::{TeamId, TenantId};

use crate::app::{audit, widget};
use crate::auth::Auth;
use crate::auth::extract::TenantScope;
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// An inbox's widget settings (none set: no notice, no fields).
#[utoipa::path(get, path = "/api/tenants/{tenant}/teams/{team}/widget", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "The settings", body = InboxWidgetSettings),
        (status = 404, description = "No such team in the tenant", body = sealdesk_proto::ErrorBody)))]
pub async fn get_widget(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
) -> Result<Json<InboxWidgetSettings>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    state.store().get_team(tenant, team).await?;
    Ok(Json(widget::settings(&state, tenant, team).await?))
}

/// Replaces an inbox's widget settings. A new notice version makes the widget ask every
/// visitor again; conversations keep the version they were opened under.
#[utoipa::path(put, path = "/api/tenants/{tenant}/teams/{team}/widget", tag = "conversations",
    request_body = InboxWidgetSettings,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "The settings as stored", body = InboxWidgetSettings),
        (status = 400, description = "A field fails its rule (`invalid_input` names it)", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "No such team in the tenant", body = sealdesk_proto::ErrorBody)))]
pub async fn set_widget(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
    ApiJson(req): ApiJson<InboxWidgetSettings>,
) -> Result<Json<InboxWidgetSettings>, ApiError> {
    auth.require(Action::ManageSettings, tenant)?;
    state.store().get_team(tenant, team).await?;
    let notice = req.privacy_notice.as_ref().map(|n| n.version.clone());
    let fields = req.prechat_fields.len();
    widget::set(&state, tenant, team, req).await?;
    audit::event(
        &state,
        AuditAction::SettingsChanged,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("team:{team}"))
    .detail("changed", "widget")
    .detail("notice_version", notice.unwrap_or_default())
    .detail("prechat_fields", fields.to_string())
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(Json(widget::settings(&state, tenant, team).await?))
}
