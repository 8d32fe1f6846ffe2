//! Time for the load generator: `CLOCK_MONOTONIC` in nanoseconds, which every process on the
//! machine shares (so a sender's timestamp and a receiver's clock reading in another worker
//! process are comparable), and a sleep with microsecond precision. tokio's timer rounds up
//! to whole milliseconds, which would add up to 1 ms to every intended send time; here a
//! helper thread sleeps with `clock_nanosleep` (timer slack 1 ns) and wakes the async side
//! through a socket pair. Waits shorter than [`SPIN_NS`] yield to the runtime instead.

use std::io;
use std::num::NonZeroU64;
use std::os::unix::net::UnixDatagram as StdDatagram;

use rustix::time::{ClockId, Timespec};
use tokio::net::UnixDatagram;

/// Waits shorter than this yield to other tasks until the deadline instead of sleeping.
pub(crate) const SPIN_NS: u64 = 30_000;
/// Asks the helper thread to end.
const STOP: u64 = u64::MAX;

/// Nanoseconds of `CLOCK_MONOTONIC`.
pub(crate) fn now_ns() -> u64 {
    let t = rustix::time::clock_gettime(ClockId::Monotonic);
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(t.tv_nsec).unwrap_or(0);
    secs * 1_000_000_000 + nanos
}

fn timespec(ns: u64) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX),
        tv_nsec: i64::try_from(ns % 1_000_000_000).unwrap_or(0),
    }
}

/// A precise monotonic sleep for async code.
#[derive(Debug)]
pub(crate) struct Timer {
    sock: UnixDatagram,
    /// Waits through the helper thread.
    pub(crate) sleeps: std::cell::Cell<u64>,
    /// Yields while spinning on a short wait.
    pub(crate) spins: std::cell::Cell<u64>,
}

fn helper(sock: &StdDatagram) {
    // The default slack (50 µs) would make every wake-up late by up to that much.
    let _ = rustix::thread::set_current_timer_slack(NonZeroU64::new(1));
    let mut buf = [0u8; 8];
    while let Ok(8) = sock.recv(&mut buf) {
        let at = u64::from_le_bytes(buf);
        if at == STOP {
            return;
        }
        // Bounded: each retry follows an interruption by a signal.
        for _ in 0..1000 {
            match rustix::thread::clock_nanosleep_absolute(ClockId::Monotonic, &timespec(at)) {
                Err(rustix::io::Errno::INTR) => {}
                _ => break,
            }
        }
        if sock.send(&[1]).is_err() {
            return;
        }
    }
}

impl Timer {
    /// A new timer with its helper thread (needs a tokio runtime with I/O enabled).
    pub(crate) fn new() -> io::Result<Self> {
        let (mine, theirs) = StdDatagram::pair()?;
        mine.set_nonblocking(true)?;
        std::thread::Builder::new()
            .name("bench-timer".into())
            .spawn(move || helper(&theirs))?;
        Ok(Self {
            sock: UnixDatagram::from_std(mine)?,
            sleeps: std::cell::Cell::new(0),
            spins: std::cell::Cell::new(0),
        })
    }

    /// Waits until `CLOCK_MONOTONIC` reaches `at_ns` (returns at once if it has).
    pub(crate) async fn sleep_until(&self, at_ns: u64) -> io::Result<()> {
        if at_ns <= now_ns() + SPIN_NS {
            // Bounded by the deadline, at most SPIN_NS away.
            while now_ns() < at_ns {
                self.spins.set(self.spins.get() + 1);
                tokio::task::yield_now().await;
            }
            return Ok(());
        }
        self.sleeps.set(self.sleeps.get() + 1);
        self.sock.send(&at_ns.to_le_bytes()).await?;
        let mut buf = [0u8; 1];
        self.sock.recv(&mut buf).await?;
        Ok(())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let _ = self.sock.try_send(&STOP.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_moves_forward() {
        let a = now_ns();
        let b = now_ns();
        assert!(a > 0 && b >= a);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn timer_wakes_after_its_deadline_and_not_much_later() {
        let timer = Timer::new().unwrap();
        for gap in [2_000_000, 50_000, 3_000_000] {
            let at = now_ns() + gap;
            timer.sleep_until(at).await.unwrap();
            let woke = now_ns();
            assert!(woke >= at, "woke {} ns early", at - woke);
            // Generous bound: this runs on a loaded 2-core VM.
            assert!(woke - at < 200_000_000, "woke {} ns late", woke - at);
        }
        // A deadline in the past returns at once.
        timer.sleep_until(1).await.unwrap();
    }
}
