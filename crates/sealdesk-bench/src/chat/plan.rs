//! What the coordinator and its worker processes say to each other, as JSON lines: the
//! worker's plan (its conversations and credentials), commands on the worker's stdin, and
//! reports on its stdout.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

/// One worker's share of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WorkerPlan {
    /// Worker number (0-based); also the top 16 bits of its message ids.
    pub(crate) worker: u16,
    /// The server (or null relay) address.
    pub(crate) server: SocketAddr,
    /// Source address of every connection (127.0.0.2 + worker).
    pub(crate) local_ip: Ipv4Addr,
    /// Conversations, each with a visitor and an agent connection.
    pub(crate) convs: Vec<PlanConv>,
    /// Staff bearer tokens; `PlanConv::agent` indexes this.
    pub(crate) agent_tokens: Vec<String>,
    /// Supervisor dashboards: each watches a run of consecutive conversations.
    pub(crate) dashboards: Vec<PlanDashboard>,
    /// The dashboards' bearer token.
    pub(crate) dashboard_token: Option<String>,
    /// Messages are framed as MLS application messages of the conversation's group.
    #[serde(default)]
    pub(crate) mls: bool,
}

/// A conversation and its credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PlanConv {
    /// The conversation's UUID.
    pub(crate) id: uuid::Uuid,
    /// The visitor's ticket.
    pub(crate) ticket: String,
    /// The agent's token (index into `agent_tokens`).
    pub(crate) agent: u32,
    /// Index of the conversation in the whole run (seeds its schedule).
    pub(crate) global: u64,
}

/// A dashboard connection.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct PlanDashboard {
    /// First conversation (worker-local index).
    pub(crate) first: u32,
    /// How many consecutive conversations.
    pub(crate) count: u32,
}

/// One load phase: Poisson message and typing schedules per conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Phase {
    /// Label for the report.
    pub(crate) name: String,
    /// First intended send time (`CLOCK_MONOTONIC` ns).
    pub(crate) start_ns: u64,
    /// Latency is recorded for messages intended from here on (the rest is warm-up).
    pub(crate) measure_from_ns: u64,
    /// No message is intended at or after this.
    pub(crate) end_ns: u64,
    /// Messages per second in the whole run (split evenly over all conversations).
    pub(crate) rate: f64,
    /// Conversations in the whole run.
    pub(crate) total_convs: u64,
    /// Typing indicators per message.
    pub(crate) typing_ratio: f64,
    /// Seed of the schedules.
    pub(crate) seed: u64,
    /// How long to wait after `end_ns` for every ack and delivery.
    pub(crate) drain_ms: u64,
}

/// A coordinator command.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub(crate) enum Command {
    /// Open, authenticate and subscribe every connection of the plan.
    Connect {
        /// Connections being set up at once.
        concurrency: usize,
    },
    /// Run a phase and report it.
    Run(Phase),
    /// Report connection counts and memory.
    Status,
    /// Close every connection and exit.
    Close,
}

/// How the connect phase went.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Connected {
    /// Worker number.
    pub(crate) worker: u16,
    /// Connections authenticated and subscribed.
    pub(crate) ok: u64,
    /// Connections that failed.
    pub(crate) failed: u64,
    /// The first few failure messages with their counts.
    pub(crate) failures: BTreeMap<String, u64>,
    /// When the first connection started (`CLOCK_MONOTONIC` ns).
    pub(crate) started_ns: u64,
    /// When the last one finished.
    pub(crate) finished_ns: u64,
    /// Connect + upgrade + auth + subscribe time per connection (HDR V2, base64, µs).
    pub(crate) setup_hist: String,
    /// This worker's resident memory after connecting, KiB.
    pub(crate) rss_kib: u64,
    /// Its resident memory before connecting, KiB.
    pub(crate) rss_before_kib: u64,
}

