//! Contract cases for the store's lifecycle (migrations, ping, close) and for uniqueness
//! under concurrent writers.

use super::data::TestData;
use crate::{Constraint, Store, StoreError, StoreResult};

/// The factory already migrated: running the migrations again applies none.
pub async fn migrate_again_applies_nothing(store: &dyn Store) {
    assert_eq!(store.migrate().await.unwrap(), 0);
    assert_eq!(store.migrate().await.unwrap(), 0);
    // The schema is usable after the no-op run.
    let data = TestData::new();
    store
        .create_tenant(&data.tenant("Acme", &["acme.example"], &[]))
        .await
        .unwrap();
}

/// A live store answers a ping.
pub async fn ping_answers(store: &dyn Store) {
    store.ping().await.unwrap();
    store.ping().await.unwrap();
}

/// After `close`, every call fails with `Unavailable` instead of hanging or panicking.
pub async fn closed_store_is_unavailable(store: &dyn Store) {
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    store.close().await;
    assert_unavailable(&store.ping().await);
    assert_unavailable(&store.get_tenant(acme.id).await);
    assert_unavailable(&store.list_tenants().await);
    let late = data.tenant("Late", &["late.example"], &[]);
    assert_unavailable(&store.create_tenant(&late).await);
}

fn assert_unavailable<T: std::fmt::Debug>(result: &StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "expected Unavailable, got {result:?}"
    );
}

/// Two tenants racing for one domain: exactly one wins, the other is a conflict and is not
/// written.
pub async fn concurrent_same_domain_one_wins(store: &dyn Store) {
    let data = TestData::new();
    let left = data.tenant("Left", &["left.example", "contested.example"], &[]);
    let right = data.tenant("Right", &["right.example", "contested.example"], &[]);
    let (l, r) = tokio::join!(store.create_tenant(&left), store.create_tenant(&right));
    let winner = match (l, r) {
        (Ok(won), Err(StoreError::Conflict { constraint }))
        | (Err(StoreError::Conflict { constraint }), Ok(won)) => {
            assert_eq!(constraint, Constraint::TenantDomain);
            won
        }
        other => panic!("expected one success and one domain conflict, got {other:?}"),
    };
    let listed = store.list_tenants().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, winner.id);
    let owner = store
        .find_tenant_by_domain("contested.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.id, winner.id);
    let loser_only = if winner.id == left.id {
        "right.example"
    } else {
        "left.example"
    };
    assert!(
        store
            .find_tenant_by_domain(loser_only)
            .await
            .unwrap()
            .is_none()
    );
}

/// Two teams racing for one name in a tenant: exactly one wins.
pub async fn concurrent_same_team_name_one_wins(store: &dyn Store) {
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    let (left, right) = (data.team(acme.id, "Billing"), data.team(acme.id, "billing"));
    let (l, r) = tokio::join!(store.create_team(&left), store.create_team(&right));
    let winner = match (l, r) {
        (Ok(won), Err(StoreError::Conflict { constraint }))
        | (Err(StoreError::Conflict { constraint }), Ok(won)) => {
            assert_eq!(constraint, Constraint::TeamName);
            won
        }
        other => panic!("expected one success and one name conflict, got {other:?}"),
    };
    let listed = store.list_teams(acme.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, winner.id);
}
