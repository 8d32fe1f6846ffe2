//! Contract cases for passkeys and WebAuthn ceremony state: create, list, update after use,
//! delete, lookup by credential id, uniqueness, tenant scoping, and single-use, expiring
//! ceremonies.

use time::Duration;
use uuid::Uuid;

use super::data::{TestData, ms};
use super::people::{People, people};
use super::{assert_conflict, assert_not_found};
use crate::{Ceremony, CeremonyKind, Constraint, PasskeyRecord, Store};

fn passkey(data: &TestData, p: &People, credential_id: &[u8], name: &str) -> PasskeyRecord {
    PasskeyRecord {
        id: data.uuid(),
        tenant: p.acme,
        staff: p.jane,
        credential_id: credential_id.to_vec(),
        passkey: format!(r#"{{"cred":{{"counter":0,"name":"{name}"}}}}"#),
        name: name.to_owned(),
        created_at: data.now(),
        last_used_at: None,
    }
}

/// Created passkeys are listed oldest first, found by credential id, updated after use and
/// removed; another account's list is unaffected.
pub async fn passkey_create_list_use_and_delete(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let first = passkey(&data, &p, b"cred-one", "Laptop");
    let created = store.create_passkey(&first).await.unwrap();
    assert_eq!(created.created_at, ms(first.created_at));
    assert_eq!(created.last_used_at, None);
    let mut second = passkey(&data, &p, b"cred-two", "Phone");
    second.created_at = data.now() + Duration::seconds(1);
    store.create_passkey(&second).await.unwrap();

    let listed = store.list_passkeys(p.acme, p.jane).await.unwrap();
    assert_eq!(
        listed.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
        ["Laptop", "Phone"]
    );
    assert_eq!(listed[0], created);
    assert!(
        store
            .list_passkeys(p.acme, p.omar)
            .await
            .unwrap()
            .is_empty()
    );

    let found = store.find_passkey_by_credential(b"cred-two").await.unwrap();
    assert_eq!(found.map(|k| k.id), Some(second.id));
    assert!(
        store
            .find_passkey_by_credential(b"cred-none")
            .await
            .unwrap()
            .is_none()
    );

    let used_at = data.now() + Duration::minutes(3);
    let updated_json = r#"{"cred":{"counter":7}}"#;
    assert!(
        store
            .update_passkey_after_use(p.acme, first.id, updated_json, used_at)
            .await
            .unwrap()
    );
    let after = store
        .find_passkey_by_credential(b"cred-one")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.passkey, updated_json);
    assert_eq!(after.last_used_at, Some(ms(used_at)));

    assert!(
        !store
            .delete_passkey(p.acme, p.omar, first.id)
            .await
            .unwrap(),
        "another account's passkey is not removed"
    );
    assert!(
        store
            .delete_passkey(p.acme, p.jane, first.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_passkey(p.acme, p.jane, first.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_passkey_after_use(p.acme, first.id, updated_json, used_at)
            .await
            .unwrap(),
        "a removed passkey is not updated"
    );
    assert_eq!(store.list_passkeys(p.acme, p.jane).await.unwrap().len(), 1);
}

/// A credential id is registered once across the installation; an account of another tenant
/// is `NotFound`; tenant-scoped calls do not reach another tenant's passkeys.
pub async fn passkey_conflicts_and_tenant_scope(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let first = passkey(&data, &p, b"cred-shared", "Key");
    store.create_passkey(&first).await.unwrap();
    let mut again = passkey(&data, &p, b"cred-shared", "Again");
    again.staff = p.omar;
    assert_conflict(
        store.create_passkey(&again).await,
        &Constraint::PasskeyCredential,
    );
    let mut zoe = passkey(&data, &p, b"cred-shared", "Zoe");
    zoe.tenant = p.globex;
    zoe.staff = p.zoe;
    assert_conflict(
        store.create_passkey(&zoe).await,
        &Constraint::PasskeyCredential,
    );

    let mut wrong_tenant = passkey(&data, &p, b"cred-other", "Cross");
    wrong_tenant.tenant = p.globex;
    assert_not_found(store.create_passkey(&wrong_tenant).await);
    assert!(
        store
            .find_passkey_by_credential(b"cred-other")
            .await
            .unwrap()
            .is_none()
    );

    assert!(
        store
            .list_passkeys(p.globex, p.jane)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .delete_passkey(p.globex, p.jane, first.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_passkey_after_use(p.globex, first.id, "{}", data.now())
            .await
            .unwrap()
    );
    assert_eq!(store.list_passkeys(p.acme, p.jane).await.unwrap().len(), 1);
}

fn ceremony(data: &TestData, p: &People, kind: CeremonyKind, staff: bool) -> Ceremony {
    Ceremony {
        id: data.uuid(),
        tenant: p.acme,
        staff: staff.then_some(p.jane),
        kind,
        state: r#"{"challenge":"abc"}"#.to_owned(),
        expires_at: data.now() + Duration::minutes(5),
    }
}

/// A ceremony is taken once, only with its kind and before it expires; one that names an
/// account of another tenant is refused; ceremonies for unknown tenants are stored.
pub async fn ceremony_taken_once_before_expiry(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let now = data.now();
    let reg = ceremony(&data, &p, CeremonyKind::Registration, true);
    store.put_ceremony(&reg).await.unwrap();
    assert!(
        store
            .take_ceremony(reg.id, CeremonyKind::Authentication, now)
            .await
            .unwrap()
            .is_none(),
        "wrong kind"
    );
    let taken = store
        .take_ceremony(reg.id, CeremonyKind::Registration, now)
        .await
        .unwrap();
    assert_eq!(
        taken,
        Some(Ceremony {
            expires_at: ms(reg.expires_at),
            ..reg.clone()
        })
    );
    assert!(
        store
            .take_ceremony(reg.id, CeremonyKind::Registration, now)
            .await
            .unwrap()
            .is_none(),
        "taken once"
    );

    let anonymous = ceremony(&data, &p, CeremonyKind::Authentication, false);
    store.put_ceremony(&anonymous).await.unwrap();
    let late = anonymous.expires_at + Duration::seconds(1);
    assert!(
        store
            .take_ceremony(anonymous.id, CeremonyKind::Authentication, late)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );

    let mut cross = ceremony(&data, &p, CeremonyKind::Registration, true);
    cross.tenant = p.globex;
    assert_not_found(store.put_ceremony(&cross).await);
    let mut unknown_tenant = ceremony(&data, &p, CeremonyKind::Authentication, false);
    unknown_tenant.tenant = sealdesk_proto::TenantId::from_uuid(Uuid::new_v4());
    store.put_ceremony(&unknown_tenant).await.unwrap();
    assert_conflict(
        store.put_ceremony(&unknown_tenant).await,
        &Constraint::PrimaryKey,
    );
}

/// Of two concurrent takes of one ceremony exactly one wins; purge forgets expired ones only.
pub async fn concurrent_ceremony_take_one_wins_and_purge(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let now = data.now();
    for _ in 0..4 {
        let c = ceremony(&data, &p, CeremonyKind::Authentication, true);
        store.put_ceremony(&c).await.unwrap();
        let (a, b) = tokio::join!(
            store.take_ceremony(c.id, CeremonyKind::Authentication, now),
            store.take_ceremony(c.id, CeremonyKind::Authentication, now)
        );
        let (a, b) = (a.unwrap().is_some(), b.unwrap().is_some());
        assert!(a ^ b, "exactly one take wins, got {a} and {b}");
    }
    let old = ceremony(&data, &p, CeremonyKind::Registration, true);
    store.put_ceremony(&old).await.unwrap();
    let fresh = Ceremony {
        id: data.uuid(),
        expires_at: now + Duration::hours(1),
        ..old.clone()
    };
    store.put_ceremony(&fresh).await.unwrap();
    let purged = store
        .purge_ceremonies(now + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert!(
        store
            .take_ceremony(fresh.id, CeremonyKind::Registration, now)
            .await
            .unwrap()
            .is_some()
    );
}
