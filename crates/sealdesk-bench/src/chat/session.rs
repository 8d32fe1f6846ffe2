//! One run's setup shared by the chat scenarios: start the system, split its conversations
//! over worker processes (pinned to CPU 1 in pinned mode, the system to CPU 0), connect every
//! connection, and summarise the ramp.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::bail;
use serde::Serialize;

use crate::chat::coord::Workers;
use crate::chat::hist;
use crate::chat::plan::Connected;
use crate::chat::report::progress;
use crate::chat::target::{System, Target, Topology};
use crate::stats::{Latency, f};

/// Most connections per worker process by default: well below the 20,000 descriptors a
/// process may hold here, and below the 28,232 ephemeral ports of one source address.
pub(crate) const CONNS_PER_WORKER: usize = 10_000;
/// The hard ceiling per worker (PERFORMANCE.md: ≤ 19 k per generator process).
pub(crate) const MAX_CONNS_PER_WORKER: usize = 19_000;

/// CPU placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Placement {
    /// No pinning.
    Shared,
    /// System on CPU 0, generator on CPU 1.
    Pinned,
}

impl Placement {
    /// CPUs of the system under test.
    pub(crate) fn target_cpus(self) -> Option<&'static str> {
        match self {
            Placement::Shared => None,
            Placement::Pinned => Some("0"),
        }
    }
    /// CPUs of the generator.
    pub(crate) fn generator_cpus(self) -> Option<&'static str> {
        match self {
            Placement::Shared => None,
            Placement::Pinned => Some("1"),
        }
    }
    /// Text for reports.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Placement::Shared => "shared (no pinning)",
            Placement::Pinned => "pinned: system under test on cpu0, generator on cpu1",
        }
    }
}

/// How the connect ramp went.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConnectSummary {
    /// Connections planned.
    pub(crate) planned: u64,
    /// Authenticated and subscribed.
    pub(crate) ok: u64,
    /// Failed.
    pub(crate) failed: u64,
    /// Failure messages with counts.
    pub(crate) failures: BTreeMap<String, u64>,
    /// First start to last finish, s.
    pub(crate) ramp_s: f64,
    /// Connections per second over the ramp.
    pub(crate) per_s: f64,
    /// Connect + upgrade + auth + subscribe per connection.
    pub(crate) setup: Latency,
    /// Worker memory growth per connection, bytes.
    pub(crate) generator_bytes_per_conn: f64,
}

fn summarise(planned: u64, reports: &[Connected]) -> anyhow::Result<ConnectSummary> {
    let mut setup = crate::stats::histogram()?;
    let mut failures = BTreeMap::new();
    for r in reports {
        hist::merge(&mut setup, &r.setup_hist)?;
        for (k, v) in &r.failures {
            *failures.entry(k.clone()).or_default() += v;
        }
    }
    let ok: u64 = reports.iter().map(|r| r.ok).sum();
    let start = reports.iter().map(|r| r.started_ns).min().unwrap_or(0);
    let end = reports.iter().map(|r| r.finished_ns).max().unwrap_or(0);
    let ramp_s = f(end.saturating_sub(start)) / 1e9;
    let grown: u64 = reports
        .iter()
        .map(|r| r.rss_kib.saturating_sub(r.rss_before_kib))
        .sum();
    Ok(ConnectSummary {
        planned,
        ok,
        failed: reports.iter().map(|r| r.failed).sum(),
        failures,
        ramp_s,
        per_s: if ramp_s > 0.0 {
            f(ok) / ramp_s
        } else {
            f64::NAN
        },
        setup: Latency::of(&setup)?,
        generator_bytes_per_conn: f(grown) * 1024.0 / f(ok.max(1)),
    })
}

/// A started system with connected workers.
#[derive(Debug)]
pub(crate) struct Session {
    /// The system.
    pub(crate) target: Target,
    /// The workers.
    pub(crate) workers: Workers,
    /// The connect ramp.
    pub(crate) connect: ConnectSummary,
}

/// What a session needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup<'a> {
    /// The `sealdesk` binary.
    pub(crate) sealdesk: &'a Path,
    /// Conversations and dashboards.
    pub(crate) topology: Topology,
    /// Worker processes (`None`: one per 10,000 connections).
    pub(crate) workers: Option<usize>,
    /// CPU placement.
    pub(crate) placement: Placement,
    /// Connections set up at once per worker.
    pub(crate) concurrency: usize,
    /// Seed.
    pub(crate) seed: u64,
}

/// Worker processes for `connections`.
pub(crate) fn worker_count(connections: usize, asked: Option<usize>) -> anyhow::Result<usize> {
    let n = asked.unwrap_or_else(|| connections.div_ceil(CONNS_PER_WORKER).max(1));
    if connections.div_ceil(n.max(1)) > MAX_CONNS_PER_WORKER {
        bail!(
            "{connections} connections need at least {} workers",
            connections.div_ceil(MAX_CONNS_PER_WORKER)
        );
    }
    if n > 250 {
        bail!("at most 250 workers (source addresses 127.0.0.2–127.0.0.251)");
    }
    Ok(n.max(1))
}

/// Starts `system`, its workers, and connects them. Any failed connection is an error.
pub(crate) async fn open(system: System, setup: &Setup<'_>) -> anyhow::Result<Session> {
    let mut session = open_without_connecting(system, setup).await?;
    if let Err(e) = session.connect(setup.concurrency).await {
        let _ = session.close().await;
        return Err(e);
    }
    if session.connect.failed > 0 {
        let failures = format!(
            "{} connections failed: {:?}",
            session.connect.failed, session.connect.failures
        );
        let _ = session.close().await;
        bail!(failures);
    }
    Ok(session)
}

/// Starts `system` (provisioned) and its workers, without connecting yet.
pub(crate) async fn open_without_connecting(
    system: System,
    setup: &Setup<'_>,
) -> anyhow::Result<Session> {
    let topology = setup.topology;
    progress(&format!(
        "  starting {} and provisioning {} conversations",
        system.label(),
        topology.convs
    ));
    let target = Target::start(
        system,
        setup.sealdesk,
        &topology,
        setup.placement.target_cpus(),
        setup.seed,
    )
    .await?;
    let n = match worker_count(topology.connections(), setup.workers) {
        Ok(n) => n,
        Err(e) => {
            let _ = target.stop().await;
            return Err(e);
        }
    };
    let plans = target.plans(n, &topology);
    let workers = match Workers::start(plans, setup.placement.generator_cpus()).await {
        Ok(w) => w,
        Err(e) => {
            let _ = target.stop().await;
            return Err(e);
        }
    };
    Ok(Session {
        target,
        workers,
        connect: summarise(topology.connections() as u64, &[])?,
    })
}

impl Session {
    /// Connections planned.
    pub(crate) fn planned(&self) -> u64 {
        self.connect.planned
    }

    /// Connects every worker's connections (failures are counted, not fatal).
    pub(crate) async fn connect(&mut self, concurrency: usize) -> anyhow::Result<()> {
        progress(&format!(
            "  connecting {} connections from {} workers",
            self.connect.planned,
            self.workers.pids().len()
        ));
        let reports = self.workers.connect(concurrency).await?;
        self.connect = summarise(self.connect.planned, &reports)?;
        Ok(())
    }

    /// Closes the connections and stops the system; returns whether it exited cleanly.
    pub(crate) async fn close(self) -> anyhow::Result<bool> {
        self.workers.close().await?;
        self.target.stop().await
    }
}
