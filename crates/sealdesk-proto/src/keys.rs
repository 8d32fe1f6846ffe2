//! REST payloads of the key-package directory (E2EE.md §9.1): staff devices publish MLS key
//! packages; a conversation's member takes one per device of the agent it is about to add.
//! Key packages are public material; bytes are standard base64.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{StaffId, TeamId};

/// Key packages of one device (every one must carry the same certified device key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyPackageUpload {
    /// Single-use key packages (`MLSMessage`, base64), at most 100 per request.
    #[serde(default)]
    pub key_packages: Vec<String>,
    /// The device's last-resort key package, replacing the previous one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_resort: Option<String>,
}

/// What one device holds in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceStockView {
    /// The device's Ed25519 signature key, base64.
    pub device_key: String,
    /// Single-use key packages left (refill below the low-water mark).
    pub available: u32,
    /// Whether a last-resort key package is held.
    pub last_resort: bool,
}

/// The caller's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceStockList {
    /// One entry per device, by key.
    pub devices: Vec<DeviceStockView>,
    /// Below this many single-use packages a device should upload more.
    pub low_water: u32,
}

/// Which staff member's key packages to take (default: the conversation's assignee).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TakeKeyPackages {
    /// A staff member of the tenant (staff callers only; visitors get the assignee's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub staff: Option<StaffId>,
}

/// One device's key package, for an Add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyPackageView {
    /// The device's signature key, base64.
    pub device_key: String,
    /// The key package (`MLSMessage`), base64.
    pub key_package: String,
    /// Whether it is the device's last-resort package (reused until the device refills).
    pub last_resort: bool,
}

/// One key package per device not yet in the conversation's group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyPackageList {
    /// By device.
    pub key_packages: Vec<KeyPackageView>,
}

/// History Member key packages for a team's pool, each with its private key package sealed
/// by the uploading console to the team and archive keys (opaque to the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryPoolUpload {
    /// At most 50 per request.
    pub entries: Vec<HistoryPoolEntry>,
}

/// One History Member key package and its sealed bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryPoolEntry {
    /// The key package (`MLSMessage`), base64; its certificate names the team.
    pub key_package: String,
    /// The sealed private key package, base64 (at most 8 KiB decoded).
    pub sealed_bundle: String,
}

/// A team's pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryPoolStock {
    /// Valid packages left.
    pub available: u32,
    /// Below this, team consoles should refill.
    pub low_water: u32,
}

/// A conversation's History Member: the key package its group adds, and (for staff) the
/// sealed bundle that lets team members replay the conversation. `key_package` and
/// `sealed_bundle` are the current (active) member's; `members` lists every one the
/// conversation had after team key rotations (E2EE.md §3), to replay each part of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryMemberView {
    /// The key package (`MLSMessage`), base64.
    pub key_package: String,
    /// The sealed private key package, base64 (staff only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sealed_bundle: Option<String>,
    /// Staff only: every History Member of the conversation, by generation (1 first). A
    /// reader opens each bundle it can and replays the log with all of them in order: each
    /// reads up to the commit that removes it, the next joins from its Welcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<HistoryGenerationView>,
}

/// Where one of a conversation's History Members stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryMemberState {
    /// Taken for a rotation; no commit has added it yet.
    Pending,
    /// The group's History Member now.
    Active,
    /// Removed by a rotation; its bundle opens the log up to that commit.
    Retired,
    /// Its key package expired before any commit added it.
    Abandoned,
}

/// One History Member of a conversation (E2EE.md §3 "Rotation").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryGenerationView {
    /// 1 for the member the group started with, one more per rotation.
    pub generation: u32,
    /// Where it stands.
    pub state: HistoryMemberState,
    /// The key package (`MLSMessage`), base64.
    pub key_package: String,
    /// The sealed private key package (`SDB1`), base64.
    pub sealed_bundle: String,
    /// The team key version the bundle's header names, when known (the opener checks it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub team_key_version: Option<u32>,
    /// Copies of this generation's bundle carried over to other teams at transfers
    /// (docs/e2ee.md, "Transfer to another team"), by team.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried: Vec<CarriedBundleView>,
}

/// A bundle re-sealed to another team's key at a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CarriedBundleView {
    /// The team whose key it is sealed to.
    pub team_id: TeamId,
    /// The re-sealed bundle (`SDB1`), base64.
    pub sealed_bundle: String,
    /// The team key version its header names.
    pub team_key_version: u32,
    /// Whose device re-sealed it.
    pub resealed_by: StaffId,
    /// When the server stored it, Unix milliseconds (readers check the re-sealer's chain
    /// then).
    pub at: i64,
}

/// A team or archive key announcement to publish (E2EE.md §3): the public X25519 key signed
/// by the tenant root or a certified issuing key (`sealdesk_mls::announce`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealingKeyUpload {
    /// The signed announcement, base64.
    pub announcement: String,
}

/// One version of a team or archive key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SealingKeyView {
    /// A team id, or `archive`.
    pub scope: String,
    /// 1, 2, … per scope.
    pub version: u32,
    /// The X25519 public key, base64.
    pub public_key: String,
    /// The signed announcement, base64: verify it against the pinned root before sealing.
    pub announcement: String,
}

/// The tenant's team and archive keys, every version, by scope then version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SealingKeyList {
    /// The keys.
    pub keys: Vec<SealingKeyView>,
}
