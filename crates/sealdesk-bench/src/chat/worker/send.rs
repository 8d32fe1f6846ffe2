//! The open-loop sender: per phase, each conversation's Poisson schedule of messages and
//! typing indicators is computed up front from the phase's seed (so it never depends on how
//! fast the server answers), and one timing wheel, woken by a precise timer, fires them.

use std::fmt::Write as _;
use std::rc::Rc;

use super::Worker;
use crate::chat::mono::{Timer, now_ns};
use crate::chat::payload::{Message, Role};
use crate::chat::plan::Phase;
use crate::chat::wheel::Wheel;
use crate::chat::wsproto::OP_TEXT;
use crate::stats::SplitMix;

/// What a scheduled event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum What {
    /// A message from this party.
    Message(Role),
    /// A typing indicator from this party.
    Typing(Role),
}

/// One scheduled event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    /// Intended time (`CLOCK_MONOTONIC` ns).
    pub(crate) at_ns: u64,
    /// What to send.
    pub(crate) what: What,
}

fn exp_gap_ns(rng: &mut SplitMix, rate: f64) -> u64 {
    let secs = -(1.0 - rng.unit()).ln() / rate;
    // Gaps are far below 2^64 ns; a negative or NaN result cannot occur for rate > 0.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ns = (secs * 1e9) as u64;
    ns.max(1)
}

fn role(rng: &mut SplitMix) -> Role {
    if rng.next_u64() & 1 == 0 {
        Role::Visitor
    } else {
        Role::Agent
    }
}

