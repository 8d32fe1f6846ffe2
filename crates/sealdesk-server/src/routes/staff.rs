//! Tenant administration of staff: list, invite, change role, disable, revoke sessions; and
//! accepting an invitation.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use sealdesk_core::access::{Action, may_manage_role};
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_core::auth::Invitation;
use sealdesk_core::domain::{Role, Staff};
use sealdesk_crypto::token::{self, TokenKind};
use sealdesk_proto::auth::{AcceptInvitation, InviteRequest, InviteResponse, RoleChange};
use sealdesk_proto::tenancy::StaffView;
use sealdesk_proto::{StaffId, TenantId};
use secrecy::{ExposeSecret, SecretString};
use time::Duration;

use super::auth::{ClientMeta, login_response};
use crate::app::audit;
use crate::app::tenancy::{self, CreateStaff};
use crate::auth::Auth;
use crate::auth::credentials::{Verified, hash_password};
use crate::auth::extract::TenantScope;
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

/// How long an invitation stays valid.
const INVITATION_LIFETIME: Duration = Duration::days(7);

/// The tenant's staff.
#[utoipa::path(get, path = "/api/tenants/{tenant}/staff", tag = "staff",
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "Staff accounts", body = Vec<StaffView>), (status = 404, description = "Not your tenant", body = sealdesk_proto::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(tenant): Path<TenantId>,
) -> Result<Json<Vec<StaffView>>, ApiError> {
    auth.require(Action::ViewTenant, tenant)?;
    Ok(Json(
        state
            .store()
            .list_staff(tenant)
            .await?
            .iter()
            .map(Staff::view)
            .collect(),
    ))
}

/// Creates a password-less account and a single-use invitation token for it.
#[utoipa::path(post, path = "/api/tenants/{tenant}/invitations", tag = "staff", request_body = InviteRequest,
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "Invited; deliver the token out of band", body = InviteResponse)))]
pub async fn invite(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<Json<InviteResponse>, ApiError> {
    auth.require(Action::ManageStaff, tenant)?;
    let role = Role::parse(&req.role)?;
    if !may_manage_role(auth.principal.role, role) {
        return Err(ApiError::Forbidden);
    }
    let deps = tenancy::Deps {
        store: state.store().clone(),
        clock: state.clock_arc(),
        random: state.random_arc(),
        password_policy: state.config().password_hash,
    };
    let input = CreateStaff {
        tenant,
        email: req.email,
        role: req.role,
        display_name: req.display_name,
        password: None,
    };
    let staff = tenancy::create_staff(&deps, input).await?;
    let (token, token_hash) = token::generate(state.random(), TokenKind::Invite);
    let now = state.clock().now();
    let mut id = [0u8; 16];
    state.random().fill(&mut id);
    let invitation = Invitation {
        id: uuid::Builder::from_random_bytes(id).into_uuid(),
        tenant,
        staff: staff.id,
        token_hash,
        created_by: Some(auth.principal.staff),
        created_at: now,
        expires_at: now + INVITATION_LIFETIME,
        used_at: None,
    };
    state.store().create_invitation(&invitation).await?;
    audit::event(
        &state,
        AuditAction::InvitationCreated,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("staff:{}", staff.id))
    .detail("role", staff.role.as_str())
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(Json(InviteResponse {
        staff: staff.view(),
        invitation_token: token.expose_secret().to_owned(),
        expires_at: invitation.expires_at,
    }))
}

/// Accepts an invitation: sets the password and starts a session (restricted to enrolling a
/// second factor when the tenant requires one).
#[utoipa::path(post, path = "/api/invitations/accept", tag = "staff", request_body = AcceptInvitation,
    responses((status = 200, description = "Password set; logged in", body = sealdesk_proto::auth::LoginResponse),
              (status = 401, description = "Unknown, used or expired invitation", body = sealdesk_proto::ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    meta: ClientMeta,
    ApiJson(req): ApiJson<AcceptInvitation>,
) -> Result<Response, ApiError> {
    if token::parse(&req.token.0).is_none() {
        return Err(ApiError::InvalidCredentials);
    }
    let now = state.clock().now();
    let digest = token::digest(&req.token.0);
    // Check the password before spending the invitation, so a weak password can be retried.
    let pending = state
        .store()
        .peek_invitation(&digest, now)
        .await?
        .ok_or(ApiError::InvalidCredentials)?;
    let tenant = state.store().get_tenant(pending.tenant).await?;
    let staff = state
        .store()
        .get_staff(pending.tenant, pending.staff)
        .await?;
    let password = SecretString::from(req.password.0.clone());
    super::account::check_acceptable(&password, &tenant, staff.email.as_str())?;
    // Single use, atomically: of two concurrent accepts only one gets here.
    state
        .store()
        .take_invitation(&digest, now)
        .await?
        .ok_or(ApiError::InvalidCredentials)?;
    let phc = hash_password(&state, password).await?;
    state
        .store()
        .set_staff_password_hash(tenant.id, staff.id, &phc)
        .await?;
    audit::event(
        &state,
        AuditAction::InvitationAccepted,
        Actor::Staff(staff.id),
    )
    .tenant(tenant.id)
    .target(format!("staff:{}", staff.id))
    .ip(meta.ip)
    .record(&state)
    .await;
    let restricted = tenant.settings.require_second_factor;
    let verified = Verified {
        staff,
        tenant,
        second_factor: false,
        restricted,
    };
    login_response(&state, &verified, req.client, meta).await
}

/// Changes a staff member's role. Only owners grant or remove the owner role.
#[utoipa::path(put, path = "/api/tenants/{tenant}/staff/{staff}/role", tag = "staff", request_body = RoleChange,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("staff" = StaffId, Path, description = "Staff id")),
    responses((status = 200, description = "Role changed", body = StaffView)))]
