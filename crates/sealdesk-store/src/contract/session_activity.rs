//! Contract cases for session activity: which sessions are listed as active, and how
//! activity and re-authentication move a session's times.

use sealdesk_core::auth::SessionKind;
use time::Duration;

use super::data::{TestData, ms};
use super::people::people;
use crate::Store;

/// Only active sessions are listed, newest first: not revoked, not past the absolute expiry,
/// not past the idle expiry; API tokens without an idle limit are listed.
pub async fn list_sessions_excludes_expired_and_revoked(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let idle_expired = data.session(p.acme, p.jane, SessionKind::Browser);
    let mut absolute_expired = data.session(p.acme, p.jane, SessionKind::Cli);
    absolute_expired.idle_expires_at = None;
    absolute_expired.absolute_expires_at = absolute_expired.created_at + Duration::minutes(40);
    let token = data.session(p.acme, p.jane, SessionKind::ApiToken);
    let revoked = data.session(p.acme, p.jane, SessionKind::Browser);
    let older = data.session(p.acme, p.jane, SessionKind::Cli);
    let newer = data.session(p.acme, p.jane, SessionKind::Browser);
    let omars = data.session(p.acme, p.omar, SessionKind::Browser);
    for session in [
        &idle_expired,
        &absolute_expired,
        &token,
        &revoked,
        &older,
        &newer,
        &omars,
    ] {
        store.create_session(session).await.unwrap();
    }
    assert!(
        store
            .revoke_session(p.acme, p.jane, revoked.id, revoked.created_at)
            .await
            .unwrap()
    );

    // All sessions were created seconds apart, so at `now` the idle and absolute limits of
    // `idle_expired` and `absolute_expired` have passed, and no other limit has.
    let now = idle_expired.created_at + Duration::minutes(30);
    let touch = older.created_at + Duration::minutes(20);
    assert!(
        store
            .touch_session(older.id, touch, Some(touch + Duration::minutes(30)))
            .await
            .unwrap()
    );
    assert!(
        store
            .touch_session(newer.id, touch, Some(touch + Duration::minutes(30)))
            .await
            .unwrap()
    );
    let now = now.max(absolute_expired.absolute_expires_at);
    let listed: Vec<_> = store
        .list_sessions(p.acme, p.jane, now)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, [newer.id, older.id, token.id]);
    for session in store.list_sessions(p.acme, p.jane, now).await.unwrap() {
        assert!(session.is_active(now));
    }
    // The boundaries are exclusive: at its idle expiry a session is no longer active.
    let at_idle_expiry = touch + Duration::minutes(30);
    let listed: Vec<_> = store
        .list_sessions(p.acme, p.jane, at_idle_expiry)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, [token.id]);
}

