//! `sealdesk agent enrol|status` as an agent runs them against a real server: the device's
//! keys stay sealed in the profile, the admin certifies it with the fingerprint the terminal
//! printed, and the terminal then trusts only the root key it pinned and opens its team key.

use super::serve::{start, terminate};
use super::{admin, admin_stdin, assert_fails, json, run, sealdesk};

const PASSWORD: &str = "an agent's long password 42";
const DEVICE_PASS: &str = "device passphrase, long";

fn agent(dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut cmd = sealdesk(dir);
    cmd.arg("agent")
        .args(args)
        .arg("--profile")
        .arg(dir.join("profile"));
    run(cmd, stdin)
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one terminal's story: login, enrol, confirm, status, refusals
async fn a_terminal_enrols_and_opens_its_team_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let tenant = json(&admin(
        dir.path(),
        &[
            "tenant",
            "create",
            "--name",
            "Term Shop",
            "--domain",
            "term.example",
            "--no-require-2fa",
            "--json",
        ],
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team = json(&admin(
        dir.path(),
        &[
            "team", "create", "--tenant", &tenant, "--name", "Support", "--json",
        ],
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    admin_stdin(
        dir.path(),
        &[
            "staff",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "kim@term.example",
            "--role",
            "agent",
            "--password-stdin",
            "--json",
        ],
        &format!("{PASSWORD}\n"),
    );
    let root = json(&admin_stdin(
        dir.path(),
        &[
            "keys",
            "init",
            "--tenant",
            &tenant,
            "--out",
            &p("root.key"),
            "--passphrase-stdin",
            "--json",
        ],
        "root pass, long\n",
    ));
    let pinned = root["snippet"].as_str().unwrap().to_owned();
    admin_stdin(
        dir.path(),
        &[
            "keys",
            "issue",
            "--tenant",
            &tenant,
            "--root",
            &p("root.key"),
            "--out",
            &p("issuing.key"),
            "--passphrase-stdin",
            "--json",
        ],
        "root pass, long\nissuing pass\n",
    );
    admin_stdin(
        dir.path(),
        &[
            "keys",
            "team",
            "--team",
            &team,
            "--tenant",
            &tenant,
            "--root",
            &p("root.key"),
            "--out",
            &p("team.key"),
            "--passphrase-stdin",
            "--json",
        ],
        "root pass, long\nteam pass\n",
    );
    let (mut server, url) = start(dir.path(), &[]);
    let mut login = sealdesk(dir.path());
    login
        .args([
            "login",
            "--server",
            &url,
            "--tenant",
            &tenant,
            "--email",
            "kim@term.example",
        ])
        .args(["--password-stdin", "--profile"])
        .arg(dir.path().join("profile"));
    let out = run(login, &format!("{PASSWORD}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Enrol: the keys are made here; only the fingerprint leaves with the person.
    let enrolled = agent(
        dir.path(),
        &[
            "enrol",
            "--label",
            "Kim's terminal",
            "--tenant-key",
            &pinned,
            "--passphrase-stdin",
        ],
        &format!("{DEVICE_PASS}\n"),
    );
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    let printed = String::from_utf8_lossy(&enrolled.stdout).into_owned();
    let fingerprint = printed
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint: "))
        .unwrap()
        .to_owned();
    let device_file = std::fs::read_to_string(dir.path().join("profile/device.json")).unwrap();
    assert!(
        !device_file.contains("signature_seed"),
        "the secrets are sealed"
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("profile/device.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let status = |stdin: &str| {
        agent(
            dir.path(),
            &["status", "--passphrase-stdin", "--json"],
            stdin,
        )
    };
    let pending = json(&status(&format!("{DEVICE_PASS}\n")));
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["fingerprint"], fingerprint);
    assert_fails(&status("wrong passphrase\n"), 65, "");

    // The admin reads the fingerprint from the terminal and certifies.
    let devices = json(&admin(
        dir.path(),
        &[
            "keys", "devices", "--tenant", &tenant, "--status", "pending", "--json",
        ],
    ));
    let device = devices["devices"][0]["id"].as_str().unwrap().to_owned();
    admin_stdin(
        dir.path(),
        &[
            "keys",
            "enrol",
            "--tenant",
            &tenant,
            "--device",
            &device,
            "--fingerprint",
            &fingerprint,
            "--issuing",
            &p("issuing.key"),
            "--team-key",
            &p("team.key"),
            "--passphrase-stdin",
            "--json",
        ],
        "issuing pass\nteam pass\n",
    );
    let certified = json(&status(&format!("{DEVICE_PASS}\n")));
    assert_eq!(certified["status"], "certified");
    assert_eq!(certified["team_keys"], 1);
    // The team key is kept sealed in the profile too.
    let after = std::fs::read_to_string(dir.path().join("profile/device.json")).unwrap();
    assert!(!after.contains("team_keys"));
    assert_ne!(after, device_file);

    // A terminal that pinned another root refuses the same certificate.
    let mut file: serde_json::Value = serde_json::from_str(&after).unwrap();
    file["roots"] = serde_json::json!(["ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]);
    std::fs::write(
        dir.path().join("profile/device.json"),
        serde_json::to_vec(&file).unwrap(),
    )
    .unwrap();
    assert_fails(&status(&format!("{DEVICE_PASS}\n")), 65, "pinned root");
    assert!(terminate(&mut server).success());
}