/// Counters of one phase (summed over workers by the coordinator).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Counters {
    /// Messages sent.
    pub(crate) sent: u64,
    /// Messages sent within the measured window.
    pub(crate) sent_measured: u64,
    /// Acks received.
    pub(crate) acked: u64,
    /// Acks marked `dup` (the server saw a retry; the generator never retries).
    pub(crate) ack_dup_flag: u64,
    /// Acks for no outstanding send (a second ack for one message).
    pub(crate) ack_unknown: u64,
    /// Messages received by the other party of the conversation.
    pub(crate) delivered: u64,
    /// Messages received by dashboards.
    pub(crate) dashboard_delivered: u64,
    /// Messages echoed back to their sender's own connection.
    pub(crate) echoed: u64,
    /// Typing indicators sent.
    pub(crate) typing_sent: u64,
    /// Typing indicators received (by the other party and dashboards).
    pub(crate) typing_received: u64,
    /// A message received twice by the same party.
    pub(crate) duplicates: u64,
    /// A message received after a later one of the same sender.
    pub(crate) reordered: u64,
    /// Entries whose `seq` skipped ahead on a subscription.
    pub(crate) seq_gaps: u64,
    /// Entries whose `seq` was not above the subscription's last one.
    pub(crate) seq_repeats: u64,
    /// Generator payloads that failed their checks (altered, wrong conversation).
    pub(crate) corrupt: u64,
    /// Entries not written by the generator (system events, the first message).
    pub(crate) foreign_entries: u64,
    /// `resync` frames.
    pub(crate) resyncs: u64,
    /// `notice` frames.
    pub(crate) notices: u64,
    /// `unsubscribed` frames.
    pub(crate) unsubscribed: u64,
    /// `error` frames answering a send.
    pub(crate) send_errors: u64,
    /// `error` frames by code.
    pub(crate) errors: BTreeMap<String, u64>,
    /// Connections closed by the server.
    pub(crate) closed_by_server: u64,
    /// Close codes seen.
    pub(crate) close_codes: BTreeMap<u16, u64>,
    /// Writes that did not fit into the socket at once.
    pub(crate) write_backlogs: u64,
    /// Deliveries that arrived after their phase had been reported.
    pub(crate) late: u64,
    /// Sender wake-ups that fired at least one event.
    pub(crate) sender_batches: u64,
    /// Waits of the sender on its precise timer.
    pub(crate) timer_sleeps: u64,
    /// Yields of the sender while spinning on a wait shorter than 30 µs.
    pub(crate) timer_spins: u64,
}

/// A phase report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct PhaseReport {
    /// Worker number.
    pub(crate) worker: u16,
    /// Phase name.
    pub(crate) name: String,
    /// Counters.
    pub(crate) counters: Counters,
    /// Sends still without an ack after the drain.
    pub(crate) unacked: u64,
    /// Messages sent so far (whole run) that the other party has not received.
    pub(crate) undelivered: u64,
    /// Entries (by server `seq`) a subscriber still misses after the drain.
    pub(crate) subscriber_missing: u64,
    /// Whether everything arrived before the drain deadline.
    pub(crate) drained: bool,
    /// Seconds from the phase end to the drain.
    pub(crate) drain_s: f64,
    /// First and last actual send (`CLOCK_MONOTONIC` ns; 0 if none).
    pub(crate) first_send_ns: u64,
    /// Last actual send.
    pub(crate) last_send_ns: u64,
    /// This worker's CPU time during the phase (until the end of the schedule), µs.
    pub(crate) cpu_us: u64,
    /// Wall time of the schedule, s.
    pub(crate) wall_s: f64,
    /// Histograms (HDR V2, base64, µs) by name.
    pub(crate) hists: BTreeMap<String, String>,
}

/// Connection status.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Status {
    /// Worker number.
    pub(crate) worker: u16,
    /// Connections still open.
    pub(crate) open: u64,
    /// Connections closed by the server so far.
    pub(crate) closed_by_server: u64,
    /// Close codes seen.
    pub(crate) close_codes: BTreeMap<u16, u64>,
    /// Resident memory, KiB.
    pub(crate) rss_kib: u64,
    /// CPU time used so far, µs.
    pub(crate) cpu_us: u64,
}

/// A worker report (one JSON line on its stdout).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub(crate) enum Report {
    /// The plan was read.
    Started {
        /// Worker number.
        worker: u16,
    },
    /// Connect finished.
    Connected(Connected),
    /// A phase finished.
    Phase(Box<PhaseReport>),
    /// Status.
    Status(Status),
    /// Closing.
    Closed {
        /// Worker number.
        worker: u16,
    },
    /// A fatal error; the worker exits.
    Failed {
        /// What went wrong.
        error: String,
    },
}
