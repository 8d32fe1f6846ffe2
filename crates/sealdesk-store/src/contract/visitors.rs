//! Contract cases for visitors and their tickets: creation and lookups, uniqueness of the key
//! and of the external id within a tenant, tickets by token hash, expiry purge, and tenant
//! scoping.

use sealdesk_core::domain::{ExternalId, VisitorTicket};
use time::Duration;

use super::data::ms;
use super::desk::Desk;
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, Store};

/// A visitor reads back as created, is found by key and by external id in its tenant only,
/// and `touch_visitor` moves its last-seen time forward only.
pub async fn visitor_create_get_and_find(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let new = desk.visitor(desk.acme, desk.support, Some("customer-42"));
    let created = store.create_visitor(&new).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(
        (created.tenant_id, created.team_id),
        (desk.acme, desk.support)
    );
    assert_eq!(created.external_id, new.external_id);
    assert!(created.is_verified());
    assert_eq!(created.created_at, ms(new.created_at));
    assert_eq!(created.last_seen_at, ms(new.created_at));
    assert_eq!(store.get_visitor(desk.acme, new.id).await.unwrap(), created);

    let by_key = store.find_visitor_by_key(desk.acme, &new.key_hash).await;
    assert_eq!(by_key.unwrap(), Some(created.clone()));
    let customer = ExternalId::parse("customer-42").unwrap();
    let by_external = store
        .find_visitor_by_external_id(desk.acme, &customer)
        .await;
    assert_eq!(by_external.unwrap(), Some(created.clone()));
    let anonymous = store.get_visitor(desk.acme, desk.alice).await.unwrap();
    assert!(!anonymous.is_verified());

    // Another tenant sees none of it.
    assert_not_found(store.get_visitor(desk.globex, new.id).await);
    let other = store.find_visitor_by_key(desk.globex, &new.key_hash).await;
    assert_eq!(other.unwrap(), None);
    let other = store
        .find_visitor_by_external_id(desk.globex, &customer)
        .await;
    assert_eq!(other.unwrap(), None);
    let unknown = store.find_visitor_by_key(desk.acme, &desk.digest()).await;
    assert_eq!(unknown.unwrap(), None);
    assert_not_found(store.touch_visitor(desk.globex, new.id, desk.now()).await);

    let later = desk.tick() + Duration::minutes(5);
    store.touch_visitor(desk.acme, new.id, later).await.unwrap();
    store
        .touch_visitor(desk.acme, new.id, later - Duration::minutes(1))
        .await
        .unwrap();
    let touched = store.get_visitor(desk.acme, new.id).await.unwrap();
    assert_eq!(touched.last_seen_at, ms(later), "never moves backwards");
    assert_eq!(touched.created_at, created.created_at);
}

/// A visitor needs a team of its own tenant.
pub async fn create_visitor_needs_a_team_of_the_tenant(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let foreign_team = desk.visitor(desk.acme, desk.help, None);
    assert_not_found(store.create_visitor(&foreign_team).await);
    let mut missing_tenant = desk.visitor(desk.acme, desk.sales, None);
    missing_tenant.tenant_id = sealdesk_proto::TenantId::from_uuid(uuid::Uuid::from_u128(7));
    assert_not_found(store.create_visitor(&missing_tenant).await);
    assert_not_found(store.get_visitor(desk.acme, foreign_team.id).await);
}

