//! Contract cases for TOTP enrolments: begin, confirm, single use of each time step,
//! conflicts with a confirmed factor, compare-and-swap re-sealing, and tenant scoping.

use sealdesk_core::auth::TotpRecord;
use time::Duration;

use super::data::{TestData, ms};
use super::people::people;
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, Store};

const SEALED: &[u8] = b"sealed:v1:first-secret";
const SEALED_2: &[u8] = b"sealed:v1:second-secret";
const RESEALED: &[u8] = b"sealed:v2:first-secret";

/// Begin stores an unconfirmed enrolment; codes are refused until it is confirmed; after
/// that each step is accepted once, only moving forward.
pub async fn totp_begin_confirm_and_use_steps(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    assert!(store.get_totp(p.acme, p.jane).await.unwrap().is_none());
    let t0 = data.now();

    let begun = store.begin_totp(p.acme, p.jane, SEALED, t0).await.unwrap();
    let want = TotpRecord {
        sealed_secret: SEALED.to_vec(),
        confirmed_at: None,
        last_used_step: None,
        created_at: ms(t0),
    };
    assert_eq!(begun, want);
    assert_eq!(store.get_totp(p.acme, p.jane).await.unwrap(), Some(want));
    assert!(
        !store.use_totp_step(p.acme, p.jane, 100).await.unwrap(),
        "an unconfirmed enrolment is not a factor"
    );

    let t1 = t0 + Duration::minutes(1);
    assert!(store.confirm_totp(p.acme, p.jane, 100, t1).await.unwrap());
    assert!(
        !store.confirm_totp(p.acme, p.jane, 101, t1).await.unwrap(),
        "already confirmed"
    );
    let got = store.get_totp(p.acme, p.jane).await.unwrap().unwrap();
    assert_eq!(got.confirmed_at, Some(ms(t1)));
    assert_eq!(got.last_used_step, Some(100));
    assert_eq!(got.created_at, ms(t0));

    assert!(
        !store.use_totp_step(p.acme, p.jane, 100).await.unwrap(),
        "the confirming code is used"
    );
    assert!(store.use_totp_step(p.acme, p.jane, 101).await.unwrap());
    assert!(
        !store.use_totp_step(p.acme, p.jane, 101).await.unwrap(),
        "same step twice"
    );
    assert!(
        !store.use_totp_step(p.acme, p.jane, 99).await.unwrap(),
        "earlier step"
    );
    assert!(store.use_totp_step(p.acme, p.jane, 150).await.unwrap());
    assert!(!store.use_totp_step(p.acme, p.jane, 149).await.unwrap());
    assert_eq!(
        store
            .get_totp(p.acme, p.jane)
            .await
            .unwrap()
            .unwrap()
            .last_used_step,
        Some(150)
    );
    // Another account is unaffected.
    assert!(store.get_totp(p.acme, p.omar).await.unwrap().is_none());
    assert!(!store.use_totp_step(p.acme, p.omar, 151).await.unwrap());
}

/// A pending enrolment is replaced by a new begin; a confirmed one is a conflict and is kept
/// until deleted. Accounts outside the tenant are `NotFound`.
pub async fn totp_begin_when_confirmed_conflicts(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    store.begin_totp(p.acme, p.jane, SEALED, t0).await.unwrap();
    let t1 = t0 + Duration::minutes(1);
    let again = store
        .begin_totp(p.acme, p.jane, SEALED_2, t1)
        .await
        .unwrap();
    assert_eq!(again.sealed_secret, SEALED_2);
    assert_eq!(again.created_at, ms(t1));
    assert!(store.confirm_totp(p.acme, p.jane, 7, t1).await.unwrap());

    assert_conflict(
        store.begin_totp(p.acme, p.jane, SEALED, t1).await,
        &Constraint::TotpConfirmed,
    );
    let kept = store.get_totp(p.acme, p.jane).await.unwrap().unwrap();
    assert_eq!(kept.sealed_secret, SEALED_2);
    assert_eq!(kept.confirmed_at, Some(ms(t1)));
    assert_eq!(kept.last_used_step, Some(7));

    assert_not_found(store.begin_totp(p.globex, p.jane, SEALED, t1).await);
    assert_not_found(store.begin_totp(p.acme, p.zoe, SEALED, t1).await);
    assert!(store.get_totp(p.acme, p.zoe).await.unwrap().is_none());

    assert!(store.delete_totp(p.acme, p.jane).await.unwrap());
    assert!(!store.delete_totp(p.acme, p.jane).await.unwrap());
    assert!(store.get_totp(p.acme, p.jane).await.unwrap().is_none());
    let fresh = store.begin_totp(p.acme, p.jane, SEALED, t1).await.unwrap();
    assert_eq!((fresh.confirmed_at, fresh.last_used_step), (None, None));
}

