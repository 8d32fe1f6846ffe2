//! The caller's own account: sessions, TOTP enrolment, recovery codes, password.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sealdesk_core::access::Action;
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_crypto::{password, recovery, totp};
use sealdesk_proto::auth::{
    ChangePassword, RecoveryCodes, SessionView, TotpConfirm, TotpEnrollment,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::app::audit;
use crate::app::tenancy::{MIN_PASSWORD_SINGLE_FACTOR, MIN_PASSWORD_WITH_SECOND_FACTOR};
use crate::auth::Auth;
use crate::auth::credentials::{self, Verified, hash_password};
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

const TOTP_PURPOSE: &str = "totp-seed";
const RECOVERY_CODES: usize = 10;

/// The caller's active sessions and API tokens.
#[utoipa::path(get, path = "/api/account/sessions", tag = "account",
    responses((status = 200, description = "Active sessions, newest first", body = Vec<SessionView>)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    let now = state.clock().now();
    let sessions = state
        .store()
        .list_sessions(auth.principal.tenant, auth.principal.staff, now)
        .await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionView {
                current: s.id == auth.session.id,
                id: s.id,
                kind: s.kind.as_str().to_owned(),
                name: s.name,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.absolute_expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect(),
    ))
}

/// Revokes one of the caller's sessions.
#[utoipa::path(delete, path = "/api/account/sessions/{id}", tag = "account",
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "Not one of yours", body = sealdesk_proto::ErrorBody)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    state
        .store()
        .revoke_session(
            auth.principal.tenant,
            auth.principal.staff,
            id,
            state.clock().now(),
        )
        .await?;
    audit::event(
        &state,
        AuditAction::SessionRevoked,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(auth.principal.tenant)
    .target(format!("session:{id}"))
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts TOTP enrolment: a new secret, as text, `otpauth://` URI and QR code.
#[utoipa::path(post, path = "/api/account/totp", tag = "account",
    responses(
        (status = 200, description = "Scan the QR code, then confirm with a first code", body = TotpEnrollment),
        (status = 409, description = "TOTP is already enabled; remove it first", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn totp_enroll(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<TotpEnrollment>, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    auth.require_recent_auth(state.clock().now())?;
    let secret = totp::generate_secret(state.random());
    let context = auth.principal.staff.to_string();
    let sealed = state
        .master_key()
        .seal(state.random(), TOTP_PURPOSE, context.as_bytes(), &secret);
    state
        .store()
        .begin_totp(
            auth.principal.tenant,
            auth.principal.staff,
            &sealed,
            state.clock().now(),
        )
        .await
        .map_err(|e| match e {
            sealdesk_store::StoreError::Conflict { .. } => {
                ApiError::Conflict("TOTP is already enabled; remove it first".into())
            }
            other => other.into(),
        })?;
    let tenant = state.store().get_tenant(auth.principal.tenant).await?;
    let uri = totp::otpauth_uri(
        &format!("Sealdesk {}", tenant.name),
        auth.staff.email.as_str(),
        &secret,
    );
    audit::event(
        &state,
        AuditAction::TotpEnrolmentStarted,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(auth.principal.tenant)
    .ip(auth.ip)
    .record(&state)
    .await;
    let qr_svg = totp::qr_svg(&uri)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("otpauth URI too long for a QR code")))?;
    Ok(Json(TotpEnrollment {
        secret: totp::encode_secret(&secret),
        qr_svg,
        uri,
    }))
}

/// Confirms TOTP with a first code; returns ten recovery codes, shown once. Log in again
/// with a code to leave an enrolment-only session.
#[utoipa::path(post, path = "/api/account/totp/confirm", tag = "account", request_body = TotpConfirm,
    responses((status = 200, description = "TOTP enabled", body = RecoveryCodes), (status = 400, description = "Wrong code", body = sealdesk_proto::ErrorBody)))]
