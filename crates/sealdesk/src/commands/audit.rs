//! `sealdesk admin audit …` and `sealdesk admin rotate-master-key`: checking the audit chain
//! and re-encrypting server-held secrets under a new master key version.

use sealdesk_core::audit::{Actor, AuditAction, AuditEvent};
use sealdesk_crypto::MasterKey;
use sealdesk_crypto::audit_chain::ChainCursor;
use sealdesk_proto::TenantId;
use sealdesk_server::Config;
use sealdesk_server::app::tenancy::Deps;

use crate::cli::AuditCommand;
use crate::exit::{DATA_ERR, Failure};
use crate::output;

/// Entries read per page while verifying.
const PAGE: u32 = 1000;

pub(crate) async fn run(deps: &Deps, cmd: AuditCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify => verify(deps, json).await,
        AuditCommand::List {
            tenant,
            after,
            limit,
        } => {
            let tenant: Option<TenantId> = match tenant {
                Some(t) => Some(t.parse().map_err(|e: sealdesk_proto::ids::ParseIdError| {
                    Failure::new(DATA_ERR, e.to_string())
                })?),
                None => None,
            };
            let records = deps
                .store
                .list_audit(tenant, after, limit.clamp(1, 10_000))
                .await?;
            output::emit(json, records.as_slice(), |list| {
                for r in list {
                    output::line(&format!(
                        "{:>6}  {}  {:<24}  {:<44}  {}",
                        r.seq,
                        r.event.at,
                        r.event.action.as_str(),
                        r.event.actor.encode(),
                        r.event.target.as_deref().unwrap_or("-")
                    ));
                }
            })
        }
    }
}

async fn verify(deps: &Deps, json: bool) -> anyhow::Result<()> {
    let mut cursor = ChainCursor::default();
    let mut after = 0;
    loop {
        let page = deps.store.list_audit(None, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in &page {
            cursor.feed(r);
        }
    }
    let report = cursor.finish();
    let (head_seq, head_hash) = report
        .head
        .clone()
        .map_or((0, String::new()), |(s, h)| (s, h));
    let first_error = report
        .first_error
        .clone()
        .map(|(seq, reason)| serde_json::json!({ "seq": seq, "reason": reason }));
    if json {
        output::json(&serde_json::json!({
            "ok": report.ok,
            "entries": report.entries,
            "head_seq": head_seq,
            "head_hash": head_hash,
            "first_error": first_error,
        }))?;
    } else if report.ok {
        output::line(&format!(
            "audit log intact: {} entries; head {head_seq} {head_hash}",
            report.entries
        ));
        output::line("(record the head elsewhere to also detect removal of the newest entries)");
    }
    match report.first_error {
        None => Ok(()),
        Some((seq, reason)) => Err(Failure::new(
            DATA_ERR,
            format!("audit log broken at entry {seq}: {reason}"),
        )
        .into()),
    }
}

/// Adds a master key version, then re-seals every sealed secret with it, one row at a time
/// with compare-and-swap. Crash-safe: the new key file is durable before any secret uses the
/// new version, and old versions stay in the file, so every secret is always readable by
/// exactly the one version its header names. Running it again finishes an interrupted run.
pub(crate) async fn rotate_master_key(
    config: &Config,
    deps: &Deps,
    json: bool,
) -> anyhow::Result<()> {
    let path = config.master_key_path();
    let old = MasterKey::load(&path)?;
    let key = old.with_new_version(deps.random.as_ref());
    key.replace_file(&path)?;
    let current = key.current_version();
    let (mut resealed, mut skipped) = (0u64, 0u64);
    for (tenant, staff, sealed) in deps.store.list_totp_secrets().await? {
        if MasterKey::sealed_version(&sealed) == Some(current) {
            continue;
        }
        let context = staff.to_string();
        let plain = key.open("totp-seed", context.as_bytes(), &sealed)?;
        let fresh = key.seal(
            deps.random.as_ref(),
            "totp-seed",
            context.as_bytes(),
            &plain,
        );
        if deps
            .store
            .replace_totp_secret(tenant, staff, &sealed, &fresh)
            .await?
        {
            resealed += 1;
        } else {
            // Changed meanwhile (re-enrolled): the new value was sealed with a current key.
            skipped += 1;
        }
    }
    // Inbox identity secrets (HS256 keys of identity tokens), the same way.
    let purpose = sealdesk_server::app::identity::SEAL_PURPOSE;
    for (tenant, team, sealed) in deps.store.list_inbox_secrets().await? {
        if MasterKey::sealed_version(&sealed) == Some(current) {
            continue;
        }
        let context = team.to_string();
        let plain = key.open(purpose, context.as_bytes(), &sealed)?;
        let fresh = key.seal(deps.random.as_ref(), purpose, context.as_bytes(), &plain);
        if deps
            .store
            .replace_inbox_secret(tenant, team, &sealed, &fresh)
            .await?
        {
            resealed += 1;
        } else {
            skipped += 1;
        }
    }
    let event = AuditEvent {
        at: deps.clock.now(),
        tenant: None,
        actor: Actor::Operator,
        action: AuditAction::MasterKeyRotated,
        target: None,
        details: [
            ("version".to_owned(), current.to_string()),
            ("resealed".to_owned(), resealed.to_string()),
        ]
        .into(),
        ip: None,
    };
    deps.store.append_audit(&event).await?;
    let summary = serde_json::json!({ "version": current, "resealed": resealed, "skipped": skipped, "versions": key.versions() });
    if json {
        output::json(&summary)
    } else {
        output::line(&format!(
            "master key version {current} is now in use; {resealed} secret(s) re-encrypted"
        ));
        output::line(&format!("back up {} again", path.display()));
        Ok(())
    }
}
