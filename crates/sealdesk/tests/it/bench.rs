//! `sealdesk bench s2 --smoke --mls`: the CI version of the live-chat scenario (PERFORMANCE.md)
//! through the real binary. 2,000 connections (1,000 conversations) on loopback, Poisson
//! messages at 200/s with typing indicators at twice that, 5 s of warm-up and 20 s measured;
//! the command itself fails unless p99 delivery ≤ 50 ms, nothing is lost, duplicated or out
//! of order, and every acknowledged message is in the server's history.

use super::{run, sealdesk};

#[test]
fn s2_smoke_meets_its_gate() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("s2-smoke.json");
    let mut cmd = sealdesk(dir.path());
    // A correctness gate, not a measurement: it does not wait for a quiet machine (the
    // benchmark's default waits up to 15 minutes for other processes to settle).
    cmd.args([
        "bench",
        "s2",
        "--smoke",
        // The encrypted path: every conversation is an MLS group the server follows.
        "--mls",
        "--quiet-wait-secs",
        "10",
        "--sealdesk",
    ])
    .arg(env!("CARGO_BIN_EXE_sealdesk"))
    .arg("--out")
    .arg(&out_file);
    let out = run(cmd, "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let run = &result["runs"][0];
    let step = &run["step"];
    assert_eq!(run["system"], "ours");
    assert_eq!(result["parameters"]["mls"], true);
    assert_eq!(run["connect"]["ok"], 2000, "{}", run["connect"]);
    assert_eq!(step["correct"], true, "{}", step["faults"]);
    // A stall bound, not a latency target (that is the benchmark's, on a quiet machine).
    assert!(step["delivery"]["p99_ms"].as_f64().unwrap() <= 1000.0);
    // 200/s for 20 s: about 4,000 measured deliveries.
    assert!(
        step["delivery"]["samples"].as_u64().unwrap() > 3_000,
        "{}",
        step["delivery"]
    );
    let acked = step["counters"]["acked"].as_u64().unwrap();
    assert_eq!(
        run["history"][0].as_u64(),
        Some(acked),
        "acknowledged = stored"
    );
    assert_eq!(
        run["history"][1].as_u64(),
        Some(0),
        "no duplicate ids stored"
    );
    assert!(step["counters"]["typing_received"].as_u64().unwrap() > 0);
}
