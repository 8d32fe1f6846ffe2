//! Contract cases for attachment references and retention: expired conversations oldest
//! first, and hard deletion of one conversation with everything it owns, and nothing else.

use sealdesk_core::domain::ConversationChange;
use sealdesk_proto::ConversationId;
use time::Duration;

use super::data::ms;
use super::desk::{Desk, staff, visitor};
use super::{assert_conflict, assert_not_found};
use crate::{Attachment, Store, Uploader};

/// A reference of a blob from a conversation is idempotent, read back per conversation and
/// tenant, and makes the blob referenced for every tenant.
pub async fn attachments_are_referenced_per_conversation(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let c = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let blob = desk.digest();
    let attachment = Attachment {
        tenant_id: desk.acme,
        conversation_id: c.id,
        sha256: blob,
        size: 10 * 1024 * 1024,
        uploaded_by: Uploader::Visitor(desk.alice),
        created_at: desk.tick(),
    };
    assert!(!store.blob_referenced(&blob).await.unwrap());
    store.add_attachment(&attachment).await.unwrap();
    let again = Attachment {
        uploaded_by: Uploader::Staff(desk.omar),
        created_at: desk.tick(),
        ..attachment.clone()
    };
    store.add_attachment(&again).await.unwrap();
    let stored = store
        .get_attachment(desk.acme, c.id, &blob)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored,
        Attachment {
            created_at: ms(attachment.created_at),
            ..attachment.clone()
        },
        "the first reference stays"
    );
    assert!(store.blob_referenced(&blob).await.unwrap());
    assert!(!store.blob_referenced(&desk.digest()).await.unwrap());
    assert!(
        store
            .get_attachment(desk.globex, c.id, &blob)
            .await
            .unwrap()
            .is_none()
    );
    let other = desk.open(store, desk.acme, desk.sales, desk.bob).await;
    assert!(
        store
            .get_attachment(desk.acme, other.id, &blob)
            .await
            .unwrap()
            .is_none()
    );

    let staff_upload = Attachment {
        conversation_id: other.id,
        uploaded_by: Uploader::Staff(desk.omar),
        ..attachment.clone()
    };
    store.add_attachment(&staff_upload).await.unwrap();
    let read = store
        .get_attachment(desk.acme, other.id, &blob)
        .await
        .unwrap();
    assert_eq!(read.unwrap().uploaded_by, Uploader::Staff(desk.omar));

    let theirs = desk.open(store, desk.globex, desk.help, desk.gus).await;
    let foreign = Attachment {
        conversation_id: theirs.id,
        ..attachment.clone()
    };
    assert_not_found(store.add_attachment(&foreign).await);
    let unknown = Attachment {
        conversation_id: ConversationId::from_uuid(uuid::Uuid::from_u128(404)),
        ..attachment
    };
    assert_not_found(store.add_attachment(&unknown).await);
}

