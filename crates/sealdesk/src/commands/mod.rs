//! Command handlers. Each loads the layered configuration, does its work, and prints through
//! `output`.

mod account;
mod admin;
pub(crate) mod agent;
pub(crate) mod archive;
mod audit;
mod bench;
mod check_config;
pub(crate) mod demo;
mod invite;
pub(crate) mod keys;
mod selftest;
mod serve;
mod session;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use sealdesk_core::clock::SystemClock;
use sealdesk_crypto::OsRandom;
use sealdesk_server::Config;
use sealdesk_server::app::tenancy::Deps;
use sealdesk_server::config::ConfigSources;

use crate::cli::{Cli, Command};
use crate::output;

/// Runs the parsed command line.
pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli {
        config,
        data_dir,
        command,
    } = cli;
    match command {
        Command::Serve(args) => serve::run(config, data_dir, args).await,
        Command::Migrate => {
            let config = load_config(config, data_dir, Vec::new())?;
            let store = sealdesk_server::startup::connect_store(&config).await?;
            let applied = store.migrate().await.context("cannot apply migrations")?;
            output::line(&format!(
                "{applied} migration(s) applied; the {} database is up to date",
                store.backend().as_str()
            ));
            Ok(())
        }
        Command::CheckConfig(args) => check_config::run(config, data_dir, &args),
        Command::Admin(args) => admin::run(config, data_dir, args).await,
        Command::Login(args) => session::login(args).await,
        Command::Logout { profile } => session::logout(&profile).await,
        Command::Account(args) => session::account(args).await,
        Command::Invite(command) => invite::run(command).await,
        Command::Selftest(args) => selftest::run(config, data_dir, args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Archive(cmd) => archive::run(config, data_dir, cmd).await,
        Command::Agent(cmd) => agent::run(cmd).await,
        Command::Demo(crate::cli::DemoCommand::Enrol { fingerprint }) => {
            let config = load_config(config, data_dir, Vec::new())?;
            let deps = deps(&config).await?;
            demo::enrol(&deps, &config.data_dir, &fingerprint).await
        }
    }
}

/// Loads the configuration from file, environment and the given flag overrides.
pub(crate) fn load_config(
    config_file: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    mut flags: Vec<(&'static str, String, &'static str)>,
) -> anyhow::Result<Config> {
    let mut sources = ConfigSources::from_process(config_file);
    if let Some(dir) = data_dir {
        flags.push(("data_dir", dir.display().to_string(), "--data-dir"));
    }
    sources.flags = flags;
    Ok(Config::load(&sources)?)
}

/// The production dependencies of the use cases: the configured store, the system clock
/// and the OS random source.
pub(crate) async fn deps(config: &Config) -> anyhow::Result<Deps> {
    let store = sealdesk_server::startup::open_store(config).await?;
    Ok(Deps {
        store,
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        password_policy: config.password_hash,
    })
}
