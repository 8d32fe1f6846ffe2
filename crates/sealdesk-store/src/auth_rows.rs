//! Rows of the authentication and audit tables as the backends read them, and their
//! conversion back into core values. Every stored value is re-parsed; one that fails is
//! [`StoreError::Corrupt`]. Also the audit chain step shared by both backends.

use std::collections::BTreeMap;

use sealdesk_core::audit::{Actor, AuditAction, AuditEvent, AuditRecord};
use sealdesk_core::auth::{
    Digest, Invitation, NewSession, Session, SessionKind, ThrottleState, TotpRecord,
};
use sealdesk_core::clock::from_unix_ms;
use sealdesk_crypto::audit_chain::entry_hash;
use sealdesk_proto::{StaffId, TenantId};
use uuid::Uuid;

use crate::rows::{StaffRow, corrupt, parse_settings, stored_time};
use crate::{RecoveryCodeHash, RecoveryCodeRecord, ResolvedSession, StoreError, StoreResult};

/// A `sessions` row.
#[derive(Debug)]
pub(crate) struct SessionRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) staff_id: Uuid,
    pub(crate) kind: String,
    pub(crate) name: Option<String>,
    pub(crate) scopes: String,
    pub(crate) created_at_ms: i64,
    pub(crate) last_seen_at_ms: i64,
    pub(crate) authenticated_at_ms: i64,
    pub(crate) idle_expires_at_ms: Option<i64>,
    pub(crate) absolute_expires_at_ms: i64,
    pub(crate) revoked_at_ms: Option<i64>,
    pub(crate) ip: Option<String>,
    pub(crate) user_agent: Option<String>,
}

impl SessionRow {
    /// The session.
    pub(crate) fn into_session(self) -> StoreResult<Session> {
        let what = |field: &str| format!("session {}: {field}", self.id);
        let kind = SessionKind::parse(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(what(&format!("kind {:?}", self.kind))))?;
        let scopes: Vec<String> =
            serde_json::from_str(&self.scopes).map_err(|e| corrupt(&what("scopes"), e))?;
        Ok(Session {
            id: self.id,
            tenant: TenantId::from_uuid(self.tenant_id),
            staff: StaffId::from_uuid(self.staff_id),
            kind,
            name: self.name,
            scopes,
            created_at: from_unix_ms(self.created_at_ms),
            last_seen_at: from_unix_ms(self.last_seen_at_ms),
            authenticated_at: from_unix_ms(self.authenticated_at_ms),
            idle_expires_at: self.idle_expires_at_ms.map(from_unix_ms),
            absolute_expires_at: from_unix_ms(self.absolute_expires_at_ms),
            revoked_at: self.revoked_at_ms.map(from_unix_ms),
            ip: self.ip,
            user_agent: self.user_agent,
        })
    }
}

/// The columns every session query reads, in [`SessionRow`] order.
pub(crate) const SESSION_COLUMNS: &str = "id, tenant_id, staff_id, kind, name, scopes, \
    created_at_ms, last_seen_at_ms, authenticated_at_ms, idle_expires_at_ms, \
    absolute_expires_at_ms, revoked_at_ms, ip, user_agent";

/// The joined row of `resolve_session`: the session, its account, its tenant's state and
/// settings, and whether the account has a second factor.
#[derive(Debug)]
pub(crate) struct ResolvedRow {
    pub(crate) session: SessionRow,
    pub(crate) staff: StaffRow,
    pub(crate) tenant_disabled: bool,
    pub(crate) tenant_settings: String,
    pub(crate) second_factor: bool,
}

impl ResolvedRow {
    /// The resolved session.
    pub(crate) fn into_resolved(self) -> StoreResult<ResolvedSession> {
        let what = format!("tenant {}: settings", self.session.tenant_id);
        let tenant_settings = parse_settings(&self.tenant_settings, &what)?;
        Ok(ResolvedSession {
            session: self.session.into_session()?,
            staff: self.staff.into_staff()?,
            tenant_disabled: self.tenant_disabled,
            tenant_settings,
            second_factor: self.second_factor,
        })
    }
}

