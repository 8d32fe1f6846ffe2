//! `sealdesk archive export|decrypt` (E2EE.md §6). The operator exports what the server
//! holds (ciphertext logs, sealed History Member bundles, key announcements); the tenant's
//! owners decrypt it, offline, with their archive key file. Neither step needs the other's
//! secrets: the operator never sees content, the owner never needs the server.

use std::io::{BufReader, BufWriter, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use sealdesk_archive::ArchiveKey;
use sealdesk_mls::certs::TrustAnchor;
use secrecy::SecretString;

use super::keys::read_sealing_key;
use crate::exit::{CANT_CREATE, DATA_ERR, Failure, NO_INPUT};
use crate::output;

/// `sealdesk archive …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ArchiveCommand {
    /// Export a tenant's conversations as the server holds them (ciphertext), with the data
    /// directory's admin access; works while the server runs.
    Export {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Where to write the archive (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Decrypt an archive with the tenant's archive key file(s), offline: writes
    /// `transcripts.jsonl` and `transcripts.html` into --out. Standard input: one passphrase
    /// per --key, in order.
    Decrypt {
        /// The archive file.
        #[arg(long = "in")]
        input: PathBuf,
        /// An archive key file (repeat for older versions).
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// The directory to write the transcripts into (created; must not hold them yet).
        #[arg(long)]
        out: PathBuf,
        /// Read the passphrases from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
}

pub(crate) async fn run(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    cmd: ArchiveCommand,
) -> anyhow::Result<()> {
    match cmd {
        ArchiveCommand::Export { tenant, out } => {
            let config = super::load_config(config, data_dir, Vec::new())?;
            let deps = super::deps(&config).await?;
            export(&deps, &tenant, &out).await
        }
        ArchiveCommand::Decrypt {
            input,
            keys,
            out,
            passphrase_stdin,
        } => decrypt(&input, &keys, &out, passphrase_stdin),
    }
}

fn create_new(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            Failure::new(
                CANT_CREATE,
                format!(
                    "cannot create {}: {e} (nothing is overwritten)",
                    path.display()
                ),
            )
            .into()
        })
}

/// Progress on standard error: a rewritten line on a terminal, nothing otherwise.
fn progress(what: &'static str) -> impl FnMut(u64, u64) {
    let terminal = std::io::stderr().is_terminal();
    move |done, total| {
        if terminal {
            let width = 30;
            let filled = (done * width as u64)
                .checked_div(total)
                .map_or(width, |f| usize::try_from(f).unwrap_or(width).min(width));
            eprint!(
                "\r{what} [{}{}] {done}/{total}",
                "#".repeat(filled),
                ".".repeat(width - filled)
            );
            if done == total {
                eprintln!();
            }
        }
    }
}

async fn export(
    deps: &sealdesk_server::app::tenancy::Deps,
    tenant: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let tenant = tenant
        .parse()
        .map_err(|_| Failure::new(DATA_ERR, "--tenant must be a tenant id"))?;
    deps.store
        .get_tenant(tenant)
        .await
        .map_err(|_| Failure::new(NO_INPUT, "no such tenant"))?;
    let file = create_new(out)?;
    let mut writer = BufWriter::new(file);
    let summary = sealdesk_archive::export(
        deps.store.as_ref(),
        tenant,
        deps.clock.now(),
        &mut writer,
        progress("exporting"),
    )
    .await;
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            drop(writer);
            let _ = std::fs::remove_file(out);
            return Err(e.into());
        }
    };
    writer
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()?;
    output::line(&format!(
        "exported {} conversation(s), {} log entries to {} (ciphertext: only the tenant's archive key opens it)",
        summary.conversations,
        summary.entries,
        out.display()
    ));
    Ok(())
}

fn decrypt(
    input: &Path,
    key_files: &[PathBuf],
    out: &Path,
    passphrase_stdin: bool,
) -> anyhow::Result<()> {
    if !passphrase_stdin {
        return Err(Failure::new(
            DATA_ERR,
            "pass the passphrases on standard input with --passphrase-stdin",
        )
        .into());
    }
    let names: Vec<String> = key_files
        .iter()
        .map(|k| format!("the passphrase of {}", k.display()))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let passphrases = super::session::stdin_line_list(&names)?;
    let mut keys = Vec::new();
    let mut anchor: Option<TrustAnchor> = None;
    for (path, pass) in key_files.iter().zip(passphrases) {
        let opened = read_sealing_key(path, "archive", &SecretString::from(pass))?;
        let (tenant, version, pair, roots) =
            (opened.tenant, opened.version, opened.keys, opened.roots);
        let tenant = *tenant.as_uuid().as_bytes();
        match &mut anchor {
            Some(a) if a.tenant != tenant => {
                return Err(
                    Failure::new(DATA_ERR, "the key files belong to different tenants").into(),
                );
            }
            Some(a) => {
                for r in roots {
                    if !a.roots.contains(&r) {
                        a.roots.push(r);
                    }
                }
            }
            None => anchor = Some(TrustAnchor { tenant, roots }),
        }
        keys.push(ArchiveKey {
            version,
            public: pair.public,
            private: pair.private,
        });
    }
    let anchor = anchor.ok_or_else(|| Failure::new(DATA_ERR, "give at least one --key"))?;
    let archive = std::fs::File::open(input)
        .map_err(|e| Failure::new(NO_INPUT, format!("cannot read {}: {e}", input.display())))?;
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::new(CANT_CREATE, format!("cannot create {}: {e}", out.display())))?;
    let (jsonl_path, html_path) = (out.join("transcripts.jsonl"), out.join("transcripts.html"));
    for done in [&jsonl_path, &html_path] {
        if done.exists() {
            return Err(Failure::new(
                CANT_CREATE,
                format!("{} exists (nothing is overwritten)", done.display()),
            )
            .into());
        }
    }
    let (jsonl_tmp, html_tmp) = (
        out.join(".transcripts.jsonl.partial"),
        out.join(".transcripts.html.partial"),
    );
    let _ = std::fs::remove_file(&jsonl_tmp);
    let _ = std::fs::remove_file(&html_tmp);
    let result = {
        let mut jsonl = BufWriter::new(create_new(&jsonl_tmp)?);
        let mut html = BufWriter::new(create_new(&html_tmp)?);
        let terminal = std::io::stderr().is_terminal();
        let report = sealdesk_archive::decrypt(
            BufReader::new(archive),
            &keys,
            &anchor,
            &mut jsonl,
            &mut html,
            |done| {
                if terminal {
                    eprint!("\rdecrypting: {done} conversation(s)");
                }
            },
        );
        if terminal {
            eprintln!();
        }
        jsonl.flush()?;
        html.flush()?;
        report
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&jsonl_tmp);
            let _ = std::fs::remove_file(&html_tmp);
            return Err(Failure::new(DATA_ERR, e.to_string()).into());
        }
    };
    std::fs::rename(&jsonl_tmp, &jsonl_path)?;
    std::fs::rename(&html_tmp, &html_path)?;
    output::line(&format!(
        "decrypted {} of {} conversation(s), {} message(s), {} internal note(s) into {} and {}",
        report.decrypted_conversations,
        report.conversations,
        report.messages,
        report.notes,
        jsonl_path.display(),
        html_path.display()
    ));
    for (conversation, why) in &report.unreadable {
        output::line(&format!("not readable: {conversation}: {why}"));
    }
    for (conversation, why) in &report.unreadable_notes {
        output::line(&format!("note not readable: {conversation}: {why}"));
    }
    Ok(())
}
