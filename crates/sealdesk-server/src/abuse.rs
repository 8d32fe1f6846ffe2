//! Abuse controls for the public side (OWASP ASVS v5.0.0-2.4.1 anti-automation; 4.4.4
//! WebSocket rate limits): visitor tickets per client address, concurrent connections per
//! address, frames per connection, tenant block lists, and the proof-of-work challenge for
//! new visitors when a tenant is under attack (more new visitors per minute than
//! `chat.new_visitors_per_minute`).
//!
//! State is per node and in memory: limits are per node (with several nodes, per address per
//! node), which bounds abuse without a database write per request.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sealdesk_core::domain::{Tenant, VisitorChallenge};
use sealdesk_core::ratelimit::{Bucket, Rate};
use sealdesk_proto::TenantId;
use time::OffsetDateTime;

use crate::config::ChatConfig;
use crate::error::ApiError;

/// How long a tenant stays "under attack" after its new-visitor rate was exceeded.
const ATTACK_COOLDOWN: time::Duration = time::Duration::minutes(10);
/// How long a proof-of-work challenge may be solved for.
pub const CHALLENGE_TTL: time::Duration = time::Duration::minutes(2);

/// Token buckets by key; full buckets are forgotten now and then.
#[derive(Debug)]
struct Keyed<K> {
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Eq + Hash + Copy> Keyed<K> {
    fn new() -> Self {
        Self {
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, key: K, rate: Rate, now: OffsetDateTime) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| !b.is_full(rate, now));
        }
        buckets
            .entry(key)
            .or_insert_with(|| Bucket::full(rate, now))
            .take(rate, now)
    }
}

/// The abuse-control state of one node.
#[derive(Debug)]
pub struct Abuse {
    tickets: Keyed<IpAddr>,
    new_visitors: Keyed<TenantId>,
    under_attack: Mutex<HashMap<TenantId, OffsetDateTime>>,
    connections: Arc<Mutex<HashMap<IpAddr, u32>>>,
    spent: Mutex<HashMap<String, i64>>,
}

impl Default for Abuse {
    fn default() -> Self {
        Self::new()
    }
}

/// Holds one connection slot of an address; released on drop.
#[derive(Debug)]
pub struct ConnectionSlot {
    ip: Option<IpAddr>,
    connections: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl ConnectionSlot {
    /// A slot that holds nothing.
    pub fn none() -> Self {
        Self {
            ip: None,
            connections: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let Some(ip) = self.ip else { return };
        let mut map = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&ip);
            }
        }
    }
}

fn exempt(config: &ChatConfig, ip: IpAddr) -> bool {
    config.limits_exempt.iter().any(|net| net.contains(&ip))
}