/// The statement of `resolve_session`, with `param` as the placeholder of the token hash
/// (`?1` or `$1`). The session columns keep their names, so each backend's session row
/// reader applies (the settings are cast to text: JSONB on PostgreSQL). The joins follow the
/// composite key (tenant, account), and both factor checks are index lookups (`staff_totp`
/// by primary key, `passkeys` by tenant and account).
pub(crate) fn resolve_session_sql(param: &str) -> String {
    format!(
        "SELECT s.id AS id, s.tenant_id AS tenant_id, s.staff_id AS staff_id, s.kind AS kind,
                s.name AS name, s.scopes AS scopes, s.created_at_ms AS created_at_ms,
                s.last_seen_at_ms AS last_seen_at_ms,
                s.authenticated_at_ms AS authenticated_at_ms,
                s.idle_expires_at_ms AS idle_expires_at_ms,
                s.absolute_expires_at_ms AS absolute_expires_at_ms,
                s.revoked_at_ms AS revoked_at_ms, s.ip AS ip, s.user_agent AS user_agent,
                a.email AS staff_email, a.display_name AS staff_display_name,
                a.role AS staff_role, a.password_hash IS NOT NULL AS staff_has_password,
                a.disabled AS staff_disabled, a.created_at_ms AS staff_created_at_ms,
                t.disabled AS tenant_disabled, CAST(t.settings AS TEXT) AS tenant_settings,
                (EXISTS (SELECT 1 FROM staff_totp f
                         WHERE f.staff_id = s.staff_id AND f.tenant_id = s.tenant_id
                           AND f.confirmed_at_ms IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM passkeys k
                            WHERE k.tenant_id = s.tenant_id AND k.staff_id = s.staff_id))
                    AS second_factor
         FROM sessions s
         JOIN staff a ON a.tenant_id = s.tenant_id AND a.id = s.staff_id
         JOIN tenants t ON t.id = s.tenant_id
         WHERE s.token_hash = {param}"
    )
}

/// A `recovery_codes` row: exactly one of `phc` (Argon2id) and `digest` (legacy HMAC) is
/// set, which the table's CHECK constraint guarantees.
#[derive(Debug)]
pub(crate) struct RecoveryCodeRow {
    pub(crate) id: i64,
    pub(crate) phc: Option<String>,
    pub(crate) digest: Option<Vec<u8>>,
    pub(crate) key_version: i64,
}

impl RecoveryCodeRow {
    /// The stored code.
    pub(crate) fn into_record(self) -> StoreResult<RecoveryCodeRecord> {
        let what = format!("recovery code {}", self.id);
        let hash = match (self.phc, self.digest) {
            (Some(phc), None) => RecoveryCodeHash::Argon2id(phc),
            (None, Some(bytes)) => {
                RecoveryCodeHash::LegacyHmac(digest(&bytes, &format!("{what}: digest"))?)
            }
            _ => return Err(StoreError::Corrupt(format!("{what}: not exactly one hash"))),
        };
        Ok(RecoveryCodeRecord {
            id: self.id,
            hash,
            key_version: u32::try_from(self.key_version)
                .map_err(|e| corrupt(&format!("{what}: key_version"), e))?,
        })
    }
}

/// The scopes as stored: a JSON array of strings.
pub(crate) fn scopes_json(scopes: &[String]) -> StoreResult<String> {
    serde_json::to_string(scopes).map_err(|e| corrupt("session scopes", e))
}

/// What `create_session` returns: the new session as it reads back (times at millisecond
/// precision, never seen since creation, authenticated at creation, not revoked).
pub(crate) fn created_session(new: &NewSession) -> Session {
    let created_at = stored_time(new.created_at);
    Session {
        id: new.id,
        tenant: new.tenant,
        staff: new.staff,
        kind: new.kind,
        name: new.name.clone(),
        scopes: new.scopes.clone(),
        created_at,
        last_seen_at: created_at,
        authenticated_at: created_at,
        idle_expires_at: new.idle_expires_at.map(stored_time),
        absolute_expires_at: stored_time(new.absolute_expires_at),
        revoked_at: None,
        ip: new.ip.clone(),
        user_agent: new.user_agent.clone(),
    }
}

/// A `staff_totp` row.
#[derive(Debug)]
pub(crate) struct TotpRow {
    pub(crate) sealed_secret: Vec<u8>,
    pub(crate) confirmed_at_ms: Option<i64>,
    pub(crate) last_used_step: Option<i64>,
    pub(crate) created_at_ms: i64,
}

impl TotpRow {
    /// The enrolment.
    pub(crate) fn into_record(self) -> TotpRecord {
        TotpRecord {
            sealed_secret: self.sealed_secret,
            confirmed_at: self.confirmed_at_ms.map(from_unix_ms),
            last_used_step: self.last_used_step,
            created_at: from_unix_ms(self.created_at_ms),
        }
    }
}

/// A `login_throttle` row.
#[derive(Debug)]
pub(crate) struct ThrottleRow {
    pub(crate) failures: i64,
    pub(crate) last_failure_at_ms: i64,
    pub(crate) locked_until_ms: Option<i64>,
}

impl ThrottleRow {
    /// The throttle state of `key`.
    pub(crate) fn into_state(self, key: &str) -> StoreResult<ThrottleState> {
        Ok(ThrottleState {
            failures: u32::try_from(self.failures)
                .map_err(|e| corrupt(&format!("throttle {key:?}: failures"), e))?,
            last_failure_at: from_unix_ms(self.last_failure_at_ms),
            locked_until: self.locked_until_ms.map(from_unix_ms),
        })
    }
}

