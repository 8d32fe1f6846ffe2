//! Test support: [`spawn_app`] starts a real Sealdesk server on `127.0.0.1:0` with a fresh
//! SQLite database in a temporary data directory, a manual clock, seeded randomness and the
//! cheap test-only password policy, and returns a typed client for it.
//!
//! For tests only; production code must not depend on this crate.

use std::net::SocketAddr;
use std::sync::Arc;

use sealdesk_client::Client;
use sealdesk_core::clock::{Clock, ManualClock};
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

/// Starts a server after letting `configure` adjust the configuration. Unless `configure`
/// sets one, `server.public_url` becomes `http://localhost:PORT` (the WebAuthn relying party
/// `localhost`), so passkeys work.
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
    let bound = startup::bind(&config).await.expect("bind 127.0.0.1:0");
    if config.server.public_url.is_none() {
        // Browsers treat `localhost` as a secure context, so it is a valid WebAuthn RP id
        // over plain HTTP; the port is only known once bound.
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let public = format!("{scheme}://localhost:{}", bound.addr.port());
        config.server.public_url = Some(url::Url::parse(&public).expect("public URL"));
    }
    let state = startup::prepare(config.clone(), clock.clone(), random)
        .await
        .expect("server state");
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

/// Who to create with [`TestApp::tenant`].
#[derive(Debug, Clone)]
pub struct TenantSpec {
    /// Name.
    pub name: &'static str,
    /// Brand domain.
    pub domain: &'static str,
    /// Settings.
    pub settings: sealdesk_core::domain::TenantSettings,
}

impl TenantSpec {
    /// A tenant that does not require a second factor (so tests can log in with a password).
    pub fn relaxed(name: &'static str, domain: &'static str) -> Self {
        let settings = sealdesk_core::domain::TenantSettings {
            require_second_factor: false,
            ..Default::default()
        };
        Self {
            name,
            domain,
            settings,
        }
    }
    /// A tenant with the default (strict) settings: second factor required.
    pub fn strict(name: &'static str, domain: &'static str) -> Self {
        Self {
            name,
            domain,
            settings: sealdesk_core::domain::TenantSettings::default(),
        }
    }
}

/// A password that passes the strength rules.
pub const GOOD_PASSWORD: &str = "correct horse battery staple 42";

impl TestApp {
    /// Creates a tenant directly in the store.
    ///
    /// # Panics
    /// If the tenant cannot be created.
    #[allow(clippy::expect_used)]
    pub async fn tenant(&self, spec: TenantSpec) -> sealdesk_core::domain::Tenant {
        use sealdesk_core::domain::{DomainName, NewTenant, TenantName};
        let ids = sealdesk_core::ids::IdGenerator::new(self.clock.as_ref(), self.state.random());
        let new = NewTenant::new(
            ids.tenant(),
            TenantName::parse(spec.name).expect("name"),
            vec![DomainName::parse(spec.domain).expect("domain")],
            vec![],
            spec.settings,
            self.clock.now(),
        )
        .expect("tenant");
        self.store.create_tenant(&new).await.expect("create tenant")
    }

    /// Creates a staff account with [`GOOD_PASSWORD`].
    ///
    /// # Panics
    /// If the account cannot be created.
    #[allow(clippy::expect_used)]
    pub async fn staff(
        &self,
        tenant: &sealdesk_core::domain::Tenant,
        email: &str,
        role: &str,
    ) -> sealdesk_core::domain::Staff {
        let deps = sealdesk_server::app::tenancy::Deps {
            store: self.store.clone(),
            clock: self.clock.clone(),
            random: self.state.random_arc(),
            password_policy: HashPolicy::INSECURE_TEST_ONLY,
        };
        let input = sealdesk_server::app::tenancy::CreateStaff {
            tenant: tenant.id,
            email: email.into(),
            role: role.into(),
            display_name: None,
            password: Some(secrecy::SecretString::from(GOOD_PASSWORD.to_owned())),
        };
        sealdesk_server::app::tenancy::create_staff(&deps, input)
            .await
            .expect("create staff")
    }

    /// The login request for an account with [`GOOD_PASSWORD`] and no second factor.
    pub fn login_request(
        tenant: &sealdesk_core::domain::Tenant,
        email: &str,
    ) -> sealdesk_proto::auth::LoginRequest {
        sealdesk_proto::auth::LoginRequest {
            tenant_id: tenant.id,
            email: email.into(),
            password: sealdesk_proto::auth::Secret(GOOD_PASSWORD.into()),
            totp: None,
            recovery_code: None,
            client: sealdesk_proto::auth::ClientKind::Cli,
        }
    }

    /// Logs in with [`GOOD_PASSWORD`] and returns a client carrying the session token.
    ///
    /// # Panics
    /// If the login fails.
    #[allow(clippy::expect_used)]
    pub async fn login(&self, tenant: &sealdesk_core::domain::Tenant, email: &str) -> Client {
        let response = self
            .client
            .login(&Self::login_request(tenant, email))
            .await
            .expect("login");
        self.client
            .clone()
            .with_token(response.token.expect("token"))
    }

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
