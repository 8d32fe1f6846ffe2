//! A worker's bookkeeping: per-conversation send counters and receive sets, the sends waiting
//! for their ack, subscription cursors, and the phase's counters and histograms. Every frame
//! the server sends passes through [`State::on_text`], which checks the guarantees as it goes:
//! each entry once and in order per subscription (by server `seq`), each message once per
//! party (by its per-sender `seq`), each send acknowledged once.

use std::collections::HashMap;

use hdrhistogram::Histogram;
use serde::Deserialize;

use crate::chat::hist;
use crate::chat::payload::{self, Message, Role};
use crate::chat::plan::Counters;

/// Which subscriber of a conversation a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seat {
    /// The visitor.
    Visitor,
    /// The agent.
    Agent,
    /// The supervisor dashboard watching it.
    Dashboard,
}

impl Seat {
    fn index(self) -> usize {
        match self {
            Seat::Visitor => 0,
            Seat::Agent => 1,
            Seat::Dashboard => 2,
        }
    }

    fn party(self) -> Option<Role> {
        match self {
            Seat::Visitor => Some(Role::Visitor),
            Seat::Agent => Some(Role::Agent),
            Seat::Dashboard => None,
        }
    }
}

/// Which message sequence numbers arrived, as a bitset.
#[derive(Debug, Default)]
pub(crate) struct SeqSet {
    bits: Vec<u64>,
    count: u64,
    max: u64,
}

/// What [`SeqSet::insert`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// The next one, or later (a gap: an earlier one is late or lost).
    InOrder,
    /// Earlier than one already seen.
    Reordered,
    /// Seen before.
    Duplicate,
}

impl SeqSet {
    /// Records `seq` (≥ 1).
    pub(crate) fn insert(&mut self, seq: u64) -> Arrival {
        let word = usize::try_from(seq / 64).unwrap_or(usize::MAX);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let bit = 1u64 << (seq % 64);
        let slot = &mut self.bits[word];
        if *slot & bit != 0 {
            return Arrival::Duplicate;
        }
        *slot |= bit;
        self.count += 1;
        if seq < self.max {
            Arrival::Reordered
        } else {
            self.max = seq;
            Arrival::InOrder
        }
    }

    /// How many distinct numbers arrived.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }
}

/// One conversation of this worker.
#[derive(Debug)]
pub(crate) struct ConvState {
    /// Its UUID.
    pub(crate) id: [u8; 16],
    /// Its UUID as text (as frames carry it).
    pub(crate) id_str: String,
    /// Connection indexes: visitor, agent, dashboard.
    pub(crate) conns: [Option<usize>; 3],
    /// Messages sent, per sender (the last per-sender `seq`).
    pub(crate) sent: [u64; 2],
    /// Messages the other party received, by sender.
    pub(crate) recv: [SeqSet; 2],
    /// Last entry `seq` per subscriber seat.
    pub(crate) cursor: [u64; 3],
    /// Highest acknowledged entry `seq`.
    pub(crate) max_acked: u64,
    /// Next typing state per party.
    pub(crate) typing_on: [bool; 2],
}

/// A send waiting for its ack.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    intended_ns: u64,
    conv: u32,
}

/// The phase's histograms (µs).
#[derive(Debug)]
pub(crate) struct Hists {
    /// Intended send → received by the other party (coordinated-omission corrected).
    pub(crate) delivery: Histogram<u64>,
    /// Actual send → received by the other party.
    pub(crate) delivery_actual: Histogram<u64>,
    /// Intended send → ack.
    pub(crate) ack: Histogram<u64>,
    /// Intended send → received by the dashboard.
    pub(crate) dashboard: Histogram<u64>,
    /// Actual − intended send time (the generator's own lateness).
    pub(crate) send_lag: Histogram<u64>,
}

impl Hists {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            delivery: crate::stats::histogram()?,
            delivery_actual: crate::stats::histogram()?,
            ack: crate::stats::histogram()?,
            dashboard: crate::stats::histogram()?,
            send_lag: crate::stats::histogram()?,
        })
    }

    /// Encoded for the report.
    pub(crate) fn encode(&self) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
        let mut out = std::collections::BTreeMap::new();
        for (name, h) in [
            ("delivery", &self.delivery),
            ("delivery_actual", &self.delivery_actual),
            ("ack", &self.ack),
            ("dashboard", &self.dashboard),
            ("send_lag", &self.send_lag),
        ] {
            out.insert(name.to_owned(), hist::encode(h)?);
        }
        Ok(out)
    }
}

/// What the connection must do after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Nothing.
    Nothing,
    /// A `subscribed` arrived.
    Subscribed,
}

