//! Staff devices and the team keys wrapped to them (E2EE.md §3). A device asks to be enrolled
//! with its public keys; an admin who compared fingerprints certifies it (the certificate
//! chain becomes its credential) or revokes it; team keys reach it as wraps only it can open.
//! Re-exported from the crate root; part of [`Store`](crate::Store).

use async_trait::async_trait;
use bytes::Bytes;
use sealdesk_proto::{StaffId, TeamId, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreResult;

/// Where a device is in its enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Asked to be enrolled; waits for an admin.
    Pending,
    /// Certified: its credential is a chain to the tenant's root.
    Certified,
    /// Revoked: its key packages and wraps are gone; clients refuse it.
    Revoked,
}

impl DeviceStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Certified => "certified",
            Self::Revoked => "revoked",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "certified" => Some(Self::Certified),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// A device asking to be enrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// New id.
    pub id: Uuid,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Whose device.
    pub staff_id: StaffId,
    /// What the person calls it ("Jane's laptop").
    pub label: String,
    /// Ed25519 public key: signs MLS messages and seals.
    pub signature_key: [u8; 32],
    /// X25519 public key: team keys are wrapped to it.
    pub wrap_key: [u8; 32],
    /// When it asked.
    pub requested_at: OffsetDateTime,
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Id.
    pub id: Uuid,
    /// The tenant.
    pub tenant_id: TenantId,
    /// Whose device.
    pub staff_id: StaffId,
    /// Label.
    pub label: String,
    /// Ed25519 public key.
    pub signature_key: [u8; 32],
    /// X25519 public key.
    pub wrap_key: [u8; 32],
    /// Status.
    pub status: DeviceStatus,
    /// The certificate chain, once certified (kept after a revocation, for the record).
    pub credential: Option<Bytes>,
    /// When it asked.
    pub requested_at: OffsetDateTime,
    /// When it was certified or revoked.
    pub decided_at: Option<OffsetDateTime>,
    /// Who certified or revoked it.
    pub decided_by: Option<StaffId>,
}

/// What an admin (or the device's owner, for a revocation) decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceDecision {
    /// Certify a pending device with its chain (already verified by the caller).
    Certify(Bytes),
    /// Revoke a pending or certified device.
    Revoke,
}

/// A team key sealed to one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWrap {
    /// The device.
    pub device_id: Uuid,
    /// The team.
    pub team_id: TeamId,
    /// The team key's version.
    pub version: u32,
    /// The sealed object (`sealdesk_mls::seal`, purpose `team-key-wrap`).
    pub sealed: Bytes,
    /// When it was stored.
    pub created_at: OffsetDateTime,
}

/// Devices and team-key wraps. Every call is scoped to a tenant.
#[async_trait]
pub trait DeviceRepo: Send + Sync {
    /// Registers a device as pending. `Conflict` `DeviceKey` if its signature key is already
    /// registered in the tenant, `DeviceLimit` if the staff member already has
    /// `max_per_staff` devices that are not revoked; `NotFound` if the staff member is not
    /// the tenant's.
    async fn add_device(&self, device: &NewDevice, max_per_staff: u32) -> StoreResult<Device>;
    /// One device, or `NotFound`.
    async fn get_device(&self, tenant: TenantId, id: Uuid) -> StoreResult<Device>;
    /// The device with that signature key, if registered.
    async fn device_by_key(
        &self,
        tenant: TenantId,
        signature_key: [u8; 32],
    ) -> StoreResult<Option<Device>>;
    /// The tenant's devices (or one staff member's), oldest request first.
    async fn list_devices(
        &self,
        tenant: TenantId,
        staff: Option<StaffId>,
    ) -> StoreResult<Vec<Device>>;
    /// Certifies a pending device or revokes one that is not revoked, atomically; otherwise
    /// `Conflict` `DeviceState`. A revocation also deletes the device's key packages and
    /// wraps, in the same transaction.
    async fn decide_device(
        &self,
        tenant: TenantId,
        id: Uuid,
        decision: &DeviceDecision,
        by: Option<StaffId>,
        at: OffsetDateTime,
    ) -> StoreResult<Device>;
    /// Stores wraps (replacing one for the same device, team and version), all or none.
    /// `NotFound` if a device or team is not the tenant's; `Conflict` `DeviceState` if a
    /// device is not certified.
    async fn add_key_wraps(&self, tenant: TenantId, wraps: &[KeyWrap]) -> StoreResult<()>;
    /// A device's wraps, by team then version.
    async fn key_wraps(&self, tenant: TenantId, device: Uuid) -> StoreResult<Vec<KeyWrap>>;
}

/// A `devices` row as both backends read it.
pub(crate) struct DeviceRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) staff_id: Uuid,
    pub(crate) label: String,
    pub(crate) signature_key: Vec<u8>,
    pub(crate) wrap_key: Vec<u8>,
    pub(crate) status: String,
    pub(crate) credential: Option<Vec<u8>>,
    pub(crate) requested_at_ms: i64,
    pub(crate) decided_at_ms: Option<i64>,
    pub(crate) decided_by: Option<Uuid>,
}

/// The columns of [`DeviceRow`], in order.
pub(crate) const DEVICE_COLUMNS: &str = "id, tenant_id, staff_id, label, signature_key, \
     wrap_key, status, credential, requested_at_ms, decided_at_ms, decided_by";

impl DeviceRow {
    pub(crate) fn into_device(self) -> StoreResult<Device> {
        let id = self.id;
        let corrupt = |what: &str| crate::StoreError::Corrupt(format!("device {id}: {what}"));
        let key = |bytes: Vec<u8>, what: &str| -> StoreResult<[u8; 32]> {
            bytes.as_slice().try_into().map_err(|_| corrupt(what))
        };
        Ok(Device {
            id,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            staff_id: StaffId::from_uuid(self.staff_id),
            label: self.label,
            signature_key: key(self.signature_key, "signature key")?,
            wrap_key: key(self.wrap_key, "wrap key")?,
            status: DeviceStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            credential: self.credential.map(Bytes::from),
            requested_at: sealdesk_core::clock::from_unix_ms(self.requested_at_ms),
            decided_at: self.decided_at_ms.map(sealdesk_core::clock::from_unix_ms),
            decided_by: self.decided_by.map(StaffId::from_uuid),
        })
    }
}

/// A `team_key_wraps` row: device, team, version, sealed, created.
pub(crate) type KeyWrapRow = (Uuid, Uuid, i64, Vec<u8>, i64);

pub(crate) fn key_wrap_from_row(row: KeyWrapRow) -> StoreResult<KeyWrap> {
    let (device_id, team_id, version, sealed, created_at_ms) = row;
    Ok(KeyWrap {
        device_id,
        team_id: TeamId::from_uuid(team_id),
        version: u32::try_from(version)
            .map_err(|_| crate::StoreError::Corrupt(format!("key wrap of {device_id}: version")))?,
        sealed: Bytes::from(sealed),
        created_at: sealdesk_core::clock::from_unix_ms(created_at_ms),
    })
}

/// What `add_device` returns: the input as it reads back.
pub(crate) fn added_device(new: &NewDevice) -> Device {
    Device {
        id: new.id,
        tenant_id: new.tenant_id,
        staff_id: new.staff_id,
        label: new.label.clone(),
        signature_key: new.signature_key,
        wrap_key: new.wrap_key,
        status: DeviceStatus::Pending,
        credential: None,
        requested_at: sealdesk_core::clock::from_unix_ms(sealdesk_core::clock::to_unix_ms(
            new.requested_at,
        )),
        decided_at: None,
        decided_by: None,
    }
}
