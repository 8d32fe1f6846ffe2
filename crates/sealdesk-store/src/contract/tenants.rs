//! Contract cases for tenants: round trip, ordering, domain uniqueness across tenants, look-up
//! by domain, and disabling.

use sealdesk_core::domain::{DomainName, TenantSettings, WidgetOrigin};
use sealdesk_proto::TenantId;
use time::Duration;
use uuid::Uuid;

use super::data::{TestData, ms};
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, Store};

/// Every field comes back as written: domains and origins in the order given (not sorted),
/// settings, `disabled = false`, and the creation time at millisecond precision.
pub async fn tenant_round_trip(store: &dyn Store) {
    let data = TestData::new();
    let settings = TenantSettings {
        retention_days: 90,
        require_second_factor: false,
        session_idle_minutes: 45,
        session_absolute_hours: 24,
        staff_ip_allowlist: vec![sealdesk_core::domain::Cidr::parse("203.0.113.0/24").unwrap()],
        visitor_blocklist: vec![sealdesk_core::domain::Cidr::parse("198.51.100.0/24").unwrap()],
        visitor_challenge: sealdesk_core::domain::VisitorChallenge::Always,
    };
    let new = data.tenant_with(
        "Zeta Café 東京",
        &["shop.zeta.example", "Zeta.Example", "b\u{fc}cher.example"],
        &[
            "https://www.zeta.example",
            "https://app.zeta.example:8443",
            "http://localhost:3000",
        ],
        settings.clone(),
    );

    let created = store.create_tenant(&new).await.unwrap();
    let got = store.get_tenant(new.id).await.unwrap();

    for tenant in [&created, &got] {
        assert_eq!(tenant.id, new.id);
        assert_eq!(tenant.name.as_str(), "Zeta Café 東京");
        let domains: Vec<&str> = tenant.domains.iter().map(DomainName::as_str).collect();
        assert_eq!(
            domains,
            ["shop.zeta.example", "zeta.example", "xn--bcher-kva.example"]
        );
        let origins: Vec<&str> = tenant
            .widget_origins
            .iter()
            .map(WidgetOrigin::as_str)
            .collect();
        assert_eq!(
            origins,
            [
                "https://www.zeta.example",
                "https://app.zeta.example:8443",
                "http://localhost:3000"
            ]
        );
        assert_eq!(tenant.settings, settings);
        assert!(!tenant.disabled);
        assert_eq!(tenant.created_at, ms(new.created_at));
        assert_ne!(
            tenant.created_at, new.created_at,
            "the test time must have sub-millisecond digits"
        );
    }
    assert_eq!(created, got);
}

/// `list_tenants` orders by creation time, not by id or insertion order.
pub async fn list_tenants_oldest_first(store: &dyn Store) {
    assert!(store.list_tenants().await.unwrap().is_empty());
    let data = TestData::new();
    let mut middle = data.tenant("Middle", &["middle.example"], &[]);
    let mut oldest = data.tenant("Oldest", &["oldest.example"], &[]);
    let newest = data.tenant("Newest", &["newest.example"], &[]);
    // Ids grow with generation order (UUIDv7); make the times disagree with that order.
    oldest.created_at = middle.created_at - Duration::hours(1);
    middle.created_at += Duration::milliseconds(1);
    for tenant in [&newest, &middle, &oldest] {
        store.create_tenant(tenant).await.unwrap();
    }

    let listed = store.list_tenants().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Oldest", "Middle", "Newest"]);
    let domains: Vec<&str> = listed.iter().map(|t| t.domains[0].as_str()).collect();
    assert_eq!(
        domains,
        ["oldest.example", "middle.example", "newest.example"]
    );
    assert_eq!(listed[0].created_at, ms(oldest.created_at));
}

