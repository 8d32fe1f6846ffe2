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

/// `--demo` with a web build: the shop page embeds the widget pinned to the demo tenant's
/// root key, the inbox has its notice and History Members, the key files are private, a
/// second start changes nothing, and `sealdesk demo enrol` certifies only the device whose
/// fingerprint was typed.
#[tokio::test]
#[allow(clippy::too_many_lines)] // one demo's story: start, page, config, pool, restart, enrol
async fn the_demo_shop_is_ready_for_an_encrypted_chat() {
    use sealdesk_store::{DeviceRepo as _, HistoryPoolRepo as _, StaffRepo as _};
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(web.join("widget")).unwrap();
    std::fs::write(web.join("widget/sealdesk-widget.js"), b"export {};").unwrap();
    let web_arg = web.to_str().unwrap().to_owned();
    let (mut child, url) = start(dir.path(), &["--demo", "--web-dir", &web_arg]);
    let tenants = super::json(&super::admin(dir.path(), &["tenant", "list", "--json"]));
    let tenant = tenants[0]["id"].as_str().unwrap().to_owned();
    let teams = super::json(&super::admin(
        dir.path(),
        &["team", "list", "--tenant", &tenant, "--json"],
    ));
    let team = teams[0]["id"].as_str().unwrap().to_owned();

    let page = reqwest::get(format!("{url}/demo/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("data-sealdesk-inbox=\"{tenant}/{team}\"")),
        "{html}"
    );
    let config: serde_json::Value =
        reqwest::get(format!("{url}/api/widget/{tenant}/{team}/config"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let root = config["root_keys"][0].as_str().unwrap().to_owned();
    assert!(
        html.contains(&format!("data-sealdesk-tenant-key=\"{root}\"")),
        "{html}"
    );
    assert_eq!(config["privacy_notice"]["version"], "demo-1");
    assert!(html.contains("integrity=\"sha384-"));

    let store = sealdesk_store::sqlite::open(&dir.path().join("data/sealdesk.db"))
        .await
        .unwrap();
    let (tenant_id, team_id) = (tenant.parse().unwrap(), team.parse().unwrap());
    let now = sealdesk_core::clock::Clock::now(&sealdesk_core::clock::SystemClock);
    assert_eq!(
        store
            .history_pool_size(tenant_id, team_id, now)
            .await
            .unwrap(),
        20
    );
    for file in [
        "secrets.json",
        "root.key",
        "issuing.key",
        "team.key",
        "archive.key",
    ] {
        let mode = std::fs::metadata(dir.path().join("data/demo").join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    assert!(terminate(&mut child).success());

    // A second start finds everything in place: same root, no refill.
    let (mut again, url) = start(dir.path(), &["--demo", "--web-dir", &web_arg]);
    let config: serde_json::Value =
        reqwest::get(format!("{url}/api/widget/{tenant}/{team}/config"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(config["root_keys"], serde_json::json!([root]));
    assert_eq!(
        store
            .history_pool_size(tenant_id, team_id, now)
            .await
            .unwrap(),
        20
    );

    // The demo agent's console registered a device; only its own fingerprint enrols it.
    let agent = store
        .find_staff_by_email(tenant_id, "agent@demo.localhost")
        .await
        .unwrap()
        .unwrap();
    let signer = sealdesk_mls::DeviceSigner::from_seed(&[4; 32]).unwrap();
    let device = store
        .add_device(
            &sealdesk_store::NewDevice {
                id: uuid::Uuid::now_v7(),
                tenant_id,
                staff_id: agent.id,
                label: "Console".into(),
                signature_key: signer.public().try_into().unwrap(),
                wrap_key: sealdesk_mls::seal::derive_keys(&[8; 32]).unwrap().public,
                requested_at: now,
            },
            10,
        )
        .await
        .unwrap();
    let demo_enrol = |fingerprint: &str| {
        let mut cmd = sealdesk(dir.path());
        cmd.args(["demo", "enrol", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--fingerprint", fingerprint]);
        run(cmd, "")
    };
    assert_fails(
        &demo_enrol("0000 0000 0000 0000 0000 0000 0000 0000"),
        65,
        "no pending device",
    );
    let fingerprint =
        sealdesk_server::app::devices::fingerprint(&device.signature_key, &device.wrap_key);
    let out = demo_enrol(&fingerprint);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let enrolled = store.get_device(tenant_id, device.id).await.unwrap();
    assert_eq!(enrolled.status, sealdesk_store::DeviceStatus::Certified);
    assert_eq!(
        store.key_wraps(tenant_id, device.id).await.unwrap().len(),
        1
    );
    assert!(terminate(&mut again).success());
}
