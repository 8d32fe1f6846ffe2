//! The key-package directory (E2EE.md §9.1): MLS key packages that staff devices publish so
//! that another member can add them to a conversation's group. Each is used once (an atomic
//! pop), except a device's one last-resort package, handed out when the others are gone.
//! Re-exported from the crate root; part of [`Store`](crate::Store).

use async_trait::async_trait;
use bytes::Bytes;
use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId};
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

/// A History Member key package for a team's pool, with its sealed private part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHistoryPackage {
    /// The key package reference, unique.
    pub hash_ref: Vec<u8>,
    /// The key package (`MLSMessage`).
    pub key_package: Bytes,
    /// The private key package sealed by a client to the team and archive keys (opaque).
    pub sealed_bundle: Bytes,
    /// When it stops being usable.
    pub not_after: OffsetDateTime,
    /// The team key version the bundle's cleartext header names (`None` when the uploader
    /// did not say): what a rotation selects on. The opener checks the seal itself.
    pub team_key_version: Option<u32>,
}

/// A conversation's History Member: the key package its group added and the sealed bundle
/// that lets team members replay the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPackage {
    /// The key package reference (what the group's Add must carry).
    pub hash_ref: Vec<u8>,
    /// The key package (`MLSMessage`).
    pub key_package: Bytes,
    /// The sealed private key package (opaque).
    pub sealed_bundle: Bytes,
}

/// Where a conversation's History Member stands (E2EE.md §3 "Rotation").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryMemberState {
    /// Taken from the pool for a rotation; the commit adding it is not sequenced yet.
    Pending,
    /// The group's History Member now.
    Active,
    /// Removed by a rotation: its bundle opens the log up to the rotation commit.
    Retired,
    /// A pending one whose key package expired before any commit added it.
    Abandoned,
}

impl HistoryMemberState {
    /// The stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Abandoned => "abandoned",
        }
    }

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "retired" => Some(Self::Retired),
            "abandoned" => Some(Self::Abandoned),
            _ => None,
        }
    }
}

/// One of a conversation's History Members, in the order the conversation had them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryGeneration {
    /// 1 for the member the group started with, then one more per rotation.
    pub generation: u32,
    /// Where it stands.
    pub state: HistoryMemberState,
    /// The key package, its reference and the sealed bundle.
    pub package: HistoryPackage,
    /// The team key version the bundle's header names, when known.
    pub team_key_version: Option<u32>,
    /// When it was taken from the pool.
    pub taken_at: OffsetDateTime,
}

/// History Member pools per team, and each conversation's History Member.
#[async_trait]
pub trait HistoryPoolRepo: Send + Sync {
    /// Adds packages to a team's pool (duplicates ignored); refuses the whole upload
    /// (`Conflict`, `KeyPackageLimit`) beyond `max_per_team`. `NotFound` if the team is not
    /// the tenant's. Returns the pool's size afterwards.
    async fn add_history_packages(
        &self,
        tenant: TenantId,
        team: TeamId,
        packages: &[NewHistoryPackage],
        max_per_team: u32,
        at: OffsetDateTime,
    ) -> StoreResult<u32>;
    /// Valid packages left in a team's pool.
    async fn history_pool_size(
        &self,
        tenant: TenantId,
        team: TeamId,
        now: OffsetDateTime,
    ) -> StoreResult<u32>;
    /// The conversation's History Member: the one it already has, else the team's oldest
    /// valid package, moved out of the pool atomically. `None` when the pool is empty.
    async fn take_history_package(
        &self,
        tenant: TenantId,
        team: TeamId,
        conversation: ConversationId,
        now: OffsetDateTime,
    ) -> StoreResult<Option<HistoryPackage>>;
    /// The conversation's History Member (the active one), if it has one.
    async fn conversation_history_member(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Option<HistoryPackage>>;
    /// The History Member a rotation adds (E2EE.md §3): the conversation's pending one while
    /// its key package is valid at `now` (so retries get the same one), else a package of
    /// the conversation's team's pool sealed to team key version `min_team_key_version` or
    /// later (newest version first, then oldest), moved out of the pool atomically as the
    /// next generation, pending. An expired pending one becomes abandoned. `None` when the
    /// pool has no such package. `NotFound` if the conversation is not the tenant's and the
    /// team's, or has no active History Member; `Conflict` (`ConversationState`) once it is
    /// closed.
    async fn take_rotation_package(
        &self,
        tenant: TenantId,
        team: TeamId,
        conversation: ConversationId,
        min_team_key_version: u32,
        now: OffsetDateTime,
    ) -> StoreResult<Option<HistoryGeneration>>;
    /// The delivery service sequenced the commit adding the pending member `hash_ref`: it
    /// becomes active and the active one retired, in one transaction. `Ok(false)` if it is
    /// already active (a repeated call); `NotFound` if it is neither the conversation's
    /// pending nor its active member (or another tenant's).
    async fn complete_history_rotation(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        hash_ref: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// The conversation's pending member `hash_ref` will never be committed (it is of a team
    /// the conversation was transferred away from): it becomes abandoned, so the next
    /// `take_rotation_package` takes another. `Ok(false)` if it is not the tenant's
    /// conversation's pending member (already committed, abandoned, or another's).
    async fn abandon_pending_history(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        hash_ref: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Every History Member the conversation had, by generation. `NotFound` if the
    /// conversation is not the tenant's.
    async fn conversation_history_members(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<HistoryGeneration>>;
}
