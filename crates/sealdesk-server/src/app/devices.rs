//! Device enrolment and team-key wraps (E2EE.md §3).
//!
//! A staff device registers its Ed25519 signature key and X25519 wrap key and shows their
//! fingerprint. An admin compares it with the device's screen, certifies the signature key
//! with an issuing key (offline: `sealdesk admin keys enrol`, or a console holding one) and
//! uploads the chain together with the fingerprint they confirmed. The server checks the
//! chain against the tenant's roots and the fingerprint against the registered keys, so a
//! certificate for a key the device never registered is refused (OWASP ASVS 4.0 V6.2, NIST
//! SP 800-57 Pt 1 §8.1.5.1: a key is bound to its owner before use). Team keys then reach the
//! device sealed to its wrap key; the server stores the wraps and cannot open them. A revoked
//! device loses its key packages and wraps at once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sealdesk_core::ValidationError;
use sealdesk_core::access::{Action, Principal, authorize};
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_mls::certs::{self, Role, Verified};
use sealdesk_proto::devices::{DeviceRequest, DeviceView, KeyWrapItem};
use sealdesk_proto::{DeviceId, TenantId};
use sealdesk_store::{
    Constraint, Device, DeviceDecision, DeviceStatus, KeyScope, KeyWrap, NewDevice, StoreError,
};

use super::audit;
use super::key_packages::anchor_of;
use crate::error::ApiError;
use crate::state::AppState;

/// Devices one staff member may have that are not revoked.
pub const MAX_DEVICES_PER_STAFF: u32 = 10;
/// Wraps per upload.
pub const MAX_WRAPS_PER_UPLOAD: usize = 100;
/// Largest sealed wrap (a 32-byte secret, HPKE overhead, a signature and the header).
pub const MAX_WRAP_BYTES: usize = 1024;
const MAX_LABEL_CHARS: usize = 64;

/// The fingerprint an admin compares: SHA-256 of the signature key then the wrap key, its
/// first 128 bits as hex in groups of four (both keys are bound; 128 bits leave no second
/// preimage to find).
pub fn fingerprint(signature_key: &[u8; 32], wrap_key: &[u8; 32]) -> String {
    let mut both = Vec::with_capacity(64);
    both.extend_from_slice(signature_key);
    both.extend_from_slice(wrap_key);
    let digest = hex::encode(sealdesk_crypto::passphrase::sha256(&both));
    digest.as_bytes()[..32]
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fingerprint as typed: hex digits only, lower case.
fn normalized(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != ':')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The view of a device.
pub fn view(device: &Device) -> DeviceView {
    DeviceView {
        id: DeviceId::from_uuid(device.id),
        staff_id: device.staff_id,
        label: device.label.clone(),
        signature_key: STANDARD.encode(device.signature_key),
        wrap_key: STANDARD.encode(device.wrap_key),
        fingerprint: fingerprint(&device.signature_key, &device.wrap_key),
        status: device.status.as_str().to_owned(),
        credential: device.credential.as_ref().map(|c| STANDARD.encode(c)),
        requested_at: device.requested_at,
        decided_at: device.decided_at,
    }
}

fn key32(field: &'static str, text: &str) -> Result<[u8; 32], ApiError> {
    STANDARD
        .decode(text)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| ValidationError::new(field, "give 32 bytes in base64").into())
}

fn state_conflict(e: StoreError, message: &str) -> ApiError {
    match e {
        StoreError::Conflict { .. } => ApiError::Conflict(message.to_owned()),
        other => other.into(),
    }
}

async fn record(state: &AppState, principal: Principal, operation: &str, device: &Device) {
    audit::event(
        state,
        AuditAction::KeyOperation,
        Actor::Staff(principal.staff),
    )
    .tenant(principal.tenant)
    .target(format!("device:{}", device.id))
    .detail("operation", operation)
    .detail("staff", device.staff_id.to_string())
    .detail(
        "fingerprint",
        fingerprint(&device.signature_key, &device.wrap_key),
    )
    .record(state)
    .await;
}

