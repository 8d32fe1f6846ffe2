//! Token buckets for abuse controls (tickets per address, connections per address, messages
//! per connection and per visitor). Pure: the caller keeps the state and passes the time, so
//! the rules are deterministic under test (OWASP ASVS v5.0.0-2.4.1: anti-automation controls).

use std::time::Duration;

use time::OffsetDateTime;

/// A bucket's shape: `burst` tokens at most, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Largest burst.
    pub burst: f64,
    /// Tokens added per second.
    pub per_second: f64,
}

impl Rate {
    /// `count` events per `period`, with bursts of up to `burst`.
    pub fn new(count: u32, period: Duration, burst: u32) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(count) / period.as_secs_f64().max(1e-9),
        }
    }
}

/// One bucket's state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    updated: OffsetDateTime,
}

impl Bucket {
    /// A full bucket at `now`.
    pub fn full(rate: Rate, now: OffsetDateTime) -> Self {
        Self {
            tokens: rate.burst,
            updated: now,
        }
    }

    /// Takes one token if there is one. Otherwise returns how long until one is available.
    /// Time going backwards (a clock step) refills nothing and never panics.
    pub fn take(&mut self, rate: Rate, now: OffsetDateTime) -> Result<(), Duration> {
        let elapsed = (now - self.updated).as_seconds_f64().max(0.0);
        self.tokens = (self.tokens + elapsed * rate.per_second).min(rate.burst);
        if now > self.updated {
            self.updated = now;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let missing = 1.0 - self.tokens;
        let wait = if rate.per_second > 0.0 {
            missing / rate.per_second
        } else {
            f64::from(u32::MAX)
        };
        Err(Duration::from_secs_f64(wait.min(f64::from(u32::MAX))))
    }

    /// Whether the bucket is full again at `now` (its state can then be forgotten).
    pub fn is_full(&self, rate: Rate, now: OffsetDateTime) -> bool {
        let elapsed = (now - self.updated).as_seconds_f64().max(0.0);
        self.tokens + elapsed * rate.per_second >= rate.burst
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    #[test]
    fn a_burst_then_the_steady_rate() {
        let rate = Rate::new(1, Duration::from_secs(1), 3);
        let mut b = Bucket::full(rate, T0);
        for _ in 0..3 {
            assert!(b.take(rate, T0).is_ok());
        }
        let wait = b.take(rate, T0).unwrap_err();
        assert!(wait > Duration::from_millis(990) && wait <= Duration::from_secs(1));
        assert!(
            b.take(rate, T0 + time::Duration::milliseconds(999))
                .is_err()
        );
        assert!(
            b.take(rate, T0 + time::Duration::milliseconds(2000))
                .is_ok()
        );
        assert!(!b.is_full(rate, T0 + time::Duration::seconds(2)));
        assert!(b.is_full(rate, T0 + time::Duration::seconds(10)));
    }

    #[test]
    fn time_going_backwards_refills_nothing() {
        let rate = Rate::new(10, Duration::from_secs(1), 1);
        let mut b = Bucket::full(rate, T0);
        assert!(b.take(rate, T0).is_ok());
        assert!(b.take(rate, T0 - time::Duration::hours(1)).is_err());
    }

    proptest! {
        /// Over any window, a bucket never grants more than burst + rate × window.
        #[test]
        fn never_more_than_burst_plus_rate(
            burst in 1u32..20,
            per_minute in 1u32..600,
            gaps in proptest::collection::vec(0u64..5_000, 1..300),
        ) {
            let rate = Rate::new(per_minute, Duration::from_mins(1), burst);
            let mut b = Bucket::full(rate, T0);
            let mut now = T0;
            let mut granted = 0u32;
            for gap in &gaps {
                now += time::Duration::milliseconds(i64::try_from(*gap).unwrap());
                if b.take(rate, now).is_ok() {
                    granted += 1;
                }
            }
            let window = (now - T0).as_seconds_f64();
            let bound = f64::from(burst) + window * rate.per_second + 1e-6;
            prop_assert!(f64::from(granted) <= bound, "{granted} > {bound}");
        }
    }
}
