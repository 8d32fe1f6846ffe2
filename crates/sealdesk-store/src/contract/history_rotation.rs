//! Contract case for History Member rotation (E2EE.md §3 "Rotation"): a conversation's
//! History Members by generation; a rotation takes a package sealed to the current team key
//! version, the same pending one until it is completed or expires; completion activates it
//! and retires the previous one; tenants, teams and closed conversations are apart.

use bytes::Bytes;
use sealdesk_core::domain::ConversationChange;
use time::{Duration, OffsetDateTime};

use super::assert_not_found;
use super::desk::Desk;
use crate::{Constraint, HistoryMemberState as S, NewHistoryPackage, Store, StoreError};

fn history(n: u8, version: Option<u32>, not_after: OffsetDateTime) -> NewHistoryPackage {
    NewHistoryPackage {
        hash_ref: vec![n; 32],
        key_package: Bytes::from(vec![n; 80]),
        sealed_bundle: Bytes::from(vec![n ^ 0xff; 120]),
        not_after,
        team_key_version: version,
    }
}

async fn states(
    store: &dyn Store,
    desk: &Desk,
    id: sealdesk_proto::ConversationId,
) -> Vec<(u32, S, u8)> {
    store
        .conversation_history_members(desk.acme, id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.generation, m.state, m.package.key_package[0]))
        .collect()
}

/// Another tenant, another team: not found; a conversation without a History Member has
/// nothing to rotate.
async fn assert_apart(
    store: &dyn Store,
    desk: &Desk,
    c1: sealdesk_proto::ConversationId,
    c3: sealdesk_proto::ConversationId,
    pending: &[u8],
) {
    let (acme, support, t0) = (desk.acme, desk.support, desk.now());
    assert_not_found(
        store
            .take_rotation_package(desk.globex, support, c1, 2, t0)
            .await,
    );
    assert_not_found(
        store
            .take_rotation_package(acme, desk.sales, c1, 2, t0)
            .await,
    );
    assert_not_found(
        store
            .complete_history_rotation(desk.globex, c1, pending, t0)
            .await,
    );
    assert_not_found(store.conversation_history_members(desk.globex, c1).await);
    // A conversation without a History Member has nothing to rotate.
    assert_not_found(store.take_rotation_package(acme, support, c3, 1, t0).await);
}

