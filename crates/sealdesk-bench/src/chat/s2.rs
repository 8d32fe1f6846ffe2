//! Scenario S2, live-chat steady state: 5,000 conversations (a visitor and an agent
//! connection each) plus 100 supervisor dashboards watching 50 conversations each; both
//! parties send Poisson messages (1,000/s in total) and typing indicators (2× that). Each run
//! measures our server and the null relay in turn (A-B-A-B); every null relay run first
//! checks that the generator sustains twice the rate. `--smoke` is the short CI version.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use crate::chat::report::{self, Metric, metric, progress};
use crate::chat::session::{self, ConnectSummary, Placement, Setup};
use crate::chat::step::{self, StepResult, StepSpec};
use crate::chat::target::{System, Topology};
use crate::metrics::Goal;
use crate::procfs::Environment;
use crate::stats::f;

/// `s2`.
#[derive(Debug, Clone, Args, Serialize)]
pub(crate) struct S2Args {
    /// The `sealdesk` binary to measure (build it with `--release`).
    #[arg(long, value_name = "PATH")]
    pub(crate) sealdesk: PathBuf,
    /// Repetitions per system; the summary shows the median with min–max.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(crate) runs: u32,
    /// Result file [default: bench/results/<UTC date>/s2.json, s2-smoke.json with --smoke].
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Conversations (two connections each).
    #[arg(long, default_value_t = 5000)]
    pub(crate) conversations: usize,
    /// Supervisor dashboards.
    #[arg(long, default_value_t = 100)]
    pub(crate) dashboards: usize,
    /// Conversations per dashboard.
    #[arg(long, default_value_t = 50)]
    pub(crate) per_dashboard: usize,
    /// Offered messages per second (Poisson, all conversations together).
    #[arg(long, default_value_t = 1000.0)]
    pub(crate) rate: f64,
    /// Typing indicators per message.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) typing_ratio: f64,
    /// Warm-up seconds before the measured window.
    #[arg(long, default_value_t = 15.0)]
    pub(crate) warmup_secs: f64,
    /// Measured seconds.
    #[arg(long, default_value_t = 60.0)]
    pub(crate) measure_secs: f64,
    /// Measured seconds of the generator check at twice the rate (on the null relay; 0: none).
    #[arg(long, default_value_t = 15.0)]
    pub(crate) calibration_secs: f64,
    /// Systems, measured in this order in every run.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [System::NullRelay, System::Ours])]
    pub(crate) systems: Vec<System>,
    /// Pin the system to cpu0 and the generator to cpu1.
    #[arg(long)]
    pub(crate) pin: bool,
    /// Worker processes [default: one per 10,000 connections].
    #[arg(long)]
    pub(crate) workers: Option<usize>,
    /// Connections being set up at once per worker.
    #[arg(long, default_value_t = 256)]
    pub(crate) connect_concurrency: usize,
    /// Seconds to wait for every ack and delivery after the schedule ends.
    #[arg(long, default_value_t = 30)]
    pub(crate) drain_secs: u64,
    /// The CI smoke version: 1,000 conversations (2,000 connections), no dashboards, 200
    /// msgs/s, 5 s warm-up, 20 s measured, our server only, one run; fails if anything is lost
    /// or a delivery stalls (p99 above 1 s). Explicit flags after it are ignored.
    #[arg(long)]
    pub(crate) smoke: bool,
    /// Before each run, wait until other processes use at most this much CPU (% of one
    /// core, over 5 s): runs should not start in the middle of someone else's build.
    #[arg(long, default_value_t = 15.0)]
    pub(crate) quiet_pct: f64,
    /// Longest wait for a quiet machine before a run, seconds (it then runs anyway, marked).
    #[arg(long, default_value_t = 900.0)]
    pub(crate) quiet_wait_secs: f64,
    /// Seed of the schedules.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    /// The encrypted path: every conversation starts an MLS group (a real `GroupInfo`, which
    /// the server then follows) and every message is framed as that group's application
    /// message, which the server validates. Kept with `--smoke`.
    #[arg(long)]
    pub(crate) mls: bool,
}

impl S2Args {
    fn apply_smoke(&mut self) {
        if self.smoke {
            self.conversations = 1000;
            self.dashboards = 0;
            self.rate = 200.0;
            self.warmup_secs = 5.0;
            self.measure_secs = 20.0;
            self.calibration_secs = 0.0;
            self.systems = vec![System::Ours];
            self.runs = 1;
        }
    }
}