/// Activity moves `last_seen_at` and the idle expiry forward, never backwards and never past
/// the absolute expiry; a session without an idle limit keeps none; an idle-expired session
/// cannot be revived. Re-authentication moves `authenticated_at`.
pub async fn touch_moves_idle_expiry(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let new = data.session(p.acme, p.jane, SessionKind::Browser);
    let token = data.session(p.acme, p.jane, SessionKind::ApiToken);
    store.create_session(&new).await.unwrap();
    store.create_session(&token).await.unwrap();
    let t0 = new.created_at;

    let t1 = t0 + Duration::minutes(10);
    assert!(
        store
            .touch_session(new.id, t1, Some(t1 + Duration::minutes(30)))
            .await
            .unwrap()
    );
    let got = store.get_session(p.acme, new.id).await.unwrap();
    assert_eq!(got.last_seen_at, ms(t1));
    assert_eq!(got.idle_expires_at, Some(ms(t1 + Duration::minutes(30))));
    assert_eq!(got.authenticated_at, ms(t0));

    // A request that finishes late, with an earlier time, moves nothing backwards.
    let t_late = t0 + Duration::minutes(5);
    assert!(
        store
            .touch_session(new.id, t_late, Some(t_late + Duration::minutes(30)))
            .await
            .unwrap()
    );
    let got = store.get_session(p.acme, new.id).await.unwrap();
    assert_eq!(got.last_seen_at, ms(t1));
    assert_eq!(got.idle_expires_at, Some(ms(t1 + Duration::minutes(30))));

    // Past the absolute expiry is clamped to it.
    let t2 = t0 + Duration::hours(11) + Duration::minutes(50);
    let mut moving = t1;
    while moving + Duration::minutes(25) < t2 {
        moving += Duration::minutes(25);
        assert!(
            store
                .touch_session(new.id, moving, Some(moving + Duration::minutes(30)))
                .await
                .unwrap()
        );
    }
    assert!(
        store
            .touch_session(new.id, t2, Some(t2 + Duration::minutes(30)))
            .await
            .unwrap()
    );
    let got = store.get_session(p.acme, new.id).await.unwrap();
    assert_eq!(got.idle_expires_at, Some(ms(new.absolute_expires_at)));

    assert!(store.set_session_authenticated(new.id, t2).await.unwrap());
    assert_eq!(
        store
            .get_session(p.acme, new.id)
            .await
            .unwrap()
            .authenticated_at,
        ms(t2)
    );
    // At the absolute expiry nothing more is accepted.
    let end = new.absolute_expires_at;
    assert!(
        !store
            .touch_session(new.id, end, Some(end + Duration::minutes(30)))
            .await
            .unwrap()
    );

    // An API token has no idle limit and gets none.
    assert!(
        store
            .touch_session(token.id, t1, Some(t1 + Duration::minutes(30)))
            .await
            .unwrap()
    );
    let got = store.get_session(p.acme, token.id).await.unwrap();
    assert_eq!((got.last_seen_at, got.idle_expires_at), (ms(t1), None));
    // Without a new idle expiry only the last-seen time moves.
    let before = store.get_session(p.acme, new.id).await.unwrap();
    let t3 = t2 + Duration::minutes(1);
    assert!(store.touch_session(new.id, t3, None).await.unwrap());
    let got = store.get_session(p.acme, new.id).await.unwrap();
    assert_eq!(got.last_seen_at, ms(t3));
    assert_eq!(got.idle_expires_at, before.idle_expires_at);

    // Once idle-expired, activity does not revive a session.
    let idle = data.session(p.acme, p.omar, SessionKind::Browser);
    store.create_session(&idle).await.unwrap();
    let expired_at = idle.idle_expires_at.unwrap();
    assert!(
        !store
            .touch_session(
                idle.id,
                expired_at,
                Some(expired_at + Duration::minutes(30))
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_session_authenticated(idle.id, expired_at)
            .await
            .unwrap()
    );
}

/// `active_sessions` answers for many sessions at once with the same rule as `is_active`:
/// revoked, idle-expired and absolute-expired sessions and unknown ids are left out, active
/// ones of every tenant are returned with their tenant, and the boundaries are exclusive.
pub async fn active_sessions_checks_many_at_once(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let active = data.session(p.acme, p.jane, SessionKind::Browser);
    let token = data.session(p.acme, p.omar, SessionKind::ApiToken);
    let revoked = data.session(p.acme, p.jane, SessionKind::Cli);
    let mut absolute_expired = data.session(p.acme, p.jane, SessionKind::Cli);
    absolute_expired.idle_expires_at = None;
    absolute_expired.absolute_expires_at = absolute_expired.created_at + Duration::minutes(5);
    let elsewhere = data.session(p.globex, p.zoe, SessionKind::Browser);
    for session in [&active, &token, &revoked, &absolute_expired, &elsewhere] {
        store.create_session(session).await.unwrap();
    }
    assert!(
        store
            .revoke_session(p.acme, p.jane, revoked.id, revoked.created_at)
            .await
            .unwrap()
    );
    let unknown = uuid::Uuid::new_v4();
    let ids = [
        active.id,
        token.id,
        revoked.id,
        absolute_expired.id,
        elsewhere.id,
        unknown,
    ];
    let now = absolute_expired.absolute_expires_at;
    let mut got = store.active_sessions(&ids, now).await.unwrap();
    got.sort();
    let mut want = vec![
        (p.acme, active.id),
        (p.acme, token.id),
        (p.globex, elsewhere.id),
    ];
    want.sort();
    assert_eq!(got, want);
    for (tenant, id) in &got {
        assert!(
            store
                .get_session(*tenant, *id)
                .await
                .unwrap()
                .is_active(now)
        );
    }
    // At its idle expiry the browser session is no longer active; nothing asked, nothing found.
    let idle = active
        .idle_expires_at
        .expect("a browser session has an idle limit");
    let got = store.active_sessions(&[active.id], idle).await.unwrap();
    assert!(got.is_empty(), "{got:?}");
    assert!(store.active_sessions(&[], now).await.unwrap().is_empty());
}
