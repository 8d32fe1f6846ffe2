//! Contract cases for [`GroupCommitter`] over a real store: concurrent appends share
//! transactions, every caller hears its own outcome, the sink sees exactly the appended
//! entries after their commit, and a failed commit fails every caller of its batch and
//! publishes nothing.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sealdesk_core::domain::{AppendOutcome, ConversationChange, LogEntry};
use sealdesk_proto::ConversationId;

use super::desk::{Desk, staff, visitor};
use crate::group_commit::{CommitConfig, CommitSink, GroupCommitter};
use crate::{DynStore, LogRepo, StoreError};

/// A sink that keeps every commit's entries.
#[derive(Debug, Default)]
struct Recorder {
    commits: Mutex<Vec<Vec<LogEntry>>>,
}

impl CommitSink for Recorder {
    fn committed(&self, entries: &[LogEntry]) {
        self.commits.lock().unwrap().push(entries.to_vec());
    }
}

impl Recorder {
    fn commits(&self) -> Vec<Vec<LogEntry>> {
        self.commits.lock().unwrap().clone()
    }
}

fn start(
    store: &DynStore,
    max_batch: usize,
) -> (GroupCommitter, tokio::task::JoinHandle<()>, Arc<Recorder>) {
    let sink = Arc::new(Recorder::default());
    let log: Arc<dyn LogRepo> = DynStore::clone(store);
    let (committer, task) = GroupCommitter::spawn(
        log,
        Arc::clone(&sink) as Arc<dyn CommitSink>,
        CommitConfig {
            max_batch,
            window: Duration::from_millis(2),
            queue: 1024,
        },
    );
    (committer, task, sink)
}

/// 96 appends from as many tasks across four conversations: they share a few transactions of
/// at most `max_batch` entries, each caller gets its own entry back, every conversation is
/// numbered 1..=24 without gaps, the sink saw each appended entry once in sequence order, and
/// the log holds exactly what was acknowledged.
pub async fn group_commit_batches_concurrent_appends(store: DynStore) {
    const PER_CONVERSATION: u64 = 24;
    let desk = Desk::new(store.as_ref()).await;
    let mut conversations = Vec::new();
    for visitor_id in [desk.alice, desk.bob, desk.alice, desk.bob] {
        let team = if visitor_id == desk.alice {
            desk.sales
        } else {
            desk.support
        };
        conversations.push(desk.open(store.as_ref(), desk.acme, team, visitor_id).await);
    }
    let (committer, task, sink) = start(&store, 16);
    let mut callers = Vec::new();
    for i in 0..PER_CONVERSATION * 4 {
        let c = &conversations[usize::try_from(i % 4).unwrap()];
        let entry = desk.entry(
            c,
            visitor(c.visitor_id),
            Some(&format!("m{i}")),
            &i.to_be_bytes(),
        );
        let committer = committer.clone();
        callers.push(tokio::spawn(async move { committer.append(entry).await }));
    }
    let mut acknowledged: BTreeMap<ConversationId, Vec<LogEntry>> = BTreeMap::new();
    for (i, caller) in (0u64..).zip(callers) {
        let AppendOutcome::Appended(entry) = caller.await.unwrap().unwrap() else {
            panic!("append {i} was not appended");
        };
        assert_eq!(
            entry.payload,
            i.to_be_bytes().as_slice(),
            "caller {i} got another's entry"
        );
        acknowledged
            .entry(entry.conversation_id)
            .or_default()
            .push(entry);
    }
    let stats = Arc::clone(committer.stats());
    drop(committer);
    task.await.unwrap(); // the task ends once every handle is gone

    let commits = stats.commits.load(Ordering::Relaxed);
    assert_eq!(stats.entries.load(Ordering::Relaxed), PER_CONVERSATION * 4);
    assert_eq!(stats.failures.load(Ordering::Relaxed), 0);
    assert!(
        (6..=24).contains(&commits),
        "96 concurrent appends in batches of at most 16 took {commits} commits"
    );
    let published = sink.commits();
    assert_eq!(published.len() as u64, commits);
    assert!(
        published
            .iter()
            .all(|batch| !batch.is_empty() && batch.len() <= 16)
    );
    let mut seen: BTreeMap<ConversationId, Vec<LogEntry>> = BTreeMap::new();
    for entry in published.into_iter().flatten() {
        seen.entry(entry.conversation_id).or_default().push(entry);
    }
    for c in &conversations {
        let mut acked = acknowledged.remove(&c.id).unwrap();
        acked.sort_by_key(|e| e.seq);
        assert_eq!(
            acked.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=PER_CONVERSATION).collect::<Vec<_>>()
        );
        assert_eq!(seen[&c.id], acked, "the sink saw each entry once, in order");
        let stored = store.read_log(desk.acme, c.id, 0, 100).await.unwrap();
        assert_eq!(stored, acked);
    }
}

