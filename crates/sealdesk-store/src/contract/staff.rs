//! Contract cases for staff accounts: round trip, look-up by e-mail, uniqueness per tenant,
//! tenant scoping and the password hash.

use sealdesk_core::domain::{NewTenant, Role};
use sealdesk_proto::{StaffId, TenantId};
use uuid::Uuid;

use super::data::{TestData, ms};
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, Store};

const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
const PHC_2: &str = "$argon2id$v=19$m=65536,t=3,p=1$b3RoZXJzYWx0b3RoZXJzYQ$bmV3aGFzaG5ld2hhc2huZXdoYXNobmV3aGFzaG5ldw";

/// Two tenants, created.
async fn two_tenants(store: &dyn Store, data: &TestData) -> (NewTenant, NewTenant) {
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    let globex = data.tenant("Globex", &["globex.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    store.create_tenant(&globex).await.unwrap();
    (acme, globex)
}

/// An account reads back as written, is found by its address in any case, and a tenant
/// lists its own accounts oldest first.
pub async fn staff_create_get_find_list(store: &dyn Store) {
    let data = TestData::new();
    let (acme, globex) = two_tenants(store, &data).await;
    let jane = data.staff(acme.id, "Jane.Doe@acme.example", Role::Owner, Some(PHC));
    let omar = data.staff(acme.id, "omar@acme.example", Role::Agent, None);
    let other = data.staff(globex.id, "zoe@globex.example", Role::Supervisor, None);
    for staff in [&other, &omar, &jane] {
        let created = store.create_staff(staff).await.unwrap();
        assert_eq!(created.id, staff.id);
        assert_eq!(created.has_password, staff.password_hash.is_some());
        assert_eq!(created.created_at, ms(staff.created_at));
    }

    let got = store.get_staff(acme.id, jane.id).await.unwrap();
    assert_eq!(got.id, jane.id);
    assert_eq!(got.tenant_id, acme.id);
    assert_eq!(got.email.as_str(), "jane.doe@acme.example");
    assert_eq!(got.display_name, jane.display_name);
    assert_eq!(got.role, Role::Owner);
    assert!(got.has_password);
    assert!(!got.disabled);
    assert_eq!(got.created_at, ms(jane.created_at));
    let got_omar = store.get_staff(acme.id, omar.id).await.unwrap();
    assert_eq!(got_omar.role, Role::Agent);
    assert!(!got_omar.has_password);

    let found = store
        .find_staff_by_email(acme.id, " JANE.doe@ACME.example ")
        .await
        .unwrap();
    assert_eq!(found.map(|s| s.id), Some(jane.id));
    assert!(
        store
            .find_staff_by_email(acme.id, "nobody@acme.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_staff_by_email(acme.id, "not an address")
            .await
            .unwrap()
            .is_none()
    );

    let listed = store.list_staff(acme.id).await.unwrap();
    let ids: Vec<StaffId> = listed.iter().map(|s| s.id).collect();
    assert_eq!(ids, [jane.id, omar.id]);
    let theirs = store.list_staff(globex.id).await.unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].role, Role::Supervisor);
}

/// Disabling an account is stored and reversible.
pub async fn staff_disable_and_enable(store: &dyn Store) {
    let data = TestData::new();
    let (acme, _) = two_tenants(store, &data).await;
    let jane = data.staff(acme.id, "jane@acme.example", Role::Admin, Some(PHC));
    let omar = data.staff(acme.id, "omar@acme.example", Role::Agent, None);
    store.create_staff(&jane).await.unwrap();
    store.create_staff(&omar).await.unwrap();

    let disabled = store
        .set_staff_disabled(acme.id, jane.id, true)
        .await
        .unwrap();
    assert!(disabled.disabled);
    assert!(disabled.has_password);
    assert_eq!(disabled.role, Role::Admin);
    assert!(store.get_staff(acme.id, jane.id).await.unwrap().disabled);
    assert!(!store.get_staff(acme.id, omar.id).await.unwrap().disabled);
    let enabled = store
        .set_staff_disabled(acme.id, jane.id, false)
        .await
        .unwrap();
    assert!(!enabled.disabled);
    assert!(!store.get_staff(acme.id, jane.id).await.unwrap().disabled);
}

/// One address, one account per tenant.
pub async fn duplicate_staff_email_conflicts(store: &dyn Store) {
    let data = TestData::new();
    let (acme, _) = two_tenants(store, &data).await;
    store
        .create_staff(&data.staff(acme.id, "jane@acme.example", Role::Owner, None))
        .await
        .unwrap();
    let again = data.staff(acme.id, "JANE@acme.example", Role::Agent, None);
    assert_conflict(store.create_staff(&again).await, &Constraint::StaffEmail);
    assert_not_found(store.get_staff(acme.id, again.id).await);
    let listed = store.list_staff(acme.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].role, Role::Owner);
}

