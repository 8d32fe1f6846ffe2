//! Sealdesk's storage layer: the repository traits the server and CLI use, [`StoreError`],
//! and two real backends, SQLite (embedded, the default) and PostgreSQL (for scale-out), each
//! with its own migrations. Every backend passes the same contract suite (`contract`).
//!
//! Only this crate uses sqlx. It must not depend on axum or the server.

// The docs name the databases, SQLite and PostgreSQL, as products; clippy's `doc_markdown`
// would put them in backticks as code. (Adding them to `doc-valid-idents` in clippy.toml
// would let this allow go.)
#![allow(clippy::doc_markdown)]

mod auth_repos;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod auth_rows;
mod carry_repo;
#[cfg(feature = "contract-tests")]
pub mod contract;
mod conversation_repos;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod conversation_rows;
mod device_repo;
mod error;
pub mod group_commit;
mod inbox_repo;
mod key_package_repo;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod log_batch;
mod passkey_repo;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod rows;
mod sealing_key_repo;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use sealdesk_core::domain::{NewStaff, NewTeam, NewTenant, Staff, Team, Tenant};
use sealdesk_proto::{StaffId, TeamId, TenantId};

pub use auth_repos::{
    AuditRepo, InvitationRepo, RecoveryCodeHash, RecoveryCodeRecord, RecoveryCodeRepo,
    ResolvedSession, RoleRepo, SessionRepo, ThrottleRepo, TotpRepo,
};
pub use carry_repo::{Carried, CarriedBundle, CarriedNote, CarryOver, CarryRepo};
pub use conversation_repos::{
    Attachment, AttachmentRepo, CannedResponse, ConversationFilter, ConversationRepo, Deleted,
    LogRepo, Note, NoteRepo, RetentionRepo, RoutingRepo, Uploader, VisitorRepo,
};
pub use device_repo::{Device, DeviceDecision, DeviceRepo, DeviceStatus, KeyWrap, NewDevice};
pub use error::{Constraint, StoreError};
pub use inbox_repo::{IdentityKeyKind, InboxIdentity, InboxRepo, InboxWidget};
pub use key_package_repo::{
    DeviceStock, HistoryGeneration, HistoryMemberState, HistoryPackage, HistoryPoolRepo,
    KeyPackageRepo, NewHistoryPackage, NewKeyPackage, TakenKeyPackage,
};
pub use passkey_repo::{Ceremony, CeremonyKind, PasskeyRecord, PasskeyRepo};
pub use sealing_key_repo::{KeyScope, SealingKey, SealingKeyRepo};

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (WAL, `synchronous=FULL`).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `"sqlite"` or `"postgres"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Health and lifecycle of a store.
#[async_trait]
pub trait StoreAdmin: Send + Sync {
    /// The backend.
    fn backend(&self) -> Backend;
    /// Applies pending migrations; returns how many were applied.
    async fn migrate(&self) -> StoreResult<usize>;
    /// A cheap round trip to the database, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;
    /// Closes every connection; later calls fail with [`StoreError::Unavailable`].
    async fn close(&self);
}

/// Tenants. Brand domains are unique across tenants.
#[async_trait]
pub trait TenantRepo: Send + Sync {
    /// Creates a tenant. A domain already used by any tenant gives
    /// `Conflict { constraint: TenantDomain }` and nothing is written.
    async fn create_tenant(&self, tenant: &NewTenant) -> StoreResult<Tenant>;
    /// One tenant, or `NotFound`.
    async fn get_tenant(&self, id: TenantId) -> StoreResult<Tenant>;
    /// Every tenant, oldest first.
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;
    /// Disables or re-enables a tenant; `NotFound` if it does not exist.
    async fn set_tenant_disabled(&self, id: TenantId, disabled: bool) -> StoreResult<Tenant>;
    /// Replaces a tenant's settings (the caller validated them); `NotFound` if it does not
    /// exist.
    async fn update_tenant_settings(
        &self,
        id: TenantId,
        settings: &sealdesk_core::domain::TenantSettings,
    ) -> StoreResult<Tenant>;
    /// Replaces the origins allowed to embed the tenant's widget (the caller validated them;
    /// at most [`NewTenant::MAX_LIST`](sealdesk_core::domain::NewTenant::MAX_LIST));
    /// `NotFound` if it does not exist.
    async fn set_widget_origins(
        &self,
        id: TenantId,
        origins: &[sealdesk_core::domain::WidgetOrigin],
    ) -> StoreResult<Tenant>;
    /// The tenant owning a brand domain (ASCII form), if any.
    async fn find_tenant_by_domain(&self, domain: &str) -> StoreResult<Option<Tenant>>;
    /// Hard-deletes a tenant and everything it owns (teams, staff and their sessions,
    /// visitors, conversations with their logs, notes and attachment references) in one
    /// transaction. The audit log keeps its (content-free) entries, so the chain still
    /// verifies. Returns the log entries deleted and the blobs no tenant references any
    /// more (the caller deletes their files). `NotFound` if it does not exist.
    async fn delete_tenant(&self, id: TenantId) -> StoreResult<Deleted>;
    /// Registers one of the tenant's root public keys (Ed25519, the trust anchor of its
    /// certificate chains; E2EE.md §3), idempotently. `NotFound` if there is no such tenant.
    async fn add_root_key(
        &self,
        tenant: TenantId,
        public_key: [u8; 32],
        at: time::OffsetDateTime,
    ) -> StoreResult<()>;
    /// The tenant's root public keys, oldest first (empty: the tenant has not set up its key
    /// hierarchy).
    async fn root_keys(&self, tenant: TenantId) -> StoreResult<Vec<[u8; 32]>>;
}

/// Teams (inboxes). Every call is scoped to a tenant: a team of another tenant is `NotFound`.
#[async_trait]
pub trait TeamRepo: Send + Sync {
    /// Creates a team. `NotFound` if the tenant does not exist; a name already used in the
    /// tenant (case-insensitively) gives `Conflict { constraint: TeamName }`.
    async fn create_team(&self, team: &NewTeam) -> StoreResult<Team>;
    /// One team of the tenant, or `NotFound`.
    async fn get_team(&self, tenant: TenantId, id: TeamId) -> StoreResult<Team>;
    /// The tenant's teams, oldest first (empty if the tenant does not exist).
    async fn list_teams(&self, tenant: TenantId) -> StoreResult<Vec<Team>>;
    /// Disables or re-enables a team of the tenant.
    async fn set_team_disabled(
        &self,
        tenant: TenantId,
        id: TeamId,
        disabled: bool,
    ) -> StoreResult<Team>;
}

/// Staff accounts. Every call is scoped to a tenant.
#[async_trait]
pub trait StaffRepo: Send + Sync {
    /// Creates an account. `NotFound` if the tenant does not exist; an e-mail already used
    /// in the tenant gives `Conflict { constraint: StaffEmail }`.
    async fn create_staff(&self, staff: &NewStaff) -> StoreResult<Staff>;
    /// One account of the tenant, or `NotFound`.
    async fn get_staff(&self, tenant: TenantId, id: StaffId) -> StoreResult<Staff>;
    /// The account with this (normalised) e-mail in the tenant, if any.
    async fn find_staff_by_email(
        &self,
        tenant: TenantId,
        email: &str,
    ) -> StoreResult<Option<Staff>>;
    /// The tenant's accounts, oldest first.
    async fn list_staff(&self, tenant: TenantId) -> StoreResult<Vec<Staff>>;
    /// Disables or re-enables an account of the tenant.
    async fn set_staff_disabled(
        &self,
        tenant: TenantId,
        id: StaffId,
        disabled: bool,
    ) -> StoreResult<Staff>;
    /// The stored password hash (PHC string) of an account, if one is set.
    async fn staff_password_hash(
        &self,
        tenant: TenantId,
        id: StaffId,
    ) -> StoreResult<Option<String>>;
    /// Replaces the password hash of an account of the tenant.
    async fn set_staff_password_hash(
        &self,
        tenant: TenantId,
        id: StaffId,
        phc: &str,
    ) -> StoreResult<()>;
}

/// Everything the server needs from storage.
pub trait Store:
    StoreAdmin
    + TenantRepo
    + TeamRepo
    + StaffRepo
    + RoleRepo
    + SessionRepo
    + TotpRepo
    + RecoveryCodeRepo
    + ThrottleRepo
    + InvitationRepo
    + AuditRepo
    + PasskeyRepo
    + VisitorRepo
    + ConversationRepo
    + LogRepo
    + RoutingRepo
    + NoteRepo
    + AttachmentRepo
    + RetentionRepo
    + InboxRepo
    + KeyPackageRepo
    + HistoryPoolRepo
    + CarryRepo
    + SealingKeyRepo
    + DeviceRepo
    + std::fmt::Debug
    + 'static
{
}

impl<T> Store for T where
    T: StoreAdmin
        + TenantRepo
        + TeamRepo
        + StaffRepo
        + RoleRepo
        + SessionRepo
        + TotpRepo
        + RecoveryCodeRepo
        + ThrottleRepo
        + InvitationRepo
        + AuditRepo
        + PasskeyRepo
        + VisitorRepo
        + ConversationRepo
        + LogRepo
        + RoutingRepo
        + NoteRepo
        + AttachmentRepo
        + RetentionRepo
        + InboxRepo
        + KeyPackageRepo
        + HistoryPoolRepo
        + CarryRepo
        + SealingKeyRepo
        + DeviceRepo
        + std::fmt::Debug
        + 'static
{
}

/// A shared handle to a store, as the server holds it.
pub type DynStore = Arc<dyn Store>;
