//! Scenario S7, login (password) and resume (token): per run, a fresh data directory and
//! server, the Argon2id reference, open-loop login steps, a login storm and token resume;
//! then the JSON result file and a Markdown summary.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use sealdesk_proto::auth::{ClientKind, LoginRequest, Secret};
use serde::Serialize;

use crate::login::{self, LoginTarget, StepResult, StormResult};
use crate::procfs::{CpuSnapshot, CpuUse, Environment};
use crate::reference::{self, Reference};
use crate::report;
use crate::resume::{self, ResumeResult};
use crate::server::{self, Account, Server};

/// The staff password: long and unpredictable-looking, so the server's strength check passes.
const PASSWORD: &str = "quartz-Lp9wK4-orbit-7Vq2mZ-lantern-R8x";

/// `sealdesk-bench s7`.
#[derive(Debug, Clone, Args, Serialize)]
pub(crate) struct S7Args {
    /// The `sealdesk` binary to measure (build it with `--release`).
    #[arg(long, value_name = "PATH")]
    pub(crate) sealdesk: PathBuf,
    /// Repetitions; the summary shows the median with min–max.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(crate) runs: u32,
    /// Result file [default: bench/results/<UTC date>/s7.json].
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Offered login rates (per second) of the open-loop steps.
    #[arg(long, value_delimiter = ',', default_values_t = [20.0, 40.0, 60.0, 80.0])]
    pub(crate) rates: Vec<f64>,
    /// Seconds per step.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) step_secs: f64,
    /// Warm-up seconds at the first rate before the steps (not reported).
    #[arg(long, default_value_t = 3.0)]
    pub(crate) warmup_secs: f64,
    /// Simultaneous logins in the storm.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub(crate) storm: u64,
    /// Concurrent token-resume workers.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(crate) resume_workers: u64,
    /// Seconds of token resume.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) resume_secs: f64,
    /// Seconds of the Argon2id reference.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) reference_secs: f64,
    /// Threads of the Argon2id reference.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub(crate) reference_threads: u64,
    /// Seed of the Poisson schedules (each run and step derives its own from it).
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
}

/// Everything measured in one run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunResult {
    /// 1-based run number.
    pub(crate) run: u32,
    /// Raw Argon2id verification throughput, same machine, same run.
    pub(crate) reference: Reference,
    /// CPU use while the reference ran (the server idles; other processes should too).
    pub(crate) reference_cpu: CpuUse,
    /// Open-loop steps, in offered-rate order.
    pub(crate) steps: Vec<StepResult>,
    /// Highest offered rate whose p99 was ≤ 250 ms with no errors (0 if none).
    pub(crate) max_rate_within_slo: f64,
    /// The storm.
    pub(crate) storm: StormResult,
    /// Saturated login rate (storm) ÷ raw verifies per second.
    pub(crate) ratio_to_reference: f64,
    /// Token resume.
    pub(crate) resume: ResumeResult,
    /// Server `VmRSS` when ready and idle, KiB.
    pub(crate) server_idle_rss_kib: u64,
    /// The server exited 0 after SIGTERM.
    pub(crate) server_exit_clean: bool,
}

/// The result file.
#[derive(Debug, Serialize)]
struct Output<'a> {
    scenario: &'static str,
    description: &'static str,
    environment: &'a Environment,
    parameters: &'a S7Args,
    summary: Vec<report::Row>,
    runs: &'a [RunResult],
}

/// Runs the scenario `args.runs` times, writes the JSON and prints the table.
pub(crate) async fn run(args: S7Args) -> anyhow::Result<()> {
    let sealdesk = std::fs::canonicalize(&args.sealdesk)
        .with_context(|| format!("no sealdesk binary at {}", args.sealdesk.display()))?;
    anyhow::ensure!(
        !args.rates.is_empty() && args.rates.iter().all(|r| *r > 0.0 && *r <= 10_000.0),
        "rates must be in (0, 10000]"
    );
    for secs in [
        args.step_secs,
        args.warmup_secs,
        args.resume_secs,
        args.reference_secs,
    ] {
        anyhow::ensure!(
            (0.0..=3600.0).contains(&secs),
            "durations must be between 0 and 3600 s"
        );
    }
    let env = Environment::collect(&sealdesk.to_string_lossy());
    let out = args.out.clone().unwrap_or_else(|| {
        let date = env.started_utc.get(..10).unwrap_or("undated");
        PathBuf::from(format!("bench/results/{date}/s7.json"))
    });
    let mut runs = Vec::new();
    for i in 1..=args.runs {
        progress(&format!("S7 run {i}/{}", args.runs))?;
        runs.push(
            one_run(&args, &sealdesk, i)
                .await
                .with_context(|| format!("run {i}"))?,
        );
    }
    let summary = report::summarise(&runs, &args.rates);
    let output = Output {
        scenario: "S7",
        description: "Login (password, Argon2id m=19456 KiB t=2 p=1) and resume (bearer token)",
        environment: &env,
        parameters: &args,
        summary: summary.clone(),
        runs: &runs,
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let json = serde_json::to_vec_pretty(&output).context("cannot encode the results")?;
    std::fs::write(&out, json).with_context(|| format!("cannot write {}", out.display()))?;
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", report::markdown(&env, &args, &summary))?;
    writeln!(stdout, "\nraw results: {}", out.display())?;
    Ok(())
}

/// A progress line on stderr (stdout carries the table).
fn progress(msg: &str) -> anyhow::Result<()> {
    writeln!(std::io::stderr().lock(), "[sealdesk-bench] {msg}").context("cannot write to stderr")
}

async fn one_run(args: &S7Args, sealdesk: &Path, run: u32) -> anyhow::Result<RunResult> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let data = dir.path().join("data");
    let account = server::provision(sealdesk, dir.path(), &data, PASSWORD).await?;
    let server = Server::start(sealdesk, dir.path(), &data).await?;
    let measured = measure(args, &server, &account, run).await;
    let clean = server.stop().await;
    let mut result = measured?;
    result.server_exit_clean = clean?;
    Ok(result)
}

