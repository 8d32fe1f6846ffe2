//! Contract cases for invitations: single use, expiry, listing, withdrawal, uniqueness of
//! the token hash, and tenant scoping.

use time::Duration;

use super::data::{TestData, ms};
use super::people::people;
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, Store};

/// An invitation is taken once: the first take returns it marked used, the second `None`.
pub async fn invitation_taken_once(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let new = data.invitation(p.acme, p.omar, Some(p.jane), Duration::days(7));
    let created = store.create_invitation(&new).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!((created.tenant, created.staff), (p.acme, p.omar));
    assert_eq!(created.token_hash, new.token_hash);
    assert_eq!(created.created_by, Some(p.jane));
    assert_eq!(created.created_at, ms(new.created_at));
    assert_eq!(created.expires_at, ms(new.expires_at));
    assert_eq!(created.used_at, None);

    let now = new.created_at + Duration::hours(1);
    let taken = store
        .take_invitation(&new.token_hash, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.used_at, Some(ms(now)));
    assert_eq!(taken.id, new.id);
    assert_eq!(taken.created_by, Some(p.jane));
    assert_eq!(taken.expires_at, ms(new.expires_at));
    assert!(
        store
            .take_invitation(&new.token_hash, now)
            .await
            .unwrap()
            .is_none(),
        "second use"
    );
    assert!(
        store
            .take_invitation(&data.digest(), now)
            .await
            .unwrap()
            .is_none(),
        "unknown token"
    );
}

/// An invitation at or past its expiry cannot be taken.
pub async fn expired_invitation_is_not_taken(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let new = data.invitation(p.acme, p.omar, None, Duration::hours(24));
    store.create_invitation(&new).await.unwrap();
    assert!(
        store
            .take_invitation(&new.token_hash, new.expires_at)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_invitations(p.acme, new.expires_at)
            .await
            .unwrap()
            .is_empty()
    );
    let just_before = new.expires_at - Duration::milliseconds(1);
    let taken = store
        .take_invitation(&new.token_hash, just_before)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.created_by, None);
}

/// Pending invitations are listed newest first; used, expired and withdrawn ones are not.
/// A token hash is unique; ids clash as primary keys.
pub async fn list_and_delete_invitations(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let expiring = data.invitation(p.acme, p.omar, Some(p.jane), Duration::minutes(10));
    let used = data.invitation(p.acme, p.omar, Some(p.jane), Duration::days(7));
    let older = data.invitation(p.acme, p.omar, Some(p.jane), Duration::days(7));
    let newer = data.invitation(p.acme, p.jane, None, Duration::days(7));
    let theirs = data.invitation(p.globex, p.zoe, Some(p.zoe), Duration::days(7));
    for invitation in [&expiring, &used, &older, &newer, &theirs] {
        store.create_invitation(invitation).await.unwrap();
    }
    let now = expiring.expires_at;
    assert!(
        store
            .take_invitation(&used.token_hash, now)
            .await
            .unwrap()
            .is_some()
    );
    let listed: Vec<_> = store
        .list_invitations(p.acme, now)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, [newer.id, older.id]);

    let mut same_token = data.invitation(p.acme, p.omar, None, Duration::days(1));
    same_token.token_hash = older.token_hash;
    assert_conflict(
        store.create_invitation(&same_token).await,
        &Constraint::InvitationToken,
    );
    let mut same_id = data.invitation(p.acme, p.omar, None, Duration::days(1));
    same_id.id = older.id;
    assert_conflict(
        store.create_invitation(&same_id).await,
        &Constraint::PrimaryKey,
    );

    assert!(store.delete_invitation(p.acme, older.id).await.unwrap());
    assert!(!store.delete_invitation(p.acme, older.id).await.unwrap());
    assert!(
        store
            .take_invitation(&older.token_hash, now)
            .await
            .unwrap()
            .is_none(),
        "a withdrawn invitation cannot be used"
    );
    let listed: Vec<_> = store
        .list_invitations(p.acme, now)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, [newer.id]);
}

/// Another tenant's id neither lists nor withdraws an invitation, and invitations cannot
/// name accounts of another tenant; the token names its tenant.
pub async fn invitation_is_scoped_to_tenant(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let new = data.invitation(p.acme, p.omar, Some(p.jane), Duration::days(7));
    store.create_invitation(&new).await.unwrap();
    let now = data.now();

    assert!(
        store
            .list_invitations(p.globex, now)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!store.delete_invitation(p.globex, new.id).await.unwrap());

    let invites_foreigner = data.invitation(p.acme, p.zoe, Some(p.jane), Duration::days(7));
    assert_not_found(store.create_invitation(&invites_foreigner).await);
    let invited_by_foreigner = data.invitation(p.acme, p.omar, Some(p.zoe), Duration::days(7));
    assert_not_found(store.create_invitation(&invited_by_foreigner).await);
    let unknown_tenant = data.invitation(
        sealdesk_proto::TenantId::from_uuid(data.uuid()),
        p.omar,
        None,
        Duration::days(7),
    );
    assert_not_found(store.create_invitation(&unknown_tenant).await);

    let taken = store
        .take_invitation(&new.token_hash, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.tenant, taken.staff), (p.acme, p.omar));
}

/// Peeking shows a pending invitation without using it; used and expired ones are not shown.
pub async fn peek_invitation_does_not_use_it(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let new = data.invitation(p.acme, p.omar, Some(p.jane), Duration::hours(1));
    store.create_invitation(&new).await.unwrap();
    let now = new.created_at + Duration::minutes(1);
    for _ in 0..2 {
        let peeked = store
            .peek_invitation(&new.token_hash, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(peeked.id, new.id);
        assert_eq!(peeked.used_at, None);
    }
    assert!(
        store
            .peek_invitation(&new.token_hash, new.expires_at)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(
        store
            .peek_invitation(&data.digest(), now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .take_invitation(&new.token_hash, now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .peek_invitation(&new.token_hash, now)
            .await
            .unwrap()
            .is_none(),
        "used"
    );
}

/// The same invitation opened twice at once: exactly one take succeeds.
pub async fn concurrent_take_invitation_one_wins(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    for _ in 0..4 {
        let new = data.invitation(p.acme, p.omar, Some(p.jane), Duration::days(7));
        store.create_invitation(&new).await.unwrap();
        let now = new.created_at + Duration::minutes(1);
        let (a, b) = tokio::join!(
            store.take_invitation(&new.token_hash, now),
            store.take_invitation(&new.token_hash, now)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(
            a.is_some() ^ b.is_some(),
            "exactly one take wins: {a:?} {b:?}"
        );
    }
}
