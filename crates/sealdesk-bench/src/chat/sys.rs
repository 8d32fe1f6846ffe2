//! Machine readings for the chat scenarios: CPU time of the system under test, of the
//! generator (coordinator and workers) and of everything else; kernel memory (`Slab` in
//! `/proc/meminfo`, TCP pages in `/proc/net/sockstat`); and our server's Prometheus counters.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::procfs::{CLOCK_TICKS_PER_SEC, cpu_ticks, machine_busy_ticks};
use crate::stats::f;

/// CPU times at one instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snap {
    at: Instant,
    target: u64,
    generator: u64,
    machine: u64,
}

/// CPU used between two snapshots, µs.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct Cpu {
    /// Wall-clock seconds.
    pub(crate) wall_s: f64,
    /// The system under test.
    pub(crate) target_us: u64,
    /// Coordinator and workers.
    pub(crate) generator_us: u64,
    /// Every other process.
    pub(crate) other_us: u64,
}

fn pct(us: u64, wall_s: f64) -> f64 {
    if wall_s > 0.0 {
        f(us) / (wall_s * 1e6) * 100.0
    } else {
        f64::NAN
    }
}

impl Cpu {
    /// Target CPU, % of one core.
    pub(crate) fn target_pct(&self) -> f64 {
        pct(self.target_us, self.wall_s)
    }
    /// Generator CPU, % of one core.
    pub(crate) fn generator_pct(&self) -> f64 {
        pct(self.generator_us, self.wall_s)
    }
    /// Other processes' CPU, % of one core.
    pub(crate) fn other_pct(&self) -> f64 {
        pct(self.other_us, self.wall_s)
    }
}

impl Snap {
    /// Reads the CPU times of `target`, of this process plus `workers`, and of the machine.
    pub(crate) fn take(target: u32, workers: &[u32]) -> anyhow::Result<Self> {
        let mut generator = cpu_ticks("self")?;
        for w in workers {
            // A worker that has exited counts nothing more.
            generator += cpu_ticks(&w.to_string()).unwrap_or(0);
        }
        Ok(Self {
            at: Instant::now(),
            target: cpu_ticks(&target.to_string())?,
            generator,
            machine: machine_busy_ticks()?,
        })
    }

    /// CPU used from `self` to `later`.
    pub(crate) fn until(&self, later: &Snap) -> Cpu {
        let us = |t: u64| t * (1_000_000 / CLOCK_TICKS_PER_SEC);
        let target = later.target.saturating_sub(self.target);
        let generator = later.generator.saturating_sub(self.generator);
        let machine = later.machine.saturating_sub(self.machine);
        Cpu {
            wall_s: later.at.duration_since(self.at).as_secs_f64(),
            target_us: us(target),
            generator_us: us(generator),
            other_us: us(machine.saturating_sub(target + generator)),
        }
    }
}

/// A field of `/proc/meminfo`, KiB.
pub(crate) fn meminfo_kib(key: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").context("cannot read /proc/meminfo")?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("/proc/meminfo has no {key}"))
}

/// The TCP line of `/proc/net/sockstat`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct SockStat {
    /// Sockets in use.
    pub(crate) inuse: u64,
    /// Pages of socket buffer memory.
    pub(crate) mem_pages: u64,
}

/// Reads `/proc/net/sockstat`.
pub(crate) fn sockstat() -> anyhow::Result<SockStat> {
    let text =
        std::fs::read_to_string("/proc/net/sockstat").context("cannot read /proc/net/sockstat")?;
    let line = text
        .lines()
        .find(|l| l.starts_with("TCP:"))
        .context("no TCP line in /proc/net/sockstat")?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let value = |key: &str| {
        words
            .iter()
            .position(|w| *w == key)
            .and_then(|i| words.get(i + 1)?.parse().ok())
            .unwrap_or(0)
    };
    Ok(SockStat {
        inuse: value("inuse"),
        mem_pages: value("mem"),
    })
}

/// The counters of a Prometheus text page, by metric name (labels kept in the name).
pub(crate) async fn scrape(url: &str) -> anyhow::Result<BTreeMap<String, f64>> {
    let text = reqwest::get(url)
        .await
        .context("cannot read the metrics")?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect())
}

/// How busy the machine was before a run.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct Quiet {
    /// Seconds spent waiting for the machine to calm down.
    pub(crate) waited_s: f64,
    /// Other processes' CPU over the last 5 s sample, % of one core.
    pub(crate) other_pct: f64,
    /// Whether it was below the threshold when the run started.
    pub(crate) calm: bool,
}

/// Waits (at most `max_wait_s`) until other processes use at most `max_pct` % of a core over
/// 5 s, so that runs do not start in the middle of someone else's build. Proceeds anyway
/// after the wait, saying so.
pub(crate) async fn wait_quiet(max_pct: f64, max_wait_s: f64) -> anyhow::Result<Quiet> {
    let started = Instant::now();
    let me = std::process::id();
    // Bounded by `max_wait_s`: each round takes at least 5 s.
    loop {
        let a = Snap::take(me, &[])?;
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        let cpu = a.until(&Snap::take(me, &[])?);
        let other_pct = cpu.other_pct() + cpu.target_pct();
        let waited_s = started.elapsed().as_secs_f64();
        if other_pct <= max_pct || waited_s >= max_wait_s {
            return Ok(Quiet {
                waited_s,
                other_pct,
                calm: other_pct <= max_pct,
            });
        }
        crate::chat::report::progress(&format!(
            "  waiting for a quiet machine: other processes use {}% of a core",
            crate::report::num(other_pct)
        ));
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    }
}

/// Pins this process (every thread) to `cpus` with `taskset -a -p`.
pub(crate) fn pin_self(cpus: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &std::process::id().to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run taskset")?;
    anyhow::ensure!(status.success(), "taskset failed: {status}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_work_here() {
        assert!(meminfo_kib("Slab").unwrap() > 0);
        let s = sockstat().unwrap();
        assert!(s.inuse < 10_000_000);
        let me = std::process::id();
        let a = Snap::take(me, &[]).unwrap();
        let b = Snap::take(me, &[me]).unwrap();
        let cpu = a.until(&b);
        assert!(cpu.wall_s >= 0.0);
    }
}
