//! Conversations through the real binary: `sealdesk selftest` against a running server, and
//! acknowledged messages surviving a SIGKILL in the middle of a send storm.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use sealdesk_client::Client;
use sealdesk_client::ws::{Connection, Credential, Cursors, WsClientError};
use sealdesk_proto::ws::WireKind;
use sealdesk_proto::{ConversationId, TeamId, TenantId};
use url::Url;

use super::serve::{start, terminate};
use super::{admin, json, run, sealdesk};

fn selftest(dir: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = sealdesk(dir);
    cmd.args(["selftest", "--data-dir"])
        .arg(dir.join("data"))
        .args(["--server", url, "--json"])
        .args(extra);
    run(cmd, "")
}

fn tenant_count(dir: &Path) -> usize {
    json(&admin(dir, &["tenant", "list", "--json"]))
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn selftest_exchanges_messages_and_erases_its_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path(), &[]);
    let before = tenant_count(dir.path());
    let report = json(&selftest(
        dir.path(),
        &url,
        &["--message", "hello from the acceptance test"],
    ));
    assert_eq!(report["ok"], true, "{report}");
    assert!(report["messages"].as_u64().unwrap() >= 20, "{report}");
    assert_eq!(report["in_order"], true);
    assert_eq!(report["resume_ok"], true);
    // End to end encrypted: each side and the History Member's replay decrypted every
    // message; all ended on the same epoch (0 → add → self-update = 2).
    assert_eq!(report["e2ee"], true);
    assert_eq!(report["decrypted"], report["messages"], "{report}");
    assert_eq!(report["history_decrypted"], report["messages"], "{report}");
    assert_eq!(report["epochs_agree"], true);
    assert_eq!(report["epoch"], 2);
    let p50 = report["p50_ms"].as_f64().unwrap();
    let p99 = report["p99_ms"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= p99, "{report}");
    assert_eq!(
        tenant_count(dir.path()),
        before,
        "the throwaway tenant is erased"
    );

    let kept = json(&selftest(
        dir.path(),
        &url,
        &["--keep", "--message", "kept secret 7f3a"],
    ));
    assert_eq!(kept["ok"], true, "{kept}");
    assert_eq!(tenant_count(dir.path()), before + 1, "--keep keeps it");
    // The kept conversation is in the database, as ciphertext only; the scan itself finds
    // what is stored in the clear (the throwaway tenant's name).
    assert!(!file_contains(dir.path(), b"kept secret 7f3a"));
    assert!(file_contains(dir.path(), b"Selftest "));
    terminate(&mut child);
}

#[test]
fn selftest_reports_an_unreachable_server() {
    let dir = tempfile::tempdir().unwrap();
    let out = selftest(dir.path(), "http://127.0.0.1:9", &[]);
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert!(
        report["error"].as_str().unwrap().contains("agent login"),
        "{report}"
    );
    assert_eq!(
        tenant_count(dir.path()),
        0,
        "erased even when the test failed"
    );
}

/// Whether any file under `dir` contains `needle`.
fn file_contains(dir: &Path, needle: &[u8]) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) {
            return true;
        }
    }
    false
}

fn kill(child: &mut Child) {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
    child.wait().unwrap();
}

/// One visitor's record of its sends.
#[derive(Default)]
struct Ledger {
    /// Client ids acknowledged by the server.
    acked: HashSet<String>,
    /// Client ids sent (acknowledged or not).
    sent: Vec<(String, Vec<u8>)>,
}

