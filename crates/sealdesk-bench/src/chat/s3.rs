//! Scenario S3, persisted-message saturation: the S2 topology with the offered rate raised in
//! steps until p99 delivery exceeds 50 ms or a message is lost (or the generator falls
//! behind); the last step that held is the maximum sustainable rate. Coarse steps first
//! (×1.5 by default), then 10 % steps from the last rate that held. Pinned by default:
//! system on cpu0, generator on cpu1. The null relay runs the same ladder in the same
//! invocation: its maximum is the ceiling, and ≥ 2× ours shows the generator was not the
//! limit.

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
use crate::report::num;
use crate::stats::f;

/// `s3`.
#[derive(Debug, Clone, Args, Serialize)]
pub(crate) struct S3Args {
    /// The `sealdesk` binary to measure (build it with `--release`).
    #[arg(long, value_name = "PATH")]
    pub(crate) sealdesk: PathBuf,
    /// Repetitions per system.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(crate) runs: u32,
    /// Result file [default: bench/results/<UTC date>/s3.json].
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
    /// First offered rate, msgs/s.
    #[arg(long, default_value_t = 1000.0)]
    pub(crate) start_rate: f64,
    /// Rate factor of the coarse steps (until the first failure).
    #[arg(long, default_value_t = 1.5)]
    pub(crate) coarse_factor: f64,
    /// Rate factor of the fine steps (from the last rate that held).
    #[arg(long, default_value_t = 1.1)]
    pub(crate) step_factor: f64,
    /// Highest rate tried.
    #[arg(long, default_value_t = 200_000.0)]
    pub(crate) max_rate: f64,
    /// Warm-up seconds per step.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) warmup_secs: f64,
    /// Measured seconds per step.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) step_secs: f64,
    /// Typing indicators per message.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) typing_ratio: f64,
    /// A step holds while its delivery p99 is at most this.
    #[arg(long, default_value_t = 50.0)]
    pub(crate) p99_limit_ms: f64,
    /// Systems, measured in this order in every run.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [System::NullRelay, System::Ours])]
    pub(crate) systems: Vec<System>,
    /// Do not pin (shared CPU mode).
    #[arg(long)]
    pub(crate) shared: bool,
    /// Worker processes [default: one per 10,000 connections].
    #[arg(long)]
    pub(crate) workers: Option<usize>,
    /// Connections being set up at once per worker.
    #[arg(long, default_value_t = 256)]
    pub(crate) connect_concurrency: usize,
    /// Seconds to wait for every ack and delivery after each step.
    #[arg(long, default_value_t = 20)]
    pub(crate) drain_secs: u64,
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
}

/// One run of one system.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct S3Run {
    /// Which system.
    pub(crate) system: System,
    /// 1-based run number.
    pub(crate) run: u32,
    /// The connect ramp.
    pub(crate) connect: ConnectSummary,
    /// Every step, in order.
    pub(crate) steps: Vec<StepResult>,
    /// Why each step held or not.
    pub(crate) verdicts: Vec<String>,
    /// Achieved rate of the highest step that held (0 if none).
    pub(crate) max_sustainable: f64,
    /// Offered rate of that step.
    pub(crate) max_offered: f64,
    /// The step after it (the first that failed), if any.
    pub(crate) first_failure: Option<String>,
    /// The system exited cleanly.
    pub(crate) exit_clean: bool,
    /// How busy the machine was before the run.
    pub(crate) quiet: crate::chat::sys::Quiet,
}

impl S3Run {
    fn best(&self) -> Option<&StepResult> {
        self.steps
            .iter()
            .zip(&self.verdicts)
            .filter(|(_, v)| v.as_str() == "held")
            .map(|(s, _)| s)
            .max_by(|a, b| a.offered_per_s.total_cmp(&b.offered_per_s))
    }
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    scenario: &'static str,
    description: &'static str,
    environment: &'a Environment,
    cpu_placement: &'static str,
    parameters: &'a S3Args,
    summary: Vec<report::Row>,
    runs: &'a [S3Run],
}

/// Why a step does not hold, or `"held"`.
fn verdict(s: &StepResult, p99_limit_ms: f64) -> String {
    if !s.correct {
        return format!("incorrect: {}", s.faults.join(", "));
    }
    if s.delivery.samples == 0 {
        return "no samples".to_owned();
    }
    if s.delivery.p99_ms > p99_limit_ms {
        return format!(
            "p99 {} ms > {} ms",
            num(s.delivery.p99_ms),
            num(p99_limit_ms)
        );
    }
    if s.achieved_per_s < 0.95 * s.offered_per_s {
        return format!(
            "achieved {} of {} offered",
            num(s.achieved_per_s),
            num(s.offered_per_s)
        );
    }
    "held".to_owned()
}

