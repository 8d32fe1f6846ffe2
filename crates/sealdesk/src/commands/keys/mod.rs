//! `sealdesk admin keys …`: the tenant owner's key steps (E2EE.md §3). The root key is made
//! here and written to a file sealed under the owner's passphrase (`sealdesk_crypto::
//! passphrase`); only its public half reaches the server, as the trust anchor the delivery
//! service checks certificate chains against. Issuing keys are certified by the root, device
//! keys by an issuing key (`sealdesk_mls::certs`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sealdesk_core::audit::{Actor, AuditAction, AuditEvent};
use sealdesk_crypto::passphrase::{self, Cost};
use sealdesk_mls::DeviceSigner;
use sealdesk_mls::certs::{CertBody, Certificate, Role, encode_chain};
use sealdesk_proto::TenantId;
use sealdesk_server::app::tenancy::Deps;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::cli::{KeysCertifyArgs, KeysCommand, KeysIssueArgs};
use crate::exit::{DATA_ERR, Failure, NO_INPUT};
use crate::output;

pub(crate) mod enrol;
pub(crate) mod history;
mod rewrap;
pub(crate) mod sealing;

pub(crate) use enrol::KeysEnrolArgs;
pub(crate) use history::KeysHistoryArgs;
pub(crate) use rewrap::KeysRewrapArgs;

pub(crate) use sealing::{KeysSealingArgs, read_sealing_key};

/// A key file: the sealed Ed25519 seed, its public key and, for an issuing key, its
/// certificate.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    kind: String,
    tenant: TenantId,
    public_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate: Option<String>,
    /// A team or archive key's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    /// A team key's team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    team: Option<sealdesk_proto::TeamId>,
    /// For a team or archive key: the tenant root keys it was made under (base64), the
    /// trust anchor its holder checks chains against (never taken from the server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roots: Vec<String>,
    sealed_seed: String,
}

const DAY: u64 = 86_400;

/// Where key passphrases come from: standard input (the CLI), or given by the caller (the
/// demo's own key ceremony). Never the command line.
pub(crate) enum Secrets {
    /// One line of standard input per passphrase.
    Stdin,
    /// Given in order.
    Given(std::collections::VecDeque<String>),
}

impl Secrets {
    /// One passphrase per entry of `what` (names for the error message).
    pub(crate) fn lines(&mut self, what: &[&str]) -> anyhow::Result<Vec<String>> {
        match self {
            Secrets::Stdin => super::session::stdin_line_list(what),
            Secrets::Given(given) => what
                .iter()
                .map(|name| {
                    given
                        .pop_front()
                        .ok_or_else(|| anyhow::anyhow!("{name} was not given"))
                })
                .collect(),
        }
    }

    /// Exactly `N` passphrases.
    pub(crate) fn array<const N: usize>(&mut self, what: [&str; N]) -> anyhow::Result<[String; N]> {
        self.lines(&what)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("wrong number of passphrases"))
    }
}

fn bad(message: impl Into<String>) -> anyhow::Error {
    Failure::new(DATA_ERR, message).into()
}

fn require_stdin(flag: bool) -> anyhow::Result<()> {
    if flag {
        Ok(())
    } else {
        Err(bad(
            "pass the passphrase on standard input with --passphrase-stdin",
        ))
    }
}

/// SHA-256 of the public key, hex in groups of four (what an admin compares by voice).
fn fingerprint(public: &[u8]) -> String {
    let digest = passphrase::sha256(public);
    hex::encode(digest)
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The widget snippet attribute that pins the root key.
fn snippet(public: &[u8]) -> String {
    format!(
        "data-sealdesk-tenant-key=\"ed25519:{}\"",
        URL_SAFE_NO_PAD.encode(public)
    )
}

fn unix_now(deps: &Deps) -> u64 {
    u64::try_from(deps.clock.now().unix_timestamp()).unwrap_or(0)
}

fn write_new(path: &Path, file: &KeyFile) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            bad(format!(
                "cannot create {}: {e} (key files are never overwritten)",
                path.display()
            ))
        })?;
    out.write_all(&serde_json::to_vec_pretty(file)?)?;
    out.sync_all()?;
    Ok(())
}

fn read_key(
    path: &Path,
    tenant: TenantId,
    kind: &str,
    passphrase: &SecretString,
) -> anyhow::Result<(KeyFile, DeviceSigner)> {
    let text = std::fs::read(path)
        .map_err(|e| Failure::new(NO_INPUT, format!("cannot read {}: {e}", path.display())))?;
    let file: KeyFile = serde_json::from_slice(&text)
        .map_err(|_| bad(format!("{} is not a Sealdesk key file", path.display())))?;
    if file.kind != kind || file.tenant != tenant {
        return Err(bad(format!(
            "{} is not this tenant's {kind} key",
            path.display()
        )));
    }
    let sealed = STANDARD
        .decode(&file.sealed_seed)
        .map_err(|_| bad("the key file is damaged"))?;
    let seed = passphrase::open(&sealed, passphrase).map_err(|e| bad(e.to_string()))?;
    let signer = DeviceSigner::from_seed(&seed)?;
    if STANDARD.encode(signer.public()) != file.public_key {
        return Err(bad("the key file is damaged (public key mismatch)"));
    }
    Ok((file, signer))
}