pub async fn totp_confirm(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<TotpConfirm>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    let (tenant, staff) = (auth.principal.tenant, auth.principal.staff);
    let pending = state.store().get_totp(tenant, staff).await?;
    let Some(pending) = pending.filter(|t| t.confirmed_at.is_none()) else {
        return Err(ApiError::Conflict(
            "no TOTP enrolment is pending; start one first".into(),
        ));
    };
    let secret = state
        .open_sealed(
            TOTP_PURPOSE,
            staff.to_string().as_bytes(),
            &pending.sealed_secret,
        )
        .map_err(|e| ApiError::Internal(e.into()))?;
    let now = state.clock().now();
    let Some(step) = totp::verify(&secret, &req.code.0, now.unix_timestamp(), None) else {
        return Err(ApiError::BadRequest(
            "that code is not valid; check the authenticator app's clock".into(),
        ));
    };
    state.store().confirm_totp(tenant, staff, step, now).await?;
    let codes = new_recovery_codes(&state, &auth).await?;
    audit::event(&state, AuditAction::TotpEnabled, Actor::Staff(staff))
        .tenant(tenant)
        .ip(auth.ip)
        .record(&state)
        .await;
    Ok(Json(codes))
}

/// Removes TOTP (needs a recent re-authentication).
#[utoipa::path(delete, path = "/api/account/totp", tag = "account",
    responses((status = 204, description = "Removed"), (status = 401, description = "reauthentication_required", body = sealdesk_proto::ErrorBody)))]
pub async fn totp_remove(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    auth.require_recent_auth(state.clock().now())?;
    let tenant = state.store().get_tenant(auth.principal.tenant).await?;
    if tenant.settings.require_second_factor {
        return Err(ApiError::Conflict(
            "this tenant requires a second factor; enrol another before removing TOTP".into(),
        ));
    }
    if !state
        .store()
        .delete_totp(auth.principal.tenant, auth.principal.staff)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    audit::event(
        &state,
        AuditAction::TotpDisabled,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(auth.principal.tenant)
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the recovery codes (needs TOTP and a recent re-authentication).
#[utoipa::path(post, path = "/api/account/recovery-codes", tag = "account",
    responses((status = 200, description = "Ten new codes; the old ones stop working", body = RecoveryCodes)))]
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<RecoveryCodes>, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    auth.require_recent_auth(state.clock().now())?;
    if !auth.second_factor {
        return Err(ApiError::Conflict(
            "enrol a second factor (TOTP or a passkey) first".into(),
        ));
    }
    Ok(Json(new_recovery_codes(&state, &auth).await?))
}

