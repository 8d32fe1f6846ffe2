//! `client-overhead`: what one idle generator connection costs in memory, with the typed
//! client of `sealdesk-client` (a tungstenite stream with a 4 KiB read buffer, plus the task
//! a generator needs to keep reading it) versus the worker's lean frame-level connection.
//! Both connect to a null relay child; the figure is the RSS growth divided by the
//! connections. This is the measurement behind the choice of the lean client.

use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use sealdesk_client::ws::{Connection, Credential};
use serde::Serialize;

use crate::chat::coord::Workers;
use crate::chat::report::{self, progress};
use crate::chat::target::{System, Target, Topology};
use crate::procfs::status_value;
use crate::stats::f;

/// `client-overhead`.
#[derive(Debug, Clone, Args)]
pub(crate) struct OverheadArgs {
    /// Idle connections per client kind.
    #[arg(long, default_value_t = 4000)]
    pub(crate) connections: usize,
}

#[derive(Debug, Serialize)]
struct Result {
    connections: usize,
    typed_client_bytes_per_conn: f64,
    lean_worker_bytes_per_conn: f64,
}

/// Measures both kinds against one null relay and prints JSON.
pub(crate) async fn run(args: OverheadArgs) -> anyhow::Result<()> {
    let n = args.connections.max(2) / 2 * 2;
    let topology = Topology {
        convs: n / 2,
        dashboards: 0,
        per_dashboard: 1,
        mls: false,
    };
    let target = Target::start(
        System::NullRelay,
        std::path::Path::new("/"),
        &topology,
        None,
        1,
    )
    .await?;
    let url = url::Url::parse(&format!("http://{}", target.addr))?;

    progress("typed client: connecting");
    let me = std::process::id();
    let before = status_value(me, "VmRSS")?;
    let mut tasks = tokio::task::JoinSet::new();
    for (id, _, _) in &target.convs {
        for _ in 0..2 {
            let mut conn = Connection::connect(&url, &Credential::Bearer("sd_null".into()))
                .await
                .context("typed client cannot connect")?;
            conn.subscribe(sealdesk_proto::ConversationId::from_uuid(*id), 0)
                .await
                .context("typed client cannot subscribe")?;
            // A generator must keep reading every connection (pings, deliveries).
            tasks.spawn(async move { while conn.next().await.is_ok() {} });
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let typed = status_value(me, "VmRSS")?.saturating_sub(before);
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}

    progress("lean worker: connecting");
    let mut workers = Workers::start(target.plans(1, &topology), None).await?;
    let reports = workers.connect(256).await?;
    let lean: u64 = reports
        .iter()
        .map(|r| r.rss_kib.saturating_sub(r.rss_before_kib))
        .sum();
    let ok: u64 = reports.iter().map(|r| r.ok).sum();
    workers.close().await?;
    target.stop().await?;
    let result = Result {
        connections: n,
        typed_client_bytes_per_conn: f(typed) * 1024.0 / f(n as u64),
        lean_worker_bytes_per_conn: f(lean) * 1024.0 / f(ok.max(1)),
    };
    report::print(&format!("{}\n", serde_json::to_string_pretty(&result)?))
}