/// The fields of a server frame the generator reads (strings borrowed from the frame).
#[derive(Debug, Deserialize)]
struct In<'a> {
    t: &'a str,
    #[serde(default, borrow)]
    c: Option<&'a str>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default, borrow)]
    id: Option<&'a str>,
    #[serde(default, borrow)]
    k: Option<&'a str>,
    #[serde(default, borrow)]
    p: Option<&'a str>,
    #[serde(default)]
    dup: bool,
    #[serde(default, borrow)]
    code: Option<&'a str>,
}

/// The worker's bookkeeping.
#[derive(Debug)]
pub(crate) struct State {
    /// Conversations.
    pub(crate) convs: Vec<ConvState>,
    by_id: HashMap<String, u32>,
    inflight: HashMap<u64, InFlight>,
    /// Messages still expected by the other party, the sender's own connection and the
    /// dashboard (whole run).
    pending: i64,
    /// The phase's counters.
    pub(crate) counters: Counters,
    /// The phase's histograms.
    pub(crate) hists: Hists,
    /// Latency is recorded for messages intended in `[from, to)`.
    window: (u64, u64),
    /// Messages intended before this belong to an earlier, reported phase.
    phase_start: u64,
    /// First and last actual send of the phase.
    pub(crate) sends: (u64, u64),
}

fn us(ns: u64) -> std::time::Duration {
    std::time::Duration::from_nanos(ns)
}

fn bump(map: &mut std::collections::BTreeMap<String, u64>, key: &str) {
    // A few distinct keys at most; cap them so a misbehaving server cannot grow the map.
    if map.len() < 32 || map.contains_key(key) {
        *map.entry(key.to_owned()).or_default() += 1;
    }
}

impl State {
    /// State for `convs` (UUIDs).
    pub(crate) fn new(convs: &[uuid::Uuid]) -> anyhow::Result<Self> {
        let convs: Vec<ConvState> = convs
            .iter()
            .map(|id| ConvState {
                id: *id.as_bytes(),
                id_str: id.to_string(),
                conns: [None; 3],
                sent: [0; 2],
                recv: [SeqSet::default(), SeqSet::default()],
                cursor: [0; 3],
                max_acked: 0,
                typing_on: [false; 2],
            })
            .collect();
        let by_id = convs
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id_str.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        Ok(Self {
            convs,
            by_id,
            inflight: HashMap::new(),
            pending: 0,
            counters: Counters::default(),
            hists: Hists::new()?,
            window: (u64::MAX, u64::MAX),
            phase_start: 0,
            sends: (0, 0),
        })
    }

    /// Starts a phase: fresh counters and histograms, a new recording window.
    pub(crate) fn begin_phase(
        &mut self,
        start_ns: u64,
        measure_from_ns: u64,
        end_ns: u64,
    ) -> anyhow::Result<()> {
        self.counters = Counters::default();
        self.hists = Hists::new()?;
        self.window = (measure_from_ns, end_ns);
        self.phase_start = start_ns;
        self.sends = (0, 0);
        Ok(())
    }

    fn measured(&self, intended_ns: u64) -> bool {
        intended_ns >= self.window.0 && intended_ns < self.window.1
    }

    /// Records a message about to be written: returns its `seq` for the sender. `receivers`
    /// counts the other subscribers that should get it (the other party, a dashboard).
    pub(crate) fn on_send(
        &mut self,
        conv: u32,
        from: Role,
        msg_id: u64,
        intended_ns: u64,
        actual_ns: u64,
    ) -> u64 {
        let Some(c) = self.convs.get_mut(conv as usize) else {
            return 0;
        };
        c.sent[from.index()] += 1;
        let seq = c.sent[from.index()];
        // Every subscriber gets the entry: the other party, the sender's own connection and
        // the dashboard, if there is one.
        let receivers = 2 + i64::from(c.conns[2].is_some());
        self.pending += receivers;
        self.inflight.insert(msg_id, InFlight { intended_ns, conv });
        self.counters.sent += 1;
        if self.measured(intended_ns) {
            self.counters.sent_measured += 1;
        }
        crate::stats::record(
            &mut self.hists.send_lag,
            us(actual_ns.saturating_sub(intended_ns)),
        );
        if self.sends.0 == 0 {
            self.sends.0 = actual_ns;
        }
        self.sends.1 = actual_ns;
        seq
    }

    /// Whether every send was acknowledged and every entry delivered.
    pub(crate) fn drained(&self) -> bool {
        self.inflight.is_empty() && self.pending <= 0
    }

    /// Sends still waiting for their ack.
    pub(crate) fn unacked(&self) -> u64 {
        self.inflight.len() as u64
    }

    /// Messages sent in the run that the other party has not received.
    pub(crate) fn undelivered(&self) -> u64 {
        self.convs
            .iter()
            .map(|c| {
                (c.sent[0].saturating_sub(c.recv[0].count()))
                    + (c.sent[1].saturating_sub(c.recv[1].count()))
            })
            .sum()
    }

