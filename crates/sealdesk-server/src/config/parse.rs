//! Typing and validation of raw values into [`Config`]. Each key is parsed on its own, so a
//! bad value in one key never hides a problem in another.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use sealdesk_crypto::password::HashPolicy;
use secrecy::SecretString;
use url::Url;

use super::sources::{RawConfig, RawValue};
use super::{
    ChatConfig, Config, ConfigIssue, DatabaseConfig, LogConfig, LogFormat, MetricsConfig,
    ServerConfig, TlsConfig,
};

struct Ctx<'a> {
    raw: &'a RawConfig,
    issues: &'a mut Vec<ConfigIssue>,
}

impl Ctx<'_> {
    fn get<T>(&mut self, key: &str, parse: impl Fn(&RawValue) -> Result<T, String>) -> Option<T> {
        let sourced = self.raw.get(key)?;
        match parse(&sourced.value) {
            Ok(v) => Some(v),
            Err(message) => {
                self.issues
                    .push(ConfigIssue::new(key, &sourced.origin, message));
                None
            }
        }
    }

    fn fail(&mut self, key: &str, message: impl Into<String>) {
        let origin = self
            .raw
            .get(key)
            .map_or_else(|| "validation".to_owned(), |s| s.origin.clone());
        self.issues.push(ConfigIssue::new(key, &origin, message));
    }
}

fn text(v: &RawValue) -> Result<String, String> {
    match v {
        RawValue::Text(s) | RawValue::Toml(toml::Value::String(s)) => Ok(s.clone()),
        RawValue::Toml(other) => Err(format!("must be a string, not {}", other.type_str())),
    }
}

fn uint(v: &RawValue) -> Result<u64, String> {
    match v {
        RawValue::Toml(toml::Value::Integer(i)) => {
            u64::try_from(*i).map_err(|_| "must not be negative".to_owned())
        }
        RawValue::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("must be a whole number, not {s:?}")),
        RawValue::Toml(other) => Err(format!("must be a whole number, not {}", other.type_str())),
    }
}

fn ranged(min: u64, max: u64) -> impl Fn(&RawValue) -> Result<u64, String> {
    move |v| {
        let n = uint(v)?;
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(format!("must be between {min} and {max} (got {n})"))
        }
    }
}

fn boolean(v: &RawValue) -> Result<bool, String> {
    match v {
        RawValue::Toml(toml::Value::Boolean(b)) => Ok(*b),
        RawValue::Text(s) => match s.trim() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(format!("must be true or false, not {s:?}")),
        },
        RawValue::Toml(other) => Err(format!("must be true or false, not {}", other.type_str())),
    }
}

fn list(v: &RawValue) -> Result<Vec<String>, String> {
    match v {
        RawValue::Toml(toml::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| "must be a list of strings".to_owned())
            })
            .collect(),
        RawValue::Text(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()),
        RawValue::Toml(other) => Err(format!("must be a list, not {}", other.type_str())),
    }
}

fn socket_addr(v: &RawValue) -> Result<SocketAddr, String> {
    let s = text(v)?;
    s.trim()
        .parse()
        .map_err(|_| format!("must be an address and port such as 127.0.0.1:8080, not {s:?}"))
}

fn path(v: &RawValue) -> Result<PathBuf, String> {
    let s = text(v)?;
    if s.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(PathBuf::from(s))
    }
}

