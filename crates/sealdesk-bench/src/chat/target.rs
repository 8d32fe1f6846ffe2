//! The system under test for one run: our server (fresh data directory, provisioned through
//! the admin CLI and HTTP) or the null relay, each a child process whose CPU and memory are
//! read from `/proc`; and the split of its conversations into worker plans.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Child;

use crate::chat::coord;
use crate::chat::plan::{PlanConv, PlanDashboard, WorkerPlan};
use crate::chat::provision::{self, PER_AGENT, Provisioned};
use crate::server::{ServeOptions, Server};
use crate::stats::SplitMix;

/// Settings the server runs with in every chat scenario: the generator is thousands of
/// clients on 127.0.0.x, so the per-address abuse limits (tickets per minute, connections)
/// would refuse it, the burst of new visitors would switch on the proof-of-work challenge,
/// and a connection's frame budget (20/s by default) is raised above any Poisson burst.
/// The limiters still run, so their cost is measured.
pub(crate) const SERVER_ENV: [(&str, &str); 3] = [
    ("SEALDESK_CHAT__LIMITS_EXEMPT", "127.0.0.0/8"),
    ("SEALDESK_CHAT__NEW_VISITORS_PER_MINUTE", "10000000"),
    ("SEALDESK_CHAT__MESSAGES_PER_SECOND", "1000"),
];

/// Which system a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum System {
    /// `sealdesk serve` with SQLite.
    Ours,
    /// The null relay (no persistence, no access checks).
    NullRelay,
}

impl System {
    /// Name for tables.
    pub(crate) fn label(self) -> &'static str {
        match self {
            System::Ours => "ours",
            System::NullRelay => "null relay",
        }
    }
}

/// Conversations and dashboards of a run.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Topology {
    /// Conversations (two connections each: visitor and agent).
    pub(crate) convs: usize,
    /// Supervisor dashboards.
    pub(crate) dashboards: usize,
    /// Conversations each dashboard watches.
    pub(crate) per_dashboard: usize,
    /// Conversations run MLS groups: each starts with a real `GroupInfo`, and messages are
    /// framed as the group's application messages (see `payload`).
    pub(crate) mls: bool,
}

impl Topology {
    /// Connections in total.
    pub(crate) fn connections(&self) -> usize {
        self.convs * 2 + self.dashboards
    }
}

/// A started system with its conversations.
#[derive(Debug)]
pub(crate) struct Target {
    /// Its process id (the one whose CPU and memory are measured).
    pub(crate) pid: u32,
    /// Its address.
    pub(crate) addr: SocketAddr,
    /// Its metrics endpoint (ours).
    pub(crate) metrics_url: Option<String>,
    /// Conversation id, visitor ticket, agent index.
    pub(crate) convs: Vec<(uuid::Uuid, String, u32)>,
    /// Agent tokens.
    pub(crate) agent_tokens: Vec<String>,
    /// Dashboard token.
    pub(crate) dashboard_token: String,
    /// What provisioning made (ours).
    pub(crate) provisioned: Option<Provisioned>,
    /// Seconds spent provisioning conversations (0 for the null relay).
    pub(crate) provision_s: f64,
    server: Option<Server>,
    relay: Option<Child>,
    dir: tempfile::TempDir,
}

impl Target {
    /// Starts `system` and makes `topology.convs` conversations.
    pub(crate) async fn start(
        system: System,
        sealdesk: &Path,
        topology: &Topology,
        cpus: Option<&str>,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        match system {
            System::Ours => Self::start_ours(sealdesk, topology, cpus, dir).await,
            System::NullRelay => Self::start_relay(topology, cpus, seed, dir).await,
        }
    }