/// An `invitations` row.
#[derive(Debug)]
pub(crate) struct InvitationRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) staff_id: Uuid,
    pub(crate) token_hash: Vec<u8>,
    pub(crate) created_by: Option<Uuid>,
    pub(crate) created_at_ms: i64,
    pub(crate) expires_at_ms: i64,
    pub(crate) used_at_ms: Option<i64>,
}

impl InvitationRow {
    /// The invitation.
    pub(crate) fn into_invitation(self) -> StoreResult<Invitation> {
        Ok(Invitation {
            id: self.id,
            tenant: TenantId::from_uuid(self.tenant_id),
            staff: StaffId::from_uuid(self.staff_id),
            token_hash: digest(
                &self.token_hash,
                &format!("invitation {}: token_hash", self.id),
            )?,
            created_by: self.created_by.map(StaffId::from_uuid),
            created_at: from_unix_ms(self.created_at_ms),
            expires_at: from_unix_ms(self.expires_at_ms),
            used_at: self.used_at_ms.map(from_unix_ms),
        })
    }
}

/// The columns every invitation query reads, in [`InvitationRow`] order.
pub(crate) const INVITATION_COLUMNS: &str =
    "id, tenant_id, staff_id, token_hash, created_by, created_at_ms, expires_at_ms, used_at_ms";

/// What `create_invitation` returns: the invitation as it reads back (unused, times at
/// millisecond precision).
pub(crate) fn created_invitation(new: &Invitation) -> Invitation {
    Invitation {
        created_at: stored_time(new.created_at),
        expires_at: stored_time(new.expires_at),
        used_at: None,
        ..new.clone()
    }
}

/// An `audit_log` row.
#[derive(Debug)]
pub(crate) struct AuditRow {
    pub(crate) seq: i64,
    pub(crate) tenant_id: Option<Uuid>,
    pub(crate) at_ms: i64,
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) target: Option<String>,
    pub(crate) details: String,
    pub(crate) ip: Option<String>,
    pub(crate) prev_hash: Vec<u8>,
    pub(crate) hash: Vec<u8>,
}

impl AuditRow {
    /// The entry, rebuilt exactly as it was hashed, so a chain check sees what was stored.
    pub(crate) fn into_record(self) -> StoreResult<AuditRecord> {
        let what = |field: &str| format!("audit entry {}: {field}", self.seq);
        let actor = Actor::decode(&self.actor)
            .ok_or_else(|| StoreError::Corrupt(what(&format!("actor {:?}", self.actor))))?;
        let action = AuditAction::parse(&self.action)
            .ok_or_else(|| StoreError::Corrupt(what(&format!("action {:?}", self.action))))?;
        let details: BTreeMap<String, String> =
            serde_json::from_str(&self.details).map_err(|e| corrupt(&what("details"), e))?;
        Ok(AuditRecord {
            seq: self.seq,
            event: AuditEvent {
                at: from_unix_ms(self.at_ms),
                tenant: self.tenant_id.map(TenantId::from_uuid),
                actor,
                action,
                target: self.target,
                details,
                ip: self.ip,
            },
            prev_hash: hex::encode(digest(&self.prev_hash, &what("prev_hash"))?),
            hash: hex::encode(digest(&self.hash, &what("hash"))?),
        })
    }
}

/// The columns every audit query reads, in [`AuditRow`] order.
pub(crate) const AUDIT_COLUMNS: &str =
    "seq, tenant_id, at_ms, actor, action, target, details, ip, prev_hash, hash";

/// The next entry of the chain after the head `(head_seq, head_hash)`: the event with its
/// time at the stored millisecond precision, its sequence number and both hashes.
pub(crate) fn next_audit_entry(
    head_seq: i64,
    head_hash: &[u8],
    event: &AuditEvent,
) -> StoreResult<AuditRecord> {
    let prev = digest(head_hash, "audit head hash")?;
    let seq = head_seq
        .checked_add(1)
        .ok_or_else(|| StoreError::Corrupt(format!("audit head at {head_seq}")))?;
    let event = AuditEvent {
        at: stored_time(event.at),
        ..event.clone()
    };
    let hash = entry_hash(&prev, seq, &event);
    Ok(AuditRecord {
        seq,
        event,
        prev_hash: hex::encode(prev),
        hash: hex::encode(hash),
    })
}

/// The details as stored: a JSON object, keys in order (a `BTreeMap` serialises sorted).
pub(crate) fn details_json(details: &BTreeMap<String, String>) -> StoreResult<String> {
    serde_json::to_string(details).map_err(|e| corrupt("audit details", e))
}

/// A record's hash as stored bytes (it was made by [`next_audit_entry`], so it is hex).
pub(crate) fn hash_bytes(hex_hash: &str) -> StoreResult<Vec<u8>> {
    hex::decode(hex_hash).map_err(|e| corrupt("audit hash", e))
}

/// A stored 32-byte digest.
pub(crate) fn digest(bytes: &[u8], what: &str) -> StoreResult<Digest> {
    Digest::try_from(bytes)
        .map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, expected 32", bytes.len())))
}
