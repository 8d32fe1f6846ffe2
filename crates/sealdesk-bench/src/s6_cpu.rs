//! CPU accounting for S6 on a shared machine: this process, PostgreSQL's processes (part of
//! what is measured when the store is PostgreSQL) and everything else (disturbance), from
//! `/proc`; and waiting until everything else is idle before a measurement starts.

use std::time::{Duration, Instant};

use crate::procfs::{CLOCK_TICKS_PER_SEC, cpu_ticks, machine_busy_ticks};
use crate::stats::f;

/// CPU ticks at one instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticks {
    me: u64,
    postgres: u64,
    machine: u64,
    at: Instant,
}

/// CPU used between two readings, in % of one core.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split {
    /// This process (the store itself on SQLite).
    pub(crate) me_pct: f64,
    /// The processes named `postgres`.
    pub(crate) postgres_pct: f64,
    /// Every other process: builds, tests, other benchmarks.
    pub(crate) other_pct: f64,
    /// This process's CPU, µs.
    pub(crate) me_us: u64,
}

/// utime + stime of every process named `postgres` (processes that exit meanwhile are
/// skipped; the pool's backends live as long as the measurement).
fn postgres_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == "postgres")
        })
        .filter_map(|pid| cpu_ticks(&pid).ok())
        .sum()
}

impl Ticks {
    pub(crate) fn now() -> anyhow::Result<Self> {
        Ok(Self {
            me: cpu_ticks("self")?,
            postgres: postgres_ticks(),
            machine: machine_busy_ticks()?,
            at: Instant::now(),
        })
    }

    /// What was used from `self` until a fresh reading.
    pub(crate) fn since(&self) -> anyhow::Result<Split> {
        let now = Self::now()?;
        let wall = now.at.duration_since(self.at).as_secs_f64();
        let me = now.me.saturating_sub(self.me);
        // A postgres process that exited meanwhile makes this shrink; never below zero.
        let postgres = now.postgres.saturating_sub(self.postgres);
        let machine = now.machine.saturating_sub(self.machine);
        let other = machine.saturating_sub(me + postgres);
        let pct = |ticks: u64| {
            if wall > 0.0 {
                f(ticks) / f(CLOCK_TICKS_PER_SEC) / wall * 100.0
            } else {
                0.0
            }
        };
        Ok(Split {
            me_pct: pct(me),
            postgres_pct: pct(postgres),
            other_pct: pct(other),
            me_us: me * (1_000_000 / CLOCK_TICKS_PER_SEC),
        })
    }
}

/// Waits until every process but this one and PostgreSQL's used less than `limit_pct` of a
/// core over 3 s, for at most `max_wait`. Returns the seconds waited, or `None` if the machine
/// never went quiet.
pub(crate) async fn wait_quiet(limit_pct: f64, max_wait: Duration) -> anyhow::Result<Option<f64>> {
    let started = Instant::now();
    loop {
        let before = Ticks::now()?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        if before.since()?.other_pct < limit_pct {
            return Ok(Some(started.elapsed().as_secs_f64()));
        }
        if started.elapsed() >= max_wait {
            return Ok(None);
        }
    }
}