fn sealed_file(
    deps: &Deps,
    kind: &str,
    tenant: TenantId,
    signer: &DeviceSigner,
    certificate: Option<&[u8]>,
    passphrase: &SecretString,
) -> anyhow::Result<KeyFile> {
    let sealed = passphrase::seal(
        signer.seed().as_slice(),
        passphrase,
        Cost::RECOMMENDED,
        deps.random.as_ref(),
    )
    .map_err(|e| anyhow::anyhow!("cannot seal the key: {e}"))?;
    Ok(KeyFile {
        kind: kind.into(),
        tenant,
        public_key: STANDARD.encode(signer.public()),
        certificate: certificate.map(|c| STANDARD.encode(c)),
        version: None,
        team: None,
        roots: Vec::new(),
        sealed_seed: STANDARD.encode(sealed),
    })
}

async fn audit(
    deps: &Deps,
    tenant: TenantId,
    operation: &str,
    public: &[u8],
) -> anyhow::Result<()> {
    let event = AuditEvent {
        at: deps.clock.now(),
        tenant: Some(tenant),
        actor: Actor::Operator,
        action: AuditAction::KeyOperation,
        target: None,
        details: [
            ("operation".to_owned(), operation.to_owned()),
            ("fingerprint".to_owned(), fingerprint(public)),
        ]
        .into(),
        ip: None,
    };
    deps.store.append_audit(&event).await?;
    Ok(())
}

fn tenant_id(raw: &str) -> anyhow::Result<TenantId> {
    raw.parse().map_err(|_| bad("--tenant must be a tenant id"))
}

pub(crate) async fn run(deps: &Deps, cmd: KeysCommand, json: bool) -> anyhow::Result<()> {
    let secrets = &mut Secrets::Stdin;
    match cmd {
        KeysCommand::Init {
            tenant,
            out,
            passphrase_stdin,
        } => init(deps, secrets, json, tenant, out, passphrase_stdin).await,
        KeysCommand::Issue(args) => issue(deps, secrets, json, args).await,
        KeysCommand::Certify(args) => certify(deps, secrets, json, args).await,
        KeysCommand::Enrol(args) => enrol::enrol(deps, secrets, json, args).await,
        KeysCommand::HistoryPool(args) => history::fill(deps, secrets, json, args).await,
        KeysCommand::Rewrap(args) => rewrap::rewrap(deps, secrets, json, args).await,
        KeysCommand::Devices { tenant, status } => enrol::devices(deps, json, tenant, status).await,
        KeysCommand::List { tenant } => list(deps, json, tenant).await,
        KeysCommand::Archive(args) => sealing::create(deps, secrets, json, args, None).await,
        KeysCommand::Team { team, args } => {
            sealing::create(deps, secrets, json, args, Some(team)).await
        }
    }
}

pub(crate) async fn init(
    deps: &Deps,
    secrets: &mut Secrets,
    json: bool,
    tenant: String,
    out: PathBuf,
    passphrase_stdin: bool,
) -> anyhow::Result<()> {
    require_stdin(passphrase_stdin)?;
    let tenant = tenant_id(&tenant)?;
    deps.store
        .get_tenant(tenant)
        .await
        .map_err(|_| Failure::new(NO_INPUT, "no such tenant"))?;
    let [pass] = secrets.array(["the new root key's passphrase"])?;
    let root = DeviceSigner::generate(|seed| deps.random.fill(seed))?;
    write_new(
        &out,
        &sealed_file(deps, "root", tenant, &root, None, &SecretString::from(pass))?,
    )?;
    let public: [u8; 32] = root
        .public()
        .try_into()
        .map_err(|_| anyhow::anyhow!("Ed25519 keys are 32 bytes"))?;
    deps.store
        .add_root_key(tenant, public, deps.clock.now())
        .await?;
    audit(deps, tenant, "root_key_added", &public).await?;
    report_key(json, "root key", &public, Some(&out))
}