fn http_client(pool: usize, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("sealdesk-bench/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(pool)
        .timeout(timeout)
        .build()
        .context("cannot build the HTTP client")
}

async fn measure(
    args: &S7Args,
    server: &Server,
    account: &Account,
    run: u32,
) -> anyhow::Result<RunResult> {
    server.wait_ready().await?;
    let pid = server.pid;
    let server_idle_rss_kib = crate::procfs::status_value(pid, "VmRSS")?;

    progress("  Argon2id reference")?;
    let (threads, secs) = (
        usize::try_from(args.reference_threads)?,
        args.reference_secs,
    );
    let cpu0 = CpuSnapshot::take(pid)?;
    let reference = tokio::task::spawn_blocking(move || reference::measure(threads, secs))
        .await
        .context("reference task failed")??;
    let reference_cpu = cpu0.since(pid)?;

    let seed = args.seed.wrapping_add(u64::from(run) * 1000);
    let steps_http = http_client(4096, Duration::from_secs(30))?;
    let target = LoginTarget::new(steps_http, &server.url, account)?;
    if args.warmup_secs > 0.0 {
        progress("  warm-up")?;
        login::open_loop_step(&target, args.rates[0], args.warmup_secs, seed, pid).await?;
    }
    let mut steps = Vec::new();
    for (i, rate) in args.rates.iter().enumerate() {
        progress(&format!("  open loop at {rate}/s"))?;
        steps.push(
            login::open_loop_step(&target, *rate, args.step_secs, seed + 1 + i as u64, pid).await?,
        );
    }
    let max_rate_within_slo = steps
        .iter()
        .filter(|s| s.errors == 0 && s.ok > 0 && s.latency.p99_ms <= 250.0)
        .map(|s| s.offered_per_s)
        .fold(0.0, f64::max);

    progress(&format!("  storm of {}", args.storm))?;
    let storm_pool = usize::try_from(args.storm)?;
    let storm_target = LoginTarget::new(
        http_client(storm_pool, Duration::from_mins(5))?,
        &server.url,
        account,
    )?;
    let storm = login::storm(&storm_target, args.storm, pid).await?;

    progress("  token resume")?;
    let workers = usize::try_from(args.resume_workers)?;
    let resume_http = http_client(workers, Duration::from_secs(30))?;
    let token = session_token(&resume_http, &server.url, account).await?;
    let resume = resume::run(
        &resume_http,
        &server.url,
        &token,
        workers,
        args.resume_secs,
        pid,
    )
    .await?;

    Ok(RunResult {
        run,
        ratio_to_reference: storm.logins_per_s / reference.verifies_per_s,
        reference,
        reference_cpu,
        steps,
        max_rate_within_slo,
        storm,
        resume,
        server_idle_rss_kib,
        server_exit_clean: false,
    })
}

/// Logs in once through the typed client and checks the token with `GET /api/auth/session`.
async fn session_token(
    http: &reqwest::Client,
    base: &str,
    account: &Account,
) -> anyhow::Result<String> {
    let client = sealdesk_client::Client::with_http(base, http.clone())?;
    let response = client
        .login(&LoginRequest {
            tenant_id: account.tenant,
            email: account.email.clone(),
            password: Secret(account.password.clone()),
            totp: None,
            recovery_code: None,
            client: ClientKind::Cli,
        })
        .await
        .context("login for the resume token failed")?;
    let token = response.token.context("a CLI login returned no token")?;
    let session = client
        .with_token(token.clone())
        .session()
        .await
        .context("the new token does not resume")?;
    anyhow::ensure!(
        session.session_id == response.session.session_id,
        "the token resumed a different session"
    );
    Ok(token)
}
