//! An inbox's widget settings for admins: the privacy notice and the pre-chat fields.

use axum::Json;
use axum::extract::{Path, State};
use sealdesk_core::access::Action;
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_proto::widget::{InboxWidgetSettings, WidgetOrigins};
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

fn origins_view(tenant: &sealdesk_core::domain::Tenant) -> WidgetOrigins {
    WidgetOrigins {
        origins: tenant
            .widget_origins
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

/// The origins allowed to embed the tenant's widget.
#[utoipa::path(get, path = "/api/tenants/{tenant}/widget-origins", tag = "admin",
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "The origins", body = WidgetOrigins)))]
pub async fn get_origins(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
) -> Result<Json<WidgetOrigins>, ApiError> {
    auth.require(Action::ManageSettings, tenant)?;
    Ok(Json(origins_view(&state.store().get_tenant(tenant).await?)))
}

/// Replaces the origins allowed to embed the widget (needs a recent re-authentication: they
/// decide which sites may open chats in the tenant's name).
#[utoipa::path(put, path = "/api/tenants/{tenant}/widget-origins", tag = "admin",
    request_body = WidgetOrigins,
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "The origins as stored (normalised)", body = WidgetOrigins),
        (status = 400, description = "An origin is not `scheme://host[:port]`, or too many", body = sealdesk_proto::ErrorBody)))]
pub async fn set_origins(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
    ApiJson(req): ApiJson<WidgetOrigins>,
) -> Result<Json<WidgetOrigins>, ApiError> {
    auth.require(Action::ManageSettings, tenant)?;
    auth.require_recent_auth(state.clock().now())?;
    if req.origins.len() > sealdesk_core::domain::NewTenant::MAX_LIST {
        return Err(sealdesk_core::ValidationError::new(
            "origins",
            format!(
                "at most {} origins",
                sealdesk_core::domain::NewTenant::MAX_LIST
            ),
        )
        .into());
    }
    let mut parsed: Vec<sealdesk_core::domain::WidgetOrigin> = Vec::new();
    for raw in &req.origins {
        let origin = sealdesk_core::domain::WidgetOrigin::parse(raw)?;
        if !parsed.contains(&origin) {
            parsed.push(origin);
        }
    }
    let updated = state.store().set_widget_origins(tenant, &parsed).await?;
    audit::event(
        &state,
        AuditAction::SettingsChanged,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .detail("changed", "widget_origins")
    .detail("origins", parsed.len().to_string())
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(Json(origins_view(&updated)))
}
