//! Rows of the conversation tables as both backends read them, and their conversion back into
//! domain values. Stored names and codes are re-parsed; one that fails is
//! [`StoreError::Corrupt`].

use sealdesk_core::auth::Digest;
use sealdesk_core::clock::from_unix_ms;
use sealdesk_core::domain::{
    ClientMsgId, Conversation, ConversationChange, ConversationState, EntryKind, ExternalId,
    LogEntry, NewConversation, NewEntry, NewVisitor, Party, Visitor, VisitorTicket,
};
use sealdesk_core::routing::{AgentLoad, AssignmentMode, Availability};
use sealdesk_proto::{CannedResponseId, ConversationId, StaffId, TeamId, TenantId, VisitorId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::rows::{corrupt, stored_time};
use crate::{Attachment, CannedResponse, Note, StoreError, StoreResult, Uploader};

/// The columns of a `visitors` row, in [`VisitorRow`] order.
pub(crate) const VISITOR_COLUMNS: &str =
    "id, tenant_id, team_id, external_id, created_at_ms, last_seen_at_ms";

/// The columns of a `conversations` row, in [`ConversationRow`] order.
pub(crate) const CONVERSATION_COLUMNS: &str = "id, tenant_id, team_id, visitor_id, state, \
     assignee_id, reopened_from, last_seq, created_at_ms, updated_at_ms, closed_at_ms, \
     consent_notice, erasure_requested_at_ms";

/// The largest page `list_conversations` returns.
pub(crate) const MAX_CONVERSATIONS: u32 = 500;
/// The largest page `read_log` returns.
pub(crate) const MAX_LOG_READ: u32 = 1000;

/// A `visitors` row.
#[derive(Debug)]
pub(crate) struct VisitorRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) team_id: Uuid,
    pub(crate) external_id: Option<String>,
    pub(crate) created_at_ms: i64,
    pub(crate) last_seen_at_ms: i64,
}

impl VisitorRow {
    pub(crate) fn into_visitor(self) -> StoreResult<Visitor> {
        let id = VisitorId::from_uuid(self.id);
        Ok(Visitor {
            id,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            team_id: TeamId::from_uuid(self.team_id),
            external_id: self
                .external_id
                .map(|raw| {
                    ExternalId::parse(&raw)
                        .map_err(|e| corrupt(&format!("visitor {id}: external_id"), e))
                })
                .transpose()?,
            created_at: from_unix_ms(self.created_at_ms),
            last_seen_at: from_unix_ms(self.last_seen_at_ms),
        })
    }
}

/// What `create_visitor` returns: the input as it reads back.
pub(crate) fn created_visitor(new: &NewVisitor) -> Visitor {
    Visitor {
        id: new.id,
        tenant_id: new.tenant_id,
        team_id: new.team_id,
        external_id: new.external_id.clone(),
        created_at: stored_time(new.created_at),
        last_seen_at: stored_time(new.created_at),
    }
}

/// A `visitor_tickets` row.
#[derive(Debug)]
pub(crate) struct TicketRow {
    pub(crate) token_hash: Vec<u8>,
    pub(crate) tenant_id: Uuid,
    pub(crate) visitor_id: Uuid,
    pub(crate) team_id: Uuid,
    pub(crate) created_at_ms: i64,
    pub(crate) expires_at_ms: i64,
}

impl TicketRow {
    pub(crate) fn into_ticket(self) -> StoreResult<VisitorTicket> {
        Ok(VisitorTicket {
            token_hash: digest(&self.token_hash, "visitor_tickets.token_hash")?,
            visitor_id: VisitorId::from_uuid(self.visitor_id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            team_id: TeamId::from_uuid(self.team_id),
            created_at: from_unix_ms(self.created_at_ms),
            expires_at: from_unix_ms(self.expires_at_ms),
        })
    }
}

/// A `conversations` row.
#[derive(Debug)]
pub(crate) struct ConversationRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) team_id: Uuid,
    pub(crate) visitor_id: Uuid,
    pub(crate) state: String,
    pub(crate) assignee_id: Option<Uuid>,
    pub(crate) reopened_from: Option<Uuid>,
    pub(crate) last_seq: i64,
    pub(crate) created_at_ms: i64,
    pub(crate) updated_at_ms: i64,
    pub(crate) closed_at_ms: Option<i64>,
    pub(crate) consent_notice: Option<String>,
    pub(crate) erasure_requested_at_ms: Option<i64>,
}

