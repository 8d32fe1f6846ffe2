//! Contract cases for team and archive key announcements: versions in sequence per scope,
//! scopes and tenants apart, unknown owners refused, erasure with the tenant.

use bytes::Bytes;
use time::Duration;

use super::assert_not_found;
use super::desk::Desk;
use crate::{Constraint, KeyScope, SealingKey, Store, StoreError};

fn key(scope: KeyScope, version: u32, n: u8, desk: &Desk) -> SealingKey {
    SealingKey {
        scope,
        version,
        public_key: [n; 32],
        announcement: Bytes::from(vec![n; 150]),
        // Stored to the millisecond.
        created_at: sealdesk_core::clock::from_unix_ms(sealdesk_core::clock::to_unix_ms(
            desk.now() + Duration::seconds(i64::from(n)),
        )),
    }
}

fn is_version_conflict(result: &crate::StoreResult<()>) -> bool {
    matches!(
        result,
        Err(StoreError::Conflict {
            constraint: Constraint::KeyVersion
        })
    )
}

/// Versions go 1, 2, … per scope; a gap, a repeat or a stale version is refused; every
/// version is kept; other tenants and unknown teams are apart.
pub async fn sealing_keys_are_versioned_per_scope(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let team = KeyScope::Team(desk.support);
    assert!(store.sealing_keys(desk.acme).await.unwrap().is_empty());
    assert!(is_version_conflict(
        &store
            .add_sealing_key(desk.acme, &key(team, 2, 1, &desk))
            .await
    ));
    store
        .add_sealing_key(desk.acme, &key(team, 1, 1, &desk))
        .await
        .unwrap();
    store
        .add_sealing_key(desk.acme, &key(KeyScope::Archive, 1, 2, &desk))
        .await
        .unwrap();
    store
        .add_sealing_key(desk.acme, &key(team, 2, 3, &desk))
        .await
        .unwrap();
    assert!(is_version_conflict(
        &store
            .add_sealing_key(desk.acme, &key(team, 2, 4, &desk))
            .await
    ));
    assert!(is_version_conflict(
        &store
            .add_sealing_key(desk.acme, &key(team, 1, 4, &desk))
            .await
    ));
    let keys = store.sealing_keys(desk.acme).await.unwrap();
    let mut expected = vec![
        key(team, 1, 1, &desk),
        key(KeyScope::Archive, 1, 2, &desk),
        key(team, 2, 3, &desk),
    ];
    expected.sort_by_key(|k| (k.scope == KeyScope::Archive, k.version));
    let mut got = keys.clone();
    got.sort_by_key(|k| (k.scope == KeyScope::Archive, k.version));
    assert_eq!(got, expected);

    // Another tenant's team, or an unknown tenant: not found; the other tenant sees nothing.
    assert_not_found(
        store
            .add_sealing_key(desk.globex, &key(team, 1, 5, &desk))
            .await,
    );
    assert!(store.sealing_keys(desk.globex).await.unwrap().is_empty());
    let nobody = sealdesk_proto::TenantId::from_uuid(uuid::Uuid::now_v7());
    assert_not_found(
        store
            .add_sealing_key(nobody, &key(KeyScope::Archive, 1, 5, &desk))
            .await,
    );
    store
        .add_sealing_key(desk.globex, &key(KeyScope::Archive, 1, 6, &desk))
        .await
        .unwrap();

    store.delete_tenant(desk.acme).await.unwrap();
    assert!(store.sealing_keys(desk.acme).await.unwrap().is_empty());
    assert_eq!(store.sealing_keys(desk.globex).await.unwrap().len(), 1);
}
