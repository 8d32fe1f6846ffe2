//! Tenant administration beyond staff: the audit log, teams, and API tokens.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use sealdesk_core::ValidationError;
use sealdesk_core::access::Action;
use sealdesk_core::audit::{Actor, AuditAction, AuditRecord};
use sealdesk_core::auth::{NewSession, SessionKind};
use sealdesk_core::domain::Team;
use sealdesk_crypto::token::{self, TokenKind};
use sealdesk_proto::TenantId;
use sealdesk_proto::auth::{ApiTokenCreated, ApiTokenRequest, AuditEntryView};
use sealdesk_proto::tenancy::{TeamView, TenantSettingsView};
use secrecy::ExposeSecret;
use serde::Deserialize;
use time::Duration;
use uuid::Uuid;

use crate::app::audit;
use crate::app::tenancy::{self, Deps};
use crate::auth::Auth;
use crate::auth::extract::TenantScope;
use crate::auth::extract::action_name;
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// Paging of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Entries after this sequence number (default 0).
    #[serde(default)]
    pub after: i64,
    /// At most this many (1 to 500, default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `oldest` (default: from `after` on) or `newest` (newest first, below `before`).
    #[serde(default)]
    pub order: Option<String>,
    /// With `order=newest`: entries below this sequence number (default: from the newest).
    #[serde(default)]
    pub before: Option<i64>,
}

fn view(r: AuditRecord) -> AuditEntryView {
    AuditEntryView {
        seq: r.seq,
        at: r.event.at,
        actor: r.event.actor.encode(),
        action: r.event.action.as_str(),
        target: r.event.target,
        details: r.event.details,
        ip: r.event.ip,
        hash: r.hash,
    }
}

/// The tenant's audit log, oldest first (`after`) or newest first (`order=newest`, `before`).
#[utoipa::path(get, path = "/api/tenants/{tenant}/audit", tag = "admin",
    params(("tenant" = TenantId, Path, description = "Tenant id"), AuditQuery),
    responses((status = 200, description = "Entries", body = Vec<AuditEntryView>)))]
pub async fn audit_log(
    State(state): State<AppState>,
    auth: Auth,
    Path(tenant): Path<TenantId>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEntryView>>, ApiError> {
    auth.require(Action::ViewAuditLog, tenant)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let records = match q.order.as_deref() {
        None | Some("oldest") => {
            state
                .store()
                .list_audit(Some(tenant), q.after.max(0), limit)
                .await?
        }
        Some("newest") => {
            state
                .store()
                .list_audit_newest(tenant, q.before, limit)
                .await?
        }
        Some(_) => {
            return Err(ValidationError::new("order", "must be oldest or newest").into());
        }
    };
    Ok(Json(records.into_iter().map(view).collect()))
}

fn settings_view(s: &sealdesk_core::domain::TenantSettings) -> TenantSettingsView {
    TenantSettingsView {
        retention_days: s.retention_days,
        require_second_factor: s.require_second_factor,
        session_idle_minutes: s.session_idle_minutes,
        session_absolute_hours: s.session_absolute_hours,
        staff_ip_allowlist: s
            .staff_ip_allowlist
            .iter()
            .map(ToString::to_string)
            .collect(),
        visitor_blocklist: s
            .visitor_blocklist
            .iter()
            .map(ToString::to_string)
            .collect(),
        visitor_challenge: s.visitor_challenge.as_str().to_owned(),
    }
}

/// The tenant's security and privacy settings.
#[utoipa::path(get, path = "/api/tenants/{tenant}/settings", tag = "admin",
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "Settings", body = TenantSettingsView)))]
pub async fn get_settings(
    State(state): State<AppState>,
    auth: Auth,
    Path(tenant): Path<TenantId>,
) -> Result<Json<TenantSettingsView>, ApiError> {
    auth.require(Action::ManageSettings, tenant)?;
    Ok(Json(settings_view(
        &state.store().get_tenant(tenant).await?.settings,
    )))
}