/// The same person may hold an account in each of two tenants.
pub async fn same_email_in_another_tenant_is_allowed(store: &dyn Store) {
    let data = TestData::new();
    let (acme, globex) = two_tenants(store, &data).await;
    let here = data.staff(acme.id, "jane@example.org", Role::Owner, None);
    let there = data.staff(globex.id, "jane@example.org", Role::Agent, None);
    store.create_staff(&here).await.unwrap();
    store.create_staff(&there).await.unwrap();
    let ours = store
        .find_staff_by_email(acme.id, "jane@example.org")
        .await
        .unwrap()
        .unwrap();
    let theirs = store
        .find_staff_by_email(globex.id, "jane@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ours.id, ours.role), (here.id, Role::Owner));
    assert_eq!((theirs.id, theirs.role), (there.id, Role::Agent));
}

/// An account id under another tenant's id is `NotFound` for every call, and nothing changes.
pub async fn staff_is_scoped_to_tenant(store: &dyn Store) {
    let data = TestData::new();
    let (acme, globex) = two_tenants(store, &data).await;
    let jane = data.staff(acme.id, "jane@acme.example", Role::Owner, Some(PHC));
    store.create_staff(&jane).await.unwrap();

    assert_not_found(store.get_staff(globex.id, jane.id).await);
    assert_not_found(store.set_staff_disabled(globex.id, jane.id, true).await);
    assert_not_found(store.staff_password_hash(globex.id, jane.id).await);
    assert_not_found(
        store
            .set_staff_password_hash(globex.id, jane.id, PHC_2)
            .await,
    );
    assert!(
        store
            .find_staff_by_email(globex.id, "jane@acme.example")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.list_staff(globex.id).await.unwrap().is_empty());

    assert!(!store.get_staff(acme.id, jane.id).await.unwrap().disabled);
    assert_eq!(
        store
            .staff_password_hash(acme.id, jane.id)
            .await
            .unwrap()
            .as_deref(),
        Some(PHC)
    );
}

/// A hash can be set later and replaced; `has_password` follows it. Unknown ids are
/// `NotFound`.
pub async fn password_hash_set_and_read_back(store: &dyn Store) {
    let data = TestData::new();
    let (acme, _) = two_tenants(store, &data).await;
    let omar = data.staff(acme.id, "omar@acme.example", Role::Agent, None);
    let jane = data.staff(acme.id, "jane@acme.example", Role::Owner, Some(PHC));
    store.create_staff(&omar).await.unwrap();
    store.create_staff(&jane).await.unwrap();
    assert_eq!(
        store.staff_password_hash(acme.id, omar.id).await.unwrap(),
        None
    );
    assert!(
        !store
            .get_staff(acme.id, omar.id)
            .await
            .unwrap()
            .has_password
    );
    assert_eq!(
        store
            .staff_password_hash(acme.id, jane.id)
            .await
            .unwrap()
            .as_deref(),
        Some(PHC)
    );

    store
        .set_staff_password_hash(acme.id, omar.id, PHC)
        .await
        .unwrap();
    assert_eq!(
        store
            .staff_password_hash(acme.id, omar.id)
            .await
            .unwrap()
            .as_deref(),
        Some(PHC)
    );
    assert!(
        store
            .get_staff(acme.id, omar.id)
            .await
            .unwrap()
            .has_password
    );

    store
        .set_staff_password_hash(acme.id, omar.id, PHC_2)
        .await
        .unwrap();
    assert_eq!(
        store
            .staff_password_hash(acme.id, omar.id)
            .await
            .unwrap()
            .as_deref(),
        Some(PHC_2)
    );
    // Only omar's hash changed.
    assert_eq!(
        store
            .staff_password_hash(acme.id, jane.id)
            .await
            .unwrap()
            .as_deref(),
        Some(PHC)
    );

    let unknown = StaffId::from_uuid(Uuid::from_u128(42));
    assert_not_found(store.staff_password_hash(acme.id, unknown).await);
    assert_not_found(store.set_staff_password_hash(acme.id, unknown, PHC).await);
}

/// An account cannot be created for a tenant that does not exist.
pub async fn create_staff_for_missing_tenant_is_not_found(store: &dyn Store) {
    let data = TestData::new();
    let (acme, _) = two_tenants(store, &data).await;
    let missing = TenantId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002));
    let orphan = data.staff(missing, "jane@acme.example", Role::Owner, None);
    assert_not_found(store.create_staff(&orphan).await);
    assert!(store.list_staff(missing).await.unwrap().is_empty());
    store
        .create_staff(&data.staff(acme.id, "jane@acme.example", Role::Owner, None))
        .await
        .unwrap();
}
