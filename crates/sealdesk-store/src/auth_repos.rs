//! The repository traits of staff authentication and the audit log: roles, sessions and API
//! tokens, TOTP, recovery codes, login throttling, invitations, and the hash-chained audit
//! log. Re-exported from the crate root; part of [`Store`](crate::Store).

use async_trait::async_trait;
use sealdesk_core::audit::{AuditEvent, AuditRecord};
use sealdesk_core::auth::{Digest, Invitation, NewSession, Session, ThrottleState, TotpRecord};
use sealdesk_core::domain::{Role, Staff, TenantSettings};
use sealdesk_proto::{StaffId, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreResult;

/// Everything an authenticated request needs to know about its bearer token, read by
/// [`SessionRepo::resolve_session`] in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSession {
    /// The session, active or not (check [`Session::is_active`]).
    pub session: Session,
    /// Its account, enabled or not.
    pub staff: Staff,
    /// Whether the session's tenant is disabled.
    pub tenant_disabled: bool,
    /// The tenant's settings (session lifetimes, 2FA policy).
    pub tenant_settings: TenantSettings,
    /// Whether the account has a second factor: a confirmed TOTP enrolment or a passkey.
    pub second_factor: bool,
}

/// How a stored recovery code is hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryCodeHash {
    /// A PHC string: Argon2id with a per-code random salt, keyed with a master-key subkey
    /// (`sealdesk_crypto::recovery::hash`). Every code made since migration 0005.
    Argon2id(String),
    /// An HMAC-SHA256 digest under a master-key subkey, without salt: codes generated before
    /// migration 0005, which keep working until the account regenerates its codes.
    LegacyHmac(Digest),
}

/// One unused recovery code of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryCodeRecord {
    /// Row id, to spend this code with [`RecoveryCodeRepo::use_recovery_code`].
    pub id: i64,
    /// The stored hash.
    pub hash: RecoveryCodeHash,
    /// The master-key version whose subkey made the hash.
    pub key_version: u32,
}

/// Staff roles. Every call is scoped to a tenant.
#[async_trait]
pub trait RoleRepo: Send + Sync {
    /// Changes the role of an account of the tenant and returns the account. `NotFound` if
    /// the account is not in the tenant. Taking the owner role away from the tenant's last
    /// enabled owner gives `Conflict { constraint: LastOwner }` and changes nothing; the check
    /// and the change are one atomic step, so two concurrent demotions cannot both pass it.
    async fn set_staff_role(&self, tenant: TenantId, id: StaffId, role: Role)
    -> StoreResult<Staff>;
}

