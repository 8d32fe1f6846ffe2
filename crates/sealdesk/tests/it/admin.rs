//! `sealdesk admin`: tenants, teams, staff, with text and JSON output and clear failures.

use super::{admin, admin_stdin, assert_fails, json};

fn create_tenant(dir: &std::path::Path, name: &str, domain: &str) -> String {
    let out = admin(
        dir,
        &[
            "tenant", "create", "--name", name, "--domain", domain, "--json",
        ],
    );
    json(&out)["id"].as_str().unwrap().to_owned()
}

#[test]
fn tenant_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let out = admin(
        dir.path(),
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--domain",
            "ACME.com",
            "--domain",
            "acme.example",
            "--origin",
            "https://shop.acme.com",
            "--json",
        ],
    );
    let t = json(&out);
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(
        t["domains"],
        serde_json::json!(["acme.com", "acme.example"])
    );
    assert_eq!(
        t["widget_origins"],
        serde_json::json!(["https://shop.acme.com"])
    );
    assert_eq!(t["retention_days"], 30);
    assert_eq!(t["require_second_factor"], true);

    let list = json(&admin(dir.path(), &["tenant", "list", "--json"]));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());

    let shown = admin(dir.path(), &["tenant", "show", &id]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.status.success() && text.contains("Acme") && text.contains("acme.com"),
        "{text}"
    );

    assert_eq!(
        json(&admin(dir.path(), &["tenant", "disable", &id, "--json"]))["disabled"],
        true
    );
    assert_eq!(
        json(&admin(dir.path(), &["tenant", "enable", &id, "--json"]))["disabled"],
        false
    );
}

#[test]
fn tenant_input_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    create_tenant(dir.path(), "Acme", "acme.com");
    let dup = admin(
        dir.path(),
        &[
            "tenant", "create", "--name", "Copycat", "--domain", "Acme.COM", "--json",
        ],
    );
    assert_fails(&dup, 65, "domain acme.com already belongs to a tenant");
    assert_eq!(
        json(&admin(dir.path(), &["tenant", "list", "--json"]))
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let long = "x".repeat(101);
    assert_fails(
        &admin(
            dir.path(),
            &["tenant", "create", "--name", &long, "--domain", "b.com"],
        ),
        65,
        "invalid name: must be at most 100 characters",
    );
    assert_fails(
        &admin(
            dir.path(),
            &["tenant", "create", "--name", "  ", "--domain", "b.com"],
        ),
        65,
        "invalid name: must not be empty",
    );
    assert_fails(
        &admin(
            dir.path(),
            &[
                "tenant",
                "create",
                "--name",
                "B",
                "--domain",
                "https://b.com/x",
            ],
        ),
        65,
        "invalid domain",
    );
    assert_fails(
        &admin(
            dir.path(),
            &[
                "tenant", "create", "--name", "B", "--domain", "b.com", "--origin", "*",
            ],
        ),
        65,
        "invalid origin",
    );
    assert_fails(
        &admin(
            dir.path(),
            &[
                "tenant",
                "create",
                "--name",
                "B",
                "--domain",
                "b.com",
                "--retention-days",
                "0",
            ],
        ),
        65,
        "invalid retention_days",
    );
    assert_fails(
        &admin(dir.path(), &["tenant", "show", "not-an-id"]),
        65,
        "not a valid tenant id",
    );
    assert_fails(
        &admin(
            dir.path(),
            &["tenant", "show", "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70"],
        ),
        66,
        "tenant not found",
    );
}

#[test]
fn teams_are_scoped_to_their_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let acme = create_tenant(dir.path(), "Acme", "acme.com");
    let globex = create_tenant(dir.path(), "Globex", "globex.com");
    let team = json(&admin(
        dir.path(),
        &[
            "team", "create", "--tenant", &acme, "--name", "Billing", "--json",
        ],
    ));
    let team_id = team["id"].as_str().unwrap();
    assert_eq!(team["tenant_id"], acme.as_str());
    assert_fails(
        &admin(
            dir.path(),
            &["team", "create", "--tenant", &acme, "--name", "BILLING"],
        ),
        65,
        "already has a team named",
    );
    json(&admin(
        dir.path(),
        &[
            "team", "create", "--tenant", &globex, "--name", "Billing", "--json",
        ],
    ));
    assert_eq!(
        json(&admin(
            dir.path(),
            &["team", "list", "--tenant", &acme, "--json"]
        ))
        .as_array()
        .unwrap()
        .len(),
        1
    );
    // Another tenant's id never reaches the team.
    assert_fails(
        &admin(dir.path(), &["team", "show", "--tenant", &globex, team_id]),
        66,
        "team not found",
    );
    assert_fails(
        &admin(
            dir.path(),
            &[
                "team",
                "create",
                "--tenant",
                "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70",
                "--name",
                "X",
            ],
        ),
        66,
        "tenant not found",
    );
}

