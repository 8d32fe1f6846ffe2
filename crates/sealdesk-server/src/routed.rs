//! Which conversations this process knows to be routed already (queued, assigned or
//! closed). A conversation leaves `open` once and never returns to it (reopening creates a
//! new one), so after the first visitor message has been routed, later messages need not
//! read the conversation back from the store to find that out: at 1,000 messages/s that
//! read was a store round trip per visitor message (docs/performance.md, S2 profile).
//!
//! The set is bounded: when full it is cleared, which only costs each conversation one
//! more read. It is a cache of a fact the store holds, so several nodes may each keep one.

use std::collections::HashSet;
use std::sync::Mutex;

use sealdesk_proto::ConversationId;

/// Conversations remembered before the set is cleared (16 bytes each).
const CAPACITY: usize = 262_144;

/// The set of conversations known to be past `open`.
#[derive(Debug, Default)]
pub struct Routed {
    known: Mutex<HashSet<ConversationId>>,
}

impl Routed {
    /// Whether `c` is known to be past `open`.
    pub fn contains(&self, c: ConversationId) -> bool {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&c)
    }

    /// Remembers that `c` is past `open`.
    pub fn insert(&self, c: ConversationId) {
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.len() >= CAPACITY {
            known.clear();
        }
        known.insert(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_stays_bounded() {
        let routed = Routed::default();
        let a = ConversationId::from_uuid(uuid::Uuid::from_u128(1));
        assert!(!routed.contains(a));
        routed.insert(a);
        assert!(routed.contains(a));
        for n in 0..=CAPACITY as u128 {
            routed.insert(ConversationId::from_uuid(uuid::Uuid::from_u128(n + 10)));
        }
        let len = routed.known.lock().unwrap().len();
        assert!(len <= CAPACITY, "{len} entries");
        assert!(
            routed.contains(ConversationId::from_uuid(uuid::Uuid::from_u128(
                CAPACITY as u128 + 10
            )))
        );
    }
}