/// Ten new codes, shown once, replacing the account's set. Each is stored as a salted
/// Argon2id hash keyed with the current master-key subkey (OWASP ASVS v5.0.0-6.5.2), all
/// hashed in one run of the hashing pool.
async fn new_recovery_codes(state: &AppState, auth: &Auth) -> Result<RecoveryCodes, ApiError> {
    let codes = recovery::generate(state.random(), RECOVERY_CODES);
    let (version, key) = state
        .master_key()
        .derive_key(None, recovery::KDF_PURPOSE)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let normalized: Vec<Zeroizing<String>> = codes
        .iter()
        .filter_map(|c| recovery::normalize(c.expose_secret()).map(Zeroizing::new))
        .collect();
    let random = state.random_arc();
    let hashes = state
        .hasher()
        .run(move |memory| {
            normalized
                .iter()
                .map(|code| recovery::hash(&key, random.as_ref(), code, memory))
                .collect::<Result<Vec<String>, _>>()
        })
        .await?
        .map_err(|e| ApiError::Internal(e.into()))?;
    state
        .store()
        .replace_recovery_codes(
            auth.principal.tenant,
            auth.principal.staff,
            &hashes,
            version,
            state.clock().now(),
        )
        .await?;
    audit::event(
        state,
        AuditAction::RecoveryCodesGenerated,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(auth.principal.tenant)
    .detail("count", hashes.len().to_string())
    .ip(auth.ip)
    .record(state)
    .await;
    Ok(RecoveryCodes {
        recovery_codes: codes.iter().map(|c| c.expose_secret().to_owned()).collect(),
    })
}

/// Changes the caller's password; other sessions are revoked.
#[utoipa::path(post, path = "/api/account/password", tag = "account", request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; every other session and API token is revoked"),
        (status = 400, description = "The new password is not acceptable", body = sealdesk_proto::ErrorBody),
        (status = 401, description = "invalid_credentials: the current password is wrong", body = sealdesk_proto::ErrorBody),
        (status = 429, description = "rate_limited: too many wrong current passwords; see Retry-After", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    let (tenant_id, staff) = (auth.principal.tenant, auth.principal.staff);
    let tenant = state.store().get_tenant(tenant_id).await?;
    let current = SecretString::from(req.current_password.0.clone());
    // The current password is checked like a login's (OWASP ASVS v5.0.0-6.2.2): Argon2 in
    // the hashing pool, never on the async executor, and failures count towards the
    // account's and the address's throttling (6.3.1), so a stolen session cannot be used to
    // guess the password at full speed.
    let check = async {
        Ok(
            match credentials::password_matches(&state, &tenant, &auth.staff, &current).await? {
                Ok(()) => Ok(Verified {
                    staff: auth.staff.clone(),
                    tenant: tenant.clone(),
                    second_factor: auth.second_factor,
                    restricted: false,
                }),
                Err(failure) => Err(failure),
            },
        )
    };
    credentials::throttled(
        &state,
        Some(tenant_id),
        Some(auth.staff.email.as_str()),
        auth.ip,
        check,
    )
    .await?;
    let new = SecretString::from(req.new_password.0.clone());
    check_acceptable(&new, &tenant, auth.staff.email.as_str())?;
    let phc = hash_password(&state, new).await?;
    state
        .store()
        .set_staff_password_hash(tenant_id, staff, &phc)
        .await?;
    // Every other session ends with the old password (OWASP ASVS v5.0.0-7.4.3), atomically.
    let revoked = state
        .store()
        .revoke_other_sessions(tenant_id, staff, auth.session.id, state.clock().now())
        .await?;
    audit::event(&state, AuditAction::PasswordChanged, Actor::Staff(staff))
        .tenant(tenant_id)
        .detail("sessions_revoked", revoked.to_string())
        .ip(auth.ip)
        .record(&state)
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes every session and API token of the caller except the one making the request
/// ("log out everywhere else"; OWASP ASVS v5.0.0-7.5.2). Returns how many were revoked.
#[utoipa::path(post, path = "/api/account/sessions/revoke-others", tag = "account",
    responses((status = 200, description = "How many sessions and API tokens were revoked", body = u64)))]
pub async fn revoke_other_sessions(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<u64>, ApiError> {
    auth.require(Action::ManageOwnAccount, auth.principal.tenant)?;
    let (tenant, staff) = (auth.principal.tenant, auth.principal.staff);
    let count = state
        .store()
        .revoke_other_sessions(tenant, staff, auth.session.id, state.clock().now())
        .await?;
    audit::event(&state, AuditAction::SessionsRevokedAll, Actor::Staff(staff))
        .tenant(tenant)
        .target(format!("staff:{staff}"))
        .detail("count", count.to_string())
        .detail("kept", format!("session:{}", auth.session.id))
        .ip(auth.ip)
        .record(&state)
        .await;
    Ok(Json(count))
}

/// Applies the tenant's password rules (NIST SP 800-63B: length by factor count, block list,
/// strength estimate, no composition rules) with the account's context words.
pub(crate) fn check_acceptable(
    new: &SecretString,
    tenant: &sealdesk_core::domain::Tenant,
    email: &str,
) -> Result<(), ApiError> {
    let min = if tenant.settings.require_second_factor {
        MIN_PASSWORD_WITH_SECOND_FACTOR
    } else {
        MIN_PASSWORD_SINGLE_FACTOR
    };
    let local = email.split('@').next().unwrap_or_default().to_owned();
    let mut context: Vec<String> = vec![local, tenant.name.to_string(), "sealdesk".into()];
    for d in &tenant.domains {
        context.extend(d.as_str().split('.').map(str::to_owned));
    }
    let words: Vec<&str> = context.iter().map(String::as_str).collect();
    password::check_new_password(new, min, &words)
        .map_err(|r| ApiError::Invalid(sealdesk_core::ValidationError::new("password", r.message)))
}
