//! Scenario S1, idle connections: ramp to as many authenticated, subscribed connections as
//! one server process holds (19,000: the 20,000-descriptor cap), hold them while heartbeats
//! run, and measure the server's memory per connection, the kernel's, idle CPU and the
//! connect rate; the null relay does the same in the same invocation.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use crate::chat::report::{self, Metric, metric, progress};
use crate::chat::session::{self, ConnectSummary, Placement, Setup};
use crate::chat::sys::{self, Cpu, Snap, SockStat};
use crate::chat::target::{System, Topology};
use crate::metrics::Goal;
use crate::procfs::{Environment, status_value};
use crate::report::num;
use crate::stats::f;

/// `s1`.
#[derive(Debug, Clone, Args, Serialize)]
pub(crate) struct S1Args {
    /// The `sealdesk` binary to measure (build it with `--release`).
    #[arg(long, value_name = "PATH")]
    pub(crate) sealdesk: PathBuf,
    /// Repetitions per system.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(crate) runs: u32,
    /// Result file [default: bench/results/<UTC date>/s1.json].
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Connections (half visitors, half agents; one conversation per pair).
    #[arg(long, default_value_t = 19_000)]
    pub(crate) connections: usize,
    /// Seconds to hold the connections idle (heartbeats run every 25 s).
    #[arg(long, default_value_t = 300.0)]
    pub(crate) hold_secs: f64,
    /// Seconds to let the system settle before and after the ramp.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) settle_secs: f64,
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
    /// Before each run, wait until other processes use at most this much CPU (% of one
    /// core, over 5 s): runs should not start in the middle of someone else's build.
    #[arg(long, default_value_t = 15.0)]
    pub(crate) quiet_pct: f64,
    /// Longest wait for a quiet machine before a run, seconds (it then runs anyway, marked).
    #[arg(long, default_value_t = 900.0)]
    pub(crate) quiet_wait_secs: f64,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
}

/// One run of one system.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct S1Run {
    /// Which system.
    pub(crate) system: System,
    /// 1-based run number.
    pub(crate) run: u32,
    /// Seconds spent provisioning.
    pub(crate) provision_s: f64,
    /// The ramp.
    pub(crate) connect: ConnectSummary,
    /// System RSS before the ramp (provisioned, settled), KiB.
    pub(crate) rss_before_kib: u64,
    /// System RSS after the ramp, settled, KiB.
    pub(crate) rss_after_ramp_kib: u64,
    /// System RSS at the end of the hold, KiB.
    pub(crate) rss_after_hold_kib: u64,
    /// Highest system RSS seen during the hold, KiB.
    pub(crate) rss_peak_hold_kib: u64,
    /// System `VmHWM` at the end, KiB.
    pub(crate) hwm_kib: u64,
    /// Kernel slab before and after the hold, KiB.
    pub(crate) slab_before_kib: u64,
    /// Kernel slab at the end of the hold, KiB.
    pub(crate) slab_after_kib: u64,
    /// TCP sockets and socket pages before.
    pub(crate) sockstat_before: SockStat,
    /// After the hold.
    pub(crate) sockstat_after: SockStat,
    /// CPU during the ramp (connect, authenticate, subscribe).
    pub(crate) ramp_cpu: Cpu,
    /// CPU during the hold.
    pub(crate) hold_cpu: Cpu,
    /// Connections still open at the end of the hold.
    pub(crate) open_after_hold: u64,
    /// Connections the system closed.
    pub(crate) closed_by_system: u64,
    /// Generator RSS after the hold, KiB (all workers).
    pub(crate) generator_rss_kib: u64,
    /// The system exited cleanly.
    pub(crate) exit_clean: bool,
    /// How busy the machine was before the run.
    pub(crate) quiet: sys::Quiet,
}

impl S1Run {
    fn conns(&self) -> f64 {
        f(self.connect.ok.max(1))
    }
    fn rss_per_conn(&self) -> f64 {
        f(self.rss_after_hold_kib.saturating_sub(self.rss_before_kib)) * 1024.0 / self.conns()
    }
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    scenario: &'static str,
    description: &'static str,
    environment: &'a Environment,
    cpu_placement: &'static str,
    parameters: &'a S1Args,
    summary: Vec<report::Row>,
    runs: &'a [S1Run],
}

