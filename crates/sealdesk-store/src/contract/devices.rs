//! Contract cases for staff devices and team-key wraps: enrolment states, limits, a
//! revocation that takes the device's key packages and wraps with it, tenants apart.

use bytes::Bytes;
use time::Duration;

use super::desk::Desk;
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, DeviceDecision, DeviceStatus, KeyWrap, NewDevice, NewKeyPackage, Store};

fn device(desk: &Desk, staff: sealdesk_proto::StaffId, n: u8) -> NewDevice {
    NewDevice {
        id: desk.uuid(),
        tenant_id: desk.acme,
        staff_id: staff,
        label: format!("Laptop {n}"),
        signature_key: [n; 32],
        wrap_key: [n.wrapping_add(100); 32],
        requested_at: desk.tick(),
    }
}

fn wrap(
    device: uuid::Uuid,
    team: sealdesk_proto::TeamId,
    version: u32,
    n: u8,
    desk: &Desk,
) -> KeyWrap {
    KeyWrap {
        device_id: device,
        team_id: team,
        version,
        sealed: Bytes::from(vec![n; 120]),
        created_at: sealdesk_core::clock::from_unix_ms(sealdesk_core::clock::to_unix_ms(
            desk.now(),
        )),
    }
}

/// Certifies a pending device (by Ana) and checks the outcome, then that it cannot be
/// certified twice.
async fn certify(store: &dyn Store, desk: &Desk, id: uuid::Uuid) {
    let chain = Bytes::from_static(b"chain");
    let at = desk.tick();
    let certified = store
        .decide_device(
            desk.acme,
            id,
            &DeviceDecision::Certify(chain.clone()),
            Some(desk.ana),
            at,
        )
        .await
        .unwrap();
    assert_eq!(certified.status, DeviceStatus::Certified);
    assert_eq!(certified.credential, Some(chain.clone()));
    assert_eq!(certified.decided_by, Some(desk.ana));
    assert_eq!(store.get_device(desk.acme, id).await.unwrap(), certified);
    assert_conflict(
        store
            .decide_device(desk.acme, id, &DeviceDecision::Certify(chain), None, at)
            .await,
        &Constraint::DeviceState,
    );
}

/// Pending → certified → revoked, each step once; limits and duplicate keys refused; a
/// revocation deletes the device's key packages and wraps; other tenants see nothing.
pub async fn devices_are_enrolled_certified_and_revoked(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let laptop = device(&desk, desk.jane, 1);
    let added = store.add_device(&laptop, 2).await.unwrap();
    assert_eq!(added.status, DeviceStatus::Pending);
    assert_eq!(store.get_device(desk.acme, laptop.id).await.unwrap(), added);
    assert_eq!(
        store.device_by_key(desk.acme, [1; 32]).await.unwrap(),
        Some(added.clone())
    );
    // The same signature key again, even for someone else: refused.
    let mut copy = device(&desk, desk.omar, 1);
    copy.wrap_key = [9; 32];
    assert_conflict(store.add_device(&copy, 2).await, &Constraint::DeviceKey);
    let phone = device(&desk, desk.jane, 2);
    store.add_device(&phone, 2).await.unwrap();
    assert_conflict(
        store.add_device(&device(&desk, desk.jane, 3), 2).await,
        &Constraint::DeviceLimit,
    );
    // Another tenant's staff member, or an unknown one: not found.
    let mut foreign = device(&desk, desk.zoe, 4);
    foreign.tenant_id = desk.acme;
    assert_not_found(store.add_device(&foreign, 2).await);

    certify(store, &desk, laptop.id).await;
    assert_not_found(store.get_device(desk.globex, laptop.id).await);
    assert!(
        store
            .list_devices(desk.globex, None)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .add_key_wraps(desk.acme, &[wrap(laptop.id, desk.support, 1, 7, &desk)])
        .await
        .unwrap();

    // Revocation: the device's key packages and wraps go, its credential stays on record.
    store
        .add_key_packages(
            desk.acme,
            desk.jane,
            [1; 32],
            &[NewKeyPackage {
                hash_ref: vec![1; 32],
                payload: Bytes::from(vec![1; 100]),
                last_resort: false,
                not_after: desk.now() + Duration::days(30),
            }],
            10,
            desk.now(),
        )
        .await
        .unwrap();
    let revoked = store
        .decide_device(
            desk.acme,
            laptop.id,
            &DeviceDecision::Revoke,
            Some(desk.jane),
            desk.tick(),
        )
        .await
        .unwrap();
    assert_eq!(revoked.status, DeviceStatus::Revoked);
    assert!(revoked.credential.is_some());
    assert!(
        store
            .key_wraps(desk.acme, laptop.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .take_key_packages(desk.acme, desk.jane, &[], desk.now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_conflict(
        store
            .decide_device(
                desk.acme,
                laptop.id,
                &DeviceDecision::Revoke,
                None,
                desk.now(),
            )
            .await,
        &Constraint::DeviceState,
    );
    // A revoked device no longer counts against the limit.
    store
        .add_device(&device(&desk, desk.jane, 3), 2)
        .await
        .unwrap();
    let janes = store
        .list_devices(desk.acme, Some(desk.jane))
        .await
        .unwrap();
    assert_eq!(janes.len(), 3);
    assert_eq!(store.list_devices(desk.acme, None).await.unwrap().len(), 3);

    store.delete_tenant(desk.acme).await.unwrap();
    assert!(
        store
            .list_devices(desk.acme, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.device_by_key(desk.acme, [2; 32]).await.unwrap(), None);
}

/// Wraps go to certified devices only, replace one of the same version, stay in their
/// tenant, and are all-or-none.
pub async fn key_wraps_go_to_certified_devices_only(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let laptop = device(&desk, desk.jane, 1);
    store.add_device(&laptop, 2).await.unwrap();
    // Wraps need a certified device.
    let early = wrap(laptop.id, desk.support, 1, 7, &desk);
    assert_conflict(
        store
            .add_key_wraps(desk.acme, std::slice::from_ref(&early))
            .await,
        &Constraint::DeviceState,
    );
    certify(store, &desk, laptop.id).await;

    let v1 = wrap(laptop.id, desk.support, 1, 7, &desk);
    let v2 = wrap(laptop.id, desk.support, 2, 8, &desk);
    store
        .add_key_wraps(desk.acme, &[v1.clone(), v2.clone()])
        .await
        .unwrap();
    // The same version again replaces it (a re-wrap), it does not add one.
    let v2b = wrap(laptop.id, desk.support, 2, 9, &desk);
    store
        .add_key_wraps(desk.acme, std::slice::from_ref(&v2b))
        .await
        .unwrap();
    assert_eq!(
        store.key_wraps(desk.acme, laptop.id).await.unwrap(),
        vec![v1.clone(), v2b]
    );
    // Another tenant's team, or the device through another tenant: not found; all or none.
    assert_not_found(
        store
            .add_key_wraps(
                desk.acme,
                &[v1.clone(), wrap(laptop.id, desk.help, 1, 1, &desk)],
            )
            .await,
    );
    assert_not_found(store.add_key_wraps(desk.globex, &[v1]).await);
    assert!(
        store
            .key_wraps(desk.globex, laptop.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(store.get_device(desk.globex, laptop.id).await);
    assert!(
        store
            .list_devices(desk.globex, None)
            .await
            .unwrap()
            .is_empty()
    );
}
