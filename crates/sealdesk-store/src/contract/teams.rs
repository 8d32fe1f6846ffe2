//! Contract cases for teams: round trip, case-insensitive names per tenant, and tenant scoping.

use sealdesk_core::domain::{NewTenant, Team};
use sealdesk_proto::TenantId;
use uuid::Uuid;

use super::data::{TestData, ms};
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, Store};

/// Two tenants, created.
async fn two_tenants(store: &dyn Store, data: &TestData) -> (NewTenant, NewTenant) {
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    let globex = data.tenant("Globex", &["globex.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    store.create_tenant(&globex).await.unwrap();
    (acme, globex)
}

fn names(teams: &[Team]) -> Vec<&str> {
    teams.iter().map(|t| t.name.as_str()).collect()
}

/// A team reads back as written; a tenant lists its own teams, oldest first.
pub async fn team_create_get_list(store: &dyn Store) {
    let data = TestData::new();
    let (acme, globex) = two_tenants(store, &data).await;
    assert!(store.list_teams(acme.id).await.unwrap().is_empty());
    let billing = data.team(acme.id, "Billing");
    let support = data.team(acme.id, "Première ligne");
    let sales = data.team(globex.id, "Sales");
    // Created newest first: the list must still be oldest first.
    for team in [&sales, &support, &billing] {
        let created = store.create_team(team).await.unwrap();
        assert_eq!(created.id, team.id);
        assert_eq!(created.name, team.name);
        assert_eq!(created.created_at, ms(team.created_at));
    }

    let got = store.get_team(acme.id, support.id).await.unwrap();
    assert_eq!(got.id, support.id);
    assert_eq!(got.tenant_id, acme.id);
    assert_eq!(got.name.as_str(), "Première ligne");
    assert!(!got.disabled);
    assert_eq!(got.created_at, ms(support.created_at));

    let listed = store.list_teams(acme.id).await.unwrap();
    assert_eq!(names(&listed), ["Billing", "Première ligne"]);
    assert!(listed.iter().all(|t| t.tenant_id == acme.id));
    assert_eq!(
        names(&store.list_teams(globex.id).await.unwrap()),
        ["Sales"]
    );
    let unknown = TenantId::from_uuid(Uuid::from_u128(7));
    assert!(store.list_teams(unknown).await.unwrap().is_empty());
}

/// Disabling a team is stored and reversible.
pub async fn team_disable_and_enable(store: &dyn Store) {
    let data = TestData::new();
    let (acme, _) = two_tenants(store, &data).await;
    let billing = data.team(acme.id, "Billing");
    let sales = data.team(acme.id, "Sales");
    store.create_team(&billing).await.unwrap();
    store.create_team(&sales).await.unwrap();

    let disabled = store
        .set_team_disabled(acme.id, billing.id, true)
        .await
        .unwrap();
    assert!(disabled.disabled);
    assert_eq!(disabled.name.as_str(), "Billing");
    assert!(store.get_team(acme.id, billing.id).await.unwrap().disabled);
    assert!(!store.get_team(acme.id, sales.id).await.unwrap().disabled);
    let enabled = store
        .set_team_disabled(acme.id, billing.id, false)
        .await
        .unwrap();
    assert!(!enabled.disabled);
    assert!(!store.get_team(acme.id, billing.id).await.unwrap().disabled);
}

/// "Billing" and "BILLING" are the same name within a tenant.
pub async fn duplicate_team_name_ignoring_case_conflicts(store: &dyn Store) {
    let data = TestData::new();
    let (acme, _) = two_tenants(store, &data).await;
    store
        .create_team(&data.team(acme.id, "Billing"))
        .await
        .unwrap();
    let shouting = data.team(acme.id, "BILLING");
    assert_conflict(store.create_team(&shouting).await, &Constraint::TeamName);
    assert_not_found(store.get_team(acme.id, shouting.id).await);
    assert_eq!(
        names(&store.list_teams(acme.id).await.unwrap()),
        ["Billing"]
    );
}

/// Team names are unique per tenant, not across tenants.
pub async fn same_team_name_in_another_tenant_is_allowed(store: &dyn Store) {
    let data = TestData::new();
    let (acme, globex) = two_tenants(store, &data).await;
    store
        .create_team(&data.team(acme.id, "Billing"))
        .await
        .unwrap();
    let theirs = data.team(globex.id, "billing");
    let created = store.create_team(&theirs).await.unwrap();
    assert_eq!(created.tenant_id, globex.id);
    assert_eq!(
        names(&store.list_teams(globex.id).await.unwrap()),
        ["billing"]
    );
    assert_eq!(
        names(&store.list_teams(acme.id).await.unwrap()),
        ["Billing"]
    );
}

/// A team id under another tenant's id is `NotFound`, for reads and writes alike.
pub async fn team_is_scoped_to_tenant(store: &dyn Store) {
    let data = TestData::new();
    let (acme, globex) = two_tenants(store, &data).await;
    let billing = data.team(acme.id, "Billing");
    store.create_team(&billing).await.unwrap();

    assert_not_found(store.get_team(globex.id, billing.id).await);
    assert_not_found(store.set_team_disabled(globex.id, billing.id, true).await);
    assert!(!store.get_team(acme.id, billing.id).await.unwrap().disabled);
    assert!(store.list_teams(globex.id).await.unwrap().is_empty());
}

/// A team cannot be created for a tenant that does not exist.
pub async fn create_team_for_missing_tenant_is_not_found(store: &dyn Store) {
    let data = TestData::new();
    let (acme, _) = two_tenants(store, &data).await;
    let missing = TenantId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001));
    let orphan = data.team(missing, "Billing");
    assert_not_found(store.create_team(&orphan).await);
    assert!(store.list_teams(missing).await.unwrap().is_empty());
    // The name is still free in a real tenant.
    store
        .create_team(&data.team(acme.id, "Billing"))
        .await
        .unwrap();
}
