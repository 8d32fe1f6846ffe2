//! The repository of passkeys (WebAuthn credentials) and of the short-lived WebAuthn ceremony
//! state kept between a ceremony's start and finish requests. Re-exported from the crate root;
//! part of [`Store`](crate::Store). The store treats the WebAuthn JSON as opaque text.

use async_trait::async_trait;
use sealdesk_proto::{StaffId, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreResult;

/// A registered passkey of a staff account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// Public id (for listing and removing).
    pub id: Uuid,
    /// Tenant.
    pub tenant: TenantId,
    /// The account it belongs to.
    pub staff: StaffId,
    /// The credential id chosen by the authenticator; unique across the installation.
    pub credential_id: Vec<u8>,
    /// The webauthn-rs `Passkey`, serialised as JSON (public key, counter, backup flags).
    pub passkey: String,
    /// The name the person gave it.
    pub name: String,
    /// Registration time.
    pub created_at: OffsetDateTime,
    /// Last successful use.
    pub last_used_at: Option<OffsetDateTime>,
}

/// Which WebAuthn ceremony a stored state belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Registering a new passkey (`navigator.credentials.create`).
    Registration,
    /// Logging in with a passkey (`navigator.credentials.get`).
    Authentication,
}

impl CeremonyKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Registration => "registration",
            CeremonyKind::Authentication => "authentication",
        }
    }
}

/// The server-side state of one WebAuthn ceremony, usable once and until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// Random id handed to the client with the challenge.
    pub id: Uuid,
    /// The tenant the ceremony runs in (not checked to exist).
    pub tenant: TenantId,
    /// The account, when the ceremony names one.
    pub staff: Option<StaffId>,
    /// Registration or authentication.
    pub kind: CeremonyKind,
    /// The webauthn-rs ceremony state, serialised as JSON.
    pub state: String,
    /// After this time the ceremony cannot be finished.
    pub expires_at: OffsetDateTime,
}

/// Passkeys and WebAuthn ceremonies. Calls that act on an account are scoped to a tenant;
/// lookups by credential id are not (the credential id is what identifies the account in a
/// passwordless login), and the caller checks the tenant of what it finds.
#[async_trait]
pub trait PasskeyRepo: Send + Sync {
    /// Stores a passkey (its `last_used_at` is ignored). `NotFound` if the account is not in
    /// the tenant; a credential id already registered (to anyone) gives
    /// `Conflict { constraint: PasskeyCredential }`, an id already used
    /// `Conflict { constraint: PrimaryKey }`.
    async fn create_passkey(&self, passkey: &PasskeyRecord) -> StoreResult<PasskeyRecord>;
    /// The account's passkeys, oldest first (empty for an account of another tenant).
    async fn list_passkeys(
        &self,
        tenant: TenantId,
        staff: StaffId,
    ) -> StoreResult<Vec<PasskeyRecord>>;
    /// Removes one passkey of the account; `true` if it existed.
    async fn delete_passkey(&self, tenant: TenantId, staff: StaffId, id: Uuid)
    -> StoreResult<bool>;
    /// After a successful use: replaces the stored passkey JSON (new counter or backup state)
    /// and sets the last use time. `false` if the passkey is not in the tenant (it was removed
    /// meanwhile).
    async fn update_passkey_after_use(
        &self,
        tenant: TenantId,
        id: Uuid,
        passkey: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// The passkey with this credential id, in any tenant, or `None`.
    async fn find_passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> StoreResult<Option<PasskeyRecord>>;
    /// Stores a ceremony's state. `NotFound` if it names an account that is not in the
    /// tenant; an id already used gives `Conflict { constraint: PrimaryKey }`.
    async fn put_ceremony(&self, ceremony: &Ceremony) -> StoreResult<()>;
    /// Removes and returns the ceremony with this id and kind if it has not expired at `now`;
    /// atomic, so a ceremony is finished at most once even under concurrent requests
    /// (W3C WebAuthn Level 3 §13.4.3: a challenge is used once). `None` otherwise (an expired
    /// one is removed too).
    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Ceremony>>;
    /// Forgets every ceremony that expired before `before`; returns how many. Housekeeping.
    async fn purge_ceremonies(&self, before: OffsetDateTime) -> StoreResult<u64>;
}

/// Reads a stored [`CeremonyKind`] name.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn ceremony_kind(raw: &str) -> StoreResult<CeremonyKind> {
    match raw {
        "registration" => Ok(CeremonyKind::Registration),
        "authentication" => Ok(CeremonyKind::Authentication),
        other => Err(crate::StoreError::Corrupt(format!(
            "webauthn_ceremonies.kind: unknown kind {other:?}"
        ))),
    }
}
