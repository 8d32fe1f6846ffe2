//! Team and archive keys (E2EE.md §3): the signed public announcements of each tenant's
//! team keys (TK, per team) and archive key (AK), every version kept so old bundles stay
//! openable. The private halves never reach the server. Re-exported from the crate root;
//! part of [`Store`](crate::Store).

use async_trait::async_trait;
use bytes::Bytes;
use sealdesk_proto::{TeamId, TenantId};
use time::OffsetDateTime;

use crate::StoreResult;

/// Whose key: a team's, or the tenant's archive key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyScope {
    /// A team key.
    Team(TeamId),
    /// The archive key.
    Archive,
}

impl KeyScope {
    /// The column value: the team id, or `archive`.
    pub(crate) fn column(self) -> String {
        match self {
            Self::Team(team) => team.to_string(),
            Self::Archive => String::from("archive"),
        }
    }

    pub(crate) fn from_column(value: &str) -> Option<Self> {
        if value == "archive" {
            return Some(Self::Archive);
        }
        value.parse().ok().map(Self::Team)
    }
}

/// One version of a team or archive key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealingKey {
    /// Whose key.
    pub scope: KeyScope,
    /// 1, 2, … per scope.
    pub version: u32,
    /// The X25519 public key (also inside the announcement).
    pub public_key: [u8; 32],
    /// The signed announcement (`sealdesk_mls::announce`), verified by the caller.
    pub announcement: Bytes,
    /// When it was published.
    pub created_at: OffsetDateTime,
}

/// Team and archive key announcements.
#[async_trait]
pub trait SealingKeyRepo: Send + Sync {
    /// Publishes the next version of a scope's key: `version` must be one more than the
    /// latest (1 for the first), else `Conflict { constraint: KeyVersion }` (also when another
    /// publisher won a race). `NotFound` if the tenant, or the team, is not there.
    async fn add_sealing_key(&self, tenant: TenantId, key: &SealingKey) -> StoreResult<()>;
    /// Every version of every key of the tenant, by scope then version.
    async fn sealing_keys(&self, tenant: TenantId) -> StoreResult<Vec<SealingKey>>;
}

/// A row's columns, as both backends read them.
pub(crate) type SealingKeyRow = (String, i64, Vec<u8>, Vec<u8>, i64);

pub(crate) fn sealing_key_from_row(row: SealingKeyRow) -> StoreResult<SealingKey> {
    let (scope, version, public_key, announcement, created_at_ms) = row;
    let corrupt = |what: &str| crate::StoreError::Corrupt(format!("sealing key: {what}"));
    Ok(SealingKey {
        scope: KeyScope::from_column(&scope).ok_or_else(|| corrupt("scope"))?,
        version: u32::try_from(version).map_err(|_| corrupt("version"))?,
        public_key: public_key
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("public key"))?,
        announcement: Bytes::from(announcement),
        created_at: sealdesk_core::clock::from_unix_ms(created_at_ms),
    })
}
