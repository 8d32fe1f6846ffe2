//! Password logins against the running server: open-loop Poisson steps at fixed offered rates
//! (latency from the *intended* start, so a slow server cannot hide queueing: no coordinated
//! omission), and a storm of simultaneous logins with the server's memory sampled throughout.
//! Every login is a real `POST /api/auth/login` with `client: cli`; anything but a 200 carrying
//! a bearer token counts as an error.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use hdrhistogram::Histogram;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use sealdesk_proto::auth::{ClientKind, LoginRequest, LoginResponse, Secret};
use serde::Serialize;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::procfs::{CpuSnapshot, CpuUse, status_value};
use crate::server::Account;
use crate::stats::{Latency, f, histogram, poisson_schedule, record};

/// Everything a login request needs; cheap to clone into tasks.
#[derive(Debug, Clone)]
pub(crate) struct LoginTarget {
    http: reqwest::Client,
    url: Arc<str>,
    body: Arc<[u8]>,
}

impl LoginTarget {
    /// Logins for `account` at `base`, sent through `http` (keep-alive pool).
    pub(crate) fn new(
        http: reqwest::Client,
        base: &str,
        account: &Account,
    ) -> anyhow::Result<Self> {
        let request = LoginRequest {
            tenant_id: account.tenant,
            email: account.email.clone(),
            password: Secret(account.password.clone()),
            totp: None,
            recovery_code: None,
            client: ClientKind::Cli,
        };
        Ok(Self {
            http,
            url: format!("{base}/api/auth/login").into(),
            body: serde_json::to_vec(&request)
                .context("cannot encode the login request")?
                .into(),
        })
    }

    /// One login; `Err` names the kind of failure.
    async fn attempt(&self) -> Result<(), String> {
        let response = self
            .http
            .post(&*self.url)
            .header(CONTENT_TYPE, "application/json")
            .body(self.body.to_vec())
            .send()
            .await
            .map_err(|e| transport_kind(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| transport_kind(&e))?;
        if status != StatusCode::OK {
            return Err(format!("http_{}", status.as_u16()));
        }
        match serde_json::from_slice::<LoginResponse>(&bytes) {
            Ok(r) if r.token.is_some() => Ok(()),
            Ok(_) => Err("no_token".to_owned()),
            Err(_) => Err("bad_body".to_owned()),
        }
    }
}

/// A short name for a transport failure.
pub(crate) fn transport_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".to_owned()
    } else if e.is_connect() {
        "connect".to_owned()
    } else {
        "transport".to_owned()
    }
}

/// One finished request.
struct Sample {
    intended: Instant,
    started: Instant,
    done: Instant,
    outcome: Result<(), String>,
}

/// Running totals over samples.
struct Tally {
    latency: Histogram<u64>,
    service: Histogram<u64>,
    ok: u64,
    errors: u64,
    kinds: BTreeMap<String, u64>,
    last_done: Option<Instant>,
    max_lag: Duration,
}

impl Tally {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            latency: histogram()?,
            service: histogram()?,
            ok: 0,
            errors: 0,
            kinds: BTreeMap::new(),
            last_done: None,
            max_lag: Duration::ZERO,
        })
    }

    fn add(&mut self, s: Sample) {
        record(&mut self.latency, s.done.duration_since(s.intended));
        record(&mut self.service, s.done.duration_since(s.started));
        self.max_lag = self.max_lag.max(s.started.duration_since(s.intended));
        self.last_done = Some(self.last_done.map_or(s.done, |d| d.max(s.done)));
        match s.outcome {
            Ok(()) => self.ok += 1,
            Err(kind) => {
                self.errors += 1;
                *self.kinds.entry(kind).or_default() += 1;
            }
        }
    }

    async fn drain(&mut self, tasks: &mut JoinSet<Sample>) -> anyhow::Result<()> {
        // Bounded: every request has a client timeout.
        while let Some(joined) = tasks.join_next().await {
            self.add(joined.context("a login task failed")?);
        }
        Ok(())
    }
}