pub(crate) async fn issue(
    deps: &Deps,
    secrets: &mut Secrets,
    json: bool,
    args: KeysIssueArgs,
) -> anyhow::Result<()> {
    let KeysIssueArgs {
        tenant,
        root,
        out,
        label,
        days,
        passphrase_stdin,
    } = args;
    require_stdin(passphrase_stdin)?;
    let tenant = tenant_id(&tenant)?;
    let [root_pass, new_pass] =
        secrets.array(["the root key's passphrase", "the issuing key's passphrase"])?;
    let (_, root) = read_key(&root, tenant, "root", &SecretString::from(root_pass))?;
    let issuing = DeviceSigner::generate(|seed| deps.random.fill(seed))?;
    let now = unix_now(deps);
    let cert = CertBody {
        role: Role::Issuing,
        tenant: *tenant.as_uuid().as_bytes(),
        team: [0; 16],
        subject: issuing
            .public()
            .try_into()
            .map_err(|_| anyhow::anyhow!("Ed25519 keys are 32 bytes"))?,
        not_before: now.saturating_sub(300),
        not_after: now + u64::from(days) * DAY,
        label,
    }
    .sign(&root)
    .map_err(|e| bad(e.to_string()))?;
    write_new(
        &out,
        &sealed_file(
            deps,
            "issuing",
            tenant,
            &issuing,
            Some(&cert),
            &SecretString::from(new_pass),
        )?,
    )?;
    audit(deps, tenant, "issuing_key_created", &issuing.public()).await?;
    report_key(json, "issuing key", &issuing.public(), Some(&out))
}

async fn certify(
    deps: &Deps,
    secrets: &mut Secrets,
    json: bool,
    args: KeysCertifyArgs,
) -> anyhow::Result<()> {
    let KeysCertifyArgs {
        tenant,
        issuing,
        role,
        label,
        subject,
        team,
        days,
        passphrase_stdin,
    } = args;
    require_stdin(passphrase_stdin)?;
    let tenant = tenant_id(&tenant)?;
    let [pass] = secrets.array(["the issuing key's passphrase"])?;
    let (file, signer) = read_key(&issuing, tenant, "issuing", &SecretString::from(pass))?;
    let issuing_cert = STANDARD
        .decode(file.certificate.as_deref().unwrap_or_default())
        .map_err(|_| bad("the issuing key file lacks its certificate"))?;
    let parent = Certificate::decode(&issuing_cert).map_err(|e| bad(e.to_string()))?;
    let role = match role.as_str() {
        "agent" => Role::Agent,
        "supervisor" => Role::Supervisor,
        "history" => Role::History,
        _ => return Err(bad("--role must be agent, supervisor or history")),
    };
    let team = match (role, team) {
        (Role::History, Some(t)) => *t
            .parse::<sealdesk_proto::TeamId>()
            .map_err(|_| bad("--team must be a team id"))?
            .as_uuid()
            .as_bytes(),
        (Role::History, None) => {
            return Err(bad("a History Member certificate needs --team"));
        }
        (_, Some(_)) => return Err(bad("--team is only for --role history")),
        (_, None) => [0; 16],
    };
    let subject: [u8; 32] = STANDARD
        .decode(subject.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| bad("--subject must be a base64 Ed25519 public key (32 bytes)"))?;
    let now = unix_now(deps);
    let cert = CertBody {
        role,
        tenant: *tenant.as_uuid().as_bytes(),
        team,
        subject,
        not_before: now.saturating_sub(300).max(parent.body.not_before),
        not_after: (now + u64::from(days) * DAY).min(parent.body.not_after),
        label,
    }
    .sign(&signer)
    .map_err(|e| bad(e.to_string()))?;
    let chain = encode_chain(&cert, &issuing_cert)?;
    audit(deps, tenant, "device_certified", &subject).await?;
    let summary = serde_json::json!({
        "credential": STANDARD.encode(&chain),
        "subject_fingerprint": fingerprint(&subject),
    });
    if json {
        output::json(&summary)
    } else {
        output::line(&format!(
            "device {}\ncredential {}",
            fingerprint(&subject),
            STANDARD.encode(&chain)
        ));
        Ok(())
    }
}

async fn list(deps: &Deps, json: bool, tenant: String) -> anyhow::Result<()> {
    let tenant = tenant_id(&tenant)?;
    let keys = deps
        .store
        .root_keys(tenant)
        .await
        .context("cannot read the root keys")?;
    let list: Vec<_> = keys
        .iter()
        .map(|k| serde_json::json!({ "fingerprint": fingerprint(k), "snippet": snippet(k) }))
        .collect();
    if json {
        output::json(&list)
    } else {
        for k in &keys {
            output::line(&format!("{}  {}", fingerprint(k), snippet(k)));
        }
        Ok(())
    }
}

fn report_key(json: bool, what: &str, public: &[u8], file: Option<&Path>) -> anyhow::Result<()> {
    let summary = serde_json::json!({
        "fingerprint": fingerprint(public),
        "snippet": snippet(public),
        "file": file.map(|f| f.display().to_string()),
    });
    if json {
        output::json(&summary)
    } else {
        output::line(&format!(
            "{what} {}\nwritten to {} (sealed under your passphrase; keep it offline)\nwidget snippet attribute: {}",
            fingerprint(public),
            file.map(|f| f.display().to_string()).unwrap_or_default(),
            snippet(public)
        ));
        Ok(())
    }
}
