//! The terminal client's authentication commands against a real server process, and the
//! operator's audit verification and master-key rotation.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sealdesk_crypto::totp;

use super::serve::{start, terminate};
use super::{admin, admin_stdin, assert_fails, json, run, sealdesk};

const PASSWORD: &str = "violet kettle under a quiet moon";

fn login(dir: &Path, url: &str, tenant: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = sealdesk(dir);
    cmd.args([
        "login",
        "--server",
        url,
        "--tenant",
        tenant,
        "--email",
        "jane@acme.com",
        "--password-stdin",
        "--profile",
    ])
    .arg(dir.join("profile"))
    .args(extra);
    run(cmd, &format!("{PASSWORD}\n"))
}

fn account(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = sealdesk(dir);
    cmd.arg("account")
        .args(args)
        .arg("--profile")
        .arg(dir.join("profile"));
    run(cmd, "")
}

fn code_at(secret_b32: &str, offset: i64) -> String {
    let secret = totp::decode_secret(secret_b32).unwrap();
    #[allow(clippy::disallowed_methods)] // The server process runs on the real clock.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    totp::totp_at(&secret, now + offset, 30, 6, totp::TotpAlgorithm::Sha1)
}

#[tokio::test]
async fn login_enrol_totp_recover_and_logout() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = json(&admin(
        dir.path(),
        &[
            "tenant", "create", "--name", "Acme", "--domain", "acme.com", "--json",
        ],
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    json(&admin_stdin(
        dir.path(),
        &[
            "staff",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "jane@acme.com",
            "--role",
            "admin",
            "--password-stdin",
            "--json",
        ],
        &format!("{PASSWORD}\n"),
    ));
    let (mut server, url) = start(dir.path(), &[]);

    // The tenant requires 2FA: the first login may only enrol.
    let out = login(dir.path(), &url, &tenant, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("requires a second factor"));
    let mode = std::fs::metadata(dir.path().join("profile/session.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the saved session is private");

    let enrol = json(&account(dir.path(), &["totp", "enroll", "--json"]));
    let secret = enrol["secret"].as_str().unwrap().to_owned();
    assert!(
        enrol["uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let confirmed = json(&account(
        dir.path(),
        &["totp", "confirm", "--code", &code_at(&secret, 0), "--json"],
    ));
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);

    // Without the second factor: refused, and the message does not say which part was wrong.
    assert_fails(
        &login(dir.path(), &url, &tenant, &[]),
        77,
        "invalid credentials",
    );
    // The next step's code is within the ±1 window and not a replay.
    let out = login(
        dir.path(),
        &url,
        &tenant,
        &["--totp", &code_at(&secret, 30)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let who = json(&account(dir.path(), &["whoami", "--json"]));
    assert_eq!(who["restricted"], false);
    // A recovery code works once.
    assert!(
        login(dir.path(), &url, &tenant, &["--recovery-code", &codes[0]])
            .status
            .success()
    );
    assert_fails(
        &login(dir.path(), &url, &tenant, &["--recovery-code", &codes[0]]),
        77,
        "invalid credentials",
    );

    let mut cmd = sealdesk(dir.path());
    cmd.args(["logout", "--profile"])
        .arg(dir.path().join("profile"));
    assert!(run(cmd, "").status.success());
    assert_fails(&account(dir.path(), &["whoami"]), 66, "not logged in");
    assert!(terminate(&mut server).success());
}

#[tokio::test]
async fn audit_verify_detects_an_edited_entry() {
    let dir = tempfile::tempdir().unwrap();
    for domain in ["a.example", "b.example", "c.example"] {
        json(&admin(
            dir.path(),
            &[
                "tenant", "create", "--name", "T", "--domain", domain, "--json",
            ],
        ));
    }
    let report = json(&admin(dir.path(), &["audit", "verify", "--json"]));
    assert_eq!(report["ok"], true);
    assert_eq!(report["entries"], 3);

    let db = dir.path().join("data/sealdesk.db");
    let url = format!("sqlite://{}", db.display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'anonymous' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);

    let out = admin(dir.path(), &["audit", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(65), "a broken chain exits non-zero");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_error"]["seq"], 2);
}

#[tokio::test]
async fn master_key_rotation_keeps_totp_working() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = json(&admin(
        dir.path(),
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--domain",
            "acme.com",
            "--no-require-2fa",
            "--json",
        ],
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    json(&admin_stdin(
        dir.path(),
        &[
            "staff",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "jane@acme.com",
            "--role",
            "agent",
            "--password-stdin",
            "--json",
        ],
        &format!("{PASSWORD}\n"),
    ));
    let (mut server, url) = start(dir.path(), &[]);
    assert!(login(dir.path(), &url, &tenant, &[]).status.success());
    let secret = json(&account(dir.path(), &["totp", "enroll", "--json"]))["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    json(&account(
        dir.path(),
        &["totp", "confirm", "--code", &code_at(&secret, 0), "--json"],
    ));

    // Rotate while the server runs; it must pick up the new key version by itself.
    let rotated = json(&admin(dir.path(), &["rotate-master-key", "--json"]));
    assert_eq!(rotated["version"], 2);
    assert_eq!(rotated["resealed"], 1);
    let key = std::fs::read_to_string(dir.path().join("data/master.key")).unwrap();
    assert!(
        key.lines().any(|l| l.starts_with("1 ")) && key.lines().any(|l| l.starts_with("2 ")),
        "old versions are kept"
    );
    let out = login(
        dir.path(),
        &url,
        &tenant,
        &["--totp", &code_at(&secret, 30)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json(&admin(dir.path(), &["audit", "verify", "--json"]))["ok"],
        true
    );
    assert!(terminate(&mut server).success());
}
