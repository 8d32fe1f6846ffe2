//! REST payloads of device enrolment and team-key wraps (E2EE.md §3). A staff device asks to
//! be enrolled with its public keys and shows their fingerprint; an admin who compared it
//! uploads the device's certificate chain; team keys reach the device sealed to its wrap key.
//! Bytes are standard base64.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::ids::{DeviceId, StaffId, TeamId};

/// `POST /api/account/devices`: this device asks to be enrolled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    /// What the person calls it ("Jane's laptop"), 1–64 characters.
    pub label: String,
    /// Ed25519 public key (32 bytes, base64): signs the device's MLS messages and seals.
    pub signature_key: String,
    /// X25519 public key (32 bytes, base64): team keys are wrapped to it.
    pub wrap_key: String,
}

/// A device as staff and admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceView {
    /// Id.
    pub id: DeviceId,
    /// Whose device.
    pub staff_id: StaffId,
    /// Label.
    pub label: String,
    /// Ed25519 public key, base64.
    pub signature_key: String,
    /// X25519 public key, base64.
    pub wrap_key: String,
    /// SHA-256 of the signature key then the wrap key, hex in groups of four: what the admin
    /// compares with the device's screen before certifying it.
    pub fingerprint: String,
    /// `pending`, `certified` or `revoked`.
    pub status: String,
    /// The certificate chain (base64) once certified: the device's MLS credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub credential: Option<String>,
    /// When it asked.
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// When it was certified or revoked.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub decided_at: Option<OffsetDateTime>,
}

/// Devices, oldest request first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceList {
    /// The devices.
    pub devices: Vec<DeviceView>,
}

/// `POST /api/tenants/{t}/devices/{id}/certificate`: the chain an admin made after comparing
/// fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertifyDevice {
    /// The fingerprint the admin confirmed (as shown, spaces allowed): must be the device's.
    pub fingerprint: String,
    /// The certificate chain (device certificate ‖ issuing certificate), base64.
    pub credential: String,
}

/// One team key sealed to one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyWrapItem {
    /// The device.
    pub device_id: DeviceId,
    /// The team.
    pub team_id: TeamId,
    /// The team key's version.
    pub version: u32,
    /// The sealed object (`SDS1`, purpose `team-key-wrap`), base64.
    pub sealed: String,
}

/// `POST /api/tenants/{t}/key-wraps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyWrapUpload {
    /// At most 100 wraps.
    pub wraps: Vec<KeyWrapItem>,
}

/// A device's wraps (`GET /api/account/devices/{id}/key-wraps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyWrapList {
    /// By team, then version.
    pub wraps: Vec<KeyWrapItem>,
}
