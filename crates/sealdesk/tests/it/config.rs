//! `sealdesk check-config`, `--version`, `--help`, and the committed example.

use super::{assert_fails, run, sealdesk};

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = sealdesk(dir.path());
    cmd.arg("--version");
    let out = run(cmd, "");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("sealdesk {}", env!("CARGO_PKG_VERSION"))
    );
    let mut cmd = sealdesk(dir.path());
    cmd.arg("--help");
    let help = String::from_utf8_lossy(&run(cmd, "").stdout).into_owned();
    for word in ["serve", "migrate", "check-config", "admin"] {
        assert!(help.contains(word), "{word} missing from --help:\n{help}");
    }
}

#[test]
fn check_config_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sealdesk.toml"),
        "[server]\nlisen = \"x\"\nbody_limit_bytes = -5\n",
    )
    .unwrap();
    let mut cmd = sealdesk(dir.path());
    cmd.arg("check-config").env("SEALDESK_LOG__FORMAT", "xml");
    let out = run(cmd, "");
    assert_fails(&out, 78, "3 problems");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("did you mean `server.listen`") && stderr.contains("log.format"),
        "{stderr}"
    );
}

#[test]
fn check_config_accepts_a_good_file_and_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("secret"),
        "postgres://sd:hunter2@127.0.0.1/sd",
    )
    .unwrap();
    let mut cmd = sealdesk(dir.path());
    cmd.args(["check-config", "--json"])
        .env("SEALDESK_DATABASE__URL_FILE", dir.path().join("secret"));
    let out = run(cmd, "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("hunter2") && stdout.contains("sd:***@"),
        "{stdout}"
    );
}

#[test]
fn committed_example_is_what_the_binary_prints() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = sealdesk(dir.path());
    cmd.args(["check-config", "--print-example"]);
    let out = run(cmd, "");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        include_str!("../../../../sealdesk.example.toml")
    );
}
