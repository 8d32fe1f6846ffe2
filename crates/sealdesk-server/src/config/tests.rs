use std::io::Write;
use std::path::PathBuf;

use secrecy::ExposeSecret;

use super::*;

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn load(
    file: Option<PathBuf>,
    env: &[(&str, &str)],
    flags: Vec<(&'static str, String, &'static str)>,
) -> Result<Config, ConfigErrors> {
    Config::load(&ConfigSources {
        file,
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        flags,
    })
}

#[test]
fn defaults_are_safe() {
    let c = load(None, &[], vec![]).unwrap();
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert!(c.tls.is_none());
    assert!(
        matches!(&c.database, DatabaseConfig::Sqlite { path } if path == &PathBuf::from("sealdesk-data/sealdesk.db"))
    );
    assert_eq!(c.metrics.listen.to_string(), "127.0.0.1:9464");
    assert!(!c.metrics.required);
    assert_eq!(c.password_hash, HashPolicy::OWASP_MINIMUM);
    assert_eq!(c.server.body_limit_bytes, 65536);
}

#[test]
fn precedence_is_defaults_file_env_flags() {
    let f = file(
        "[server]\nlisten = \"127.0.0.1:1000\"\nbody_limit_bytes = 2048\nrequest_timeout_secs = 7\n",
    );
    let c = load(
        Some(f.path().to_owned()),
        &[
            ("SEALDESK_SERVER__LISTEN", "127.0.0.1:2000"),
            ("SEALDESK_SERVER__BODY_LIMIT_BYTES", "4096"),
        ],
        vec![("server.listen", "127.0.0.1:3000".into(), "--listen")],
    )
    .unwrap();
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:3000");
    assert_eq!(c.server.body_limit_bytes, 4096);
    assert_eq!(c.server.request_timeout.as_secs(), 7);
}

#[test]
fn every_problem_is_reported_at_once_with_its_origin() {
    let f = file(
        "colour = 1\n[server]\nlisen = \"x\"\nbody_limit_bytes = \"big\"\n[log]\nformat = \"xml\"\n",
    );
    let errors = load(
        Some(f.path().to_owned()),
        &[
            ("SEALDESK_DATABASE__MAX_CONNECTIONS", "0"),
            ("SEALDESK_SERVR__LISTEN", "x"),
            ("SEALDESK_TEST_PG_URL", "ignored"),
        ],
        vec![],
    )
    .unwrap_err();
    let text = errors.to_string();
    assert_eq!(errors.0.len(), 6, "{text}");
    assert!(
        text.contains("`colour`") && text.contains("unknown key"),
        "{text}"
    );
    assert!(
        text.contains("`server.lisen`") && text.contains("did you mean `server.listen`"),
        "{text}"
    );
    assert!(
        text.contains("`server.body_limit_bytes`") && text.contains("whole number"),
        "{text}"
    );
    assert!(
        text.contains("`log.format`") && text.contains("\"xml\""),
        "{text}"
    );
    assert!(
        text.contains("`database.max_connections` (from SEALDESK_DATABASE__MAX_CONNECTIONS)"),
        "{text}"
    );
    assert!(
        text.contains("`servr.listen` (from SEALDESK_SERVR__LISTEN)"),
        "{text}"
    );
}

#[test]
fn malformed_toml_and_missing_file_are_errors() {
    let f = file("[server\nlisten = 1");
    assert!(
        load(Some(f.path().to_owned()), &[], vec![])
            .unwrap_err()
            .to_string()
            .contains("not valid TOML")
    );
    let missing = load(
        Some(PathBuf::from("/nonexistent/sealdesk.toml")),
        &[],
        vec![],
    )
    .unwrap_err();
    assert!(missing.to_string().contains("cannot read"), "{missing}");
}