/// One run of one system.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct S2Run {
    /// Which system.
    pub(crate) system: System,
    /// 1-based run number.
    pub(crate) run: u32,
    /// Seconds spent provisioning conversations.
    pub(crate) provision_s: f64,
    /// The connect ramp.
    pub(crate) connect: ConnectSummary,
    /// The generator check at twice the rate (null relay runs).
    pub(crate) calibration: Option<StepResult>,
    /// Whether the check passed.
    pub(crate) generator_ok: Option<bool>,
    /// The measured step.
    pub(crate) step: StepResult,
    /// Generator messages in the server's history and duplicate ids among them (ours).
    pub(crate) history: Option<(u64, u64)>,
    /// The system exited cleanly.
    pub(crate) exit_clean: bool,
    /// How busy the machine was before the run.
    pub(crate) quiet: crate::chat::sys::Quiet,
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    scenario: &'static str,
    description: &'static str,
    environment: &'a Environment,
    cpu_placement: &'static str,
    parameters: &'a S2Args,
    summary: Vec<report::Row>,
    runs: &'a [S2Run],
}

/// Whether a calibration step shows a generator able to carry it.
pub(crate) fn generator_ok(cal: &StepResult) -> bool {
    cal.correct
        && cal.achieved_per_s >= 0.97 * cal.offered_per_s
        && cal.send_lag.p99_ms <= 5.0
        && cal.worker_cpu_pct <= 100.0
}

/// Runs S2 (or the smoke version); the smoke version fails unless it meets its gate.
pub(crate) async fn run(mut args: S2Args) -> anyhow::Result<()> {
    args.apply_smoke();
    let sealdesk = std::fs::canonicalize(&args.sealdesk)
        .with_context(|| format!("no sealdesk binary at {}", args.sealdesk.display()))?;
    anyhow::ensure!(
        args.rate > 0.0 && args.rate <= 200_000.0,
        "rate must be in (0, 200000]"
    );
    anyhow::ensure!(
        args.dashboards * args.per_dashboard <= args.conversations,
        "more dashboard seats than conversations"
    );
    let placement = if args.pin {
        Placement::Pinned
    } else {
        Placement::Shared
    };
    if args.pin {
        crate::chat::sys::pin_self("1")?;
    }
    let env = Environment::collect(&sealdesk.to_string_lossy());
    let name = if args.smoke { "s2-smoke" } else { "s2" };
    let out = report::out_path(args.out.as_deref(), &env.started_utc, name);
    let topology = Topology {
        convs: args.conversations,
        dashboards: args.dashboards,
        per_dashboard: args.per_dashboard,
        mls: args.mls,
    };
    let mut runs = Vec::new();
    for i in 1..=args.runs {
        for system in args.systems.clone() {
            let quiet = crate::chat::sys::wait_quiet(args.quiet_pct, args.quiet_wait_secs).await?;
            progress(&format!("S2 run {i}/{} on {}", args.runs, system.label()));
            let setup = Setup {
                sealdesk: &sealdesk,
                topology,
                workers: args.workers,
                placement,
                concurrency: args.connect_concurrency,
                seed: args.seed + u64::from(i),
            };
            let mut run = one_run(&args, system, i, &setup)
                .await
                .with_context(|| format!("run {i} on {}", system.label()))?;
            run.quiet = quiet;
            runs.push(run);
        }
    }
    let summary = report::rows(&metrics(&args), &runs, |r| r.system);
    let output = Output {
        scenario: if args.smoke { "S2-smoke" } else { "S2" },
        description: "Live-chat steady state: Poisson messages and typing between visitor and agent connections, dashboards watching",
        environment: &env,
        cpu_placement: placement.describe(),
        parameters: &args,
        summary: summary.clone(),
        runs: &runs,
    };
    report::write_json(&out, &output)?;
    let mut text = format!(
        "### S2{}{}: {} conversations, {} dashboards, {} msgs/s, typing {}×\n\n- date (UTC): {}; commit: {}; CPU: {}\n\n",
        if args.smoke { " smoke" } else { "" },
        if args.mls { " (MLS groups)" } else { "" },
        args.conversations,
        args.dashboards,
        crate::report::num(args.rate),
        crate::report::num(args.typing_ratio),
        env.started_utc,
        env.git_commit.as_deref().unwrap_or("unknown"),
        placement.describe()
    );
    text.push_str(&report::table(&summary));
    let _ = writeln!(text, "\nraw results: {}", out.display());
    report::print(&text)?;
    if args.smoke {
        let failed: Vec<String> = runs
            .iter()
            .filter(|r| !smoke_ok(r))
            .map(|r| {
                format!(
                    "p99 {} ms, faults {:?}",
                    r.step.delivery.p99_ms, r.step.faults
                )
            })
            .collect();
        anyhow::ensure!(failed.is_empty(), "S2 smoke gate missed: {failed:?}");
    }
    Ok(())
}

