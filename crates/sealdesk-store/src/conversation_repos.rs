//! The repository traits of conversations: visitors and their tickets, conversations and
//! their routing state, the append-only logs, team membership and agent availability,
//! internal notes, canned responses, attachments and retention. Re-exported from the crate
//! root; part of [`Store`](crate::Store).
//!
//! Payloads (log entries, notes, canned responses, attachments) are opaque bytes: the store
//! never parses them.

use async_trait::async_trait;
use bytes::Bytes;
use sealdesk_core::auth::Digest;
use sealdesk_core::domain::{
    AppendOutcome, Conversation, ConversationChange, ConversationState, ExternalId, LogEntry,
    NewConversation, NewEntry, NewVisitor, Visitor, VisitorTicket,
};
use sealdesk_core::routing::{AgentLoad, AssignmentMode, Availability};
use sealdesk_proto::{CannedResponseId, ConversationId, StaffId, TeamId, TenantId, VisitorId};
use time::OffsetDateTime;

use crate::StoreResult;

/// Visitors and their tickets. Every call that takes ids a client supplies is scoped to a
/// tenant.
#[async_trait]
pub trait VisitorRepo: Send + Sync {
    /// Creates a visitor. `NotFound` if the tenant or team does not exist (or the team is
    /// another tenant's).
    async fn create_visitor(&self, visitor: &NewVisitor) -> StoreResult<Visitor>;
    /// One visitor of the tenant, or `NotFound`.
    async fn get_visitor(&self, tenant: TenantId, id: VisitorId) -> StoreResult<Visitor>;
    /// The visitor of the tenant whose key hashes to `key_hash`, if any.
    async fn find_visitor_by_key(
        &self,
        tenant: TenantId,
        key_hash: &Digest,
    ) -> StoreResult<Option<Visitor>>;
    /// The visitor of the tenant verified as this customer, if any (at most one per
    /// tenant and external id).
    async fn find_visitor_by_external_id(
        &self,
        tenant: TenantId,
        external_id: &ExternalId,
    ) -> StoreResult<Option<Visitor>>;
    /// Records that a ticket was issued to the visitor at `at` (`last_seen_at`).
    async fn touch_visitor(
        &self,
        tenant: TenantId,
        id: VisitorId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Stores a ticket. `NotFound` if the visitor is not in the ticket's tenant.
    async fn create_ticket(&self, ticket: &VisitorTicket) -> StoreResult<()>;
    /// The ticket with this token hash, expired or not, with its visitor; or `None`.
    async fn find_ticket(
        &self,
        token_hash: &Digest,
    ) -> StoreResult<Option<(VisitorTicket, Visitor)>>;
    /// Deletes tickets that expired before `before`; returns how many.
    async fn purge_expired_tickets(&self, before: OffsetDateTime) -> StoreResult<u64>;
}

/// Which conversations to list. Every field narrows the result; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    /// Only these teams (`None`: every team).
    pub teams: Option<Vec<TeamId>>,
    /// Only these states (`None`: every state).
    pub states: Option<Vec<ConversationState>>,
    /// Only those assigned to this agent.
    pub assignee: Option<StaffId>,
    /// Only this visitor's.
    pub visitor: Option<VisitorId>,
    /// Only conversations whose id sorts before this one (keyset pagination; ids are
    /// time-ordered).
    pub before: Option<ConversationId>,
    /// At most this many (the store caps it at 500).
    pub limit: u32,
}