/// Registers the caller's device as pending.
pub async fn request(
    state: &AppState,
    principal: Principal,
    req: &DeviceRequest,
) -> Result<Device, ApiError> {
    let label = req.label.trim();
    if label.is_empty()
        || label.chars().count() > MAX_LABEL_CHARS
        || label.chars().any(char::is_control)
    {
        return Err(ValidationError::new(
            "label",
            format!("name the device in 1 to {MAX_LABEL_CHARS} characters"),
        )
        .into());
    }
    let signature_key = key32("signature_key", &req.signature_key)?;
    // A point that is not a valid Ed25519 key, or a weak one, could never sign (RFC 8032
    // §5.1.3; small-order points refused as `verify_strict` does).
    let usable =
        ed25519_dalek::VerifyingKey::from_bytes(&signature_key).is_ok_and(|k| !k.is_weak());
    if !usable {
        return Err(ValidationError::new("signature_key", "not a usable Ed25519 key").into());
    }
    let wrap_key = key32("wrap_key", &req.wrap_key)?;
    if wrap_key == [0; 32] {
        return Err(ValidationError::new("wrap_key", "not a usable X25519 key").into());
    }
    let new = NewDevice {
        id: sealdesk_core::ids::IdGenerator::new(state.clock(), state.random())
            .device()
            .as_uuid(),
        tenant_id: principal.tenant,
        staff_id: principal.staff,
        label: label.to_owned(),
        signature_key,
        wrap_key,
        requested_at: state.clock().now(),
    };
    let device = state
        .store()
        .add_device(&new, MAX_DEVICES_PER_STAFF)
        .await
        .map_err(|e| match e {
            StoreError::Conflict {
                constraint: Constraint::DeviceLimit,
            } => ApiError::Conflict(format!(
                "at most {MAX_DEVICES_PER_STAFF} devices per person: revoke an old one first"
            )),
            StoreError::Conflict { .. } => {
                ApiError::Conflict("this signature key is already registered".into())
            }
            other => other.into(),
        })?;
    record(state, principal, "device_requested", &device).await;
    Ok(device)
}

/// Certifies a pending device with the chain an admin made, after checking the fingerprint
/// they confirmed and the chain against the tenant's roots.
pub async fn certify(
    state: &AppState,
    principal: Principal,
    id: DeviceId,
    confirmed: &str,
    credential: &str,
) -> Result<Device, ApiError> {
    let tenant = principal.tenant;
    let device = state.store().get_device(tenant, id.as_uuid()).await?;
    if device.status != DeviceStatus::Pending {
        return Err(ApiError::Conflict(format!(
            "the device is {}, not pending",
            device.status.as_str()
        )));
    }
    let expected = normalized(&fingerprint(&device.signature_key, &device.wrap_key));
    if normalized(confirmed) != expected {
        return Err(ValidationError::new(
            "fingerprint",
            "does not match the device's keys: compare it again with the device's screen",
        )
        .into());
    }
    let chain = STANDARD
        .decode(credential)
        .map_err(|_| ValidationError::new("credential", "not base64"))?;
    let anchor = anchor_of(state, tenant).await?;
    let now = u64::try_from(state.clock().now().unix_timestamp()).unwrap_or(0);
    let body = match certs::verify_identity(&chain, &device.signature_key, &anchor, now) {
        Ok(Verified::Device(body)) => body,
        Ok(Verified::Visitor(_)) => {
            return Err(ApiError::MlsRejected(
                "a visitor identity is not a device certificate".into(),
            ));
        }
        Err(e) => return Err(ApiError::MlsRejected(format!("the certificate: {e}"))),
    };
    if !matches!(body.role, Role::Agent | Role::Supervisor) {
        return Err(ApiError::MlsRejected(
            "a staff device is certified as an agent or a supervisor".into(),
        ));
    }
    let decided = state
        .store()
        .decide_device(
            tenant,
            device.id,
            &DeviceDecision::Certify(Bytes::from(chain)),
            Some(principal.staff),
            state.clock().now(),
        )
        .await
        .map_err(|e| state_conflict(e, "the device was decided meanwhile"))?;
    record(state, principal, "device_certified", &decided).await;
    Ok(decided)
}

/// Revokes a device: its owner may, and so may whoever enrols devices.
pub async fn revoke(
    state: &AppState,
    principal: Principal,
    id: DeviceId,
) -> Result<Device, ApiError> {
    let device = state
        .store()
        .get_device(principal.tenant, id.as_uuid())
        .await?;
    if device.staff_id != principal.staff
        && authorize(&principal, Action::EnrolDevices, principal.tenant).is_err()
    {
        return Err(ApiError::NotFound);
    }
    let decided = state
        .store()
        .decide_device(
            principal.tenant,
            device.id,
            &DeviceDecision::Revoke,
            Some(principal.staff),
            state.clock().now(),
        )
        .await
        .map_err(|e| state_conflict(e, "the device is already revoked"))?;
    record(state, principal, "device_revoked", &decided).await;
    Ok(decided)
}