/// Replaces the settings (needs a recent re-authentication: they govern staff security).
/// An allow-list that would lock out the caller's own address is refused.
#[utoipa::path(put, path = "/api/tenants/{tenant}/settings", tag = "admin", request_body = TenantSettingsView,
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "Updated", body = TenantSettingsView),
              (status = 400, description = "A value is out of range", body = sealdesk_proto::ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
    ApiJson(req): ApiJson<TenantSettingsView>,
) -> Result<Json<TenantSettingsView>, ApiError> {
    auth.require(Action::ManageSettings, tenant)?;
    auth.require_recent_auth(state.clock().now())?;
    let allowlist = req
        .staff_ip_allowlist
        .iter()
        .map(|c| sealdesk_core::domain::Cidr::parse(c))
        .collect::<Result<Vec<_>, _>>()?;
    let blocklist = req
        .visitor_blocklist
        .iter()
        .map(|c| sealdesk_core::domain::Cidr::parse(c))
        .collect::<Result<Vec<_>, _>>()?;
    let challenge = sealdesk_core::domain::VisitorChallenge::parse(&req.visitor_challenge)
        .ok_or_else(|| ValidationError::new("visitor_challenge", "must be off, auto or always"))?;
    let new = sealdesk_core::domain::TenantSettings {
        retention_days: req.retention_days,
        require_second_factor: req.require_second_factor,
        session_idle_minutes: req.session_idle_minutes,
        session_absolute_hours: req.session_absolute_hours,
        staff_ip_allowlist: allowlist,
        visitor_blocklist: blocklist,
        visitor_challenge: challenge,
    };
    new.validate()?;
    if !new.staff_ip_allowlist.is_empty()
        && !new.staff_ip_allowlist.iter().any(|c| c.contains(auth.ip))
    {
        return Err(ApiError::Invalid(ValidationError::new(
            "staff_ip_allowlist",
            format!(
                "your own address {} is not in the list; you would lock yourself out",
                auth.ip
            ),
        )));
    }
    let old = state.store().get_tenant(tenant).await?.settings;
    let updated = state.store().update_tenant_settings(tenant, &new).await?;
    let (before, after) = (settings_view(&old), settings_view(&updated.settings));
    let changed: Vec<&str> = [
        (
            "retention_days",
            before.retention_days != after.retention_days,
        ),
        (
            "require_second_factor",
            before.require_second_factor != after.require_second_factor,
        ),
        (
            "session_idle_minutes",
            before.session_idle_minutes != after.session_idle_minutes,
        ),
        (
            "session_absolute_hours",
            before.session_absolute_hours != after.session_absolute_hours,
        ),
        (
            "staff_ip_allowlist",
            before.staff_ip_allowlist != after.staff_ip_allowlist,
        ),
        (
            "visitor_blocklist",
            before.visitor_blocklist != after.visitor_blocklist,
        ),
        (
            "visitor_challenge",
            before.visitor_challenge != after.visitor_challenge,
        ),
    ]
    .into_iter()
    .filter_map(|(k, c)| c.then_some(k))
    .collect();
    audit::event(
        &state,
        AuditAction::SettingsChanged,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("tenant:{tenant}"))
    .detail("changed", changed.join(","))
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(Json(after))
}

/// The tenant's teams.
#[utoipa::path(get, path = "/api/tenants/{tenant}/teams", tag = "admin",
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "Teams", body = Vec<TeamView>)))]
pub async fn teams(
    State(state): State<AppState>,
    auth: Auth,
    Path(tenant): Path<TenantId>,
) -> Result<Json<Vec<TeamView>>, ApiError> {
    auth.require(Action::ViewTenant, tenant)?;
    Ok(Json(
        state
            .store()
            .list_teams(tenant)
            .await?
            .iter()
            .map(Team::view)
            .collect(),
    ))
}

