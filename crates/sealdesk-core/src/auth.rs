//! Records of staff authentication as the store keeps them: sessions and API tokens, TOTP
//! enrolments, recovery codes, login throttling state, invitations. Secrets never appear here
//! in the clear: tokens and codes as SHA-256/HMAC digests, TOTP seeds sealed by the master key.

use time::OffsetDateTime;
use uuid::Uuid;

use sealdesk_proto::{StaffId, TenantId};

/// A 32-byte digest of a bearer secret (session token, recovery code, invitation token).
pub type Digest = [u8; 32];

/// What a session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// A browser session, carried in an `HttpOnly` cookie with CSRF protection.
    Browser,
    /// The terminal client or API, carried as a bearer token.
    Cli,
    /// A scoped, long-lived token for automation.
    ApiToken,
}

impl SessionKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Cli => "cli",
            SessionKind::ApiToken => "api_token",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "browser" => Some(SessionKind::Browser),
            "cli" => Some(SessionKind::Cli),
            "api_token" => Some(SessionKind::ApiToken),
            _ => None,
        }
    }
}

/// A session (or API token) to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Public id, used to list and revoke; not a secret.
    pub id: Uuid,
    /// Tenant.
    pub tenant: TenantId,
    /// Account.
    pub staff: StaffId,
    /// SHA-256 of the bearer token; the token itself is never stored.
    pub token_hash: Digest,
    /// Kind.
    pub kind: SessionKind,
    /// For API tokens: a label chosen by the admin.
    pub name: Option<String>,
    /// For API tokens: the actions allowed (names of `access::Action`s); empty for sessions.
    pub scopes: Vec<String>,
    /// Creation (and first authentication) time.
    pub created_at: OffsetDateTime,
    /// Expires after this much inactivity is reached (`None`: no idle limit).
    pub idle_expires_at: Option<OffsetDateTime>,
    /// Expires at this time whatever the activity.
    pub absolute_expires_at: OffsetDateTime,
    /// Client address, truncated as policy requires.
    pub ip: Option<String>,
    /// Client user agent, shortened.
    pub user_agent: Option<String>,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Public id.
    pub id: Uuid,
    /// Tenant.
    pub tenant: TenantId,
    /// Account.
    pub staff: StaffId,
    /// Kind.
    pub kind: SessionKind,
    /// API-token label.
    pub name: Option<String>,
    /// API-token scopes.
    pub scopes: Vec<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last request seen.
    pub last_seen_at: OffsetDateTime,
    /// Last time the person proved their credentials (login or re-authentication).
    pub authenticated_at: OffsetDateTime,
    /// Idle expiry.
    pub idle_expires_at: Option<OffsetDateTime>,
    /// Absolute expiry.
    pub absolute_expires_at: OffsetDateTime,
    /// Revocation time, if revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

impl Session {
    /// Whether the session can still be used at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none()
            && now < self.absolute_expires_at
            && self.idle_expires_at.is_none_or(|idle| now < idle)
    }
}

/// A TOTP enrolment (RFC 6238).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    /// The shared secret, sealed with the master key (purpose `totp-seed`, context staff id).
    pub sealed_secret: Vec<u8>,
    /// Set once the person proved they can generate codes; until then it is not a factor.
    pub confirmed_at: Option<OffsetDateTime>,
    /// The last time step whose code was accepted; codes at or before it are replays.
    pub last_used_step: Option<i64>,
    /// Enrolment time.
    pub created_at: OffsetDateTime,
}

/// Login throttling state for one key (an account or a source address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Consecutive failures.
    pub failures: u32,
    /// Time of the last failure.
    pub last_failure_at: OffsetDateTime,
    /// No attempt is accepted before this time.
    pub locked_until: Option<OffsetDateTime>,
}

/// An invitation to set a password and enrol a second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Public id.
    pub id: Uuid,
    /// Tenant.
    pub tenant: TenantId,
    /// The invited account (created disabled-for-login, without a password).
    pub staff: StaffId,
    /// SHA-256 of the invitation token.
    pub token_hash: Digest,
    /// Who invited.
    pub created_by: Option<StaffId>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Expiry.
    pub expires_at: OffsetDateTime,
    /// When it was used; single use.
    pub used_at: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    #[test]
    fn session_activity_respects_idle_absolute_and_revocation() {
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let mut s = Session {
            id: Uuid::nil(),
            tenant: TenantId::from_uuid(Uuid::nil()),
            staff: StaffId::from_uuid(Uuid::nil()),
            kind: SessionKind::Browser,
            name: None,
            scopes: vec![],
            created_at: t0,
            last_seen_at: t0,
            authenticated_at: t0,
            idle_expires_at: Some(t0 + Duration::minutes(30)),
            absolute_expires_at: t0 + Duration::hours(12),
            revoked_at: None,
            ip: None,
            user_agent: None,
        };
        assert!(s.is_active(t0 + Duration::minutes(29)));
        assert!(!s.is_active(t0 + Duration::minutes(30)));
        s.idle_expires_at = None;
        assert!(s.is_active(t0 + Duration::hours(11)));
        assert!(!s.is_active(t0 + Duration::hours(12)));
        s.revoked_at = Some(t0);
        assert!(!s.is_active(t0));
        for kind in [
            SessionKind::Browser,
            SessionKind::Cli,
            SessionKind::ApiToken,
        ] {
            assert_eq!(SessionKind::parse(kind.as_str()), Some(kind));
        }
    }
}
