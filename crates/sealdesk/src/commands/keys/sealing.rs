//! `sealdesk admin keys archive|team`: the tenant's archive key and team keys (E2EE.md §3),
//! X25519 HPKE keys that History Member bundles are sealed to. The owner makes each here:
//! the private half goes to a file sealed under a passphrase (an archive key is kept by the
//! owners for as long as the archive must stay readable), the public half is announced,
//! signed by the root key, so that every console can check it before sealing to it.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use sealdesk_crypto::passphrase::{self, Cost};
use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::KeyKind;
use sealdesk_mls::seal::{HpkeKeys, derive_keys};
use sealdesk_proto::{TeamId, TenantId};
use sealdesk_server::app::tenancy::Deps;
use sealdesk_store::{KeyScope, SealingKey};
use secrecy::SecretString;

use super::{
    KeyFile, audit, bad, fingerprint, read_key, require_stdin, tenant_id, unix_now, write_new,
};
use crate::exit::{Failure, NO_INPUT};
use crate::output;

/// `sealdesk admin keys archive` and `team`.
#[derive(Debug, Args)]
pub(crate) struct KeysSealingArgs {
    /// Tenant id.
    #[arg(long)]
    pub(crate) tenant: String,
    /// The root key file (it signs the announcement).
    #[arg(long)]
    pub(crate) root: PathBuf,
    /// Where to write the new key file (must not exist).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Read the passphrases from standard input (required): the root key's, then the new
    /// key file's.
    #[arg(long)]
    pub(crate) passphrase_stdin: bool,
}

pub(crate) async fn create(
    deps: &Deps,
    secrets: &mut super::Secrets,
    json: bool,
    args: KeysSealingArgs,
    team: Option<String>,
) -> anyhow::Result<()> {
    let KeysSealingArgs {
        tenant,
        root,
        out,
        passphrase_stdin,
    } = args;
    require_stdin(passphrase_stdin)?;
    let tenant = tenant_id(&tenant)?;
    let team: Option<TeamId> = team
        .map(|t| t.parse().map_err(|_| bad("--team must be a team id")))
        .transpose()?;
    let scope = team.map_or(KeyScope::Archive, KeyScope::Team);
    let [root_pass, new_pass] =
        secrets.array(["the root key's passphrase", "the new key's passphrase"])?;
    let (_, root_key) = read_key(&root, tenant, "root", &SecretString::from(root_pass))?;
    let roots = deps.store.root_keys(tenant).await?;
    let root_public: [u8; 32] = root_key
        .public()
        .try_into()
        .map_err(|_| anyhow::anyhow!("Ed25519 keys are 32 bytes"))?;
    if !roots.contains(&root_public) {
        return Err(bad("this root key is not registered for the tenant"));
    }
    let version = deps
        .store
        .sealing_keys(tenant)
        .await?
        .iter()
        .filter(|k| k.scope == scope)
        .map(|k| k.version)
        .max()
        .unwrap_or(0)
        + 1;
    let mut ikm = zeroize::Zeroizing::new([0u8; 32]);
    deps.random.fill(ikm.as_mut_slice());
    let keys = derive_keys(ikm.as_slice())?;
    let (kind, label) = match team {
        Some(_) => (KeyKind::Team, "team"),
        None => (KeyKind::Archive, "archive"),
    };
    let announcement = Announcement {
        kind,
        tenant: *tenant.as_uuid().as_bytes(),
        team: team.map_or([0; 16], |t| *t.as_uuid().as_bytes()),
        version,
        public: keys.public,
        created: unix_now(deps),
    }
    .sign(&[], &root_key)
    .map_err(|e| bad(e.to_string()))?;
    let sealed = passphrase::seal(
        ikm.as_slice(),
        &SecretString::from(new_pass),
        Cost::RECOMMENDED,
        deps.random.as_ref(),
    )
    .map_err(|e| anyhow::anyhow!("cannot seal the key: {e}"))?;
    write_new(
        &out,
        &KeyFile {
            kind: label.into(),
            tenant,
            public_key: STANDARD.encode(keys.public),
            certificate: None,
            version: Some(version),
            team,
            roots: roots.iter().map(|r| STANDARD.encode(r)).collect(),
            sealed_seed: STANDARD.encode(sealed),
        },
    )?;
    // The file is written before the announcement (a key announced without its private half
    // would seal history nobody can read); if the announcement fails, the file goes.
    let announced = deps
        .store
        .add_sealing_key(
            tenant,
            &SealingKey {
                scope,
                version,
                public_key: keys.public,
                announcement: announcement.into(),
                created_at: deps.clock.now(),
            },
        )
        .await;
    if let Err(e) = announced {
        let _ = std::fs::remove_file(&out);
        return Err(bad(format!("cannot announce the key: {e}")));
    }
    audit(
        deps,
        tenant,
        &format!("{label}_key_announced"),
        &keys.public,
    )
    .await?;
    let summary = serde_json::json!({
        "kind": label,
        "version": version,
        "fingerprint": fingerprint(&keys.public),
        "file": out.display().to_string(),
    });
    if json {
        output::json(&summary)
    } else {
        output::line(&format!(
            "{label} key v{version} {}\nwritten to {} (sealed under your passphrase; without it the {label}'s history cannot be read)",
            fingerprint(&keys.public),
            out.display()
        ));
        Ok(())
    }
}

/// A team or archive key file opened with its passphrase.
pub(crate) struct OpenedSealingKey {
    /// Whose key.
    pub(crate) tenant: TenantId,
    /// A team key's team.
    pub(crate) team: Option<TeamId>,
    /// The key's version.
    pub(crate) version: u32,
    /// The 32 bytes the key pair is derived from (what a team-key wrap carries).
    pub(crate) ikm: zeroize::Zeroizing<Vec<u8>>,
    /// The key pair.
    pub(crate) keys: HpkeKeys,
    /// The root keys it was made under.
    pub(crate) roots: Vec<[u8; 32]>,
}

/// Opens a team or archive key file with its passphrase.
pub(crate) fn read_sealing_key(
    path: &Path,
    kind: &str,
    passphrase: &SecretString,
) -> anyhow::Result<OpenedSealingKey> {
    let text = std::fs::read(path)
        .map_err(|e| Failure::new(NO_INPUT, format!("cannot read {}: {e}", path.display())))?;
    let file: KeyFile = serde_json::from_slice(&text)
        .map_err(|_| bad(format!("{} is not a Sealdesk key file", path.display())))?;
    if file.kind != kind {
        return Err(bad(format!("{} is not an {kind} key", path.display())));
    }
    let sealed = STANDARD
        .decode(&file.sealed_seed)
        .map_err(|_| bad("the key file is damaged"))?;
    let ikm = passphrase::open(&sealed, passphrase).map_err(|e| bad(e.to_string()))?;
    let keys = derive_keys(&ikm)?;
    if STANDARD.encode(keys.public) != file.public_key {
        return Err(bad("the key file is damaged (public key mismatch)"));
    }
    let roots = file
        .roots
        .iter()
        .map(|r| {
            STANDARD
                .decode(r)
                .ok()
                .and_then(|k| <[u8; 32]>::try_from(k).ok())
                .ok_or_else(|| bad("the key file is damaged (root keys)"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let version = file
        .version
        .ok_or_else(|| bad("the key file has no version"))?;
    Ok(OpenedSealingKey {
        tenant: file.tenant,
        team: file.team,
        version,
        ikm,
        keys,
        roots,
    })
}
