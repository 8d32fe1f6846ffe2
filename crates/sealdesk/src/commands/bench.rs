//! `sealdesk bench …`: the benchmarks of `sealdesk-bench`, from the main binary. Worker and
//! relay processes are started as `sealdesk bench worker` and `sealdesk bench null-relay`.

use anyhow::Context as _;

pub(crate) async fn run(cli: sealdesk_bench::Cli) -> anyhow::Result<()> {
    let exe = sealdesk_bench::SelfExe {
        path: std::env::current_exe().context("cannot find this executable")?,
        prefix: vec!["bench".to_owned()],
    };
    // The benchmarks build their own runtimes (a single-threaded one in each worker process),
    // which cannot start on a thread that is driving this one.
    let thread = std::thread::Builder::new()
        .name("bench".into())
        .spawn(move || sealdesk_bench::run(cli, exe))
        .context("cannot start the benchmark thread")?;
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .context("the benchmark thread was cancelled")?
        .map_err(|_| anyhow::anyhow!("the benchmark thread panicked"))?
}
