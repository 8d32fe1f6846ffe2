//! Checking credentials: tenant state and IP allow-list, password (Argon2id off the async
//! executor under a semaphore, with a dummy verification when there is no account), then the
//! second factor (TOTP with replay protection, or a single-use recovery code). Every failure
//! looks the same to the client (OWASP ASVS v5.0.0-6.3.8); the reason goes to the audit log.
//! [`throttled`] wraps any check (password here, passkeys in `passkeys::login`).

use std::net::IpAddr;
use std::time::Duration;

use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_core::domain::{Staff, Tenant};
use sealdesk_core::throttle::ThrottlePolicy;
use sealdesk_crypto::password::{self, HashPolicy};
use sealdesk_crypto::{recovery, totp};
use sealdesk_proto::TenantId;
use sealdesk_store::{RecoveryCodeHash, StoreError};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::app::audit;
use crate::error::ApiError;
use crate::state::AppState;

/// The factors offered in one attempt.
#[derive(Debug)]
pub struct Offered {
    /// The password.
    pub password: SecretString,
    /// A TOTP code.
    pub totp: Option<SecretString>,
    /// A recovery code.
    pub recovery_code: Option<SecretString>,
}

/// A successful check.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The account.
    pub staff: Staff,
    /// Its tenant.
    pub tenant: Tenant,
    /// The account has a confirmed second factor.
    pub second_factor: bool,
    /// The tenant requires a second factor the account does not have yet.
    pub restricted: bool,
}

/// Why a check failed; recorded in the audit log, never shown to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No such tenant, or it is disabled.
    Tenant,
    /// The address is outside the tenant's staff allow-list.
    IpNotAllowed,
    /// No such account, disabled, or no password set.
    Account,
    /// Wrong password.
    Password,
    /// The account has a second factor and none was given.
    MissingSecondFactor,
    /// Wrong TOTP code.
    Totp,
    /// A TOTP code already used in its time step.
    TotpReplay,
    /// Wrong or used recovery code.
    RecoveryCode,
    /// A passkey assertion that does not verify, or a credential that is unknown, of another
    /// tenant or of another account than the ceremony's.
    Passkey,
    /// An unknown, already used or expired passkey ceremony (a replayed assertion).
    PasskeyCeremony,
}

impl Failure {
    fn code(self) -> &'static str {
        match self {
            Failure::Tenant => "tenant",
            Failure::IpNotAllowed => "ip_not_allowed",
            Failure::Account => "account",
            Failure::Password => "password",
            Failure::MissingSecondFactor => "second_factor_missing",
            Failure::Totp => "totp",
            Failure::TotpReplay => "totp_replay",
            Failure::RecoveryCode => "recovery_code",
            Failure::Passkey => "passkey",
            Failure::PasskeyCeremony => "passkey_ceremony",
        }
    }
}

/// Runs Argon2 verification in the hashing pool (a blocking thread, a permit and its kept
/// working memory). `Some(r)`: the password matches and `r` says whether to re-hash; `None`:
/// no match (or no account, in which case a dummy verification of equal cost ran).
pub(crate) async fn verify_password(
    state: &AppState,
    password: &SecretString,
    phc: Option<String>,
) -> Result<Option<bool>, ApiError> {
    let policy = state.config().password_hash;
    let password = password.clone();
    let result = state
        .hasher()
        .run(move |memory| {
            if let Some(phc) = phc {
                password::verify_with(policy, &password, &phc, memory).map(|v| Some(v.needs_rehash))
            } else {
                password::dummy_verify_with(policy, &password, memory);
                Ok(None)
            }
        })
        .await?;
    Ok(result.ok().flatten())
}

/// Hashes a new password in the hashing pool.
pub async fn hash_password(state: &AppState, password: SecretString) -> Result<String, ApiError> {
    let policy: HashPolicy = state.config().password_hash;
    let random = state.random_arc();
    state
        .hasher()
        .run(move |memory| password::hash_with(policy, random.as_ref(), &password, memory))
        .await?
        .map_err(|e| ApiError::Internal(e.into()))
}

/// The tenant, if it exists, is enabled, and allows staff logins from `ip`.
pub(crate) async fn active_tenant(
    state: &AppState,
    tenant: TenantId,
    ip: IpAddr,
) -> Result<Result<Tenant, Failure>, ApiError> {
    let tenant = match state.store().get_tenant(tenant).await {
        Ok(t) if !t.disabled => t,
        Ok(_) | Err(StoreError::NotFound) => return Ok(Err(Failure::Tenant)),
        Err(e) => return Err(e.into()),
    };
    let allow = &tenant.settings.staff_ip_allowlist;
    if !allow.is_empty() && !allow.iter().any(|c| c.contains(ip)) {
        return Ok(Err(Failure::IpNotAllowed));
    }
    Ok(Ok(tenant))
}

