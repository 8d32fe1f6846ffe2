//! `sealdesk serve` as a process: prints its address, answers, refuses unsafe settings, and
//! stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{assert_fails, run, sealdesk};

pub(crate) fn start(dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut cmd = sealdesk(dir);
    cmd.args(["serve", "--data-dir"])
        .arg(dir.join("data"))
        .args(["--listen", "127.0.0.1:0", "--no-metrics"])
        .args(extra);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split(" listening on ").nth(1) {
            url = Some(rest.trim().to_owned());
            break;
        }
        seen.push(line);
    }
    let url = url.unwrap_or_else(|| panic!("no address printed; stdout: {seen:?}"));
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

pub(crate) fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        std::thread::park_timeout(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn serves_then_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path(), &["--demo"]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let health: serde_json::Value = reqwest::get(format!("{url}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    // The admin CLI works on the same database while the server runs.
    let list = super::json(&super::admin(dir.path(), &["tenant", "list", "--json"]));
    assert_eq!(list[0]["domains"][0], "demo.localhost");
    let status = terminate(&mut child);
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let key = dir.path().join("data/master.key");
    assert_eq!(
        std::fs::metadata(key).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn refuses_a_public_address_without_tls() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = sealdesk(dir.path());
    cmd.args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--listen", "0.0.0.0:0", "--no-metrics"]);
    assert_fails(
        &run(cmd, ""),
        78,
        "refusing to listen on 0.0.0.0:0 without TLS",
    );
}

#[test]
fn refuses_a_master_key_others_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let key = data.join("master.key");
    std::fs::write(
        &key,
        "sealdesk-master-key-v1\n1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    )
    .unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut cmd = sealdesk(dir.path());
    cmd.args(["serve", "--data-dir"])
        .arg(&data)
        .args(["--listen", "127.0.0.1:0", "--no-metrics"]);
    assert_fails(&run(cmd, ""), 73, "chmod 600");
}