impl ConversationRow {
    pub(crate) fn into_conversation(self) -> StoreResult<Conversation> {
        let id = ConversationId::from_uuid(self.id);
        let what = |field: &str| format!("conversation {id}: {field}");
        Ok(Conversation {
            id,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            team_id: TeamId::from_uuid(self.team_id),
            visitor_id: VisitorId::from_uuid(self.visitor_id),
            state: parse_state(&self.state, &what("state"))?,
            assignee: self.assignee_id.map(StaffId::from_uuid),
            reopened_from: self.reopened_from.map(ConversationId::from_uuid),
            last_seq: to_u64(self.last_seq, &what("last_seq"))?,
            created_at: from_unix_ms(self.created_at_ms),
            updated_at: from_unix_ms(self.updated_at_ms),
            closed_at: self.closed_at_ms.map(from_unix_ms),
            consent_notice: self.consent_notice,
            erasure_requested_at: self.erasure_requested_at_ms.map(from_unix_ms),
        })
    }
}

/// What `create_conversation` returns: the input as it reads back.
pub(crate) fn created_conversation(new: &NewConversation) -> Conversation {
    Conversation {
        id: new.id,
        tenant_id: new.tenant_id,
        team_id: new.team_id,
        visitor_id: new.visitor_id,
        state: ConversationState::Open,
        assignee: None,
        reopened_from: new.reopened_from,
        consent_notice: new.consent_notice.clone(),
        last_seq: 0,
        created_at: stored_time(new.created_at),
        updated_at: stored_time(new.created_at),
        closed_at: None,
        erasure_requested_at: None,
    }
}

/// Refuses changes no caller should make: an assignee for a state other than `Assigned` (or
/// none for it), or an event of another conversation.
pub(crate) fn check_change(
    tenant: TenantId,
    id: ConversationId,
    change: &ConversationChange,
    event: Option<&NewEntry>,
) -> StoreResult<()> {
    if !change.is_well_formed() {
        return Err(StoreError::Other(sqlx::Error::Protocol(
            "malformed conversation change".into(),
        )));
    }
    if event.is_some_and(|e| e.tenant_id != tenant || e.conversation_id != id) {
        return Err(StoreError::Other(sqlx::Error::Protocol(
            "the event belongs to another conversation".into(),
        )));
    }
    Ok(())
}

/// A carry-over belongs to a transfer to its team, and names each original once.
pub(crate) fn check_carry(
    change: &ConversationChange,
    carry: &crate::CarryOver,
) -> StoreResult<()> {
    let mut generations: Vec<u32> = carry.bundles.iter().map(|b| b.generation).collect();
    let mut seqs: Vec<u64> = carry.notes.iter().map(|n| n.seq).collect();
    generations.sort_unstable();
    generations.dedup();
    seqs.sort_unstable();
    seqs.dedup();
    if change.team_id != Some(carry.team)
        || generations.len() != carry.bundles.len()
        || seqs.len() != carry.notes.len()
    {
        return Err(StoreError::Other(sqlx::Error::Protocol(
            "a carry-over goes with a transfer to its team, one copy per original".into(),
        )));
    }
    Ok(())
}

pub(crate) fn parse_state(raw: &str, what: &str) -> StoreResult<ConversationState> {
    ConversationState::parse(raw).ok_or_else(|| corrupt(what, format!("unknown state {raw:?}")))
}

/// A `log_entries` row, with the conversation it belongs to.
#[derive(Debug)]
pub(crate) struct LogRow {
    pub(crate) tenant_id: TenantId,
    pub(crate) conversation_id: ConversationId,
    pub(crate) seq: i64,
    pub(crate) kind: i16,
    pub(crate) sender_kind: i16,
    pub(crate) sender_id: Option<Uuid>,
    pub(crate) client_msg_id: Option<String>,
    pub(crate) payload: Vec<u8>,
    pub(crate) created_at_ms: i64,
}

impl LogRow {
    pub(crate) fn into_entry(self) -> StoreResult<LogEntry> {
        let what = format!("log entry {}#{}", self.conversation_id, self.seq);
        Ok(LogEntry {
            tenant_id: self.tenant_id,
            conversation_id: self.conversation_id,
            seq: to_u64(self.seq, &what)?,
            sender: party(self.sender_kind, self.sender_id, &what)?,
            kind: EntryKind::from_code(self.kind)
                .ok_or_else(|| corrupt(&what, format!("unknown kind {}", self.kind)))?,
            client_msg_id: self
                .client_msg_id
                .map(|raw| ClientMsgId::parse(&raw).map_err(|e| corrupt(&what, e)))
                .transpose()?,
            payload: self.payload.into(),
            created_at: from_unix_ms(self.created_at_ms),
        })
    }
}

/// The sender stored as `code` and `id`.
pub(crate) fn party(code: i16, id: Option<Uuid>, what: &str) -> StoreResult<Party> {
    Party::from_parts(code, id).ok_or_else(|| corrupt(what, format!("bad sender ({code}, {id:?})")))
}

/// A row of `team_loads`.
#[derive(Debug)]
pub(crate) struct LoadRow {
    pub(crate) staff_id: Uuid,
    pub(crate) availability: Option<String>,
    pub(crate) capacity: Option<i64>,
    pub(crate) active: i64,
    pub(crate) last_assigned_at_ms: Option<i64>,
}