    async fn start_ours(
        sealdesk: &Path,
        topology: &Topology,
        cpus: Option<&str>,
        dir: tempfile::TempDir,
    ) -> anyhow::Result<Self> {
        let data = dir.path().join("data");
        let agents = topology.convs.div_ceil(PER_AGENT).max(1);
        let desk = provision::desk(sealdesk, dir.path(), &data, agents).await?;
        let options = ServeOptions {
            metrics: true,
            cpus: cpus.map(str::to_owned),
            env: SERVER_ENV
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let server = Server::start_with(sealdesk, dir.path(), &data, &options).await?;
        server.wait_ready().await?;
        let addr: SocketAddr = server
            .url
            .trim_start_matches("http://")
            .parse()
            .context("bad server address")?;
        let p =
            provision::conversations(&server.url, &desk, topology.convs, 64, topology.mls).await?;
        Ok(Self {
            pid: server.pid,
            addr,
            metrics_url: server.metrics_url.clone(),
            convs: p.convs.clone(),
            agent_tokens: p.agent_tokens.clone(),
            dashboard_token: p.supervisor_token.clone(),
            provision_s: p.secs,
            provisioned: Some(p),
            server: Some(server),
            relay: None,
            dir,
        })
    }

    async fn start_relay(
        topology: &Topology,
        cpus: Option<&str>,
        seed: u64,
        dir: tempfile::TempDir,
    ) -> anyhow::Result<Self> {
        let log = std::fs::File::create(dir.path().join("relay.stderr.log"))?;
        let mut cmd = coord::child(
            "null-relay",
            &["--listen".into(), "127.0.0.1:0".into()],
            cpus,
        )?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = cmd.spawn().context("cannot start the null relay")?;
        let pid = child.id().context("the null relay exited at once")?;
        let stdout = child.stdout.take().context("no relay stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("the null relay printed no address")??
            .unwrap_or_default();
        let Some(url) = line.strip_prefix("null relay listening on http://") else {
            bail!("unexpected null relay output {line:?}");
        };
        let addr: SocketAddr = url.trim().parse().context("bad relay address")?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let mut rng = SplitMix::new(seed ^ 0x00c0_ffee);
        let convs = (0..topology.convs)
            .map(|i| {
                let id = uuid::Builder::from_random_bytes(
                    [rng.next_u64().to_le_bytes(), rng.next_u64().to_le_bytes()]
                        .concat()
                        .try_into()
                        .unwrap_or([0; 16]),
                )
                .into_uuid();
                (
                    id,
                    format!("sd_vt_null{i}"),
                    u32::try_from(i / PER_AGENT).unwrap_or(0),
                )
            })
            .collect();
        let agents = topology.convs.div_ceil(PER_AGENT).max(1);
        Ok(Self {
            pid,
            addr,
            metrics_url: None,
            convs,
            agent_tokens: (0..agents).map(|i| format!("sd_null_agent{i}")).collect(),
            dashboard_token: "sd_null_supervisor".into(),
            provisioned: None,
            provision_s: 0.0,
            server: None,
            relay: Some(child),
            dir,
        })
    }

    /// Splits the conversations over `workers` plans, each dashboard with its conversations.
    pub(crate) fn plans(&self, workers: usize, topology: &Topology) -> Vec<WorkerPlan> {
        let workers = workers.max(1);
        let per = topology.per_dashboard.max(1);
        let chunk = self.convs.len().div_ceil(workers).div_ceil(per) * per;
        let mut plans = Vec::new();
        for (w, convs) in self.convs.chunks(chunk.max(1)).enumerate() {
            let base = w * chunk;
            let dashboards = (0..topology.dashboards)
                .filter(|d| d * per >= base && d * per < base + convs.len())
                .map(|d| PlanDashboard {
                    first: u32::try_from(d * per - base).unwrap_or(0),
                    count: u32::try_from(per.min(base + convs.len() - d * per)).unwrap_or(0),
                })
                .collect();
            let worker = u16::try_from(w).unwrap_or(u16::MAX);
            plans.push(WorkerPlan {
                worker,
                server: self.addr,
                local_ip: Ipv4Addr::new(
                    127,
                    0,
                    0,
                    2u8.saturating_add(u8::try_from(w).unwrap_or(250)),
                ),
                convs: convs
                    .iter()
                    .enumerate()
                    .map(|(i, (id, ticket, agent))| PlanConv {
                        id: *id,
                        ticket: ticket.clone(),
                        agent: *agent,
                        global: (base + i) as u64,
                    })
                    .collect(),
                agent_tokens: self.agent_tokens.clone(),
                dashboards,
                dashboard_token: Some(self.dashboard_token.clone()),
                mls: topology.mls,
            });
        }
        plans
    }

    /// Generator messages in our server's history: `(entries, duplicates)`; `None` for the
    /// null relay, which keeps nothing.
    pub(crate) async fn history(&self) -> anyhow::Result<Option<(u64, u64)>> {
        match (&self.server, &self.provisioned) {
            (Some(server), Some(p)) => {
                Ok(Some(provision::count_history(&server.url, p, 32).await?))
            }
            _ => Ok(None),
        }
    }

    /// Stops the process (SIGTERM); returns whether it exited cleanly.
    pub(crate) async fn stop(mut self) -> anyhow::Result<bool> {
        if let Some(server) = self.server.take() {
            return server.stop().await;
        }
        let Some(mut relay) = self.relay.take() else {
            return Ok(true);
        };
        let pid = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .context("bad relay pid")?;
        rustix::process::kill_process(pid, rustix::process::Signal::TERM)
            .context("cannot stop the null relay")?;
        let status = tokio::time::timeout(Duration::from_secs(30), relay.wait())
            .await
            .context("the null relay ignored SIGTERM")??;
        let log =
            std::fs::read_to_string(self.dir.path().join("relay.stderr.log")).unwrap_or_default();
        if log.contains("frames dropped") && !log.contains(": 0 frames dropped") {
            bail!("the null relay dropped frames: {}", log.trim());
        }
        Ok(status.success())
    }
}
