//! A load generator worker process (`worker`, started by the coordinator): a single-threaded
//! tokio runtime holding up to ~19 k connections bound to its own source address, one timing
//! wheel sending their messages, and the bookkeeping that checks every delivery. It reads its
//! plan and then commands from stdin and writes one JSON report per command to stdout.

mod conn;
mod send;
mod state;

use std::cell::{Cell, RefCell};
use std::io::Write as _;
use std::net::SocketAddrV4;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use self::conn::{Conn, Credential, Spec};
pub(crate) use self::state::Seat;
use self::state::State;
use crate::chat::hist;
use crate::chat::mono::now_ns;
use crate::chat::payload::Role;
use crate::chat::plan::{Command, Connected, Phase, PhaseReport, Report, Status, WorkerPlan};
use crate::procfs::{CLOCK_TICKS_PER_SEC, cpu_ticks, status_value};
use crate::stats::SplitMix;

/// Size of the one read buffer every connection of the worker shares.
const SCRATCH: usize = 64 * 1024;

/// The worker: its plan, connections and bookkeeping, shared by its tasks on one thread.
#[derive(Debug)]
pub(crate) struct Worker {
    plan: WorkerPlan,
    conns: RefCell<Vec<Rc<Conn>>>,
    state: RefCell<State>,
    scratch: RefCell<Vec<u8>>,
    next_msg: Cell<u64>,
}

impl Worker {
    fn new(plan: WorkerPlan) -> anyhow::Result<Self> {
        let ids: Vec<uuid::Uuid> = plan.convs.iter().map(|c| c.id).collect();
        Ok(Self {
            state: RefCell::new(State::new(&ids)?),
            conns: RefCell::new(Vec::new()),
            scratch: RefCell::new(vec![0; SCRATCH]),
            next_msg: Cell::new(u64::from(plan.worker) << 48),
            plan,
        })
    }

    fn next_msg_id(&self) -> u64 {
        let id = self.next_msg.get() + 1;
        self.next_msg.set(id);
        id
    }

    fn conv_id(&self, conv: u32) -> uuid::Uuid {
        self.plan
            .convs
            .get(conv as usize)
            .map_or_else(uuid::Uuid::nil, |c| c.id)
    }

    /// The connection of `who` in conversation `conv`.
    fn conn_of(&self, conv: u32, who: Role) -> Option<Rc<Conn>> {
        let index = self.state.borrow().convs.get(conv as usize)?.conns[who.index()]?;
        self.conns.borrow().get(index).cloned()
    }

    /// Adds a set-up connection and records its seat in its conversations.
    fn register(&self, conn: &Rc<Conn>, spec: &Spec) -> usize {
        let mut conns = self.conns.borrow_mut();
        let index = conns.len();
        conns.push(Rc::clone(conn));
        let seat = match spec.seat {
            Seat::Visitor => 0,
            Seat::Agent => 1,
            Seat::Dashboard => 2,
        };
        let mut state = self.state.borrow_mut();
        for c in &spec.convs {
            if let Some(conv) = state.convs.get_mut(*c as usize) {
                conv.conns[seat] = Some(index);
            }
        }
        index
    }

