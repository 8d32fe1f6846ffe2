//! Helpers for the per-backend tamper and cascade tests: they need raw SQL, so they live
//! with each backend (`sqlite.rs`, `postgres.rs`) rather than in the shared contract suite.

use sealdesk_core::audit::{AuditAction, AuditRecord};
use sealdesk_core::auth::SessionKind;
use sealdesk_core::domain::Role;
use sealdesk_crypto::audit_chain::ChainReport;
use sealdesk_proto::{StaffId, TenantId};
use sealdesk_store::Store;
use sealdesk_store::contract::{TestData, verify_chain};

/// Appends five events (three with a tenant, two without) and checks the chain is intact.
pub(crate) async fn seed_chain(store: &dyn Store) -> Vec<AuditRecord> {
    let data = TestData::new();
    let tenant = data.tenant("Acme", &["acme.example"], &[]);
    store.create_tenant(&tenant).await.unwrap();
    let tenants = [
        Some(tenant.id),
        None,
        Some(tenant.id),
        None,
        Some(tenant.id),
    ];
    let mut records = Vec::new();
    for (n, tenant) in (1..).zip(tenants) {
        let event = data.audit_event(tenant, AuditAction::LoginFailed, n);
        records.push(store.append_audit(&event).await.unwrap());
    }
    let report = stored_chain(store).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries, 5);
    records
}

/// The whole stored chain, verified.
pub(crate) async fn stored_chain(store: &dyn Store) -> ChainReport {
    verify_chain(&store.list_audit(None, 0, 1000).await.unwrap())
}

/// A tenant with one account holding a session, and an audit entry about the tenant.
pub(crate) async fn tenant_with_session_and_audit(store: &dyn Store) -> (TenantId, StaffId) {
    let data = TestData::new();
    let tenant = data.tenant("Doomed", &["doomed.example"], &[]);
    store.create_tenant(&tenant).await.unwrap();
    let staff = data.staff(tenant.id, "jane@doomed.example", Role::Owner, None);
    store.create_staff(&staff).await.unwrap();
    let session = data.session(tenant.id, staff.id, SessionKind::Browser);
    store.create_session(&session).await.unwrap();
    store
        .append_audit(&data.audit_event(Some(tenant.id), AuditAction::Erased, 1))
        .await
        .unwrap();
    (tenant.id, staff.id)
}

/// After the tenant row was deleted with raw SQL: its sessions went with it, its audit
/// entries did not, and the chain still verifies.
pub(crate) async fn check_after_tenant_deletion(
    store: &dyn Store,
    tenant: TenantId,
    staff: StaffId,
) {
    let now = TestData::new().now();
    assert!(
        store
            .list_sessions(tenant, staff, now)
            .await
            .unwrap()
            .is_empty()
    );
    let entries = store.list_audit(Some(tenant), 0, 100).await.unwrap();
    assert_eq!(entries.len(), 1, "audit entries outlive their tenant");
    assert_eq!(entries[0].event.tenant, Some(tenant));
    let report = stored_chain(store).await;
    assert!(report.ok, "{report:?}");
}
