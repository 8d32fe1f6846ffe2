//! Copies carried over at a transfer to another team (docs/e2ee.md, "Transfer to another
//! team"): earlier History Member bundles and internal notes, re-sealed by the transferring
//! agent's client to the new team's newest key. Opaque to the store, like the originals.

use async_trait::async_trait;
use bytes::Bytes;
use sealdesk_core::domain::{Conversation, ConversationChange, LogEntry, NewEntry};
use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId};
use time::OffsetDateTime;

use crate::StoreResult;

/// A History Member bundle of one generation, re-sealed for `CarryOver::team`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedBundle {
    /// The generation whose bundle it re-seals.
    pub generation: u32,
    /// The new `SDB1` envelope.
    pub sealed_bundle: Bytes,
    /// The new team's key version its header names.
    pub team_key_version: u32,
}

/// A note, re-sealed for `CarryOver::team`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedNote {
    /// The note's number in its conversation.
    pub seq: u64,
    /// The new `SDT1` envelope.
    pub payload: Bytes,
}

/// What a transfer to another team carries over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarryOver {
    /// The team the copies are sealed for (the transfer's target).
    pub team: TeamId,
    /// The staff member whose device re-sealed them.
    pub resealed_by: StaffId,
    /// Re-sealed bundles, at most one per generation.
    pub bundles: Vec<CarriedBundle>,
    /// Re-sealed notes, at most one per note.
    pub notes: Vec<CarriedNote>,
}

/// A stored copy: what it re-seals, for which team, by whom and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried<T> {
    /// The copy.
    pub copy: T,
    /// The team it is sealed for.
    pub team: TeamId,
    /// Who re-sealed it.
    pub resealed_by: StaffId,
    /// When the server stored it (readers check the re-sealer's chain at this time).
    pub carried_at: OffsetDateTime,
}

/// Copies carried over at transfers.
#[async_trait]
pub trait CarryRepo: Send + Sync {
    /// [`ConversationRepo::change_conversation`](crate::ConversationRepo::change_conversation)
    /// for a transfer whose change names `carry.team`, storing the copies in the same
    /// transaction (a copy of the same original for the same team replaces the earlier
    /// one). Nothing is written if any part fails: `NotFound` if a generation or note is not
    /// the conversation's, or the team or re-sealer is not the tenant's; the change's own
    /// errors as for `change_conversation`.
    async fn transfer_carrying(
        &self,
        tenant: TenantId,
        id: ConversationId,
        change: &ConversationChange,
        event: Option<&NewEntry>,
        carry: &CarryOver,
    ) -> StoreResult<(Conversation, Option<LogEntry>)>;
    /// The conversation's carried bundles, by generation then team. `NotFound` if the
    /// conversation is not the tenant's.
    async fn carried_bundles(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<Carried<CarriedBundle>>>;
    /// The conversation's carried notes, by note then team. `NotFound` if the conversation
    /// is not the tenant's.
    async fn carried_notes(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<Carried<CarriedNote>>>;
}
