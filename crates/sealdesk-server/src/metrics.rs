//! Prometheus metrics, served on their own listener (loopback by default) so that operational
//! data never shares a port with the public API.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sealdesk_store::group_commit::CommitStats;
use tokio::net::TcpListener;

use crate::hub::Hub;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The delivery counters of every server state in the process (weak: a dropped state stops
/// counting), published as counters at each scrape.
static DELIVERY: Mutex<Vec<(Weak<CommitStats>, Weak<Hub>)>> = Mutex::new(Vec::new());

/// Exposes a node's group-commit and hub counters on `/metrics`:
/// `sealdesk_log_commits_total` (transactions, one fsync each), `…_commit_entries_total`,
/// `…_commit_failures_total`, `…_commit_micros_total`, `sealdesk_hub_delivered_total` and
/// `sealdesk_hub_lagged_total` (events that found a full mailbox). Fsyncs per 1,000
/// messages is `commits × 1000 ÷ entries`.
pub fn watch_delivery(commits: &Arc<CommitStats>, hub: &Arc<Hub>) {
    let mut all = DELIVERY.lock().unwrap_or_else(PoisonError::into_inner);
    all.retain(|(c, h)| c.strong_count() > 0 || h.strong_count() > 0);
    all.push((Arc::downgrade(commits), Arc::downgrade(hub)));
}

/// Sets the delivery counters to the sums over the live server states.
fn publish_delivery() {
    let all = DELIVERY.lock().unwrap_or_else(PoisonError::into_inner);
    let mut sums = [0u64; 6];
    for (commits, hub) in all.iter() {
        if let Some(c) = commits.upgrade() {
            sums[0] += c.commits.load(Ordering::Relaxed);
            sums[1] += c.entries.load(Ordering::Relaxed);
            sums[2] += c.failures.load(Ordering::Relaxed);
            sums[3] += c.commit_micros.load(Ordering::Relaxed);
        }
        if let Some(h) = hub.upgrade() {
            sums[4] += h.stats().delivered.load(Ordering::Relaxed);
            sums[5] += h.stats().lagged.load(Ordering::Relaxed);
        }
    }
    metrics::counter!("sealdesk_log_commits_total").absolute(sums[0]);
    metrics::counter!("sealdesk_log_commit_entries_total").absolute(sums[1]);
    metrics::counter!("sealdesk_log_commit_failures_total").absolute(sums[2]);
    metrics::counter!("sealdesk_log_commit_micros_total").absolute(sums[3]);
    metrics::counter!("sealdesk_hub_delivered_total").absolute(sums[4]);
    metrics::counter!("sealdesk_hub_lagged_total").absolute(sums[5]);
}

/// The process-wide recorder's handle, installing the recorder on first use. Several servers
/// in one process (tests) share it.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; metrics then go there.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            handle
        })
        .clone()
}

/// The metrics router: `GET /metrics` in the Prometheus text format.
pub fn router() -> Router {
    let handle = handle();
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                publish_delivery();
                handle.run_upkeep();
                handle.render()
            }
        }),
    )
}

/// A team's History Member pool after a conversation took one or members added some:
/// `sealdesk_history_pool_available{tenant,team}`; below the low-water mark the server also
/// warns, since an empty pool stops new end-to-end encrypted conversations (refill:
/// `sealdesk admin keys history-pool`, or a console holding an issuing key).
pub fn history_pool(
    tenant: sealdesk_proto::TenantId,
    team: sealdesk_proto::TeamId,
    available: u32,
    low_water: u32,
) {
    let labels = [("tenant", tenant.to_string()), ("team", team.to_string())];
    metrics::gauge!("sealdesk_history_pool_available", &labels).set(f64::from(available));
    if available < low_water {
        tracing::warn!(%tenant, %team, available, "History Member pool below its low-water mark: refill it");
    }
}

/// A conversation found its team's History Member pool empty
/// (`sealdesk_history_pool_empty_total{tenant,team}`).
pub fn history_pool_empty(tenant: sealdesk_proto::TenantId, team: sealdesk_proto::TeamId) {
    let labels = [("tenant", tenant.to_string()), ("team", team.to_string())];
    metrics::counter!("sealdesk_history_pool_empty_total", &labels).increment(1);
    tracing::warn!(%tenant, %team, "History Member pool empty: new conversations cannot start");
}

/// Serves metrics on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds the metrics listener.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_counters_are_rendered() {
        let handle = handle();
        let commits = Arc::new(CommitStats::default());
        commits.commits.store(3, Ordering::Relaxed);
        commits.entries.store(300, Ordering::Relaxed);
        let hub = Arc::new(Hub::new());
        watch_delivery(&commits, &hub);
        publish_delivery();
        let text = handle.render();
        // Other tests' servers may count too: at least ours.
        let value = |name: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} missing in {text}"))
        };
        assert!(value("sealdesk_log_commits_total") >= 3);
        assert!(value("sealdesk_log_commit_entries_total") >= 300);
        let _ = value("sealdesk_hub_lagged_total");
    }
}
