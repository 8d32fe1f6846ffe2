//! The table of every configuration key: its dotted path, what it means, its default, and
//! whether it is sensitive. This table is the single source for the loader (unknown keys are
//! those not listed), the `*_FILE` variants, and the example-file coverage test.

/// One configuration key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Dotted path: `server.listen`. In the environment: `SEALDESK_SERVER__LISTEN`.
    pub path: &'static str,
    /// What the key does, shown by `check-config --keys`.
    pub doc: &'static str,
    /// The default as it would be written in TOML, or `None` when unset by default.
    pub default: Option<&'static str>,
    /// A secret: never printed, and also accepted as `<key>_file` naming a file that holds it.
    pub sensitive: bool,
}

const fn key(path: &'static str, doc: &'static str, default: Option<&'static str>) -> KeySpec {
    KeySpec {
        path,
        doc,
        default,
        sensitive: false,
    }
}

/// Every key Sealdesk understands.
pub const KEYS: &[KeySpec] = &[
    key(
        "version",
        "Version of this file's format. Must be 1.",
        Some("1"),
    ),
    key(
        "data_dir",
        "Directory for the database, blobs and generated keys; created with mode 0700.",
        Some("\"sealdesk-data\""),
    ),
    key(
        "master_key_file",
        "Server master key file (mode 0600). Default: <data_dir>/master.key, generated on first start.",
        None,
    ),
    key(
        "web_dir",
        "Directory of the built widget and console (web/dist, made by `npm run build` in web/); served at /widget/ and /console/. Unset: not served.",
        None,
    ),
    key(
        "server.listen",
        "Address and port of the HTTP/WebSocket listener.",
        Some("\"127.0.0.1:8080\""),
    ),
    key(
        "server.public_url",
        "The URL people and widgets reach this server at. Its host is the passkey (WebAuthn) relying-party id; passkeys are off while it is unset.",
        None,
    ),
    key(
        "server.trusted_proxies",
        "CIDR ranges of reverse proxies whose X-Forwarded-For is believed. Empty: trust none.",
        Some("[]"),
    ),
    key(
        "server.request_timeout_secs",
        "Longest time a request may take before it is answered with 408.",
        Some("30"),
    ),
    key(
        "server.header_read_timeout_secs",
        "Longest time a client may take to send request headers (slow-loris guard).",
        Some("10"),
    ),
    key(
        "server.body_limit_bytes",
        "Largest request body accepted, in bytes.",
        Some("65536"),
    ),
    key(
        "server.shutdown_grace_secs",
        "On SIGTERM, how long in-flight requests may run before connections are closed.",
        Some("10"),
    ),
    key(
        "tls.cert_file",
        "PEM certificate chain. With tls.key_file, serves HTTPS and sends HSTS.",
        None,
    ),
    key("tls.key_file", "PEM private key for tls.cert_file.", None),
    KeySpec {
        path: "database.url",
        doc: "postgres://user:pass@host/db for PostgreSQL. Unset: embedded SQLite at <data_dir>/sealdesk.db.",
        default: None,
        sensitive: true,
    },
    key(
        "database.max_connections",
        "Size of the database connection pool.",
        Some("10"),
    ),
    key(
        "metrics.enabled",
        "Serve Prometheus metrics on a separate listener.",
        Some("true"),
    ),
    key(
        "metrics.listen",
        "Address of the metrics listener; keep it on loopback or a private network.",
        Some("\"127.0.0.1:9464\""),
    ),
    key(
        "log.format",
        "\"pretty\" for people, \"json\" for log collectors.",
        Some("\"pretty\""),
    ),
    key(
        "log.filter",
        "tracing filter directives, such as \"info\" or \"sealdesk_server=debug,info\".",
        Some("\"info\""),
    ),
    key(
        "security.argon2_memory_kib",
        "Argon2id memory cost for staff passwords, in KiB (minimum 19456).",
        Some("19456"),
    ),
    key(
        "security.argon2_iterations",
        "Argon2id iterations (minimum 2).",
        Some("2"),
    ),
    key(
        "security.argon2_parallelism",
        "Argon2id lanes (minimum 1).",
        Some("1"),
    ),
    key(
        "chat.max_payload_bytes",
        "Largest payload of one WebSocket `send` (an MLS message), in bytes after base64 decoding.",
        Some("65536"),
    ),
    key(
        "chat.attachment_max_bytes",
        "Largest client-encrypted attachment accepted, in bytes.",
        Some("10485760"),
    ),
    key(
        "chat.retention_sweep_secs",
        "Seconds between retention sweeps (60 to 86400), which delete conversations closed longer ago than their tenant's retention_days, with their attachments, and expired visitor tickets. The first sweep runs a minute after start.",
        Some("3600"),
    ),
    key(
        "chat.commit_window_micros",
        "How long a group commit waits for more messages after the first one (0 to 2000 µs). 0 commits at once; batches still form under load.",
        Some("0"),
    ),
    key(
        "chat.visitor_ticket_ttl_secs",
        "Lifetime of a visitor ticket (the widget fetches a new one before it expires).",
        Some("3600"),
    ),
    key(
        "chat.tickets_per_minute_per_address",
        "Visitor tickets one client address may get per minute (abuse control).",
        Some("60"),
    ),
    key(
        "chat.connections_per_address",
        "WebSocket connections one client address may hold at once (abuse control).",
        Some("1000"),
    ),
    key(
        "chat.messages_per_second",
        "Frames one WebSocket connection may send per second (bursts of twice that).",
        Some("20"),
    ),
    key(
        "chat.new_visitors_per_minute",
        "New visitors per minute for one tenant above which it counts as under attack: with the tenant's visitor_challenge = \"auto\", new visitors must then solve a proof-of-work challenge.",
        Some("300"),
    ),
    key(
        "chat.challenge_bits",
        "Proof-of-work difficulty in leading zero bits (8 to 24; each bit doubles the work).",
        Some("18"),
    ),
    key(
        "chat.limits_exempt",
        "CIDR ranges exempt from the per-address limits (for load tests on loopback; keep empty in production).",
        Some("[]"),
    ),
    key(
        "chat.heartbeat_secs",
        "Seconds between WebSocket heartbeats (also how often the staff sessions behind them are checked); a client silent for three of them is disconnected.",
        Some("25"),
    ),
];

