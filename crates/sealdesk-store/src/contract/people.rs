//! The starting point of the authentication cases: two tenants and three accounts, two of
//! them in the first tenant.

use sealdesk_core::domain::Role;
use sealdesk_proto::{StaffId, TenantId};

use super::data::TestData;
use crate::Store;

/// Who exists.
#[derive(Debug, Clone, Copy)]
pub(crate) struct People {
    /// The first tenant.
    pub(crate) acme: TenantId,
    /// Another tenant.
    pub(crate) globex: TenantId,
    /// Owner of `acme`.
    pub(crate) jane: StaffId,
    /// Agent of `acme`.
    pub(crate) omar: StaffId,
    /// Owner of `globex`.
    pub(crate) zoe: StaffId,
}

/// Creates [`People`].
pub(crate) async fn people(store: &dyn Store, data: &TestData) -> People {
    let acme = data.tenant("Acme", &["acme.example"], &[]);
    let globex = data.tenant("Globex", &["globex.example"], &[]);
    store.create_tenant(&acme).await.unwrap();
    store.create_tenant(&globex).await.unwrap();
    let jane = data.staff(acme.id, "jane@acme.example", Role::Owner, None);
    let omar = data.staff(acme.id, "omar@acme.example", Role::Agent, None);
    let zoe = data.staff(globex.id, "zoe@globex.example", Role::Owner, None);
    for staff in [&jane, &omar, &zoe] {
        store.create_staff(staff).await.unwrap();
    }
    People {
        acme: acme.id,
        globex: globex.id,
        jane: jane.id,
        omar: omar.id,
        zoe: zoe.id,
    }
}
