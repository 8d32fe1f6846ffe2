//! The state every handler can reach: storage, clock, randomness, master key, configuration,
//! and the pool that bounds concurrent password hashing and keeps its memory.

use std::sync::{Arc, RwLock};

use sealdesk_core::clock::Clock;
use sealdesk_core::random::Random;
use sealdesk_crypto::{MasterKey, MasterKeyError};
use sealdesk_store::DynStore;
use webauthn_rs::Webauthn;
use zeroize::Zeroizing;

use crate::auth::hashing::Hasher;
use crate::blobs::BlobStore;
use crate::config::Config;
use crate::delivery::Delivery;
use crate::hub::{Bus, Hub};
use sealdesk_store::group_commit::GroupCommitter;

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
    master_key: RwLock<Arc<MasterKey>>,
    config: Arc<Config>,
    hasher: Arc<Hasher>,
    webauthn: Option<Arc<Webauthn>>,
    delivery: Delivery,
    blobs: BlobStore,
    sessions: Arc<crate::ws::sessions::SessionWatch>,
    web: std::sync::OnceLock<Arc<crate::web::WebAssets>>,
    demo: std::sync::OnceLock<crate::web::DemoPage>,
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
        // One Argon2id computation per core at a time, each in the working memory kept for
        // its permit: 1,000 simultaneous logins then queue instead of allocating
        // 1,000 × 19 MiB, and no 19 MiB buffer is freed per login (PERFORMANCE.md, S7).
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        // `startup::prepare` refuses a public URL that cannot be a WebAuthn origin; a state
        // assembled another way simply has passkeys off.
        let webauthn = crate::auth::passkeys::relying_party(&config)
            .ok()
            .flatten()
            .map(Arc::new);
        // The commit task runs on the runtime that builds the state.
        let delivery = Delivery::start(&store, config.commit_config());
        let blobs = BlobStore::new(&config.data_dir);
        let sessions = Arc::new(crate::ws::sessions::SessionWatch::default());
        sessions.spawn(store.clone(), clock.clone(), config.chat.heartbeat);
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                random,
                master_key: RwLock::new(Arc::new(master_key)),
                config: Arc::new(config),
                hasher: Arc::new(Hasher::new(cores)),
                webauthn,
                delivery,
                blobs,
                sessions,
                web: std::sync::OnceLock::new(),
                demo: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Storage.
    pub fn store(&self) -> &DynStore {
        &self.inner.store
    }
    /// The log write path (group commit).
    pub fn committer(&self) -> &GroupCommitter {
        &self.inner.delivery.committer
    }
    /// The staff sessions behind this node's WebSocket connections.
    pub fn sessions(&self) -> &Arc<crate::ws::sessions::SessionWatch> {
        &self.inner.sessions
    }
    /// Where events are published.
    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.inner.delivery.bus
    }
    /// This node's subscriptions.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.inner.delivery.hub
    }
    /// Abuse-control state.
    pub fn abuse(&self) -> &crate::abuse::Abuse {
        &self.inner.delivery.abuse
    }
    /// The MLS validation views.
    pub fn groups(&self) -> &crate::groups::GroupViews {
        &self.inner.delivery.groups
    }
    /// Conversations known to be routed already.
    pub fn routed(&self) -> &crate::routed::Routed {
        &self.inner.delivery.routed
    }
    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }
    /// The clock, shareable.
    pub fn clock_arc(&self) -> Arc<dyn Clock> {
        self.inner.clock.clone()
    }
    /// Randomness.
    pub fn random(&self) -> &dyn Random {
        self.inner.random.as_ref()
    }
    /// Randomness, shareable (for blocking tasks).
    pub fn random_arc(&self) -> Arc<dyn Random> {
        self.inner.random.clone()
    }
    /// Serves the built web clients (once; later calls are ignored).
    pub fn serve_web(&self, assets: crate::web::WebAssets) {
        let _ = self.inner.web.set(Arc::new(assets));
    }
    /// The built web clients, when served.
    pub fn web(&self) -> Option<&Arc<crate::web::WebAssets>> {
        self.inner.web.get()
    }
    /// Serves the demo shop page (`sealdesk serve --demo`; once).
    pub fn serve_demo(&self, page: crate::web::DemoPage) {
        let _ = self.inner.demo.set(page);
    }
    /// The demo shop page, when served.
    pub fn demo(&self) -> Option<&crate::web::DemoPage> {
        self.inner.demo.get()
    }
    /// Attachment blobs in the data directory.
    pub fn blobs(&self) -> &BlobStore {
        &self.inner.blobs
    }
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
    /// The WebAuthn relying party, when `server.public_url` is set.
    pub fn webauthn(&self) -> Option<Arc<Webauthn>> {
        self.inner.webauthn.clone()
    }
    /// The password-hashing pool: run every Argon2 computation through it.
    pub fn hasher(&self) -> &Arc<Hasher> {
        &self.inner.hasher
    }

    /// The server master key as currently loaded.
    pub fn master_key(&self) -> Arc<MasterKey> {
        self.inner
            .master_key
            .read()
            .map_or_else(|p| p.into_inner().clone(), |k| k.clone())
    }

    /// Opens a sealed secret. If it was sealed with a key version this process has not
    /// loaded (an operator ran `sealdesk admin rotate-master-key` while it was running), the
    /// key file is re-read once and the open retried.
    pub fn open_sealed(
        &self,
        purpose: &str,
        context: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
        match self.master_key().open(purpose, context, sealed) {
            Err(MasterKeyError::UnknownVersion(_)) => {
                let reloaded = MasterKey::load(&self.config().master_key_path())?;
                let result = reloaded.open(purpose, context, sealed);
                if let Ok(mut guard) = self.inner.master_key.write() {
                    *guard = Arc::new(reloaded);
                }
                result
            }
            other => other,
        }
    }
}
