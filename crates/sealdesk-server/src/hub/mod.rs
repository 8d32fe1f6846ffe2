//! The hub: who on this node listens to what, and the fan-out of committed entries,
//! ephemeral frames and notices to their connections.
//!
//! Each connection has one bounded mailbox. Publishing never waits: an event that does not
//! fit into a full mailbox is not queued and the connection is marked *lagged*; the
//! connection then catches up from the durable log (and tells its client with a `resync`
//! frame). Log entries are therefore never lost to a slow consumer, only delivered later
//! from the store. Ephemeral frames (typing, read receipts) are best effort by design.
//!
//! Handlers publish through the [`Bus`] trait. [`LocalBus`] dispatches straight into this
//! node's hub; a NATS bus (scale-out) publishes to the other nodes as well and dispatches
//! what they publish into the local hub, without any handler changing.

mod event;

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use sealdesk_proto::{ConversationId, StaffId, TeamId};
use tokio::sync::mpsc;

pub use event::{CommittedEntry, Event, HubSink};

/// Identifies a connection on this node.
pub type ConnId = u64;

/// What one can listen to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// A conversation's entries, ephemeral frames and access changes.
    Conversation(ConversationId),
    /// Notices for one staff member (assignments, team membership changes).
    Staff(StaffId),
    /// Notices for a team's queue.
    Team(TeamId),
}

/// Publishes events to every node's subscribers.
pub trait Bus: Send + Sync + std::fmt::Debug {
    /// Delivers `event` to the subscribers of `topic`. Never waits.
    fn publish(&self, topic: Topic, event: Event);
}

/// The single-node bus: dispatches into the local hub.
#[derive(Debug, Clone)]
pub struct LocalBus {
    hub: Arc<Hub>,
}

impl LocalBus {
    /// A bus over `hub`.
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

impl Bus for LocalBus {
    fn publish(&self, topic: Topic, event: Event) {
        self.hub.dispatch(topic, &event);
    }
}

/// A connection's side of its mailbox: the receiver and the lag flag.
#[derive(Debug)]
pub struct Mailbox {
    /// The connection's id.
    pub id: ConnId,
    /// Events for the connection.
    pub rx: mpsc::Receiver<Event>,
    lagged: Arc<AtomicBool>,
}

impl Mailbox {
    /// Whether an event was dropped since the last call (and clears the flag).
    pub fn take_lagged(&self) -> bool {
        self.lagged.swap(false, Ordering::AcqRel)
    }
}

/// The hub's side of a mailbox, as registered under topics.
#[derive(Debug, Clone)]
pub struct Inbox {
    id: ConnId,
    tx: mpsc::Sender<Event>,
    lagged: Arc<AtomicBool>,
}

impl Inbox {
    /// The connection's id.
    pub fn id(&self) -> ConnId {
        self.id
    }
}

const SHARDS: usize = 64;

type Shard = RwLock<HashMap<Topic, Vec<Inbox>>>;

/// The subscription registry of one node.
pub struct Hub {
    shards: Box<[Shard]>,
    hasher: std::collections::hash_map::RandomState,
    next_id: AtomicU64,
    stats: HubStats,
}

/// Counters for metrics.
#[derive(Debug, Default)]
pub struct HubStats {
    /// Events put into mailboxes.
    pub delivered: AtomicU64,
    /// Events that found a full mailbox (the connection catches up from the log).
    pub lagged: AtomicU64,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// An empty hub.
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            next_id: AtomicU64::new(1),
            stats: HubStats::default(),
        }
    }

    fn shard(&self, topic: &Topic) -> &Shard {
        let h = self.hasher.hash_one(topic) % SHARDS as u64;
        &self.shards[usize::try_from(h).unwrap_or(0)]
    }

    /// A new mailbox holding up to `capacity` events.
    pub fn mailbox(&self, capacity: usize) -> (Inbox, Mailbox) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let lagged = Arc::new(AtomicBool::new(false));
        (
            Inbox {
                id,
                tx,
                lagged: Arc::clone(&lagged),
            },
            Mailbox { id, rx, lagged },
        )
    }

    /// Registers `inbox` under `topic` (idempotent).
    pub fn subscribe(&self, topic: Topic, inbox: &Inbox) {
        let mut shard = write(self.shard(&topic));
        let subscribers = shard.entry(topic).or_default();
        if !subscribers.iter().any(|s| s.id == inbox.id) {
            subscribers.push(inbox.clone());
        }
    }

    /// Removes connection `id` from `topic`.
    pub fn unsubscribe(&self, topic: Topic, id: ConnId) {
        let mut shard = write(self.shard(&topic));
        if let Some(subscribers) = shard.get_mut(&topic) {
            subscribers.retain(|s| s.id != id);
            if subscribers.is_empty() {
                shard.remove(&topic);
            }
        }
    }

    /// How many connections listen to `topic` on this node.
    pub fn subscribers(&self, topic: Topic) -> usize {
        read(self.shard(&topic)).get(&topic).map_or(0, Vec::len)
    }

    /// Puts `event` into the mailbox of every local subscriber of `topic`, without waiting.
    /// Returns how many mailboxes took it.
    pub fn dispatch(&self, topic: Topic, event: &Event) -> usize {
        let shard = read(self.shard(&topic));
        let Some(subscribers) = shard.get(&topic) else {
            return 0;
        };
        let mut delivered = 0;
        for inbox in subscribers {
            if event.origin() == Some(inbox.id) {
                continue;
            }
            match inbox.tx.try_send(event.clone()) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    if event.must_arrive() {
                        inbox.lagged.store(true, Ordering::Release);
                        self.stats.lagged.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // The connection is closing; it unsubscribes itself.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        self.stats
            .delivered
            .fetch_add(delivered as u64, Ordering::Relaxed);
        delivered
    }

    /// The hub's counters.
    pub fn stats(&self) -> &HubStats {
        &self.stats
    }
}

fn write<K: Eq + Hash, V>(
    lock: &RwLock<HashMap<K, V>>,
) -> std::sync::RwLockWriteGuard<'_, HashMap<K, V>> {
    // A panic while holding the lock cannot leave the map half-updated (each operation is
    // one HashMap call), so a poisoned lock is safe to keep using.
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<K: Eq + Hash, V>(
    lock: &RwLock<HashMap<K, V>>,
) -> std::sync::RwLockReadGuard<'_, HashMap<K, V>> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
