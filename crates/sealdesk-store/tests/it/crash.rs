//! Crash safety on SQLite: a child process writes tenants and reports each one only after
//! `create_tenant` returned; the parent kills it with SIGKILL mid-stream, reopens the
//! database, and checks that it is intact and holds every acknowledged tenant, whole.
//!
//! The child is this same test binary, re-run with a filter selecting [`child_writer`]. That
//! works under `cargo test` and under nextest (which also runs one test per process).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use sealdesk_proto::TenantId;
use sealdesk_store::contract::TestData;
use sealdesk_store::sqlite;
use sealdesk_store::{StoreAdmin, TenantRepo};

/// Names the database for the child; the child does nothing without it.
const CHILD_DB_VAR: &str = "SEALDESK_TEST_CRASH_DB";
/// How many acknowledged writes the parent waits for before it kills the child.
const ACKS: usize = 200;
/// Marks an acknowledgement line in the child's output (libtest writes its own lines too).
const ACK: &str = "ACK ";
/// The longest the parent waits for any one acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_mins(1);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn acknowledged_tenants_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    runtime().block_on(async {
        let store = sqlite::open(&path).await.unwrap();
        store.migrate().await.unwrap();
        store.close().await;
    });

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::child_writer",
            "--nocapture",
            "--include-ignored",
        ])
        .env(CHILD_DB_VAR, &path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    // Read on a thread so that a silent child cannot hang the test: see ACK_TIMEOUT.
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(at) = line.find(ACK) {
                let id: TenantId = line[at + ACK.len()..].trim().parse().unwrap();
                if tx.send(id).is_err() {
                    break;
                }
            }
        }
    });
    let mut acknowledged = Vec::with_capacity(ACKS);
    while acknowledged.len() < ACKS {
        match rx.recv_timeout(ACK_TIMEOUT) {
            Ok(id) => acknowledged.push(id),
            Err(e) => {
                let _ = child.kill();
                panic!(
                    "child stopped acknowledging after {} writes: {e}",
                    acknowledged.len()
                );
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no clean close of the database.
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the child must have been killed, not have finished"
    );
    drop(rx);
    reader.join().unwrap();

    runtime().block_on(check_after_crash(&path, &acknowledged));
}

async fn check_after_crash(path: &Path, acknowledged: &[TenantId]) {
    let store = sqlite::open(path).await.unwrap();
    assert_eq!(store.pragma("integrity_check").await.unwrap(), ["ok"]);
    assert!(
        store.pragma("foreign_key_check").await.unwrap().is_empty(),
        "orphaned rows"
    );
    assert_eq!(store.migrate().await.unwrap(), 0);

    let tenants: HashMap<TenantId, _> = store
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    // At most one write can have committed without its acknowledgement being read.
    assert!(
        tenants.len() >= acknowledged.len(),
        "{} stored < {} acknowledged",
        tenants.len(),
        acknowledged.len()
    );
    for id in acknowledged {
        assert!(
            tenants.contains_key(id),
            "acknowledged tenant {id} is missing"
        );
    }
    for tenant in tenants.values() {
        assert_eq!(
            tenant.domains.len(),
            2,
            "tenant {} is half-written: {:?}",
            tenant.id,
            tenant.domains
        );
        assert_eq!(
            tenant.widget_origins.len(),
            1,
            "tenant {} is half-written",
            tenant.id
        );
    }
    store.close().await;
}

/// The writer run by [`acknowledged_tenants_survive_sigkill`]; a no-op when run directly.
#[tokio::test]
#[ignore = "a child process of acknowledged_tenants_survive_sigkill"]
async fn child_writer() {
    let Some(path) = std::env::var_os(CHILD_DB_VAR) else {
        return;
    };
    let store = sqlite::open(Path::new(&path)).await.unwrap();
    let data = TestData::new();
    // Bounded, in case the parent is gone without killing us; a closed pipe also ends it.
    for i in 0..100_000 {
        let domains = [
            format!("t{i}.crash.example"),
            format!("www.t{i}.crash.example"),
        ];
        let origin = format!("https://t{i}.crash.example");
        let tenant = data.tenant(
            &format!("Crash {i}"),
            &[&domains[0], &domains[1]],
            &[&origin],
        );
        store.create_tenant(&tenant).await.unwrap();
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{ACK}{}", tenant.id)
            .and_then(|()| out.flush())
            .is_err()
        {
            return;
        }
    }
}
