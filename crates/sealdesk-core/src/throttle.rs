//! Login throttling policy: a few free failures, then an exponentially growing lock, capped
//! (NIST SP 800-63B §5.2.2 rate limiting; OWASP ASVS v5.0.0-6.3.1). Counted separately per
//! account (so guessing one password is slow) and per source address (so spraying many
//! accounts from one place is slow). Keys exist for unknown accounts too, so the lock never
//! reveals whether an account exists.

use std::time::Duration;

/// How failures turn into locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed before the first lock.
    pub free_failures: u32,
    /// The first lock's length; each further failure doubles it.
    pub base: Duration,
    /// The longest lock.
    pub max: Duration,
}

impl ThrottlePolicy {
    /// Per account: 5 free failures, then 2 s, 4 s, 8 s … up to 15 minutes.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 5,
        base: Duration::from_secs(2),
        max: Duration::from_mins(15),
    };

    /// Per source address: 20 free failures, then 1 s doubling up to an hour.
    pub const ADDRESS: ThrottlePolicy = ThrottlePolicy {
        free_failures: 20,
        base: Duration::from_secs(1),
        max: Duration::from_hours(1),
    };

    /// How long to lock after `failures` consecutive failures (`None`: no lock yet).
    pub fn lock_for(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free_failures)?;
        let factor = 1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX);
        Some(self.base.saturating_mul(factor).min(self.max))
    }

    /// The throttle key of an account: tenant and normalised e-mail.
    pub fn account_key(tenant: &str, email: &str) -> String {
        format!("account:{tenant}:{}", email.trim().to_lowercase())
    }

    /// The throttle key of a source address (IPv6 grouped by /64, since one host owns a /64).
    pub fn address_key(ip: std::net::IpAddr) -> String {
        match ip {
            std::net::IpAddr::V4(v4) => format!("ip:{v4}"),
            std::net::IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn free_failures_then_doubling_then_cap() {
        let p = ThrottlePolicy::ACCOUNT;
        assert_eq!(p.lock_for(4), None);
        assert_eq!(p.lock_for(5), Some(Duration::from_secs(2)));
        assert_eq!(p.lock_for(6), Some(Duration::from_secs(4)));
        assert_eq!(p.lock_for(9), Some(Duration::from_secs(32)));
        assert_eq!(p.lock_for(40), Some(Duration::from_mins(15)));
        assert_eq!(p.lock_for(u32::MAX), Some(Duration::from_mins(15)));
    }

    #[test]
    fn keys_normalise() {
        assert_eq!(
            ThrottlePolicy::account_key("t", " Jane@Acme.COM "),
            "account:t:jane@acme.com"
        );
        let v6: std::net::IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        let v6b: std::net::IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        assert_eq!(
            ThrottlePolicy::address_key(v6),
            ThrottlePolicy::address_key(v6b)
        );
    }

    proptest! {
        #[test]
        fn locks_never_shrink_and_never_exceed_the_cap(n in 0u32..200) {
            let p = ThrottlePolicy::ADDRESS;
            let (a, b) = (p.lock_for(n), p.lock_for(n + 1));
            prop_assert!(a <= b);
            prop_assert!(b.unwrap_or_default() <= p.max);
        }
    }
}
