//! The S7 summary: each metric as the median with min–max over the runs, checked against the
//! gate targets of PERFORMANCE.md, as JSON rows and as a Markdown table.

use std::fmt::Write as _;

use serde::Serialize;

use crate::metrics::{Goal, defs};
use crate::procfs::Environment;
use crate::s7::{RunResult, S7Args};
use crate::stats::spread;

pub(crate) fn unit_suffix(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

/// One summary row.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    key: String,
    metric: String,
    unit: &'static str,
    better: &'static str,
    target: Option<Goal>,
    median: f64,
    min: f64,
    max: f64,
    values: Vec<f64>,
    /// Whether the median meets the target (`None`: no target).
    met: Option<bool>,
}

/// Median with min–max of every metric over `runs`.
pub(crate) fn summarise(runs: &[RunResult], rates: &[f64]) -> Vec<Row> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    defs(rates, first)
        .into_iter()
        .map(|d| {
            let values: Vec<f64> = runs.iter().map(|r| (d.get)(r)).collect();
            let s = spread(&values);
            Row {
                key: d.key,
                metric: d.metric,
                unit: d.unit,
                better: if d.higher_is_better {
                    "higher"
                } else {
                    "lower"
                },
                target: d.goal,
                met: d.goal.map(|g| g.met(s.median)),
                median: s.median,
                min: s.min,
                max: s.max,
                values: s.values,
            }
        })
        .collect()
}

/// A number with as many decimals as its size deserves.
pub(crate) fn num(v: f64) -> String {
    let a = v.abs();
    if v.is_nan() {
        "n/a".to_owned()
    } else if a >= 100.0 || v.fract().abs() < f64::EPSILON {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The Markdown report: context lines and the table.
pub(crate) fn markdown(env: &Environment, args: &S7Args, rows: &[Row]) -> String {
    let mut s = String::new();
    let cpu = env.cpu_model.as_deref().unwrap_or("unknown CPU");
    let _ = writeln!(s, "### S7: login (password) and resume (token)\n");
    let _ = writeln!(
        s,
        "- date (UTC): {}; commit: {}{}",
        env.started_utc,
        env.git_commit.as_deref().unwrap_or("unknown"),
        if env.git_worktree_dirty == Some(true) {
            " plus uncommitted changes"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "- machine: {} × {cpu}, kernel {}, CPU mode: {} (server and generator share the cores)",
        env.nproc,
        env.kernel.as_deref().unwrap_or("?"),
        env.cpu_mode
    );
    let _ = writeln!(
        s,
        "- runs: {} (median, min–max); steps {} s each after {} s warm-up; storm {}; resume {} workers × {} s",
        args.runs,
        num(args.step_secs),
        num(args.warmup_secs),
        args.storm,
        args.resume_workers,
        num(args.resume_secs)
    );
    let _ = writeln!(
        s,
        "- binary: {} ({}, built {})",
        env.sealdesk_binary,
        env.sealdesk_version.as_deref().unwrap_or("unknown version"),
        env.sealdesk_binary_modified_utc
            .as_deref()
            .unwrap_or("at an unknown time")
    );
    if !env.malloc_env.is_empty() {
        let _ = writeln!(
            s,
            "- allocator settings passed to the server: {}",
            env.malloc_env.join(" ")
        );
    }
    let _ = writeln!(s, "\n| Metric | Target | Median | Min–max | Better | Met |");
    let _ = writeln!(s, "|---|---|---:|---:|---|---|");
    for r in rows {
        let unit = unit_suffix(r.unit);
        let target = r.target.map_or_else(|| "—".to_owned(), |g| g.text(r.unit));
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(
            s,
            "| {} | {target} | {}{unit} | {}–{} | {} | {met} |",
            r.metric,
            num(r.median),
            num(r.min),
            num(r.max),
            r.better
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(5000.4), "5000");
        assert_eq!(num(40.0), "40");
        assert_eq!(num(12.34), "12.3");
        assert_eq!(num(0.456), "0.46");
        assert_eq!(num(f64::NAN), "n/a");
    }

    #[test]
    fn goals() {
        assert!(Goal::AtLeast(60.0).met(60.0));
        assert!(!Goal::AtMost(250.0).met(250.1));
        assert_eq!(Goal::AtMost(100.0).text("MB"), "≤ 100 MB");
    }
}
