//! Contract cases for login throttling: counting failures (also concurrent ones), locking,
//! clearing and purging.

use sealdesk_core::auth::ThrottleState;
use time::{Duration, OffsetDateTime};

use super::data::{TestData, ms};
use crate::Store;

const ACCOUNT: &str = "staff:0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70";
const ADDRESS: &str = "ip:203.0.113.0/24";

/// Failures count up per key, a lock only moves later, and clearing forgets the key.
pub async fn throttle_counts_locks_and_clears(store: &dyn Store) {
    let data = TestData::new();
    let t0 = data.now();
    assert!(store.get_throttle(ACCOUNT).await.unwrap().is_none());
    assert!(!store.set_locked_until(ACCOUNT, Some(t0)).await.unwrap());
    assert!(store.get_throttle(ACCOUNT).await.unwrap().is_none());

    for n in 1..=3u32 {
        let at = t0 + Duration::seconds(i64::from(n));
        let state = store.record_failure(ACCOUNT, at).await.unwrap();
        assert_eq!(state.failures, n);
        assert_eq!(state.last_failure_at, ms(at));
        assert_eq!(state.locked_until, None);
    }
    assert_eq!(store.record_failure(ADDRESS, t0).await.unwrap().failures, 1);
    // A failure reported late does not move the last failure time backwards.
    let late = store.record_failure(ACCOUNT, t0).await.unwrap();
    assert_eq!(late.failures, 4);
    assert_eq!(late.last_failure_at, ms(t0 + Duration::seconds(3)));

    let until = t0 + Duration::minutes(15);
    assert!(store.set_locked_until(ACCOUNT, Some(until)).await.unwrap());
    assert_eq!(
        store.get_throttle(ACCOUNT).await.unwrap(),
        Some(locked_state(late, Some(until)))
    );
    assert!(
        store
            .set_locked_until(ACCOUNT, Some(t0 + Duration::minutes(5)))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .get_throttle(ACCOUNT)
            .await
            .unwrap()
            .unwrap()
            .locked_until,
        Some(ms(until)),
        "a lock never shortens"
    );
    let longer = t0 + Duration::hours(1);
    assert!(store.set_locked_until(ACCOUNT, Some(longer)).await.unwrap());
    assert_eq!(
        store.get_throttle(ACCOUNT).await.unwrap(),
        Some(locked_state(late, Some(longer)))
    );
    // Lifting the lock keeps the count.
    assert!(store.set_locked_until(ACCOUNT, None).await.unwrap());
    assert_eq!(
        store.get_throttle(ACCOUNT).await.unwrap(),
        Some(locked_state(late, None))
    );
    assert!(store.set_locked_until(ACCOUNT, Some(longer)).await.unwrap());

    assert!(store.clear_throttle(ACCOUNT).await.unwrap());
    assert!(!store.clear_throttle(ACCOUNT).await.unwrap());
    assert!(store.get_throttle(ACCOUNT).await.unwrap().is_none());
    assert_eq!(
        store.get_throttle(ADDRESS).await.unwrap().unwrap().failures,
        1,
        "other keys are kept"
    );
    let restarted = store.record_failure(ACCOUNT, t0).await.unwrap();
    assert_eq!((restarted.failures, restarted.locked_until), (1, None));
}

/// `base`, locked until `until` (at stored precision).
fn locked_state(base: ThrottleState, until: Option<OffsetDateTime>) -> ThrottleState {
    ThrottleState {
        locked_until: until.map(ms),
        ..base
    }
}

/// Failures recorded at the same moment are all counted.
pub async fn concurrent_failures_are_all_counted(store: &dyn Store) {
    let data = TestData::new();
    let t0 = data.now();
    let (a, b, c, d) = tokio::join!(
        store.record_failure(ACCOUNT, t0),
        store.record_failure(ACCOUNT, t0),
        store.record_failure(ACCOUNT, t0),
        store.record_failure(ACCOUNT, t0),
    );
    let mut seen = [a, b, c, d].map(|r| r.unwrap().failures);
    seen.sort_unstable();
    assert_eq!(seen, [1, 2, 3, 4], "each failure saw its own count");
    assert_eq!(
        store.get_throttle(ACCOUNT).await.unwrap().unwrap().failures,
        4
    );
}

/// Purging forgets keys whose last failure is old, unless still locked.
pub async fn purge_throttle_forgets_old_keys(store: &dyn Store) {
    let data = TestData::new();
    let t0 = data.now();
    store.record_failure("old", t0).await.unwrap();
    store.record_failure("old-locked", t0).await.unwrap();
    assert!(
        store
            .set_locked_until("old-locked", Some(t0 + Duration::days(2)))
            .await
            .unwrap()
    );
    store
        .record_failure("recent", t0 + Duration::hours(25))
        .await
        .unwrap();

    let purged = store.purge_throttle(t0 + Duration::days(1)).await.unwrap();
    assert_eq!(purged, 1);
    assert!(store.get_throttle("old").await.unwrap().is_none());
    assert!(store.get_throttle("old-locked").await.unwrap().is_some());
    assert!(store.get_throttle("recent").await.unwrap().is_some());
    assert_eq!(
        store.purge_throttle(t0 + Duration::days(3)).await.unwrap(),
        2
    );
}