/// Sessions and API tokens, found by the SHA-256 of their bearer token (the token itself is
/// never stored). Times are kept at millisecond precision.
///
/// The bearer token is what establishes the tenant, so [`find_session`](Self::find_session)
/// takes none, and the calls made on behalf of the session just found (`touch_session`,
/// `set_session_authenticated`) address it by its id alone. Every call that acts on ids a
/// client supplies is scoped to a tenant (and, for `revoke_session`, to an account).
#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Stores a new session. `NotFound` if the account is not in the tenant; an id already
    /// used gives `Conflict { constraint: PrimaryKey }`, a token hash already stored
    /// `Conflict { constraint: SessionToken }`.
    async fn create_session(&self, session: &NewSession) -> StoreResult<Session>;
    /// The session with this token hash, active or not (check [`Session::is_active`]), or
    /// `None`.
    async fn find_session(&self, token_hash: &Digest) -> StoreResult<Option<Session>>;
    /// The session with this token hash together with its account, its tenant's state and
    /// settings, and whether the account has a second factor, in one read-only statement:
    /// the lookup every authenticated request makes. `None` if no session has this hash.
    /// The session is returned active or not, the account enabled or not.
    async fn resolve_session(&self, token_hash: &Digest) -> StoreResult<Option<ResolvedSession>>;
    /// Replaces session `old` by `new` in one transaction, the new token of a
    /// re-authentication (OWASP ASVS v5.0.0-7.2.4): stores `new` and revokes `old` at
    /// `new.created_at`, but only if `old` is a session of `new`'s tenant and account that is
    /// active at that time. `Ok(None)` otherwise (unknown, revoked, expired, already rotated,
    /// another account's), and nothing is written, so of two concurrent rotations of one
    /// session exactly one succeeds. Conflicts as [`create_session`](Self::create_session).
    async fn rotate_session(&self, old: Uuid, new: &NewSession) -> StoreResult<Option<Session>>;
    /// One session of the tenant, active or not, or `NotFound`.
    async fn get_session(&self, tenant: TenantId, id: Uuid) -> StoreResult<Session>;
    /// Of the sessions `ids` names, the `(tenant, id)` of those active at `now` (not revoked,
    /// before the absolute expiry, before the idle expiry if any), in no particular order;
    /// unknown ids are left out. One statement for many sessions: a server node checks every
    /// staff WebSocket connection it holds with one query per heartbeat period instead of one
    /// per connection (docs/performance.md, S1). Callers compare the tenant too.
    async fn active_sessions(
        &self,
        ids: &[Uuid],
        now: OffsetDateTime,
    ) -> StoreResult<Vec<(TenantId, Uuid)>>;
    /// The account's sessions and API tokens that are active at `now` (not revoked, before
    /// the absolute expiry, before the idle expiry if any), newest first.
    async fn list_sessions(
        &self,
        tenant: TenantId,
        staff: StaffId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Session>>;
    /// Records activity on a session active at `now`: moves `last_seen_at` to `now` and, for
    /// a session with an idle limit, its idle expiry to `idle_expires_at` when given; both
    /// only ever move forward, and the idle expiry never passes the absolute one. One cheap
    /// statement. `false` if the session is unknown or no longer active.
    async fn touch_session(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        idle_expires_at: Option<OffsetDateTime>,
    ) -> StoreResult<bool>;
    /// Records a successful re-authentication on a session active at `at`
    /// (`authenticated_at = at`). `false` if the session is unknown or no longer active.
    async fn set_session_authenticated(&self, id: Uuid, at: OffsetDateTime) -> StoreResult<bool>;
    /// Revokes one session of the account. `true` if this call revoked it, `false` if it was
    /// already revoked (the first revocation time is kept); `NotFound` if it is not a session
    /// of that account in that tenant.
    async fn revoke_session(
        &self,
        tenant: TenantId,
        staff: StaffId,
        id: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Revokes every session and API token of the account that is active at `at`. Returns
    /// how many were revoked; other accounts' sessions are untouched.
    async fn revoke_all_sessions(
        &self,
        tenant: TenantId,
        staff: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;
    /// Revokes, in one statement, every session and API token of the account that is active
    /// at `at` except `keep` (the caller's own session). Returns how many were revoked.
    async fn revoke_other_sessions(
        &self,
        tenant: TenantId,
        staff: StaffId,
        keep: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<u64>;
}

/// TOTP enrolments (RFC 6238), one per account. Every call is scoped to a tenant.
#[async_trait]
pub trait TotpRepo: Send + Sync {
    /// Starts (or restarts) an enrolment with a new sealed secret, unconfirmed and unused.
    /// An unconfirmed enrolment is replaced; a confirmed one gives
    /// `Conflict { constraint: TotpConfirmed }` and is kept (remove it with
    /// [`delete_totp`](Self::delete_totp) first). `NotFound` if the account is not in the
    /// tenant.
    async fn begin_totp(
        &self,
        tenant: TenantId,
        staff: StaffId,
        sealed_secret: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<TotpRecord>;
    /// The account's enrolment, confirmed or not, or `None` (also for an account of another
    /// tenant).
    async fn get_totp(&self, tenant: TenantId, staff: StaffId) -> StoreResult<Option<TotpRecord>>;
    /// Confirms a pending enrolment with the step of the code that proved it, which becomes
    /// the last used step (so that code cannot be replayed to log in). `false` if there is
    /// no pending enrolment (none, or already confirmed).
    async fn confirm_totp(
        &self,
        tenant: TenantId,
        staff: StaffId,
        step: i64,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Accepts `step` for a confirmed enrolment only if it is later than the last used step,
    /// and records it; atomic, so of two concurrent uses of one code exactly one wins.
    /// `false` for a replayed or earlier step, or without a confirmed enrolment.
    async fn use_totp_step(&self, tenant: TenantId, staff: StaffId, step: i64)
    -> StoreResult<bool>;
    /// Replaces the sealed secret if it is still `old` (compare-and-swap, for re-sealing
    /// under a new master key). `false` if the enrolment is gone or was changed meanwhile.
    async fn replace_totp_secret(
        &self,
        tenant: TenantId,
        staff: StaffId,
        old: &[u8],
        new: &[u8],
    ) -> StoreResult<bool>;
    /// Removes the enrolment; `true` if there was one.
    async fn delete_totp(&self, tenant: TenantId, staff: StaffId) -> StoreResult<bool>;
    /// Every enrolment's sealed secret with its tenant and account, across the installation,
    /// for re-sealing after a master key rotation (an operator task).
    async fn list_totp_secrets(&self) -> StoreResult<Vec<(TenantId, StaffId, Vec<u8>)>>;
}

/// Single-use recovery codes, stored hashed. Every call is scoped to a tenant.
#[async_trait]
pub trait RecoveryCodeRepo: Send + Sync {
    /// Replaces all of the account's codes with `hashes` (Argon2id PHC strings keyed with
    /// the subkey of `key_version`), in one transaction. `NotFound` if the account is not in
    /// the tenant; a hash given twice gives `Conflict { constraint: RecoveryCode }`; either
    /// way the old codes are kept.
    async fn replace_recovery_codes(
        &self,
        tenant: TenantId,
        staff: StaffId,
        hashes: &[String],
        key_version: u32,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The account's unused codes, oldest first (empty for an account of another tenant).
    /// Salted hashes cannot be looked up by value: the caller checks a presented code
    /// against each, then spends the one that matched by its id.
    async fn list_recovery_codes(
        &self,
        tenant: TenantId,
        staff: StaffId,
    ) -> StoreResult<Vec<RecoveryCodeRecord>>;
    /// Marks the account's unused code `id` as used at `at`; atomic, so a code is accepted
    /// at most once even under concurrent attempts. `false` if there is no such unused code.
    async fn use_recovery_code(
        &self,
        tenant: TenantId,
        staff: StaffId,
        id: i64,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// How many unused codes the account has.
    async fn count_recovery_codes(&self, tenant: TenantId, staff: StaffId) -> StoreResult<u32>;
}

/// Login throttling counters, by key (the caller builds keys such as an account or a source
/// address; they are not secret and not tenant-scoped rows).
#[async_trait]
pub trait ThrottleRepo: Send + Sync {
    /// The state of `key`, or `None` if it has no recorded failure.
    async fn get_throttle(&self, key: &str) -> StoreResult<Option<ThrottleState>>;
    /// Counts one more failure for `key` at `at` and returns the new state; atomic, so
    /// concurrent failures are all counted.
    async fn record_failure(&self, key: &str, at: OffsetDateTime) -> StoreResult<ThrottleState>;
    /// With `Some(until)`, locks `key` until then, or later if it is already locked longer
    /// (so of two concurrent lock decisions the longer stands); with `None`, lifts the lock
    /// and keeps the count. `false` if `key` has no recorded failure (nothing to lock).
    async fn set_locked_until(&self, key: &str, until: Option<OffsetDateTime>)
    -> StoreResult<bool>;
    /// Forgets `key` (after a successful login); `true` if it had state.
    async fn clear_throttle(&self, key: &str) -> StoreResult<bool>;
    /// Forgets every key whose last failure is before `before` and that is not locked past
    /// it; returns how many. For housekeeping.
    async fn purge_throttle(&self, before: OffsetDateTime) -> StoreResult<u64>;
}

/// Invitations, found by the SHA-256 of their token. The token establishes the tenant, so
/// the token calls take none; calls by id are scoped to a tenant.
#[async_trait]
pub trait InvitationRepo: Send + Sync {
    /// Stores an invitation (its `used_at` is ignored: a new invitation is unused).
    /// `NotFound` if the invited account, or the inviter when given, is not in the tenant;
    /// an id already used gives `Conflict { constraint: PrimaryKey }`, a token hash already
    /// stored `Conflict { constraint: InvitationToken }`.
    async fn create_invitation(&self, invitation: &Invitation) -> StoreResult<Invitation>;
    /// The invitation with this token hash if it is unused and not expired at `now`, without
    /// using it (to validate a form before spending the invitation); `None` otherwise.
    async fn peek_invitation(
        &self,
        token_hash: &Digest,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Invitation>>;
    /// Uses the invitation with this token hash if it is unused and not expired at `now`,
    /// and returns it with `used_at = now`; atomic, so it is taken at most once. `None`
    /// otherwise.
    async fn take_invitation(
        &self,
        token_hash: &Digest,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Invitation>>;
    /// The tenant's invitations that are unused and unexpired at `now`, newest first.
    async fn list_invitations(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Invitation>>;
    /// Withdraws an invitation of the tenant; `true` if it existed.
    async fn delete_invitation(&self, tenant: TenantId, id: Uuid) -> StoreResult<bool>;
}

/// The audit log: an append-only hash chain across the whole installation
/// (`sealdesk_crypto::audit_chain`). Entries are never updated or deleted through the store.
#[async_trait]
pub trait AuditRepo: Send + Sync {
    /// Appends an event as the next entry of the chain and returns it (time at millisecond
    /// precision, as hashed). Appends are serialised, so the chain has no gaps or forks even
    /// under concurrent writers.
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<AuditRecord>;
    /// Up to `limit` entries with a sequence number above `after_seq`, in sequence order:
    /// all of them with `tenant: None` (to verify the chain), else those of that tenant.
    async fn list_audit(
        &self,
        tenant: Option<TenantId>,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Up to `limit` of a tenant's entries below `before_seq` (all when `None`), newest
    /// first: what an administrator reads first.
    async fn list_audit_newest(
        &self,
        tenant: TenantId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// The newest entry's sequence number and hash (hex), or `None` for an empty log. Keep
    /// it elsewhere to also detect truncation of the newest entries.
    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;
}