/// Runs S3.
pub(crate) async fn run(args: S3Args) -> anyhow::Result<()> {
    let sealdesk = std::fs::canonicalize(&args.sealdesk)
        .with_context(|| format!("no sealdesk binary at {}", args.sealdesk.display()))?;
    anyhow::ensure!(
        args.start_rate > 0.0 && args.coarse_factor > 1.0 && args.step_factor > 1.0,
        "rates must grow"
    );
    let placement = if args.shared {
        Placement::Shared
    } else {
        Placement::Pinned
    };
    if !args.shared {
        crate::chat::sys::pin_self("1")?;
    }
    let env = Environment::collect(&sealdesk.to_string_lossy());
    let out = report::out_path(args.out.as_deref(), &env.started_utc, "s3");
    let topology = Topology {
        convs: args.conversations,
        dashboards: args.dashboards,
        per_dashboard: args.per_dashboard,
        mls: false,
    };
    let mut runs = Vec::new();
    for i in 1..=args.runs {
        for system in args.systems.clone() {
            let quiet = crate::chat::sys::wait_quiet(args.quiet_pct, args.quiet_wait_secs).await?;
            progress(&format!("S3 run {i}/{} on {}", args.runs, system.label()));
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
        scenario: "S3",
        description: "Persisted-message saturation: the S2 topology, offered rate raised until p99 > limit or loss",
        environment: &env,
        cpu_placement: placement.describe(),
        parameters: &args,
        summary: summary.clone(),
        runs: &runs,
    };
    report::write_json(&out, &output)?;
    let mut text = format!(
        "### S3: {} conversations, {} dashboards, typing {}×, steps of {} s (+{} s warm-up)\n\n- date (UTC): {}; commit: {}; CPU: {}\n\n",
        args.conversations,
        args.dashboards,
        num(args.typing_ratio),
        num(args.step_secs),
        num(args.warmup_secs),
        env.started_utc,
        env.git_commit.as_deref().unwrap_or("unknown"),
        placement.describe()
    );
    text.push_str(&report::table(&summary));
    text.push_str("\nsteps (offered → achieved /s, p50/p99 ms, CPU µs/msg, verdict):\n");
    for r in &runs {
        let _ = write!(text, "- {} run {}:", r.system.label(), r.run);
        for (s, v) in r.steps.iter().zip(&r.verdicts) {
            let _ = write!(
                text,
                " [{} → {}, {}/{}, {} µs, {v}]",
                num(s.offered_per_s),
                num(s.achieved_per_s),
                num(s.delivery.p50_ms),
                num(s.delivery.p99_ms),
                num(s.target_cpu_us_per_msg)
            );
        }
        text.push('\n');
    }
    let _ = writeln!(text, "\nraw results: {}", out.display());
    report::print(&text)
}

async fn one_run(
    args: &S3Args,
    system: System,
    run: u32,
    setup: &Setup<'_>,
) -> anyhow::Result<S3Run> {
    let mut session = session::open(system, setup).await?;
    let result = ladder(args, system, run, &mut session).await;
    let clean = session.close().await;
    let mut r = result?;
    r.exit_clean = clean?;
    Ok(r)
}

async fn ladder(
    args: &S3Args,
    system: System,
    run: u32,
    session: &mut session::Session,
) -> anyhow::Result<S3Run> {
    let mut steps = Vec::new();
    let mut verdicts = Vec::new();
    let mut rate = args.start_rate;
    let mut factor = args.coarse_factor;
    let mut last_good: Option<f64> = None;
    let mut first_failure = None;
    let mut retried = false;
    // Bounded: the rate grows by at least 10 % per step up to `max_rate`, and the fine phase
    // ends at its first failure.
    for i in 0..100u64 {
        if rate > args.max_rate {
            break;
        }
        crate::chat::sys::wait_quiet(args.quiet_pct, args.quiet_wait_secs).await?;
        progress(&format!("  step {}: {}/s", i + 1, num(rate)));
        let spec = StepSpec {
            name: format!("{}/s", num(rate)),
            rate,
            warmup_s: args.warmup_secs,
            measure_s: args.step_secs,
            typing_ratio: args.typing_ratio,
            seed: args.seed.wrapping_mul(1000) + u64::from(run) * 100 + i,
            drain_ms: args.drain_secs * 1000,
            total_convs: args.conversations as u64,
        };
        let result = step::run(&mut session.workers, &session.target, &spec).await?;
        let v = verdict(&result, args.p99_limit_ms);
        progress(&format!(
            "    achieved {}/s, p99 {} ms, {} µs/msg: {v}",
            num(result.achieved_per_s),
            num(result.delivery.p99_ms),
            num(result.target_cpu_us_per_msg)
        ));
        let held = v == "held";
        // A failure while other processes took the CPU says nothing about the system: run the
        // same rate again once the machine is quiet.
        let disturbed = result.cpu.other_pct() > 2.0 * args.quiet_pct;
        let retry = !held && disturbed && !retried;
        steps.push(result);
        verdicts.push(if retry {
            format!("{v} (disturbed: retried)")
        } else {
            v.clone()
        });
        if retry {
            retried = true;
            continue;
        }
        retried = false;
        if held {
            last_good = Some(rate);
            rate *= factor;
            continue;
        }
        // Loss or errors end the ladder: later steps would start from a broken state.
        let broken = v.starts_with("incorrect");
        if factor > args.step_factor && !broken {
            // Refine from the last rate that held.
            factor = args.step_factor;
            if let Some(good) = last_good {
                rate = good * factor;
                continue;
            }
            first_failure = Some(v);
            break;
        }
        first_failure = Some(v);
        break;
    }
    let mut r = S3Run {
        system,
        run,
        connect: session.connect.clone(),
        steps,
        verdicts,
        max_sustainable: 0.0,
        max_offered: 0.0,
        first_failure,
        exit_clean: false,
        quiet: crate::chat::sys::Quiet::default(),
    };
    if let Some(best) = r.best() {
        let (a, o) = (best.achieved_per_s, best.offered_per_s);
        r.max_sustainable = a;
        r.max_offered = o;
    }
    Ok(r)
}

fn at_best(r: &S3Run, get: impl Fn(&StepResult) -> f64) -> f64 {
    r.best().map_or(f64::NAN, get)
}

fn metrics(args: &S3Args) -> Vec<Metric<S3Run>> {
    let limit = args.p99_limit_ms;
    vec![
        metric(
            "max",
            format!("max sustainable msgs/s (p99 ≤ {} ms, no loss)", num(limit)),
            "/s",
            true,
            Some(Goal::AtLeast(10_000.0)),
            |r: &S3Run| r.max_sustainable,
        ),
        metric(
            "max_offered",
            "offered rate of that step",
            "/s",
            true,
            None,
            |r: &S3Run| r.max_offered,
        ),
        metric("p50", "p50 at that step", "ms", false, None, |r: &S3Run| {
            at_best(r, |s| s.delivery.p50_ms)
        }),
        metric("p99", "p99 at that step", "ms", false, None, |r: &S3Run| {
            at_best(r, |s| s.delivery.p99_ms)
        }),
        metric(
            "cpu",
            "system CPU per message at that step",
            "µs",
            false,
            None,
            |r: &S3Run| at_best(r, |s| s.target_cpu_us_per_msg),
        ),
        metric(
            "cpu_pct",
            "system CPU at that step",
            "% of a core",
            false,
            None,
            |r: &S3Run| at_best(r, |s| s.cpu.target_pct()),
        ),
        metric(
            "fsyncs",
            "commits (fsyncs) per 1,000 messages at that step",
            "",
            false,
            None,
            |r: &S3Run| at_best(r, |s| s.fsyncs_per_1k),
        ),
        metric(
            "gen_cpu",
            "generator CPU at that step",
            "% of a core",
            false,
            None,
            |r: &S3Run| at_best(r, |s| s.worker_cpu_pct),
        ),
        metric(
            "send_lag",
            "generator send lag p99 at that step",
            "ms",
            false,
            None,
            |r: &S3Run| at_best(r, |s| s.send_lag.p99_ms),
        ),
        metric(
            "other",
            "other processes' CPU at that step",
            "% of a core",
            false,
            None,
            |r: &S3Run| at_best(r, |s| s.cpu.other_pct()),
        ),
        metric("steps", "steps run", "", false, None, |r: &S3Run| {
            f(r.steps.len() as u64)
        }),
    ]
}