/// Keys and external ids are unique per tenant, not across tenants; a conflict writes nothing.
pub async fn visitor_key_and_external_id_are_unique_per_tenant(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let first = desk.visitor(desk.acme, desk.sales, Some("c-1"));
    store.create_visitor(&first).await.unwrap();

    let mut same_key = desk.visitor(desk.acme, desk.support, None);
    same_key.key_hash = first.key_hash;
    assert_conflict(
        store.create_visitor(&same_key).await,
        &Constraint::VisitorKey,
    );
    assert_not_found(store.get_visitor(desk.acme, same_key.id).await);
    let mut elsewhere = desk.visitor(desk.globex, desk.help, Some("c-1"));
    elsewhere.key_hash = first.key_hash;
    store.create_visitor(&elsewhere).await.unwrap();

    let same_customer = desk.visitor(desk.acme, desk.support, Some("c-1"));
    assert_conflict(
        store.create_visitor(&same_customer).await,
        &Constraint::VisitorExternalId,
    );
    assert_not_found(store.get_visitor(desk.acme, same_customer.id).await);
    // Any number of anonymous visitors.
    for _ in 0..3 {
        store
            .create_visitor(&desk.visitor(desk.acme, desk.sales, None))
            .await
            .unwrap();
    }
    let mut same_id = desk.visitor(desk.acme, desk.sales, None);
    same_id.id = first.id;
    assert_conflict(
        store.create_visitor(&same_id).await,
        &Constraint::PrimaryKey,
    );
}

/// A ticket is found by its token hash with its visitor, expired or not, until purged; it
/// must name a visitor and a team of its tenant.
pub async fn tickets_found_by_hash_and_purged_after_expiry(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let issued = desk.tick();
    let ticket = |visitor, tenant, team, valid: Duration| VisitorTicket {
        token_hash: desk.digest(),
        visitor_id: visitor,
        tenant_id: tenant,
        team_id: team,
        created_at: issued,
        expires_at: issued + valid,
    };
    let short = ticket(desk.alice, desk.acme, desk.sales, Duration::minutes(10));
    let long = ticket(desk.alice, desk.acme, desk.support, Duration::hours(1));
    let foreign = ticket(desk.gus, desk.globex, desk.help, Duration::minutes(10));
    for t in [&short, &long, &foreign] {
        store.create_ticket(t).await.unwrap();
    }
    let (found, visitor) = store.find_ticket(&short.token_hash).await.unwrap().unwrap();
    assert_eq!(found.token_hash, short.token_hash);
    assert_eq!(found.visitor_id, desk.alice);
    assert_eq!((found.tenant_id, found.team_id), (desk.acme, desk.sales));
    assert_eq!(found.created_at, ms(short.created_at));
    assert_eq!(found.expires_at, ms(short.expires_at));
    assert_eq!(
        visitor,
        store.get_visitor(desk.acme, desk.alice).await.unwrap()
    );
    assert!(store.find_ticket(&desk.digest()).await.unwrap().is_none());

    // The visitor and the team must both be the ticket's tenant's.
    let wrong_visitor = ticket(desk.gus, desk.acme, desk.sales, Duration::minutes(1));
    assert_not_found(store.create_ticket(&wrong_visitor).await);
    let wrong_team = ticket(desk.alice, desk.acme, desk.help, Duration::minutes(1));
    assert_not_found(store.create_ticket(&wrong_team).await);
    assert!(
        store
            .find_ticket(&wrong_team.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    let mut again = ticket(desk.bob, desk.acme, desk.support, Duration::minutes(1));
    again.token_hash = short.token_hash;
    assert_conflict(
        store.create_ticket(&again).await,
        &Constraint::VisitorTicket,
    );

    // An expired ticket is still found (the caller checks expiry) until it is purged.
    assert_eq!(
        store.purge_expired_tickets(short.expires_at).await.unwrap(),
        0
    );
    let after = short.expires_at + Duration::milliseconds(1);
    assert!(
        store
            .find_ticket(&short.token_hash)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.purge_expired_tickets(after).await.unwrap(), 2);
    assert!(
        store
            .find_ticket(&short.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_ticket(&foreign.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    let (kept, _) = store.find_ticket(&long.token_hash).await.unwrap().unwrap();
    assert_eq!(kept.team_id, desk.support);
    assert_eq!(store.purge_expired_tickets(after).await.unwrap(), 0);
}
