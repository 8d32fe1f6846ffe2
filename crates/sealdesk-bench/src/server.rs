//! The server under test as a child process: provisioning through the admin CLI on a fresh
//! data directory, `sealdesk serve` on a free loopback port, readiness, and SIGTERM.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use sealdesk_proto::TenantId;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, Command};

/// The one staff account every login uses (successful logins are not throttled).
#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// Its tenant.
    pub(crate) tenant: TenantId,
    /// Login e-mail.
    pub(crate) email: String,
    /// Password (long and random-looking, so the strength check accepts it).
    pub(crate) password: String,
}

/// A `sealdesk` command isolated from the caller's Sealdesk settings, quiet logs.
fn sealdesk(bin: &Path, cwd: &Path) -> Command {
    sealdesk_on(bin, cwd, None)
}

/// The same, under `taskset -c cpus` when `cpus` is given.
fn sealdesk_on(bin: &Path, cwd: &Path, cpus: Option<&str>) -> Command {
    let mut cmd = match cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpus).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    cmd.current_dir(cwd);
    for (key, _) in std::env::vars() {
        if key.starts_with("SEALDESK_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("SEALDESK_LOG__FILTER", "warn");
    cmd.kill_on_drop(true);
    cmd
}

/// Runs `sealdesk admin --data-dir DATA ARGS… --json` with `stdin` and parses stdout.
pub(crate) async fn admin(
    bin: &Path,
    cwd: &Path,
    data: &Path,
    args: &[&str],
    stdin: &str,
) -> anyhow::Result<serde_json::Value> {
    let mut cmd = sealdesk(bin, cwd);
    cmd.arg("admin")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .arg("--json");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    let mut input = child.stdin.take().context("no stdin pipe")?;
    input
        .write_all(stdin.as_bytes())
        .await
        .context("cannot write the admin command's stdin")?;
    drop(input);
    let out = tokio::time::timeout(Duration::from_mins(2), child.wait_with_output())
        .await
        .context("admin command timed out")??;
    if !out.status.success() {
        bail!(
            "sealdesk admin {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "admin output is not JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Creates a tenant without a second-factor requirement and one agent with a password.
pub(crate) async fn provision(
    bin: &Path,
    cwd: &Path,
    data: &Path,
    password: &str,
) -> anyhow::Result<Account> {
    let tenant = admin(
        bin,
        cwd,
        data,
        &[
            "tenant",
            "create",
            "--name",
            "Bench",
            "--domain",
            "bench.localhost",
            "--no-require-2fa",
        ],
        "",
    )
    .await?;
    let tenant_id = tenant["id"]
        .as_str()
        .context("tenant create printed no id")?;
    let email = "agent@bench.localhost";
    let stdin = format!("{password}\n");
    admin(
        bin,
        cwd,
        data,
        &[
            "staff",
            "create",
            "--tenant",
            tenant_id,
            "--email",
            email,
            "--role",
            "agent",
            "--password-stdin",
        ],
        &stdin,
    )
    .await?;
    Ok(Account {
        tenant: tenant_id
            .parse()
            .map_err(|e| anyhow::anyhow!("bad tenant id {tenant_id:?}: {e}"))?,
        email: email.to_owned(),
        password: password.to_owned(),
    })
}

/// A running `sealdesk serve`.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    /// Its process id.
    pub(crate) pid: u32,
    /// Base URL, `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// `http://127.0.0.1:PORT/metrics`, when metrics are on.
    pub(crate) metrics_url: Option<String>,
    log: PathBuf,
}

/// How to start the server.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServeOptions {
    /// Serve Prometheus metrics on an OS-chosen loopback port.
    pub(crate) metrics: bool,
    /// Pin the server to these CPUs (`taskset -c`).
    pub(crate) cpus: Option<String>,
    /// Extra environment (configuration overrides such as `SEALDESK_CHAT__…`).
    pub(crate) env: Vec<(String, String)>,
}

impl Server {
    /// Starts `sealdesk serve` on an OS-chosen loopback port and waits for its address line.
    pub(crate) async fn start(bin: &Path, cwd: &Path, data: &Path) -> anyhow::Result<Self> {
        Self::start_with(bin, cwd, data, &ServeOptions::default()).await
    }

    /// [`start`](Self::start) with options.
    pub(crate) async fn start_with(
        bin: &Path,
        cwd: &Path,
        data: &Path,
        options: &ServeOptions,
    ) -> anyhow::Result<Self> {
        let log = cwd.join("serve.stderr.log");
        let stderr = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut cmd = sealdesk_on(bin, cwd, options.cpus.as_deref());
        cmd.envs(options.env.iter().map(|(k, v)| (k, v)));
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data)
            .args(["--listen", "127.0.0.1:0"]);
        if options.metrics {
            cmd.args(["--metrics-listen", "127.0.0.1:0"]);
        } else {
            cmd.arg("--no-metrics");
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {} serve", bin.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let find = async {
            // Bounded: the address is among the first few lines.
            for _ in 0..100 {
                let Some(line) = lines.next_line().await? else {
                    break;
                };
                if let Some(rest) = line.split(" listening on ").nth(1) {
                    return Ok::<_, std::io::Error>(Some(rest.trim().to_owned()));
                }
            }
            Ok(None)
        };
        let url = tokio::time::timeout(Duration::from_mins(1), find)
            .await
            .context("no address printed within 60 s")??;
        let Some(url) = url else {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            bail!("sealdesk serve printed no address; stderr: {}", tail.trim());
        };
        if !url.starts_with("http://127.0.0.1:") {
            bail!("unexpected listen address {url}");
        }
        // The metrics address is printed right after the listen address.
        let metrics_url = if options.metrics {
            let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
                .await
                .context("no metrics address printed")??
                .unwrap_or_default();
            Some(
                line.strip_prefix("metrics on ")
                    .with_context(|| format!("expected the metrics address, got {line:?}"))?
                    .trim()
                    .to_owned(),
            )
        } else {
            None
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            pid,
            url,
            metrics_url,
            log,
        })
    }

    /// Polls `GET /readyz` through the typed client until it answers ready (at most 30 s).
    pub(crate) async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = sealdesk_client::Client::new(&self.url)?;
        let mut last = String::new();
        for _ in 0..300 {
            match client.readyz().await {
                Ok(_) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("server not ready after 30 s: {last}")
    }

    /// Sends SIGTERM and waits (at most 30 s, then SIGKILL). Returns whether it exited cleanly.
    pub(crate) async fn stop(mut self) -> anyhow::Result<bool> {
        let pid = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .context("bad server pid")?;
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .context("cannot send SIGTERM to the server")?;
        if let Ok(status) = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            return Ok(status.context("cannot wait for the server")?.success());
        }
        self.child.kill().await.context("cannot kill the server")?;
        let tail = std::fs::read_to_string(&self.log).unwrap_or_default();
        bail!(
            "server ignored SIGTERM for 30 s and was killed; stderr: {}",
            tail.trim()
        )
    }
}
