//! One measured load step of the chat scenarios: the workers run a phase (warm-up, then the
//! measured window) while the coordinator reads CPU and the server's counters at the window's
//! edges; the workers' reports are merged into one result with the correctness verdict.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use crate::chat::coord::Workers;
use crate::chat::hist;
use crate::chat::mono::now_ns;
use crate::chat::plan::{Counters, Phase, PhaseReport};
use crate::chat::sys::{self, Cpu, Snap};
use crate::chat::target::Target;
use crate::stats::{Latency, f};

/// What a step asks for.
#[derive(Debug, Clone)]
pub(crate) struct StepSpec {
    /// Label.
    pub(crate) name: String,
    /// Offered messages per second (whole run).
    pub(crate) rate: f64,
    /// Warm-up seconds (not measured).
    pub(crate) warmup_s: f64,
    /// Measured seconds.
    pub(crate) measure_s: f64,
    /// Typing indicators per message.
    pub(crate) typing_ratio: f64,
    /// Schedule seed.
    pub(crate) seed: u64,
    /// Drain timeout, ms.
    pub(crate) drain_ms: u64,
    /// Conversations in the run.
    pub(crate) total_convs: u64,
}

/// A step's merged result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepResult {
    /// Label.
    pub(crate) name: String,
    /// Offered messages per second.
    pub(crate) offered_per_s: f64,
    /// Messages of the measured window acknowledged, per second of the window.
    pub(crate) achieved_per_s: f64,
    /// Measured seconds.
    pub(crate) measure_s: f64,
    /// Counters summed over workers (whole step, warm-up included).
    pub(crate) counters: Counters,
    /// Sends without an ack after the drain.
    pub(crate) unacked: u64,
    /// Messages (whole run so far) the other party never received.
    pub(crate) undelivered: u64,
    /// Acknowledged entries a subscriber never received.
    pub(crate) subscriber_missing: u64,
    /// Every worker drained before its deadline.
    pub(crate) drained: bool,
    /// Longest drain, s.
    pub(crate) drain_s: f64,
    /// Intended send → other party (coordinated-omission corrected).
    pub(crate) delivery: Latency,
    /// Actual send → other party.
    pub(crate) delivery_actual: Latency,
    /// Intended send → ack.
    pub(crate) ack: Latency,
    /// Intended send → dashboard.
    pub(crate) dashboard: Latency,
    /// The generator's lateness (actual − intended send).
    pub(crate) send_lag: Latency,
    /// CPU in the measured window.
    pub(crate) cpu: Cpu,
    /// Server CPU per measured message, µs.
    pub(crate) target_cpu_us_per_msg: f64,
    /// Worker CPU while the schedule ran (sum over workers), % of one core.
    pub(crate) worker_cpu_pct: f64,
    /// The target's resident memory at the end of the window, KiB.
    pub(crate) target_rss_kib: u64,
    /// Our server's commit counters over the window (empty for the null relay).
    pub(crate) server_counters: BTreeMap<String, f64>,
    /// Transactions (one fsync each with `synchronous=FULL`) per 1,000 messages.
    pub(crate) fsyncs_per_1k: f64,
    /// Mean entries per transaction.
    pub(crate) entries_per_commit: f64,
    /// Zero loss, duplicates, reordering, gaps, errors and closes.
    pub(crate) correct: bool,
    /// What broke correctness, if anything.
    pub(crate) faults: Vec<String>,
}

fn add_json(into: &mut serde_json::Value, other: &serde_json::Value) {
    match (into, other) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(slot) => add_json(slot, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot @ serde_json::Value::Number(_), serde_json::Value::Number(n)) => {
            let sum = slot.as_u64().unwrap_or(0) + n.as_u64().unwrap_or(0);
            *slot = serde_json::Value::from(sum);
        }
        _ => {}
    }
}

/// Sums counters field by field (maps are merged key by key).
pub(crate) fn sum_counters(all: &[Counters]) -> anyhow::Result<Counters> {
    let mut total = serde_json::to_value(Counters::default())?;
    for c in all {
        add_json(&mut total, &serde_json::to_value(c)?);
    }
    Ok(serde_json::from_value(total)?)
}

const SERVER_COUNTERS: [&str; 4] = [
    "sealdesk_log_commits_total",
    "sealdesk_log_commit_entries_total",
    "sealdesk_hub_lagged_total",
    "sealdesk_log_commit_failures_total",
];

async fn server_counters(target: &Target) -> BTreeMap<String, f64> {
    let Some(url) = &target.metrics_url else {
        return BTreeMap::new();
    };
    let all = sys::scrape(url).await.unwrap_or_default();
    all.into_iter()
        .filter(|(k, _)| SERVER_COUNTERS.contains(&k.as_str()))
        .collect()
}

fn secs_to_ns(s: f64) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ns = (s.max(0.0) * 1e9) as u64;
    ns
}