pub async fn set_role(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, staff)): Path<(TenantId, StaffId)>,
    ApiJson(req): ApiJson<RoleChange>,
) -> Result<Json<StaffView>, ApiError> {
    auth.require(Action::ManageStaff, tenant)?;
    let role = Role::parse(&req.role)?;
    let current = state.store().get_staff(tenant, staff).await?;
    if !may_manage_role(auth.principal.role, current.role)
        || !may_manage_role(auth.principal.role, role)
    {
        return Err(ApiError::Forbidden);
    }
    // The store refuses, atomically, to demote the last enabled owner; a count here would race.
    let updated = state
        .store()
        .set_staff_role(tenant, staff, role)
        .await
        .map_err(|e| match e {
            sealdesk_store::StoreError::Conflict {
                constraint: sealdesk_store::Constraint::LastOwner,
            } => ApiError::Conflict("a tenant keeps at least one owner".into()),
            other => other.into(),
        })?;
    audit::event(
        &state,
        AuditAction::RoleChanged,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("staff:{staff}"))
    .detail("from", current.role.as_str())
    .detail("to", role.as_str())
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(Json(updated.view()))
}

async fn set_disabled(
    state: &AppState,
    auth: &Auth,
    tenant: TenantId,
    staff: StaffId,
    disabled: bool,
) -> Result<Json<StaffView>, ApiError> {
    auth.require(Action::ManageStaff, tenant)?;
    let current = state.store().get_staff(tenant, staff).await?;
    if !may_manage_role(auth.principal.role, current.role) || staff == auth.principal.staff {
        return Err(ApiError::Forbidden);
    }
    let updated = state
        .store()
        .set_staff_disabled(tenant, staff, disabled)
        .await?;
    if disabled {
        state
            .store()
            .revoke_all_sessions(tenant, staff, state.clock().now())
            .await?;
    }
    audit::event(
        state,
        AuditAction::StaffStatusChanged,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("staff:{staff}"))
    .detail("disabled", disabled.to_string())
    .ip(auth.ip)
    .record(state)
    .await;
    Ok(Json(updated.view()))
}

/// Disables an account and ends its sessions.
#[utoipa::path(post, path = "/api/tenants/{tenant}/staff/{staff}/disable", tag = "staff",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("staff" = StaffId, Path, description = "Staff id")),
    responses((status = 200, description = "Disabled", body = StaffView)))]
pub async fn disable(
    State(state): State<AppState>,
    auth: Auth,
    Path((tenant, staff)): Path<(TenantId, StaffId)>,
) -> Result<Json<StaffView>, ApiError> {
    set_disabled(&state, &auth, tenant, staff, true).await
}

/// Re-enables an account.
#[utoipa::path(post, path = "/api/tenants/{tenant}/staff/{staff}/enable", tag = "staff",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("staff" = StaffId, Path, description = "Staff id")),
    responses((status = 200, description = "Enabled", body = StaffView)))]
pub async fn enable(
    State(state): State<AppState>,
    auth: Auth,
    Path((tenant, staff)): Path<(TenantId, StaffId)>,
) -> Result<Json<StaffView>, ApiError> {
    set_disabled(&state, &auth, tenant, staff, false).await
}

/// Revokes every session and API token of a staff member.
#[utoipa::path(post, path = "/api/tenants/{tenant}/staff/{staff}/revoke-sessions", tag = "staff",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("staff" = StaffId, Path, description = "Staff id")),
    responses((status = 200, description = "How many were revoked", body = u64)))]
pub async fn revoke_sessions(
    State(state): State<AppState>,
    auth: Auth,
    Path((tenant, staff)): Path<(TenantId, StaffId)>,
) -> Result<Json<u64>, ApiError> {
    auth.require(Action::RevokeSessions, tenant)?;
    let target = state.store().get_staff(tenant, staff).await?;
    if !may_manage_role(auth.principal.role, target.role) {
        return Err(ApiError::Forbidden);
    }
    let count = state
        .store()
        .revoke_all_sessions(tenant, staff, state.clock().now())
        .await?;
    audit::event(
        &state,
        AuditAction::SessionsRevokedAll,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("staff:{staff}"))
    .detail("count", count.to_string())
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(Json(count))
}