/// The schedule of conversation `global` in `phase`, sorted by time.
pub(crate) fn schedule(phase: &Phase, global: u64) -> Vec<Event> {
    let mut out = Vec::new();
    #[allow(clippy::cast_precision_loss)]
    let per_conv = phase.rate / phase.total_convs.max(1) as f64;
    let streams = [
        (per_conv, false, 0x5eed_0001_u64),
        (per_conv * phase.typing_ratio, true, 0x5eed_0002),
    ];
    for (rate, typing, salt) in streams {
        if rate <= 0.0 || !rate.is_finite() {
            continue;
        }
        let mut rng = SplitMix::new(phase.seed ^ salt ^ global.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut at = phase.start_ns;
        loop {
            at = at.saturating_add(exp_gap_ns(&mut rng, rate));
            if at >= phase.end_ns {
                break;
            }
            let who = role(&mut rng);
            out.push(Event {
                at_ns: at,
                what: if typing {
                    What::Typing(who)
                } else {
                    What::Message(who)
                },
            });
        }
    }
    out.sort_by_key(|e| e.at_ns);
    out
}

/// Fires every event of the phase at its time; returns when the last has been sent.
pub(crate) async fn drive(worker: &Rc<Worker>, phase: &Phase) -> anyhow::Result<()> {
    let schedules: Vec<Vec<Event>> = worker
        .plan
        .convs
        .iter()
        .map(|c| schedule(phase, c.global))
        .collect();
    let mut next = vec![0usize; schedules.len()];
    // 100 µs slots, 8192 of them: one revolution is 0.8 s.
    let mut wheel = Wheel::new(100_000, 13, phase.start_ns);
    for (i, s) in schedules.iter().enumerate() {
        if let Some(e) = s.first() {
            wheel.insert(e.at_ns, u32::try_from(i)?);
        }
    }
    let timer = Timer::new()?;
    let mut fired = Vec::new();
    let mut text = String::with_capacity(512);
    while let Some(due) = wheel.next_due() {
        timer.sleep_until(due).await?;
        fired.clear();
        wheel.expire(now_ns(), &mut fired);
        if !fired.is_empty() {
            worker.state.borrow_mut().counters.sender_batches += 1;
        }
        for (_, c) in &fired {
            let ci = *c as usize;
            let Some(event) = schedules[ci].get(next[ci]).copied() else {
                continue;
            };
            next[ci] += 1;
            if let Some(following) = schedules[ci].get(next[ci]) {
                wheel.insert(following.at_ns, *c);
            }
            fire(worker, *c, event, &mut text);
        }
        // Let the readers run when the sender is behind.
        tokio::task::yield_now().await;
    }
    let mut state = worker.state.borrow_mut();
    state.counters.timer_sleeps += timer.sleeps.get();
    state.counters.timer_spins += timer.spins.get();
    Ok(())
}

fn fire(worker: &Worker, conv: u32, event: Event, text: &mut String) {
    let (who, is_message) = match event.what {
        What::Message(r) => (r, true),
        What::Typing(r) => (r, false),
    };
    let Some(socket) = worker.conn_of(conv, who) else {
        return;
    };
    if !socket.is_open() {
        return;
    }
    text.clear();
    let mut state = worker.state.borrow_mut();
    if is_message {
        let msg_id = worker.next_msg_id();
        let actual_ns = now_ns();
        let seq = state.on_send(conv, who, msg_id, event.at_ns, actual_ns);
        let Some(c) = state.convs.get(conv as usize) else {
            return;
        };
        let message = Message {
            msg_id,
            conv_id: c.id,
            conv,
            from: who,
            seq,
            intended_ns: event.at_ns,
            actual_ns,
        };
        let _ = write!(
            text,
            "{{\"t\":\"send\",\"c\":\"{}\",\"id\":\"{msg_id}\",\"k\":\"application\",\"p\":\"",
            c.id_str
        );
        if worker.plan.mls {
            message.encode_b64_mls(text);
        } else {
            message.encode_b64(text);
        }
        text.push_str("\"}");
    } else {
        let Some(c) = state.convs.get_mut(conv as usize) else {
            return;
        };
        let on = !c.typing_on[who.index()];
        c.typing_on[who.index()] = on;
        let _ = write!(
            text,
            "{{\"t\":\"typing\",\"c\":\"{}\",\"on\":{on}}}",
            c.id_str
        );
        state.counters.typing_sent += 1;
    }
    if socket.write_frame(OP_TEXT, text.as_bytes()) {
        state.counters.write_backlogs += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(rate: f64, secs: u64) -> Phase {
        Phase {
            name: "t".into(),
            start_ns: 1_000_000_000,
            measure_from_ns: 1_000_000_000,
            end_ns: 1_000_000_000 + secs * 1_000_000_000,
            rate,
            total_convs: 100,
            typing_ratio: 2.0,
            seed: 9,
            drain_ms: 0,
        }
    }

    #[test]
    fn schedules_are_poisson_at_the_asked_rate_and_reproducible() {
        let p = phase(1_000.0, 20);
        let all: Vec<Vec<Event>> = (0..100).map(|g| schedule(&p, g)).collect();
        let messages: usize = all
            .iter()
            .map(|s| {
                s.iter()
                    .filter(|e| matches!(e.what, What::Message(_)))
                    .count()
            })
            .sum();
        let typing: usize = all
            .iter()
            .map(|s| {
                s.iter()
                    .filter(|e| matches!(e.what, What::Typing(_)))
                    .count()
            })
            .sum();
        // 1,000/s for 20 s = 20,000 ± a few standard deviations (√20000 ≈ 141).
        assert!((19_400..20_600).contains(&messages), "{messages}");
        assert!((38_800..41_200).contains(&typing), "{typing}");
        for s in &all {
            assert!(s.windows(2).all(|w| w[0].at_ns <= w[1].at_ns));
            assert!(
                s.iter()
                    .all(|e| e.at_ns >= p.start_ns && e.at_ns < p.end_ns)
            );
        }
        let visitor = all
            .iter()
            .flatten()
            .filter(|e| e.what == What::Message(Role::Visitor))
            .count();
        assert!(
            (9_400..10_600).contains(&visitor),
            "both parties send: {visitor}"
        );
        assert_eq!(schedule(&p, 5), all[5], "same seed, same schedule");
        assert_ne!(schedule(&p, 6), all[5], "conversations differ");
    }
}