/// Conversations and their routing state. Every call is scoped to a tenant: another
/// tenant's conversation is `NotFound`.
#[async_trait]
pub trait ConversationRepo: Send + Sync {
    /// Creates a conversation in state `open` with an empty log. `NotFound` if the tenant,
    /// team or visitor does not exist in that tenant (or `reopened_from` is not a closed
    /// conversation of the same visitor).
    async fn create_conversation(
        &self,
        conversation: &NewConversation,
    ) -> StoreResult<Conversation>;
    /// One conversation, or `NotFound`.
    async fn get_conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> StoreResult<Conversation>;
    /// The tenant's conversations matching `filter`, newest first.
    async fn list_conversations(
        &self,
        tenant: TenantId,
        filter: &ConversationFilter,
    ) -> StoreResult<Vec<Conversation>>;
    /// Applies a guarded change atomically and appends `event` (a system entry of this
    /// conversation, if given) in the same transaction. Returns the changed conversation and
    /// the appended entry. `NotFound` if the conversation is not in the tenant;
    /// `Conflict { constraint: ConversationState }` if the guard no longer holds (someone
    /// else claimed it first), and nothing is written. A change to `Assigned` also fails
    /// with that conflict if the assignee is not an enabled staff member of the tenant, and
    /// a change of team if the team is not the tenant's.
    async fn change_conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
        change: &ConversationChange,
        event: Option<&NewEntry>,
    ) -> StoreResult<(Conversation, Option<LogEntry>)>;
    /// Adds a staff member as a participant (a supervisor who joined, or an agent in a
    /// transfer), idempotently. `NotFound` if either is not in the tenant.
    async fn add_participant(
        &self,
        tenant: TenantId,
        id: ConversationId,
        staff: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Whether the staff member is a participant (the assignee counts as one).
    async fn is_participant(
        &self,
        tenant: TenantId,
        id: ConversationId,
        staff: StaffId,
    ) -> StoreResult<bool>;
}