/// Runs S1.
pub(crate) async fn run(args: S1Args) -> anyhow::Result<()> {
    let sealdesk = std::fs::canonicalize(&args.sealdesk)
        .with_context(|| format!("no sealdesk binary at {}", args.sealdesk.display()))?;
    anyhow::ensure!(args.connections >= 2, "at least 2 connections");
    let placement = if args.pin {
        Placement::Pinned
    } else {
        Placement::Shared
    };
    if args.pin {
        sys::pin_self("1")?;
    }
    let env = Environment::collect(&sealdesk.to_string_lossy());
    let out = report::out_path(args.out.as_deref(), &env.started_utc, "s1");
    let topology = Topology {
        convs: args.connections / 2,
        dashboards: 0,
        per_dashboard: 1,
        mls: false,
    };
    let mut runs = Vec::new();
    for i in 1..=args.runs {
        for system in args.systems.clone() {
            let quiet = sys::wait_quiet(args.quiet_pct, args.quiet_wait_secs).await?;
            progress(&format!("S1 run {i}/{} on {}", args.runs, system.label()));
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
    let summary = report::rows(&metrics(), &runs, |r| r.system);
    let output = Output {
        scenario: "S1",
        description: "Idle connections: authenticated and subscribed, held while heartbeats run",
        environment: &env,
        cpu_placement: placement.describe(),
        parameters: &args,
        summary: summary.clone(),
        runs: &runs,
    };
    report::write_json(&out, &output)?;
    let mut text = format!(
        "### S1: {} idle connections held {} s\n\n- date (UTC): {}; commit: {}; CPU: {}\n\n",
        args.connections,
        num(args.hold_secs),
        env.started_utc,
        env.git_commit.as_deref().unwrap_or("unknown"),
        placement.describe()
    );
    text.push_str(&report::table(&summary));
    let _ = writeln!(text, "\nraw results: {}", out.display());
    report::print(&text)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

async fn one_run(
    args: &S1Args,
    system: System,
    run: u32,
    setup: &Setup<'_>,
) -> anyhow::Result<S1Run> {
    // Start and provision first; the baseline is read before the ramp.
    let mut session = session::open_without_connecting(system, setup).await?;
    let result = measure(args, system, run, &mut session).await;
    let clean = session.close().await;
    let mut r = result?;
    r.exit_clean = clean?;
    Ok(r)
}

async fn measure(
    args: &S1Args,
    system: System,
    run: u32,
    session: &mut session::Session,
) -> anyhow::Result<S1Run> {
    let pid = session.target.pid;
    tokio::time::sleep(secs(args.settle_secs)).await;
    let rss_before_kib = status_value(pid, "VmRSS")?;
    let slab_before_kib = sys::meminfo_kib("Slab")?;
    let sockstat_before = sys::sockstat()?;
    progress(&format!("  ramp to {} connections", session.planned()));
    // CPU per connection survives a disturbed machine better than the rate does.
    let ramp_start = Snap::take(pid, &session.workers.pids())?;
    session.connect(args.connect_concurrency).await?;
    let ramp_cpu = ramp_start.until(&Snap::take(pid, &session.workers.pids())?);
    let connect = session.connect.clone();
    progress(&format!(
        "  {} connected ({} failed) in {} s: {}/s",
        connect.ok,
        connect.failed,
        num(connect.ramp_s),
        num(connect.per_s)
    ));
    tokio::time::sleep(secs(args.settle_secs)).await;
    let rss_after_ramp_kib = status_value(pid, "VmRSS")?;
    progress(&format!("  holding for {} s", num(args.hold_secs)));
    let pids = session.workers.pids();
    let start = Snap::take(pid, &pids)?;
    let deadline = tokio::time::Instant::now() + secs(args.hold_secs);
    let mut rss_peak_hold_kib = rss_after_ramp_kib;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(5).min(deadline - tokio::time::Instant::now()))
            .await;
        rss_peak_hold_kib = rss_peak_hold_kib.max(status_value(pid, "VmRSS")?);
    }
    let hold_cpu = start.until(&Snap::take(pid, &pids)?);
    let rss_after_hold_kib = status_value(pid, "VmRSS")?;
    let statuses = session.workers.status().await?;
    Ok(S1Run {
        system,
        run,
        provision_s: session.target.provision_s,
        connect,
        rss_before_kib,
        rss_after_ramp_kib,
        rss_after_hold_kib,
        rss_peak_hold_kib,
        hwm_kib: status_value(pid, "VmHWM")?,
        slab_before_kib,
        slab_after_kib: sys::meminfo_kib("Slab")?,
        sockstat_before,
        sockstat_after: sys::sockstat()?,
        ramp_cpu,
        hold_cpu,
        open_after_hold: statuses.iter().map(|s| s.open).sum(),
        closed_by_system: statuses.iter().map(|s| s.closed_by_server).sum(),
        generator_rss_kib: statuses.iter().map(|s| s.rss_kib).sum(),
        exit_clean: false,
        quiet: sys::Quiet::default(),
    })
}

fn metrics() -> Vec<Metric<S1Run>> {
    vec![
        metric(
            "connected",
            "connections authenticated and subscribed",
            "",
            true,
            None,
            |r: &S1Run| f(r.connect.ok),
        ),
        metric(
            "open_after_hold",
            "still open after the hold",
            "",
            true,
            None,
            |r: &S1Run| f(r.open_after_hold),
        ),
        metric(
            "rss_per_conn",
            "system RSS per connection (after hold − before ramp)",
            "KiB",
            false,
            Some(Goal::AtMost(10.0)),
            |r: &S1Run| r.rss_per_conn() / 1024.0,
        ),
        metric(
            "rss_per_conn_ramp",
            "system RSS per connection right after the ramp",
            "KiB",
            false,
            None,
            |r: &S1Run| f(r.rss_after_ramp_kib.saturating_sub(r.rss_before_kib)) / r.conns(),
        ),
        metric(
            "rss_before",
            "system RSS before the ramp",
            "MB",
            false,
            None,
            |r: &S1Run| f(r.rss_before_kib) * 1024.0 / 1e6,
        ),
        metric(
            "rss_after",
            "system RSS after the hold",
            "MB",
            false,
            None,
            |r: &S1Run| f(r.rss_after_hold_kib) * 1024.0 / 1e6,
        ),
        metric("hwm", "system VmHWM", "MB", false, None, |r: &S1Run| {
            f(r.hwm_kib) * 1024.0 / 1e6
        }),
    ]
    .into_iter()
    .chain(resource_metrics())
    .collect()
}

fn resource_metrics() -> Vec<Metric<S1Run>> {
    vec![
        metric(
            "slab_per_conn",
            "kernel slab per connection (both ends, loopback)",
            "KiB",
            false,
            None,
            |r: &S1Run| f(r.slab_after_kib.saturating_sub(r.slab_before_kib)) / r.conns(),
        ),
        metric(
            "tcp_pages_per_conn",
            "TCP buffer pages per connection (sockstat mem)",
            "",
            false,
            None,
            |r: &S1Run| {
                f(r.sockstat_after
                    .mem_pages
                    .saturating_sub(r.sockstat_before.mem_pages))
                    / r.conns()
            },
        ),
        metric(
            "idle_cpu",
            "system CPU while idle",
            "% of a core",
            false,
            Some(Goal::AtMost(2.0)),
            |r: &S1Run| r.hold_cpu.target_pct(),
        ),
        metric(
            "connect_rate",
            "connect + auth + subscribe rate",
            "/s",
            true,
            Some(Goal::AtLeast(3000.0)),
            |r: &S1Run| r.connect.per_s,
        ),
        metric(
            "connect_cpu",
            "system CPU per connection (connect + auth + subscribe)",
            "µs",
            false,
            None,
            |r: &S1Run| f(r.ramp_cpu.target_us) / r.conns(),
        ),
        metric(
            "ramp_s",
            "time to all connections",
            "s",
            false,
            None,
            |r: &S1Run| r.connect.ramp_s,
        ),
        metric(
            "setup_p99",
            "setup p99 per connection",
            "ms",
            false,
            None,
            |r: &S1Run| r.connect.setup.p99_ms,
        ),
        metric(
            "gen_bytes",
            "generator memory per connection",
            "KiB",
            false,
            None,
            |r: &S1Run| r.connect.generator_bytes_per_conn / 1024.0,
        ),
        metric(
            "gen_cpu",
            "generator CPU while idle",
            "% of a core",
            false,
            None,
            |r: &S1Run| r.hold_cpu.generator_pct(),
        ),
        metric(
            "quiet",
            "other processes' CPU just before the run",
            "% of a core",
            false,
            None,
            |r: &S1Run| r.quiet.other_pct,
        ),
        metric(
            "other_cpu",
            "other processes' CPU while idle",
            "% of a core",
            false,
            None,
            |r: &S1Run| r.hold_cpu.other_pct(),
        ),
    ]
}