/// Entries queued together form one batch, and each caller hears the outcome of its own
/// entry: appended, duplicate of an earlier send, unknown conversation, closed conversation.
/// Only appended entries reach the sink.
pub async fn group_commit_answers_each_caller_with_its_outcome(store: DynStore) {
    let desk = Desk::new(store.as_ref()).await;
    let open = desk
        .open(store.as_ref(), desk.acme, desk.sales, desk.alice)
        .await;
    let closed = desk
        .open(store.as_ref(), desk.acme, desk.sales, desk.bob)
        .await;
    let close = ConversationChange::close(desk.tick());
    store
        .change_conversation(desk.acme, closed.id, &close, None)
        .await
        .unwrap();
    let first = desk.entry(&open, visitor(desk.alice), Some("first"), b"1");
    store
        .append_batch(std::slice::from_ref(&first))
        .await
        .unwrap();

    let (committer, task, sink) = start(&store, 64);
    let mut unknown = desk.entry(&open, staff(desk.omar), None, b"?");
    unknown.conversation_id = ConversationId::from_uuid(uuid::Uuid::from_u128(404));
    let entries = [
        desk.entry(&open, staff(desk.omar), Some("a"), b"2"),
        first,
        unknown,
        desk.entry(&closed, visitor(desk.bob), Some("b"), b"?"),
        desk.entry(&open, visitor(desk.alice), Some("c"), b"3"),
        desk.entry(&open, staff(desk.omar), Some("a"), b"retry of 2"),
    ];
    let callers: Vec<_> = entries
        .into_iter()
        .map(|entry| {
            let committer = committer.clone();
            tokio::spawn(async move { committer.append(entry).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for caller in callers {
        outcomes.push(caller.await.unwrap());
    }
    let appended = |o: &AppendOutcome| match o {
        AppendOutcome::Appended(e) => Some((e.seq, e.payload.clone())),
        _ => None,
    };
    assert_eq!(
        appended(&outcomes[0]),
        Some((2, bytes::Bytes::from_static(b"2")))
    );
    assert_eq!(outcomes[1], AppendOutcome::Duplicate { seq: 1 });
    assert_eq!(outcomes[2], AppendOutcome::NotFound);
    assert_eq!(outcomes[3], AppendOutcome::Closed);
    assert_eq!(
        appended(&outcomes[4]),
        Some((3, bytes::Bytes::from_static(b"3")))
    );
    assert_eq!(outcomes[5], AppendOutcome::Duplicate { seq: 2 });
    let stats = Arc::clone(committer.stats());
    drop(committer);
    task.await.unwrap();
    assert_eq!(stats.entries.load(Ordering::Relaxed), 6);
    let published: Vec<u64> = sink
        .commits()
        .into_iter()
        .flatten()
        .map(|e| e.seq)
        .collect();
    assert_eq!(published, [2, 3], "only appended entries are published");
}

/// A commit that fails (here: the database is closed) fails every caller of its batch with an
/// error of the same kind, counts a failure, and publishes nothing.
pub async fn group_commit_failure_fails_the_batch(store: DynStore) {
    let desk = Desk::new(store.as_ref()).await;
    let c = desk
        .open(store.as_ref(), desk.acme, desk.sales, desk.alice)
        .await;
    let (committer, task, sink) = start(&store, 64);
    let ok = committer
        .append(desk.entry(&c, visitor(desk.alice), Some("before"), b"ok"))
        .await
        .unwrap();
    assert!(matches!(ok, AppendOutcome::Appended(ref e) if e.seq == 1));

    store.close().await;
    let callers: Vec<_> = (0..5)
        .map(|i| {
            let committer = committer.clone();
            let entry = desk.entry(&c, visitor(desk.alice), Some(&format!("m{i}")), b"lost");
            tokio::spawn(async move { committer.append(entry).await })
        })
        .collect();
    for caller in callers {
        match caller.await.unwrap() {
            Err(StoreError::Unavailable(_)) => {}
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    let stats = Arc::clone(committer.stats());
    drop(committer);
    task.await.unwrap();
    assert_eq!(stats.commits.load(Ordering::Relaxed), 1);
    assert!(stats.failures.load(Ordering::Relaxed) >= 1);
    assert_eq!(
        stats.entries.load(Ordering::Relaxed),
        1,
        "failed entries are not counted"
    );
    let published = sink.commits();
    assert_eq!(
        published.len(),
        1,
        "nothing from the failed batch is published"
    );
    assert_eq!(published[0][0].seq, 1);
}
