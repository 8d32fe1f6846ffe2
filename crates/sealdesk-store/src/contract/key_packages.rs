//! Contract cases for the key-package directory: single use, oldest first, one per device,
//! devices already in the group skipped, the last-resort package kept, the per-device limit
//! refusing the whole upload, duplicates ignored, expiry, tenant scoping and erasure.

use bytes::Bytes;
use time::{Duration, OffsetDateTime};

use super::assert_not_found;
use super::desk::Desk;
use crate::{Constraint, NewKeyPackage, Store, StoreError};

fn package(n: u8, last_resort: bool, not_after: OffsetDateTime) -> NewKeyPackage {
    NewKeyPackage {
        hash_ref: vec![n; 32],
        payload: Bytes::from(vec![n; 100]),
        last_resort,
        not_after,
    }
}

fn payload_id(p: &crate::TakenKeyPackage) -> u8 {
    p.payload[0]
}

/// Single use, one per device, last resort kept, `except` honoured, limit and expiry.
#[allow(clippy::too_many_lines)] // one directory's life, step by step
pub async fn key_packages_are_taken_once_and_the_last_resort_is_kept(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let later = t0 + Duration::days(1);
    let (d1, d2) = ([1u8; 32], [2u8; 32]);
    let first = [
        package(11, false, later),
        package(12, false, later),
        package(13, false, later),
    ];
    assert_eq!(
        store
            .add_key_packages(desk.acme, desk.jane, d1, &first, 10, t0)
            .await
            .unwrap(),
        3
    );
    // A duplicate is ignored; a last-resort package does not count toward the limit.
    let more = [package(13, false, later), package(19, true, later)];
    assert_eq!(
        store
            .add_key_packages(desk.acme, desk.jane, d1, &more, 10, t0)
            .await
            .unwrap(),
        3
    );
    store
        .add_key_packages(
            desk.acme,
            desk.jane,
            d2,
            &[package(21, false, later)],
            10,
            t0,
        )
        .await
        .unwrap();

    let taken = store
        .take_key_packages(desk.acme, desk.jane, &[], t0)
        .await
        .unwrap();
    assert_eq!(
        taken.iter().map(payload_id).collect::<Vec<_>>(),
        vec![11, 21]
    );
    assert!(taken.iter().all(|p| !p.last_resort));
    let taken = store
        .take_key_packages(desk.acme, desk.jane, &[d2], t0)
        .await
        .unwrap();
    assert_eq!(taken.iter().map(payload_id).collect::<Vec<_>>(), vec![12]);
    let taken = store
        .take_key_packages(desk.acme, desk.jane, &[], t0)
        .await
        .unwrap();
    assert_eq!(
        taken.iter().map(payload_id).collect::<Vec<_>>(),
        vec![13],
        "d2 has nothing left"
    );
    for _ in 0..2 {
        let taken = store
            .take_key_packages(desk.acme, desk.jane, &[], t0)
            .await
            .unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!((payload_id(&taken[0]), taken[0].last_resort), (19, true));
    }
    let stock = store
        .key_package_stock(desk.acme, desk.jane, t0)
        .await
        .unwrap();
    assert_eq!(stock.len(), 1);
    assert_eq!(
        (
            stock[0].device_key,
            stock[0].available,
            stock[0].last_resort
        ),
        (d1, 0, true)
    );

    // Over the limit: the whole upload is refused.
    let five: Vec<_> = (30..35).map(|n| package(n, false, later)).collect();
    match store
        .add_key_packages(desk.acme, desk.jane, d1, &five, 4, t0)
        .await
    {
        Err(StoreError::Conflict {
            constraint: Constraint::KeyPackageLimit,
        }) => {}
        other => panic!("expected the limit, got {other:?}"),
    }
    assert_eq!(
        store
            .key_package_stock(desk.acme, desk.jane, t0)
            .await
            .unwrap()[0]
            .available,
        0
    );

    // Expired packages are never handed out, and a new last resort replaces the old one.
    store
        .add_key_packages(
            desk.acme,
            desk.jane,
            d2,
            &[package(40, false, t0)],
            10,
            t0 - Duration::hours(1),
        )
        .await
        .unwrap();
    assert!(
        store
            .take_key_packages(desk.acme, desk.jane, &[d1], t0)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .add_key_packages(
            desk.acme,
            desk.jane,
            d1,
            &[package(50, true, later)],
            10,
            t0,
        )
        .await
        .unwrap();
    let taken = store
        .take_key_packages(desk.acme, desk.jane, &[], t0)
        .await
        .unwrap();
    assert_eq!(taken.iter().map(payload_id).collect::<Vec<_>>(), vec![50]);

    // Another tenant's staff member is not found; nothing leaks across tenants.
    assert_not_found(
        store
            .add_key_packages(desk.globex, desk.jane, d1, &first, 10, t0)
            .await,
    );
    assert!(
        store
            .take_key_packages(desk.globex, desk.jane, &[], t0)
            .await
            .unwrap()
            .is_empty()
    );
    // Erased with the tenant.
    store.delete_tenant(desk.acme).await.unwrap();
    assert!(
        store
            .key_package_stock(desk.acme, desk.jane, t0)
            .await
            .unwrap()
            .is_empty()
    );
}

fn history(n: u8, not_after: OffsetDateTime) -> crate::NewHistoryPackage {
    crate::NewHistoryPackage {
        hash_ref: vec![n; 32],
        key_package: Bytes::from(vec![n; 80]),
        sealed_bundle: Bytes::from(vec![n ^ 0xff; 120]),
        not_after,
        team_key_version: None,
    }
}

/// Each conversation gets one History Member from its team's pool, the same one on every
/// request, oldest first; an empty pool gives none; other teams and tenants are apart;
/// retention and tenant erasure remove what belongs to them.
pub async fn history_pool_gives_each_conversation_one_member(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let t0 = desk.now();
    let later = t0 + Duration::days(90);
    let pool = [history(1, later), history(2, later), history(3, t0)];
    assert_eq!(
        store
            .add_history_packages(desk.acme, desk.support, &pool, 10, t0 - Duration::hours(1))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .history_pool_size(desk.acme, desk.support, t0)
            .await
            .unwrap(),
        2,
        "one expired"
    );
    let c1 = desk.open(store, desk.acme, desk.support, desk.alice).await;
    let c2 = desk.open(store, desk.acme, desk.support, desk.bob).await;
    let c3 = desk.open(store, desk.acme, desk.support, desk.alice).await;
    let first = store
        .take_history_package(desk.acme, desk.support, c1.id, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.key_package[0], first.sealed_bundle[0]),
        (1, 1 ^ 0xff)
    );
    let again = store
        .take_history_package(desk.acme, desk.support, c1.id, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, first, "the same member on every request");
    let second = store
        .take_history_package(desk.acme, desk.support, c2.id, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.key_package[0], 2);
    assert_eq!(
        store
            .take_history_package(desk.acme, desk.support, c3.id, t0)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .conversation_history_member(desk.acme, c1.id)
            .await
            .unwrap(),
        Some(first)
    );
    // Another team's or tenant's view of the conversation: nothing.
    assert_not_found(
        store
            .take_history_package(desk.acme, desk.sales, c3.id, t0)
            .await,
    );
    assert_eq!(
        store
            .conversation_history_member(desk.globex, c1.id)
            .await
            .unwrap(),
        None
    );
    assert_not_found(
        store
            .add_history_packages(desk.globex, desk.support, &pool, 10, t0)
            .await,
    );
    // The limit refuses a whole upload.
    let many: Vec<_> = (10..15).map(|n| history(n, later)).collect();
    assert!(matches!(
        store
            .add_history_packages(desk.acme, desk.support, &many, 4, t0)
            .await,
        Err(StoreError::Conflict {
            constraint: Constraint::KeyPackageLimit
        })
    ));
    store.delete_tenant(desk.acme).await.unwrap();
    assert_eq!(
        store
            .conversation_history_member(desk.acme, c2.id)
            .await
            .unwrap(),
        None
    );
}