impl Abuse {
    /// No state yet.
    pub fn new() -> Self {
        Self {
            tickets: Keyed::new(),
            new_visitors: Keyed::new(),
            under_attack: Mutex::new(HashMap::new()),
            connections: Arc::new(Mutex::new(HashMap::new())),
            spent: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses visitors from the tenant's blocked ranges (403, like any forbidden origin).
    pub fn check_blocklist(tenant: &Tenant, ip: IpAddr) -> Result<(), ApiError> {
        if tenant
            .settings
            .visitor_blocklist
            .iter()
            .any(|c| c.contains(ip))
        {
            return Err(ApiError::Forbidden);
        }
        Ok(())
    }

    /// Counts a ticket request from `ip`; 429 with a retry time when over the limit.
    pub fn ticket(
        &self,
        config: &ChatConfig,
        ip: IpAddr,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        if exempt(config, ip) {
            return Ok(());
        }
        let rate = Rate::new(
            config.tickets_per_minute_per_address,
            Duration::from_mins(1),
            config.tickets_per_minute_per_address,
        );
        self.tickets
            .take(ip, rate, now)
            .map_err(|wait| ApiError::RateLimited {
                retry_after: Some(wait),
            })
    }

    /// Whether a new visitor of `tenant` must solve a challenge now. Counts the new visitor
    /// towards the tenant's attack detection.
    pub fn challenge_needed(
        &self,
        config: &ChatConfig,
        tenant: &Tenant,
        now: OffsetDateTime,
    ) -> bool {
        let rate = Rate::new(
            config.new_visitors_per_minute,
            Duration::from_mins(1),
            config.new_visitors_per_minute,
        );
        let over = self.new_visitors.take(tenant.id, rate, now).is_err();
        let mut attacked = self
            .under_attack
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if over {
            attacked.insert(tenant.id, now + ATTACK_COOLDOWN);
        }
        let under_attack = attacked.get(&tenant.id).is_some_and(|until| *until > now);
        match tenant.settings.visitor_challenge {
            VisitorChallenge::Off => false,
            VisitorChallenge::Always => true,
            VisitorChallenge::Auto => under_attack,
        }
    }

    /// Marks a solved challenge as spent; `false` if it was spent before (a replay).
    pub fn spend_challenge(&self, challenge: &str, expires_ms: i64, now_ms: i64) -> bool {
        let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
        if spent.len() > 10_000 {
            spent.retain(|_, expiry| *expiry > now_ms);
        }
        spent.insert(challenge.to_owned(), expires_ms).is_none()
    }

    /// Takes a connection slot for `ip`; 429 when the address holds too many.
    pub fn connect(&self, config: &ChatConfig, ip: IpAddr) -> Result<ConnectionSlot, ApiError> {
        if exempt(config, ip) {
            return Ok(ConnectionSlot {
                ip: None,
                connections: Arc::clone(&self.connections),
            });
        }
        let mut map = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let held = map.entry(ip).or_insert(0);
        if *held >= config.connections_per_address {
            return Err(ApiError::RateLimited {
                retry_after: Some(Duration::from_secs(10)),
            });
        }
        *held += 1;
        Ok(ConnectionSlot {
            ip: Some(ip),
            connections: Arc::clone(&self.connections),
        })
    }

    /// The frame rate of one connection.
    pub fn frame_rate(config: &ChatConfig) -> Rate {
        Rate::new(
            config.messages_per_second,
            Duration::from_secs(1),
            config.messages_per_second.saturating_mul(2),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

    fn config() -> ChatConfig {
        ChatConfig {
            tickets_per_minute_per_address: 3,
            connections_per_address: 2,
            new_visitors_per_minute: 2,
            ..ChatConfig::default()
        }
    }

    #[test]
    fn tickets_are_limited_per_address_unless_exempt() {
        let abuse = Abuse::new();
        let mut config = config();
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..3 {
            abuse.ticket(&config, ip, T0).unwrap();
        }
        assert!(matches!(
            abuse.ticket(&config, ip, T0),
            Err(ApiError::RateLimited {
                retry_after: Some(_)
            })
        ));
        abuse
            .ticket(&config, "203.0.113.8".parse().unwrap(), T0)
            .unwrap();
        abuse
            .ticket(&config, ip, T0 + time::Duration::seconds(21))
            .unwrap();
        config.limits_exempt = vec!["203.0.113.0/24".parse().unwrap()];
        for _ in 0..100 {
            abuse.ticket(&config, ip, T0).unwrap();
        }
    }

    #[test]
    fn connection_slots_are_released_on_drop() {
        let abuse = Abuse::new();
        let config = config();
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        let a = abuse.connect(&config, ip).unwrap();
        let _b = abuse.connect(&config, ip).unwrap();
        assert!(abuse.connect(&config, ip).is_err());
        drop(a);
        let _c = abuse.connect(&config, ip).unwrap();
    }

    #[test]
    fn spent_challenges_cannot_be_replayed() {
        let abuse = Abuse::new();
        assert!(abuse.spend_challenge("abc", 10, 0));
        assert!(!abuse.spend_challenge("abc", 10, 1));
        assert!(abuse.spend_challenge("abd", 10, 1));
    }
}
