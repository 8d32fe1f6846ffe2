//! Server configuration: typed, validated, with every problem reported at once.
//!
//! Precedence, lowest first: built-in defaults < `sealdesk.toml` < `SEALDESK_*` environment
//! (nested keys with `__`: `SEALDESK_SERVER__LISTEN`) < command-line flags. Secrets may be given
//! as `<key>_file` (`SEALDESK_DATABASE__URL_FILE`), never both ways at once.

pub mod keys;
mod parse;
pub mod sources;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use sealdesk_crypto::password::HashPolicy;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

pub use sources::{ConfigSources, RawConfig};

/// One configuration problem: which key, where the value came from, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The key (`server.listen`), or empty for file-level problems.
    pub key: String,
    /// Where the offending value came from.
    pub origin: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigIssue {
    pub(crate) fn new(key: &str, origin: &str, message: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            origin: origin.to_owned(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(f, "`{}` (from {}): {}", self.key, self.origin, self.message)
        }
    }
}

/// Every problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigIssue>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "the configuration has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for issue in &self.0 {
            writeln!(f, "  - {issue}")?;
        }
        Ok(())
    }
}

/// Where conversations and accounts are stored.
#[derive(Clone)]
pub enum DatabaseConfig {
    /// Embedded SQLite file.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// PostgreSQL server.
    Postgres {
        /// Connection URL; may hold a password.
        url: SecretString,
    },
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Postgres { url } => f
                .debug_struct("Postgres")
                .field("url", &redact_url(url.expose_secret()))
                .finish(),
        }
    }
}

/// A database URL with any password replaced by `***`, for logs and `check-config`.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => "<unparsable url>".to_owned(),
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// HTTP listener settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Listener address.
    pub listen: SocketAddr,
    /// Public URL, if different from the listener.
    pub public_url: Option<Url>,
    /// Reverse proxies whose forwarding headers are trusted.
    pub trusted_proxies: Vec<IpNet>,
    /// Per-request time limit.
    pub request_timeout: Duration,
    /// Time limit for receiving request headers.
    pub header_read_timeout: Duration,
    /// Request body limit in bytes.
    pub body_limit_bytes: usize,
    /// Grace period for in-flight requests on shutdown.
    pub shutdown_grace: Duration,
}

/// TLS certificate and key files.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
}

/// Metrics listener settings.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// Whether the listener runs.
    pub enabled: bool,
    /// Its address.
    pub listen: SocketAddr,
    /// The address was set explicitly: failing to bind it is fatal. When it is only the
    /// default, a busy port is logged and the server runs without metrics.
    pub required: bool,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Output format.
    pub format: LogFormat,
    /// `tracing` filter directives.
    pub filter: String,
}

/// Conversation delivery settings.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// Largest decoded payload of one `send`.
    pub max_payload_bytes: usize,
    /// Largest attachment.
    pub attachment_max_bytes: u64,
    /// Time between retention sweeps.
    pub retention_sweep: Duration,
    /// Group-commit batching window.
    pub commit_window: Duration,
    /// Visitor ticket lifetime.
    pub visitor_ticket_ttl: Duration,
    /// WebSocket heartbeat interval.
    pub heartbeat: Duration,
    /// Visitor tickets per minute per client address.
    pub tickets_per_minute_per_address: u32,
    /// Concurrent WebSocket connections per client address.
    pub connections_per_address: u32,
    /// Frames per second per connection (bursts of twice that).
    pub messages_per_second: u32,
    /// New visitors per minute per tenant above which it is under attack.
    pub new_visitors_per_minute: u32,
    /// Proof-of-work difficulty in bits.
    pub challenge_bits: u8,
    /// Ranges exempt from the per-address limits.
    pub limits_exempt: Vec<IpNet>,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            max_payload_bytes: 64 * 1024,
            attachment_max_bytes: 10 * 1024 * 1024,
            retention_sweep: Duration::from_hours(1),
            commit_window: Duration::ZERO,
            visitor_ticket_ttl: Duration::from_hours(1),
            heartbeat: Duration::from_secs(25),
            tickets_per_minute_per_address: 60,
            connections_per_address: 1000,
            messages_per_second: 20,
            new_visitors_per_minute: 300,
            challenge_bits: 18,
            limits_exempt: Vec::new(),
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Master key file; `None` means `<data_dir>/master.key`, generated if missing.
    pub master_key_file: Option<PathBuf>,
    /// The built web clients (`web/dist`), served when set.
    pub web_dir: Option<PathBuf>,
    /// HTTP listener.
    pub server: ServerConfig,
    /// TLS, when enabled.
    pub tls: Option<TlsConfig>,
    /// Database.
    pub database: DatabaseConfig,
    /// Pool size.
    pub database_max_connections: u32,
    /// Metrics listener.
    pub metrics: MetricsConfig,
    /// Logging.
    pub log: LogConfig,
    /// Staff password hashing cost.
    pub password_hash: HashPolicy,
    /// Conversation delivery.
    pub chat: ChatConfig,
}

