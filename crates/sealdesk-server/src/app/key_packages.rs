//! The key-package directory (E2EE.md §9.1): staff devices publish MLS key packages, checked
//! by `sealdesk_mls::ds::check_key_package` (signatures, suite, lifetime, a certificate chain
//! to the tenant's root bound to the leaf key); a conversation's member takes one per device
//! of the agent it is about to add, never for a device already in the group.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sealdesk_core::access::Principal;
use sealdesk_mls::certs::{Role, TrustAnchor};
use sealdesk_mls::ds::check_key_package;
use sealdesk_proto::{ConversationId, StaffId};
use sealdesk_store::{DeviceStock, NewKeyPackage, TakenKeyPackage};

use super::conversations::{Caller, readable};
use crate::error::ApiError;
use crate::state::AppState;

/// Single-use key packages a device may hold (E2EE.md §9.1 suggests about 20 in use).
pub const MAX_PER_DEVICE: u32 = 100;
/// Key packages per upload.
pub const MAX_PER_UPLOAD: usize = 100;
/// Below this, a device should refill.
pub const LOW_WATER: u32 = 10;
/// The longest lifetime accepted: the History Member's 90 days plus openmls's one-hour
/// skew margin and an hour of slack (neither library enforces a maximum).
pub const MAX_LIFETIME_SECS: u64 = 90 * 86_400 + 2 * 3600;

fn unix_now(state: &AppState) -> u64 {
    u64::try_from(state.clock().now().unix_timestamp()).unwrap_or(0)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::MlsRejected(message.into())
}

/// Publishes one device's key packages; returns the device key and its single-use count.
pub async fn publish(
    state: &AppState,
    principal: Principal,
    packages: &[String],
    last_resort: Option<&str>,
) -> Result<([u8; 32], u32), ApiError> {
    if packages.len() > MAX_PER_UPLOAD {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_PER_UPLOAD} key packages per request"
        )));
    }
    if packages.is_empty() && last_resort.is_none() {
        return Err(ApiError::BadRequest("no key package given".into()));
    }
    let anchor = anchor_of(state, principal.tenant).await?;
    let now = unix_now(state);
    let all = packages
        .iter()
        .map(|p| (p.as_str(), false))
        .chain(last_resort.map(|p| (p, true)));
    let mut device = None;
    let mut checked = Vec::new();
    for (i, (text, is_last_resort)) in all.enumerate() {
        let bytes = STANDARD
            .decode(text)
            .map_err(|_| ApiError::BadRequest(format!("key package {i} is not base64")))?;
        let entry = check_key_package(&bytes, &anchor, now, MAX_LIFETIME_SECS)
            .map_err(|e| invalid(format!("key package {i}: {e}")))?;
        if !matches!(entry.role, Role::Agent | Role::Supervisor) {
            return Err(invalid(format!(
                "key package {i}: only agent and supervisor devices publish here"
            )));
        }
        if *device.get_or_insert(entry.device_key) != entry.device_key {
            return Err(invalid(
                "all key packages of a request belong to one device",
            ));
        }
        checked.push(NewKeyPackage {
            hash_ref: entry.hash_ref,
            payload: Bytes::from(bytes),
            last_resort: is_last_resort,
            not_after: not_after(entry.not_after),
        });
    }
    let device = device.ok_or_else(|| ApiError::BadRequest("no key package given".into()))?;
    super::devices::may_publish(state, principal.tenant, principal, device).await?;
    let count = state
        .store()
        .add_key_packages(
            principal.tenant,
            principal.staff,
            device,
            &checked,
            MAX_PER_DEVICE,
            state.clock().now(),
        )
        .await
        .map_err(|e| match e {
            sealdesk_store::StoreError::Conflict { .. } => ApiError::Conflict(format!(
                "a device holds at most {MAX_PER_DEVICE} key packages"
            )),
            other => other.into(),
        })?;
    Ok((device, count))
}

/// The caller's devices and their stock.
pub async fn stock(state: &AppState, principal: Principal) -> Result<Vec<DeviceStock>, ApiError> {
    Ok(state
        .store()
        .key_package_stock(principal.tenant, principal.staff, state.clock().now())
        .await?)
}

/// One key package per device of `target` (default: the assignee) not yet in the group, for
/// a member of the conversation about to add them. A visitor may only take the assignee's.
pub async fn take(
    state: &AppState,
    caller: &Caller,
    conversation: ConversationId,
    target: Option<StaffId>,
) -> Result<Vec<TakenKeyPackage>, ApiError> {
    let (found, access) = readable(state, caller, conversation).await?;
    if !access.write {
        return Err(ApiError::Forbidden);
    }
    let target = match (caller, target) {
        (Caller::Visitor { .. }, Some(t)) if Some(t) != found.assignee => {
            return Err(ApiError::Forbidden);
        }
        (_, Some(t)) => t,
        (_, None) => found.assignee.ok_or_else(|| {
            ApiError::Conflict("no agent is assigned to this conversation yet".into())
        })?,
    };
    let except = crate::groups::member_keys(state, caller.tenant(), conversation).await?;
    Ok(state
        .store()
        .take_key_packages(caller.tenant(), target, &except, state.clock().now())
        .await?)
}

/// History Member key packages a team's pool may hold.
pub const MAX_HISTORY_POOL: u32 = 200;
/// History Member packages per upload.
pub const MAX_HISTORY_PER_UPLOAD: usize = 50;
/// Largest sealed bundle accepted (a sealed private key package is a few hundred bytes).
pub const MAX_SEALED_BUNDLE: usize = 8 * 1024;

