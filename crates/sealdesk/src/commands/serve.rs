//! `sealdesk serve`: start-up checks, optional demo data, then the server until SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use sealdesk_core::clock::SystemClock;
use sealdesk_crypto::OsRandom;
use sealdesk_server::{startup, telemetry};

use crate::cli::ServeArgs;
use crate::output;

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
    let demo = if args.demo {
        let demo = super::demo::ensure(&state, bound.addr.port())
            .await
            .context("cannot create the demo")?;
        state.serve_demo(sealdesk_server::web::DemoPage {
            tenant: demo.tenant,
            team: demo.team,
            roots: state.store().root_keys(demo.tenant).await?,
        });
        Some(demo)
    } else {
        None
    };
    output::line(&format!(
        "sealdesk {} listening on {}",
        env!("CARGO_PKG_VERSION"),
        bound.url()
    ));
    if let Some(demo) = demo {
        print_demo(&demo, &bound.url(), &config, state.web().is_some());
    }
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

fn print_demo(demo: &super::demo::Demo, url: &str, config: &sealdesk_server::Config, web: bool) {
    output::line(&format!("demo tenant {} team {}", demo.tenant, demo.team));
    if !web {
        output::line(
            "the widget and console are not served: build web/ and pass --web-dir web/dist",
        );
        return;
    }
    output::line(&format!("demo shop (the customer's side): {url}/demo/"));
    output::line(&format!(
        "agent console: {url}/console/  tenant {}  email agent@demo.localhost  password {}",
        demo.tenant, demo.agent_password
    ));
    output::line(&format!(
        "when the console shows its device fingerprint, confirm it: {} demo enrol --data-dir {} --fingerprint \"…\"",
        std::env::current_exe().map_or_else(|_| "sealdesk".into(), |p| p.display().to_string()),
        config.data_dir.display()
    ));
}