/// The whole life of a conversation's History Members: first taken (newest key version
/// first), rotated, completed once, rotated again past an expired pending one, closed.
pub async fn history_members_rotate_by_generation(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let t0 = desk.now();
    let later = t0 + Duration::days(90);
    let (acme, support) = (desk.acme, desk.support);
    let add = |batch: Vec<NewHistoryPackage>, at: OffsetDateTime| async move {
        store
            .add_history_packages(acme, support, &batch, 20, at)
            .await
            .unwrap()
    };
    add(
        vec![history(1, Some(1), later), history(4, None, later)],
        t0 - Duration::hours(3),
    )
    .await;
    add(
        vec![history(2, Some(2), later), history(3, Some(2), later)],
        t0 - Duration::hours(2),
    )
    .await;
    let c1 = desk.open(store, acme, support, desk.alice).await;
    let c3 = desk.open(store, acme, support, desk.bob).await;

    // The first History Member: the newest team key version, then the oldest.
    let first = store
        .take_history_package(acme, support, c1.id, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.key_package[0], 2);
    assert_eq!(states(store, &desk, c1.id).await, vec![(1, S::Active, 2)]);

    // Nothing sealed to version 3 yet; version 2 gives #3, pending, on every request.
    assert_eq!(
        store
            .take_rotation_package(acme, support, c1.id, 3, t0)
            .await
            .unwrap(),
        None
    );
    let pending = store
        .take_rotation_package(acme, support, c1.id, 2, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((pending.generation, pending.state), (2, S::Pending));
    assert_eq!(pending.package.key_package[0], 3);
    assert_eq!(pending.team_key_version, Some(2));
    let again = store
        .take_rotation_package(acme, support, c1.id, 2, t0 + Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, pending, "the same pending one until it is committed");
    assert_eq!(
        store
            .conversation_history_member(acme, c1.id)
            .await
            .unwrap(),
        Some(first.clone()),
        "the active one stays current while the rotation is pending"
    );
    assert_eq!(
        states(store, &desk, c1.id).await,
        vec![(1, S::Active, 2), (2, S::Pending, 3)]
    );

    assert_apart(store, &desk, c1.id, c3.id, &pending.package.hash_ref).await;

    // Completion: the pending one becomes active, the previous one retired; once only.
    let done = store
        .complete_history_rotation(acme, c1.id, &pending.package.hash_ref, t0)
        .await
        .unwrap();
    assert!(done);
    assert!(
        !store
            .complete_history_rotation(acme, c1.id, &pending.package.hash_ref, t0)
            .await
            .unwrap(),
        "a repeated completion changes nothing"
    );
    assert_not_found(
        store
            .complete_history_rotation(acme, c1.id, &first.hash_ref, t0)
            .await,
    );
    assert_not_found(
        store
            .complete_history_rotation(acme, c1.id, &[9; 32], t0)
            .await,
    );
    assert_eq!(
        states(store, &desk, c1.id).await,
        vec![(1, S::Retired, 2), (2, S::Active, 3)]
    );
    assert_eq!(
        store
            .conversation_history_member(acme, c1.id)
            .await
            .unwrap(),
        Some(pending.package.clone())
    );
    assert_eq!(
        store
            .take_history_package(acme, support, c1.id, t0)
            .await
            .unwrap(),
        Some(pending.package.clone()),
        "the widget's request returns the current member"
    );

    // Erasure takes every generation with the tenant.
    store.delete_tenant(acme).await.unwrap();
    assert_not_found(store.conversation_history_members(acme, c1.id).await);
    assert_eq!(
        store
            .conversation_history_member(acme, c1.id)
            .await
            .unwrap(),
        None
    );
}

/// A pending member whose key package expires before any commit adds it is abandoned for a
/// fresh one; a closed conversation is not re-keyed; a package without a known version is
/// handed out last, and never for a rotation.
pub async fn history_rotation_skips_expired_and_closed(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let t0 = desk.now();
    let later = t0 + Duration::days(90);
    let (acme, support) = (desk.acme, desk.support);
    let add = |batch: Vec<NewHistoryPackage>, at: OffsetDateTime| async move {
        store
            .add_history_packages(acme, support, &batch, 20, at)
            .await
            .unwrap()
    };
    add(
        vec![history(1, Some(1), later), history(4, None, later)],
        t0 - Duration::hours(3),
    )
    .await;
    add(vec![history(2, Some(2), later)], t0 - Duration::hours(2)).await;
    let c1 = desk.open(store, acme, support, desk.alice).await;
    let c2 = desk.open(store, acme, support, desk.bob).await;
    store
        .take_history_package(acme, support, c1.id, t0)
        .await
        .unwrap()
        .unwrap();
    // A pending one that expires before any commit adds it is abandoned for a fresh one.
    add(vec![history(5, Some(3), t0 + Duration::hours(1))], t0).await;
    add(vec![history(6, Some(3), later)], t0 + Duration::seconds(1)).await;
    let short = store
        .take_rotation_package(acme, support, c1.id, 3, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((short.generation, short.package.key_package[0]), (2, 5));
    let fresh = store
        .take_rotation_package(acme, support, c1.id, 3, t0 + Duration::hours(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((fresh.generation, fresh.package.key_package[0]), (3, 6));
    assert_eq!(
        states(store, &desk, c1.id).await,
        vec![(1, S::Active, 2), (2, S::Abandoned, 5), (3, S::Pending, 6)]
    );
    assert_not_found(
        store
            .complete_history_rotation(acme, c1.id, &short.package.hash_ref, t0)
            .await,
    );

    // A closed conversation is not re-keyed.
    store
        .change_conversation(acme, c1.id, &ConversationChange::close(desk.tick()), None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .take_rotation_package(acme, support, c1.id, 3, t0)
            .await,
        Err(StoreError::Conflict {
            constraint: Constraint::ConversationState
        })
    ));

    // What is left: #1 (version 1) before #4 (no version); a rotation never takes #4.
    let second = store
        .take_history_package(acme, support, c2.id, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.key_package[0], 1);
    assert_eq!(
        store
            .take_rotation_package(acme, support, c2.id, 1, t0)
            .await
            .unwrap(),
        None
    );

    // Erasure takes every generation with the conversation.
    store.delete_tenant(acme).await.unwrap();
    assert_not_found(store.conversation_history_members(acme, c1.id).await);
    assert_eq!(
        store
            .conversation_history_member(acme, c1.id)
            .await
            .unwrap(),
        None
    );
}

/// Retention deletes every generation of a conversation's History Members.
pub async fn deleting_a_conversation_removes_its_history_members(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let t0 = desk.now();
    let later = t0 + Duration::days(90);
    let pool = [history(1, Some(1), later), history(2, Some(2), later)];
    store
        .add_history_packages(desk.acme, desk.support, &pool, 20, t0 - Duration::hours(1))
        .await
        .unwrap();
    let c = desk.open(store, desk.acme, desk.support, desk.alice).await;
    let kept = desk.open(store, desk.acme, desk.support, desk.bob).await;
    store
        .take_history_package(desk.acme, desk.support, c.id, t0)
        .await
        .unwrap()
        .unwrap();
    store
        .take_history_package(desk.acme, desk.support, kept.id, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(states(store, &desk, c.id).await, vec![(1, S::Active, 2)]);
    store
        .change_conversation(
            desk.acme,
            c.id,
            &ConversationChange::close(desk.tick()),
            None,
        )
        .await
        .unwrap();
    store.delete_conversation(desk.acme, c.id).await.unwrap();
    assert_not_found(store.conversation_history_members(desk.acme, c.id).await);
    assert_eq!(
        store
            .conversation_history_member(desk.acme, c.id)
            .await
            .unwrap(),
        None,
        "its rows are gone, not just the conversation"
    );
    assert_eq!(states(store, &desk, kept.id).await, vec![(1, S::Active, 1)]);
}

/// A rotation member taken before the conversation moved to another team is abandoned (only
/// as that conversation's pending member, only by its tenant), and the next rotation takes
/// one from the new team's pool.
pub async fn a_pending_history_member_is_abandoned_after_a_transfer(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let (acme, support, sales, t0) = (desk.acme, desk.support, desk.sales, desk.now());
    let later = t0 + Duration::days(90);
    store
        .add_history_packages(acme, support, &[history(1, Some(1), later)], 20, t0)
        .await
        .unwrap();
    store
        .add_history_packages(acme, sales, &[history(7, Some(1), later)], 20, t0)
        .await
        .unwrap();
    let c1 = desk.open(store, acme, support, desk.alice).await;
    store
        .take_history_package(acme, support, c1.id, t0)
        .await
        .unwrap()
        .unwrap();
    // Support's key rotation is under way: a member sealed to its version 2 is pending.
    store
        .add_history_packages(acme, support, &[history(2, Some(2), later)], 20, t0)
        .await
        .unwrap();
    let stale = store
        .take_rotation_package(acme, support, c1.id, 2, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stale.generation, stale.package.key_package[0]), (2, 2));
    store
        .change_conversation(
            acme,
            c1.id,
            &ConversationChange::transfer_to_team(None, sales, desk.tick()),
            None,
        )
        .await
        .unwrap();
    let pending = &stale.package.hash_ref;
    let abandon = |tenant, hash_ref: &'static [u8]| async move {
        store
            .abandon_pending_history(tenant, c1.id, hash_ref, t0)
            .await
            .unwrap()
    };
    assert!(!abandon(desk.globex, &[2; 32]).await, "another tenant's");
    assert!(!abandon(acme, &[1; 32]).await, "the active member");
    assert!(
        store
            .abandon_pending_history(acme, c1.id, pending, t0)
            .await
            .unwrap()
    );
    assert!(!abandon(acme, &[2; 32]).await, "already abandoned");
    let fresh = store
        .take_rotation_package(acme, sales, c1.id, 1, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((fresh.generation, fresh.package.key_package[0]), (3, 7));
    assert_eq!(
        states(store, &desk, c1.id).await,
        vec![(1, S::Active, 1), (2, S::Abandoned, 2), (3, S::Pending, 7)]
    );
}
