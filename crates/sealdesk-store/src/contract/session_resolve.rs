//! Contract cases for the per-request session lookup (session, account, tenant and second
//! factor in one read), session rotation on re-authentication, and revoking every session but
//! the caller's.

use sealdesk_core::auth::{Digest, SessionKind};
use sealdesk_core::domain::TenantSettings;
use time::Duration;

use super::data::{TestData, ms};
use super::people::people;
use crate::{PasskeyRecord, Store};

async fn second_factor(store: &dyn Store, token_hash: &Digest) -> bool {
    store
        .resolve_session(token_hash)
        .await
        .unwrap()
        .unwrap()
        .second_factor
}

/// `resolve_session` returns what `find_session`, `get_staff` and `get_tenant` return, plus
/// whether the account has a second factor, and follows every change to them: a pending TOTP
/// does not count, a confirmed one or a passkey does; a disabled account or tenant and a
/// revoked session are returned as such (the caller refuses them). Unknown hashes give
/// `None`.
pub async fn resolve_session_joins_account_tenant_and_factors(store: &dyn Store) {
    let data = TestData::new();
    let settings = TenantSettings {
        session_idle_minutes: 45,
        require_second_factor: false,
        ..TenantSettings::default()
    };
    let acme = data.tenant_with("Acme Two", &["acme-two.example"], &[], settings.clone());
    store.create_tenant(&acme).await.unwrap();
    let p = people(store, &data).await;
    let jane = data.staff(
        acme.id,
        "jane@acme-two.example",
        sealdesk_core::domain::Role::Agent,
        Some("$argon2id$stand-in"),
    );
    store.create_staff(&jane).await.unwrap();
    let new = data.session(acme.id, jane.id, SessionKind::Cli);
    store.create_session(&new).await.unwrap();

    let resolved = store
        .resolve_session(&new.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        resolved.session,
        store.find_session(&new.token_hash).await.unwrap().unwrap()
    );
    assert_eq!(
        resolved.staff,
        store.get_staff(acme.id, jane.id).await.unwrap()
    );
    assert!(resolved.staff.has_password);
    assert_eq!(resolved.tenant_settings, settings);
    assert!(!resolved.tenant_disabled);
    assert!(!resolved.second_factor);
    assert!(
        store
            .resolve_session(&data.digest())
            .await
            .unwrap()
            .is_none()
    );

    // TOTP counts once confirmed, and stops counting when removed.
    let t0 = data.now();
    store
        .begin_totp(acme.id, jane.id, b"sealed", t0)
        .await
        .unwrap();
    assert!(
        !second_factor(store, &new.token_hash).await,
        "a pending enrolment is no factor"
    );
    assert!(store.confirm_totp(acme.id, jane.id, 7, t0).await.unwrap());
    assert!(second_factor(store, &new.token_hash).await);
    assert!(store.delete_totp(acme.id, jane.id).await.unwrap());
    assert!(!second_factor(store, &new.token_hash).await);
    // Another account's factors do not count.
    store
        .begin_totp(p.acme, p.jane, b"sealed", t0)
        .await
        .unwrap();
    store.confirm_totp(p.acme, p.jane, 7, t0).await.unwrap();
    assert!(!second_factor(store, &new.token_hash).await);
    // A passkey counts.
    let passkey = PasskeyRecord {
        id: data.uuid(),
        tenant: acme.id,
        staff: jane.id,
        credential_id: b"cred-resolve".to_vec(),
        passkey: r#"{"cred":{}}"#.to_owned(),
        name: "Laptop".to_owned(),
        created_at: t0,
        last_used_at: None,
    };
    store.create_passkey(&passkey).await.unwrap();
    assert!(second_factor(store, &new.token_hash).await);

    // Disabled account and tenant, and revocation, are visible in the one read.
    store
        .set_staff_disabled(acme.id, jane.id, true)
        .await
        .unwrap();
    store.set_tenant_disabled(acme.id, true).await.unwrap();
    let at = t0 + Duration::minutes(1);
    store
        .revoke_session(acme.id, jane.id, new.id, at)
        .await
        .unwrap();
    let resolved = store
        .resolve_session(&new.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert!(resolved.staff.disabled);
    assert!(resolved.tenant_disabled);
    assert_eq!(resolved.session.revoked_at, Some(ms(at)));
}

/// Rotation stores the new session and revokes the old one at the new one's creation time,
/// once: a revoked, expired, unknown or other account's session is not rotated, and then
/// nothing is written.
pub async fn rotate_session_replaces_the_old_one_once(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let old = data.session(p.acme, p.jane, SessionKind::Browser);
    store.create_session(&old).await.unwrap();
    let mut new = data.session(p.acme, p.jane, SessionKind::Browser);
    new.created_at = old.created_at + Duration::minutes(3);

    let rotated = store.rotate_session(old.id, &new).await.unwrap().unwrap();
    assert_eq!(rotated, store.get_session(p.acme, new.id).await.unwrap());
    assert_eq!(rotated.authenticated_at, ms(new.created_at));
    assert!(rotated.is_active(new.created_at));
    let before = store.get_session(p.acme, old.id).await.unwrap();
    assert_eq!(before.revoked_at, Some(ms(new.created_at)));

    // The old session cannot be rotated again: the second new session is not stored.
    let again = data.session(p.acme, p.jane, SessionKind::Browser);
    assert!(
        store
            .rotate_session(old.id, &again)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_session(&again.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    // Nor can someone else's session, even in the same tenant, or an unknown one.
    let omar = data.session(p.acme, p.omar, SessionKind::Cli);
    store.create_session(&omar).await.unwrap();
    let hijack = data.session(p.acme, p.jane, SessionKind::Cli);
    assert!(
        store
            .rotate_session(omar.id, &hijack)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_session(p.acme, omar.id)
            .await
            .unwrap()
            .is_active(hijack.created_at),
        "omar's session is untouched"
    );
    assert!(
        store
            .rotate_session(data.uuid(), &hijack)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_session(&hijack.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    // An expired session is not rotated.
    let mut late = data.session(p.acme, p.jane, SessionKind::Cli);
    late.created_at = new.created_at + Duration::minutes(31);
    assert!(store.rotate_session(new.id, &late).await.unwrap().is_none());
    assert!(
        store
            .get_session(p.acme, new.id)
            .await
            .unwrap()
            .revoked_at
            .is_none()
    );
    // A rotation whose new session cannot be stored keeps the old one.
    let mut clash = data.session(p.acme, p.jane, SessionKind::Browser);
    clash.token_hash = omar.token_hash;
    assert!(store.rotate_session(new.id, &clash).await.is_err());
    assert!(
        store
            .get_session(p.acme, new.id)
            .await
            .unwrap()
            .is_active(clash.created_at)
    );
}

/// Two re-authentications of one session at once: exactly one rotation succeeds.
pub async fn concurrent_rotations_one_wins(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    for _ in 0..4 {
        let old = data.session(p.acme, p.jane, SessionKind::Cli);
        store.create_session(&old).await.unwrap();
        let a = data.session(p.acme, p.jane, SessionKind::Cli);
        let b = data.session(p.acme, p.jane, SessionKind::Cli);
        let (ra, rb) = tokio::join!(
            store.rotate_session(old.id, &a),
            store.rotate_session(old.id, &b)
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert!(
            ra.is_some() ^ rb.is_some(),
            "exactly one rotation wins, got {ra:?} and {rb:?}"
        );
        let stored = [a.token_hash, b.token_hash];
        let mut found = 0;
        for hash in &stored {
            found += usize::from(store.find_session(hash).await.unwrap().is_some());
        }
        assert_eq!(found, 1, "the loser's session is not stored");
    }
}

/// Revoking the others keeps the named session and other accounts' sessions, and counts
/// only sessions that were active.
pub async fn revoke_other_sessions_keeps_the_current_one(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let keep = data.session(p.acme, p.jane, SessionKind::Cli);
    let browser = data.session(p.acme, p.jane, SessionKind::Browser);
    let token = data.session(p.acme, p.jane, SessionKind::ApiToken);
    let gone = data.session(p.acme, p.jane, SessionKind::Cli);
    let omar = data.session(p.acme, p.omar, SessionKind::Cli);
    for s in [&keep, &browser, &token, &gone, &omar] {
        store.create_session(s).await.unwrap();
    }
    let at = data.now();
    store
        .revoke_session(p.acme, p.jane, gone.id, at)
        .await
        .unwrap();
    assert_eq!(
        store
            .revoke_other_sessions(p.acme, p.jane, keep.id, at)
            .await
            .unwrap(),
        2
    );
    let active: Vec<_> = store
        .list_sessions(p.acme, p.jane, at)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(active, [keep.id]);
    assert_eq!(
        store.list_sessions(p.acme, p.omar, at).await.unwrap().len(),
        1
    );
    // Scoped to the tenant: another tenant's id revokes nothing.
    assert_eq!(
        store
            .revoke_other_sessions(p.globex, p.omar, keep.id, at)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .revoke_other_sessions(p.acme, p.jane, keep.id, at)
            .await
            .unwrap(),
        0
    );
}