#[test]
fn public_listen_needs_tls_or_a_trusted_proxy() {
    let err = load(None, &[("SEALDESK_SERVER__LISTEN", "0.0.0.0:8080")], vec![]).unwrap_err();
    assert!(
        err.to_string()
            .contains("refusing to listen on 0.0.0.0:8080 without TLS"),
        "{err}"
    );
    let ok = load(
        None,
        &[
            ("SEALDESK_SERVER__LISTEN", "0.0.0.0:8080"),
            (
                "SEALDESK_SERVER__TRUSTED_PROXIES",
                "10.0.0.0/8, 192.168.1.1",
            ),
        ],
        vec![],
    )
    .unwrap();
    assert_eq!(ok.server.trusted_proxies.len(), 2);
    let bad = load(
        None,
        &[("SEALDESK_SERVER__TRUSTED_PROXIES", "10.0.0.0/99")],
        vec![],
    )
    .unwrap_err();
    assert!(bad.to_string().contains("not a CIDR"), "{bad}");
}

#[test]
fn tls_files_must_come_in_pairs_and_exist() {
    let err = load(
        None,
        &[("SEALDESK_TLS__CERT_FILE", "/nonexistent/cert.pem")],
        vec![],
    )
    .unwrap_err();
    assert!(err.to_string().contains("must be set together"), "{err}");
    let err = load(
        None,
        &[
            ("SEALDESK_TLS__CERT_FILE", "/nonexistent/c.pem"),
            ("SEALDESK_TLS__KEY_FILE", "/nonexistent/k.pem"),
        ],
        vec![],
    )
    .unwrap_err();
    assert_eq!(err.0.len(), 2, "{err}");
}

#[test]
fn secrets_from_files_and_never_both() {
    let secret = file("postgres://sd:s3cret@127.0.0.1/sd\n");
    let path = secret.path().display().to_string();
    let c = load(None, &[("SEALDESK_DATABASE__URL_FILE", &path)], vec![]).unwrap();
    let DatabaseConfig::Postgres { url } = &c.database else {
        panic!("expected postgres")
    };
    assert_eq!(url.expose_secret(), "postgres://sd:s3cret@127.0.0.1/sd");
    assert!(
        !format!("{c:?}").contains("s3cret"),
        "Debug must redact the password"
    );
    assert!(!format!("{:?}", c.describe()).contains("s3cret"));
    let f = file("[database]\nurl = \"postgres://a@b/c\"\n");
    let err = load(
        Some(f.path().to_owned()),
        &[("SEALDESK_DATABASE__URL_FILE", &path)],
        vec![],
    )
    .unwrap_err();
    assert!(err.to_string().contains("choose one"), "{err}");
    let err = load(None, &[("SEALDESK_DATABASE__URL", "mysql://x/y")], vec![]).unwrap_err();
    assert!(
        err.to_string().contains("unsupported database scheme"),
        "{err}"
    );
}

#[test]
fn password_cost_below_owasp_minimum_is_refused() {
    let err = load(
        None,
        &[
            ("SEALDESK_SECURITY__ARGON2_MEMORY_KIB", "4096"),
            ("SEALDESK_SECURITY__ARGON2_ITERATIONS", "1"),
        ],
        vec![],
    )
    .unwrap_err();
    assert_eq!(err.0.len(), 2, "{err}");
    let ok = load(
        None,
        &[("SEALDESK_SECURITY__ARGON2_MEMORY_KIB", "65536")],
        vec![],
    )
    .unwrap();
    assert_eq!(ok.password_hash.memory_kib, 65536);
}

#[test]
fn only_version_1_is_read() {
    let f = file("version = 2\n");
    assert!(
        load(Some(f.path().to_owned()), &[], vec![])
            .unwrap_err()
            .to_string()
            .contains("version 1")
    );
}

#[test]
fn explicit_metrics_address_is_required() {
    let c = load(
        None,
        &[("SEALDESK_METRICS__LISTEN", "127.0.0.1:9999")],
        vec![],
    )
    .unwrap();
    assert!(c.metrics.required);
}

/// The committed example must be exactly what the key table generates, and must load.
#[test]
fn committed_example_matches_the_key_table_and_loads() {
    let committed = include_str!("../../../../sealdesk.example.toml");
    assert_eq!(
        committed,
        Config::example_toml(),
        "regenerate with `sealdesk check-config --print-example > sealdesk.example.toml`"
    );
    let f = file(committed);
    load(Some(f.path().to_owned()), &[], vec![]).unwrap();
    for spec in keys::KEYS {
        let name = spec.path.rsplit('.').next().unwrap();
        assert!(
            committed.contains(&format!("{name} = ")),
            "{} missing from the example",
            spec.path
        );
    }
}