/// Adds History Member key packages to a team's pool (the caller is a member of the team;
/// each certificate has the history role and names the team).
pub async fn publish_history(
    state: &AppState,
    principal: Principal,
    team: sealdesk_proto::TeamId,
    entries: &[(String, String)],
) -> Result<u32, ApiError> {
    if entries.is_empty() || entries.len() > MAX_HISTORY_PER_UPLOAD {
        return Err(ApiError::BadRequest(format!(
            "send 1 to {MAX_HISTORY_PER_UPLOAD} entries"
        )));
    }
    let teams = state
        .store()
        .teams_of_staff(principal.tenant, principal.staff)
        .await?;
    if !teams.contains(&team) {
        return Err(ApiError::Forbidden);
    }
    let anchor = anchor_of(state, principal.tenant).await?;
    let now = unix_now(state);
    let mut checked = Vec::with_capacity(entries.len());
    for (i, (kp, bundle)) in entries.iter().enumerate() {
        let bytes = STANDARD.decode(kp).map_err(|_| {
            ApiError::BadRequest(format!("entry {i}: the key package is not base64"))
        })?;
        let sealed = STANDARD.decode(bundle).map_err(|_| {
            ApiError::BadRequest(format!("entry {i}: the sealed bundle is not base64"))
        })?;
        if sealed.is_empty() || sealed.len() > MAX_SEALED_BUNDLE {
            return Err(ApiError::BadRequest(format!(
                "entry {i}: the sealed bundle must be 1 to {MAX_SEALED_BUNDLE} bytes"
            )));
        }
        let entry = check_key_package(&bytes, &anchor, now, MAX_LIFETIME_SECS)
            .map_err(|e| invalid(format!("entry {i}: {e}")))?;
        if entry.role != Role::History || entry.team != *team.as_uuid().as_bytes() {
            return Err(invalid(format!(
                "entry {i}: not a History Member certificate of this team"
            )));
        }
        let team_key_version = bundle_team_key_version(&sealed);
        checked.push(sealdesk_store::NewHistoryPackage {
            hash_ref: entry.hash_ref,
            key_package: Bytes::from(bytes),
            sealed_bundle: Bytes::from(sealed),
            not_after: not_after(entry.not_after),
            team_key_version,
        });
    }
    state
        .store()
        .add_history_packages(
            principal.tenant,
            team,
            &checked,
            MAX_HISTORY_POOL,
            state.clock().now(),
        )
        .await
        .map_err(|e| match e {
            sealdesk_store::StoreError::Conflict { .. } => ApiError::Conflict(format!(
                "a team's pool holds at most {MAX_HISTORY_POOL} packages"
            )),
            other => other.into(),
        })
}

/// The conversation's History Member key package (taken from its team's pool on first
/// request, the same one afterwards), for the member who creates the group.
pub async fn history_member(
    state: &AppState,
    caller: &Caller,
    conversation: ConversationId,
) -> Result<sealdesk_store::HistoryPackage, ApiError> {
    let (found, access) = readable(state, caller, conversation).await?;
    if !access.write {
        return Err(ApiError::Forbidden);
    }
    let (tenant, team, now) = (caller.tenant(), found.team_id, state.clock().now());
    let Some(member) = state
        .store()
        .take_history_package(tenant, team, conversation, now)
        .await?
    else {
        crate::metrics::history_pool_empty(tenant, team);
        return Err(ApiError::Conflict(
            "the team's History Member pool is empty: a team member's console refills it".into(),
        ));
    };
    let available = state.store().history_pool_size(tenant, team, now).await?;
    crate::metrics::history_pool(tenant, team, available, LOW_WATER);
    Ok(member)
}

/// The conversation's History Member with its sealed bundle, and every generation it had
/// (E2EE.md §3 "Rotation"), for staff who may read it.
pub async fn history_bundle(
    state: &AppState,
    caller: &Caller,
    conversation: ConversationId,
) -> Result<
    (
        sealdesk_store::HistoryPackage,
        Vec<sealdesk_store::HistoryGeneration>,
    ),
    ApiError,
> {
    readable(state, caller, conversation).await?;
    let current = state
        .store()
        .conversation_history_member(caller.tenant(), conversation)
        .await?
        .ok_or(ApiError::NotFound)?;
    let members = state
        .store()
        .conversation_history_members(caller.tenant(), conversation)
        .await?;
    Ok((current, members))
}

/// The team key version an `SDB1` bundle's cleartext header says it is sealed to (E2EE.md
/// §3: a rotation needs a History Member sealed to the current version). The server cannot
/// open the seal; the client that adds the member checks it. `None` for anything else.
pub fn bundle_team_key_version(sealed: &[u8]) -> Option<u32> {
    let envelope = sealdesk_mls::bundle::parse(sealed).ok()?;
    envelope
        .seals
        .iter()
        .filter(|(r, _)| r.kind == sealdesk_mls::bundle::KeyKind::Team)
        .map(|(r, _)| r.key_version)
        .max()
}

pub(crate) async fn anchor_of(
    state: &AppState,
    tenant: sealdesk_proto::TenantId,
) -> Result<TrustAnchor, ApiError> {
    let roots = state.store().root_keys(tenant).await?;
    if roots.is_empty() {
        return Err(ApiError::Conflict(
            "the tenant has no root key yet: its owner runs `sealdesk admin keys init`".into(),
        ));
    }
    Ok(TrustAnchor {
        tenant: *tenant.as_uuid().as_bytes(),
        roots,
    })
}

fn not_after(unix: u64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix).unwrap_or(i64::MAX))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}
