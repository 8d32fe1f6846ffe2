//! The metrics of the S7 summary: what each row reads from a run, its unit, which direction
//! is better, and the gate target from PERFORMANCE.md where there is one.

use serde::Serialize;

use crate::report::{num, unit_suffix};
use crate::s7::RunResult;
use crate::stats::f;

/// A gate target.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

impl Goal {
    pub(crate) fn met(self, v: f64) -> bool {
        match self {
            Goal::AtLeast(t) => v >= t,
            Goal::AtMost(t) => v <= t,
        }
    }
    pub(crate) fn text(self, unit: &str) -> String {
        match self {
            Goal::AtLeast(t) => format!("≥ {}{}", num(t), unit_suffix(unit)),
            Goal::AtMost(t) => format!("≤ {}{}", num(t), unit_suffix(unit)),
        }
    }
}

type Getter = Box<dyn Fn(&RunResult) -> f64>;

pub(crate) struct Def {
    pub(crate) key: String,
    pub(crate) metric: String,
    pub(crate) unit: &'static str,
    pub(crate) higher_is_better: bool,
    pub(crate) goal: Option<Goal>,
    pub(crate) get: Getter,
}

fn def(
    key: impl Into<String>,
    metric: impl Into<String>,
    unit: &'static str,
    higher_is_better: bool,
    goal: Option<Goal>,
    get: impl Fn(&RunResult) -> f64 + 'static,
) -> Def {
    Def {
        key: key.into(),
        metric: metric.into(),
        unit,
        higher_is_better,
        goal,
        get: Box::new(get),
    }
}

fn kib_to_mb(kib: u64) -> f64 {
    f(kib) * 1024.0 / 1e6
}
fn step_defs(rates: &[f64], first: &RunResult) -> Vec<Def> {
    let step = |r: &RunResult, i: usize| r.steps.get(i).cloned();
    let mut d = vec![def(
        "reference.verifies_per_s",
        format!(
            "Argon2id raw verifies/s, reference ({} threads)",
            first.reference.threads
        ),
        "/s",
        true,
        None,
        |r| r.reference.verifies_per_s,
    )];
    d.push(def(
        "reference.other_cpu_pct",
        "reference: other processes' CPU",
        "% of a core",
        false,
        None,
        |r| r.reference_cpu.other_pct(),
    ));
    for (i, rate) in rates.iter().copied().enumerate() {
        let p99_goal = ((rate - 40.0).abs() < f64::EPSILON).then_some(Goal::AtMost(250.0));
        d.push(def(
            format!("login.{rate}.achieved"),
            format!("login @ {} /s offered: achieved", num(rate)),
            "/s",
            true,
            None,
            move |r| step(r, i).map_or(f64::NAN, |s| s.achieved_per_s),
        ));
        d.push(def(
            format!("login.{rate}.p50_ms"),
            format!("login @ {} /s: p50", num(rate)),
            "ms",
            false,
            None,
            move |r| step(r, i).map_or(f64::NAN, |s| s.latency.p50_ms),
        ));
        d.push(def(
            format!("login.{rate}.p99_ms"),
            format!("login @ {} /s: p99", num(rate)),
            "ms",
            false,
            p99_goal,
            move |r| step(r, i).map_or(f64::NAN, |s| s.latency.p99_ms),
        ));
        d.push(def(
            format!("login.{rate}.rss_after_mb"),
            format!("login @ {} /s: server RSS after the step", num(rate)),
            "MB",
            false,
            None,
            move |r| step(r, i).map_or(f64::NAN, |s| kib_to_mb(s.rss_after_kib)),
        ));
        d.push(def(
            format!("login.{rate}.errors"),
            format!("login @ {} /s: errors", num(rate)),
            "",
            false,
            None,
            move |r| step(r, i).map_or(f64::NAN, |s| f(s.errors)),
        ));
    }
    d
}

fn login_summary_defs() -> Vec<Def> {
    let mut d = Vec::new();
    d.push(def(
        "login.max_rate_within_slo",
        "highest offered rate with p99 ≤ 250 ms and 0 errors",
        "/s",
        true,
        None,
        |r| r.max_rate_within_slo,
    ));
    d.push(def(
        "login.server_cpu_ms_per_login",
        "server CPU per login (all steps)",
        "ms",
        false,
        None,
        |r| {
            let cpu: u64 = r.steps.iter().map(|s| s.cpu.server_cpu_us).sum();
            let sent: u64 = r.steps.iter().map(|s| s.sent).sum();
            f(cpu) / 1000.0 / f(sent)
        },
    ));
    d.push(def(
        "login.max_other_cpu_pct",
        "other processes' CPU during login steps (max)",
        "% of a core",
        false,
        None,
        |r| {
            r.steps
                .iter()
                .map(|s| s.cpu.other_pct())
                .fold(0.0, f64::max)
        },
    ));
    d.push(def(
        "login.max_generator_cpu_pct",
        "generator CPU during login steps (max)",
        "% of a core",
        false,
        None,
        |r| {
            r.steps
                .iter()
                .map(|s| s.cpu.generator_pct())
                .fold(0.0, f64::max)
        },
    ));
    d
}

