//! `sealdesk-bench`: the benchmark scenarios of PERFORMANCE.md, run against a real `sealdesk`
//! binary as a child process on loopback (S1–S3: the chat load generator and the null relay;
//! S7: password login and token resume), or in process (S6: the store's durable appends).
//! Used by the `sealdesk-bench` binary and by `sealdesk bench`.
//!
//! Rules it follows: same-run references for ratios (the null relay, raw Argon2id
//! throughput), several runs reported as the median with min–max, open-loop arrivals with
//! latency measured from the intended start, HDR histograms, and CPU and memory of the
//! system under test read from `/proc`. It depends on the server only through its binary and
//! its wire types.

mod chat;
mod login;
mod metrics;
mod mls;
mod procfs;
mod reference;
mod report;
mod resume;
mod s6;
mod s6_cpu;
mod s6_store;
mod s7;
mod server;
mod stats;

use clap::{Parser, Subcommand};

pub use chat::coord::SelfExe;

/// Sealdesk benchmarks (see docs/performance.md).
#[derive(Debug, Parser)]
#[command(name = "sealdesk-bench", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Scenarios.
#[derive(Debug, Subcommand)]
enum Command {
    /// S1: idle connections (memory per connection, idle CPU, connect rate), vs the null relay.
    S1(chat::s1::S1Args),
    /// S2: live-chat steady state (latency, CPU per message, fsyncs), vs the null relay;
    /// `--smoke` for the CI version.
    S2(chat::s2::S2Args),
    /// S3: persisted-message saturation (max msgs/s at p99 ≤ 50 ms), vs the null relay.
    S3(chat::s3::S3Args),
    /// S6: durable appends through the group committer, in process (SQLite, PostgreSQL).
    S6(s6::S6Args),
    /// S7: login throughput and latency, a login storm, and token resume.
    S7(s7::S7Args),
    /// MLS costs in process: encrypt/decrypt per message vs the bare AEAD, commit cost vs
    /// group size, History Member replay of a long conversation.
    Mls(mls::MlsArgs),
    /// The null relay: a minimal WebSocket broadcast server speaking enough of protocol v1
    /// for the load generator (the speed-of-light control).
    NullRelay(chat::relay::RelayArgs),
    /// Memory per idle connection: the typed client versus the generator's lean connection.
    ClientOverhead(chat::overhead::OverheadArgs),
    /// A load generator worker process (started by the scenarios; reads commands on stdin).
    #[command(hide = true)]
    Worker,
}

/// Runs `cli`; `exe` says how to start this program again for worker and relay processes.
/// Builds its own runtimes, so it must not be called from inside one.
pub fn run(cli: Cli, exe: SelfExe) -> anyhow::Result<()> {
    chat::coord::set_self_exe(exe);
    match cli.command {
        Command::Worker => chat::worker::run(),
        Command::NullRelay(args) => chat::relay::run(&args),
        Command::Mls(args) => mls::run(&args),
        command => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(async move {
                match command {
                    Command::S1(args) => chat::s1::run(args).await,
                    Command::S2(args) => chat::s2::run(args).await,
                    Command::S3(args) => chat::s3::run(args).await,
                    Command::S6(args) => s6::run(args).await,
                    Command::S7(args) => s7::run(args).await,
                    Command::ClientOverhead(args) => chat::overhead::run(args).await,
                    Command::Worker | Command::NullRelay(_) | Command::Mls(_) => Ok(()),
                }
            }),
    }
}
