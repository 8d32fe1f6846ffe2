//! `sealdesk admin keys archive|team` and `sealdesk archive export|decrypt` as an owner runs
//! them: keys sealed in 0600 files and announced under the root, versions in sequence, an
//! export that decrypts with the archive key files only, and tampering or misuse refused.
//! (The decryption of real conversations is tested through a real server in
//! `sealdesk-server`'s `archive` test.)

use super::{admin, admin_stdin, assert_fails, json, run, sealdesk};

fn archive_cmd(dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut cmd = sealdesk(dir);
    cmd.arg("archive")
        .args(args)
        .arg("--data-dir")
        .arg(dir.join("data"));
    run(cmd, stdin)
}

#[test]
#[allow(clippy::too_many_lines)] // one owner's story: keys, export, decrypt, refusals
fn archive_keys_are_announced_and_an_export_decrypts_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let tenant = json(&admin(
        dir.path(),
        &[
            "tenant",
            "create",
            "--name",
            "Vault Shop",
            "--domain",
            "vault.example",
            "--json",
        ],
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team = json(&admin(
        dir.path(),
        &[
            "team", "create", "--tenant", &tenant, "--name", "Billing", "--json",
        ],
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    json(&admin_stdin(
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
        "root passphrase, long\n",
    ));
    let make = |what: &[&str], out: &str, stdin: &str| {
        let root = p("root.key");
        let mut args = vec!["keys"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["--tenant", &tenant, "--root", &root]);
        let out = p(out);
        args.extend_from_slice(&["--out", &out, "--passphrase-stdin", "--json"]);
        admin_stdin(dir.path(), &args, stdin)
    };
    let first = json(&make(
        &["archive"],
        "archive1.key",
        "root passphrase, long\narchive one pass\n",
    ));
    assert_eq!(
        (first["kind"].as_str(), first["version"].as_u64()),
        (Some("archive"), Some(1))
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("archive1.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let second = json(&make(
        &["archive"],
        "archive2.key",
        "root passphrase, long\narchive two pass\n",
    ));
    assert_eq!(second["version"].as_u64(), Some(2));
    let team_key = json(&make(
        &["team", "--team", &team],
        "team.key",
        "root passphrase, long\nteam pass\n",
    ));
    assert_eq!(
        (team_key["kind"].as_str(), team_key["version"].as_u64()),
        (Some("team"), Some(1))
    );
    // A wrong root passphrase makes nothing.
    assert_fails(
        &make(&["archive"], "archive3.key", "not the root passphrase\nx\n"),
        65,
        "passphrase",
    );
    assert!(!dir.path().join("archive3.key").exists());

    // Export (ciphertext; here no conversations yet), then decrypt with both versions.
    let out = archive_cmd(
        dir.path(),
        &["export", "--tenant", &tenant, "--out", &p("vault.sda")],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("exported 0 conversation(s)"));
    let exported = std::fs::read_to_string(dir.path().join("vault.sda")).unwrap();
    assert!(exported.starts_with("{\"format\":\"sealdesk-archive/2\""));
    assert_eq!(
        exported.matches("\"scope\"").count(),
        3,
        "two archive versions and a team key"
    );
    assert_fails(
        &archive_cmd(
            dir.path(),
            &["export", "--tenant", &tenant, "--out", &p("vault.sda")],
            "",
        ),
        73,
        "nothing is overwritten",
    );
    let decrypt = |keys: &[&str], out: &str, stdin: &str| {
        let mut args = vec![
            "decrypt".to_owned(),
            "--in".into(),
            p("vault.sda"),
            "--out".into(),
            p(out),
        ];
        for k in keys {
            args.extend(["--key".to_owned(), p(k)]);
        }
        args.push("--passphrase-stdin".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        archive_cmd(dir.path(), &args, stdin)
    };
    let done = decrypt(
        &["archive1.key", "archive2.key"],
        "transcripts",
        "archive one pass\narchive two pass\n",
    );
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("decrypted 0 of 0 conversation(s)"));
    let html = std::fs::read_to_string(dir.path().join("transcripts/transcripts.html")).unwrap();
    assert!(html.contains("Vault Shop: conversation archive"));
    assert!(dir.path().join("transcripts/transcripts.jsonl").exists());

    // A team key is not an archive key; a wrong passphrase opens nothing; an edited export
    // is refused and leaves no transcript behind.
    assert_fails(
        &decrypt(&["team.key"], "t2", "team pass\n"),
        65,
        "not an archive key",
    );
    assert_fails(
        &decrypt(&["archive1.key"], "t3", "wrong\n"),
        65,
        "passphrase",
    );
    let edited = exported.replace("Vault Shop", "Vault Shoq");
    std::fs::write(dir.path().join("vault.sda"), edited).unwrap();
    assert_fails(
        &decrypt(&["archive1.key"], "t4", "archive one pass\n"),
        65,
        "altered",
    );
    assert!(!dir.path().join("t4/transcripts.html").exists());
}