    /// Every connection of the plan: visitor and agent interleaved, then dashboards.
    fn specs(&self) -> Vec<Spec> {
        let plan = &self.plan;
        let mut specs = Vec::with_capacity(plan.convs.len() * 2 + plan.dashboards.len());
        for (i, c) in plan.convs.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            specs.push(Spec {
                seat: Seat::Visitor,
                convs: vec![i],
                credential: Credential::Ticket(c.ticket.clone()),
            });
            let token = plan
                .agent_tokens
                .get(c.agent as usize)
                .cloned()
                .unwrap_or_default();
            specs.push(Spec {
                seat: Seat::Agent,
                convs: vec![i],
                credential: Credential::Bearer(token),
            });
        }
        if let Some(token) = &plan.dashboard_token {
            for d in &plan.dashboards {
                specs.push(Spec {
                    seat: Seat::Dashboard,
                    convs: (d.first..d.first + d.count).collect(),
                    credential: Credential::Bearer(token.clone()),
                });
            }
        }
        specs
    }

    async fn connect_all(self: &Rc<Self>, concurrency: usize) -> anyhow::Result<Connected> {
        let rss_before_kib = status_value(std::process::id(), "VmRSS")?;
        let local = SocketAddrV4::new(self.plan.local_ip, 0);
        let server = self.plan.server;
        let mut rng = SplitMix::new(now_ns() ^ u64::from(self.plan.worker));
        let jobs: Vec<(Spec, [u8; 16], u32)> = self
            .specs()
            .into_iter()
            .map(|spec| {
                let mut key = [0u8; 16];
                key[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
                key[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
                #[allow(clippy::cast_possible_truncation)] // any 32 bits will do
                let mask = rng.next_u64() as u32;
                (spec, key, mask)
            })
            .collect();
        let started_ns = now_ns();
        let results: Vec<(Result<usize, String>, u64)> = futures_util::stream::iter(jobs)
            .map(|(spec, key, mask)| {
                let worker = Rc::clone(self);
                async move {
                    let t0 = now_ns();
                    let r = conn::setup(&worker, local, server, &spec, key, mask).await;
                    (r, now_ns() - t0)
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let finished_ns = now_ns();
        let mut setup = crate::stats::histogram()?;
        let mut out = Connected {
            worker: self.plan.worker,
            started_ns,
            finished_ns,
            rss_before_kib,
            ..Connected::default()
        };
        for (r, ns) in results {
            match r {
                Ok(_) => {
                    out.ok += 1;
                    crate::stats::record(&mut setup, Duration::from_nanos(ns));
                }
                Err(e) => {
                    out.failed += 1;
                    if out.failures.len() < 16 || out.failures.contains_key(&e) {
                        *out.failures.entry(e).or_default() += 1;
                    }
                }
            }
        }
        out.setup_hist = hist::encode(&setup)?;
        out.rss_kib = status_value(std::process::id(), "VmRSS")?;
        Ok(out)
    }

    async fn run_phase(self: &Rc<Self>, phase: Phase) -> anyhow::Result<PhaseReport> {
        self.state
            .borrow_mut()
            .begin_phase(phase.start_ns, phase.measure_from_ns, phase.end_ns)?;
        let cpu0 = cpu_ticks("self")?;
        let wall0 = now_ns();
        send::drive(self, &phase).await?;
        let cpu_us = (cpu_ticks("self")? - cpu0) * (1_000_000 / CLOCK_TICKS_PER_SEC);
        let wall_end = now_ns();
        let deadline = phase.end_ns.max(wall_end) + phase.drain_ms * 1_000_000;
        while !self.state.borrow().drained() && now_ns() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let drained_at = now_ns();
        let state = self.state.borrow();
        #[allow(clippy::cast_precision_loss)]
        let secs = |ns: u64| ns as f64 / 1e9;
        Ok(PhaseReport {
            worker: self.plan.worker,
            name: phase.name.clone(),
            counters: state.counters.clone(),
            unacked: state.unacked(),
            undelivered: state.undelivered(),
            subscriber_missing: state.subscriber_missing(),
            drained: state.drained(),
            drain_s: secs(drained_at.saturating_sub(phase.end_ns.max(wall_end))),
            first_send_ns: state.sends.0,
            last_send_ns: state.sends.1,
            cpu_us,
            wall_s: secs(wall_end.saturating_sub(wall0)),
            hists: state.hists.encode()?,
        })
    }

    fn status(&self) -> anyhow::Result<Status> {
        let conns = self.conns.borrow();
        let state = self.state.borrow();
        Ok(Status {
            worker: self.plan.worker,
            open: conns.iter().filter(|c| c.is_open()).count() as u64,
            closed_by_server: state.counters.closed_by_server,
            close_codes: state.counters.close_codes.clone(),
            rss_kib: status_value(std::process::id(), "VmRSS")?,
            cpu_us: cpu_ticks("self")? * (1_000_000 / CLOCK_TICKS_PER_SEC),
        })
    }

    async fn close_all(&self) {
        let conns: Vec<Rc<Conn>> = self.conns.borrow().clone();
        for c in &conns {
            conn::close(c);
        }
        // Give the close frames a moment to leave before the sockets drop.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn emit(report: &Report) -> anyhow::Result<()> {
    let line = serde_json::to_string(report)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    Ok(())
}

/// The worker process: reads the plan, then commands, until `close` or end of input.
pub(crate) fn run() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start a runtime")?;
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&runtime, serve());
    if let Err(e) = &result {
        let _ = emit(&Report::Failed {
            error: format!("{e:#}"),
        });
    }
    result
}

async fn serve() -> anyhow::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let plan_line = lines.next_line().await?.context("no plan on stdin")?;
    let plan: WorkerPlan = serde_json::from_str(&plan_line).context("bad plan")?;
    let worker = Rc::new(Worker::new(plan)?);
    emit(&Report::Started {
        worker: worker.plan.worker,
    })?;
    while let Some(line) = lines.next_line().await? {
        let command: Command = serde_json::from_str(&line).context("bad command")?;
        match command {
            Command::Connect { concurrency } => {
                emit(&Report::Connected(worker.connect_all(concurrency).await?))?;
            }
            Command::Run(phase) => {
                emit(&Report::Phase(Box::new(worker.run_phase(phase).await?)))?;
            }
            Command::Status => emit(&Report::Status(worker.status()?))?,
            Command::Close => {
                worker.close_all().await;
                emit(&Report::Closed {
                    worker: worker.plan.worker,
                })?;
                return Ok(());
            }
        }
    }
    Ok(())
}
