//! Contract cases for staff roles: changing a role, tenant scoping, and never leaving a
//! tenant without an enabled owner, also under concurrent demotions.

use sealdesk_core::domain::Role;
use sealdesk_proto::StaffId;
use uuid::Uuid;

use super::data::TestData;
use super::people::people;
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, Store, StoreError};

/// A role change is stored and returned; other accounts and tenants are untouched.
pub async fn set_staff_role_changes_role(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let changed = store
        .set_staff_role(p.acme, p.omar, Role::Supervisor)
        .await
        .unwrap();
    assert_eq!((changed.id, changed.role), (p.omar, Role::Supervisor));
    assert_eq!(
        store.get_staff(p.acme, p.omar).await.unwrap().role,
        Role::Supervisor
    );
    assert_eq!(
        store.get_staff(p.acme, p.jane).await.unwrap().role,
        Role::Owner
    );
    // Setting the current role again is allowed, also for the last owner.
    assert_eq!(
        store
            .set_staff_role(p.acme, p.jane, Role::Owner)
            .await
            .unwrap()
            .role,
        Role::Owner
    );

    assert_not_found(store.set_staff_role(p.globex, p.omar, Role::Admin).await);
    assert_not_found(
        store
            .set_staff_role(p.acme, StaffId::from_uuid(Uuid::from_u128(7)), Role::Admin)
            .await,
    );
    assert_eq!(
        store.get_staff(p.acme, p.omar).await.unwrap().role,
        Role::Supervisor
    );
}

/// The last enabled owner cannot be demoted; with a second enabled owner one can be; a
/// disabled owner does not count.
pub async fn last_owner_cannot_be_demoted(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    assert_conflict(
        store.set_staff_role(p.acme, p.jane, Role::Admin).await,
        &Constraint::LastOwner,
    );
    assert_eq!(
        store.get_staff(p.acme, p.jane).await.unwrap().role,
        Role::Owner
    );

    store
        .set_staff_role(p.acme, p.omar, Role::Owner)
        .await
        .unwrap();
    store
        .set_staff_disabled(p.acme, p.omar, true)
        .await
        .unwrap();
    assert_conflict(
        store.set_staff_role(p.acme, p.jane, Role::Agent).await,
        &Constraint::LastOwner,
    );
    // A disabled owner can be demoted: it leaves the number of enabled owners unchanged.
    store
        .set_staff_role(p.acme, p.omar, Role::Admin)
        .await
        .unwrap();
    store
        .set_staff_role(p.acme, p.omar, Role::Owner)
        .await
        .unwrap();
    store
        .set_staff_disabled(p.acme, p.omar, false)
        .await
        .unwrap();
    let demoted = store
        .set_staff_role(p.acme, p.jane, Role::Agent)
        .await
        .unwrap();
    assert_eq!(demoted.role, Role::Agent);
    assert_conflict(
        store.set_staff_role(p.acme, p.omar, Role::Admin).await,
        &Constraint::LastOwner,
    );
    // The other tenant's owner is counted for that tenant only.
    assert_conflict(
        store.set_staff_role(p.globex, p.zoe, Role::Admin).await,
        &Constraint::LastOwner,
    );
}

/// Two demotions of the two owners at once: exactly one succeeds.
pub async fn concurrent_demotions_keep_an_owner(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    for _ in 0..3 {
        store
            .set_staff_role(p.acme, p.omar, Role::Owner)
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            store.set_staff_role(p.acme, p.jane, Role::Admin),
            store.set_staff_role(p.acme, p.omar, Role::Admin),
        );
        let (winner, loser) = match (a, b) {
            (Ok(won), Err(StoreError::Conflict { constraint }))
            | (Err(StoreError::Conflict { constraint }), Ok(won)) => {
                assert_eq!(constraint, Constraint::LastOwner);
                (won.id, if won.id == p.jane { p.omar } else { p.jane })
            }
            other => panic!("expected one demotion and one LastOwner conflict, got {other:?}"),
        };
        assert_eq!(
            store.get_staff(p.acme, winner).await.unwrap().role,
            Role::Admin
        );
        assert_eq!(
            store.get_staff(p.acme, loser).await.unwrap().role,
            Role::Owner
        );
        // Back to jane as the owner for the next round.
        store
            .set_staff_role(p.acme, p.jane, Role::Owner)
            .await
            .unwrap();
        if loser == p.omar {
            store
                .set_staff_role(p.acme, p.omar, Role::Agent)
                .await
                .unwrap();
        }
    }
}
