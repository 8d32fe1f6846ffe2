//! `sealdesk check-config`: validates the configuration and the files it names, and prints
//! the effective settings with secrets redacted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sealdesk_server::Config;

use crate::cli::CheckConfigArgs;
use crate::exit::{CONFIG, Failure};
use crate::output;

pub(crate) fn run(
    config_file: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    args: &CheckConfigArgs,
) -> anyhow::Result<()> {
    if args.print_example {
        let mut text = Config::example_toml();
        text.truncate(text.trim_end().len());
        output::line(&text);
        return Ok(());
    }
    let config = super::load_config(config_file, data_dir, Vec::new())?;
    let mut problems = Vec::new();
    if config.data_dir.exists()
        && let Err(e) = sealdesk_server::datadir::ensure(&config.data_dir)
    {
        problems.push(e.to_string());
    }
    let key = config.master_key_path();
    if (key.exists() || config.master_key_file.is_some())
        && let Err(e) = sealdesk_crypto::MasterKey::load(&key)
    {
        problems.push(e.to_string());
    }
    if let Some(tls) = &config.tls
        && let Err(e) = sealdesk_server::tls::server_config(&tls.cert_file, &tls.key_file)
    {
        problems.push(e.to_string());
    }
    if args.json {
        let settings: BTreeMap<String, String> = config.describe().into_iter().collect();
        output::json(
            &serde_json::json!({ "ok": problems.is_empty(), "settings": settings, "problems": problems }),
        )?;
    } else {
        for (k, v) in config.describe() {
            output::line(&format!("{k:<32} {v}"));
        }
    }
    if problems.is_empty() {
        if !args.json {
            output::line("configuration OK");
        }
        Ok(())
    } else {
        Err(Failure::new(
            CONFIG,
            format!(
                "{} problem(s):\n  - {}",
                problems.len(),
                problems.join("\n  - ")
            ),
        )
        .into())
    }
}
