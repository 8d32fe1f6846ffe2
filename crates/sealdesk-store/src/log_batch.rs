//! The backend-independent part of `LogRepo::append_batch`. A backend, inside one write
//! transaction: loads the head of every conversation the batch names (one query, rows locked
//! on PostgreSQL), loads the earlier entries that share a client message id with the batch
//! (one query), lets [`plan`] decide each entry's outcome and sequence number, then inserts
//! the planned rows and moves the heads (one or a few statements each). So a batch costs a
//! handful of round trips whatever its size, and no entry can fail the others: every refusal
//! is decided here, before anything is written.

use std::collections::HashMap;

use sealdesk_core::domain::{AppendOutcome, ConversationState, LogEntry, NewEntry, Party};
use sealdesk_proto::{ConversationId, TenantId};

use crate::rows::stored_time;

/// What the batch needs to know about one conversation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    /// The conversation's surrogate key in the log.
    pub(crate) rid: i64,
    /// Its tenant.
    pub(crate) tenant_id: TenantId,
    /// Its state.
    pub(crate) state: ConversationState,
    /// The sequence number of its last entry.
    pub(crate) last_seq: u64,
}

/// One send, for idempotency: a conversation, a client message id and who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SendKey {
    pub(crate) rid: i64,
    pub(crate) client_msg_id: String,
    pub(crate) sender: Party,
}

/// An entry to insert.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    pub(crate) rid: i64,
    pub(crate) seq: u64,
    pub(crate) entry: &'a NewEntry,
}

/// A conversation's new head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Moved {
    pub(crate) rid: i64,
    pub(crate) last_seq: u64,
    /// The latest append time among its new entries (milliseconds).
    pub(crate) at_ms: i64,
}

/// What to write, and what to answer.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    /// One per entry, in batch order.
    pub(crate) outcomes: Vec<AppendOutcome>,
    /// The entries to insert, in batch order.
    pub(crate) rows: Vec<Row<'a>>,
    /// The heads to move, one per conversation that got entries.
    pub(crate) moved: Vec<Moved>,
}

/// The distinct conversations a batch names, in first-mention order.
pub(crate) fn conversations(entries: &[NewEntry]) -> Vec<ConversationId> {
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    entries
        .iter()
        .map(|e| e.conversation_id)
        .filter(|id| seen.insert(*id))
        .collect()
}

/// The conversation `entry` names, if it is one of the entry's tenant. Another tenant's
/// conversation is indistinguishable from a missing one.
fn resolve(entry: &NewEntry, heads: &HashMap<ConversationId, Head>) -> Option<Head> {
    heads
        .get(&entry.conversation_id)
        .filter(|head| head.tenant_id == entry.tenant_id)
        .copied()
}

/// The (surrogate, client message id) pairs whose earlier entries must be looked up: those of
/// entries that carry an id and name a conversation of their tenant (closed ones too: a retry
/// of a send stored before the close still learns its sequence number). Deduplicated.
pub(crate) fn lookups<'a>(
    entries: &'a [NewEntry],
    heads: &HashMap<ConversationId, Head>,
) -> Vec<(i64, &'a str)> {
    let mut seen = std::collections::HashSet::new();
    entries
        .iter()
        .filter_map(|e| {
            let head = resolve(e, heads)?;
            let id = e.client_msg_id.as_ref()?;
            Some((head.rid, id.as_str()))
        })
        .filter(|key| seen.insert(*key))
        .collect()
}

/// The (conversation id, client message id) pairs of every entry that carries an id,
/// deduplicated: the look-up of earlier sends without the heads (SQLite reads both in one
/// query). Unlike [`lookups`], pairs naming another tenant's conversation are included; their
/// rows never match, since such an entry resolves to no head in [`plan`].
pub(crate) fn lookups_by_id(entries: &[NewEntry]) -> Vec<(String, &str)> {
    let mut seen = std::collections::HashSet::new();
    entries
        .iter()
        .filter_map(|e| Some((e.conversation_id, e.client_msg_id.as_ref()?.as_str())))
        .filter(|key| seen.insert(*key))
        .map(|(c, id)| (c.to_string(), id))
        .collect()
}

/// Decides every entry's outcome. `existing` maps earlier sends to their sequence numbers.
pub(crate) fn plan(
    entries: &[NewEntry],
    mut heads: HashMap<ConversationId, Head>,
    mut existing: HashMap<SendKey, u64>,
) -> Plan<'_> {
    let mut outcomes = Vec::with_capacity(entries.len());
    let mut rows = Vec::with_capacity(entries.len());
    let mut moved: Vec<Moved> = Vec::new();
    for entry in entries {
        let Some(head) = resolve(entry, &heads) else {
            outcomes.push(AppendOutcome::NotFound);
            continue;
        };
        let key = entry.client_msg_id.as_ref().map(|id| SendKey {
            rid: head.rid,
            client_msg_id: id.as_str().to_owned(),
            sender: entry.sender,
        });
        if let Some(seq) = key.as_ref().and_then(|k| existing.get(k)) {
            outcomes.push(AppendOutcome::Duplicate { seq: *seq });
            continue;
        }
        if !head.state.accepts_entries() {
            outcomes.push(AppendOutcome::Closed);
            continue;
        }
        let seq = head.last_seq + 1;
        heads.insert(
            entry.conversation_id,
            Head {
                last_seq: seq,
                ..head
            },
        );
        if let Some(key) = key {
            // A retry later in the same batch is a duplicate of this one.
            existing.insert(key, seq);
        }
        let at_ms = sealdesk_core::clock::to_unix_ms(entry.at);
        match moved.iter_mut().find(|m| m.rid == head.rid) {
            Some(m) => {
                m.last_seq = seq;
                m.at_ms = m.at_ms.max(at_ms);
            }
            None => moved.push(Moved {
                rid: head.rid,
                last_seq: seq,
                at_ms,
            }),
        }
        rows.push(Row {
            rid: head.rid,
            seq,
            entry,
        });
        outcomes.push(AppendOutcome::Appended(appended(entry, seq)));
    }
    Plan {
        outcomes,
        rows,
        moved,
    }
}

