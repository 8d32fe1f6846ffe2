//! Contract case for copies carried over at a transfer to another team (docs/e2ee.md,
//! "Transfer to another team"): stored with the transfer atomically, each for an original of
//! the conversation, listed to its tenant only, replaced by a later carry to the same team,
//! and deleted with the conversation.

use bytes::Bytes;
use sealdesk_core::domain::{Conversation, ConversationChange, ConversationState};
use time::Duration;

use super::assert_not_found;
use super::data::ms;
use super::desk::Desk;
use crate::{CarriedBundle, CarriedNote, CarryOver, NewHistoryPackage, Store, StoreError};

fn carry(desk: &Desk, generation: u32, seq: u64, byte: u8) -> CarryOver {
    CarryOver {
        team: desk.sales,
        resealed_by: desk.omar,
        bundles: vec![CarriedBundle {
            generation,
            sealed_bundle: Bytes::from(vec![byte; 90]),
            team_key_version: 3,
        }],
        notes: vec![CarriedNote {
            seq,
            payload: Bytes::from(vec![byte ^ 0xff; 60]),
        }],
    }
}

/// A Support conversation with a History Member and one note.
async fn with_history_and_note(store: &dyn Store, desk: &Desk, n: u8) -> Conversation {
    let t0 = desk.now();
    let package = NewHistoryPackage {
        hash_ref: vec![n; 32],
        key_package: Bytes::from(vec![n; 80]),
        sealed_bundle: Bytes::from(vec![n; 120]),
        not_after: t0 + Duration::days(90),
        team_key_version: Some(1),
    };
    store
        .add_history_packages(desk.acme, desk.support, &[package], 20, t0)
        .await
        .unwrap();
    let c = desk.open(store, desk.acme, desk.support, desk.bob).await;
    store
        .take_history_package(desk.acme, desk.support, c.id, t0)
        .await
        .unwrap()
        .unwrap();
    store
        .add_note(desk.acme, c.id, desk.ana, b"note", desk.tick())
        .await
        .unwrap();
    c
}

/// Copies of originals the conversation lacks, by another tenant's staff, for another team
/// than the transfer's, or by another tenant: refused, and nothing moves.
async fn refused_carries_write_nothing(store: &dyn Store, desk: &Desk, c: &Conversation) {
    let to_sales = || ConversationChange::transfer_to_team(None, desk.sales, desk.tick());
    let refused = [
        carry(desk, 2, 1, 5),
        carry(desk, 1, 2, 5),
        CarryOver {
            resealed_by: desk.zoe,
            ..carry(desk, 1, 1, 5)
        },
    ];
    for bad in &refused {
        assert_not_found(
            store
                .transfer_carrying(desk.acme, c.id, &to_sales(), None, bad)
                .await,
        );
    }
    let other_team = CarryOver {
        team: desk.support,
        ..carry(desk, 1, 1, 5)
    };
    assert!(matches!(
        store
            .transfer_carrying(desk.acme, c.id, &to_sales(), None, &other_team)
            .await,
        Err(StoreError::Other(_))
    ));
    let unchanged = store.get_conversation(desk.acme, c.id).await.unwrap();
    assert_eq!(
        unchanged.team_id, desk.support,
        "a refused carry moves nothing"
    );
    assert!(
        store
            .carried_bundles(desk.acme, c.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .carried_notes(desk.acme, c.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Another tenant can neither carry nor read.
    assert_not_found(
        store
            .transfer_carrying(desk.globex, c.id, &to_sales(), None, &carry(desk, 1, 1, 5))
            .await,
    );
}

/// Copies go in with the transfer or not at all, and only their tenant reads them.
pub async fn carried_copies_are_stored_with_the_transfer(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let c = with_history_and_note(store, &desk, 1).await;
    let to_sales = || ConversationChange::transfer_to_team(None, desk.sales, desk.tick());
    refused_carries_write_nothing(store, &desk, &c).await;

    let at = desk.tick();
    let change = ConversationChange::transfer_to_team(None, desk.sales, at);
    let event = desk.event(&c, "{}");
    let (moved, appended) = store
        .transfer_carrying(
            desk.acme,
            c.id,
            &change,
            Some(&event),
            &carry(&desk, 1, 1, 5),
        )
        .await
        .unwrap();
    assert_eq!(
        (moved.team_id, moved.state),
        (desk.sales, ConversationState::Queued)
    );
    assert_eq!(appended.map(|e| e.seq), Some(1));
    let bundles = store.carried_bundles(desk.acme, c.id).await.unwrap();
    assert_eq!(bundles.len(), 1);
    assert_eq!(bundles[0].copy, carry(&desk, 1, 1, 5).bundles[0]);
    assert_eq!(
        (
            bundles[0].team,
            bundles[0].resealed_by,
            bundles[0].carried_at
        ),
        (desk.sales, desk.omar, ms(at))
    );
    let notes = store.carried_notes(desk.acme, c.id).await.unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].copy, carry(&desk, 1, 1, 5).notes[0]);
    assert_eq!(
        (notes[0].team, notes[0].resealed_by),
        (desk.sales, desk.omar)
    );
    assert_not_found(store.carried_bundles(desk.globex, c.id).await);
    assert_not_found(store.carried_notes(desk.globex, c.id).await);
    // The originals stay.
    let notes = store.list_notes(desk.acme, c.id).await.unwrap();
    assert_eq!(notes[0].payload, b"note".as_slice());

    // Back to Support, then to Sales again: the newer copy replaces the older one.
    store
        .change_conversation(
            desk.acme,
            c.id,
            &ConversationChange::transfer_to_team(None, desk.support, desk.tick()),
            None,
        )
        .await
        .unwrap();
    store
        .transfer_carrying(desk.acme, c.id, &to_sales(), None, &carry(&desk, 1, 1, 9))
        .await
        .unwrap();
    let bundles = store.carried_bundles(desk.acme, c.id).await.unwrap();
    assert_eq!(bundles.len(), 1);
    assert_eq!(bundles[0].copy.sealed_bundle, vec![9; 90].as_slice());

    // Retention deletes the copies with the conversation.
    let kept = with_history_and_note(store, &desk, 2).await;
    store
        .transfer_carrying(
            desk.acme,
            kept.id,
            &to_sales(),
            None,
            &carry(&desk, 1, 1, 7),
        )
        .await
        .unwrap();
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
    assert_not_found(store.carried_bundles(desk.acme, c.id).await);
    assert_eq!(
        store
            .carried_bundles(desk.acme, kept.id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.carried_notes(desk.acme, kept.id).await.unwrap().len(),
        1
    );
}
