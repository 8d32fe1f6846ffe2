//! Scenario S6, the persistence engine alone (in process, no network): appends of 200-byte
//! entries across 5,000 conversations from many tasks through the group committer, on SQLite
//! (WAL, `synchronous=FULL`, a fresh file) and on PostgreSQL when a URL is given; with a
//! same-run baseline of one commit per entry for the ratio. Runs interleave group and single
//! (A-B, then B-A) and the summary is the median with min–max.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use crate::procfs::Environment;
use crate::report::num;
use crate::s6_store::{self, Fresh, Load, Measured, Target};
use crate::stats::{Spread, spread};

/// `sealdesk-bench s6`.
#[derive(Debug, Clone, Args, Serialize)]
pub(crate) struct S6Args {
    /// Repetitions; the summary shows the median with min–max.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(crate) runs: u32,
    /// Measured appends per group-commit measurement.
    #[arg(long, default_value_t = 300_000)]
    pub(crate) entries: u64,
    /// Appends before the measurement starts (same store, not reported).
    #[arg(long, default_value_t = 20_000)]
    pub(crate) warmup: u64,
    /// Measured appends of the one-commit-per-entry baseline.
    #[arg(long, default_value_t = 5_000)]
    pub(crate) baseline_entries: u64,
    /// Conversations the appends are spread over.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub(crate) conversations: u64,
    /// Concurrent appending tasks.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub(crate) tasks: u64,
    /// Payload bytes per entry.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub(crate) payload: u64,
    /// The committer's largest batch.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub(crate) max_batch: u64,
    /// The committer's batching window in microseconds (at most 2000).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=2000))]
    pub(crate) window_us: u64,
    /// Directory for the SQLite files (must be on the disk, not tmpfs) [default: the
    /// system's temporary directory].
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
    /// Also measure PostgreSQL at this URL (a scratch schema is created and dropped per
    /// measurement).
    #[arg(long, value_name = "URL", env = "SEALDESK_BENCH_PG_URL")]
    #[serde(skip)]
    pub(crate) pg_url: Option<String>,
    /// Before each measurement, wait (up to 20 min) until other processes use less than this
    /// share of one core, in % (0: do not wait).
    #[arg(long, default_value_t = 10.0)]
    pub(crate) quiet_pct: f64,
    /// Repeat a measurement (on a fresh store) when other processes used more than this share
    /// of one core during it, in %.
    #[arg(long, default_value_t = 20.0)]
    pub(crate) max_other_pct: f64,
    /// Attempts per measurement before a disturbed one is kept (and marked as such).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(crate) attempts: u32,
    /// Skip SQLite (measure PostgreSQL only).
    #[arg(long)]
    pub(crate) no_sqlite: bool,
    /// Result file [default: bench/results/<UTC date>/s6.json].
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// One run on one backend: the group-commit measurement and its same-run baseline.
#[derive(Debug, Clone, Serialize)]
struct RunResult {
    run: u32,
    backend: &'static str,
    group: Measured,
    single: Measured,
    /// Group appends/s ÷ single-commit appends/s.
    ratio: f64,
}

/// One summary row.
#[derive(Debug, Clone, Serialize)]
struct Row {
    backend: &'static str,
    metric: &'static str,
    unit: &'static str,
    better: &'static str,
    target: Option<String>,
    #[serde(flatten)]
    spread: Spread,
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    scenario: &'static str,
    description: &'static str,
    environment: &'a Environment,
    parameters: &'a S6Args,
    postgres: bool,
    summary: Vec<Row>,
    runs: &'a [RunResult],
}

/// Runs the scenario and writes the JSON result and a Markdown table.
pub(crate) async fn run(args: S6Args) -> anyhow::Result<()> {
    let dir = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    anyhow::ensure!(
        !s6_store::on_tmpfs(&dir)?,
        "{} is on tmpfs, where fsync is free: pass --dir on a disk",
        dir.display()
    );
    let mut targets = Vec::new();
    if !args.no_sqlite {
        targets.push(Target::Sqlite(dir));
    }
    if let Some(url) = &args.pg_url {
        targets.push(Target::Postgres(url.clone()));
    }
    anyhow::ensure!(!targets.is_empty(), "nothing to measure");
    let env = Environment::collect("in-process (sealdesk-store)");
    let out = args.out.clone().unwrap_or_else(|| {
        let date = env.started_utc.get(..10).unwrap_or("undated");
        PathBuf::from(format!("bench/results/{date}/s6.json"))
    });
    let mut runs = Vec::new();
    for run in 1..=args.runs {
        for target in &targets {
            progress(&format!("S6 run {run}/{} on {}", args.runs, target.name()))?;
            runs.push(
                one_run(&args, target, run)
                    .await
                    .with_context(|| format!("run {run} on {}", target.name()))?,
            );
        }
    }
    let summary = summarise(&runs);
    let output = Output {
        scenario: "S6",
        description: "Persistence engine only: durable appends through the group committer",
        environment: &env,
        parameters: &args,
        postgres: args.pg_url.is_some(),
        summary: summary.clone(),
        runs: &runs,
    };
    if let Some(parent) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let json = serde_json::to_vec_pretty(&output).context("cannot encode the results")?;
    std::fs::write(&out, json).with_context(|| format!("cannot write {}", out.display()))?;
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", markdown(&env, &args, &summary))?;
    writeln!(stdout, "\nraw results: {}", out.display())?;
    Ok(())
}

fn progress(msg: &str) -> anyhow::Result<()> {
    writeln!(std::io::stderr().lock(), "[sealdesk-bench] {msg}").context("cannot write to stderr")
}

/// A fresh store per measurement; group first on odd runs, single first on even ones.
async fn one_run(args: &S6Args, target: &Target, run: u32) -> anyhow::Result<RunResult> {
    let load = Load {
        warmup: args.warmup,
        entries: args.entries,
        tasks: usize::try_from(args.tasks)?,
        payload: usize::try_from(args.payload)?,
        max_batch: usize::try_from(args.max_batch)?,
        window: Duration::from_micros(args.window_us),
        quiet_pct: (args.quiet_pct > 0.0).then_some(args.quiet_pct),
    };
    let single = Load {
        warmup: args.warmup.min(args.baseline_entries / 5),
        entries: args.baseline_entries,
        max_batch: 1,
        ..load
    };
    let seed = u64::from(run) * 10;
    let (group, single) = if run % 2 == 1 {
        let g = measure_fresh(args, target, load, "group", seed).await?;
        let s = measure_fresh(args, target, single, "single", seed + 1).await?;
        (g, s)
    } else {
        let s = measure_fresh(args, target, single, "single", seed + 1).await?;
        let g = measure_fresh(args, target, load, "group", seed).await?;
        (g, s)
    };
    Ok(RunResult {
        run,
        backend: target.name(),
        ratio: group.appends_per_s / single.appends_per_s,
        group,
        single,
    })
}

/// Measures on a fresh store, again (up to `args.attempts` times) while other processes
/// disturbed the measurement.
async fn measure_fresh(
    args: &S6Args,
    target: &Target,
    load: Load,
    mode: &'static str,
    seed: u64,
) -> anyhow::Result<Measured> {
    let mut attempt = 1;
    loop {
        let mut m = measure_once(args, target, load, mode, seed).await?;
        m.attempt = attempt;
        progress(&format!(
            "  {mode}: {} appends/s, ack p99 {} ms, {} per commit; other processes {} % of a core",
            num(m.appends_per_s),
            num(m.ack.p99_ms),
            num(m.entries_per_commit_mean),
            num(m.other_cpu_pct)
        ))?;
        if m.other_cpu_pct <= args.max_other_pct || attempt >= args.attempts {
            return Ok(m);
        }
        progress("  disturbed: measuring again on a fresh store")?;
        attempt += 1;
    }
}

async fn measure_once(
    args: &S6Args,
    target: &Target,
    load: Load,
    mode: &'static str,
    seed: u64,
) -> anyhow::Result<Measured> {
    let fresh = Fresh::open(target, seed).await?;
    progress(&format!(
        "  {mode}: seeding {} conversations",
        args.conversations
    ))?;
    let result = async {
        let conversations =
            s6_store::seed(&fresh.store, usize::try_from(args.conversations)?, seed).await?;
        progress(&format!(
            "  {mode}: {} + {} appends (max batch {})",
            load.warmup, load.entries, load.max_batch
        ))?;
        s6_store::measure(&fresh, &conversations, load, mode, target.name()).await
    }
    .await;
    fresh.remove().await?;
    result
}

/// A summary metric: name, unit, whether higher is better, the gate target on SQLite and on
/// PostgreSQL (PERFORMANCE.md), and how to read it from a run.
struct Metric(
    &'static str,
    &'static str,
    bool,
    [Option<&'static str>; 2],
    fn(&RunResult) -> f64,
);

#[rustfmt::skip]
fn metrics() -> Vec<Metric> {
    vec![
        Metric("durable appends/s (group commit)", "/s", true, [Some("≥ 20000"), Some("≥ 5000")], |r| r.group.appends_per_s),
        Metric("ack latency p50 (group)", "ms", false, [None, None], |r| r.group.ack.p50_ms),
        Metric("ack latency p99 (group)", "ms", false, [None, None], |r| r.group.ack.p99_ms),
        Metric("commit (transaction) p50 (group)", "ms", false, [None, None], |r| r.group.commit.p50_ms),
        Metric("commit (transaction) p99 (group)", "ms", false, [None, None], |r| r.group.commit.p99_ms),
        Metric("entries per commit, mean (group)", "", true, [None, None], |r| r.group.entries_per_commit_mean),
        Metric("commits (fsyncs) per 1,000 appends (group)", "", false, [None, None], |r| r.group.commits_per_1000),
        Metric("process CPU per append (group)", "µs", false, [None, None], |r| r.group.process_cpu_us_per_append),
        Metric("PostgreSQL's processes' CPU (group)", "% of a core", false, [None, None], |r| if r.backend == "postgres" { r.group.postgres_cpu_pct } else { f64::NAN }),
        Metric("other processes' CPU (group; disturbance)", "% of a core", false, [None, None], |r| r.group.other_cpu_pct),
        Metric("other processes' CPU (single; disturbance)", "% of a core", false, [None, None], |r| r.single.other_cpu_pct),
        Metric("attempts needed (group / single, most of the two)", "", false, [None, None], |r| f64::from(r.group.attempt.max(r.single.attempt))),
        Metric("DB growth per entry (group)", "B", false, [None, None], |r| r.group.db_bytes_per_entry.unwrap_or(f64::NAN)),
        Metric("durable appends/s (one commit per entry)", "/s", true, [None, None], |r| r.single.appends_per_s),
        Metric("single-entry commit p99", "ms", false, [Some("≤ 3"), None], |r| r.single.commit.p99_ms),
        Metric("ratio group ÷ single", "×", true, [None, None], |r| r.ratio),
    ]
}

fn summarise(runs: &[RunResult]) -> Vec<Row> {
    let mut rows = Vec::new();
    for backend in ["sqlite", "postgres"] {
        let mine: Vec<&RunResult> = runs.iter().filter(|r| r.backend == backend).collect();
        if mine.is_empty() {
            continue;
        }
        for Metric(metric, unit, higher, targets, get) in metrics() {
            let values: Vec<f64> = mine.iter().map(|r| get(r)).collect();
            if values.iter().all(|v| v.is_nan()) {
                continue;
            }
            let target = targets[usize::from(backend == "postgres")];
            rows.push(Row {
                backend,
                metric,
                unit,
                better: if higher { "higher" } else { "lower" },
                target: target.map(str::to_owned),
                spread: spread(&values),
            });
        }
    }
    rows
}

fn markdown(env: &Environment, args: &S6Args, rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "### S6: persistence engine (group commit)\n");
    let _ = writeln!(
        s,
        "- date (UTC): {}; commit: {}{}",
        env.started_utc,
        env.git_commit.as_deref().unwrap_or("unknown"),
        if env.git_worktree_dirty == Some(true) {
            " plus uncommitted changes"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "- machine: {} × {}, kernel {}",
        env.nproc,
        env.cpu_model.as_deref().unwrap_or("unknown CPU"),
        env.kernel.as_deref().unwrap_or("?")
    );
    let _ = writeln!(
        s,
        "- runs: {} (median, min–max); {} conversations, {} tasks, {} B payloads; group: {} \
         appends after {} warm-up, max batch {}, window {} µs; baseline: {} appends, one \
         commit each",
        args.runs,
        args.conversations,
        args.tasks,
        args.payload,
        args.entries,
        args.warmup,
        args.max_batch,
        args.window_us,
        args.baseline_entries
    );
    let _ = writeln!(
        s,
        "- quiet: each measurement waited for other processes to use < {} % of a core, and was \
         repeated (up to {} attempts) when they used more than {} % during it",
        num(args.quiet_pct),
        args.attempts,
        num(args.max_other_pct)
    );
    let _ = writeln!(
        s,
        "\n| Backend | Metric | Target | Median | Min–max | Better |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---|");
    for r in rows {
        let unit = if r.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", r.unit)
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {}{unit} | {}–{} | {} |",
            r.backend,
            r.metric,
            r.target.as_deref().unwrap_or("—"),
            num(r.spread.median),
            num(r.spread.min),
            num(r.spread.max),
            r.better
        );
    }
    s
}