/// One open-loop step.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepResult {
    /// Offered logins per second (Poisson arrivals).
    pub(crate) offered_per_s: f64,
    /// Length of the arrival schedule, seconds.
    pub(crate) schedule_s: f64,
    /// Logins sent.
    pub(crate) sent: u64,
    /// Logins answered 200 with a token.
    pub(crate) ok: u64,
    /// Everything else.
    pub(crate) errors: u64,
    /// Errors by kind (`http_429`, `timeout`, …).
    pub(crate) error_kinds: BTreeMap<String, u64>,
    /// Successful logins ÷ (schedule length, or until the last answer if later).
    pub(crate) achieved_per_s: f64,
    /// Seconds after the schedule ended until the last answer (queue drain).
    pub(crate) drain_s: f64,
    /// Intended start → response (coordinated-omission corrected).
    pub(crate) latency: Latency,
    /// Actual send → response.
    pub(crate) service: Latency,
    /// Worst delay between a request's intended and actual start (generator health).
    pub(crate) max_send_lag_ms: f64,
    /// CPU of server and generator over the step.
    pub(crate) cpu: CpuUse,
    /// Server CPU per login sent, µs.
    pub(crate) server_cpu_us_per_login: f64,
    /// Generator CPU per login sent, µs.
    pub(crate) generator_cpu_us_per_login: f64,
    /// Server `VmRSS` after the last answer, KiB.
    pub(crate) rss_after_kib: u64,
}

/// Offers Poisson arrivals at `rate`/s for `secs` s, then waits for every answer.
pub(crate) async fn open_loop_step(
    target: &LoginTarget,
    rate: f64,
    secs: f64,
    seed: u64,
    pid: u32,
) -> anyhow::Result<StepResult> {
    let schedule = poisson_schedule(rate, secs, seed);
    let mut tally = Tally::new()?;
    let mut tasks = JoinSet::new();
    let cpu0 = CpuSnapshot::take(pid)?;
    let start = Instant::now();
    for offset in &schedule {
        let intended = start + *offset;
        tokio::time::sleep_until(intended).await;
        let target = target.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            let outcome = target.attempt().await;
            Sample {
                intended,
                started,
                done: Instant::now(),
                outcome,
            }
        });
        // Collect finished answers as we go so the set stays small.
        while let Some(joined) = tasks.try_join_next() {
            tally.add(joined.context("a login task failed")?);
        }
    }
    tally.drain(&mut tasks).await?;
    let cpu = cpu0.since(pid)?;
    let sent = schedule.len() as u64;
    let until_last = tally
        .last_done
        .map_or(0.0, |d| d.duration_since(start).as_secs_f64());
    let elapsed = until_last.max(secs);
    Ok(StepResult {
        offered_per_s: rate,
        schedule_s: secs,
        sent,
        ok: tally.ok,
        errors: tally.errors,
        error_kinds: tally.kinds,
        achieved_per_s: f(tally.ok) / elapsed,
        drain_s: (until_last - secs).max(0.0),
        latency: Latency::of(&tally.latency)?,
        service: Latency::of(&tally.service)?,
        max_send_lag_ms: tally.max_lag.as_secs_f64() * 1000.0,
        server_cpu_us_per_login: per(cpu.server_cpu_us, sent),
        generator_cpu_us_per_login: per(cpu.generator_cpu_us, sent),
        rss_after_kib: status_value(pid, "VmRSS")?,
        cpu,
    })
}

fn per(cpu_us: u64, n: u64) -> f64 {
    if n == 0 { f64::NAN } else { f(cpu_us) / f(n) }
}

