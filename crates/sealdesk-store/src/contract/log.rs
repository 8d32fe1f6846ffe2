//! Contract cases for the conversation logs: gapless sequence numbers in batch order,
//! idempotent retries, refusals that never fail a batch, closed conversations, and reading
//! after a cursor.

use sealdesk_core::domain::{
    AppendOutcome, ConversationChange, EntryKind, LogEntry, NewEntry, Party,
};
use sealdesk_proto::ConversationId;

use super::assert_not_found;
use super::data::ms;
use super::desk::{Desk, staff, visitor};
use crate::Store;

/// The sequence numbers of appended outcomes (`None` for the others).
fn seqs(outcomes: &[AppendOutcome]) -> Vec<Option<u64>> {
    outcomes
        .iter()
        .map(|o| match o {
            AppendOutcome::Appended(e) => Some(e.seq),
            _ => None,
        })
        .collect()
}

/// The appended entries of a batch.
fn appended(outcomes: Vec<AppendOutcome>) -> Vec<LogEntry> {
    outcomes
        .into_iter()
        .map(|o| match o {
            AppendOutcome::Appended(e) => e,
            other => panic!("expected Appended, got {other:?}"),
        })
        .collect()
}

/// Entries of two conversations interleaved in one batch are numbered 1, 2, 3, … per
/// conversation in batch order; the next batch continues; the log reads back exactly what was
/// acknowledged, and the conversation's `last_seq` follows.
pub async fn sequence_numbers_are_gapless_in_batch_order(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let a = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let b = desk.open(store, desk.acme, desk.support, desk.bob).await;
    let at = desk.tick();
    let batch: Vec<NewEntry> = (0..10u8)
        .map(|i| {
            let (c, sender) = if i % 3 == 0 {
                (&b, visitor(desk.bob))
            } else {
                (&a, staff(desk.omar))
            };
            NewEntry {
                at,
                ..desk.entry(c, sender, Some(&format!("m{i}")), &[i; 3])
            }
        })
        .collect();
    let outcomes = store.append_batch(&batch).await.unwrap();
    assert_eq!(
        seqs(&outcomes),
        [1, 1, 2, 2, 3, 4, 3, 5, 6, 4].map(Some),
        "per-conversation numbering in batch order"
    );
    let entries = appended(outcomes);
    for (entry, new) in entries.iter().zip(&batch) {
        assert_eq!(entry.conversation_id, new.conversation_id);
        assert_eq!(entry.tenant_id, desk.acme);
        assert_eq!(entry.sender, new.sender);
        assert_eq!(entry.kind, EntryKind::Application);
        assert_eq!(entry.client_msg_id, new.client_msg_id);
        assert_eq!(entry.payload, new.payload);
        assert_eq!(entry.created_at, ms(at));
    }

    let more = [
        desk.entry(&a, visitor(desk.alice), None, b"seven"),
        desk.entry(&b, Party::System, None, b"five"),
        desk.entry(&a, visitor(desk.alice), None, b"eight"),
    ];
    let more = appended(store.append_batch(&more).await.unwrap());
    assert_eq!(more.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 5, 8]);
    assert_eq!(more[1].sender, Party::System);

    let log_a = store.read_log(desk.acme, a.id, 0, 100).await.unwrap();
    let mut want_a: Vec<LogEntry> = entries
        .iter()
        .filter(|e| e.conversation_id == a.id)
        .cloned()
        .collect();
    want_a.extend(more.iter().filter(|e| e.conversation_id == a.id).cloned());
    assert_eq!(log_a, want_a);
    assert_eq!(
        log_a.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    let log_b = store.read_log(desk.acme, b.id, 0, 100).await.unwrap();
    assert_eq!(
        log_b.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=5).collect::<Vec<_>>()
    );
    assert_eq!(log_b[0].payload, [0u8; 3].as_slice());

    let a_now = store.get_conversation(desk.acme, a.id).await.unwrap();
    assert_eq!(a_now.last_seq, 8);
    assert_eq!(a_now.updated_at, ms(desk.now()), "an append is a change");
    assert_eq!(
        store
            .get_conversation(desk.acme, b.id)
            .await
            .unwrap()
            .last_seq,
        5
    );
    assert!(store.append_batch(&[]).await.unwrap().is_empty());
}