fn cidrs(v: &RawValue) -> Result<Vec<IpNet>, String> {
    list(v)?
        .iter()
        .map(|c| {
            c.parse::<IpNet>()
                .or_else(|_| c.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{c:?} is not a CIDR range such as 10.0.0.0/8"))
        })
        .collect()
}

fn secs(v: &RawValue, min: u64, max: u64) -> Result<Duration, String> {
    ranged(min, max)(v).map(Duration::from_secs)
}

/// Builds the configuration, appending every problem to `issues`.
pub(super) fn build(raw: &RawConfig, issues: &mut Vec<ConfigIssue>) -> Option<Config> {
    let mut c = Ctx { raw, issues };
    if let Some(version) = c.get("version", uint)
        && version != 1
    {
        c.fail(
            "version",
            format!("this Sealdesk reads version 1 files; this one says {version}"),
        );
    }
    let data_dir = c.get("data_dir", path);
    let master_key_file = c.get("master_key_file", path);
    let web_dir = c.get("web_dir", path);
    let server = server(&mut c);
    let tls = tls(&mut c);
    let database = database(&mut c, data_dir.as_ref());
    let database_max_connections = c.get("database.max_connections", ranged(1, 1000));
    let metrics = MetricsConfig {
        enabled: c.get("metrics.enabled", boolean).unwrap_or(true),
        listen: c
            .get("metrics.listen", socket_addr)
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 9464))),
        required: raw.is_explicit("metrics.listen"),
    };
    let log = log(&mut c);
    let password_hash = password_hash(&mut c);
    let chat = chat(&mut c);

    if let (Some(server), false) = (&server, matches!(tls, Ok(Some(_)))) {
        // Refuse plaintext on a reachable address unless a TLS-terminating proxy is declared
        // (OWASP ASVS v5.0.0-12.2.1: TLS for all connectivity).
        if !server.listen.ip().is_loopback() && server.trusted_proxies.is_empty() {
            c.fail(
                "server.listen",
                format!(
                    "refusing to listen on {} without TLS: set tls.cert_file and tls.key_file, or list \
                     the TLS-terminating reverse proxy in server.trusted_proxies",
                    server.listen
                ),
            );
        }
    }
    if let (Some(server), true) = (&server, metrics.enabled)
        && server.listen == metrics.listen
        && server.listen.port() != 0
    {
        c.fail("metrics.listen", "must differ from server.listen");
    }
    Some(Config {
        data_dir: data_dir?,
        master_key_file,
        web_dir,
        server: server?,
        tls: tls.ok()?,
        database: database?,
        database_max_connections: u32::try_from(database_max_connections?).ok()?,
        metrics,
        log: log?,
        password_hash: password_hash?,
        chat: chat?,
    })
}

fn chat(c: &mut Ctx<'_>) -> Option<ChatConfig> {
    let max_payload = c.get("chat.max_payload_bytes", ranged(1024, 1024 * 1024));
    let attachment_max = c.get(
        "chat.attachment_max_bytes",
        ranged(1024, 1024 * 1024 * 1024),
    );
    let retention_sweep = c.get("chat.retention_sweep_secs", |v| secs(v, 60, 86_400));
    let window = c.get("chat.commit_window_micros", ranged(0, 2000));
    let ticket_ttl = c.get("chat.visitor_ticket_ttl_secs", |v| secs(v, 60, 86_400));
    let heartbeat = c.get("chat.heartbeat_secs", |v| secs(v, 5, 300));
    let tickets = c.get("chat.tickets_per_minute_per_address", ranged(1, 1_000_000));
    let connections = c.get("chat.connections_per_address", ranged(1, 1_000_000));
    let messages = c.get("chat.messages_per_second", ranged(1, 100_000));
    let new_visitors = c.get("chat.new_visitors_per_minute", ranged(1, 10_000_000));
    let bits = c.get("chat.challenge_bits", ranged(8, 24));
    let exempt = c.get("chat.limits_exempt", cidrs);
    Some(ChatConfig {
        tickets_per_minute_per_address: u32::try_from(tickets?).ok()?,
        connections_per_address: u32::try_from(connections?).ok()?,
        messages_per_second: u32::try_from(messages?).ok()?,
        new_visitors_per_minute: u32::try_from(new_visitors?).ok()?,
        challenge_bits: u8::try_from(bits?).ok()?,
        limits_exempt: exempt?,
        max_payload_bytes: usize::try_from(max_payload?).ok()?,
        attachment_max_bytes: attachment_max?,
        retention_sweep: retention_sweep?,
        commit_window: Duration::from_micros(window?),
        visitor_ticket_ttl: ticket_ttl?,
        heartbeat: heartbeat?,
    })
}