fn storm_defs(first: &RunResult) -> Vec<Def> {
    let mut d = Vec::new();
    let n = first.storm.logins;
    d.push(def(
        "storm.logins_per_s",
        format!("saturated login rate (storm of {n})"),
        "/s",
        true,
        Some(Goal::AtLeast(60.0)),
        |r| r.storm.logins_per_s,
    ));
    d.push(def(
        "ratio_to_reference",
        "login rate ÷ raw Argon2id verifies/s",
        "×",
        true,
        None,
        |r| r.ratio_to_reference,
    ));
    d.push(def(
        "storm.duration_s",
        format!("storm: all {n} logins done"),
        "s",
        false,
        Some(Goal::AtMost(30.0)),
        |r| r.storm.duration_s,
    ));
    d.push(def(
        "storm.errors",
        "storm: errors",
        "",
        false,
        Some(Goal::AtMost(0.0)),
        |r| f(r.storm.errors),
    ));
    d.push(def(
        "storm.p99_ms",
        "storm: p99 time to answer",
        "ms",
        false,
        None,
        |r| r.storm.latency.p99_ms,
    ));
    d.push(def(
        "storm.rss_growth_mb",
        "storm: server RSS growth (peak − before)",
        "MB",
        false,
        Some(Goal::AtMost(100.0)),
        |r| r.storm.rss_growth_mb,
    ));
    d.push(def(
        "storm.rss_peak_minus_idle_mb",
        "storm: server RSS peak − idle RSS (includes the steps before)",
        "MB",
        false,
        None,
        |r| kib_to_mb(r.storm.rss_peak_kib.saturating_sub(r.server_idle_rss_kib)),
    ));
    d.push(def(
        "storm.threads_after",
        "server threads after the storm",
        "",
        false,
        None,
        |r| f(r.storm.threads_after),
    ));
    d.push(def(
        "storm.rss_peak_mb",
        "storm: server RSS peak",
        "MB",
        false,
        None,
        |r| kib_to_mb(r.storm.rss_peak_kib),
    ));
    d.push(def(
        "storm.other_cpu_pct",
        "storm: other processes' CPU",
        "% of a core",
        false,
        None,
        |r| r.storm.cpu.other_pct(),
    ));
    d.push(def(
        "storm.generator_cpu_pct",
        "storm: generator CPU",
        "% of a core",
        false,
        None,
        |r| r.storm.cpu.generator_pct(),
    ));
    d
}

fn resume_defs(first: &RunResult) -> Vec<Def> {
    let mut d = Vec::new();
    let w = first.resume.workers;
    d.push(def(
        "resume.per_s",
        format!("token resume, {w} workers"),
        "/s",
        true,
        Some(Goal::AtLeast(5000.0)),
        |r| r.resume.per_s,
    ));
    d.push(def(
        "resume.p99_ms",
        "token resume: p99",
        "ms",
        false,
        None,
        |r| r.resume.latency.p99_ms,
    ));
    d.push(def(
        "resume.errors",
        "token resume: errors",
        "",
        false,
        Some(Goal::AtMost(0.0)),
        |r| f(r.resume.errors),
    ));
    d.push(def(
        "resume.server_cpu_us",
        "token resume: server CPU per request",
        "µs",
        false,
        None,
        |r| r.resume.server_cpu_us_per_request,
    ));
    d.push(def(
        "resume.server_cpu_pct",
        "token resume: server CPU",
        "% of a core",
        false,
        None,
        |r| r.resume.cpu.server_pct(),
    ));
    d.push(def(
        "resume.other_cpu_pct",
        "token resume: other processes' CPU",
        "% of a core",
        false,
        None,
        |r| r.resume.cpu.other_pct(),
    ));
    d.push(def(
        "resume.generator_cpu_pct",
        "token resume: generator CPU",
        "% of a core",
        false,
        None,
        |r| r.resume.cpu.generator_pct(),
    ));
    d.push(def(
        "server.idle_rss_mb",
        "server RSS when ready, idle",
        "MB",
        false,
        None,
        |r| kib_to_mb(r.server_idle_rss_kib),
    ));
    d
}

/// Every metric of the summary, in table order.
pub(crate) fn defs(rates: &[f64], first: &RunResult) -> Vec<Def> {
    let mut d = step_defs(rates, first);
    d.extend(login_summary_defs());
    d.extend(storm_defs(first));
    d.extend(resume_defs(first));
    d
}
