//! Contract cases for recovery codes: a set replaced as a whole, listed unused with their
//! ids and key versions, each code used once by id, the count of unused codes, and tenant
//! scoping. The store treats the PHC strings as opaque text.

use time::Duration;

use super::data::TestData;
use super::people::people;
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, RecoveryCodeHash, RecoveryCodeRecord, Store};

/// A distinct stand-in for an Argon2id PHC string (the store never parses it).
fn phc(data: &TestData) -> String {
    format!(
        "$argon2id$v=19$m=2048,t=1,p=1$c2FsdHNhbHRzYWx0${}",
        hex::encode(data.digest())
    )
}

fn hashes(list: &[RecoveryCodeRecord]) -> Vec<RecoveryCodeHash> {
    list.iter().map(|r| r.hash.clone()).collect()
}

/// Codes are listed unused, oldest first, with distinct ids; each works once by its id; a
/// new set replaces the old one entirely; the count follows.
pub async fn recovery_codes_replace_use_once_and_count(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 0);
    assert!(
        store
            .list_recovery_codes(p.acme, p.jane)
            .await
            .unwrap()
            .is_empty()
    );
    let first: Vec<String> = (0..10).map(|_| phc(&data)).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &first, 1, t0)
        .await
        .unwrap();
    assert_eq!(
        store.count_recovery_codes(p.acme, p.jane).await.unwrap(),
        10
    );
    let listed = store.list_recovery_codes(p.acme, p.jane).await.unwrap();
    assert_eq!(
        hashes(&listed),
        first
            .iter()
            .map(|h| RecoveryCodeHash::Argon2id(h.clone()))
            .collect::<Vec<_>>(),
        "in the order given"
    );
    assert!(listed.iter().all(|r| r.key_version == 1));
    let ids: Vec<i64> = listed.iter().map(|r| r.id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "distinct ids, oldest first"
    );

    let t1 = t0 + Duration::minutes(1);
    let third = listed[3].id;
    assert!(
        store
            .use_recovery_code(p.acme, p.jane, third, t1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(p.acme, p.jane, third, t1)
            .await
            .unwrap(),
        "second use"
    );
    let unknown = ids.iter().max().unwrap() + 1_000;
    assert!(
        !store
            .use_recovery_code(p.acme, p.jane, unknown, t1)
            .await
            .unwrap(),
        "unknown code"
    );
    assert!(
        !store
            .use_recovery_code(p.acme, p.omar, listed[4].id, t1)
            .await
            .unwrap(),
        "another account's code"
    );
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 9);
    let left = store.list_recovery_codes(p.acme, p.jane).await.unwrap();
    assert_eq!(left.len(), 9);
    assert!(
        left.iter().all(|r| r.id != third),
        "a used code is not listed"
    );

    let second: Vec<String> = (0..5).map(|_| phc(&data)).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &second, 2, t1)
        .await
        .unwrap();
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 5);
    let replaced = store.list_recovery_codes(p.acme, p.jane).await.unwrap();
    assert!(replaced.iter().all(|r| r.key_version == 2));
    assert!(
        replaced.iter().all(|r| !ids.contains(&r.id)),
        "ids are never reused, so an id read before a regeneration cannot spend a new code"
    );
    assert!(
        !store
            .use_recovery_code(p.acme, p.jane, listed[0].id, t1)
            .await
            .unwrap(),
        "the old set is gone"
    );
    assert!(
        store
            .use_recovery_code(p.acme, p.jane, replaced[0].id, t1)
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
    assert!(
        store
            .list_recovery_codes(p.acme, p.jane)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A set with a repeated hash is refused as a whole, keeping the old set; another tenant's
/// id neither lists, uses nor replaces codes.
pub async fn recovery_codes_conflict_and_scope(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    let codes: Vec<String> = (0..3).map(|_| phc(&data)).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &codes, 1, t0)
        .await
        .unwrap();
    let before = store.list_recovery_codes(p.acme, p.jane).await.unwrap();

    let repeated = [phc(&data), codes[0].clone(), phc(&data), codes[0].clone()];
    assert_conflict(
        store
            .replace_recovery_codes(p.acme, p.jane, &repeated, 1, t0)
            .await,
        &Constraint::RecoveryCode,
    );
    assert_eq!(
        store.list_recovery_codes(p.acme, p.jane).await.unwrap(),
        before,
        "the old set is kept, ids and all"
    );

    assert_not_found(
        store
            .replace_recovery_codes(p.globex, p.jane, &[phc(&data)], 1, t0)
            .await,
    );
    assert_not_found(
        store
            .replace_recovery_codes(p.acme, p.zoe, &[phc(&data)], 1, t0)
            .await,
    );
    assert_eq!(
        store.count_recovery_codes(p.globex, p.jane).await.unwrap(),
        0
    );
    assert!(
        store
            .list_recovery_codes(p.globex, p.jane)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .use_recovery_code(p.globex, p.jane, before[1].id, t0)
            .await
            .unwrap()
    );
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 3);
    // The same hash may be stored for two accounts: it is their own row each.
    store
        .replace_recovery_codes(p.acme, p.omar, &codes[..1], 1, t0)
        .await
        .unwrap();
    let omar = store.list_recovery_codes(p.acme, p.omar).await.unwrap();
    assert_eq!(omar.len(), 1);
    assert!(
        store
            .use_recovery_code(p.acme, p.omar, omar[0].id, t0)
            .await
            .unwrap()
    );
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 3);
}

/// Two logins presenting the same recovery code at once: exactly one is accepted.
pub async fn concurrent_recovery_code_use_one_wins(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    let codes: Vec<String> = (0..4).map(|_| phc(&data)).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &codes, 1, t0)
        .await
        .unwrap();
    for code in store.list_recovery_codes(p.acme, p.jane).await.unwrap() {
        let (a, b) = tokio::join!(
            store.use_recovery_code(p.acme, p.jane, code.id, t0),
            store.use_recovery_code(p.acme, p.jane, code.id, t0)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a ^ b, "exactly one use wins, got {a} and {b}");
    }
    assert_eq!(store.count_recovery_codes(p.acme, p.jane).await.unwrap(), 0);
}

/// The key version is stored per code and follows each replacement; other accounts and
/// tenants list nothing.
pub async fn recovery_codes_keep_their_key_version(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    let first: Vec<String> = (0..2).map(|_| phc(&data)).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &first, 3, t0)
        .await
        .unwrap();
    let versions = |list: Vec<RecoveryCodeRecord>| -> Vec<u32> {
        list.iter().map(|r| r.key_version).collect()
    };
    assert_eq!(
        versions(store.list_recovery_codes(p.acme, p.jane).await.unwrap()),
        [3, 3]
    );
    let second: Vec<String> = (0..2).map(|_| phc(&data)).collect();
    store
        .replace_recovery_codes(p.acme, p.jane, &second, u32::MAX, t0)
        .await
        .unwrap();
    assert_eq!(
        versions(store.list_recovery_codes(p.acme, p.jane).await.unwrap()),
        [u32::MAX, u32::MAX]
    );
    assert!(
        store
            .list_recovery_codes(p.acme, p.omar)
            .await
            .unwrap()
            .is_empty()
    );
}
