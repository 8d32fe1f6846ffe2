//! Contract cases for recovery codes: a set replaced as a whole, each code used once, the
//! count of unused codes, and tenant scoping.

use sealdesk_core::auth::Digest;
use time::Duration;

use super::data::TestData;
use super::people::people;
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, Store};

/// Codes work once each; a new set replaces the old one entirely; the count follows.
pub async fn recovery_codes_replace_use_once_and_count(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 0);
    let first: Vec<Digest> = (0..10).map(|_| data.digest()).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &first, 1, t0)
        .await
        .unwrap();
    assert_eq!(
        store.count_recovery_codes(p.acme, p.jane).await.unwrap(),
        10
    );

    let t1 = t0 + Duration::minutes(1);
    assert!(
        store
            .use_recovery_code(p.acme, p.jane, &first[3], t1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(p.acme, p.jane, &first[3], t1)
            .await
            .unwrap(),
        "second use"
    );
    assert!(
        !store
            .use_recovery_code(p.acme, p.jane, &data.digest(), t1)
            .await
            .unwrap(),
        "unknown code"
    );
    assert!(
        !store
            .use_recovery_code(p.acme, p.omar, &first[4], t1)
            .await
            .unwrap(),
        "another account's code"
    );
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 9);

    let second: Vec<Digest> = (0..5).map(|_| data.digest()).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &second, 2, t1)
        .await
        .unwrap();
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 5);
    assert!(
        !store
            .use_recovery_code(p.acme, p.jane, &first[0], t1)
            .await
            .unwrap(),
        "the old set is gone"
    );
    assert!(
        store
            .use_recovery_code(p.acme, p.jane, &second[0], t1)
            .await
            .unwrap()
    );
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 4);

    // An empty set removes every code.
    store
        .replace_recovery_codes(p.acme, p.jane, &[], 2, t1)
        .await
        .unwrap();
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 0);
}

/// A set with a repeated digest is refused as a whole, keeping the old set; another
/// tenant's id neither reads, uses nor replaces codes.
pub async fn recovery_codes_conflict_and_scope(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    let codes: Vec<Digest> = (0..3).map(|_| data.digest()).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &codes, 1, t0)
        .await
        .unwrap();

    let repeated = [data.digest(), codes[0], data.digest(), codes[0]];
    assert_conflict(
        store
            .replace_recovery_codes(p.acme, p.jane, &repeated, 1, t0)
            .await,
        &Constraint::RecoveryCode,
    );
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 3);

    assert_not_found(
        store
            .replace_recovery_codes(p.globex, p.jane, &[data.digest()], 1, t0)
            .await,
    );
    assert_not_found(
        store
            .replace_recovery_codes(p.acme, p.zoe, &[data.digest()], 1, t0)
            .await,
    );
    assert_eq!(
        store.count_recovery_codes(p.globex, p.jane).await.unwrap(),
        0
    );
    assert!(
        !store
            .use_recovery_code(p.globex, p.jane, &codes[1], t0)
            .await
            .unwrap()
    );
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 3);
    // The same digest may exist for two accounts (they are per-account HMACs).
    store
        .replace_recovery_codes(p.acme, p.omar, &codes[..1], 1, t0)
        .await
        .unwrap();
    assert!(
        store
            .use_recovery_code(p.acme, p.omar, &codes[0], t0)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_recovery_code(p.acme, p.jane, &codes[0], t0)
            .await
            .unwrap()
    );
}

/// Two logins presenting the same recovery code at once: exactly one is accepted.
pub async fn concurrent_recovery_code_use_one_wins(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    let codes: Vec<Digest> = (0..4).map(|_| data.digest()).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &codes, 1, t0)
        .await
        .unwrap();
    for code in &codes {
        let (a, b) = tokio::join!(
            store.use_recovery_code(p.acme, p.jane, code, t0),
            store.use_recovery_code(p.acme, p.jane, code, t0)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a ^ b, "exactly one use wins, got {a} and {b}");
    }
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 0);
}

/// The key versions of the account's unused codes: none without codes, the version of the
/// current set after each replacement, none once every code is used.
pub async fn recovery_code_versions_follow_unused_codes(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    assert!(
        store
            .recovery_code_versions(p.acme, p.jane)
            .await
            .unwrap()
            .is_empty()
    );
    let first: Vec<Digest> = (0..2).map(|_| data.digest()).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &first, 3, t0)
        .await
        .unwrap();
    assert_eq!(
        store.recovery_code_versions(p.acme, p.jane).await.unwrap(),
        [3]
    );
    let second: Vec<Digest> = (0..2).map(|_| data.digest()).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &second, 4, t0)
        .await
        .unwrap();
    assert_eq!(
        store.recovery_code_versions(p.acme, p.jane).await.unwrap(),
        [4]
    );
    assert!(
        store
            .recovery_code_versions(p.globex, p.jane)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .recovery_code_versions(p.acme, p.omar)
            .await
            .unwrap()
            .is_empty()
    );
    for code in &second {
        assert!(
            store
                .use_recovery_code(p.acme, p.jane, code, t0)
                .await
                .unwrap()
        );
    }
    assert!(
        store
            .recovery_code_versions(p.acme, p.jane)
            .await
            .unwrap()
            .is_empty()
    );
}
