//! Start-up: data directory, master key, database and listeners, each failing with an error
//! that names the problem. Used by `sealdesk serve`, the admin CLI and the test kit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sealdesk_core::clock::Clock;
use sealdesk_core::random::Random;
use sealdesk_crypto::{MasterKey, MasterKeyError};
use sealdesk_store::{DynStore, StoreError};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::config::{Config, DatabaseConfig, redact_url};
use crate::datadir::{self, DataDirError};
use crate::middleware::EdgeSettings;
use crate::serve::ServeOptions;
use crate::state::AppState;
use crate::tls::{self, TlsError};

/// Why the server (or the CLI) could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The data directory is missing, unusable or too open.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The master key could not be loaded or created.
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    /// The database could not be opened or migrated.
    #[error("cannot open the {what} database: {source}")]
    Database {
        /// Which database (path or redacted URL).
        what: String,
        /// The store error.
        #[source]
        source: StoreError,
    },
    /// TLS files are unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// `server.public_url` cannot serve as the WebAuthn origin for passkeys.
    #[error("{0}")]
    Passkeys(String),
    /// `web_dir` does not hold a usable build.
    #[error(transparent)]
    Web(#[from] crate::web::WebAssetsError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Opens the configured database without migrating it. For SQLite, the data directory is
/// prepared first (mode 0700) when the file lives in it.
pub async fn connect_store(config: &Config) -> Result<DynStore, StartupError> {
    match &config.database {
        DatabaseConfig::Sqlite { path } => {
            if path.starts_with(&config.data_dir) {
                datadir::ensure(&config.data_dir)?;
            }
            let store = sealdesk_store::sqlite::open(path).await.map_err(|source| {
                StartupError::Database {
                    what: describe(config),
                    source,
                }
            })?;
            Ok(Arc::new(store))
        }
        DatabaseConfig::Postgres { url } => {
            let options = sealdesk_store::postgres::PgOptions {
                max_connections: config.database_max_connections,
                acquire_timeout: Duration::from_secs(5),
                schema: None,
            };
            let store = sealdesk_store::postgres::connect(url.expose_secret(), &options)
                .await
                .map_err(|source| StartupError::Database {
                    what: describe(config),
                    source,
                })?;
            Ok(Arc::new(store))
        }
    }
}

fn describe(config: &Config) -> String {
    match &config.database {
        DatabaseConfig::Sqlite { path } => format!("SQLite {}", path.display()),
        DatabaseConfig::Postgres { url } => {
            format!("PostgreSQL {}", redact_url(url.expose_secret()))
        }
    }
}

/// Opens the configured database and applies pending migrations (done at every start).
pub async fn open_store(config: &Config) -> Result<DynStore, StartupError> {
    let store = connect_store(config).await?;
    let applied = store
        .migrate()
        .await
        .map_err(|source| StartupError::Database {
            what: describe(config),
            source,
        })?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(store)
}

/// Loads the master key: from the configured file (which must exist), or from
/// `<data_dir>/master.key`, generated with mode 0600 on first start.
pub fn load_master_key(config: &Config, random: &dyn Random) -> Result<MasterKey, StartupError> {
    datadir::ensure(&config.data_dir)?;
    if let Some(path) = &config.master_key_file {
        return Ok(MasterKey::load(path)?);
    }
    let path = config.master_key_path();
    let (key, created) = MasterKey::load_or_generate(&path, random)?;
    if created {
        tracing::warn!(path = %path.display(), "generated a new master key; back it up");
    }
    Ok(key)
}

/// Prepares everything the server needs: data directory, master key, database.
pub async fn prepare(
    config: Config,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
) -> Result<AppState, StartupError> {
    crate::auth::passkeys::relying_party(&config).map_err(StartupError::Passkeys)?;
    let web = match &config.web_dir {
        Some(dir) => Some(crate::web::WebAssets::load(dir)?),
        None => None,
    };
    let master_key = load_master_key(&config, random.as_ref())?;
    let store = open_store(&config).await?;
    // Compute the dummy hash now, so the first login for an unknown account costs the same as
    // any other (its first use would otherwise also pay for computing it). Through the
    // hashing pool, so the buffer it needs is one of the pool's and is never freed.
    let policy = config.password_hash;
    let state = AppState::new(config, store, master_key, clock, random);
    if let Some(web) = web {
        state.serve_web(web);
    }
    let _ = state
        .hasher()
        .run(move |memory| {
            sealdesk_crypto::password::dummy_verify_with(
                policy,
                &secrecy::SecretString::from("warm-up".to_owned()),
                memory,
            );
        })
        .await;
    Ok(state)
}

/// Bound listeners, ready to serve.
#[derive(Debug)]
pub struct Bound {
    listener: TcpListener,
    metrics: Option<TcpListener>,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// The API listener's address (with the real port when 0 was asked).
    pub addr: SocketAddr,
    /// The metrics listener's address, when enabled.
    pub metrics_addr: Option<SocketAddr>,
}

/// Loads TLS material and binds the listeners named in `config`.
pub async fn bind(config: &Config) -> Result<Bound, StartupError> {
    let tls = match &config.tls {
        Some(t) => Some(tls::server_config(&t.cert_file, &t.key_file)?),
        None => None,
    };
    let addr = config.server.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    let metrics = if config.metrics.enabled {
        let addr = config.metrics.listen;
        match crate::metrics::bind(addr).await {
            Ok(l) => Some(l),
            Err(source) if config.metrics.required => {
                return Err(StartupError::Bind { addr, source });
            }
            Err(e) => {
                tracing::warn!(%addr, error = %e, "default metrics address unavailable; metrics are off (set metrics.listen)");
                None
            }
        }
    } else {
        None
    };
    Ok(Bound {
        addr: listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?,
        metrics_addr: metrics.as_ref().and_then(|m| m.local_addr().ok()),
        listener,
        metrics,
        tls,
    })
}

impl Bound {
    /// The URL of the API listener.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests. The retention job
    /// runs alongside and stops with the server.
    pub async fn run(
        self,
        state: AppState,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let config = state.config().clone();
        let edge = EdgeSettings {
            request_timeout: config.server.request_timeout,
            body_limit_bytes: config.server.body_limit_bytes,
            hsts: self.tls.is_some(),
        };
        // Before serving: no upload is under way yet, so every temp file is a leftover.
        match state.blobs().remove_stale_uploads().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "removed unfinished uploads left by a crash"),
            Err(e) => tracing::warn!(error = %e, "cannot clean unfinished uploads"),
        }
        let retention_state = state.clone();
        let app = crate::build(state, edge);
        let options = ServeOptions {
            header_read_timeout: config.server.header_read_timeout,
            shutdown_grace: config.server.shutdown_grace,
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let metrics_task = self.metrics.map(|listener| {
            let mut rx = stop_rx.clone();
            tokio::spawn(crate::metrics::serve(listener, async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }))
        });
        let retention_task = {
            let ticks =
                crate::app::retention::schedule(config.chat.retention_sweep, stop_rx.clone());
            tokio::spawn(crate::app::retention::run(
                retention_state,
                ticks,
                stop_rx.clone(),
            ))
        };
        let result = crate::serve::serve(self.listener, app, self.tls, options, shutdown).await;
        let _ = stop_tx.send(true);
        if let Some(task) = metrics_task {
            let _ = task.await;
        }
        // A sweep under way stops after its current deletion (see `retention::run`).
        let _ = retention_task.await;
        result
    }
}
