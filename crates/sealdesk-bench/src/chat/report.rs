//! Summaries of the chat scenarios: each metric's median with min–max per system over the
//! runs, the ratio ours ÷ null relay from the same invocation, and the gate target; as JSON
//! rows and as a Markdown table. Also the shared result-file writer.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::chat::target::System;
use crate::metrics::Goal;
use crate::report::{num, unit_suffix};
use crate::stats::{Spread, spread};

type Getter<R> = Box<dyn Fn(&R) -> f64>;

/// A metric of a run type `R`.
pub(crate) struct Metric<R> {
    key: &'static str,
    label: String,
    unit: &'static str,
    higher_is_better: bool,
    goal: Option<Goal>,
    get: Getter<R>,
}

/// A metric definition.
pub(crate) fn metric<R>(
    key: &'static str,
    label: impl Into<String>,
    unit: &'static str,
    higher_is_better: bool,
    goal: Option<Goal>,
    get: impl Fn(&R) -> f64 + 'static,
) -> Metric<R> {
    Metric {
        key,
        label: label.into(),
        unit,
        higher_is_better,
        goal,
        get: Box::new(get),
    }
}

/// One summary row.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    key: &'static str,
    metric: String,
    unit: &'static str,
    better: &'static str,
    target: Option<Goal>,
    ours: Option<Spread>,
    null_relay: Option<Spread>,
    /// Median ours ÷ median null relay.
    ratio: Option<f64>,
    /// Whether our median meets the target.
    met: Option<bool>,
}

/// Rows for `metrics` over `runs`.
pub(crate) fn rows<R>(
    metrics: &[Metric<R>],
    runs: &[R],
    system: impl Fn(&R) -> System,
) -> Vec<Row> {
    metrics
        .iter()
        .map(|m| {
            let of = |s: System| {
                let values: Vec<f64> = runs
                    .iter()
                    .filter(|r| system(r) == s)
                    .map(|r| (m.get)(r))
                    .collect();
                (!values.is_empty()).then(|| spread(&values))
            };
            let ours = of(System::Ours);
            let null_relay = of(System::NullRelay);
            let ratio = match (&ours, &null_relay) {
                (Some(o), Some(n)) if n.median != 0.0 && n.median.is_finite() => {
                    Some(o.median / n.median)
                }
                _ => None,
            };
            Row {
                key: m.key,
                metric: m.label.clone(),
                unit: m.unit,
                better: if m.higher_is_better {
                    "higher"
                } else {
                    "lower"
                },
                target: m.goal,
                met: m.goal.and_then(|g| ours.as_ref().map(|o| g.met(o.median))),
                ours,
                null_relay,
                ratio,
            }
        })
        .collect()
}

fn cell(s: Option<&Spread>, unit: &str) -> String {
    match s {
        None => "—".to_owned(),
        Some(s) if s.values.len() == 1 => format!("{}{}", num(s.median), unit_suffix(unit)),
        Some(s) => format!(
            "{}{} ({}–{})",
            num(s.median),
            unit_suffix(unit),
            num(s.min),
            num(s.max)
        ),
    }
}

/// The Markdown table of `rows`.
pub(crate) fn table(rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| Metric | Target (gate) | Ours: median (min–max) | Null relay: median (min–max) | Ours ÷ null | Better | Met |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---|---|");
    for r in rows {
        let target = r.target.map_or_else(|| "—".to_owned(), |g| g.text(r.unit));
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let ratio = r
            .ratio
            .map_or_else(|| "—".to_owned(), |x| format!("{}×", num(x)));
        let _ = writeln!(
            s,
            "| {} | {target} | {} | {} | {ratio} | {} | {met} |",
            r.metric,
            cell(r.ours.as_ref(), r.unit),
            cell(r.null_relay.as_ref(), r.unit),
            r.better
        );
    }
    s
}

/// `bench/results/<UTC date>/<name>.json` unless `out` is given.
pub(crate) fn out_path(out: Option<&Path>, started_utc: &str, name: &str) -> PathBuf {
    out.map_or_else(
        || {
            let date = started_utc.get(..10).unwrap_or("undated");
            PathBuf::from(format!("bench/results/{date}/{name}.json"))
        },
        Path::to_path_buf,
    )
}

/// Writes `value` as pretty JSON to `path` (creating its directory).
pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let json = serde_json::to_vec_pretty(value).context("cannot encode the results")?;
    std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))
}

/// Prints the report on stdout.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// A progress line on stderr.
pub(crate) fn progress(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "[sealdesk-bench] {msg}");
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R(System, f64);

    #[test]
    fn rows_split_by_system_and_compare_medians() {
        let runs = [
            R(System::NullRelay, 2.0),
            R(System::Ours, 5.0),
            R(System::NullRelay, 4.0),
            R(System::Ours, 7.0),
            R(System::NullRelay, 3.0),
            R(System::Ours, 6.0),
        ];
        let m = [metric::<R>(
            "x",
            "x",
            "ms",
            false,
            Some(Goal::AtMost(6.5)),
            |r| r.1,
        )];
        let rows = rows(&m, &runs, |r| r.0);
        let row = &rows[0];
        assert!((row.ours.as_ref().unwrap().median - 6.0).abs() < 1e-9);
        assert!((row.null_relay.as_ref().unwrap().median - 3.0).abs() < 1e-9);
        assert!((row.ratio.unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(row.met, Some(true));
        let md = table(&rows);
        assert!(
            md.contains("| x | ≤ 6.50 ms | 6 ms (5–7) | 3 ms (2–4) | 2× | lower | yes |"),
            "{md}"
        );
    }
}
