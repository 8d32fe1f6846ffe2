//! `sealdesk serve`: start-up checks, optional demo data, then the server until SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use sealdesk_core::clock::SystemClock;
use sealdesk_crypto::OsRandom;
use sealdesk_server::app::tenancy::{self, CreateTenant, Deps};
use sealdesk_server::{AppState, startup, telemetry};

use crate::cli::ServeArgs;
use crate::output;

/// The demo tenant's brand domain; `--demo` is idempotent by looking it up.
const DEMO_DOMAIN: &str = "demo.localhost";

pub(crate) async fn run(
    config_file: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let mut flags = Vec::new();
    if let Some(listen) = args.listen {
        flags.push(("server.listen", listen, "--listen"));
    }
    if let Some(listen) = args.metrics_listen {
        flags.push(("metrics.listen", listen, "--metrics-listen"));
    }
    if let Some(dir) = args.web_dir {
        flags.push(("web_dir", dir, "--web-dir"));
    }
    if args.no_metrics {
        flags.push(("metrics.enabled", "false".to_owned(), "--no-metrics"));
    }
    if let Some(format) = args.log_format {
        flags.push(("log.format", format, "--log-format"));
    }
    let config = super::load_config(config_file, data_dir, flags)?;
    telemetry::init(&config.log);
    let state = startup::prepare(config.clone(), Arc::new(SystemClock), Arc::new(OsRandom)).await?;
    let bound = startup::bind(&config).await?;
    if args.demo {
        ensure_demo(&state, bound.addr.port())
            .await
            .context("cannot create the demo tenant")?;
    }
    output::line(&format!(
        "sealdesk {} listening on {}",
        env!("CARGO_PKG_VERSION"),
        bound.url()
    ));
    if let Some(metrics) = bound.metrics_addr {
        output::line(&format!("metrics on http://{metrics}/metrics"));
    }
    tracing::info!(addr = %bound.addr, storage = config.storage_name(), "serving");
    bound
        .run(state, sealdesk_server::serve::shutdown_signal())
        .await
        .context("server failed")?;
    output::line("sealdesk stopped");
    Ok(())
}

async fn ensure_demo(state: &AppState, port: u16) -> anyhow::Result<()> {
    let store = state.store().clone();
    if let Some(tenant) = store.find_tenant_by_domain(DEMO_DOMAIN).await? {
        output::line(&format!("demo tenant: {} ({})", tenant.name, tenant.id));
        return Ok(());
    }
    let deps = Deps {
        store,
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        password_policy: state.config().password_hash,
    };
    let tenant = tenancy::create_tenant(
        &deps,
        CreateTenant {
            name: "Demo Shop".into(),
            domains: vec![DEMO_DOMAIN.into()],
            origins: vec![
                format!("http://localhost:{port}"),
                format!("http://127.0.0.1:{port}"),
            ],
            retention_days: 30,
            require_second_factor: true,
        },
    )
    .await?;
    let team = tenancy::create_team(&deps, tenant.id, "Support").await?;
    output::line(&format!(
        "demo tenant: {} ({}), team {} ({})",
        tenant.name, tenant.id, team.name, team.id
    ));
    Ok(())
}
