//! Conversations and their append-only logs.
//!
//! A conversation is one visitor's chat with one team of a tenant (and, with end-to-end
//! encryption, one MLS group). Its life: `open` (created by the widget) → `queued` (waiting in
//! its team's queue) → `assigned` (an agent answers; a transfer changes the agent or sends it
//! back to a team's queue) → `closed`. A closed conversation never reopens: reopening creates a
//! new conversation that links to the old one.
//!
//! The log is a total order of entries (sequence numbers 1, 2, 3, …) whose payloads the
//! server stores and forwards without parsing: MLS handshake messages, application messages
//! (ciphertext), welcomes, and the server's own system events (routing metadata only).

use bytes::Bytes;
use time::OffsetDateTime;

use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId, VisitorId};

use crate::ValidationError;

/// Where a conversation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationState {
    /// Created by the widget; nobody has been asked to answer yet.
    Open,
    /// Waiting in its team's queue.
    Queued,
    /// An agent answers it.
    Assigned,
    /// Finished; read-only, deleted when the tenant's retention period has passed.
    Closed,
}

impl ConversationState {
    /// Every state.
    pub const ALL: [ConversationState; 4] = [
        ConversationState::Open,
        ConversationState::Queued,
        ConversationState::Assigned,
        ConversationState::Closed,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationState::Open => "open",
            ConversationState::Queued => "queued",
            ConversationState::Assigned => "assigned",
            ConversationState::Closed => "closed",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether entries may still be appended.
    pub fn accepts_entries(self) -> bool {
        self != ConversationState::Closed
    }
}

/// Everything needed to create a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    /// The new conversation's id.
    pub id: ConversationId,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The team (inbox) it was opened in.
    pub team_id: TeamId,
    /// The visitor who opened it.
    pub visitor_id: VisitorId,
    /// The closed conversation this one reopens, if any (same tenant and visitor).
    pub reopened_from: Option<ConversationId>,
    /// The privacy-notice version the visitor accepted (content-free consent record).
    pub consent_notice: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A stored conversation: routing metadata only, never content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Id.
    pub id: ConversationId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The team whose queue it belongs to (changes on a transfer to a team).
    pub team_id: TeamId,
    /// The visitor.
    pub visitor_id: VisitorId,
    /// Lifecycle state.
    pub state: ConversationState,
    /// The agent answering it (set exactly when the state is `Assigned`).
    pub assignee: Option<StaffId>,
    /// The closed conversation this one reopens.
    pub reopened_from: Option<ConversationId>,
    /// The privacy-notice version the visitor accepted when opening it.
    pub consent_notice: Option<String>,
    /// The sequence number of the last log entry (0 when the log is empty).
    pub last_seq: u64,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change of state, assignment or log.
    pub updated_at: OffsetDateTime,
    /// When it was closed.
    pub closed_at: Option<OffsetDateTime>,
    /// When the visitor asked for it to be deleted (the next retention sweep deletes it).
    pub erasure_requested_at: Option<OffsetDateTime>,
}

/// A guarded change of a conversation's routing state, applied atomically by the store:
/// the change happens only if the conversation is still in one of `from` (and, when
/// `expect_assignee` is set, still assigned to that agent). This is what makes a claim
/// atomic: of two agents claiming the same queued conversation, exactly one wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationChange {
    /// The states the conversation must be in.
    pub from: Vec<ConversationState>,
    /// The assignee the conversation must have (`Some(None)`: must be unassigned).
    pub expect_assignee: Option<Option<StaffId>>,
    /// The new state.
    pub to: ConversationState,
    /// The new assignee (must be `Some` exactly when `to` is `Assigned`).
    pub assignee: Option<StaffId>,
    /// A new team (a transfer to a team), or `None` to keep it.
    pub team_id: Option<TeamId>,
    /// When the change happens.
    pub at: OffsetDateTime,
}

impl ConversationChange {
    /// Queue an open conversation (the visitor's first message arrived).
    pub fn queue(at: OffsetDateTime) -> Self {
        Self {
            from: vec![ConversationState::Open],
            expect_assignee: None,
            to: ConversationState::Queued,
            assignee: None,
            team_id: None,
            at,
        }
    }

    /// Assign an open or queued, unassigned conversation to `agent` (a claim, or automatic
    /// assignment).
    pub fn claim(agent: StaffId, at: OffsetDateTime) -> Self {
        Self {
            from: vec![ConversationState::Open, ConversationState::Queued],
            expect_assignee: Some(None),
            to: ConversationState::Assigned,
            assignee: Some(agent),
            team_id: None,
            at,
        }
    }

