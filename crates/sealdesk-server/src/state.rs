//! The state every handler can reach: storage, clock, randomness, master key, configuration.

use std::sync::Arc;

use sealdesk_core::clock::Clock;
use sealdesk_core::random::Random;
use sealdesk_crypto::MasterKey;
use sealdesk_store::DynStore;

use crate::config::Config;

/// Shared application state; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: DynStore,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    master_key: Arc<MasterKey>,
    config: Arc<Config>,
}

impl AppState {
    /// Assembles the state. Time and randomness are injected so tests control them.
    pub fn new(
        config: Config,
        store: DynStore,
        master_key: MasterKey,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                random,
                master_key: Arc::new(master_key),
                config: Arc::new(config),
            }),
        }
    }

    /// Storage.
    pub fn store(&self) -> &DynStore {
        &self.inner.store
    }
    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }
    /// Randomness.
    pub fn random(&self) -> &dyn Random {
        self.inner.random.as_ref()
    }
    /// The server master key.
    pub fn master_key(&self) -> &MasterKey {
        &self.inner.master_key
    }
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}