fn server(c: &mut Ctx<'_>) -> Option<ServerConfig> {
    let listen = c.get("server.listen", socket_addr);
    let public_url = match c.raw.get("server.public_url") {
        None => Some(None),
        Some(_) => c
            .get("server.public_url", |v| {
                let s = text(v)?;
                let url = Url::parse(&s).map_err(|_| format!("{s:?} is not a URL"))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err("must be an http or https URL".into());
                }
                Ok(url)
            })
            .map(Some),
    };
    let trusted_proxies = c.get("server.trusted_proxies", cidrs);
    let request_timeout = c.get("server.request_timeout_secs", |v| secs(v, 1, 3600));
    let header_read_timeout = c.get("server.header_read_timeout_secs", |v| secs(v, 1, 300));
    let body_limit = c.get("server.body_limit_bytes", ranged(1024, 64 * 1024 * 1024));
    let shutdown_grace = c.get("server.shutdown_grace_secs", |v| secs(v, 0, 600));
    Some(ServerConfig {
        listen: listen?,
        public_url: public_url?,
        trusted_proxies: trusted_proxies?,
        request_timeout: request_timeout?,
        header_read_timeout: header_read_timeout?,
        body_limit_bytes: usize::try_from(body_limit?).ok()?,
        shutdown_grace: shutdown_grace?,
    })
}

/// `Ok(None)`: TLS off. `Err(())`: a problem was recorded.
fn tls(c: &mut Ctx<'_>) -> Result<Option<TlsConfig>, ()> {
    let cert = c.get("tls.cert_file", path);
    let key = c.get("tls.key_file", path);
    let (cert_set, key_set) = (
        c.raw.get("tls.cert_file").is_some(),
        c.raw.get("tls.key_file").is_some(),
    );
    match (cert, key) {
        (Some(cert_file), Some(key_file)) => {
            for (k, p) in [("tls.cert_file", &cert_file), ("tls.key_file", &key_file)] {
                if !p.is_file() {
                    c.fail(
                        k,
                        format!("{} does not exist or is not a file", p.display()),
                    );
                }
            }
            Ok(Some(TlsConfig {
                cert_file,
                key_file,
            }))
        }
        _ if cert_set != key_set => {
            let missing = if cert_set {
                "tls.key_file"
            } else {
                "tls.cert_file"
            };
            c.fail(
                missing,
                "tls.cert_file and tls.key_file must be set together",
            );
            Err(())
        }
        _ if cert_set => Err(()),
        _ => Ok(None),
    }
}

fn database(c: &mut Ctx<'_>, data_dir: Option<&PathBuf>) -> Option<DatabaseConfig> {
    if c.raw.get("database.url").is_none() {
        return data_dir.map(|d| DatabaseConfig::Sqlite {
            path: d.join("sealdesk.db"),
        });
    }
    c.get("database.url", |v| {
        let s = text(v)?;
        if let Some(p) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            return if p.is_empty() {
                Err("sqlite: URL needs a file path".into())
            } else {
                Ok(DatabaseConfig::Sqlite {
                    path: PathBuf::from(p),
                })
            };
        }
        let url = Url::parse(&s)
            .map_err(|_| "is not a valid URL (postgres://user:pass@host/db)".to_owned())?;
        match url.scheme() {
            "postgres" | "postgresql" => Ok(DatabaseConfig::Postgres {
                url: SecretString::from(s),
            }),
            other => Err(format!(
                "unsupported database scheme {other:?}; use postgres:// or sqlite://"
            )),
        }
    })
}

fn log(c: &mut Ctx<'_>) -> Option<LogConfig> {
    let format = c.get("log.format", |v| match text(v)?.as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("must be \"pretty\" or \"json\", not {other:?}")),
    });
    let filter = c.get("log.filter", text);
    Some(LogConfig {
        format: format?,
        filter: filter?,
    })
}

fn password_hash(c: &mut Ctx<'_>) -> Option<HashPolicy> {
    let min = HashPolicy::OWASP_MINIMUM;
    let memory_kib = c.get(
        "security.argon2_memory_kib",
        ranged(u64::from(min.memory_kib), 4 * 1024 * 1024),
    );
    let iterations = c.get(
        "security.argon2_iterations",
        ranged(u64::from(min.iterations), 64),
    );
    let parallelism = c.get(
        "security.argon2_parallelism",
        ranged(u64::from(min.parallelism), 64),
    );
    Some(HashPolicy {
        memory_kib: u32::try_from(memory_kib?).ok()?,
        iterations: u32::try_from(iterations?).ok()?,
        parallelism: u32::try_from(parallelism?).ok()?,
    })
}