impl Config {
    /// Loads and validates the configuration from `sources`.
    pub fn load(sources: &ConfigSources) -> Result<Config, ConfigErrors> {
        let mut issues = Vec::new();
        let raw = RawConfig::collect(sources, &mut issues);
        let config = parse::build(&raw, &mut issues);
        match config {
            Some(config) if issues.is_empty() => Ok(config),
            _ => Err(ConfigErrors(issues)),
        }
    }

    /// The example configuration file, generated from the key table.
    pub fn example_toml() -> String {
        keys::example_toml()
    }

    /// The master key path in effect.
    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// The group-commit tuning in effect.
    pub fn commit_config(&self) -> sealdesk_store::group_commit::CommitConfig {
        sealdesk_store::group_commit::CommitConfig {
            window: self.chat.commit_window,
            ..sealdesk_store::group_commit::CommitConfig::default()
        }
    }

    /// The storage backend's name.
    pub fn storage_name(&self) -> &'static str {
        match self.database {
            DatabaseConfig::Sqlite { .. } => "sqlite",
            DatabaseConfig::Postgres { .. } => "postgres",
        }
    }

    /// A configuration for tests and embedding: loopback on port 0, SQLite in `data_dir`,
    /// metrics off, and the given password policy.
    pub fn for_data_dir(data_dir: PathBuf, password_hash: HashPolicy) -> Config {
        Config {
            database: DatabaseConfig::Sqlite {
                path: data_dir.join("sealdesk.db"),
            },
            master_key_file: None,
            web_dir: None,
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                public_url: None,
                trusted_proxies: Vec::new(),
                request_timeout: Duration::from_secs(30),
                header_read_timeout: Duration::from_secs(10),
                body_limit_bytes: 64 * 1024,
                shutdown_grace: Duration::from_secs(10),
            },
            tls: None,
            database_max_connections: 10,
            metrics: MetricsConfig {
                enabled: false,
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                required: false,
            },
            log: LogConfig {
                format: LogFormat::Pretty,
                filter: "info".into(),
            },
            password_hash,
            data_dir,
            chat: ChatConfig::default(),
        }
    }

    /// The effective configuration as TOML-like lines, secrets redacted, for `check-config`.
    pub fn describe(&self) -> Vec<(String, String)> {
        let database = match &self.database {
            DatabaseConfig::Sqlite { path } => format!("sqlite {}", path.display()),
            DatabaseConfig::Postgres { url } => redact_url(url.expose_secret()),
        };
        vec![
            ("data_dir".into(), self.data_dir.display().to_string()),
            (
                "master_key_file".into(),
                self.master_key_path().display().to_string(),
            ),
            ("server.listen".into(), self.server.listen.to_string()),
            (
                "server.public_url".into(),
                self.server
                    .public_url
                    .as_ref()
                    .map_or("-".into(), ToString::to_string),
            ),
            (
                "server.trusted_proxies".into(),
                format!(
                    "{:?}",
                    self.server
                        .trusted_proxies
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                ),
            ),
            (
                "server.request_timeout_secs".into(),
                self.server.request_timeout.as_secs().to_string(),
            ),
            (
                "server.header_read_timeout_secs".into(),
                self.server.header_read_timeout.as_secs().to_string(),
            ),
            (
                "server.body_limit_bytes".into(),
                self.server.body_limit_bytes.to_string(),
            ),
            (
                "server.shutdown_grace_secs".into(),
                self.server.shutdown_grace.as_secs().to_string(),
            ),
            (
                "tls".into(),
                self.tls.as_ref().map_or("off".into(), |t| {
                    format!(
                        "cert {} key {}",
                        t.cert_file.display(),
                        t.key_file.display()
                    )
                }),
            ),
            ("database".into(), database),
            (
                "database.max_connections".into(),
                self.database_max_connections.to_string(),
            ),
            (
                "metrics".into(),
                if self.metrics.enabled {
                    self.metrics.listen.to_string()
                } else {
                    "off".into()
                },
            ),
            (
                "log".into(),
                format!("{:?} {}", self.log.format, self.log.filter),
            ),
            (
                "chat".into(),
                format!(
                    "max_payload={} attachment_max={} commit_window={}µs ticket_ttl={}s heartbeat={}s tickets/min/address={} connections/address={} messages/s={} attack_threshold={}/min challenge_bits={} exempt={:?}",
                    self.chat.max_payload_bytes,
                    self.chat.attachment_max_bytes,
                    self.chat.commit_window.as_micros(),
                    self.chat.visitor_ticket_ttl.as_secs(),
                    self.chat.heartbeat.as_secs(),
                    self.chat.tickets_per_minute_per_address,
                    self.chat.connections_per_address,
                    self.chat.messages_per_second,
                    self.chat.new_visitors_per_minute,
                    self.chat.challenge_bits,
                    self.chat
                        .limits_exempt
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                ),
            ),
            (
                "security.argon2".into(),
                format!(
                    "m={} t={} p={}",
                    self.password_hash.memory_kib,
                    self.password_hash.iterations,
                    self.password_hash.parallelism
                ),
            ),
        ]
    }
}