/// Sends until the connection breaks; records every send and ack.
async fn storm(mut conn: Connection, c: ConversationId, who: usize, ledger: &mut Ledger) {
    let mut n = ledger.sent.len();
    loop {
        let id = format!("v{who}-m{n}");
        let body = format!("visitor {who} message {n}").into_bytes();
        ledger.sent.push((id.clone(), body.clone()));
        match conn.send(c, &id, WireKind::Application, &body).await {
            Ok(_) => {
                ledger.acked.insert(id);
            }
            Err(WsClientError::Server(e)) => panic!("refused: {e:?}"),
            Err(_) => return,
        }
        n += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_a_kill_during_a_send_storm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = start(dir.path(), &[]);
    let tenant = json(&admin(
        dir.path(),
        &[
            "tenant",
            "create",
            "--name",
            "Storm",
            "--domain",
            "storm.example",
            "--json",
        ],
    ));
    let tenant: TenantId = tenant["id"].as_str().unwrap().parse().unwrap();
    let team = json(&admin(
        dir.path(),
        &[
            "team",
            "create",
            "--tenant",
            &tenant.to_string(),
            "--name",
            "Support",
            "--json",
        ],
    ));
    let team: TeamId = team["id"].as_str().unwrap().parse().unwrap();

    let http = Client::new(&url).unwrap();
    let mut visitors = Vec::new();
    for _ in 0..8 {
        let ticket = http.visitor_ticket(tenant, team, None).await.unwrap();
        let as_visitor = http.clone().with_token(ticket.ticket.clone());
        let c = as_visitor.open_conversation(None).await.unwrap().id;
        visitors.push((ticket.visitor_key.unwrap(), c));
    }

    // The storm: every visitor sends as fast as acks come back; the server is killed with
    // SIGKILL while sends are in flight.
    let base = Url::parse(&url).unwrap();
    let mut tasks = Vec::new();
    for (who, (key, c)) in visitors.iter().cloned().enumerate() {
        let base = base.clone();
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            let ticket = http.visitor_ticket(tenant, team, Some(&key)).await.unwrap();
            let conn = Connection::connect(&base, &Credential::Ticket(ticket.ticket))
                .await
                .unwrap();
            let mut ledger = Ledger::default();
            storm(conn, c, who, &mut ledger).await;
            ledger
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    kill(&mut child);
    let mut ledgers = Vec::new();
    for task in tasks {
        ledgers.push(task.await.unwrap());
    }
    let acked: usize = ledgers.iter().map(|l| l.acked.len()).sum();
    assert!(
        acked > 50,
        "the storm was too small to prove anything: {acked} acks"
    );

    // Restart on the same data directory; clients resume and retry every unacknowledged
    // send with its original id.
    let (mut child, url) = start(dir.path(), &[]);
    let base = Url::parse(&url).unwrap();
    let http = Client::new(&url).unwrap();
    for (who, ((key, c), ledger)) in visitors.iter().zip(&ledgers).enumerate() {
        let ticket = http.visitor_ticket(tenant, team, Some(key)).await.unwrap();
        let mut conn = Connection::connect(&base, &Credential::Ticket(ticket.ticket))
            .await
            .unwrap();
        for (id, body) in ledger
            .sent
            .iter()
            .filter(|(id, _)| !ledger.acked.contains(id))
        {
            conn.send(*c, id, WireKind::Application, body)
                .await
                .unwrap();
        }
        // Read the whole log back: every id sent appears exactly once, acked ones with
        // their payload, in one gapless sequence.
        let last = conn.subscribe(*c, 0).await.unwrap();
        let mut cursors = Cursors::default();
        let mut seen: HashMap<String, Vec<u8>> = HashMap::new();
        while cursors.after(*c) < last {
            let frame = conn.next().await.unwrap();
            if let Some(entry) = cursors.accept(&frame).unwrap()
                && let Some(id) = entry.id
            {
                assert!(
                    seen.insert(id.clone(), entry.payload).is_none(),
                    "visitor {who}: {id} appears twice"
                );
            }
        }
        for (id, body) in &ledger.sent {
            assert_eq!(
                seen.get(id),
                Some(body),
                "visitor {who}: {id} missing or altered"
            );
        }
        assert_eq!(
            seen.len(),
            ledger.sent.len(),
            "visitor {who}: unexpected entries"
        );
    }
    terminate(&mut child);
}
