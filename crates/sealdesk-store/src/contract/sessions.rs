//! Contract cases for sessions and API tokens: round trip by token hash, revocation, and
//! tenant scoping. Listing and activity are in `session_activity`.

use sealdesk_core::auth::SessionKind;
use time::Duration;

use super::data::{TestData, ms};
use super::people::people;
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, Store};

/// A session reads back, by token hash and by id, exactly as created (times at millisecond
/// precision, last seen and authenticated at creation, not revoked); so does an API token.
pub async fn session_round_trip_by_token_hash(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let browser = data.session(p.acme, p.jane, SessionKind::Browser);
    let token = data.session(p.acme, p.jane, SessionKind::ApiToken);
    for new in [&browser, &token] {
        let created = store.create_session(new).await.unwrap();
        let found = store.find_session(&new.token_hash).await.unwrap().unwrap();
        let got = store.get_session(p.acme, new.id).await.unwrap();
        for session in [&created, &found, &got] {
            assert_eq!(session.id, new.id);
            assert_eq!((session.tenant, session.staff), (p.acme, p.jane));
            assert_eq!(session.kind, new.kind);
            assert_eq!(session.name, new.name);
            assert_eq!(session.scopes, new.scopes);
            assert_eq!(session.created_at, ms(new.created_at));
            assert_eq!(session.last_seen_at, ms(new.created_at));
            assert_eq!(session.authenticated_at, ms(new.created_at));
            assert_eq!(session.idle_expires_at, new.idle_expires_at.map(ms));
            assert_eq!(session.absolute_expires_at, ms(new.absolute_expires_at));
            assert_eq!(session.revoked_at, None);
            assert_eq!(session.ip, new.ip);
            assert_eq!(session.user_agent, new.user_agent);
            assert!(session.is_active(new.created_at));
        }
    }
    assert_eq!(
        store
            .find_session(&token.token_hash)
            .await
            .unwrap()
            .unwrap()
            .scopes,
        ["view_queue", "export_data"]
    );
    assert!(store.find_session(&data.digest()).await.unwrap().is_none());

    let mut same_token = data.session(p.acme, p.omar, SessionKind::Cli);
    same_token.token_hash = browser.token_hash;
    assert_conflict(
        store.create_session(&same_token).await,
        &Constraint::SessionToken,
    );
    let mut same_id = data.session(p.acme, p.omar, SessionKind::Cli);
    same_id.id = browser.id;
    assert_conflict(
        store.create_session(&same_id).await,
        &Constraint::PrimaryKey,
    );
    // An account of another tenant, and an unknown account, cannot get a session here.
    let foreign = data.session(p.acme, p.zoe, SessionKind::Browser);
    assert_not_found(store.create_session(&foreign).await);
    assert!(
        store
            .find_session(&foreign.token_hash)
            .await
            .unwrap()
            .is_none()
    );
}

/// A revoked session stays findable but is inactive; revoking again changes nothing, and
/// activity or re-authentication on it are refused.
pub async fn session_inactive_after_revoke(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let new = data.session(p.acme, p.jane, SessionKind::Browser);
    let other = data.session(p.acme, p.jane, SessionKind::Browser);
    store.create_session(&new).await.unwrap();
    store.create_session(&other).await.unwrap();
    let at = new.created_at + Duration::minutes(5);

    assert!(
        store
            .revoke_session(p.acme, p.jane, new.id, at)
            .await
            .unwrap()
    );
    let found = store.find_session(&new.token_hash).await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(ms(at)));
    assert!(!found.is_active(at));
    assert!(!found.is_active(new.created_at));

    let later = at + Duration::minutes(1);
    assert!(
        !store
            .revoke_session(p.acme, p.jane, new.id, later)
            .await
            .unwrap()
    );
    let again = store.get_session(p.acme, new.id).await.unwrap();
    assert_eq!(
        again.revoked_at,
        Some(ms(at)),
        "the first revocation time is kept"
    );
    assert!(
        !store
            .touch_session(new.id, later, Some(later + Duration::minutes(30)))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_session_authenticated(new.id, later)
            .await
            .unwrap()
    );
    let ids: Vec<_> = store
        .list_sessions(p.acme, p.jane, later)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [other.id]);
    assert_not_found(
        store
            .revoke_session(p.acme, p.jane, data.uuid(), later)
            .await,
    );
}

/// `revoke_all_sessions` revokes the account's active sessions and tokens, returns how many,
/// and leaves other accounts alone.
pub async fn revoke_all_counts_and_spares_others(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let jane: Vec<_> = [
        SessionKind::Browser,
        SessionKind::Cli,
        SessionKind::ApiToken,
        SessionKind::Browser,
    ]
    .into_iter()
    .map(|kind| data.session(p.acme, p.jane, kind))
    .collect();
    let omar = data.session(p.acme, p.omar, SessionKind::Browser);
    let zoe = data.session(p.globex, p.zoe, SessionKind::Browser);
    for session in jane.iter().chain([&omar, &zoe]) {
        store.create_session(session).await.unwrap();
    }
    let now = data.now();
    // Already revoked: not counted again.
    assert!(
        store
            .revoke_session(p.acme, p.jane, jane[1].id, now)
            .await
            .unwrap()
    );

    let revoked = store
        .revoke_all_sessions(p.acme, p.jane, now)
        .await
        .unwrap();
    assert_eq!(revoked, 3, "two browser sessions and the API token");
    assert!(
        store
            .list_sessions(p.acme, p.jane, now)
            .await
            .unwrap()
            .is_empty()
    );
    for session in &jane {
        let got = store.get_session(p.acme, session.id).await.unwrap();
        assert!(!got.is_active(now));
    }
    assert_eq!(
        store
            .get_session(p.acme, jane[1].id)
            .await
            .unwrap()
            .revoked_at,
        Some(ms(now))
    );
    assert_eq!(
        store
            .list_sessions(p.acme, p.omar, now)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list_sessions(p.globex, p.zoe, now)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .revoke_all_sessions(p.acme, p.jane, now)
            .await
            .unwrap(),
        0
    );
    assert!(
        store
            .get_session(p.acme, omar.id)
            .await
            .unwrap()
            .is_active(now)
    );
    assert!(
        store
            .get_session(p.globex, zoe.id)
            .await
            .unwrap()
            .is_active(now)
    );
}

/// A session cannot be read, listed or revoked under another tenant's id, nor revoked by
/// another account of its tenant; nothing changes.
pub async fn session_is_scoped_to_tenant(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let new = data.session(p.acme, p.jane, SessionKind::Browser);
    store.create_session(&new).await.unwrap();
    let now = data.now();

    assert_not_found(store.revoke_session(p.globex, p.jane, new.id, now).await);
    assert_not_found(store.revoke_session(p.globex, p.zoe, new.id, now).await);
    assert_not_found(store.revoke_session(p.acme, p.omar, new.id, now).await);
    assert_not_found(store.get_session(p.globex, new.id).await);
    assert_eq!(
        store
            .revoke_all_sessions(p.globex, p.jane, now)
            .await
            .unwrap(),
        0
    );
    assert!(
        store
            .list_sessions(p.globex, p.jane, now)
            .await
            .unwrap()
            .is_empty()
    );

    let got = store.get_session(p.acme, new.id).await.unwrap();
    assert!(got.is_active(now));
    assert_eq!(got.revoked_at, None);
    let found = store.find_session(&new.token_hash).await.unwrap().unwrap();
    assert_eq!((found.tenant, found.staff), (p.acme, p.jane));
}