impl LoadRow {
    pub(crate) fn into_load(self) -> StoreResult<AgentLoad> {
        let staff_id = StaffId::from_uuid(self.staff_id);
        let what = format!("staff_availability {staff_id}");
        Ok(AgentLoad {
            staff_id,
            availability: match self.availability {
                None => Availability::Offline,
                Some(raw) => Availability::parse(&raw)
                    .ok_or_else(|| corrupt(&what, format!("unknown availability {raw:?}")))?,
            },
            capacity: match self.capacity {
                None => sealdesk_core::routing::DEFAULT_CAPACITY,
                Some(c) => u16::try_from(c).map_err(|e| corrupt(&what, e))?,
            },
            active: u32::try_from(self.active).map_err(|e| corrupt(&what, e))?,
            last_assigned_at: self.last_assigned_at_ms.map(from_unix_ms),
        })
    }
}

/// A stored assignment mode (none stored: the default).
pub(crate) fn assignment_mode(raw: Option<&str>, what: &str) -> StoreResult<AssignmentMode> {
    match raw {
        None => Ok(AssignmentMode::default()),
        Some(raw) => AssignmentMode::parse(raw)
            .ok_or_else(|| corrupt(what, format!("unknown assignment mode {raw:?}"))),
    }
}

/// A `notes` row.
#[derive(Debug)]
pub(crate) struct NoteRow {
    pub(crate) conversation_id: Uuid,
    pub(crate) seq: i64,
    pub(crate) author_id: Uuid,
    pub(crate) payload: Vec<u8>,
    pub(crate) created_at_ms: i64,
}

impl NoteRow {
    pub(crate) fn into_note(self) -> StoreResult<Note> {
        Ok(Note {
            conversation_id: ConversationId::from_uuid(self.conversation_id),
            seq: to_u64(self.seq, "notes.seq")?,
            author: StaffId::from_uuid(self.author_id),
            payload: self.payload.into(),
            created_at: from_unix_ms(self.created_at_ms),
        })
    }
}

/// A `canned_responses` row.
#[derive(Debug)]
pub(crate) struct CannedRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) team_id: Uuid,
    pub(crate) payload: Vec<u8>,
    pub(crate) created_by: Uuid,
    pub(crate) created_at_ms: i64,
}

impl CannedRow {
    pub(crate) fn into_canned(self) -> CannedResponse {
        CannedResponse {
            id: CannedResponseId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            team_id: TeamId::from_uuid(self.team_id),
            payload: self.payload.into(),
            created_by: StaffId::from_uuid(self.created_by),
            created_at: from_unix_ms(self.created_at_ms),
        }
    }
}

/// An `attachments` row.
#[derive(Debug)]
pub(crate) struct AttachmentRow {
    pub(crate) tenant_id: Uuid,
    pub(crate) conversation_id: Uuid,
    pub(crate) sha256: Vec<u8>,
    pub(crate) size: i64,
    pub(crate) uploader_kind: i16,
    pub(crate) uploader_id: Uuid,
    pub(crate) created_at_ms: i64,
}

impl AttachmentRow {
    pub(crate) fn into_attachment(self) -> StoreResult<Attachment> {
        let what = "attachments";
        Ok(Attachment {
            tenant_id: TenantId::from_uuid(self.tenant_id),
            conversation_id: ConversationId::from_uuid(self.conversation_id),
            sha256: digest(&self.sha256, "attachments.sha256")?,
            size: to_u64(self.size, "attachments.size")?,
            uploaded_by: match self.uploader_kind {
                1 => Uploader::Visitor(VisitorId::from_uuid(self.uploader_id)),
                2 => Uploader::Staff(StaffId::from_uuid(self.uploader_id)),
                other => return Err(corrupt(what, format!("unknown uploader kind {other}"))),
            },
            created_at: from_unix_ms(self.created_at_ms),
        })
    }
}

/// The stored kind code and id of an uploader (as [`Party::code`]).
pub(crate) fn uploader_parts(uploader: Uploader) -> (i16, Uuid) {
    match uploader {
        Uploader::Visitor(id) => (1, id.as_uuid()),
        Uploader::Staff(id) => (2, id.as_uuid()),
    }
}

/// A 32-byte digest column.
pub(crate) fn digest(bytes: &[u8], what: &str) -> StoreResult<Digest> {
    Digest::try_from(bytes).map_err(|_| corrupt(what, format!("{} bytes, not 32", bytes.len())))
}

/// A non-negative integer column.
pub(crate) fn to_u64(value: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(value).map_err(|e| corrupt(what, e))
}

/// A count or sequence number as the databases store it (saturating; never reached).
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `t` as stored (Unix milliseconds).
pub(crate) fn ms(t: OffsetDateTime) -> i64 {
    sealdesk_core::clock::to_unix_ms(t)
}
