//! Retention: hard deletion of conversations closed longer ago than their tenant's
//! `retention_days` (log, notes, participants, attachment references, and the blob files no
//! conversation references any more), and purging of expired visitor tickets. Every deletion
//! is recorded, content-free, in the audit log.
//!
//! Old data is deleted automatically on a schedule (OWASP ASVS v5.0.0-14.2.7). [`sweep`] runs
//! once and can be called directly (tests drive it with the manual clock); [`run`] repeats it
//! for each tick of a schedule ([`schedule`] in the server) and stops at shutdown, between two
//! deletions: never between a conversation's transaction and the removal of its blob files,
//! which nothing would retry.

use std::pin::pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_proto::{ConversationId, TenantId};
use sealdesk_store::{StoreError, StoreResult};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::app::audit;
use crate::hub::{Event, Topic};
use crate::state::AppState;

/// How many expired conversations are fetched at a time.
const PAGE: u32 = 100;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Tenants looked at.
    pub tenants: u64,
    /// Conversations deleted.
    pub conversations: u64,
    /// Log entries deleted with them.
    pub entries: u64,
    /// Blob files deleted.
    pub blobs: u64,
    /// Expired visitor tickets deleted.
    pub tickets: u64,
    /// Tenants whose sweep stopped on a storage error (logged; retried at the next sweep).
    pub failed_tenants: u64,
    /// The server began shutting down and the sweep stopped early (the next one resumes).
    pub interrupted: bool,
}

/// Whether a shutdown was asked for (`true` sent on the channel).
fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow()
}

/// One retention pass over every tenant (disabled ones too: their data expires all the
/// same), at the state's clock time.
pub async fn sweep(state: &AppState) -> StoreResult<SweepReport> {
    let (_never, stop) = watch::channel(false);
    sweep_until(state, &stop).await
}

async fn sweep_until(state: &AppState, stop: &watch::Receiver<bool>) -> StoreResult<SweepReport> {
    let now = state.clock().now();
    let mut report = SweepReport {
        tickets: state.store().purge_expired_tickets(now).await?,
        ..SweepReport::default()
    };
    for tenant in state.store().list_tenants().await? {
        if report.interrupted {
            break;
        }
        report.tenants += 1;
        let days = i64::from(tenant.settings.retention_days);
        let closed_before = now - time::Duration::days(days);
        if let Err(e) = sweep_tenant(state, tenant.id, closed_before, stop, &mut report).await {
            report.failed_tenants += 1;
            tracing::error!(error = %e, tenant = %tenant.id, "retention sweep of a tenant failed");
        }
    }
    if report.conversations > 0 || report.tickets > 0 || report.interrupted {
        tracing::info!(?report, "retention sweep");
    }
    Ok(report)
}

async fn sweep_tenant(
    state: &AppState,
    tenant: TenantId,
    closed_before: OffsetDateTime,
    stop: &watch::Receiver<bool>,
    report: &mut SweepReport,
) -> StoreResult<()> {
    let store = state.store();
    loop {
        // Deleted conversations leave the result, so each page starts from the oldest left.
        let page = store
            .expired_conversations(tenant, closed_before, PAGE)
            .await?;
        for id in &page {
            if stopping(stop) {
                report.interrupted = true;
                return Ok(());
            }
            delete_expired(state, tenant, *id, report).await?;
        }
        if u32::try_from(page.len()).is_ok_and(|n| n < PAGE) {
            return Ok(());
        }
    }
}

async fn delete_expired(
    state: &AppState,
    tenant: TenantId,
    id: ConversationId,
    report: &mut SweepReport,
) -> StoreResult<()> {
    let requested = match state.store().get_conversation(tenant, id).await {
        Ok(c) => c.erasure_requested_at.is_some(),
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    let deleted = match state.store().delete_conversation(tenant, id).await {
        Ok(deleted) => deleted,
        // Deleted meanwhile (a concurrent sweep, or the tenant's erasure): nothing to do.
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    let blobs =
        crate::blobs::remove_orphans(&**state.store(), state.blobs(), &deleted.orphaned_blobs)
            .await;
    report.conversations += 1;
    report.entries += deleted.entries;
    report.blobs += blobs;
    // Subscribers re-check their access and are told the conversation is gone.
    state
        .bus()
        .publish(Topic::Conversation(id), Event::Access(id));
    let action = if requested {
        AuditAction::Erased
    } else {
        AuditAction::RetentionDeleted
    };
    audit::event(state, action, Actor::System)
        .tenant(tenant)
        .target(format!("conversation:{id}"))
        .detail("entries", deleted.entries.to_string())
        .detail("blobs", blobs.to_string())
        .record(state)
        .await;
    Ok(())
}

/// Runs a sweep for each item of `ticks` until the stream ends or `true` is sent on `stop`;
/// a sweep under way stops after the deletion it is doing.
pub async fn run(state: AppState, ticks: impl Stream<Item = ()>, stop: watch::Receiver<bool>) {
    let mut ticks = pin!(ticks);
    while !stopping(&stop) && ticks.next().await.is_some() {
        if let Err(e) = sweep_until(&state, &stop).await {
            tracing::error!(error = %e, "retention sweep failed");
        }
    }
}

/// The server's schedule: a tick `min(every, 1 min)` after start (so a server restarted
/// more often than `every` still sweeps), then every `every`, until `true` is sent on
/// `stop`.
pub fn schedule(every: Duration, mut stop: watch::Receiver<bool>) -> impl Stream<Item = ()> + Send {
    let first = tokio::time::Instant::now() + every.min(Duration::from_mins(1));
    let mut interval = tokio::time::interval_at(first, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    futures_util::stream::unfold(interval, |mut interval| async move {
        interval.tick().await;
        Some(((), interval))
    })
    .take_until(async move {
        let _ = stop.wait_for(|stop| *stop).await;
    })
}