/// Stores team keys wrapped to certified devices; each names an announced team key version.
pub async fn add_wraps(
    state: &AppState,
    principal: Principal,
    wraps: &[KeyWrapItem],
) -> Result<usize, ApiError> {
    if wraps.is_empty() || wraps.len() > MAX_WRAPS_PER_UPLOAD {
        return Err(ValidationError::new(
            "wraps",
            format!("give 1 to {MAX_WRAPS_PER_UPLOAD} wraps"),
        )
        .into());
    }
    let announced = state.store().sealing_keys(principal.tenant).await?;
    let now = state.clock().now();
    let mut checked = Vec::with_capacity(wraps.len());
    for (i, w) in wraps.iter().enumerate() {
        if !announced
            .iter()
            .any(|k| k.scope == KeyScope::Team(w.team_id) && k.version == w.version)
        {
            return Err(ApiError::Conflict(format!(
                "wrap {i}: version {} of that team's key was never announced",
                w.version
            )));
        }
        let sealed = STANDARD
            .decode(&w.sealed)
            .map_err(|_| ValidationError::new("wraps.sealed", format!("wrap {i} is not base64")))?;
        if sealed.is_empty() || sealed.len() > MAX_WRAP_BYTES {
            return Err(ValidationError::new(
                "wraps.sealed",
                format!("wrap {i} must be 1 to {MAX_WRAP_BYTES} bytes"),
            )
            .into());
        }
        checked.push(KeyWrap {
            device_id: w.device_id.as_uuid(),
            team_id: w.team_id,
            version: w.version,
            sealed: Bytes::from(sealed),
            created_at: now,
        });
    }
    state
        .store()
        .add_key_wraps(principal.tenant, &checked)
        .await
        .map_err(|e| state_conflict(e, "wraps go only to certified devices"))?;
    audit::event(
        state,
        AuditAction::KeyOperation,
        Actor::Staff(principal.staff),
    )
    .tenant(principal.tenant)
    .detail("operation", "team_key_wrapped")
    .detail("wraps", checked.len().to_string())
    .record(state)
    .await;
    Ok(checked.len())
}

/// The wraps of one of the caller's own devices.
pub async fn own_wraps(
    state: &AppState,
    principal: Principal,
    id: DeviceId,
) -> Result<Vec<KeyWrapItem>, ApiError> {
    let device = own(state, principal, id).await?;
    Ok(state
        .store()
        .key_wraps(principal.tenant, device.id)
        .await?
        .into_iter()
        .map(|w| KeyWrapItem {
            device_id: id,
            team_id: w.team_id,
            version: w.version,
            sealed: STANDARD.encode(&w.sealed),
        })
        .collect())
}

/// One of the caller's devices (another person's is not found).
pub async fn own(state: &AppState, principal: Principal, id: DeviceId) -> Result<Device, ApiError> {
    let device = state
        .store()
        .get_device(principal.tenant, id.as_uuid())
        .await?;
    if device.staff_id == principal.staff {
        Ok(device)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Whether a signature key may publish key packages for `principal`: a registered device must
/// be theirs and certified (a revoked or pending one is refused). Keys certified outside the
/// registry (`sealdesk admin keys certify`) pass; revocation needs the registry.
pub async fn may_publish(
    state: &AppState,
    tenant: TenantId,
    principal: Principal,
    signature_key: [u8; 32],
) -> Result<(), ApiError> {
    match state.store().device_by_key(tenant, signature_key).await? {
        None => Ok(()),
        Some(d) if d.staff_id == principal.staff && d.status == DeviceStatus::Certified => Ok(()),
        Some(d) if d.status == DeviceStatus::Revoked => Err(ApiError::Forbidden),
        Some(_) => Err(ApiError::Conflict(
            "this device is not certified yet, or is another person's".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_binds_both_keys_and_reads_in_groups() {
        let a = fingerprint(&[1; 32], &[2; 32]);
        assert_eq!(a.len(), 32 + 7);
        assert_eq!(a.split(' ').count(), 8);
        assert_ne!(a, fingerprint(&[1; 32], &[3; 32]));
        assert_ne!(a, fingerprint(&[2; 32], &[2; 32]));
        // SHA-256 of 32 × 0x01 then 32 × 0x02, first 128 bits, computed independently:
        // python3 -c "import hashlib; print(hashlib.sha256(b'\x01'*32 + b'\x02'*32).hexdigest()[:32])"
        let known = "f818afd37a6dc3bc92fb447310112770";
        assert_eq!(a.replace(' ', ""), known);
        assert_eq!(normalized(&a.to_uppercase()), known);
        assert_eq!(normalized(&a.replace(' ', "-")), known);
    }
}
