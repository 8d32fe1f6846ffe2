//! `sealdesk admin keys enrol`: the admin's side of device enrolment (E2EE.md §3). The admin
//! reads the fingerprint the device shows and types it here; only when it matches the keys
//! the device registered is its signature key certified with the issuing key, and the team
//! keys given are wrapped to its wrap key (HPKE, signed by the issuing key), so the server
//! never sees a team key. The chain is checked against the tenant's roots before it is stored.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sealdesk_mls::certs::{self, CertBody, Certificate, Role, TrustAnchor, Verified, encode_chain};
use sealdesk_mls::seal::{self, SealContext};
use sealdesk_proto::{DeviceId, TenantId};
use sealdesk_server::app::devices::fingerprint;
use sealdesk_server::app::tenancy::Deps;
use sealdesk_store::{DeviceDecision, DeviceStatus, KeyWrap};
use secrecy::SecretString;

use super::{DAY, bad, read_key, read_sealing_key, tenant_id, unix_now};
use crate::exit::{Failure, NO_INPUT};
use crate::output;

/// `sealdesk admin keys enrol` flags.
#[derive(Debug, clap::Args)]
pub(crate) struct KeysEnrolArgs {
    /// Tenant id.
    #[arg(long)]
    pub(crate) tenant: String,
    /// The pending device's id (`sealdesk admin keys devices`, or the console).
    #[arg(long)]
    pub(crate) device: String,
    /// The fingerprint the device shows, as you read it (groups of four hex digits).
    #[arg(long)]
    pub(crate) fingerprint: String,
    /// The issuing key file.
    #[arg(long)]
    pub(crate) issuing: PathBuf,
    /// agent or supervisor.
    #[arg(long, default_value = "agent")]
    pub(crate) role: String,
    /// The name customers see (default: the staff member's display name).
    #[arg(long)]
    pub(crate) label: Option<String>,
    /// Certificate validity in days (at most the issuing key's remaining validity).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub(crate) days: u32,
    /// A team key file to wrap to the device (repeat for several teams or versions).
    #[arg(long = "team-key")]
    pub(crate) team_keys: Vec<PathBuf>,
    /// Read the passphrases from standard input, one per line: the issuing key's, then each
    /// team key file's in order (required).
    #[arg(long)]
    pub(crate) passphrase_stdin: bool,
}

