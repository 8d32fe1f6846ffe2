//! `sealdesk admin keys history-pool`: refills a team's History Member pool from the owner's
//! machine (E2EE.md §3, §5.1). Each History Member is a fresh MLS key package certified as
//! the team's archive (role `history`) by the issuing key; its private half is sealed in an
//! `SDB1` bundle to the team key and, when given, the archive key, so only the team's devices
//! and the archive's owners can replay conversations. The bundle's sealer is an ephemeral
//! supervisor-role device certified for one day by the same issuing key and forgotten when
//! the command ends: openers accept bundles sealed by devices the tenant vouches for.

use std::path::PathBuf;

use bytes::Bytes;
use sealdesk_mls::bundle::{KeyKind, Recipient, seal_bundle};
use sealdesk_mls::certs::{CertBody, Certificate, ChainCheck, Role, TrustAnchor, encode_chain};
use sealdesk_mls::ds::check_key_package;
use sealdesk_mls::{Client as Mls, DeviceSigner, profile};
use sealdesk_proto::{TeamId, TenantId};
use sealdesk_server::app::key_packages::{MAX_HISTORY_POOL, MAX_LIFETIME_SECS};
use sealdesk_server::app::tenancy::Deps;
use sealdesk_store::NewHistoryPackage;
use secrecy::SecretString;

use super::{bad, read_key, read_sealing_key, tenant_id, unix_now};
use crate::output;

/// `sealdesk admin keys history-pool` flags.
#[derive(Debug, clap::Args)]
pub(crate) struct KeysHistoryArgs {
    /// Tenant id.
    #[arg(long)]
    pub(crate) tenant: String,
    /// The team whose pool to fill.
    #[arg(long)]
    pub(crate) team: String,
    /// The issuing key file (certifies the History Members).
    #[arg(long)]
    pub(crate) issuing: PathBuf,
    /// The team's key file (its current version).
    #[arg(long)]
    pub(crate) team_key: PathBuf,
    /// The tenant's archive key file, so archives can open these conversations too.
    #[arg(long)]
    pub(crate) archive_key: Option<PathBuf>,
    /// How many History Members to add.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub(crate) count: u32,
    /// Read the passphrases from standard input, one per line: the issuing key's, the team
    /// key's, then the archive key's if given (required).
    #[arg(long)]
    pub(crate) passphrase_stdin: bool,
}

/// The issuing key at work: certifies keys for this run.
struct Issuer {
    tenant: [u8; 16],
    signer: DeviceSigner,
    cert: Vec<u8>,
    parent: Certificate,
    now: u64,
}

impl Issuer {
    fn chain(
        &self,
        role: Role,
        subject: Vec<u8>,
        team: [u8; 16],
        days: u64,
        label: String,
    ) -> anyhow::Result<Vec<u8>> {
        let subject: [u8; 32] = subject
            .try_into()
            .map_err(|_| bad("Ed25519 keys are 32 bytes"))?;
        let cert = CertBody {
            role,
            tenant: self.tenant,
            team,
            subject,
            not_before: self
                .now
                .saturating_sub(300)
                .max(self.parent.body.not_before),
            not_after: (self.now + days * super::DAY).min(self.parent.body.not_after),
            label,
        }
        .sign(&self.signer)
        .map_err(|e| bad(e.to_string()))?;
        Ok(encode_chain(&cert, &self.cert)?)
    }
}

/// The team key (and archive key) the bundles are sealed to, from their files.
fn recipients(
    args: &KeysHistoryArgs,
    tenant: TenantId,
    team: TeamId,
    next: &mut dyn FnMut() -> SecretString,
) -> anyhow::Result<(Vec<Recipient>, [u8; 32])> {
    let team_key = read_sealing_key(&args.team_key, "team", &next())?;
    if team_key.tenant != tenant || team_key.team != Some(team) {
        return Err(bad("--team-key is not this team's key"));
    }
    let mut recipients = vec![Recipient {
        kind: KeyKind::Team,
        key_version: team_key.version,
        public: team_key.keys.public,
    }];
    if let Some(path) = &args.archive_key {
        let archive = read_sealing_key(path, "archive", &next())?;
        if archive.tenant != tenant {
            return Err(bad("--archive-key is another tenant's"));
        }
        recipients.push(Recipient {
            kind: KeyKind::Archive,
            key_version: archive.version,
            public: archive.keys.public,
        });
    }
    Ok((recipients, team_key.keys.public))
}

