//! What travels through the hub, and the commit sink that feeds it.

use std::sync::{Arc, OnceLock};

use axum::extract::ws::Utf8Bytes;
use sealdesk_core::domain::LogEntry;
use sealdesk_proto::{ConversationId, TenantId};
use sealdesk_store::group_commit::CommitSink;

use super::{Bus, ConnId, Topic};
use crate::ws::codec;

/// A durable log entry on its way to subscribers. Its frame is encoded once, by whichever
/// connection needs it first, and shared by all of them.
#[derive(Debug)]
pub struct CommittedEntry {
    /// The entry.
    pub entry: LogEntry,
    frame: OnceLock<Utf8Bytes>,
}

impl CommittedEntry {
    /// Wraps a committed entry.
    pub fn new(entry: LogEntry) -> Self {
        Self {
            entry,
            frame: OnceLock::new(),
        }
    }

    /// The `entry` frame, encoded once.
    pub fn frame(&self) -> Utf8Bytes {
        self.frame
            .get_or_init(|| codec::entry_frame(&self.entry))
            .clone()
    }
}

/// An event in a connection's mailbox.
#[derive(Debug, Clone)]
pub enum Event {
    /// A committed log entry (must arrive: a connection that misses one catches up from the
    /// log).
    Entry(Arc<CommittedEntry>),
    /// A pre-encoded ephemeral frame (typing, read): best effort, never stored, not echoed
    /// to the connection it came from.
    Ephemeral {
        /// The connection that sent it.
        origin: ConnId,
        /// The encoded frame.
        frame: Utf8Bytes,
    },
    /// A pre-encoded notice for staff (queue and assignment changes).
    Notice(Utf8Bytes),
    /// Who may read or write the conversation changed (assignment, transfer, close): each
    /// subscribed connection checks its access again.
    Access(ConversationId),
    /// The staff member's team memberships in the tenant changed (published to their
    /// `Topic::Staff`): each of their connections reads its teams again, follows the new
    /// teams' notices and checks its subscriptions' access.
    Membership(TenantId),
}

impl Event {
    /// The connection the event came from, which must not receive it back.
    pub fn origin(&self) -> Option<ConnId> {
        match self {
            Event::Ephemeral { origin, .. } => Some(*origin),
            _ => None,
        }
    }

    /// Whether losing the event to a full mailbox must make the connection catch up.
    pub fn must_arrive(&self) -> bool {
        !matches!(self, Event::Ephemeral { .. })
    }
}

/// Publishes committed entries to their conversation's topic, in commit order.
#[derive(Debug)]
pub struct HubSink {
    bus: Arc<dyn Bus>,
}

impl HubSink {
    /// A sink publishing on `bus`.
    pub fn new(bus: Arc<dyn Bus>) -> Self {
        Self { bus }
    }
}

impl CommitSink for HubSink {
    fn committed(&self, entries: &[LogEntry]) {
        for entry in entries {
            self.bus.publish(
                Topic::Conversation(entry.conversation_id),
                Event::Entry(Arc::new(CommittedEntry::new(entry.clone()))),
            );
        }
    }
}