/// The storm of simultaneous logins.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StormResult {
    /// Logins started at once.
    pub(crate) logins: u64,
    /// Answered 200 with a token.
    pub(crate) ok: u64,
    /// Everything else.
    pub(crate) errors: u64,
    /// Errors by kind.
    pub(crate) error_kinds: BTreeMap<String, u64>,
    /// From the start until the last answer, seconds.
    pub(crate) duration_s: f64,
    /// Successful logins ÷ duration: the server's saturated login rate.
    pub(crate) logins_per_s: f64,
    /// Start of the storm → each response.
    pub(crate) latency: Latency,
    /// Server `VmRSS` just before, KiB.
    pub(crate) rss_before_kib: u64,
    /// Highest `VmRSS` sampled during the storm (every 50 ms), KiB.
    pub(crate) rss_peak_kib: u64,
    /// `VmRSS` after the last answer, KiB.
    pub(crate) rss_after_kib: u64,
    /// Peak − before, in MB (10^6 bytes).
    pub(crate) rss_growth_mb: f64,
    /// Server `VmHWM` before and after, KiB (the kernel's own peak; covers earlier phases too).
    pub(crate) hwm_before_kib: u64,
    /// See `hwm_before_kib`.
    pub(crate) hwm_after_kib: u64,
    /// Server threads after the storm (`Threads` in `/proc/PID/status`).
    pub(crate) threads_after: u64,
    /// Memory samples taken.
    pub(crate) rss_samples: u64,
    /// CPU of server and generator over the storm.
    pub(crate) cpu: CpuUse,
    /// Server CPU per login, µs.
    pub(crate) server_cpu_us_per_login: f64,
}

/// Starts `n` logins at once through a fresh connection pool and waits for all of them.
pub(crate) async fn storm(target: &LoginTarget, n: u64, pid: u32) -> anyhow::Result<StormResult> {
    let rss_before = status_value(pid, "VmRSS")?;
    let hwm_before = status_value(pid, "VmHWM")?;
    let done = Arc::new(AtomicBool::new(false));
    let poller = {
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let (mut peak, mut samples) = (rss_before, 0_u64);
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            // Bounded: 10 minutes of 50 ms samples at most.
            for _ in 0..12_000 {
                tick.tick().await;
                if let Ok(kib) = status_value(pid, "VmRSS") {
                    peak = peak.max(kib);
                    samples += 1;
                }
                if done.load(Ordering::Relaxed) {
                    break;
                }
            }
            (peak, samples)
        })
    };
    let mut tally = Tally::new()?;
    let mut tasks = JoinSet::new();
    let cpu0 = CpuSnapshot::take(pid)?;
    let start = Instant::now();
    for _ in 0..n {
        let target = target.clone();
        tasks.spawn(async move {
            let started = Instant::now();
            let outcome = target.attempt().await;
            Sample {
                intended: start,
                started,
                done: Instant::now(),
                outcome,
            }
        });
    }
    tally.drain(&mut tasks).await?;
    let duration_s = tally
        .last_done
        .map_or(0.0, |d| d.duration_since(start).as_secs_f64());
    let cpu = cpu0.since(pid)?;
    done.store(true, Ordering::Relaxed);
    let (peak, samples) = poller.await.context("the memory poller failed")?;
    let rss_after = status_value(pid, "VmRSS")?;
    let peak = peak.max(rss_after);
    Ok(StormResult {
        logins: n,
        ok: tally.ok,
        errors: tally.errors,
        error_kinds: tally.kinds,
        duration_s,
        logins_per_s: if duration_s > 0.0 {
            f(tally.ok) / duration_s
        } else {
            f64::NAN
        },
        latency: Latency::of(&tally.latency)?,
        rss_before_kib: rss_before,
        rss_peak_kib: peak,
        rss_after_kib: rss_after,
        rss_growth_mb: f(peak.saturating_sub(rss_before)) * 1024.0 / 1e6,
        hwm_before_kib: hwm_before,
        hwm_after_kib: status_value(pid, "VmHWM")?,
        rss_samples: samples,
        threads_after: status_value(pid, "Threads")?,
        server_cpu_us_per_login: per(cpu.server_cpu_us, n),
        cpu,
    })
}