/// The append-only conversation logs.
#[async_trait]
pub trait LogRepo: Send + Sync {
    /// Appends a batch in ONE transaction (one fsync), assigning each appended entry the
    /// next sequence number of its conversation, in batch order. Each entry gets its own
    /// outcome (same order and length as `entries`); a refused entry never fails the others.
    /// An error means nothing in the batch was written.
    async fn append_batch(&self, entries: &[NewEntry]) -> StoreResult<Vec<AppendOutcome>>;
    /// Entries of one conversation with `seq > after`, oldest first, at most `limit` (the
    /// store caps it at 1000). `NotFound` if the conversation is not in the tenant.
    async fn read_log(
        &self,
        tenant: TenantId,
        id: ConversationId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<LogEntry>>;
}

/// Team membership, staff availability and team routing settings.
#[async_trait]
pub trait RoutingRepo: Send + Sync {
    /// Makes a staff member a member of a team, idempotently. `NotFound` if either is not
    /// the tenant's.
    async fn add_team_member(
        &self,
        tenant: TenantId,
        team: TeamId,
        staff: StaffId,
    ) -> StoreResult<()>;
    /// Removes a membership; `true` if there was one.
    async fn remove_team_member(
        &self,
        tenant: TenantId,
        team: TeamId,
        staff: StaffId,
    ) -> StoreResult<bool>;
    /// The teams a staff member belongs to.
    async fn teams_of_staff(&self, tenant: TenantId, staff: StaffId) -> StoreResult<Vec<TeamId>>;
    /// The members of a team.
    async fn team_members(&self, tenant: TenantId, team: TeamId) -> StoreResult<Vec<StaffId>>;
    /// Sets a staff member's availability and capacity. `NotFound` if not in the tenant.
    async fn set_availability(
        &self,
        tenant: TenantId,
        staff: StaffId,
        availability: Availability,
        capacity: u16,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// A staff member's availability and capacity as last set (`None` if never set).
    async fn availability(
        &self,
        tenant: TenantId,
        staff: StaffId,
    ) -> StoreResult<Option<(Availability, u16)>>;
    /// The load of every enabled member of a team: availability (offline if never set),
    /// capacity, number of assigned conversations, last assignment time.
    async fn team_loads(&self, tenant: TenantId, team: TeamId) -> StoreResult<Vec<AgentLoad>>;
    /// A team's assignment mode (the default if never set). `NotFound` if not the tenant's.
    async fn assignment_mode(&self, tenant: TenantId, team: TeamId) -> StoreResult<AssignmentMode>;
    /// Sets a team's assignment mode. `NotFound` if not the tenant's.
    async fn set_assignment_mode(
        &self,
        tenant: TenantId,
        team: TeamId,
        mode: AssignmentMode,
    ) -> StoreResult<()>;
}

/// One internal note: staff-only, opaque payload, numbered per conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Position among the conversation's notes, from 1.
    pub seq: u64,
    /// Author.
    pub author: StaffId,
    /// Opaque payload.
    pub payload: Bytes,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A canned response of a team: an opaque payload (title and text, encrypted by clients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedResponse {
    /// Id.
    pub id: CannedResponseId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The team.
    pub team_id: TeamId,
    /// Opaque payload.
    pub payload: Bytes,
    /// Author.
    pub created_by: StaffId,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// Internal notes and canned responses.
#[async_trait]
pub trait NoteRepo: Send + Sync {
    /// Appends a note. `NotFound` if the conversation or author is not the tenant's.
    async fn add_note(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        author: StaffId,
        payload: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<Note>;
    /// A conversation's notes, oldest first. `NotFound` if not the tenant's.
    async fn list_notes(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<Note>>;
    /// Creates a canned response. `NotFound` if the team or author is not the tenant's.
    async fn create_canned_response(&self, response: &CannedResponse) -> StoreResult<()>;
    /// A team's canned responses, oldest first.
    async fn list_canned_responses(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> StoreResult<Vec<CannedResponse>>;
    /// Replaces the payload of a canned response (the same id, tenant and team as
    /// `response`) only if the stored payload is still `expected` (compare-and-swap), and
    /// records `response.created_by` and `response.created_at` as who sealed the new payload
    /// and when. `Ok(false)` if the stored payload has changed since it was read; `NotFound`
    /// if the team has no such response or the author is not the tenant's.
    async fn replace_canned_response(
        &self,
        response: &CannedResponse,
        expected: &[u8],
    ) -> StoreResult<bool>;
    /// Deletes a canned response of the team; `true` if it existed.
    async fn delete_canned_response(
        &self,
        tenant: TenantId,
        team: TeamId,
        id: CannedResponseId,
    ) -> StoreResult<bool>;
}

/// The metadata of an attachment: a client-encrypted blob stored in the data directory
/// under the hex SHA-256 of its bytes, referenced by a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The conversation that references it.
    pub conversation_id: ConversationId,
    /// SHA-256 of the blob (its file name).
    pub sha256: Digest,
    /// Size in bytes.
    pub size: u64,
    /// Who uploaded it.
    pub uploaded_by: Uploader,
    /// Upload time.
    pub created_at: OffsetDateTime,
}

/// Who uploaded an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uploader {
    /// The conversation's visitor.
    Visitor(VisitorId),
    /// A staff member.
    Staff(StaffId),
}

/// Attachment references.
#[async_trait]
pub trait AttachmentRepo: Send + Sync {
    /// Records that a conversation references a blob (idempotent for the same
    /// conversation and hash). `NotFound` if the conversation is not the tenant's.
    async fn add_attachment(&self, attachment: &Attachment) -> StoreResult<()>;
    /// The reference of a blob from a conversation, if any.
    async fn get_attachment(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        sha256: &Digest,
    ) -> StoreResult<Option<Attachment>>;
    /// Whether any conversation (of any tenant) still references the blob.
    async fn blob_referenced(&self, sha256: &Digest) -> StoreResult<bool>;
}

/// What a hard deletion removed, so the caller can delete blob files and audit it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Log entries deleted.
    pub entries: u64,
    /// Blobs no conversation references any more (delete their files).
    pub orphaned_blobs: Vec<Digest>,
}

/// Retention: hard deletion of conversations.
#[async_trait]
pub trait RetentionRepo: Send + Sync {
    /// Up to `limit` closed conversations of the tenant that are due for deletion: closed
    /// before `closed_before`, or whose visitor asked for their deletion; oldest first.
    async fn expired_conversations(
        &self,
        tenant: TenantId,
        closed_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<ConversationId>>;
    /// Records the visitor's request to delete a closed conversation (idempotent: the first
    /// request's time is kept). `NotFound` if it is not the tenant's; `Conflict`
    /// (`ConversationState`) if it is not closed.
    async fn request_erasure(
        &self,
        tenant: TenantId,
        id: ConversationId,
        at: OffsetDateTime,
    ) -> StoreResult<Conversation>;
    /// Deletes a conversation with its log, notes, participants and attachment references
    /// in one transaction. `NotFound` if it is not the tenant's. Conversations that link to
    /// it (`reopened_from`) keep existing with the link cleared.
    async fn delete_conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> StoreResult<Deleted>;
}
