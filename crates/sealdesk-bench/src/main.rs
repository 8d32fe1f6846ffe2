//! `sealdesk-bench`: the benchmark scenarios of PERFORMANCE.md (see the library's docs and
//! docs/performance.md). `sealdesk bench …` runs the same commands.

use anyhow::Context as _;
use clap::Parser as _;

fn main() -> anyhow::Result<()> {
    let exe = sealdesk_bench::SelfExe {
        path: std::env::current_exe().context("cannot find this executable")?,
        prefix: Vec::new(),
    };
    sealdesk_bench::run(sealdesk_bench::Cli::parse(), exe)
}