/// A domain owned by one tenant cannot be given to another; the second tenant is not written
/// at all, so its other domains stay free.
pub async fn duplicate_domain_conflicts_and_writes_nothing(store: &dyn Store) {
    let data = TestData::new();
    let first = data.tenant("First", &["acme.example"], &["https://acme.example"]);
    store.create_tenant(&first).await.unwrap();

    let second = data.tenant(
        "Second",
        &["second.example", "ACME.example"],
        &["https://second.example"],
    );
    assert_conflict(
        store.create_tenant(&second).await,
        &Constraint::TenantDomain,
    );

    let listed = store.list_tenants().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, first.id);
    assert_eq!(listed[0].domains.len(), 1);
    assert_not_found(store.get_tenant(second.id).await);
    assert!(
        store
            .find_tenant_by_domain("second.example")
            .await
            .unwrap()
            .is_none()
    );

    let third = data.tenant("Third", &["second.example"], &["https://second.example"]);
    let created = store.create_tenant(&third).await.unwrap();
    assert_eq!(created.id, third.id);
    let owner = store
        .find_tenant_by_domain("second.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.id, third.id);
}

/// Reusing a tenant id is a primary-key conflict, and the first tenant is unchanged.
pub async fn duplicate_tenant_id_conflicts(store: &dyn Store) {
    let data = TestData::new();
    let first = data.tenant("First", &["first.example"], &[]);
    store.create_tenant(&first).await.unwrap();
    let mut again = data.tenant("Again", &["again.example"], &[]);
    again.id = first.id;
    assert_conflict(store.create_tenant(&again).await, &Constraint::PrimaryKey);
    assert_eq!(
        store.get_tenant(first.id).await.unwrap().name.as_str(),
        "First"
    );
    assert!(
        store
            .find_tenant_by_domain("again.example")
            .await
            .unwrap()
            .is_none()
    );
}