/// `POST /api/tenants/{tenant}/teams`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewTeamRequest {
    /// Team name.
    pub name: String,
}

/// Creates a team.
#[utoipa::path(post, path = "/api/tenants/{tenant}/teams", tag = "admin", request_body = NewTeamRequest,
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "Created", body = TeamView), (status = 409, description = "Name taken", body = sealdesk_proto::ErrorBody)))]
pub async fn create_team(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
    ApiJson(req): ApiJson<NewTeamRequest>,
) -> Result<Json<TeamView>, ApiError> {
    auth.require(Action::ManageTeams, tenant)?;
    let deps = Deps {
        store: state.store().clone(),
        clock: state.clock_arc(),
        random: state.random_arc(),
        password_policy: state.config().password_hash,
    };
    let team = tenancy::create_team(&deps, tenant, &req.name).await?;
    audit::event(
        &state,
        AuditAction::TeamChanged,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("team:{}", team.id))
    .detail("change", "created")
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(Json(team.view()))
}

/// Creates an API token for the caller, scoped to the conversation-handling actions of their
/// role (needs a recent re-authentication).
#[utoipa::path(post, path = "/api/tenants/{tenant}/api-tokens", tag = "admin", request_body = ApiTokenRequest,
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "Created; the token is shown once", body = ApiTokenCreated)))]
pub async fn create_api_token(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
    ApiJson(req): ApiJson<ApiTokenRequest>,
) -> Result<Json<ApiTokenCreated>, ApiError> {
    auth.require(Action::ManageApiTokens, tenant)?;
    let now = state.clock().now();
    auth.require_recent_auth(now)?;
    let name = sealdesk_core::domain::TeamName::parse(&req.name)
        .map_err(|e| ApiError::Invalid(ValidationError::new("name", e.reason)))?;
    if !(1..=365).contains(&req.expires_in_days) {
        return Err(ApiError::Invalid(ValidationError::new(
            "expires_in_days",
            "must be between 1 and 365",
        )));
    }
    // An API token can do what its creator's role allows, minus account and key management.
    let scopes: Vec<String> = Action::ALL
        .into_iter()
        .filter(|a| sealdesk_core::access::allowed(auth.principal.role, *a))
        .filter(|a| {
            !matches!(
                a,
                Action::ManageOwnAccount
                    | Action::ManageKeys
                    | Action::ManageOwners
                    | Action::ManageApiTokens
            )
        })
        .map(action_name)
        .collect();
    let (token, token_hash) = token::generate(state.random(), TokenKind::Api);
    let mut id = [0u8; 16];
    state.random().fill(&mut id);
    let new = NewSession {
        id: uuid::Builder::from_random_bytes(id).into_uuid(),
        tenant,
        staff: auth.principal.staff,
        token_hash,
        kind: SessionKind::ApiToken,
        name: Some(name.to_string()),
        scopes,
        created_at: now,
        idle_expires_at: None,
        absolute_expires_at: now + Duration::days(i64::from(req.expires_in_days)),
        ip: Some(auth.ip.to_string()),
        user_agent: None,
    };
    let session = state.store().create_session(&new).await?;
    audit::event(
        &state,
        AuditAction::ApiTokenCreated,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("session:{}", session.id))
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(Json(ApiTokenCreated {
        id: session.id,
        token: token.expose_secret().to_owned(),
        expires_at: session.absolute_expires_at,
    }))
}

/// Revokes one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/tenants/{tenant}/api-tokens/{id}", tag = "admin",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = Uuid, Path, description = "Token id")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke_api_token(
    State(state): State<AppState>,
    auth: Auth,
    Path((tenant, id)): Path<(TenantId, Uuid)>,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::ManageApiTokens, tenant)?;
    state
        .store()
        .revoke_session(tenant, auth.principal.staff, id, state.clock().now())
        .await?;
    audit::event(
        &state,
        AuditAction::ApiTokenRevoked,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("session:{id}"))
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(StatusCode::NO_CONTENT)
}
