//! `sealdesk admin keys rewrap`: after a team key rotation (a member left: `sealdesk admin keys
//! team` made the next version), the new key is wrapped to every certified device of the
//! team's current members, and to nobody else (E2EE.md §3). The leaver keeps only what the
//! old version opens; new History Members are sealed to the new version
//! (`sealdesk admin keys history-pool`).

use std::path::PathBuf;

use bytes::Bytes;
use sealdesk_mls::seal::{self, SealContext};
use sealdesk_proto::TeamId;
use sealdesk_server::app::tenancy::Deps;
use sealdesk_store::{DeviceStatus, KeyWrap};
use secrecy::SecretString;

use super::{Secrets, bad, read_key, read_sealing_key, tenant_id};
use crate::output;

/// `sealdesk admin keys rewrap` flags.
#[derive(Debug, clap::Args)]
pub(crate) struct KeysRewrapArgs {
    /// Tenant id.
    #[arg(long)]
    pub(crate) tenant: String,
    /// The team.
    #[arg(long)]
    pub(crate) team: String,
    /// The issuing key file (signs the wraps).
    #[arg(long)]
    pub(crate) issuing: PathBuf,
    /// The team key file to wrap (normally its newest version).
    #[arg(long)]
    pub(crate) team_key: PathBuf,
    /// Read the passphrases from standard input: the issuing key's, then the team key's
    /// (required).
    #[arg(long)]
    pub(crate) passphrase_stdin: bool,
}

/// Wraps the team key to every certified device of the team's members.
pub(crate) async fn rewrap(
    deps: &Deps,
    secrets: &mut Secrets,
    json: bool,
    args: KeysRewrapArgs,
) -> anyhow::Result<()> {
    super::require_stdin(args.passphrase_stdin)?;
    let tenant = tenant_id(&args.tenant)?;
    let team: TeamId = args
        .team
        .parse()
        .map_err(|_| bad("--team must be a team id"))?;
    let [issuing_pass, team_pass] =
        secrets.array(["the issuing key's passphrase", "the team key's passphrase"])?;
    let (_, signer) = read_key(
        &args.issuing,
        tenant,
        "issuing",
        &SecretString::from(issuing_pass),
    )?;
    let key = read_sealing_key(&args.team_key, "team", &SecretString::from(team_pass))?;
    if key.tenant != tenant || key.team != Some(team) {
        return Err(bad("--team-key is not this team's key"));
    }
    let members = deps.store.team_members(tenant, team).await?;
    let devices = deps.store.list_devices(tenant, None).await?;
    let mut wraps = Vec::new();
    for device in devices
        .iter()
        .filter(|d| d.status == DeviceStatus::Certified && members.contains(&d.staff_id))
    {
        let context = SealContext {
            purpose: "team-key-wrap",
            tenant: *tenant.as_uuid().as_bytes(),
            team: *team.as_uuid().as_bytes(),
            key_version: key.version,
            recipient: device.wrap_key,
        };
        wraps.push(KeyWrap {
            device_id: device.id,
            team_id: team,
            version: key.version,
            sealed: Bytes::from(seal::seal(&device.wrap_key, &context, &key.ikm, &signer)?),
            created_at: deps.clock.now(),
        });
    }
    if !wraps.is_empty() {
        deps.store.add_key_wraps(tenant, &wraps).await?;
    }
    super::audit(deps, tenant, "team_key_wrapped", &key.keys.public).await?;
    if json {
        output::json(&serde_json::json!({
            "team": team,
            "version": key.version,
            "devices": wraps.len(),
        }))
    } else {
        output::line(&format!(
            "version {} of the team key wrapped to {} device(s)",
            key.version,
            wraps.len()
        ));
        Ok(())
    }
}
