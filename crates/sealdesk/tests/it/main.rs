//! End-to-end tests of the `sealdesk` binary, run as a subprocess the way operators and the
//! acceptance checks call it (one test binary).

// Clippy's test allowances cover #[test] functions, not the shared helpers below; failing
// loudly is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod agent;
mod archive;
mod auth;
mod bench;
mod canned_reseal;
mod config;
mod delivery;
mod enrol;
mod history_pool;
mod keys;
mod notes;
mod owner;
mod rekey;
mod serve;
mod team_transfer;
mod widget_visitor;

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A `sealdesk` command in an isolated working directory, with no inherited Sealdesk settings.
pub fn sealdesk(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sealdesk"));
    cmd.current_dir(cwd);
    for (key, _) in std::env::vars() {
        if key.starts_with("SEALDESK_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("SEALDESK_LOG__FILTER", "warn");
    cmd
}

/// Runs with `stdin` as standard input and returns the output.
pub fn run(mut cmd: Command, stdin: &str) -> Output {
    use std::io::Write;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn sealdesk");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `sealdesk admin --data-dir DIR ARGS…` and returns the output.
pub fn admin(dir: &Path, args: &[&str]) -> Output {
    admin_stdin(dir, args, "")
}

/// Same as [`admin`], with standard input.
pub fn admin_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut cmd = sealdesk(dir);
    cmd.arg("admin")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args);
    run(cmd, stdin)
}

/// Parses stdout as JSON, failing the test with stderr on a non-zero exit.
pub fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Asserts a failure with `code` whose stderr contains `needle`.
pub fn assert_fails(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(
        stderr.contains(needle),
        "expected {needle:?} in stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