/// The smoke gate's latency bound: a stall, not a target. The smoke runs in CI next to the
/// rest of the test suite on two cores, where latency says nothing; the latency target is
/// the benchmark's (docs/performance.md, run on a quiet machine).
pub(crate) const SMOKE_STALL_MS: f64 = 1000.0;

/// The smoke gate: nothing lost, every acknowledged message in the history, no delivery
/// stalled beyond [`SMOKE_STALL_MS`] at p99.
pub(crate) fn smoke_ok(r: &S2Run) -> bool {
    r.step.correct
        && r.step.delivery.p99_ms <= SMOKE_STALL_MS
        && r.step.delivery.samples > 0
        && r.history
            .is_none_or(|(found, dups)| dups == 0 && found == r.step.counters.acked)
}

async fn one_run(
    args: &S2Args,
    system: System,
    run: u32,
    setup: &Setup<'_>,
) -> anyhow::Result<S2Run> {
    let mut session = session::open(system, setup).await?;
    let result = measure(args, system, run, &mut session).await;
    let clean = session.close().await;
    let mut r = result?;
    r.exit_clean = clean?;
    Ok(r)
}

async fn measure(
    args: &S2Args,
    system: System,
    run: u32,
    session: &mut session::Session,
) -> anyhow::Result<S2Run> {
    let total_convs = args.conversations as u64;
    let spec = |name: &str, rate: f64, warmup_s: f64, measure_s: f64, seed: u64| StepSpec {
        name: name.to_owned(),
        rate,
        warmup_s,
        measure_s,
        typing_ratio: args.typing_ratio,
        seed,
        drain_ms: args.drain_secs * 1000,
        total_convs,
    };
    let seed = args.seed.wrapping_mul(1000) + u64::from(run);
    let calibration = if system == System::NullRelay && args.calibration_secs > 0.0 {
        progress(&format!("  generator check at {}/s", args.rate * 2.0));
        let cal = spec(
            "calibration",
            args.rate * 2.0,
            3.0,
            args.calibration_secs,
            seed + 500,
        );
        Some(step::run(&mut session.workers, &session.target, &cal).await?)
    } else {
        None
    };
    progress(&format!(
        "  {}/s: {} s warm-up, {} s measured",
        args.rate, args.warmup_secs, args.measure_secs
    ));
    let main = spec(
        "steady",
        args.rate,
        args.warmup_secs,
        args.measure_secs,
        seed,
    );
    let step = step::run(&mut session.workers, &session.target, &main).await?;
    let history = session.target.history().await?;
    // The acked count covers the calibration step too when there is one (null relay only,
    // which has no history), so comparing against the measured step alone is exact here.
    if let Some((found, dups)) = history
        && (found != step.counters.acked || dups > 0)
    {
        progress(&format!(
            "  history check failed: {found} generator entries for {} acks, {dups} duplicate ids",
            step.counters.acked
        ));
    }
    Ok(S2Run {
        system,
        run,
        provision_s: session.target.provision_s,
        connect: session.connect.clone(),
        generator_ok: calibration.as_ref().map(generator_ok),
        calibration,
        step,
        history,
        exit_clean: false,
        quiet: crate::chat::sys::Quiet::default(),
    })
}

