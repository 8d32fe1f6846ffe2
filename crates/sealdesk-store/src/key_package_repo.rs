//! The key-package directory (E2EE.md §9.1): MLS key packages that staff devices publish so
//! that another member can add them to a conversation's group. Each is used once (an atomic
//! pop), except a device's one last-resort package, handed out when the others are gone.
//! Re-exported from the crate root; part of [`Store`](crate::Store).

use async_trait::async_trait;
use bytes::Bytes;
use sealdesk_proto::{StaffId, TenantId};
use time::OffsetDateTime;

use crate::StoreResult;

/// A validated key package to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKeyPackage {
    /// The key package reference (RFC 9420 §5.2), unique.
    pub hash_ref: Vec<u8>,
    /// The `MLSMessage` bytes.
    pub payload: Bytes,
    /// Whether this is the device's last-resort package (replaces the previous one).
    pub last_resort: bool,
    /// When it stops being usable.
    pub not_after: OffsetDateTime,
}

/// One device's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStock {
    /// The device's signature key.
    pub device_key: [u8; 32],
    /// Single-use packages still valid.
    pub available: u32,
    /// Whether a valid last-resort package is held.
    pub last_resort: bool,
}

/// A key package handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenKeyPackage {
    /// The device it belongs to.
    pub device_key: [u8; 32],
    /// The `MLSMessage` bytes.
    pub payload: Bytes,
    /// Whether it was the last-resort package (not removed).
    pub last_resort: bool,
}

/// The key-package directory.
#[async_trait]
pub trait KeyPackageRepo: Send + Sync {
    /// Publishes packages of one device of a staff member, in one transaction. Duplicates
    /// (same reference) are ignored; a last-resort package replaces the device's previous
    /// one. Refuses (`Conflict`, `KeyPackageLimit`) when the device would hold more than
    /// `max_per_device` single-use packages. `NotFound` if the staff member is not the
    /// tenant's. Returns the device's single-use count afterwards.
    async fn add_key_packages(
        &self,
        tenant: TenantId,
        staff: StaffId,
        device_key: [u8; 32],
        packages: &[NewKeyPackage],
        max_per_device: u32,
        at: OffsetDateTime,
    ) -> StoreResult<u32>;
    /// Takes one package of each of the staff member's devices, skipping `except` (devices
    /// already in the group): a single-use one valid at `now` (removed, oldest first), else
    /// the last-resort one (kept). Devices with neither are left out.
    async fn take_key_packages(
        &self,
        tenant: TenantId,
        staff: StaffId,
        except: &[[u8; 32]],
        now: OffsetDateTime,
    ) -> StoreResult<Vec<TakenKeyPackage>>;
    /// The staff member's devices and what they hold (for the low-water refill).
    async fn key_package_stock(
        &self,
        tenant: TenantId,
        staff: StaffId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<DeviceStock>>;
}