/// The spec of a key, if it exists.
pub fn find(path: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.path == path)
}

/// The known key closest to `path` by edit distance, to suggest on a typo.
pub fn suggest(path: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (levenshtein(path, k.path), k.path))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, p)| p)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let best = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            cur.push(best);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The commented example configuration, generated from [`KEYS`]: every key with its
/// documentation; keys without a default appear commented out.
pub fn example_toml() -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "# Sealdesk configuration. Generated by `sealdesk check-config --print-example`;\n\
         # every key is optional and shows its default.\n\
         # Precedence: defaults < this file < SEALDESK_* environment (SEALDESK_SERVER__LISTEN)\n\
         # < command-line flags. Secrets also accept <key>_file naming a file that holds them.\n",
    );
    let mut section = "";
    for spec in KEYS {
        let (sect, name) = spec.path.rsplit_once('.').unwrap_or(("", spec.path));
        if sect == section {
            out.push('\n');
        } else {
            let _ = write!(out, "\n[{sect}]\n");
            section = sect;
        }
        let _ = writeln!(out, "# {}", spec.doc);
        if spec.sensitive {
            let _ = writeln!(
                out,
                "# Sensitive: prefer {name}_file = \"/run/secrets/...\"."
            );
        }
        let _ = match spec.default {
            Some(default) => writeln!(out, "{name} = {default}"),
            None => writeln!(out, "# {name} = "),
        };
    }
    out
}