/// Any of a tenant's domains finds it, in any letter case; other names find nothing.
pub async fn find_tenant_by_domain(store: &dyn Store) {
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example", "shop.acme.example"], &[]);
    let globex = data.tenant("Globex", &["globex.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    store.create_tenant(&globex).await.unwrap();

    for (domain, want) in [
        ("acme.example", acme.id),
        ("shop.acme.example", acme.id),
        ("SHOP.Acme.Example", acme.id),
        ("globex.example", globex.id),
    ] {
        let found = store.find_tenant_by_domain(domain).await.unwrap();
        let found = found.unwrap_or_else(|| panic!("{domain} should belong to a tenant"));
        assert_eq!(found.id, want, "{domain}");
        assert!(!found.domains.is_empty());
    }
    let found = store
        .find_tenant_by_domain("shop.acme.example")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.name.as_str(), "Acme");
    assert_eq!(found.domains.len(), 2);
    for unknown in [
        "other.example",
        "acme.example.org",
        "example",
        "not a domain",
        "",
    ] {
        assert!(
            store
                .find_tenant_by_domain(unknown)
                .await
                .unwrap()
                .is_none(),
            "{unknown:?}"
        );
    }
}

/// Disabling is stored and reversible, and touches only that tenant.
pub async fn disable_and_enable_tenant(store: &dyn Store) {
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &["https://acme.example"]);
    let other = data.tenant("Other", &["other.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    store.create_tenant(&other).await.unwrap();

    let disabled = store.set_tenant_disabled(acme.id, true).await.unwrap();
    assert!(disabled.disabled);
    assert_eq!(disabled.domains.len(), 1);
    assert_eq!(disabled.widget_origins.len(), 1);
    assert!(store.get_tenant(acme.id).await.unwrap().disabled);
    assert!(!store.get_tenant(other.id).await.unwrap().disabled);
    assert!(
        store
            .find_tenant_by_domain("acme.example")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );

    let enabled = store.set_tenant_disabled(acme.id, false).await.unwrap();
    assert!(!enabled.disabled);
    assert!(!store.get_tenant(acme.id).await.unwrap().disabled);
    assert_eq!(enabled.created_at, ms(acme.created_at));
}

/// Settings are replaced as a whole, read back exactly, and only for that tenant.
pub async fn update_tenant_settings_round_trip(store: &dyn Store) {
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    let other = data.tenant("Other", &["other.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    store.create_tenant(&other).await.unwrap();
    let settings = TenantSettings {
        retention_days: 7,
        require_second_factor: false,
        session_idle_minutes: 15,
        session_absolute_hours: 2,
        staff_ip_allowlist: vec![sealdesk_core::domain::Cidr::parse("2001:db8::/32").unwrap()],
        ..TenantSettings::default()
    };
    let updated = store
        .update_tenant_settings(acme.id, &settings)
        .await
        .unwrap();
    assert_eq!(updated.settings, settings);
    assert_eq!(store.get_tenant(acme.id).await.unwrap().settings, settings);
    assert_eq!(
        store.get_tenant(other.id).await.unwrap().settings,
        other.settings
    );
    let unknown = TenantId::from_uuid(Uuid::from_u128(7));
    assert_not_found(store.update_tenant_settings(unknown, &settings).await);
}

/// Widget origins are replaced as a whole, in order, for one tenant only; every read sees the
/// new list.
pub async fn widget_origins_are_replaced(store: &dyn Store) {
    let data = TestData::new();
    let acme = data.tenant("Acme", &["acme.example"], &["https://shop.acme.example"]);
    let other = data.tenant("Other", &["other.example"], &["https://other.example"]);
    store.create_tenant(&acme).await.unwrap();
    store.create_tenant(&other).await.unwrap();
    let origins: Vec<WidgetOrigin> = ["http://localhost:8080", "https://acme.example"]
        .iter()
        .map(|o| WidgetOrigin::parse(o).unwrap())
        .collect();
    let updated = store.set_widget_origins(acme.id, &origins).await.unwrap();
    assert_eq!(updated.widget_origins, origins);
    assert_eq!(
        store.get_tenant(acme.id).await.unwrap().widget_origins,
        origins
    );
    let listed = store.list_tenants().await.unwrap();
    let found = listed.iter().find(|t| t.id == acme.id).unwrap();
    assert_eq!(found.widget_origins, origins);
    assert_eq!(
        store.get_tenant(other.id).await.unwrap().widget_origins,
        other.widget_origins
    );
    let cleared = store.set_widget_origins(acme.id, &[]).await.unwrap();
    assert!(cleared.widget_origins.is_empty());
    let unknown = TenantId::from_uuid(Uuid::from_u128(9));
    assert_not_found(store.set_widget_origins(unknown, &origins).await);
}

/// Reading or disabling a tenant that does not exist is `NotFound`, and creates nothing.
pub async fn unknown_tenant_is_not_found(store: &dyn Store) {
    let data = TestData::new();
    store
        .create_tenant(&data.tenant("Acme", &["acme.example"], &[]))
        .await
        .unwrap();
    let unknown = TenantId::from_uuid(Uuid::from_u128(0x0190_c2d6_7b1e_7cc3_9a5e_2f3c_4d5e_6f70));
    assert_not_found(store.get_tenant(unknown).await);
    assert_not_found(store.set_tenant_disabled(unknown, true).await);
    assert_eq!(store.list_tenants().await.unwrap().len(), 1);
}

/// Root keys: registered idempotently, listed oldest first, per tenant, `NotFound` for an
/// unknown tenant, and erased with their tenant.
pub async fn root_keys_round_trip(store: &dyn Store) {
    let data = TestData::new();
    let acme = store
        .create_tenant(&data.tenant("Acme", &["acme.example"], &[]))
        .await
        .unwrap();
    let other = store
        .create_tenant(&data.tenant("Other", &["other.example"], &[]))
        .await
        .unwrap();
    assert!(store.root_keys(acme.id).await.unwrap().is_empty());
    let t0 = data.now();
    store.add_root_key(acme.id, [1; 32], t0).await.unwrap();
    store
        .add_root_key(acme.id, [2; 32], t0 + Duration::seconds(1))
        .await
        .unwrap();
    store
        .add_root_key(acme.id, [1; 32], t0 + Duration::seconds(2))
        .await
        .unwrap();
    store.add_root_key(other.id, [3; 32], t0).await.unwrap();
    assert_eq!(
        store.root_keys(acme.id).await.unwrap(),
        vec![[1; 32], [2; 32]]
    );
    assert_eq!(store.root_keys(other.id).await.unwrap(), vec![[3; 32]]);
    assert_not_found(
        store
            .add_root_key(TenantId::from_uuid(Uuid::now_v7()), [4; 32], t0)
            .await,
    );
    store.delete_tenant(acme.id).await.unwrap();
    assert!(store.root_keys(acme.id).await.unwrap().is_empty());
    assert_eq!(store.root_keys(other.id).await.unwrap(), vec![[3; 32]]);
}
