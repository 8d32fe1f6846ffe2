//! The coordinator's side of the worker processes: start them (pinned with `taskset` when
//! asked), hand each its plan, send every command to all of them and gather one report from
//! each.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command as Process};

use crate::chat::plan::{Command, Connected, Phase, PhaseReport, Report, Status, WorkerPlan};

/// How this program runs itself as a child (`sealdesk-bench worker` or `sealdesk bench
/// worker`).
#[derive(Debug, Clone)]
pub struct SelfExe {
    /// The executable.
    pub path: PathBuf,
    /// Arguments before the subcommand (`["bench"]` for `sealdesk bench`).
    pub prefix: Vec<String>,
}

static SELF_EXE: OnceLock<SelfExe> = OnceLock::new();

/// Records how to run this program as a child; the first call wins.
pub(crate) fn set_self_exe(exe: SelfExe) {
    let _ = SELF_EXE.set(exe);
}

/// How to run this program as a child.
pub(crate) fn self_exe() -> anyhow::Result<SelfExe> {
    if let Some(exe) = SELF_EXE.get() {
        return Ok(exe.clone());
    }
    Ok(SelfExe {
        path: std::env::current_exe().context("cannot find this executable")?,
        prefix: Vec::new(),
    })
}

/// A command line for a child: this program's `sub` with `args`, under `taskset -c cpus`
/// when pinned.
pub(crate) fn child(sub: &str, args: &[String], cpus: Option<&str>) -> anyhow::Result<Process> {
    let exe = self_exe()?;
    let mut cmd = match cpus {
        Some(cpus) => {
            let mut c = Process::new("taskset");
            c.arg("-c").arg(cpus).arg(&exe.path);
            c
        }
        None => Process::new(&exe.path),
    };
    cmd.args(&exe.prefix).arg(sub).args(args);
    cmd.kill_on_drop(true);
    Ok(cmd)
}

struct Proc {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    pid: u32,
}

/// The running workers.
pub(crate) struct Workers {
    procs: Vec<Proc>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("pids", &self.pids())
            .finish()
    }
}

impl Workers {
    /// Starts one worker per plan.
    pub(crate) async fn start(plans: Vec<WorkerPlan>, cpus: Option<&str>) -> anyhow::Result<Self> {
        let mut procs = Vec::new();
        for plan in plans {
            let mut cmd = child("worker", &[], cpus)?;
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            let mut child = cmd.spawn().context("cannot start a worker")?;
            let pid = child.id().context("a worker exited at once")?;
            let mut stdin = child.stdin.take().context("no worker stdin")?;
            let stdout = child.stdout.take().context("no worker stdout")?;
            let mut line = serde_json::to_string(&plan)?;
            line.push('\n');
            stdin.write_all(line.as_bytes()).await?;
            let mut proc = Proc {
                child,
                stdin,
                lines: BufReader::new(stdout).lines(),
                pid,
            };
            match next_report(&mut proc, Duration::from_mins(1)).await? {
                Report::Started { .. } => {}
                other => bail!("worker did not start: {other:?}"),
            }
            procs.push(proc);
        }
        Ok(Self { procs })
    }

    /// The workers' process ids.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(|p| p.pid).collect()
    }

    async fn all(&mut self, command: &Command, timeout: Duration) -> anyhow::Result<Vec<Report>> {
        let mut line = serde_json::to_string(command)?;
        line.push('\n');
        for p in &mut self.procs {
            p.stdin
                .write_all(line.as_bytes())
                .await
                .context("a worker stopped reading")?;
        }
        let mut out = Vec::new();
        for p in &mut self.procs {
            out.push(next_report(p, timeout).await?);
        }
        Ok(out)
    }

    /// Connects every worker's connections.
    pub(crate) async fn connect(&mut self, concurrency: usize) -> anyhow::Result<Vec<Connected>> {
        let reports = self
            .all(&Command::Connect { concurrency }, Duration::from_mins(10))
            .await?;
        reports
            .into_iter()
            .map(|r| match r {
                Report::Connected(c) => Ok(c),
                other => bail!("expected a connect report, got {other:?}"),
            })
            .collect()
    }

    /// Runs a phase on every worker.
    pub(crate) async fn run(&mut self, phase: &Phase) -> anyhow::Result<Vec<PhaseReport>> {
        let secs = phase.end_ns.saturating_sub(crate::chat::mono::now_ns()) / 1_000_000_000;
        let timeout = Duration::from_secs(secs + phase.drain_ms / 1000 + 120);
        let reports = self.all(&Command::Run(phase.clone()), timeout).await?;
        reports
            .into_iter()
            .map(|r| match r {
                Report::Phase(p) => Ok(*p),
                other => bail!("expected a phase report, got {other:?}"),
            })
            .collect()
    }

    /// Asks every worker for its status.
    pub(crate) async fn status(&mut self) -> anyhow::Result<Vec<Status>> {
        let reports = self.all(&Command::Status, Duration::from_mins(1)).await?;
        reports
            .into_iter()
            .map(|r| match r {
                Report::Status(s) => Ok(s),
                other => bail!("expected a status report, got {other:?}"),
            })
            .collect()
    }

    /// Closes every connection and waits for the workers to exit.
    pub(crate) async fn close(mut self) -> anyhow::Result<()> {
        let _ = self.all(&Command::Close, Duration::from_mins(1)).await;
        for p in &mut self.procs {
            if tokio::time::timeout(Duration::from_secs(10), p.child.wait())
                .await
                .is_err()
            {
                let _ = p.child.kill().await;
            }
        }
        Ok(())
    }
}

async fn next_report(p: &mut Proc, timeout: Duration) -> anyhow::Result<Report> {
    let line = tokio::time::timeout(timeout, p.lines.next_line())
        .await
        .with_context(|| format!("worker {} did not answer within {timeout:?}", p.pid))?
        .context("cannot read a worker's report")?
        .with_context(|| format!("worker {} exited", p.pid))?;
    let report: Report = serde_json::from_str(&line).with_context(|| {
        format!(
            "bad worker report: {}",
            line.chars().take(200).collect::<String>()
        )
    })?;
    if let Report::Failed { error } = &report {
        bail!("worker {} failed: {error}", p.pid);
    }
    Ok(report)
}