#[test]
fn staff_accounts_with_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let acme = create_tenant(dir.path(), "Acme", "acme.com");
    let out = admin_stdin(
        dir.path(),
        &[
            "staff",
            "create",
            "--tenant",
            &acme,
            "--email",
            "Jane@Acme.com",
            "--role",
            "agent",
            "--password-stdin",
            "--json",
        ],
        "a long enough passphrase\n",
    );
    let s = json(&out);
    assert_eq!(s["email"], "jane@acme.com");
    assert_eq!(s["role"], "agent");
    assert_eq!(s["display_name"], "jane");
    assert_eq!(s["has_password"], true);
    assert!(
        s.get("password_hash").is_none(),
        "credentials never leave the store"
    );
    assert_fails(
        &admin(
            dir.path(),
            &[
                "staff",
                "create",
                "--tenant",
                &acme,
                "--email",
                "jane@acme.com",
                "--role",
                "admin",
            ],
        ),
        65,
        "already has a staff account",
    );
    assert_fails(
        &admin(
            dir.path(),
            &[
                "staff",
                "create",
                "--tenant",
                &acme,
                "--email",
                "bob@acme.com",
                "--role",
                "root",
            ],
        ),
        65,
        "invalid role",
    );
    assert_fails(
        &admin_stdin(
            dir.path(),
            &[
                "staff",
                "create",
                "--tenant",
                &acme,
                "--email",
                "bob@acme.com",
                "--role",
                "agent",
                "--password-stdin",
            ],
            "short\n",
        ),
        65,
        "at least 8 characters",
    );
    let list = json(&admin(
        dir.path(),
        &["staff", "list", "--tenant", &acme, "--json"],
    ));
    assert_eq!(list.as_array().unwrap().len(), 1);
    let id = list[0]["id"].as_str().unwrap();
    assert_eq!(
        json(&admin(
            dir.path(),
            &["staff", "disable", "--tenant", &acme, id, "--json"]
        ))["disabled"],
        true
    );
}

#[test]
fn loose_data_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    create_tenant(dir.path(), "Acme", "acme.com");
    std::fs::set_permissions(
        dir.path().join("data"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert_fails(&admin(dir.path(), &["tenant", "list"]), 73, "chmod 700");
}

#[test]
fn database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    create_tenant(dir.path(), "Acme", "acme.com");
    let data = dir.path().join("data");
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(data.join("sealdesk.db"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn unreachable_database_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = super::sealdesk(dir.path());
    cmd.env(
        "SEALDESK_DATABASE__URL",
        "postgres://sealdesk:pw@127.0.0.1:1/nope",
    )
    .args(["admin", "--data-dir"])
    .arg(dir.path().join("data"))
    .args(["tenant", "list"]);
    let out = super::run(cmd, "");
    assert_fails(
        &out,
        69,
        "cannot open the PostgreSQL postgres://sealdesk:***@127.0.0.1:1/nope database",
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(":pw@"),
        "the password must not be printed"
    );
}

#[test]
fn tenant_settings_can_be_updated() {
    let dir = tempfile::tempdir().unwrap();
    let id = create_tenant(dir.path(), "Acme", "acme.com");
    let t = json(&admin(
        dir.path(),
        &[
            "tenant",
            "update",
            &id,
            "--require-2fa",
            "false",
            "--retention-days",
            "90",
            "--json",
        ],
    ));
    assert_eq!(t["require_second_factor"], false);
    assert_eq!(t["retention_days"], 90);
    assert_fails(
        &admin(
            dir.path(),
            &["tenant", "update", &id, "--ip-allow", "10.0.0.1/8"],
        ),
        65,
        "host bits",
    );
    assert_fails(
        &admin(
            dir.path(),
            &["tenant", "update", &id, "--session-idle-minutes", "1"],
        ),
        65,
        "session_idle_minutes",
    );
}
