//! Readings from `/proc`: CPU time (utime + stime) of the server and of this generator, the
//! server's resident memory, and the environment fingerprint written next to every result.

use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::stats::f;

/// Kernel clock ticks per second for `/proc/PID/stat` times (`USER_HZ`, 100 on Linux).
pub(crate) const CLOCK_TICKS_PER_SEC: u64 = 100;

/// utime + stime of a process, in clock ticks (`who` is a PID or `self`).
pub(crate) fn cpu_ticks(who: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{who}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .with_context(|| format!("unexpected {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': field 3 (state) has index 0, so utime (14) is 11 and stime (15) is 12.
    let tick = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .with_context(|| format!("{path}: too few fields"))?
            .parse::<u64>()
            .with_context(|| format!("{path}: field {} is not a number", i + 3))
    };
    Ok(tick(11)? + tick(12)?)
}

/// A numeric line of `/proc/PID/status`: `VmRSS` and `VmHWM` in KiB, `Threads` as a count.
pub(crate) fn status_value(pid: u32, key: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("{path} has no {key}"))
}

/// Busy time of the whole machine (all CPUs, not idle or waiting for I/O), in clock ticks.
pub(crate) fn machine_busy_ticks() -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .context("/proc/stat has no cpu line")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    Ok([0, 1, 2, 5, 6, 7].iter().filter_map(|i| v.get(*i)).sum())
}

/// CPU times of the server, the generator and the whole machine at one instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuSnapshot {
    server_ticks: u64,
    generator_ticks: u64,
    machine_ticks: u64,
    at: Instant,
}

/// CPU used between two snapshots.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct CpuUse {
    /// Wall-clock seconds.
    pub(crate) wall_s: f64,
    /// Server CPU, µs (10 000 µs resolution).
    pub(crate) server_cpu_us: u64,
    /// Generator (this process) CPU, µs.
    pub(crate) generator_cpu_us: u64,
    /// CPU of every other process on the machine (builds, other benchmarks), µs.
    pub(crate) other_cpu_us: u64,
}

impl CpuUse {
    /// Server CPU as a percentage of one core.
    pub(crate) fn server_pct(&self) -> f64 {
        pct(self.server_cpu_us, self.wall_s)
    }
    /// Generator CPU as a percentage of one core.
    pub(crate) fn generator_pct(&self) -> f64 {
        pct(self.generator_cpu_us, self.wall_s)
    }
    /// Other processes' CPU as a percentage of one core.
    pub(crate) fn other_pct(&self) -> f64 {
        pct(self.other_cpu_us, self.wall_s)
    }
}

fn pct(cpu_us: u64, wall_s: f64) -> f64 {
    if wall_s > 0.0 {
        f(cpu_us) / (wall_s * 1e6) * 100.0
    } else {
        0.0
    }
}

impl CpuSnapshot {
    /// Reads the server's and this process's CPU times now.
    pub(crate) fn take(server_pid: u32) -> anyhow::Result<Self> {
        Ok(Self {
            server_ticks: cpu_ticks(&server_pid.to_string())?,
            generator_ticks: cpu_ticks("self")?,
            machine_ticks: machine_busy_ticks()?,
            at: Instant::now(),
        })
    }

    /// CPU used from `self` until a fresh reading.
    pub(crate) fn since(&self, server_pid: u32) -> anyhow::Result<CpuUse> {
        let now = Self::take(server_pid)?;
        let us = |ticks: u64| ticks * (1_000_000 / CLOCK_TICKS_PER_SEC);
        let server = now.server_ticks.saturating_sub(self.server_ticks);
        let generator = now.generator_ticks.saturating_sub(self.generator_ticks);
        let machine = now.machine_ticks.saturating_sub(self.machine_ticks);
        Ok(CpuUse {
            wall_s: now.at.duration_since(self.at).as_secs_f64(),
            server_cpu_us: us(server),
            generator_cpu_us: us(generator),
            other_cpu_us: us(machine.saturating_sub(server + generator)),
        })
    }
}

/// Where and on what the numbers were measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Environment {
    /// UTC time the benchmark started (RFC 3339).
    pub(crate) started_utc: String,
    /// Logical CPUs available to this process.
    pub(crate) nproc: usize,
    /// `model name` from `/proc/cpuinfo`.
    pub(crate) cpu_model: Option<String>,
    /// `MemTotal` in KiB.
    pub(crate) mem_total_kib: Option<u64>,
    /// Kernel release.
    pub(crate) kernel: Option<String>,
    /// Soft limit on open files for this process (the server inherits it).
    pub(crate) open_files_limit: Option<String>,
    /// `git rev-parse HEAD` of the working directory, when available.
    pub(crate) git_commit: Option<String>,
    /// Whether `git diff --quiet HEAD` saw uncommitted changes (the binary may include them).
    pub(crate) git_worktree_dirty: Option<bool>,
    /// `sealdesk --version` of the measured binary.
    pub(crate) sealdesk_version: Option<String>,
    /// The measured binary's path.
    pub(crate) sealdesk_binary: String,
    /// When the measured binary was built (its mtime); the git fields describe the working
    /// directory now, which may have moved on since the build.
    pub(crate) sealdesk_binary_modified_utc: Option<String>,
    /// `shared`: server and generator are not pinned; both use both cores.
    pub(crate) cpu_mode: &'static str,
    /// `MALLOC_*` variables in this process's environment; the server inherits them.
    pub(crate) malloc_env: Vec<String>,
    /// `USER_HZ` used to convert `/proc` CPU times.
    pub(crate) clock_ticks_per_sec: u64,
}

fn first_line_of(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.lines().next().map(|l| l.trim().to_owned()))
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl Environment {
    /// Collects the fingerprint; missing pieces are `None`, never an error.
    // A benchmark records the real date; there is no injected clock outside the server.
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn collect(sealdesk: &str) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        Self {
            started_utc: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            nproc: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
                .map(|(_, v)| v.trim().to_owned()),
            mem_total_kib: meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok()),
            kernel: first_line_of("/proc/sys/kernel/osrelease"),
            open_files_limit: limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_owned)),
            git_commit: command_output("git", &["rev-parse", "HEAD"]),
            git_worktree_dirty: std::process::Command::new("git")
                .args(["diff", "--quiet", "HEAD"])
                .stderr(std::process::Stdio::null())
                .status()
                .ok()
                .and_then(|s| match s.code() {
                    Some(0) => Some(false),
                    Some(1) => Some(true),
                    _ => None,
                }),
            sealdesk_version: command_output(sealdesk, &["--version"]),
            sealdesk_binary: sealdesk.to_owned(),
            sealdesk_binary_modified_utc: std::fs::metadata(sealdesk)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| {
                    time::OffsetDateTime::from(t)
                        .format(&time::format_description::well_known::Rfc3339)
                        .ok()
                }),
            cpu_mode: "shared",
            malloc_env: std::env::vars()
                .filter(|(k, _)| k.starts_with("MALLOC_"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            clock_ticks_per_sec: CLOCK_TICKS_PER_SEC,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        assert!(cpu_ticks("self").is_ok());
        let pid = std::process::id();
        assert!(status_value(pid, "VmRSS").unwrap() > 0);
        let snap = CpuSnapshot::take(pid).unwrap();
        let used = snap.since(pid).unwrap();
        assert!(used.wall_s >= 0.0);
    }
}