/// Checks the account's password (re-hashing it when the stored parameters are below
/// policy). An account without a password runs a dummy verification of equal cost.
pub(crate) async fn password_matches(
    state: &AppState,
    tenant: &Tenant,
    staff: &Staff,
    password: &SecretString,
) -> Result<Result<(), Failure>, ApiError> {
    let store = state.store();
    let Some(phc) = store.staff_password_hash(tenant.id, staff.id).await? else {
        verify_password(state, password, None).await?;
        return Ok(Err(Failure::Account));
    };
    let Some(needs_rehash) = verify_password(state, password, Some(phc)).await? else {
        return Ok(Err(Failure::Password));
    };
    if needs_rehash {
        let fresh = hash_password(state, password.clone()).await?;
        store
            .set_staff_password_hash(tenant.id, staff.id, &fresh)
            .await?;
    }
    Ok(Ok(()))
}

/// Checks every factor for the account `email` of `tenant`.
pub async fn check(
    state: &AppState,
    tenant: TenantId,
    email: &str,
    offered: &Offered,
    ip: IpAddr,
) -> Result<Result<Verified, Failure>, ApiError> {
    let tenant = match active_tenant(state, tenant, ip).await? {
        Ok(t) => t,
        Err(failure) => {
            verify_password(state, &offered.password, None).await?;
            return Ok(Err(failure));
        }
    };
    let staff = match state.store().find_staff_by_email(tenant.id, email).await? {
        Some(s) if !s.disabled => s,
        _ => {
            verify_password(state, &offered.password, None).await?;
            return Ok(Err(Failure::Account));
        }
    };
    if let Err(f) = password_matches(state, &tenant, &staff, &offered.password).await? {
        return Ok(Err(f));
    }
    let second_factor = match second_factor(state, &tenant, &staff, offered, ip).await? {
        Ok(has) => has,
        Err(f) => return Ok(Err(f)),
    };
    let restricted = tenant.settings.require_second_factor && !second_factor;
    Ok(Ok(Verified {
        staff,
        tenant,
        second_factor,
        restricted,
    }))
}

/// Checks the second factor; `Ok(true)` when the account has one and it was proven,
/// `Ok(false)` when it has none. An account with passkeys but no TOTP proves its second
/// factor by logging in with the passkey (`/api/auth/passkey/*`) or with a recovery code: a
/// password alone never passes once any second factor is enrolled.
async fn second_factor(
    state: &AppState,
    tenant: &Tenant,
    staff: &Staff,
    offered: &Offered,
    ip: IpAddr,
) -> Result<Result<bool, Failure>, ApiError> {
    let store = state.store();
    let enrolment = store
        .get_totp(tenant.id, staff.id)
        .await?
        .filter(|t| t.confirmed_at.is_some());
    let has_passkeys = !store.list_passkeys(tenant.id, staff.id).await?.is_empty();
    if enrolment.is_none() && !has_passkeys {
        return Ok(Ok(false));
    }
    if let Some(code) = &offered.totp {
        let Some(enrolment) = enrolment else {
            return Ok(Err(Failure::Totp));
        };
        let secret = state
            .open_sealed(
                "totp-seed",
                staff.id.to_string().as_bytes(),
                &enrolment.sealed_secret,
            )
            .map_err(|e| ApiError::Internal(e.into()))?;
        let now = state.clock().now().unix_timestamp();
        let Some(step) = totp::verify(&secret, code.expose_secret(), now, enrolment.last_used_step)
        else {
            return Ok(Err(Failure::Totp));
        };
        // The store's compare-and-set makes a code usable once even under concurrent logins.
        return Ok(if store.use_totp_step(tenant.id, staff.id, step).await? {
            Ok(true)
        } else {
            Err(Failure::TotpReplay)
        });
    }
    if let Some(code) = &offered.recovery_code {
        return Ok(
            if spend_recovery_code(state, tenant, staff, code, ip).await? {
                Ok(true)
            } else {
                Err(Failure::RecoveryCode)
            },
        );
    }
    Ok(Err(Failure::MissingSecondFactor))
}

/// A login attempt under throttling: refuses while the account or address is locked, counts
/// failures, locks per [`ThrottlePolicy`], audits the outcome.
pub async fn attempt(
    state: &AppState,
    tenant: TenantId,
    email: &str,
    offered: &Offered,
    ip: IpAddr,
) -> Result<Verified, ApiError> {
    let checked = check(state, tenant, email, offered, ip);
    throttled(state, Some(tenant), Some(email), ip, checked).await
}