    /// Move an assigned conversation from `from_agent` to `to_agent`.
    pub fn transfer_to_agent(from_agent: StaffId, to_agent: StaffId, at: OffsetDateTime) -> Self {
        Self {
            from: vec![ConversationState::Assigned],
            expect_assignee: Some(Some(from_agent)),
            to: ConversationState::Assigned,
            assignee: Some(to_agent),
            team_id: None,
            at,
        }
    }

    /// Send a conversation (assigned to `from_agent`, or waiting) back to `team`'s queue.
    pub fn transfer_to_team(from_agent: Option<StaffId>, team: TeamId, at: OffsetDateTime) -> Self {
        let from = if from_agent.is_some() {
            vec![ConversationState::Assigned]
        } else {
            vec![ConversationState::Open, ConversationState::Queued]
        };
        Self {
            from,
            expect_assignee: Some(from_agent),
            to: ConversationState::Queued,
            assignee: None,
            team_id: Some(team),
            at,
        }
    }

    /// Close a conversation that is not closed yet.
    pub fn close(at: OffsetDateTime) -> Self {
        Self {
            from: vec![
                ConversationState::Open,
                ConversationState::Queued,
                ConversationState::Assigned,
            ],
            expect_assignee: None,
            to: ConversationState::Closed,
            assignee: None,
            team_id: None,
            at,
        }
    }

    /// Whether the change is internally consistent (an assignee exactly for `Assigned`).
    pub fn is_well_formed(&self) -> bool {
        (self.to == ConversationState::Assigned) == self.assignee.is_some() && !self.from.is_empty()
    }

    /// Whether `conversation` passes the guard.
    pub fn guard_holds(&self, conversation: &Conversation) -> bool {
        self.from.contains(&conversation.state)
            && self
                .expect_assignee
                .is_none_or(|expected| expected == conversation.assignee)
    }
}

/// What a log entry carries. The server never parses the payload of any kind but `System`
/// (which it writes itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// An MLS handshake message (a commit, as a `PublicMessage`).
    Handshake,
    /// An application message (MLS `PrivateMessage`: ciphertext).
    Application,
    /// An MLS Welcome for members being added.
    Welcome,
    /// A server-written routing event (JSON, content-free).
    System,
}

impl EntryKind {
    /// Every kind.
    pub const ALL: [EntryKind; 4] = [
        EntryKind::Handshake,
        EntryKind::Application,
        EntryKind::Welcome,
        EntryKind::System,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Handshake => "handshake",
            EntryKind::Application => "application",
            EntryKind::Welcome => "welcome",
            EntryKind::System => "system",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// The code stored in the database (smaller than the name).
    pub fn code(self) -> i16 {
        match self {
            EntryKind::Handshake => 1,
            EntryKind::Application => 2,
            EntryKind::Welcome => 3,
            EntryKind::System => 4,
        }
    }

    /// The kind stored as `code`.
    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Who wrote an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The conversation's visitor.
    Visitor(VisitorId),
    /// A staff member.
    Staff(StaffId),
    /// The server itself (system events).
    System,
}

impl Party {
    /// The stored kind code: 1 visitor, 2 staff, 3 system.
    pub fn code(&self) -> i16 {
        match self {
            Party::Visitor(_) => 1,
            Party::Staff(_) => 2,
            Party::System => 3,
        }
    }

    /// The party's id (none for the system).
    pub fn id(&self) -> Option<uuid::Uuid> {
        match self {
            Party::Visitor(v) => Some(v.as_uuid()),
            Party::Staff(s) => Some(s.as_uuid()),
            Party::System => None,
        }
    }

    /// Rebuilds a party from its stored code and id.
    pub fn from_parts(code: i16, id: Option<uuid::Uuid>) -> Option<Self> {
        match (code, id) {
            (1, Some(id)) => Some(Party::Visitor(VisitorId::from_uuid(id))),
            (2, Some(id)) => Some(Party::Staff(StaffId::from_uuid(id))),
            (3, None) => Some(Party::System),
            _ => None,
        }
    }
}

/// A client-chosen id for one send, so that a retried send is appended once: 1 to 64
/// characters from `[A-Za-z0-9_-]` (a UUID or a counter both fit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 64;

    /// Validates a client message id.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                "client_msg_id",
                format!("must be 1 to {} characters", Self::MAX_LEN),
            ));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ValidationError::new(
                "client_msg_id",
                "may contain only letters, digits, '-' and '_'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ClientMsgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An entry to append. The store assigns its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// The tenant (checked against the conversation's).
    pub tenant_id: TenantId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The writer.
    pub sender: Party,
    /// What the payload is.
    pub kind: EntryKind,
    /// The sender's id for this send; a second append with the same (conversation, sender,
    /// id) returns the first one's sequence number instead of appending again.
    pub client_msg_id: Option<ClientMsgId>,
    /// Opaque payload bytes.
    pub payload: Bytes,
    /// Append time.
    pub at: OffsetDateTime,
}

