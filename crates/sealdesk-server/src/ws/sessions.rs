//! The staff sessions behind this node's WebSocket connections, checked together.
//!
//! A staff connection must end when its session is revoked or expires (OWASP ASVS v5.0.0-7.4.1:
//! a terminated session cannot be used any more, including by a live connection). Each
//! connection used to look its session up on every heartbeat: 9,500 staff connections made
//! ~380 store queries a second while idle (S1, docs/performance.md). Instead, connections
//! register their session here, and one sweep per heartbeat period asks the store which of
//! all registered sessions are still active, in one query per [`CHUNK`] sessions, and tells
//! the connections of the others to close. Revocation is noticed within one period, as
//! before. The sweep reads the store, so it also sees revocations made on other nodes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use sealdesk_core::clock::Clock;
use sealdesk_proto::TenantId;
use sealdesk_store::{SessionRepo, StoreResult};
use tokio::sync::watch;
use uuid::Uuid;

/// The most sessions checked by one store query.
const CHUNK: usize = 500;

/// The sessions registered by this node's connections.
#[derive(Debug, Default)]
pub struct SessionWatch {
    watched: Mutex<HashMap<Uuid, Watched>>,
}

#[derive(Debug)]
struct Watched {
    tenant: TenantId,
    /// `true` once the session is found ended; every connection of the session watches it.
    ended: watch::Sender<bool>,
    /// How many [`SessionGuard`]s hold it.
    holders: usize,
}

/// A connection's registration: dropping it unregisters the session when it was the last.
#[derive(Debug)]
pub struct SessionGuard {
    watch: Weak<SessionWatch>,
    id: Uuid,
    ended: watch::Receiver<bool>,
}

impl SessionGuard {
    /// Resolves once the session is found revoked or expired; never if the watch is gone.
    pub async fn ended(&mut self) {
        if self.ended.wait_for(|ended| *ended).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        let Some(watch) = self.watch.upgrade() else {
            return;
        };
        let mut watched = watch.lock();
        if let Some(entry) = watched.get_mut(&self.id) {
            entry.holders -= 1;
            if entry.holders == 0 {
                watched.remove(&self.id);
            }
        }
    }
}

impl SessionWatch {
    /// Registers a connection of session `id` in `tenant`.
    pub fn register(self: &Arc<Self>, tenant: TenantId, id: Uuid) -> SessionGuard {
        let mut watched = self.lock();
        let entry = watched.entry(id).or_insert_with(|| Watched {
            tenant,
            ended: watch::channel(false).0,
            holders: 0,
        });
        entry.holders += 1;
        // A session id names one tenant's session, so two registrations naming different
        // tenants cannot both be right: end them all (the sweep checks the first tenant).
        let ended = entry.ended.subscribe();
        if entry.tenant != tenant {
            entry.ended.send_replace(true);
        }
        SessionGuard {
            watch: Arc::downgrade(self),
            id,
            ended,
        }
    }

    /// How many distinct sessions are registered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is registered.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Asks the store which registered sessions are active at `now` (and still in the tenant
    /// they were registered with) and ends the others. Returns how many were ended.
    pub async fn sweep(&self, store: &dyn SessionRepo, clock: &dyn Clock) -> StoreResult<usize> {
        let ids: Vec<Uuid> = self.lock().keys().copied().collect();
        let now = clock.now();
        let mut active = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            for (tenant, id) in store.active_sessions(chunk, now).await? {
                active.insert(id, tenant);
            }
        }
        let mut ended = 0;
        let watched = self.lock();
        for id in &ids {
            // Registered after the snapshot, or dropped since: the next sweep decides.
            let Some(entry) = watched.get(id) else {
                continue;
            };
            if active.get(id) != Some(&entry.tenant) && !*entry.ended.borrow() {
                entry.ended.send_replace(true);
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Sweeps every `period` until the watch is dropped. A store error skips one sweep: a
    /// database hiccup is no reason to drop connections.
    pub fn spawn(
        self: &Arc<Self>,
        store: Arc<dyn SessionRepo>,
        clock: Arc<dyn Clock>,
        period: Duration,
    ) {
        let watch = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(watch) = watch.upgrade() else {
                    return;
                };
                if watch.is_empty() {
                    continue;
                }
                if let Err(e) = watch.sweep(store.as_ref(), clock.as_ref()).await {
                    tracing::warn!(error = %e, "session sweep failed; trying again next period");
                }
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Watched>> {
        self.watched.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
