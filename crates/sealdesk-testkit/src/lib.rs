//! Test support: [`spawn_app`] starts a real Sealdesk server on `127.0.0.1:0` with a fresh
//! SQLite database in a temporary data directory, a manual clock, seeded randomness and the
//! cheap test-only password policy, and returns a typed client for it.
//!
//! For tests only; production code must not depend on this crate.

use std::net::SocketAddr;
use std::sync::Arc;

use sealdesk_client::Client;
use sealdesk_core::clock::ManualClock;
use sealdesk_core::random::SeededRandom;
use sealdesk_crypto::password::HashPolicy;
use sealdesk_server::{AppState, Config, startup};
use sealdesk_store::DynStore;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running test server.
#[derive(Debug)]
pub struct TestApp {
    /// Listener address.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT` (or https with TLS).
    pub url: String,
    /// A client for the server.
    pub client: Client,
    /// The server's storage.
    pub store: DynStore,
    /// The server's clock; move it to test time-based rules.
    pub clock: Arc<ManualClock>,
    /// The server's state.
    pub state: AppState,
    /// The data directory (deleted when the app is dropped).
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// The test clock's starting time.
pub fn test_epoch() -> time::OffsetDateTime {
    time::macros::datetime!(2026-01-05 09:00 UTC)
}

/// Starts a server with default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after letting `configure` adjust the configuration.
///
/// # Panics
/// If the server cannot start: a test kit failure is a test failure.
#[allow(clippy::expect_used)]
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let mut config =
        Config::for_data_dir(data_dir.path().join("data"), HashPolicy::INSECURE_TEST_ONLY);
    configure(&mut config);
    let clock = Arc::new(ManualClock::new(test_epoch()));
    let random = Arc::new(SeededRandom::new(0x5EA1_DE5C));
    let state = startup::prepare(config.clone(), clock.clone(), random)
        .await
        .expect("server state");
    let bound = startup::bind(&config).await.expect("bind 127.0.0.1:0");
    let (addr, url) = (bound.addr, bound.url());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(bound.run(state.clone(), async move {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: Client::new(&url).expect("client"),
        url,
        store: state.store().clone(),
        clock,
        state,
        data_dir,
        stop: Some(stop),
        task,
    }
}

impl TestApp {
    /// Asks the server to shut down gracefully and waits for it.
    ///
    /// # Panics
    /// If the server task panicked.
    #[allow(clippy::expect_used)]
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.expect("server task")
    }
}
