//! Group commit: appends from many connections share one transaction and one fsync.
//!
//! One task owns the write path of the logs. Callers queue entries and wait for their
//! outcome; the task takes everything queued (up to `max_batch`), waits at most `window` for
//! more when the batch is not full, and appends the batch with one [`LogRepo::append_batch`]
//! call. While a batch commits, the next one gathers, so the batch size follows the load:
//! one entry per commit when idle (lowest latency), hundreds per commit under a storm.
//!
//! After the commit, and before any caller hears back, the [`CommitSink`] gets the appended
//! entries in commit order. The server's sink publishes them to subscribers, so deliveries
//! leave in sequence order and only ever after the entries are durable (persist, then
//! deliver). A failed commit fails every caller of that batch and publishes nothing: nothing
//! was acknowledged, so clients retry with the same client message id.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sealdesk_core::domain::{AppendOutcome, LogEntry, NewEntry};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::{LogRepo, StoreError, StoreResult};

/// Receives the entries of each successful commit, in commit order. Called on the commit
/// task: it must not block (hand work off, e.g. to channels).
pub trait CommitSink: Send + Sync + 'static {
    /// The entries one commit appended (never empty), in sequence order per conversation.
    fn committed(&self, entries: &[LogEntry]);
}

/// A sink that does nothing (benchmarks of the store alone).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSink;

impl CommitSink for NoSink {
    fn committed(&self, _entries: &[LogEntry]) {}
}

/// Tuning of the commit task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitConfig {
    /// The most entries in one transaction.
    pub max_batch: usize,
    /// How long a non-full batch waits for more entries after its first one. Zero commits at
    /// once (batches still form from what queued during the previous commit). Bounded at
    /// [`CommitConfig::MAX_WINDOW`].
    pub window: Duration,
    /// How many entries may wait for the commit task before `append` callers wait too.
    pub queue: usize,
}

impl CommitConfig {
    /// The longest batching window accepted: 2 ms.
    pub const MAX_WINDOW: Duration = Duration::from_millis(2);
}

impl Default for CommitConfig {
    fn default() -> Self {
        Self {
            max_batch: 512,
            window: Duration::ZERO,
            queue: 16_384,
        }
    }
}

/// Counters of the commit task, for metrics (fsyncs per 1,000 messages = commits × 1000 ÷
/// entries).
#[derive(Debug, Default)]
pub struct CommitStats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Entries in those transactions (appended, duplicate or refused).
    pub entries: AtomicU64,
    /// Transactions that failed.
    pub failures: AtomicU64,
    /// Total microseconds spent in `append_batch`.
    pub commit_micros: AtomicU64,
}

struct Job {
    entry: NewEntry,
    reply: oneshot::Sender<StoreResult<AppendOutcome>>,
}

/// The handle callers append through. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommitter {
    jobs: mpsc::Sender<Job>,
    stats: Arc<CommitStats>,
}

impl std::fmt::Debug for GroupCommitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommitter")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl GroupCommitter {
    /// Starts the commit task on the current tokio runtime. It ends when every handle is
    /// dropped, after committing what was queued.
    pub fn spawn(
        log: Arc<dyn LogRepo>,
        sink: Arc<dyn CommitSink>,
        config: CommitConfig,
    ) -> (Self, JoinHandle<()>) {
        let config = CommitConfig {
            max_batch: config.max_batch.max(1),
            window: config.window.min(CommitConfig::MAX_WINDOW),
            queue: config.queue.max(1),
        };
        let (jobs, rx) = mpsc::channel(config.queue);
        let stats = Arc::new(CommitStats::default());
        let task = tokio::spawn(run(log, sink, config, rx, Arc::clone(&stats)));
        (Self { jobs, stats }, task)
    }

    /// Appends one entry and returns its outcome once its batch is durable (and, for an
    /// appended entry, handed to the sink). `Unavailable` if the commit task has stopped.
    pub async fn append(&self, entry: NewEntry) -> StoreResult<AppendOutcome> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job { entry, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }

    /// The task's counters.
    pub fn stats(&self) -> &Arc<CommitStats> {
        &self.stats
    }
}

/// An error of the same kind as `err`, for each caller of a failed batch (`sqlx::Error` is
/// not `Clone`; the original goes to the log).
fn same_kind(err: &StoreError) -> StoreError {
    let detail = || sqlx::Error::Protocol(err.to_string());
    match err {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict { constraint } => StoreError::Conflict {
            constraint: constraint.clone(),
        },
        StoreError::Unavailable(_) => StoreError::Unavailable(detail()),
        StoreError::Corrupt(what) => StoreError::Corrupt(what.clone()),
        StoreError::Other(_) => StoreError::Other(detail()),
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

async fn run(
    log: Arc<dyn LogRepo>,
    sink: Arc<dyn CommitSink>,
    config: CommitConfig,
    mut rx: mpsc::Receiver<Job>,
    stats: Arc<CommitStats>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(config.max_batch);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        gather(&mut rx, &mut batch, &config).await;
        commit(log.as_ref(), sink.as_ref(), &stats, &mut batch).await;
    }
}

/// Adds what is queued to the batch, waiting up to the window for more.
async fn gather(rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>, config: &CommitConfig) {
    while batch.len() < config.max_batch {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    if config.window.is_zero() || batch.len() >= config.max_batch {
        return;
    }
    let deadline = tokio::time::Instant::now() + config.window;
    while batch.len() < config.max_batch {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(job)) => batch.push(job),
            Ok(None) | Err(_) => break,
        }
    }
}

async fn commit(
    log: &dyn LogRepo,
    sink: &dyn CommitSink,
    stats: &CommitStats,
    batch: &mut Vec<Job>,
) {
    let entries: Vec<NewEntry> = batch.iter().map(|job| job.entry.clone()).collect();
    let started = std::time::Instant::now();
    let result = log.append_batch(&entries).await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    stats.commit_micros.fetch_add(micros, Ordering::Relaxed);
    match result {
        Ok(outcomes) if outcomes.len() == batch.len() => {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats
                .entries
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            let appended: Vec<LogEntry> = outcomes
                .iter()
                .filter_map(|o| match o {
                    AppendOutcome::Appended(entry) => Some(entry.clone()),
                    _ => None,
                })
                .collect();
            if !appended.is_empty() {
                sink.committed(&appended);
            }
            for (job, outcome) in batch.drain(..).zip(outcomes) {
                // A caller that gave up (dropped its future) does not matter: the entry is
                // durable and delivered; its retry will be answered as a duplicate.
                let _ = job.reply.send(Ok(outcome));
            }
        }
        Ok(outcomes) => {
            stats.failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                expected = batch.len(),
                got = outcomes.len(),
                "append_batch returned the wrong number of outcomes"
            );
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(StoreError::Other(sqlx::Error::Protocol(
                    "append_batch returned the wrong number of outcomes".into(),
                ))));
            }
        }
        Err(err) => {
            stats.failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %err, entries = batch.len(), "group commit failed");
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(same_kind(&err)));
            }
        }
    }
}
