//! Visitors: the pseudonymous customers who open the widget, and the short-lived tickets
//! that let them connect.
//!
//! A visitor is known to the server only by an id, the tenant and team it came through and,
//! when the tenant's website vouched for it with a signed identity token, the tenant's own
//! customer id. Names, e-mail addresses and everything else a visitor types travel inside the
//! end-to-end encrypted conversation.

use time::OffsetDateTime;

use sealdesk_proto::{TeamId, TenantId, VisitorId};

use crate::ValidationError;
use crate::auth::Digest;

/// The tenant's own id for a customer, from a verified identity token: 1 to 128 printable
/// characters, no controls.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 128;

    /// Validates an external customer id.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                "sub",
                format!("must be 1 to {} bytes", Self::MAX_LEN),
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "sub",
                "must not contain control characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything needed to create a visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisitor {
    /// The new visitor's id.
    pub id: VisitorId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The team (inbox) whose widget created it.
    pub team_id: TeamId,
    /// SHA-256 of the visitor key the widget keeps, to come back as the same visitor.
    pub key_hash: Digest,
    /// The tenant's customer id, when an identity token vouched for it.
    pub external_id: Option<ExternalId>,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A stored visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    /// Id.
    pub id: VisitorId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The team whose widget created it.
    pub team_id: TeamId,
    /// The tenant's customer id, when verified by an identity token.
    pub external_id: Option<ExternalId>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last time a ticket was issued to it.
    pub last_seen_at: OffsetDateTime,
}

impl Visitor {
    /// Whether the tenant's website vouched for this visitor.
    pub fn is_verified(&self) -> bool {
        self.external_id.is_some()
    }
}

/// A short-lived ticket that lets a visitor open WebSocket connections to one tenant and
/// team. Only the SHA-256 of the bearer token is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorTicket {
    /// SHA-256 of the bearer token.
    pub token_hash: Digest,
    /// The visitor.
    pub visitor_id: VisitorId,
    /// The tenant the ticket is valid for.
    pub tenant_id: TenantId,
    /// The team the ticket is valid for.
    pub team_id: TeamId,
    /// Issue time.
    pub created_at: OffsetDateTime,
    /// Expiry.
    pub expires_at: OffsetDateTime,
}

impl VisitorTicket {
    /// Whether the ticket may be used at `at`.
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        at < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_are_bounded_and_printable() {
        assert!(ExternalId::parse("customer-42").is_ok());
        assert!(ExternalId::parse("Zoë Müller <zoe@example.com>").is_ok());
        assert!(ExternalId::parse("").is_err());
        assert!(ExternalId::parse(&"x".repeat(129)).is_err());
        assert!(ExternalId::parse("a\nb").is_err());
    }
}