/// Adds `count` History Members to the team's pool.
pub(crate) async fn fill(
    deps: &Deps,
    secrets: &mut super::Secrets,
    json: bool,
    args: KeysHistoryArgs,
) -> anyhow::Result<()> {
    super::require_stdin(args.passphrase_stdin)?;
    let tenant = tenant_id(&args.tenant)?;
    let team: TeamId = args
        .team
        .parse()
        .map_err(|_| bad("--team must be a team id"))?;
    let team_row = deps.store.get_team(tenant, team).await?;
    let mut names = vec!["the issuing key's passphrase", "the team key's passphrase"];
    if args.archive_key.is_some() {
        names.push("the archive key's passphrase");
    }
    let mut passes = secrets.lines(&names)?.into_iter();
    let mut next = || SecretString::from(passes.next().unwrap_or_default());
    let (file, signer) = read_key(&args.issuing, tenant, "issuing", &next())?;
    let cert = base64_field(file.certificate.as_deref())?;
    let issuer = Issuer {
        tenant: *tenant.as_uuid().as_bytes(),
        parent: Certificate::decode(&cert).map_err(|e| bad(e.to_string()))?,
        signer,
        cert,
        now: unix_now(deps),
    };
    let (recipients, team_public) = recipients(&args, tenant, team, &mut next)?;
    let team_key_version = recipients.first().map(|r| r.key_version);
    let sealer = DeviceSigner::generate(|seed| deps.random.fill(seed))?;
    let sealer_chain = issuer.chain(
        Role::Supervisor,
        sealer.public(),
        [0; 16],
        1,
        "Key ceremony (CLI)".into(),
    )?;
    let anchor = TrustAnchor {
        tenant: issuer.tenant,
        roots: deps.store.root_keys(tenant).await?,
    };
    // A History Member's label is its team's name: widgets show "<tenant> message archive
    // (<label>)" (E2EE.md §4).
    let label = team_row.name.to_string();
    let team_bytes = *team.as_uuid().as_bytes();
    let mut packages = Vec::new();
    for _ in 0..args.count {
        let now = issuer.now;
        let check = std::sync::Arc::new(ChainCheck::new(anchor.clone(), move || now));
        let mut member = Mls::new(b"history member", check)?;
        let chain = issuer.chain(
            Role::History,
            member.signature_key(),
            team_bytes,
            90,
            label.clone(),
        )?;
        member.set_identity(&chain);
        let key_package = member.key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)?;
        let bundle = seal_bundle(
            &member.export_last_key_package()?,
            issuer.tenant,
            team_bytes,
            &sealer_chain,
            &recipients,
            &sealer,
        )?;
        // The same checks the server applies to an upload (chain to a registered root).
        let entry = check_key_package(&key_package, &anchor, issuer.now, MAX_LIFETIME_SECS)
            .map_err(|e| bad(format!("a History Member failed its own check: {e}")))?;
        packages.push(NewHistoryPackage {
            hash_ref: entry.hash_ref,
            key_package: Bytes::from(key_package),
            sealed_bundle: Bytes::from(bundle),
            not_after: time::OffsetDateTime::from_unix_timestamp(
                i64::try_from(entry.not_after).unwrap_or(i64::MAX),
            )
            .map_err(|_| bad("lifetime out of range"))?,
            team_key_version,
        });
    }
    let available = deps
        .store
        .add_history_packages(tenant, team, &packages, MAX_HISTORY_POOL, deps.clock.now())
        .await
        .map_err(|e| match e {
            sealdesk_store::StoreError::Conflict { .. } => bad(format!(
                "a team's pool holds at most {MAX_HISTORY_POOL} History Members"
            )),
            other => other.into(),
        })?;
    super::audit(deps, tenant, "history_pool_filled", &team_public).await?;
    report(json, team, packages.len(), available, recipients.len())
}

fn report(
    json: bool,
    team: TeamId,
    added: usize,
    available: u32,
    recipients: usize,
) -> anyhow::Result<()> {
    if json {
        output::json(&serde_json::json!({
            "team": team,
            "added": added,
            "available": available,
            "recipients": recipients,
        }))
    } else {
        output::line(&format!(
            "{added} History Member(s) added; the pool holds {available}"
        ));
        Ok(())
    }
}

fn base64_field(value: Option<&str>) -> anyhow::Result<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(value.unwrap_or_default())
        .map_err(|_| bad("the issuing key file lacks its certificate"))
}
