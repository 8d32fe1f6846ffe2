//! Contract cases for internal notes (numbered per conversation) and canned responses (per
//! team), with tenant scoping.

use sealdesk_proto::{CannedResponseId, ConversationId};

use super::data::ms;
use super::desk::Desk;
use super::{assert_conflict, assert_not_found};
use crate::{CannedResponse, Constraint, Store};

/// Notes are numbered 1, 2, … per conversation and listed oldest first; the author and the
/// conversation must be the tenant's.
pub async fn notes_are_numbered_per_conversation(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let a = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let b = desk.open(store, desk.acme, desk.sales, desk.bob).await;
    let at = desk.tick();
    let first = store
        .add_note(desk.acme, a.id, desk.omar, b"\x00opaque\xff", at)
        .await
        .unwrap();
    assert_eq!((first.conversation_id, first.seq), (a.id, 1));
    assert_eq!(first.author, desk.omar);
    assert_eq!(first.payload, b"\x00opaque\xff".as_slice());
    assert_eq!(first.created_at, ms(at));
    let other = store
        .add_note(desk.acme, b.id, desk.jane, b"b1", desk.tick())
        .await
        .unwrap();
    assert_eq!(other.seq, 1, "numbered per conversation");
    let second = store
        .add_note(desk.acme, a.id, desk.jane, b"a2", desk.tick())
        .await
        .unwrap();
    assert_eq!(second.seq, 2);

    // Refused notes take no number.
    assert_not_found(
        store
            .add_note(desk.acme, a.id, desk.zoe, b"x", desk.tick())
            .await,
    );
    let theirs = desk.open(store, desk.globex, desk.help, desk.gus).await;
    assert_not_found(
        store
            .add_note(desk.acme, theirs.id, desk.jane, b"x", desk.tick())
            .await,
    );
    let unknown = ConversationId::from_uuid(uuid::Uuid::from_u128(404));
    assert_not_found(
        store
            .add_note(desk.acme, unknown, desk.jane, b"x", desk.tick())
            .await,
    );
    let third = store
        .add_note(desk.acme, a.id, desk.omar, b"a3", desk.tick())
        .await
        .unwrap();
    assert_eq!(third.seq, 3);

    assert_eq!(
        store.list_notes(desk.acme, a.id).await.unwrap(),
        [first, second, third]
    );
    assert_eq!(store.list_notes(desk.acme, b.id).await.unwrap(), [other]);
    assert!(
        store
            .list_notes(desk.globex, theirs.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_not_found(store.list_notes(desk.globex, a.id).await);
    // Notes are not log entries.
    assert!(
        store
            .read_log(desk.acme, a.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Canned responses belong to a team: created by a staff member of the tenant, listed oldest
/// first, deleted once.
pub async fn canned_responses_belong_to_a_team(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let canned = |team, author, text: &str| CannedResponse {
        id: CannedResponseId::from_uuid(desk.uuid()),
        tenant_id: desk.acme,
        team_id: team,
        payload: bytes::Bytes::copy_from_slice(text.as_bytes()),
        created_by: author,
        created_at: desk.tick(),
    };
    let hello = canned(desk.sales, desk.jane, "hello");
    let bye = canned(desk.sales, desk.omar, "bye");
    let other_team = canned(desk.support, desk.omar, "support");
    for c in [&hello, &bye, &other_team] {
        store.create_canned_response(c).await.unwrap();
    }
    let listed = store
        .list_canned_responses(desk.acme, desk.sales)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, hello.id);
    assert_eq!(listed[0].payload, hello.payload);
    assert_eq!(listed[0].created_by, desk.jane);
    assert_eq!(listed[0].created_at, ms(hello.created_at));
    assert_eq!(
        (listed[0].tenant_id, listed[0].team_id),
        (desk.acme, desk.sales)
    );
    assert_eq!(listed[1].id, bye.id);

    let mut same_id = canned(desk.sales, desk.jane, "again");
    same_id.id = hello.id;
    assert_conflict(
        store.create_canned_response(&same_id).await,
        &Constraint::PrimaryKey,
    );
    assert_not_found(
        store
            .create_canned_response(&canned(desk.help, desk.jane, "x"))
            .await,
    );
    assert_not_found(
        store
            .create_canned_response(&canned(desk.sales, desk.zoe, "x"))
            .await,
    );
    assert!(
        store
            .list_canned_responses(desk.globex, desk.sales)
            .await
            .unwrap()
            .is_empty()
    );

    assert!(
        !store
            .delete_canned_response(desk.globex, desk.sales, hello.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_canned_response(desk.acme, desk.support, hello.id)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_canned_response(desk.acme, desk.sales, hello.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_canned_response(desk.acme, desk.sales, hello.id)
            .await
            .unwrap()
    );
    let left = store
        .list_canned_responses(desk.acme, desk.sales)
        .await
        .unwrap();
    assert_eq!(left.iter().map(|c| c.id).collect::<Vec<_>>(), [bye.id]);
    assert_eq!(
        store
            .list_canned_responses(desk.acme, desk.support)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A canned response's payload is replaced only while it is still the one the writer read
/// (compare-and-swap): of two writers that read it, one wins; the winner becomes its author
/// and time. Another tenant or team, an unknown id or author is `NotFound`.
pub async fn canned_response_replaced_only_if_unchanged(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let original = CannedResponse {
        id: CannedResponseId::from_uuid(desk.uuid()),
        tenant_id: desk.acme,
        team_id: desk.sales,
        payload: bytes::Bytes::from_static(b"sealed to v1"),
        created_by: desk.jane,
        created_at: desk.tick(),
    };
    let other = CannedResponse {
        id: CannedResponseId::from_uuid(desk.uuid()),
        payload: bytes::Bytes::from_static(b"other sealed to v1"),
        ..original.clone()
    };
    store.create_canned_response(&original).await.unwrap();
    store.create_canned_response(&other).await.unwrap();
    let resealed = CannedResponse {
        payload: bytes::Bytes::from_static(b"sealed to v2"),
        created_by: desk.omar,
        created_at: desk.tick(),
        ..original.clone()
    };
    let racer = CannedResponse {
        payload: bytes::Bytes::from_static(b"also sealed to v2"),
        ..resealed.clone()
    };
    let tries = tokio::join!(
        store.replace_canned_response(&resealed, &original.payload),
        store.replace_canned_response(&racer, &original.payload),
    );
    let (first, second) = (tries.0.unwrap(), tries.1.unwrap());
    assert!(first ^ second, "exactly one writer wins: {first} {second}");
    let winner = if first { &resealed } else { &racer };
    let listed = store
        .list_canned_responses(desk.acme, desk.sales)
        .await
        .unwrap();
    let got = listed.iter().find(|c| c.id == original.id).unwrap();
    assert_eq!(got.payload, winner.payload);
    assert_eq!(got.created_by, desk.omar);
    assert_eq!(got.created_at, ms(winner.created_at));
    let untouched = listed.iter().find(|c| c.id == other.id).unwrap();
    assert_eq!(
        untouched.payload, other.payload,
        "only that response changes"
    );

    // The stale payload no longer matches; the current one does.
    assert!(
        !store
            .replace_canned_response(&resealed, &original.payload)
            .await
            .unwrap()
    );
    assert!(
        store
            .replace_canned_response(&resealed, &winner.payload)
            .await
            .unwrap()
    );

    // Scoping: another tenant or team, an unknown id, an author of another tenant.
    let current = &resealed.payload;
    for wrong in [
        CannedResponse {
            tenant_id: desk.globex,
            ..resealed.clone()
        },
        CannedResponse {
            team_id: desk.support,
            ..resealed.clone()
        },
        CannedResponse {
            id: CannedResponseId::from_uuid(uuid::Uuid::from_u128(404)),
            ..resealed.clone()
        },
        CannedResponse {
            created_by: desk.zoe,
            ..resealed.clone()
        },
    ] {
        assert_not_found(store.replace_canned_response(&wrong, current).await);
    }
    let after = store
        .list_canned_responses(desk.acme, desk.sales)
        .await
        .unwrap();
    assert_eq!(
        after,
        listed
            .iter()
            .map(|c| if c.id == original.id {
                CannedResponse {
                    payload: resealed.payload.clone(),
                    created_at: ms(resealed.created_at),
                    ..c.clone()
                }
            } else {
                c.clone()
            })
            .collect::<Vec<_>>()
    );
}
