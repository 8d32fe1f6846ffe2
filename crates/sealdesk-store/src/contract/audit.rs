//! Contract cases for the audit log: appended entries read back exactly as hashed, form one
//! gapless chain that `ChainCursor` verifies, page and filter by tenant, and stay one chain
//! under concurrent appends.

use sealdesk_core::audit::{AuditAction, AuditRecord};
use sealdesk_crypto::audit_chain::{ChainCursor, ChainReport, GENESIS, entry_hash};

use super::data::{TestData, ms};
use super::people::people;
use crate::Store;

/// Verifies `records` from the start of the chain.
pub fn verify_chain(records: &[AuditRecord]) -> ChainReport {
    let mut cursor = ChainCursor::default();
    for record in records {
        cursor.feed(record);
    }
    cursor.finish()
}

/// Five events, with and without a tenant: sequence numbers 1..=5, each linked to the one
/// before, read back identical (times at millisecond precision), listed whole, by tenant
/// and by page, and verified by `ChainCursor`.
pub async fn audit_append_list_and_verify(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    assert_eq!(store.audit_head().await.unwrap(), None);
    assert!(store.list_audit(None, 0, 100).await.unwrap().is_empty());

    let tenants = [
        Some(p.acme),
        None,
        Some(p.globex),
        Some(p.acme),
        Some(p.acme),
    ];
    let actions = [
        AuditAction::LoginFailed,
        AuditAction::MasterKeyRotated,
        AuditAction::LoginSucceeded,
        AuditAction::RoleChanged,
        AuditAction::SessionsRevokedAll,
    ];
    let mut appended = Vec::new();
    let mut prev = hex::encode(GENESIS);
    for (n, (tenant, action)) in (1..).zip(tenants.into_iter().zip(actions)) {
        let event = data.audit_event(tenant, action, n);
        let record = store.append_audit(&event).await.unwrap();
        assert_eq!(record.seq, i64::from(n));
        assert_eq!(record.prev_hash, prev);
        assert_eq!(record.event.at, ms(event.at));
        assert_eq!(
            record.event,
            sealdesk_core::audit::AuditEvent {
                at: ms(event.at),
                ..event.clone()
            }
        );
        let prev_bytes: [u8; 32] = hex::decode(&prev).unwrap().try_into().unwrap();
        assert_eq!(
            record.hash,
            hex::encode(entry_hash(&prev_bytes, record.seq, &record.event))
        );
        prev.clone_from(&record.hash);
        appended.push(record);
    }

    let all = store.list_audit(None, 0, 100).await.unwrap();
    assert_eq!(all, appended);
    let report = verify_chain(&all);
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries, 5);
    assert_eq!(report.head, Some((5, appended[4].hash.clone())));
    assert_eq!(store.audit_head().await.unwrap(), report.head);

    let acme: Vec<i64> = store
        .list_audit(Some(p.acme), 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(acme, [1, 4, 5]);
    let globex = store.list_audit(Some(p.globex), 0, 100).await.unwrap();
    assert_eq!(globex, [appended[2].clone()]);
    let acme_after_1: Vec<i64> = store
        .list_audit(Some(p.acme), 1, 1)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(acme_after_1, [4]);
    // Newest first, paged with `before`; another tenant's entries never appear.
    let newest = |before, limit| async move {
        store
            .list_audit_newest(p.acme, before, limit)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<i64>>()
    };
    assert_eq!(newest(None, 100).await, [5, 4, 1]);
    assert_eq!(newest(None, 2).await, [5, 4]);
    assert_eq!(newest(Some(4), 2).await, [1]);
    assert_eq!(newest(Some(1), 2).await, Vec::<i64>::new());

    // Paging: verifying page by page gives the same report as all at once.
    let mut cursor = ChainCursor::default();
    let mut after = 0;
    loop {
        let page = store.list_audit(None, after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 2);
        after = last.seq;
        for record in &page {
            cursor.feed(record);
        }
    }
    assert_eq!(cursor.finish(), report);
    assert!(store.list_audit(None, 0, 0).await.unwrap().is_empty());
}

/// Appends racing each other still form one gapless chain that verifies.
pub async fn concurrent_audit_appends_form_one_chain(store: &dyn Store) {
    let data = TestData::new();
    let p = people(store, &data).await;
    store
        .append_audit(&data.audit_event(None, AuditAction::TenantCreated, 0))
        .await
        .unwrap();
    for round in 0..3u32 {
        let events: Vec<_> = (0..4)
            .map(|i| data.audit_event(Some(p.acme), AuditAction::LoginFailed, round * 4 + i))
            .collect();
        let (one, two, three, four) = tokio::join!(
            store.append_audit(&events[0]),
            store.append_audit(&events[1]),
            store.append_audit(&events[2]),
            store.append_audit(&events[3]),
        );
        let mut seqs: Vec<i64> = [one, two, three, four]
            .into_iter()
            .map(|r| r.unwrap().seq)
            .collect();
        seqs.sort_unstable();
        let first = 2 + i64::from(round) * 4;
        assert_eq!(seqs, (first..first + 4).collect::<Vec<_>>());
    }
    let all = store.list_audit(None, 0, 1000).await.unwrap();
    let report = verify_chain(&all);
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries, 13);
    assert_eq!(store.audit_head().await.unwrap(), report.head);
    let seqs: Vec<i64> = all.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=13).collect::<Vec<_>>());
}