/// A retried send (same conversation, sender and client message id) is answered with the
/// first one's sequence number, in a later batch or in the same one, and stored once; the same
/// id from another sender is a separate send.
pub async fn retries_are_idempotent(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let c = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let other = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let send = desk.entry(&c, visitor(desk.alice), Some("0190c2d6-7b1e"), b"hello");
    let first = appended(
        store
            .append_batch(std::slice::from_ref(&send))
            .await
            .unwrap(),
    );
    assert_eq!(first[0].seq, 1);

    let mut retry = send.clone();
    retry.payload = bytes::Bytes::from_static(b"a different body is still a retry");
    let agent_same_id = desk.entry(&c, staff(desk.omar), Some("0190c2d6-7b1e"), b"agent");
    let same_id_elsewhere = desk.entry(&other, visitor(desk.alice), Some("0190c2d6-7b1e"), b"x");
    let fresh = desk.entry(&c, visitor(desk.alice), Some("0190c2d6-7b1f"), b"next");
    let outcomes = store
        .append_batch(&[
            retry.clone(),
            agent_same_id.clone(),
            same_id_elsewhere,
            fresh.clone(),
            fresh.clone(),
            agent_same_id,
            retry,
        ])
        .await
        .unwrap();
    assert_eq!(outcomes[0], AppendOutcome::Duplicate { seq: 1 });
    assert_eq!(seqs(&outcomes)[1..4], [Some(2), Some(1), Some(3)]);
    assert_eq!(
        outcomes[4],
        AppendOutcome::Duplicate { seq: 3 },
        "retry in the same batch"
    );
    assert_eq!(outcomes[5], AppendOutcome::Duplicate { seq: 2 });
    assert_eq!(outcomes[6], AppendOutcome::Duplicate { seq: 1 });

    // Without a client message id, every append is new.
    let anonymous = desk.entry(&c, Party::System, None, b"sys");
    let twice = store
        .append_batch(&[anonymous.clone(), anonymous])
        .await
        .unwrap();
    assert_eq!(seqs(&twice), [Some(4), Some(5)]);

    let log = store.read_log(desk.acme, c.id, 0, 100).await.unwrap();
    assert_eq!(log.len(), 5);
    assert_eq!(
        log[0].payload,
        b"hello".as_slice(),
        "the first body is kept"
    );
    assert_eq!(log[1].sender, staff(desk.omar));
    assert_eq!(
        store
            .read_log(desk.acme, other.id, 0, 100)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A closed conversation takes no entries; its log stays as it was.
pub async fn closed_conversation_refuses_appends(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let c = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let before = desk.entry(&c, visitor(desk.alice), Some("a"), b"before");
    store
        .append_batch(std::slice::from_ref(&before))
        .await
        .unwrap();
    let close = ConversationChange::close(desk.tick());
    store
        .change_conversation(desk.acme, c.id, &close, None)
        .await
        .unwrap();
    let after = desk.entry(&c, visitor(desk.alice), Some("b"), b"after");
    assert_eq!(
        store.append_batch(&[after]).await.unwrap(),
        [AppendOutcome::Closed]
    );
    // A retry of a send stored before the close still learns its sequence number.
    assert_eq!(
        store.append_batch(&[before]).await.unwrap(),
        [AppendOutcome::Duplicate { seq: 1 }]
    );
    assert_eq!(
        store.read_log(desk.acme, c.id, 0, 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        store
            .get_conversation(desk.acme, c.id)
            .await
            .unwrap()
            .last_seq,
        1
    );
}

/// One batch with entries for a missing conversation, another tenant's conversation, a closed
/// conversation and a retry between good entries: the good ones are appended with consecutive
/// numbers, each refusal gets its own outcome, nothing fails the batch.
pub async fn one_bad_entry_does_not_fail_the_batch(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let good = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let closed = desk.open(store, desk.acme, desk.sales, desk.bob).await;
    let theirs = desk.open(store, desk.globex, desk.help, desk.gus).await;
    let close = ConversationChange::close(desk.tick());
    store
        .change_conversation(desk.acme, closed.id, &close, None)
        .await
        .unwrap();
    let earlier = desk.entry(&good, visitor(desk.alice), Some("early"), b"1");
    store
        .append_batch(std::slice::from_ref(&earlier))
        .await
        .unwrap();

    let mut missing = desk.entry(&good, visitor(desk.alice), Some("m"), b"?");
    missing.conversation_id = ConversationId::from_uuid(uuid::Uuid::from_u128(404));
    let mut wrong_tenant = desk.entry(&theirs, visitor(desk.gus), Some("t"), b"?");
    wrong_tenant.tenant_id = desk.acme;
    let batch = [
        desk.entry(&good, visitor(desk.alice), Some("g1"), b"2"),
        missing,
        wrong_tenant,
        desk.entry(&closed, visitor(desk.bob), Some("c"), b"?"),
        earlier,
        desk.entry(&good, staff(desk.omar), Some("g2"), b"3"),
    ];
    let outcomes = store.append_batch(&batch).await.unwrap();
    assert_eq!(outcomes.len(), batch.len());
    assert_eq!(seqs(&outcomes)[0], Some(2));
    assert_eq!(outcomes[1], AppendOutcome::NotFound);
    assert_eq!(
        outcomes[2],
        AppendOutcome::NotFound,
        "another tenant's conversation"
    );
    assert_eq!(outcomes[3], AppendOutcome::Closed);
    assert_eq!(outcomes[4], AppendOutcome::Duplicate { seq: 1 });
    assert_eq!(seqs(&outcomes)[5], Some(3));

    let log = store.read_log(desk.acme, good.id, 0, 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(
        store
            .read_log(desk.globex, theirs.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .read_log(desk.acme, closed.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// `read_log` returns entries after the cursor, oldest first, at most `limit` (capped at
/// 1000); an unknown conversation is `NotFound`, an empty log is empty.
pub async fn read_log_pages_after_a_cursor(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let c = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    assert!(
        store
            .read_log(desk.acme, c.id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let batch: Vec<NewEntry> = (0..1005u32)
        .map(|i| desk.entry(&c, visitor(desk.alice), None, &i.to_be_bytes()))
        .collect();
    store.append_batch(&batch).await.unwrap();
    let page = store.read_log(desk.acme, c.id, 10, 3).await.unwrap();
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [11, 12, 13]);
    assert_eq!(page[0].payload, 10u32.to_be_bytes().as_slice());
    assert_eq!(
        store
            .read_log(desk.acme, c.id, 1000, 100)
            .await
            .unwrap()
            .len(),
        5
    );
    assert!(
        store
            .read_log(desk.acme, c.id, 1005, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .read_log(desk.acme, c.id, 0, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let capped = store.read_log(desk.acme, c.id, 0, u32::MAX).await.unwrap();
    assert_eq!(capped.len(), 1000);
    assert_eq!(capped.last().unwrap().seq, 1000);
    let unknown = ConversationId::from_uuid(uuid::Uuid::from_u128(404));
    assert_not_found(store.read_log(desk.acme, unknown, 0, 10).await);
}

/// Batches of every size the backends write differently (one combined query up to 16 rows,
/// insert chunks of up to 64 beyond) number and store every entry; a retry of a whole large
/// batch is all duplicates with the first sequence numbers; another tenant naming the same
/// conversation and client message ids learns nothing.
pub async fn batches_of_every_size_store_every_entry(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let convs = [
        desk.open(store, desk.acme, desk.sales, desk.alice).await,
        desk.open(store, desk.acme, desk.support, desk.bob).await,
        desk.open(store, desk.acme, desk.sales, desk.alice).await,
    ];
    let mut sent = 0usize;
    let mut last_batch = Vec::new();
    for size in [1usize, 15, 16, 17, 64, 65, 130] {
        let batch: Vec<NewEntry> = (sent..sent + size)
            .map(|i| {
                let c = &convs[i % 3];
                let sender = if i % 2 == 0 {
                    visitor(if i % 3 == 1 { desk.bob } else { desk.alice })
                } else {
                    staff(desk.omar)
                };
                desk.entry(c, sender, Some(&format!("msg-{i}")), &i.to_be_bytes())
            })
            .collect();
        let outcomes = store.append_batch(&batch).await.unwrap();
        let want: Vec<Option<u64>> = (sent..sent + size)
            .map(|i| Some(u64::try_from(i / 3 + 1).unwrap()))
            .collect();
        assert_eq!(seqs(&outcomes), want, "batch of {size}");
        sent += size;
        last_batch = batch;
    }
    for (n, c) in convs.iter().enumerate() {
        let log = store.read_log(desk.acme, c.id, 0, 1000).await.unwrap();
        let want = (sent + 2 - n) / 3;
        assert_eq!(log.len(), want);
        assert!(log.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1));
        let head = store.get_conversation(desk.acme, c.id).await.unwrap();
        assert_eq!(head.last_seq, want as u64);
    }

    // The last batch (130 entries) again: every one a duplicate of its first append.
    let first_seq = sent - last_batch.len();
    let retried = store.append_batch(&last_batch).await.unwrap();
    for (k, outcome) in retried.iter().enumerate() {
        let seq = u64::try_from((first_seq + k) / 3 + 1).unwrap();
        assert_eq!(*outcome, AppendOutcome::Duplicate { seq }, "retry {k}");
    }

    // Globex naming Acme's conversations with the same ids: not found, nothing stored.
    let foreign: Vec<NewEntry> = last_batch
        .iter()
        .take(20)
        .map(|e| NewEntry {
            tenant_id: desk.globex,
            sender: visitor(desk.gus),
            ..e.clone()
        })
        .collect();
    let outcomes = store.append_batch(&foreign).await.unwrap();
    assert!(outcomes.iter().all(|o| *o == AppendOutcome::NotFound));
    let total: usize = {
        let mut n = 0;
        for c in &convs {
            n += store
                .read_log(desk.acme, c.id, 0, 1000)
                .await
                .unwrap()
                .len();
        }
        n
    };
    assert_eq!(total, sent);
}
