//! Audit events: who did what to which object, when, from where; never any message content
//! or secret (OWASP ASVS v5.0.0-16.2.1, 16.2.5). The store appends them to a hash chain in
//! which every entry commits to the previous one, so an edited or deleted entry is detected.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use sealdesk_proto::{StaffId, TenantId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed (any reason; the reason is in the details, never shown to the client).
    LoginFailed,
    /// Repeated failures locked an account or address for a while.
    LoginLocked,
    /// A session ended by logout.
    Logout,
    /// A session was revoked.
    SessionRevoked,
    /// All sessions of an account were revoked.
    SessionsRevokedAll,
    /// A re-authentication for a sensitive action succeeded.
    Reauthenticated,
    /// A password was set or changed.
    PasswordChanged,
    /// TOTP enrolment started.
    TotpEnrolmentStarted,
    /// TOTP was confirmed and is now a factor.
    TotpEnabled,
    /// TOTP was removed.
    TotpDisabled,
    /// Recovery codes were (re)generated.
    RecoveryCodesGenerated,
    /// A recovery code was used to log in.
    RecoveryCodeUsed,
    /// A passkey was registered.
    PasskeyAdded,
    /// A passkey was removed.
    PasskeyRemoved,
    /// A tenant was created.
    TenantCreated,
    /// Tenant settings changed.
    SettingsChanged,
    /// A team was created or changed.
    TeamChanged,
    /// A staff account was created.
    StaffCreated,
    /// A staff account was disabled or enabled.
    StaffStatusChanged,
    /// A staff member's role changed.
    RoleChanged,
    /// An invitation was issued.
    InvitationCreated,
    /// An invitation was accepted.
    InvitationAccepted,
    /// An API token was created.
    ApiTokenCreated,
    /// An API token was revoked.
    ApiTokenRevoked,
    /// A key operation (tenant keys, device certificates).
    KeyOperation,
    /// The server master key was rotated.
    MasterKeyRotated,
    /// Data was exported.
    Exported,
    /// Data was erased.
    Erased,
    /// A visitor asked for their conversation to be deleted.
    ErasureRequested,
    /// Data was deleted by retention.
    RetentionDeleted,
}

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// A staff member.
    Staff(StaffId),
    /// The operator, through the admin CLI on the server's machine.
    Operator,
    /// The server itself (retention, housekeeping).
    System,
    /// Someone not (yet) authenticated, such as a failed login.
    Anonymous,
}

impl Actor {
    /// The stored form: `staff:<uuid>`, `operator`, `system`, `anonymous`.
    pub fn encode(&self) -> String {
        match self {
            Actor::Staff(id) => format!("staff:{id}"),
            Actor::Operator => "operator".into(),
            Actor::System => "system".into(),
            Actor::Anonymous => "anonymous".into(),
        }
    }

    /// Parses the stored form.
    pub fn decode(s: &str) -> Option<Self> {
        match s {
            "operator" => Some(Actor::Operator),
            "system" => Some(Actor::System),
            "anonymous" => Some(Actor::Anonymous),
            other => other.strip_prefix("staff:")?.parse().ok().map(Actor::Staff),
        }
    }
}

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The tenant concerned (`None` for installation-wide events such as key rotation).
    pub tenant: Option<TenantId>,
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: AuditAction,
    /// The object acted on (`staff:<id>`, `session:<id>`, `team:<id>`), if any.
    pub target: Option<String>,
    /// Content-free details (reason codes, old/new role, counts). Sorted for hashing.
    pub details: BTreeMap<String, String>,
    /// Source address, truncated as the privacy policy requires.
    pub ip: Option<String>,
}

/// An appended event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// The event.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// Hash of the previous entry (all zeroes for the first), hex.
    pub prev_hash: String,
    /// This entry's hash, hex.
    pub hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(AuditAction::LoginFailed.as_str(), "login_failed");
        assert_eq!(
            AuditAction::parse("master_key_rotated"),
            Some(AuditAction::MasterKeyRotated)
        );
        assert_eq!(AuditAction::parse("nope"), None);
        let id: StaffId = "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70".parse().unwrap();
        for actor in [
            Actor::Staff(id),
            Actor::Operator,
            Actor::System,
            Actor::Anonymous,
        ] {
            assert_eq!(Actor::decode(&actor.encode()), Some(actor));
        }
        assert_eq!(Actor::decode("staff:nope"), None);
    }
}