fn metrics(args: &S2Args) -> Vec<Metric<S2Run>> {
    let smoke = args.smoke;
    let p99_goal = if smoke { 50.0 } else { 10.0 };
    vec![
        metric(
            "achieved",
            "achieved msgs/s (acked, measured window)",
            "/s",
            true,
            None,
            |r: &S2Run| r.step.achieved_per_s,
        ),
        metric(
            "p50",
            "delivery p50 (intended send → other party)",
            "ms",
            false,
            (!smoke).then_some(Goal::AtMost(2.0)),
            |r: &S2Run| r.step.delivery.p50_ms,
        ),
        metric("p90", "delivery p90", "ms", false, None, |r: &S2Run| {
            r.step.delivery.p90_ms
        }),
        metric(
            "p99",
            "delivery p99",
            "ms",
            false,
            Some(Goal::AtMost(p99_goal)),
            |r: &S2Run| r.step.delivery.p99_ms,
        ),
        metric(
            "p999",
            "delivery p99.9",
            "ms",
            false,
            (!smoke).then_some(Goal::AtMost(50.0)),
            |r: &S2Run| r.step.delivery.p999_ms,
        ),
        metric("max", "delivery max", "ms", false, None, |r: &S2Run| {
            r.step.delivery.max_ms
        }),
        metric(
            "actual_p99",
            "delivery p99 from the actual send",
            "ms",
            false,
            None,
            |r: &S2Run| r.step.delivery_actual.p99_ms,
        ),
        metric(
            "ack_p99",
            "ack p99 (intended send → ack)",
            "ms",
            false,
            None,
            |r: &S2Run| r.step.ack.p99_ms,
        ),
        metric(
            "dash_p99",
            "dashboard delivery p99",
            "ms",
            false,
            None,
            |r: &S2Run| {
                if r.step.dashboard.samples == 0 {
                    f64::NAN
                } else {
                    r.step.dashboard.p99_ms
                }
            },
        ),
        metric(
            "samples",
            "delivery samples",
            "",
            true,
            None,
            |r: &S2Run| f(r.step.delivery.samples),
        ),
    ]
    .into_iter()
    .chain(resource_metrics(args))
    .collect()
}

fn resource_metrics(args: &S2Args) -> Vec<Metric<S2Run>> {
    let smoke = args.smoke;
    vec![
        metric(
            "cpu_per_msg",
            "system CPU per inbound message (typing included)",
            "µs",
            false,
            (!smoke).then_some(Goal::AtMost(100.0)),
            |r: &S2Run| r.step.target_cpu_us_per_msg,
        ),
        metric(
            "cpu_pct",
            "system CPU",
            "% of a core",
            false,
            None,
            |r: &S2Run| r.step.cpu.target_pct(),
        ),
        metric(
            "fsyncs",
            "commits (fsyncs) per 1,000 messages",
            "",
            false,
            None,
            |r: &S2Run| r.step.fsyncs_per_1k,
        ),
        metric(
            "rss",
            "system RSS at the end of the window",
            "MB",
            false,
            None,
            |r: &S2Run| f(r.step.target_rss_kib) * 1024.0 / 1e6,
        ),
        metric(
            "loss",
            "lost + unacked + missing at a subscriber",
            "",
            false,
            Some(Goal::AtMost(0.0)),
            |r: &S2Run| f(r.step.undelivered + r.step.unacked + r.step.subscriber_missing),
        ),
        metric(
            "dups",
            "duplicates + reordered + seq gaps",
            "",
            false,
            Some(Goal::AtMost(0.0)),
            |r: &S2Run| {
                let c = &r.step.counters;
                f(c.duplicates + c.reordered + c.seq_gaps + c.seq_repeats)
            },
        ),
        metric(
            "typing",
            "typing indicators received per sent",
            "",
            true,
            None,
            |r: &S2Run| f(r.step.counters.typing_received) / f(r.step.counters.typing_sent.max(1)),
        ),
        metric(
            "send_lag",
            "generator send lag p99",
            "ms",
            false,
            None,
            |r: &S2Run| r.step.send_lag.p99_ms,
        ),
        metric(
            "gen_cpu",
            "generator CPU (workers)",
            "% of a core",
            false,
            None,
            |r: &S2Run| r.step.worker_cpu_pct,
        ),
        metric(
            "other_cpu",
            "other processes' CPU",
            "% of a core",
            false,
            None,
            |r: &S2Run| r.step.cpu.other_pct(),
        ),
        metric(
            "quiet",
            "other processes' CPU just before the run",
            "% of a core",
            false,
            None,
            |r: &S2Run| r.quiet.other_pct,
        ),
        metric(
            "connect",
            "connect + auth + subscribe rate",
            "/s",
            true,
            None,
            |r: &S2Run| r.connect.per_s,
        ),
    ]
}
