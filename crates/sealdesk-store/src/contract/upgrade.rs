//! Two-phase cases for schema upgrades (tests/it/migrations.rs): write data through the store
//! on a database migrated only up to an older version, let the store apply the rest, then
//! check that everything acknowledged before reads back the same and behaves the same.

use sealdesk_core::domain::{AppendOutcome, LogEntry, NewEntry};
use sealdesk_proto::{ConversationId, TenantId};

use super::desk::{Desk, staff, visitor};
use crate::Store;

/// What [`write_log_for_upgrade`] acknowledged.
#[derive(Debug)]
pub struct WrittenLog {
    tenant: TenantId,
    /// Each conversation with its entries, in order.
    logs: Vec<(ConversationId, Vec<LogEntry>)>,
    /// Entries already appended, to send again.
    retries: Vec<(NewEntry, u64)>,
    /// An entry for after the upgrade, in the first conversation.
    next: NewEntry,
}

/// Appends entries of three conversations, interleaved over several batches, with and without
/// client message ids, and a system event.
///
/// # Panics
/// When the store refuses what the current schema accepts.
pub async fn write_log_for_upgrade(store: &dyn Store) -> WrittenLog {
    let desk = Desk::new(store).await;
    let convs = [
        desk.open(store, desk.acme, desk.sales, desk.alice).await,
        desk.open(store, desk.acme, desk.support, desk.bob).await,
        desk.open(store, desk.acme, desk.sales, desk.bob).await,
    ];
    let mut logs: Vec<(ConversationId, Vec<LogEntry>)> =
        convs.iter().map(|c| (c.id, Vec::new())).collect();
    let mut retries = Vec::new();
    for round in 0..4u8 {
        let batch: Vec<NewEntry> = (0..9u8)
            .map(|i| {
                let c = &convs[usize::from(i % 3)];
                match (round + i) % 4 {
                    0 => desk.event(c, "assigned"),
                    1 => desk.entry(
                        c,
                        staff(desk.omar),
                        Some(&format!("s{round}-{i}")),
                        &[i; 40],
                    ),
                    _ => {
                        let from = if i % 3 == 0 { desk.alice } else { desk.bob };
                        let id = format!("v{round}-{i}");
                        desk.entry(c, visitor(from), Some(&id), &[round; 200])
                    }
                }
            })
            .collect();
        let outcomes = store.append_batch(&batch).await.unwrap();
        for (entry, outcome) in batch.into_iter().zip(outcomes) {
            let AppendOutcome::Appended(appended) = outcome else {
                panic!("expected Appended, got {outcome:?}");
            };
            if entry.client_msg_id.is_some() && appended.seq % 2 == 1 {
                retries.push((entry.clone(), appended.seq));
            }
            let log = logs
                .iter_mut()
                .find(|(id, _)| *id == appended.conversation_id)
                .unwrap();
            log.1.push(appended);
        }
    }
    WrittenLog {
        tenant: desk.acme,
        next: desk.entry(&convs[0], staff(desk.omar), Some("after-upgrade"), b"later"),
        logs,
        retries,
    }
}

/// After the upgrade: every log reads back exactly as acknowledged (whole and after a cursor);
/// retried sends are recognised as duplicates with their original sequence numbers; the next
/// entry continues the sequence.
///
/// # Panics
/// When anything acknowledged before the upgrade differs after it.
pub async fn log_reads_back_after_upgrade(store: &dyn Store, written: &WrittenLog) {
    for (id, entries) in &written.logs {
        assert!(entries.len() >= 10, "{}", entries.len());
        assert_eq!(
            &store.read_log(written.tenant, *id, 0, 1000).await.unwrap(),
            entries
        );
        let tail = store.read_log(written.tenant, *id, 5, 3).await.unwrap();
        assert_eq!(tail, entries[5..8]);
    }
    let retries: Vec<NewEntry> = written.retries.iter().map(|(e, _)| e.clone()).collect();
    assert!(retries.len() >= 5, "{}", retries.len());
    let outcomes = store.append_batch(&retries).await.unwrap();
    for ((_, seq), outcome) in written.retries.iter().zip(outcomes) {
        assert_eq!(outcome, AppendOutcome::Duplicate { seq: *seq });
    }
    let (first, entries) = &written.logs[0];
    let outcome = store
        .append_batch(std::slice::from_ref(&written.next))
        .await
        .unwrap();
    let AppendOutcome::Appended(next) = &outcome[0] else {
        panic!("expected Appended, got {outcome:?}");
    };
    assert_eq!(next.seq, entries.last().unwrap().seq + 1);
    let read = store
        .read_log(written.tenant, *first, 0, 1000)
        .await
        .unwrap();
    assert_eq!(read.len(), entries.len() + 1);
}
