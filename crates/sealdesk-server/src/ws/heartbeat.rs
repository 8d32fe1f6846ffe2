//! The heartbeat schedule of the node's connections, on a shared grid.
//!
//! Each connection pings its client once per heartbeat period. With a timer started at
//! connect time, 19,000 connections opened over ~15 s fire ~760 separate timers a second, and
//! on this VM every separate timer costs a runtime worker's wake-up (two thread switches and an
//! `epoll_wait`), several times the ping itself: the S1 idle profile spent ~40 % of the
//! server's time in the scheduler. Ticks here fall on a grid of [`GRID`] from one node-wide
//! origin, so all connections due within the same slot are woken by one timer expiry and
//! their pings go out in one burst: ~10 wake-ups a second whatever the number of
//! connections. A ping is at most one slot later than with a private timer; liveness is
//! judged over whole periods, so nothing else changes.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::time::{Instant, Interval, MissedTickBehavior};

/// The grid the ticks fall on. A slot's burst in S1 (19,000 connections, 25 s) is ~76 pings,
/// well under a millisecond of work.
pub(super) const GRID: Duration = Duration::from_millis(100);

/// The node-wide origin of the grid (the first call's time).
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// The first grid point at or after `at`.
fn on_grid(origin: Instant, at: Instant) -> Instant {
    let grid = GRID.as_nanos();
    let since = at.saturating_duration_since(origin).as_nanos();
    let slots = since.div_ceil(grid);
    let offset = u64::try_from(slots * grid).unwrap_or(u64::MAX);
    origin + Duration::from_nanos(offset)
}

/// A ticker for one connection: first tick about one `period` from now, on the grid, then
/// every `period` (rounded up to whole grid slots, so every tick stays on the grid).
/// Missed ticks are skipped, never bunched, and skipping keeps the grid.
pub(super) fn ticker(period: Duration) -> Interval {
    let slots = period.as_nanos().div_ceil(GRID.as_nanos()).max(1);
    let period = GRID * u32::try_from(slots).unwrap_or(u32::MAX);
    let start = on_grid(origin(), Instant::now() + period);
    let mut ticker = tokio::time::interval_at(start, period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    ticker
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset(at: Instant) -> Duration {
        at.saturating_duration_since(origin())
    }

    #[tokio::test(start_paused = true)]
    async fn ticks_of_connections_opened_at_different_times_share_the_grid() {
        // Just past a grid point (the origin is process-wide, so find one first).
        let now = Instant::now();
        tokio::time::advance(on_grid(origin(), now) - now + Duration::from_millis(1)).await;
        let mut tickers = Vec::new();
        for gap_ms in [0u64, 7, 33, 49, 100] {
            tokio::time::advance(Duration::from_millis(gap_ms)).await;
            tickers.push(ticker(Duration::from_secs(25)));
        }
        // Due in the order they were opened: each round of ticks is awaited in that order.
        let mut firsts = Vec::new();
        for ticker in &mut tickers {
            let first = ticker.tick().await;
            assert_eq!(offset(first).as_nanos() % GRID.as_nanos(), 0, "{first:?}");
            firsts.push(first);
        }
        // Opened at +1, +8, +41 and +90 ms into a slot: one expiry wakes all four; the
        // last, opened in the next slot, is due one slot later.
        assert!(firsts[..4].iter().all(|f| *f == firsts[0]), "{firsts:?}");
        assert_eq!(firsts[4] - firsts[0], GRID);
        for (ticker, first) in tickers.iter_mut().zip(firsts) {
            assert_eq!(ticker.tick().await - first, Duration::from_secs(25));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_tick_is_one_period_away_at_most_one_slot_late() {
        tokio::time::advance(Duration::from_millis(1234)).await;
        let opened = Instant::now();
        let mut t = ticker(Duration::from_secs(25));
        let first = t.tick().await;
        let wait = first - opened;
        assert!(wait >= Duration::from_secs(25), "{wait:?}");
        assert!(wait < Duration::from_secs(25) + GRID, "{wait:?}");
    }

    #[test]
    fn a_period_off_the_grid_is_rounded_up_to_whole_slots() {
        let o = Instant::now();
        assert_eq!(on_grid(o, o), o);
        assert_eq!(on_grid(o, o + Duration::from_millis(1)), o + GRID);
        assert_eq!(on_grid(o, o + GRID), o + GRID);
        assert_eq!(on_grid(o, o + GRID + Duration::from_nanos(1)), o + GRID * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_tick_is_skipped_and_the_next_stays_on_the_grid() {
        tokio::time::advance(Duration::from_millis(40)).await;
        let mut t = ticker(Duration::from_secs(1));
        let first = t.tick().await;
        // The connection was busy for 2.5 periods: the missed ticks are not bunched.
        tokio::time::advance(Duration::from_millis(2500)).await;
        let late = t.tick().await;
        assert_eq!(
            late,
            first + Duration::from_secs(1),
            "the missed tick, at once"
        );
        let next = t.tick().await;
        assert_eq!(
            next,
            first + Duration::from_secs(3),
            "the one at +2 s is skipped"
        );
        assert_eq!(offset(next).as_nanos() % GRID.as_nanos(), 0, "{next:?}");
    }
}
