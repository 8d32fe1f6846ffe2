//! `sealdesk-bench`: the benchmark scenarios of PERFORMANCE.md, run against a real `sealdesk`
//! binary as a child process on loopback (S7: password login and token resume), or in process
//! (S6: the store's durable appends).
//!
//! Rules it follows: a same-run reference (raw Argon2id throughput) for ratios, several runs
//! reported as the median with min–max, open-loop arrivals with latency measured from the
//! intended start, HDR histograms, and server CPU and memory read from `/proc`.

mod login;
mod metrics;
mod procfs;
mod reference;
mod report;
mod resume;
mod s6;
mod s6_store;
mod s7;
mod server;
mod stats;

use clap::{Parser, Subcommand};

/// Sealdesk benchmarks (see docs/performance.md).
#[derive(Debug, Parser)]
#[command(name = "sealdesk-bench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Scenarios.
#[derive(Debug, Subcommand)]
enum Command {
    /// S6: durable appends through the group committer, in process (SQLite, PostgreSQL).
    S6(s6::S6Args),
    /// S7: login throughput and latency, a login storm, and token resume.
    S7(s7::S7Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::S6(args) => s6::run(args).await,
        Command::S7(args) => s7::run(args).await,
    }
}