    /// Acknowledged entries that some subscriber has not received.
    pub(crate) fn subscriber_missing(&self) -> u64 {
        self.convs
            .iter()
            .map(|c| {
                c.conns
                    .iter()
                    .zip(c.cursor)
                    .filter(|(conn, _)| conn.is_some())
                    .map(|(_, cursor)| c.max_acked.saturating_sub(cursor))
                    .sum::<u64>()
            })
            .sum()
    }

    /// Handles one text frame that arrived on a connection in `seat` of conversation `conv`
    /// (`None` for a dashboard, which finds the conversation by id).
    pub(crate) fn on_text(
        &mut self,
        seat: Seat,
        conv: Option<u32>,
        text: &[u8],
        now: u64,
    ) -> After {
        let Ok(f) = serde_json::from_slice::<In<'_>>(text) else {
            bump(&mut self.counters.errors, "undecodable frame");
            return After::Nothing;
        };
        match f.t {
            "entry" => self.on_entry(seat, conv, &f, now),
            "ack" => self.on_ack(&f, now),
            "subscribed" => return After::Subscribed,
            "typing" => self.counters.typing_received += 1,
            "resync" => self.counters.resyncs += 1,
            "notice" => self.counters.notices += 1,
            "unsubscribed" => self.counters.unsubscribed += 1,
            "error" => {
                bump(&mut self.counters.errors, f.code.unwrap_or("?"));
                if let Some(id) = f.id.and_then(|id| id.parse::<u64>().ok())
                    && self.inflight.remove(&id).is_some()
                {
                    self.counters.send_errors += 1;
                }
            }
            "read" | "pong" | "ready" => {}
            other => bump(
                &mut self.counters.errors,
                &format!("unexpected frame {other}"),
            ),
        }
        After::Nothing
    }

    fn on_ack(&mut self, f: &In<'_>, now: u64) {
        let Some(id) = f.id.and_then(|id| id.parse::<u64>().ok()) else {
            bump(&mut self.counters.errors, "ack without a generator id");
            return;
        };
        let Some(sent) = self.inflight.remove(&id) else {
            self.counters.ack_unknown += 1;
            return;
        };
        self.counters.acked += 1;
        if f.dup {
            self.counters.ack_dup_flag += 1;
        }
        if let Some(c) = self.convs.get_mut(sent.conv as usize) {
            c.max_acked = c.max_acked.max(f.seq.unwrap_or(0));
        }
        if self.measured(sent.intended_ns) {
            crate::stats::record(
                &mut self.hists.ack,
                us(now.saturating_sub(sent.intended_ns)),
            );
        }
    }

    fn on_entry(&mut self, seat: Seat, conv: Option<u32>, f: &In<'_>, now: u64) {
        let (Some(c), Some(seq)) = (f.c, f.seq) else {
            self.counters.corrupt += 1;
            return;
        };
        let Some(index) = conv.or_else(|| self.by_id.get(c).copied()) else {
            self.counters.corrupt += 1;
            return;
        };
        let Some(state) = self.convs.get_mut(index as usize) else {
            self.counters.corrupt += 1;
            return;
        };
        if state.id_str != c {
            self.counters.corrupt += 1;
            return;
        }
        let cursor = &mut state.cursor[seat.index()];
        if seq <= *cursor {
            self.counters.seq_repeats += 1;
        } else {
            if seq > *cursor + 1 {
                self.counters.seq_gaps += 1;
            }
            *cursor = seq;
        }
        let p = f.p.unwrap_or_default();
        if f.k != Some("application") || !payload::is_generator_len(p.len()) {
            self.counters.foreign_entries += 1;
            return;
        }
        let Some(m) = Message::decode_b64(p) else {
            self.counters.corrupt += 1;
            return;
        };
        if m.conv != index || m.conv_id != state.id {
            self.counters.corrupt += 1;
            return;
        }
        self.pending -= 1;
        if m.intended_ns < self.phase_start {
            self.counters.late += 1;
        }
        let measured = m.intended_ns >= self.window.0 && m.intended_ns < self.window.1;
        match seat.party() {
            Some(me) if me == m.from => self.counters.echoed += 1,
            Some(_) => {
                match state.recv[m.from.index()].insert(m.seq) {
                    Arrival::Duplicate => {
                        self.counters.duplicates += 1;
                        return;
                    }
                    Arrival::Reordered => self.counters.reordered += 1,
                    Arrival::InOrder => {}
                }
                self.counters.delivered += 1;
                if measured {
                    crate::stats::record(
                        &mut self.hists.delivery,
                        us(now.saturating_sub(m.intended_ns)),
                    );
                    crate::stats::record(
                        &mut self.hists.delivery_actual,
                        us(now.saturating_sub(m.actual_ns)),
                    );
                }
            }
            None => {
                self.counters.dashboard_delivered += 1;
                if measured {
                    crate::stats::record(
                        &mut self.hists.dashboard,
                        us(now.saturating_sub(m.intended_ns)),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
