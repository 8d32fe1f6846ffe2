//! Numbers shared by every phase: HDR latency histograms and their summaries (with the raw
//! histogram kept as a base64 V2-deflate blob), run-to-run spreads (median with min–max), and
//! the seeded random source behind the open-loop Poisson schedules.

use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use serde::Serialize;

/// Highest latency a histogram tracks: 60 s, in microseconds (PERFORMANCE.md: 1 µs .. 60 s).
const HIGHEST_US: u64 = 60_000_000;

/// A latency histogram in microseconds, 3 significant digits.
pub(crate) fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, HIGHEST_US, 3).context("cannot create an HDR histogram")
}

/// Records `d` in microseconds, clamped to the histogram's range.
pub(crate) fn record(h: &mut Histogram<u64>, d: Duration) {
    let us = u64::try_from(d.as_micros())
        .unwrap_or(u64::MAX)
        .clamp(1, HIGHEST_US);
    h.saturating_record(us);
}

/// Converts a count to `f64`. Counts here stay far below 2^53, so nothing is lost.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn f(x: u64) -> f64 {
    x as f64
}

/// Microseconds to milliseconds.
fn ms(us: u64) -> f64 {
    f(us) / 1000.0
}

/// A latency distribution: percentiles in milliseconds, plus the raw histogram.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Latency {
    /// Number of samples.
    pub(crate) samples: u64,
    /// Median.
    pub(crate) p50_ms: f64,
    /// 90th percentile.
    pub(crate) p90_ms: f64,
    /// 99th percentile.
    pub(crate) p99_ms: f64,
    /// 99.9th percentile.
    pub(crate) p999_ms: f64,
    /// Maximum.
    pub(crate) max_ms: f64,
    /// Mean.
    pub(crate) mean_ms: f64,
    /// The histogram (µs), `HdrHistogram` V2 + deflate, base64.
    pub(crate) hdr_v2_deflate_b64: String,
}

impl Latency {
    /// Summarises `h` (values in microseconds).
    pub(crate) fn of(h: &Histogram<u64>) -> anyhow::Result<Self> {
        let mut raw = Vec::new();
        V2DeflateSerializer::new()
            .serialize(h, &mut raw)
            .map_err(|e| anyhow::anyhow!("cannot serialise a histogram: {e:?}"))?;
        Ok(Self {
            samples: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
            hdr_v2_deflate_b64: base64::engine::general_purpose::STANDARD.encode(raw),
        })
    }
}

/// One metric over several runs.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Spread {
    /// Median (the mean of the middle two for an even count).
    pub(crate) median: f64,
    /// Smallest value.
    pub(crate) min: f64,
    /// Largest value.
    pub(crate) max: f64,
    /// Every run's value, in run order.
    pub(crate) values: Vec<f64>,
}

/// The spread of `values` (NaN for an empty slice).
pub(crate) fn spread(values: &[f64]) -> Spread {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    };
    Spread {
        median,
        min: sorted.first().copied().unwrap_or(f64::NAN),
        max: sorted.last().copied().unwrap_or(f64::NAN),
        values: values.to_vec(),
    }
}

/// `SplitMix64`: a small, fast, seedable generator; good enough for arrival times.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    /// A generator seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        f(self.next_u64() >> 11) / f(1 << 53)
    }

    /// Uniform in [0, n) (0 for n = 0); the modulo bias is negligible for the small `n` used.
    #[cfg(test)]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// Arrival offsets of a Poisson process at `rate` per second over `secs` seconds
/// (exponential gaps), precomputed so the sender never decides timing on the fly.
pub(crate) fn poisson_schedule(rate: f64, secs: f64, seed: u64) -> Vec<Duration> {
    let mut rng = SplitMix::new(seed);
    let mut at = 0.0_f64;
    let mut out = Vec::new();
    // Bounded: the expected count is rate × secs; allow ten times that before giving up.
    let cap = (rate * secs * 10.0).max(16.0);
    while f(out.len() as u64) < cap {
        at += -(1.0 - rng.unit()).ln() / rate;
        if at >= secs {
            break;
        }
        out.push(Duration::from_secs_f64(at));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_range() {
        let s = spread(&[3.0, 1.0, 2.0]);
        assert!((s.median - 2.0).abs() < f64::EPSILON);
        assert!((s.min - 1.0).abs() < f64::EPSILON && (s.max - 3.0).abs() < f64::EPSILON);
        assert!((spread(&[1.0, 2.0, 4.0, 10.0]).median - 3.0).abs() < f64::EPSILON);
        assert!(spread(&[]).median.is_nan());
    }

    #[test]
    fn poisson_schedule_has_about_the_right_count_and_is_sorted() {
        let s = poisson_schedule(100.0, 60.0, 7);
        assert!((5400..6600).contains(&s.len()), "{}", s.len());
        assert!(s.windows(2).all(|w| w[0] <= w[1]));
        assert!(s.iter().all(|d| d.as_secs_f64() < 60.0));
    }

    #[test]
    fn latency_summary_reads_milliseconds() {
        let mut h = histogram().unwrap();
        for ms in 1..=100_u64 {
            record(&mut h, Duration::from_millis(ms));
        }
        let l = Latency::of(&h).unwrap();
        assert_eq!(l.samples, 100);
        assert!((l.p50_ms - 50.0).abs() < 0.1, "{}", l.p50_ms);
        assert!((l.max_ms - 100.0).abs() < 0.1, "{}", l.max_ms);
        assert!(!l.hdr_v2_deflate_b64.is_empty());
    }
}
