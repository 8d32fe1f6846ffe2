//! Token resume: a closed loop of concurrent workers calling `GET /api/auth/session` with one
//! bearer token, the way a reconnecting client proves its session without a password.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::StatusCode;
use serde::Serialize;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::login::transport_kind;
use crate::procfs::{CpuSnapshot, CpuUse};
use crate::stats::{Latency, f, histogram, record};

/// What the resume phase measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ResumeResult {
    /// Concurrent workers (one keep-alive connection each).
    pub(crate) workers: usize,
    /// Planned length, seconds.
    pub(crate) planned_s: f64,
    /// Until the last answer, seconds.
    pub(crate) elapsed_s: f64,
    /// Answered 200.
    pub(crate) ok: u64,
    /// Everything else.
    pub(crate) errors: u64,
    /// Errors by kind.
    pub(crate) error_kinds: BTreeMap<String, u64>,
    /// Successful resumes per second.
    pub(crate) per_s: f64,
    /// Send → response.
    pub(crate) latency: Latency,
    /// CPU of server and generator.
    pub(crate) cpu: CpuUse,
    /// Server CPU per request, µs.
    pub(crate) server_cpu_us_per_request: f64,
    /// Generator CPU per request, µs.
    pub(crate) generator_cpu_us_per_request: f64,
}

/// One worker's totals.
struct WorkerTally {
    latency: hdrhistogram::Histogram<u64>,
    ok: u64,
    kinds: BTreeMap<String, u64>,
    last_done: Instant,
}

async fn check_session(http: &reqwest::Client, url: &str, token: &str) -> Result<(), String> {
    let response = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| transport_kind(&e))?;
    let status = response.status();
    // Read the whole body so the connection goes back to the pool.
    response.bytes().await.map_err(|e| transport_kind(&e))?;
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(format!("http_{}", status.as_u16()))
    }
}

/// Runs `workers` closed-loop workers for `secs` seconds against the server at `base`.
pub(crate) async fn run(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    workers: usize,
    secs: f64,
    pid: u32,
) -> anyhow::Result<ResumeResult> {
    let url: std::sync::Arc<str> = format!("{base}/api/auth/session").into();
    let token: std::sync::Arc<str> = token.into();
    let mut tasks = JoinSet::new();
    let cpu0 = CpuSnapshot::take(pid)?;
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    for _ in 0..workers {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        let mut tally = WorkerTally {
            latency: histogram()?,
            ok: 0,
            kinds: BTreeMap::new(),
            last_done: start,
        };
        tasks.spawn(async move {
            // Bounded by the deadline (each request also has a client timeout).
            while Instant::now() < deadline {
                let sent = Instant::now();
                let outcome = check_session(&http, &url, &token).await;
                let done = Instant::now();
                record(&mut tally.latency, done.duration_since(sent));
                tally.last_done = done;
                match outcome {
                    Ok(()) => tally.ok += 1,
                    Err(kind) => *tally.kinds.entry(kind).or_default() += 1,
                }
            }
            tally
        });
    }
    let mut latency = histogram()?;
    let (mut ok, mut kinds, mut last_done) = (0_u64, BTreeMap::<String, u64>::new(), start);
    while let Some(joined) = tasks.join_next().await {
        let t = joined.context("a resume worker failed")?;
        latency.add(&t.latency).context("cannot merge histograms")?;
        ok += t.ok;
        for (k, v) in t.kinds {
            *kinds.entry(k).or_default() += v;
        }
        last_done = last_done.max(t.last_done);
    }
    let cpu = cpu0.since(pid)?;
    let errors: u64 = kinds.values().sum();
    let elapsed_s = last_done.duration_since(start).as_secs_f64();
    let requests = ok + errors;
    let per_request = |us: u64| {
        if requests == 0 {
            f64::NAN
        } else {
            f(us) / f(requests)
        }
    };
    Ok(ResumeResult {
        workers,
        planned_s: secs,
        elapsed_s,
        ok,
        errors,
        error_kinds: kinds,
        per_s: if elapsed_s > 0.0 {
            f(ok) / elapsed_s
        } else {
            f64::NAN
        },
        latency: Latency::of(&latency)?,
        server_cpu_us_per_request: per_request(cpu.server_cpu_us),
        generator_cpu_us_per_request: per_request(cpu.generator_cpu_us),
        cpu,
    })
}