/// The stored entry `entry` becomes at `seq`.
pub(crate) fn appended(entry: &NewEntry, seq: u64) -> LogEntry {
    LogEntry {
        tenant_id: entry.tenant_id,
        conversation_id: entry.conversation_id,
        seq,
        sender: entry.sender,
        kind: entry.kind,
        client_msg_id: entry.client_msg_id.clone(),
        payload: entry.payload.clone(),
        created_at: stored_time(entry.at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use sealdesk_core::domain::{ClientMsgId, EntryKind};
    use sealdesk_proto::{StaffId, VisitorId};
    use time::macros::datetime;
    use uuid::Uuid;

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(Uuid::from_u128(n))
    }

    fn conv(n: u128) -> ConversationId {
        ConversationId::from_uuid(Uuid::from_u128(n))
    }

    fn entry(t: u128, c: u128, sender: Party, id: Option<&str>) -> NewEntry {
        NewEntry {
            tenant_id: tenant(t),
            conversation_id: conv(c),
            sender,
            kind: EntryKind::Application,
            client_msg_id: id.map(|id| ClientMsgId::parse(id).unwrap()),
            payload: Bytes::from_static(b"x"),
            at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    fn head(rid: i64, t: u128, state: ConversationState, last_seq: u64) -> Head {
        Head {
            rid,
            tenant_id: tenant(t),
            state,
            last_seq,
        }
    }

    fn seqs(plan: &Plan<'_>) -> Vec<Option<u64>> {
        plan.outcomes
            .iter()
            .map(|o| match o {
                AppendOutcome::Appended(e) => Some(e.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn each_entry_gets_its_own_outcome_in_batch_order() {
        let v = Party::Visitor(VisitorId::from_uuid(Uuid::from_u128(50)));
        let s = Party::Staff(StaffId::from_uuid(Uuid::from_u128(51)));
        let entries = [
            entry(1, 10, v, Some("a")),
            entry(1, 11, s, None),
            entry(1, 10, v, Some("a")), // retry within the batch
            entry(1, 10, s, Some("a")), // same id, another sender
            entry(2, 10, v, None),      // another tenant
            entry(1, 12, v, None),      // closed
            entry(1, 13, v, None),      // missing
            entry(1, 10, v, Some("old")),
            entry(1, 11, s, None),
            entry(1, 12, v, Some("sent-before-close")),
            entry(1, 12, v, Some("new")),
        ];
        let heads = HashMap::from([
            (conv(10), head(1, 1, ConversationState::Assigned, 4)),
            (conv(11), head(2, 1, ConversationState::Open, 0)),
            (conv(12), head(3, 1, ConversationState::Closed, 9)),
        ]);
        let lookups = lookups(&entries, &heads);
        assert_eq!(
            lookups,
            vec![(1, "a"), (1, "old"), (3, "sent-before-close"), (3, "new")]
        );
        let key = |rid, id: &str| SendKey {
            rid,
            client_msg_id: id.into(),
            sender: v,
        };
        let existing = HashMap::from([(key(1, "old"), 2), (key(3, "sent-before-close"), 8)]);
        let plan = plan(&entries, heads, existing);
        assert_eq!(
            seqs(&plan),
            [
                Some(5),
                Some(1),
                None,
                Some(6),
                None,
                None,
                None,
                None,
                Some(2),
                None,
                None
            ]
        );
        assert_eq!(plan.outcomes[2], AppendOutcome::Duplicate { seq: 5 });
        assert_eq!(plan.outcomes[4], AppendOutcome::NotFound);
        assert_eq!(plan.outcomes[5], AppendOutcome::Closed);
        assert_eq!(plan.outcomes[6], AppendOutcome::NotFound);
        assert_eq!(plan.outcomes[7], AppendOutcome::Duplicate { seq: 2 });
        assert_eq!(plan.outcomes[9], AppendOutcome::Duplicate { seq: 8 });
        assert_eq!(plan.outcomes[10], AppendOutcome::Closed);
        assert_eq!(plan.rows.len(), 4);
        assert_eq!(
            plan.moved,
            [
                Moved {
                    rid: 1,
                    last_seq: 6,
                    at_ms: 1_767_225_600_000
                },
                Moved {
                    rid: 2,
                    last_seq: 2,
                    at_ms: 1_767_225_600_000
                }
            ]
        );
    }

    #[test]
    fn conversations_are_listed_once_in_first_mention_order() {
        let entries = [
            entry(1, 3, Party::System, None),
            entry(1, 1, Party::System, None),
            entry(1, 3, Party::System, None),
        ];
        assert_eq!(conversations(&entries), [conv(3), conv(1)]);
    }
}