/// Another tenant's id never reads or changes an enrolment.
pub async fn totp_is_scoped_to_tenant(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    store.begin_totp(p.acme, p.jane, SEALED, t0).await.unwrap();

    assert!(store.get_totp(p.globex, p.jane).await.unwrap().is_none());
    assert!(!store.confirm_totp(p.globex, p.jane, 5, t0).await.unwrap());
    assert!(store.confirm_totp(p.acme, p.jane, 5, t0).await.unwrap());
    assert!(!store.use_totp_step(p.globex, p.jane, 6).await.unwrap());
    assert!(
        !store
            .replace_totp_secret(p.globex, p.jane, SEALED, RESEALED)
            .await
            .unwrap()
    );
    assert!(!store.delete_totp(p.globex, p.jane).await.unwrap());

    let got = store.get_totp(p.acme, p.jane).await.unwrap().unwrap();
    assert_eq!(got.sealed_secret, SEALED);
    assert_eq!(got.last_used_step, Some(5));
    assert!(store.use_totp_step(p.acme, p.jane, 6).await.unwrap());
}

/// Re-sealing swaps the secret only if it is still the one read.
pub async fn replace_totp_secret_is_compare_and_swap(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    assert!(
        !store
            .replace_totp_secret(p.acme, p.jane, SEALED, RESEALED)
            .await
            .unwrap(),
        "no enrolment"
    );
    store.begin_totp(p.acme, p.jane, SEALED, t0).await.unwrap();
    assert!(store.confirm_totp(p.acme, p.jane, 1, t0).await.unwrap());

    assert!(
        !store
            .replace_totp_secret(p.acme, p.jane, SEALED_2, RESEALED)
            .await
            .unwrap(),
        "wrong old value"
    );
    assert_eq!(
        store
            .get_totp(p.acme, p.jane)
            .await
            .unwrap()
            .unwrap()
            .sealed_secret,
        SEALED
    );
    assert!(
        store
            .replace_totp_secret(p.acme, p.jane, SEALED, RESEALED)
            .await
            .unwrap()
    );
    let got = store.get_totp(p.acme, p.jane).await.unwrap().unwrap();
    assert_eq!(got.sealed_secret, RESEALED);
    assert_eq!(got.confirmed_at, Some(ms(t0)), "only the secret changes");
    assert_eq!(got.last_used_step, Some(1));
    assert!(
        !store
            .replace_totp_secret(p.acme, p.jane, SEALED, RESEALED)
            .await
            .unwrap(),
        "the old value is gone"
    );
}

/// Two logins presenting the same code at once: exactly one is accepted.
pub async fn concurrent_totp_step_one_wins(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    let t0 = data.now();
    store.begin_totp(p.acme, p.jane, SEALED, t0).await.unwrap();
    assert!(store.confirm_totp(p.acme, p.jane, 10, t0).await.unwrap());
    for step in 11..16 {
        let (a, b) = tokio::join!(
            store.use_totp_step(p.acme, p.jane, step),
            store.use_totp_step(p.acme, p.jane, step)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a ^ b, "step {step}: exactly one use wins, got {a} and {b}");
    }
    assert_eq!(
        store
            .get_totp(p.acme, p.jane)
            .await
            .unwrap()
            .unwrap()
            .last_used_step,
        Some(15)
    );
}

/// Every enrolment, confirmed or not, is listed once with its tenant and account, for
/// re-sealing; the listed value is what a compare-and-swap expects.
pub async fn list_totp_secrets_covers_every_tenant(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    assert!(store.list_totp_secrets().await.unwrap().is_empty());
    let t0 = data.now();
    store.begin_totp(p.acme, p.jane, SEALED, t0).await.unwrap();
    assert!(store.confirm_totp(p.acme, p.jane, 1, t0).await.unwrap());
    store
        .begin_totp(p.globex, p.zoe, SEALED_2, t0)
        .await
        .unwrap();

    let mut listed = store.list_totp_secrets().await.unwrap();
    listed.sort_by_key(|(_, staff, _)| *staff);
    let mut want = vec![
        (p.acme, p.jane, SEALED.to_vec()),
        (p.globex, p.zoe, SEALED_2.to_vec()),
    ];
    want.sort_by_key(|(_, staff, _)| *staff);
    assert_eq!(listed, want);
    for (tenant, staff, sealed) in listed {
        assert!(
            store
                .replace_totp_secret(tenant, staff, &sealed, RESEALED)
                .await
                .unwrap()
        );
    }
    assert!(
        store
            .list_totp_secrets()
            .await
            .unwrap()
            .iter()
            .all(|(_, _, sealed)| sealed == RESEALED)
    );
}