/// A stored log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Position in the conversation's log, from 1, without gaps.
    pub seq: u64,
    /// The writer.
    pub sender: Party,
    /// What the payload is.
    pub kind: EntryKind,
    /// The sender's id for the send, if it gave one.
    pub client_msg_id: Option<ClientMsgId>,
    /// Opaque payload bytes.
    pub payload: Bytes,
    /// Append time (milliseconds).
    pub created_at: OffsetDateTime,
}

/// What happened to one entry of an appended batch. A batch is one transaction, but each
/// entry succeeds or is refused on its own: one bad entry never fails the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Appended now.
    Appended(LogEntry),
    /// Appended earlier with the same client message id: nothing was written.
    Duplicate {
        /// The sequence number of the earlier append.
        seq: u64,
    },
    /// No such conversation in that tenant.
    NotFound,
    /// The conversation is closed.
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    fn conversation(state: ConversationState, assignee: Option<StaffId>) -> Conversation {
        let at = datetime!(2026-01-01 0:00 UTC);
        Conversation {
            id: ConversationId::from_uuid(Uuid::from_u128(1)),
            tenant_id: TenantId::from_uuid(Uuid::from_u128(2)),
            team_id: TeamId::from_uuid(Uuid::from_u128(3)),
            visitor_id: VisitorId::from_uuid(Uuid::from_u128(4)),
            state,
            assignee,
            reopened_from: None,
            consent_notice: None,
            erasure_requested_at: None,
            last_seq: 0,
            created_at: at,
            updated_at: at,
            closed_at: None,
        }
    }

    #[test]
    fn names_and_codes_round_trip() {
        for s in ConversationState::ALL {
            assert_eq!(ConversationState::parse(s.as_str()), Some(s));
        }
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
            assert_eq!(EntryKind::from_code(k.code()), Some(k));
        }
        assert_eq!(EntryKind::from_code(0), None);
        let v = Party::Visitor(VisitorId::from_uuid(Uuid::from_u128(9)));
        assert_eq!(Party::from_parts(v.code(), v.id()), Some(v));
        assert_eq!(Party::from_parts(3, None), Some(Party::System));
        assert_eq!(Party::from_parts(1, None), None);
    }

    #[test]
    fn a_claim_needs_an_unassigned_waiting_conversation() {
        let agent = StaffId::from_uuid(Uuid::from_u128(7));
        let other = StaffId::from_uuid(Uuid::from_u128(8));
        let at = datetime!(2026-01-01 0:00 UTC);
        let claim = ConversationChange::claim(agent, at);
        assert!(claim.is_well_formed());
        assert!(claim.guard_holds(&conversation(ConversationState::Queued, None)));
        assert!(claim.guard_holds(&conversation(ConversationState::Open, None)));
        assert!(!claim.guard_holds(&conversation(ConversationState::Assigned, Some(other))));
        assert!(!claim.guard_holds(&conversation(ConversationState::Closed, None)));
    }

    #[test]
    fn a_transfer_must_come_from_the_current_assignee() {
        let a = StaffId::from_uuid(Uuid::from_u128(7));
        let b = StaffId::from_uuid(Uuid::from_u128(8));
        let at = datetime!(2026-01-01 0:00 UTC);
        let t = ConversationChange::transfer_to_agent(a, b, at);
        assert!(t.guard_holds(&conversation(ConversationState::Assigned, Some(a))));
        assert!(!t.guard_holds(&conversation(ConversationState::Assigned, Some(b))));
        let team = TeamId::from_uuid(Uuid::from_u128(5));
        let back = ConversationChange::transfer_to_team(Some(a), team, at);
        assert!(back.is_well_formed());
        assert!(back.guard_holds(&conversation(ConversationState::Assigned, Some(a))));
        assert!(!back.guard_holds(&conversation(ConversationState::Queued, None)));
        let close = ConversationChange::close(at);
        assert!(!close.guard_holds(&conversation(ConversationState::Closed, None)));
    }

    #[test]
    fn client_message_ids_are_short_and_plain() {
        assert!(ClientMsgId::parse("0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70").is_ok());
        assert!(ClientMsgId::parse("m_1").is_ok());
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse(&"a".repeat(65)).is_err());
        assert!(ClientMsgId::parse("a b").is_err());
        assert!(ClientMsgId::parse("é").is_err());
    }
}