/// Runs one step on every worker and merges the result.
pub(crate) async fn run(
    workers: &mut Workers,
    target: &Target,
    spec: &StepSpec,
) -> anyhow::Result<StepResult> {
    // Time for every worker to build its schedules before the first send.
    let start_ns = now_ns() + 500_000_000;
    let measure_from_ns = start_ns + secs_to_ns(spec.warmup_s);
    let end_ns = measure_from_ns + secs_to_ns(spec.measure_s);
    let phase = Phase {
        name: spec.name.clone(),
        start_ns,
        measure_from_ns,
        end_ns,
        rate: spec.rate,
        total_convs: spec.total_convs,
        typing_ratio: spec.typing_ratio,
        seed: spec.seed,
        drain_ms: spec.drain_ms,
    };
    let pids = workers.pids();
    let pid = target.pid;
    let watch = async {
        tokio::time::sleep(Duration::from_nanos(
            measure_from_ns.saturating_sub(now_ns()),
        ))
        .await;
        let before = (Snap::take(pid, &pids), server_counters(target).await);
        tokio::time::sleep(Duration::from_nanos(end_ns.saturating_sub(now_ns()))).await;
        let after = (Snap::take(pid, &pids), server_counters(target).await);
        let rss = crate::procfs::status_value(pid, "VmRSS");
        (before, after, rss)
    };
    let (reports, (before, after, rss)) = tokio::join!(workers.run(&phase), watch);
    let reports = reports?;
    let cpu = before.0?.until(&after.0?);
    let mut counters_delta = BTreeMap::new();
    for (k, v) in &after.1 {
        counters_delta.insert(k.clone(), v - before.1.get(k).copied().unwrap_or(0.0));
    }
    merge(spec, &reports, cpu, rss.unwrap_or(0), counters_delta)
}

fn merge(
    spec: &StepSpec,
    reports: &[PhaseReport],
    cpu: Cpu,
    target_rss_kib: u64,
    server_counters: BTreeMap<String, f64>,
) -> anyhow::Result<StepResult> {
    let counters = sum_counters(
        &reports
            .iter()
            .map(|r| r.counters.clone())
            .collect::<Vec<_>>(),
    )?;
    let mut hists = BTreeMap::new();
    for name in [
        "delivery",
        "delivery_actual",
        "ack",
        "dashboard",
        "send_lag",
    ] {
        let mut h = crate::stats::histogram()?;
        for r in reports {
            if let Some(text) = r.hists.get(name) {
                hist::merge(&mut h, text).with_context(|| format!("histogram {name}"))?;
            }
        }
        hists.insert(name, h);
    }
    let latency = |name: &str| -> anyhow::Result<Latency> {
        Latency::of(hists.get(name).context("missing histogram")?)
    };
    let ack = latency("ack")?;
    let unacked = reports.iter().map(|r| r.unacked).sum();
    let undelivered = reports.iter().map(|r| r.undelivered).sum();
    let subscriber_missing = reports.iter().map(|r| r.subscriber_missing).sum();
    let worker_cpu_us: u64 = reports.iter().map(|r| r.cpu_us).sum();
    let worker_wall = reports.iter().map(|r| r.wall_s).fold(0.0, f64::max);
    let commits = server_counters
        .get("sealdesk_log_commits_total")
        .copied()
        .unwrap_or(f64::NAN);
    let entries = server_counters
        .get("sealdesk_log_commit_entries_total")
        .copied()
        .unwrap_or(f64::NAN);
    let mut faults = Vec::new();
    let c = &counters;
    for (what, n) in [
        ("duplicates", c.duplicates),
        ("reordered", c.reordered),
        ("seq gaps", c.seq_gaps),
        ("seq repeats", c.seq_repeats),
        ("corrupt payloads", c.corrupt),
        ("send errors", c.send_errors),
        ("unknown acks", c.ack_unknown),
        ("dup-flagged acks", c.ack_dup_flag),
        ("closed by the server", c.closed_by_server),
        ("unacked after drain", unacked),
        ("undelivered after drain", undelivered),
        ("missing at a subscriber", subscriber_missing),
    ] {
        if n > 0 {
            faults.push(format!("{what}: {n}"));
        }
    }
    let error_frames: u64 = c.errors.values().sum();
    if error_frames > 0 {
        faults.push(format!("error frames: {:?}", c.errors));
    }
    Ok(StepResult {
        name: spec.name.clone(),
        offered_per_s: spec.rate,
        achieved_per_s: f(ack.samples) / spec.measure_s,
        measure_s: spec.measure_s,
        unacked,
        undelivered,
        subscriber_missing,
        drained: reports.iter().all(|r| r.drained),
        drain_s: reports.iter().map(|r| r.drain_s).fold(0.0, f64::max),
        delivery: latency("delivery")?,
        delivery_actual: latency("delivery_actual")?,
        ack,
        dashboard: latency("dashboard")?,
        send_lag: latency("send_lag")?,
        target_cpu_us_per_msg: f(cpu.target_us) / f(c.sent_measured.max(1)),
        worker_cpu_pct: if worker_wall > 0.0 {
            f(worker_cpu_us) / (worker_wall * 1e6) * 100.0
        } else {
            f64::NAN
        },
        cpu,
        target_rss_kib,
        fsyncs_per_1k: commits * 1000.0 / entries,
        entries_per_commit: entries / commits,
        server_counters,
        correct: faults.is_empty(),
        faults,
        counters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_sum_field_by_field() {
        let mut a = Counters {
            sent: 3,
            duplicates: 1,
            ..Counters::default()
        };
        a.errors.insert("not_found".into(), 2);
        let mut b = Counters {
            sent: 4,
            ..Counters::default()
        };
        b.errors.insert("not_found".into(), 1);
        b.errors.insert("forbidden".into(), 5);
        b.close_codes.insert(4009, 1);
        let s = sum_counters(&[a, b]).unwrap();
        assert_eq!(s.sent, 7);
        assert_eq!(s.duplicates, 1);
        assert_eq!(s.errors["not_found"], 3);
        assert_eq!(s.errors["forbidden"], 5);
        assert_eq!(s.close_codes[&4009], 1);
    }
}