fn normalized(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Certifies a pending device after the fingerprint check and wraps team keys to it.
pub(crate) async fn enrol(
    deps: &Deps,
    secrets: &mut super::Secrets,
    json: bool,
    args: KeysEnrolArgs,
) -> anyhow::Result<()> {
    super::require_stdin(args.passphrase_stdin)?;
    let tenant = tenant_id(&args.tenant)?;
    let id: DeviceId = args
        .device
        .parse()
        .map_err(|_| bad("--device must be a device id"))?;
    let device = deps
        .store
        .get_device(tenant, id.as_uuid())
        .await
        .map_err(|_| Failure::new(NO_INPUT, "no such device in this tenant"))?;
    if device.status != DeviceStatus::Pending {
        return Err(bad(format!(
            "the device is {}, not pending",
            device.status.as_str()
        )));
    }
    let expected = fingerprint(&device.signature_key, &device.wrap_key);
    if normalized(&args.fingerprint) != normalized(&expected) {
        return Err(bad(
            "the fingerprint does not match this device's keys: nothing was certified. Compare \
             it again with the device's screen (someone may have registered another device)",
        ));
    }
    let role = match args.role.as_str() {
        "agent" => Role::Agent,
        "supervisor" => Role::Supervisor,
        _ => return Err(bad("--role must be agent or supervisor")),
    };
    let label = match args.label {
        Some(l) => l,
        None => deps
            .store
            .get_staff(tenant, device.staff_id)
            .await?
            .display_name
            .to_string(),
    };
    let mut names = vec!["the issuing key's passphrase".to_owned()];
    names.extend(
        args.team_keys
            .iter()
            .map(|p| format!("the passphrase of {}", p.display())),
    );
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut passphrases = secrets.lines(&names)?.into_iter();
    let issuing_pass = passphrases.next().unwrap_or_default();
    let (file, signer) = read_key(
        &args.issuing,
        tenant,
        "issuing",
        &SecretString::from(issuing_pass),
    )?;
    let issuing_cert = STANDARD
        .decode(file.certificate.as_deref().unwrap_or_default())
        .map_err(|_| bad("the issuing key file lacks its certificate"))?;
    let parent = Certificate::decode(&issuing_cert).map_err(|e| bad(e.to_string()))?;
    let now = unix_now(deps);
    let cert = CertBody {
        role,
        tenant: *tenant.as_uuid().as_bytes(),
        team: [0; 16],
        subject: device.signature_key,
        not_before: now.saturating_sub(300).max(parent.body.not_before),
        not_after: (now + u64::from(args.days) * DAY).min(parent.body.not_after),
        label,
    }
    .sign(&signer)
    .map_err(|e| bad(e.to_string()))?;
    let chain = encode_chain(&cert, &issuing_cert)?;
    check_chain(deps, tenant, &chain, &device.signature_key, now).await?;

    // Wraps first: a device certified without its team keys would be half enrolled.
    let wraps = wrap_team_keys(deps, tenant, &device, &args.team_keys, passphrases, &signer)?;
    deps.store
        .decide_device(
            tenant,
            device.id,
            &DeviceDecision::Certify(Bytes::from(chain.clone())),
            None,
            deps.clock.now(),
        )
        .await?;
    super::audit(deps, tenant, "device_certified", &device.signature_key).await?;
    if !wraps.is_empty() {
        deps.store.add_key_wraps(tenant, &wraps).await?;
        super::audit(deps, tenant, "team_key_wrapped", &device.signature_key).await?;
    }
    let summary = serde_json::json!({
        "device": id,
        "status": "certified",
        "fingerprint": expected,
        "credential": STANDARD.encode(&chain),
        "wraps": wraps.len(),
    });
    if json {
        output::json(&summary)
    } else {
        output::line(&format!(
            "device {id} certified ({expected}); {} team key wrap(s) stored",
            wraps.len()
        ));
        Ok(())
    }
}

/// The chain must verify under the tenant's registered roots, for this very key.
async fn check_chain(
    deps: &Deps,
    tenant: TenantId,
    chain: &[u8],
    key: &[u8; 32],
    now: u64,
) -> anyhow::Result<()> {
    let roots = deps.store.root_keys(tenant).await?;
    let anchor = TrustAnchor {
        tenant: *tenant.as_uuid().as_bytes(),
        roots,
    };
    match certs::verify_identity(chain, key, &anchor, now) {
        Ok(Verified::Device(_)) => Ok(()),
        Ok(Verified::Visitor(_)) => Err(bad("not a device chain")),
        Err(e) => Err(bad(format!(
            "the issuing key does not chain to a registered root: {e}"
        ))),
    }
}

/// The tenant's devices, for the admin who enrols them.
pub(crate) async fn devices(
    deps: &Deps,
    json: bool,
    tenant: String,
    status: Option<String>,
) -> anyhow::Result<()> {
    let tenant = tenant_id(&tenant)?;
    let all = deps.store.list_devices(tenant, None).await?;
    let shown: Vec<_> = all
        .iter()
        .filter(|d| status.as_deref().is_none_or(|s| d.status.as_str() == s))
        .map(|d| {
            serde_json::json!({
                "id": DeviceId::from_uuid(d.id),
                "staff_id": d.staff_id,
                "label": d.label,
                "status": d.status.as_str(),
                "fingerprint": fingerprint(&d.signature_key, &d.wrap_key),
            })
        })
        .collect();
    if json {
        return output::json(&serde_json::json!({ "devices": shown }));
    }
    for d in &shown {
        output::line(&format!(
            "{}  {:<9}  {}  {}",
            d["id"].as_str().unwrap_or_default(),
            d["status"].as_str().unwrap_or_default(),
            d["fingerprint"].as_str().unwrap_or_default(),
            d["label"].as_str().unwrap_or_default()
        ));
    }
    Ok(())
}

/// Each team key file opened and its seed sealed to the device's wrap key, signed by the
/// issuing key (`SealContext` binds tenant, team, version and recipient).
fn wrap_team_keys(
    deps: &Deps,
    tenant: TenantId,
    device: &sealdesk_store::Device,
    paths: &[PathBuf],
    passphrases: impl Iterator<Item = String>,
    signer: &sealdesk_mls::DeviceSigner,
) -> anyhow::Result<Vec<KeyWrap>> {
    let mut wraps = Vec::new();
    for (path, pass) in paths.iter().zip(passphrases) {
        let key = read_sealing_key(path, "team", &SecretString::from(pass))?;
        let Some(team) = key.team.filter(|_| key.tenant == tenant) else {
            return Err(bad(format!(
                "{} is not a team key of this tenant",
                path.display()
            )));
        };
        let context = SealContext {
            purpose: "team-key-wrap",
            tenant: *tenant.as_uuid().as_bytes(),
            team: *team.as_uuid().as_bytes(),
            key_version: key.version,
            recipient: device.wrap_key,
        };
        let sealed = seal::seal(&device.wrap_key, &context, &key.ikm, signer)?;
        wraps.push(KeyWrap {
            device_id: device.id,
            team_id: team,
            version: key.version,
            sealed: Bytes::from(sealed),
            created_at: deps.clock.now(),
        });
    }
    Ok(wraps)
}
