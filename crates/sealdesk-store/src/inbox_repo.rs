//! Identity-token keys per inbox (team). Re-exported from the crate root; part of
//! [`Store`](crate::Store).

use async_trait::async_trait;
use sealdesk_proto::{TeamId, TenantId};
use time::OffsetDateTime;

use crate::StoreResult;

/// Which kind of key an inbox verifies identity tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKeyKind {
    /// A server-generated HMAC secret; `key` holds it sealed by the master key.
    Hs256,
    /// The tenant's Ed25519 public key; `key` holds its 32 bytes.
    Ed25519,
}

impl IdentityKeyKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKeyKind::Hs256 => "hs256",
            IdentityKeyKind::Ed25519 => "ed25519",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "hs256" => Some(IdentityKeyKind::Hs256),
            "ed25519" => Some(IdentityKeyKind::Ed25519),
            _ => None,
        }
    }
}

/// An inbox's identity-token settings.
#[derive(Clone, PartialEq, Eq)]
pub struct InboxIdentity {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The inbox.
    pub team_id: TeamId,
    /// Key kind.
    pub kind: IdentityKeyKind,
    /// Sealed secret (HS256) or public key (Ed25519).
    pub key: Vec<u8>,
    /// Whether tickets need a valid identity token.
    pub required: bool,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl std::fmt::Debug for InboxIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxIdentity")
            .field("tenant_id", &self.tenant_id)
            .field("team_id", &self.team_id)
            .field("kind", &self.kind)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

/// Inbox identity settings. Every call is scoped to a tenant.
#[async_trait]
pub trait InboxRepo: Send + Sync {
    /// The inbox's settings, if any.
    async fn get_inbox_identity(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> StoreResult<Option<InboxIdentity>>;
    /// Creates or replaces the inbox's settings. `NotFound` if the team is not the tenant's.
    async fn set_inbox_identity(&self, identity: &InboxIdentity) -> StoreResult<()>;
    /// Removes them; `true` if there were any.
    async fn clear_inbox_identity(&self, tenant: TenantId, team: TeamId) -> StoreResult<bool>;
    /// Every sealed HS256 secret (tenant, team, sealed), for master-key rotation.
    async fn list_inbox_secrets(&self) -> StoreResult<Vec<(TenantId, TeamId, Vec<u8>)>>;
    /// Replaces a sealed secret if it is still `old` (compare-and-swap); `false` if it changed
    /// meanwhile.
    async fn replace_inbox_secret(
        &self,
        tenant: TenantId,
        team: TeamId,
        old: &[u8],
        new: &[u8],
    ) -> StoreResult<bool>;
}
