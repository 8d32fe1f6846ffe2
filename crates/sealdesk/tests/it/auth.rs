//! The terminal client's authentication commands against a real server process, and the
//! operator's audit verification and master-key rotation.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sealdesk_crypto::totp;

use super::serve::{start, terminate};
use super::{admin, admin_stdin, assert_fails, json, run, sealdesk};

const PASSWORD: &str = "violet kettle under a quiet moon";
const NEW_PASSWORD: &str = "seven amber lanterns over the harbour";

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

fn tenant_and_jane(dir: &Path, require_2fa: bool) -> String {
    let mut args = vec![
        "tenant", "create", "--name", "Acme", "--domain", "acme.com", "--json",
    ];
    if !require_2fa {
        args.push("--no-require-2fa");
    }
    let tenant = json(&admin(dir, &args))["id"].as_str().unwrap().to_owned();
    json(&admin_stdin(
        dir,
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
    tenant
}

/// `sealdesk login` into profile `name` with `password` and extra flags.
fn login_as(
    dir: &Path,
    url: &str,
    tenant: &str,
    name: &str,
    password: &str,
    extra: &[&str],
) -> std::process::Output {
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
    .arg(dir.join(name))
    .args(extra);
    run(cmd, &format!("{password}\n"))
}

/// `sealdesk account ARGS --profile DIR/name` with `stdin`.
fn account_in(dir: &Path, name: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut cmd = sealdesk(dir);
    cmd.arg("account")
        .args(args)
        .arg("--profile")
        .arg(dir.join(name));
    run(cmd, stdin)
}

fn saved_token(dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join(name).join("session.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The HTTP status of `GET /api/auth/session` with `token`.
async fn session_status(url: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{url}/api/auth/session"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn invite_accept_sets_the_password_from_stdin_and_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = tenant_and_jane(dir.path(), false);
    let (mut server, url) = start(dir.path(), &[]);
    ok(&login_as(dir.path(), &url, &tenant, "admin", PASSWORD, &[]));
    let invited: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/api/tenants/{tenant}/invitations"))
        .bearer_auth(saved_token(dir.path(), "admin"))
        .json(&serde_json::json!({"email": "omar@acme.com", "role": "agent"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = invited["invitation_token"].as_str().unwrap().to_owned();
    let accept = |stdin: String, extra: &[&str]| {
        let mut cmd = sealdesk(dir.path());
        cmd.args(["invite", "accept", "--server", &url, "--profile"])
            .arg(dir.path().join("omar"))
            .args(extra);
        run(cmd, &stdin)
    };
    let both = ["--token-stdin", "--password-stdin", "--json"];

    // Secrets only from standard input, and both of them.
    assert_fails(
        &accept(format!("{token}\n{PASSWORD}\n"), &["--password-stdin"]),
        65,
        "--token-stdin",
    );
    assert_fails(
        &accept(format!("{token}\n"), &both),
        65,
        "the new password is missing",
    );
    // A weak password is refused with help, and the invitation stays usable.
    assert_fails(
        &accept(format!("{token}\npassword password password\n"), &both),
        65,
        "too easy to guess",
    );
    let session = json(&accept(format!("{token}\n{PASSWORD}\n"), &both));
    assert_eq!(session["staff"]["email"], "omar@acme.com");
    assert_eq!(session["staff"]["role"], "agent");
    assert_eq!(session["restricted"], false);
    let who = json(&account_in(dir.path(), "omar", &["whoami", "--json"], ""));
    assert_eq!(who["staff"]["email"], "omar@acme.com");
    let mode = std::fs::metadata(dir.path().join("omar/session.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    // Single use.
    assert_fails(
        &accept(format!("{token}\n{PASSWORD} again\n"), &both),
        77,
        "invalid credentials",
    );
    assert!(terminate(&mut server).success());
}

#[tokio::test]
async fn sessions_are_revoked_by_id_or_all_others() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = tenant_and_jane(dir.path(), false);
    let (mut server, url) = start(dir.path(), &[]);
    for name in ["laptop", "phone", "tablet"] {
        ok(&login_as(dir.path(), &url, &tenant, name, PASSWORD, &[]));
    }
    let listed = json(&account_in(
        dir.path(),
        "laptop",
        &["sessions", "--json"],
        "",
    ));
    assert_eq!(listed.as_array().unwrap().len(), 3);

    // Revoke one by id.
    let phone_id = json(&account_in(dir.path(), "phone", &["whoami", "--json"], ""))["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = json(&account_in(
        dir.path(),
        "laptop",
        &["sessions", "revoke", &phone_id, "--json"],
        "",
    ));
    assert_eq!(revoked["revoked"], 1);
    assert_fails(
        &account_in(dir.path(), "phone", &["whoami"], ""),
        77,
        "unauthenticated",
    );
    assert_fails(
        &account_in(
            dir.path(),
            "laptop",
            &["sessions", "revoke", "not-an-id"],
            "",
        ),
        65,
        "not a session id",
    );
    // Every other one.
    ok(&login_as(dir.path(), &url, &tenant, "phone", PASSWORD, &[]));
    let revoked = json(&account_in(
        dir.path(),
        "laptop",
        &["sessions", "revoke", "--others", "--json"],
        "",
    ));
    assert_eq!(revoked["revoked"], 2);
    for name in ["phone", "tablet"] {
        assert_fails(
            &account_in(dir.path(), name, &["whoami"], ""),
            77,
            "unauthenticated",
        );
    }
    ok(&account_in(dir.path(), "laptop", &["whoami"], ""));
    // Its own session: revoked, and the profile is logged out.
    let laptop_id =
        json(&account_in(dir.path(), "laptop", &["whoami", "--json"], ""))["session_id"]
            .as_str()
            .unwrap()
            .to_owned();
    let out = account_in(
        dir.path(),
        "laptop",
        &["sessions", "revoke", &laptop_id],
        "",
    );
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("logged out"));
    assert_fails(
        &account_in(dir.path(), "laptop", &["whoami"], ""),
        66,
        "not logged in",
    );

    assert!(terminate(&mut server).success());
}

/// Both passwords come from standard input, never from arguments; other sessions end.
#[tokio::test]
async fn password_change_reads_both_passwords_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = tenant_and_jane(dir.path(), false);
    let (mut server, url) = start(dir.path(), &[]);
    ok(&login_as(
        dir.path(),
        &url,
        &tenant,
        "laptop",
        PASSWORD,
        &[],
    ));
    ok(&login_as(dir.path(), &url, &tenant, "phone", PASSWORD, &[]));
    assert_fails(
        &account_in(
            dir.path(),
            "laptop",
            &["password"],
            &format!("{PASSWORD}\n{NEW_PASSWORD}\n"),
        ),
        65,
        "--password-stdin",
    );
    assert_fails(
        &account_in(
            dir.path(),
            "laptop",
            &["password", "--password-stdin"],
            &format!("not my password\n{NEW_PASSWORD}\n"),
        ),
        77,
        "invalid credentials",
    );
    ok(&account_in(
        dir.path(),
        "laptop",
        &["password", "--password-stdin"],
        &format!("{PASSWORD}\n{NEW_PASSWORD}\n"),
    ));
    assert_fails(
        &account_in(dir.path(), "phone", &["whoami"], ""),
        77,
        "unauthenticated",
    );
    ok(&account_in(dir.path(), "laptop", &["whoami"], ""));
    assert_fails(
        &login_as(dir.path(), &url, &tenant, "phone", PASSWORD, &[]),
        77,
        "invalid credentials",
    );
    ok(&login_as(
        dir.path(),
        &url,
        &tenant,
        "phone",
        NEW_PASSWORD,
        &[],
    ));
    assert!(terminate(&mut server).success());
}

#[tokio::test]
async fn reauth_rotates_the_saved_token_and_recovery_codes_regenerate() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = tenant_and_jane(dir.path(), false);
    let (mut server, url) = start(dir.path(), &[]);
    ok(&login_as(
        dir.path(),
        &url,
        &tenant,
        "profile",
        PASSWORD,
        &[],
    ));
    let secret = json(&account(dir.path(), &["totp", "enroll", "--json"]))["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let first: Vec<String> = json(&account(
        dir.path(),
        &["totp", "confirm", "--code", &code_at(&secret, 0), "--json"],
    ))["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();

    // Regenerating with a re-authentication first (password and TOTP from the next step):
    // the saved token is replaced and the old one is dead.
    let before = saved_token(dir.path(), "profile");
    let regenerated = json(&account_in(
        dir.path(),
        "profile",
        &[
            "recovery-codes",
            "regenerate",
            "--password-stdin",
            "--totp",
            &code_at(&secret, 30),
            "--json",
        ],
        &format!("{PASSWORD}\n"),
    ));
    let second: Vec<String> = regenerated["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(second.len(), 10);
    assert!(second.iter().all(|c| !first.contains(c)));
    let after = saved_token(dir.path(), "profile");
    assert_ne!(before, after, "re-authentication replaced the session");
    assert_eq!(session_status(&url, &before).await, 401);
    assert_eq!(session_status(&url, &after).await, 200);
    // The old set no longer logs in; the new one does.
    assert_fails(
        &login_as(
            dir.path(),
            &url,
            &tenant,
            "other",
            PASSWORD,
            &["--recovery-code", &first[0]],
        ),
        77,
        "invalid credentials",
    );
    ok(&login_as(
        dir.path(),
        &url,
        &tenant,
        "other",
        PASSWORD,
        &["--recovery-code", &second[0]],
    ));

    // `account reauth` with a recovery code instead of TOTP; a wrong one changes nothing.
    assert_fails(
        &account_in(
            dir.path(),
            "profile",
            &["reauth", "--password-stdin", "--recovery-code", &second[0]],
            &format!("{PASSWORD}\n"),
        ),
        77,
        "invalid credentials",
    );
    assert_eq!(saved_token(dir.path(), "profile"), after);
    let renewed = json(&account_in(
        dir.path(),
        "profile",
        &[
            "reauth",
            "--password-stdin",
            "--recovery-code",
            &second[1],
            "--json",
        ],
        &format!("{PASSWORD}\n"),
    ));
    assert_eq!(renewed["staff"]["email"], "jane@acme.com");
    let latest = saved_token(dir.path(), "profile");
    assert_ne!(latest, after);
    assert_eq!(session_status(&url, &after).await, 401);
    let who = json(&account(dir.path(), &["whoami", "--json"]));
    assert_eq!(who["session_id"], renewed["session_id"]);
    assert!(terminate(&mut server).success());
}