/// `expired_conversations` lists the tenant's conversations closed before the cutoff, oldest
/// close first, at most `limit`.
pub async fn expired_conversations_oldest_first(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let mut closed = Vec::new();
    for visitor in [desk.alice, desk.bob, desk.alice] {
        closed.push(desk.open(store, desk.acme, desk.sales, visitor).await.id);
    }
    let still_open = desk.open(store, desk.acme, desk.sales, desk.bob).await.id;
    let theirs = desk.open(store, desk.globex, desk.help, desk.gus).await.id;
    // Closed in the order 2, 0, 1 (not creation order).
    let mut closed_at = Vec::new();
    for &i in &[2usize, 0, 1] {
        let at = desk.tick();
        let close = ConversationChange::close(at);
        store
            .change_conversation(desk.acme, closed[i], &close, None)
            .await
            .unwrap();
        closed_at.push(at);
    }
    let close = ConversationChange::close(desk.tick());
    store
        .change_conversation(desk.globex, theirs, &close, None)
        .await
        .unwrap();

    let cutoff = desk.tick() + Duration::days(30);
    let expired = store
        .expired_conversations(desk.acme, cutoff, 100)
        .await
        .unwrap();
    assert_eq!(expired, [closed[2], closed[0], closed[1]]);
    assert!(!expired.contains(&still_open));
    assert_eq!(
        store
            .expired_conversations(desk.acme, cutoff, 2)
            .await
            .unwrap(),
        [closed[2], closed[0]]
    );
    // Strictly before the cutoff.
    assert_eq!(
        store
            .expired_conversations(desk.acme, closed_at[1], 100)
            .await
            .unwrap(),
        [closed[2]]
    );
    assert!(
        store
            .expired_conversations(desk.acme, closed_at[0], 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .expired_conversations(desk.globex, cutoff, 100)
            .await
            .unwrap(),
        [theirs]
    );
}

/// Deleting a conversation removes its log, notes, participants and attachment references in
/// one step, reports the entries deleted and the blobs nobody references any more, clears the
/// link of a conversation reopened from it, and leaves every other conversation as it was.
pub async fn deleting_a_conversation_removes_what_it_owns(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let doomed = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let kept = desk.open(store, desk.acme, desk.sales, desk.bob).await;
    let theirs = desk.open(store, desk.globex, desk.help, desk.gus).await;
    let (shared, own, own_too) = (desk.digest(), desk.digest(), desk.digest());
    for (c, blob) in [
        (&doomed, shared),
        (&doomed, own),
        (&doomed, own_too),
        (&kept, shared),
        (&theirs, own_too),
    ] {
        store
            .add_attachment(&Attachment {
                tenant_id: c.tenant_id,
                conversation_id: c.id,
                sha256: blob,
                size: 100,
                uploaded_by: Uploader::Staff(desk.omar),
                created_at: desk.tick(),
            })
            .await
            .unwrap();
    }
    for c in [&doomed, &kept] {
        let batch: Vec<_> = (0..5)
            .map(|i| desk.entry(c, visitor(c.visitor_id), Some(&format!("m{i}")), b"secret"))
            .collect();
        store.append_batch(&batch).await.unwrap();
        store
            .add_note(desk.acme, c.id, desk.omar, b"note", desk.tick())
            .await
            .unwrap();
        store
            .add_participant(desk.acme, c.id, desk.jane, desk.tick())
            .await
            .unwrap();
    }
    let agent_line = desk.entry(&doomed, staff(desk.omar), None, b"reply");
    store.append_batch(&[agent_line]).await.unwrap();
    let close = ConversationChange::close(desk.tick());
    store
        .change_conversation(desk.acme, doomed.id, &close, None)
        .await
        .unwrap();
    let reopened = desk.new_conversation(desk.acme, desk.sales, desk.alice, Some(doomed.id));
    let reopened = store.create_conversation(&reopened).await.unwrap();
    let before_kept = store.read_log(desk.acme, kept.id, 0, 100).await.unwrap();

    assert_not_found(store.delete_conversation(desk.globex, doomed.id).await);
    let deleted = store
        .delete_conversation(desk.acme, doomed.id)
        .await
        .unwrap();
    assert_eq!(deleted.entries, 6);
    let mut orphans = vec![own];
    orphans.sort_unstable();
    assert_eq!(
        deleted.orphaned_blobs, orphans,
        "shared blobs are still referenced"
    );

    assert_not_found(store.get_conversation(desk.acme, doomed.id).await);
    assert_not_found(store.read_log(desk.acme, doomed.id, 0, 100).await);
    assert_not_found(store.list_notes(desk.acme, doomed.id).await);
    assert!(
        store
            .get_attachment(desk.acme, doomed.id, &shared)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.blob_referenced(&own).await.unwrap());
    assert!(store.blob_referenced(&shared).await.unwrap());
    assert!(store.blob_referenced(&own_too).await.unwrap());
    assert_not_found(store.delete_conversation(desk.acme, doomed.id).await);
    let after = store
        .expired_conversations(desk.acme, desk.tick(), 10)
        .await
        .unwrap();
    assert!(after.is_empty());

    // Everything else is as it was.
    let relinked = store
        .get_conversation(desk.acme, reopened.id)
        .await
        .unwrap();
    assert_eq!(relinked.reopened_from, None);
    assert_eq!(relinked.id, reopened.id);
    assert_eq!(
        store.read_log(desk.acme, kept.id, 0, 100).await.unwrap(),
        before_kept
    );
    assert_eq!(store.list_notes(desk.acme, kept.id).await.unwrap().len(), 1);
    assert!(
        store
            .is_participant(desk.acme, kept.id, desk.jane)
            .await
            .unwrap()
    );
    assert!(
        store
            .get_attachment(desk.acme, kept.id, &shared)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .get_attachment(desk.globex, theirs.id, &own_too)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .get_conversation(desk.globex, theirs.id)
            .await
            .unwrap(),
        theirs
    );
}

/// A visitor's erasure request: only for a closed conversation of the tenant, kept at its
/// first time, and it makes the conversation due at once whatever the retention period.
pub async fn an_erasure_request_makes_a_closed_conversation_due(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let open = desk.open(store, desk.acme, desk.sales, desk.alice).await.id;
    let other = desk.open(store, desk.acme, desk.sales, desk.bob).await.id;
    assert_conflict(
        store.request_erasure(desk.acme, open, desk.tick()).await,
        &crate::Constraint::ConversationState,
    );
    for id in [open, other] {
        store
            .change_conversation(desk.acme, id, &ConversationChange::close(desk.tick()), None)
            .await
            .unwrap();
    }
    // Retention of 30 days: nothing closed just now is due.
    let cutoff = desk.now() - Duration::days(30);
    assert!(
        store
            .expired_conversations(desk.acme, cutoff, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let first = desk.tick();
    let requested = store.request_erasure(desk.acme, open, first).await.unwrap();
    assert_eq!(
        requested.erasure_requested_at,
        Some(sealdesk_core::clock::from_unix_ms(
            sealdesk_core::clock::to_unix_ms(first)
        ))
    );
    let again = store
        .request_erasure(desk.acme, open, desk.tick())
        .await
        .unwrap();
    assert_eq!(again.erasure_requested_at, requested.erasure_requested_at);
    assert_eq!(
        store.get_conversation(desk.acme, open).await.unwrap(),
        again
    );
    assert_eq!(
        store
            .expired_conversations(desk.acme, cutoff, 100)
            .await
            .unwrap(),
        [open]
    );
    // Another tenant can neither request it nor see it due.
    assert_not_found(store.request_erasure(desk.globex, other, desk.tick()).await);
    assert!(
        store
            .expired_conversations(desk.globex, cutoff, 100)
            .await
            .unwrap()
            .is_empty()
    );
}