/// Runs `check` under throttling (NIST SP 800-63B §5.2.2; OWASP ASVS v5.0.0-6.3.1): refuses
/// while the account (`tenant` + `email`, when both are known) or the address is locked,
/// without running the check; on failure counts it, locks per [`ThrottlePolicy`], audits the
/// reason and answers the generic `invalid_credentials`; on success clears the account
/// counter. `check` is a future that has not started yet, so a locked attempt costs nothing.
pub async fn throttled(
    state: &AppState,
    tenant: Option<TenantId>,
    email: Option<&str>,
    ip: IpAddr,
    check: impl Future<Output = Result<Result<Verified, Failure>, ApiError>>,
) -> Result<Verified, ApiError> {
    let store = state.store();
    let now = state.clock().now();
    let account_key = tenant
        .zip(email)
        .map(|(t, e)| ThrottlePolicy::account_key(&t.to_string(), e));
    let address_key = ThrottlePolicy::address_key(ip);
    let keys: Vec<(&String, ThrottlePolicy)> = account_key
        .iter()
        .map(|k| (k, ThrottlePolicy::ACCOUNT))
        .chain([(&address_key, ThrottlePolicy::ADDRESS)])
        .collect();
    for (key, _) in &keys {
        if let Some(until) = store
            .get_throttle(key)
            .await?
            .and_then(|s| s.locked_until)
            .filter(|u| *u > now)
        {
            let wait = u64::try_from((until - now).whole_seconds())
                .unwrap_or(1)
                .max(1);
            return Err(ApiError::RateLimited {
                retry_after: Some(Duration::from_secs(wait)),
            });
        }
    }
    match check.await? {
        Ok(verified) => {
            if let Some(key) = &account_key {
                store.clear_throttle(key).await?;
            }
            Ok(verified)
        }
        Err(failure) => {
            let mut locked = false;
            for (key, policy) in keys {
                let state_after = store.record_failure(key, now).await?;
                if let Some(lock) = policy.lock_for(state_after.failures) {
                    store.set_locked_until(key, Some(now + lock)).await?;
                    locked = true;
                }
            }
            let mut entry = audit::event(state, AuditAction::LoginFailed, Actor::Anonymous)
                .detail("reason", failure.code())
                .detail("locked", locked.to_string())
                .ip(ip);
            if let Some(tenant) = tenant.filter(|_| failure != Failure::Tenant) {
                entry = entry.tenant(tenant);
            }
            entry.record(state).await;
            Err(ApiError::InvalidCredentials)
        }
    }
}

/// Checks a typed recovery code against the account's unused codes and spends the one it
/// matches (OWASP ASVS v5.0.0-6.5.1: once only, atomically in the store). Codes are salted
/// Argon2id hashes keyed with a master-key subkey of the version that made them (6.5.2), or,
/// for codes made before migration 0005, HMAC digests under that subkey; every comparison is
/// constant-time. The hashes are computed in the hashing pool, all in one run.
async fn spend_recovery_code(
    state: &AppState,
    tenant: &Tenant,
    staff: &Staff,
    code: &SecretString,
    ip: IpAddr,
) -> Result<bool, ApiError> {
    let Some(normalized) = recovery::normalize(code.expose_secret()).map(Zeroizing::new) else {
        return Ok(false);
    };
    let store = state.store();
    let stored = store.list_recovery_codes(tenant.id, staff.id).await?;
    if stored.is_empty() {
        return Ok(false);
    }
    let mut keys: Vec<(u32, Zeroizing<[u8; 32]>)> = Vec::new();
    for version in stored.iter().map(|c| c.key_version) {
        if !keys.iter().any(|(v, _)| *v == version) {
            let (_, key) = state
                .master_key()
                .derive_key(Some(version), recovery::KDF_PURPOSE)
                .map_err(|e| ApiError::Internal(e.into()))?;
            keys.push((version, key));
        }
    }
    let matched = state
        .hasher()
        .run(move |memory| {
            stored.into_iter().find_map(|candidate| {
                let (_, key) = keys.iter().find(|(v, _)| *v == candidate.key_version)?;
                let ok = match &candidate.hash {
                    RecoveryCodeHash::Argon2id(phc) => {
                        recovery::verify(key, &normalized, phc, memory)
                    }
                    RecoveryCodeHash::LegacyHmac(digest) => {
                        recovery::matches(key, &normalized, digest)
                    }
                };
                ok.then_some(candidate.id)
            })
        })
        .await?;
    let Some(id) = matched else {
        return Ok(false);
    };
    if !store
        .use_recovery_code(tenant.id, staff.id, id, state.clock().now())
        .await?
    {
        // Spent by a concurrent login between the check and now.
        return Ok(false);
    }
    let left = store.count_recovery_codes(tenant.id, staff.id).await?;
    audit::event(state, AuditAction::RecoveryCodeUsed, Actor::Staff(staff.id))
        .tenant(tenant.id)
        .target(format!("staff:{}", staff.id))
        .detail("remaining", left.to_string())
        .ip(ip)
        .record(state)
        .await;
    Ok(true)
}
