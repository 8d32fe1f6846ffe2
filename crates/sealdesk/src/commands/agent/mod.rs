//! `sealdesk agent …`: the terminal agent, for people who live in a terminal (E2EE.md §3).
//! Today: its device. `enrol` makes the device's keys on this machine (an Ed25519 signature
//! key and an X25519 wrap key), keeps them sealed in the profile directory, registers the
//! public halves and prints the fingerprint for the admin to confirm; `status` fetches the
//! certificate once an admin confirmed it, checks it against the root key pinned at
//! enrolment, and opens the team keys wrapped to the device (checking each against its signed
//! announcement). Conversations, internal notes and canned responses follow (`chat`,
//! `membership`, `rekey`, `content`).

mod carry;
mod chat;
mod content;
mod device;
mod membership;
mod rekey;
mod state;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sealdesk_core::random::Random as _;
use sealdesk_crypto::OsRandom;
use sealdesk_mls::DeviceSigner;
use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::KeyKind;
use sealdesk_mls::certs::{self, TrustAnchor};
use sealdesk_mls::seal::{self, SealContext};
use sealdesk_server::app::devices::fingerprint;
use secrecy::SecretString;

use self::state::{DeviceFile, Secrets, TeamKey};
use super::session::{client_for, fail, stdin_lines};
use crate::exit::{DATA_ERR, Failure};
use crate::output;

/// `sealdesk agent …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AgentCommand {
    /// Make this terminal's device keys, register them and print the fingerprint an admin
    /// confirms. Standard input: a new passphrase for the keys kept in the profile.
    Enrol {
        /// Profile directory of a `sealdesk login`.
        #[arg(long)]
        profile: PathBuf,
        /// What to call this device ("Jane's terminal").
        #[arg(long)]
        label: String,
        /// The tenant's root key(s) as in the widget snippet (`ed25519:…`, comma separated),
        /// from your admin: the only keys this device will trust.
        #[arg(long)]
        tenant_key: String,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// The queue of your teams, with a preview read through each conversation's History
    /// Member. Standard input: the passphrase.
    Queue {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// A conversation's whole history, read through its History Member (team members;
    /// closed conversations too). Standard input: the passphrase.
    History {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The conversation.
        #[arg(long)]
        conversation: String,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Take a conversation from the queue. Standard input: the passphrase.
    Accept {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The conversation.
        #[arg(long)]
        conversation: String,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Hand a conversation to another agent (this device adds theirs; their client then
    /// removes yours), or to another team's queue (`--team`: the widget adds whoever takes
    /// it, who then removes yours and re-keys the History Member with `agent rekey`).
    /// Standard input: the passphrase.
    Transfer {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The conversation.
        #[arg(long)]
        conversation: String,
        /// The agent's staff id.
        #[arg(long, required_unless_present = "team", conflicts_with = "team")]
        to: Option<String>,
        /// Another team's id: the conversation goes to its queue.
        #[arg(long)]
        team: Option<String>,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Join a colleague's conversation as a supervisor (the assignee's client adds this
    /// device). Standard input: the passphrase.
    Supervise {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The conversation.
        #[arg(long)]
        conversation: String,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Print a conversation's new messages (joining it once the visitor's widget added this
    /// device). Standard input: the passphrase.
    Read {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The conversation.
        #[arg(long)]
        conversation: String,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Send a message. Standard input: the passphrase, then the message (one line).
    Send {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The conversation.
        #[arg(long)]
        conversation: String,
        /// Read the passphrase and the message from standard input (required).
        #[arg(long)]
        stdin: bool,
    },
    /// Add an internal note to a conversation: staff only, never shown to the visitor, sealed
    /// to the team key and the archive key. Standard input: the passphrase, then the note
    /// (one line).
    Note {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The conversation.
        #[arg(long)]
        conversation: String,
        /// Read the passphrase and the note from standard input (required).
        #[arg(long)]
        stdin: bool,
    },
    /// A conversation's internal notes, decrypted, each with its verified author. Standard
    /// input: the passphrase.
    Notes {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The conversation.
        #[arg(long)]
        conversation: String,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// A team's canned responses: list, add, delete (end-to-end encrypted to the team key).
    #[command(subcommand)]
    Canned(content::CannedCommand),
    /// After a team key rotation: replace the History Member of your open conversations (or
    /// the ones named) whose bundle is sealed to an older team key, so a removed team member
    /// cannot read what follows. Standard input: the passphrase.
    Rekey {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// Only these conversations (repeat the flag); default: every open conversation
        /// assigned to you.
        #[arg(long)]
        conversation: Vec<String>,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Whether an admin certified this device; once certified, verify the certificate and
    /// open the team keys wrapped to it. Standard input: the passphrase.
    Status {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
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

/// The root keys of `--tenant-key`: `ed25519:…` values, comma separated, or the whole
/// snippet attribute (`data-sealdesk-tenant-key="…"`) as `sealdesk admin keys list` prints it.
fn root_keys(text: &str) -> anyhow::Result<Vec<[u8; 32]>> {
    let text = text
        .trim()
        .trim_start_matches("data-sealdesk-tenant-key=")
        .trim_matches('"');
    let keys: Vec<[u8; 32]> = text
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            let raw = k.strip_prefix("ed25519:").unwrap_or(k);
            URL_SAFE_NO_PAD
                .decode(raw.trim_end_matches('='))
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                .ok_or_else(|| bad(format!("{k:?} is not a tenant root key (ed25519:…)")))
        })
        .collect::<anyhow::Result<_>>()?;
    if keys.is_empty() {
        return Err(bad("--tenant-key names no key"));
    }
    Ok(keys)
}

fn conversation_id(raw: &str) -> anyhow::Result<sealdesk_proto::ConversationId> {
    raw.parse()
        .map_err(|_| bad("--conversation must be a conversation id"))
}

async fn opened(dir: &Path) -> anyhow::Result<device::Opened> {
    let [pass] = stdin_lines(["this device's passphrase"])?;
    device::Opened::open(dir, SecretString::from(pass)).await
}

/// `agent transfer`: to an agent (`--to`) or to another team's queue (`--team`).
async fn transfer(
    profile: &Path,
    conversation: &str,
    to: Option<String>,
    team: Option<String>,
) -> anyhow::Result<()> {
    let id = conversation_id(conversation)?;
    if let Some(team) = team {
        let team = team.parse().map_err(|_| bad("--team must be a team id"))?;
        let mut dev = opened(profile).await?;
        return membership::transfer_to_team(&mut dev, id, team).await;
    }
    let to = to
        .unwrap_or_default()
        .parse()
        .map_err(|_| bad("--to must be a staff id"))?;
    let mut dev = opened(profile).await?;
    membership::transfer(&mut dev, id, to).await
}

pub(crate) async fn run(cmd: AgentCommand) -> anyhow::Result<()> {
    match cmd {
        AgentCommand::Enrol {
            profile,
            label,
            tenant_key,
            passphrase_stdin,
        } => {
            require_stdin(passphrase_stdin)?;
            enrol(&profile, &label, &tenant_key).await
        }
        AgentCommand::Queue {
            profile,
            passphrase_stdin,
        } => {
            require_stdin(passphrase_stdin)?;
            let dev = opened(&profile).await?;
            chat::queue(&dev).await
        }
        AgentCommand::History {
            profile,
            conversation,
            passphrase_stdin,
        } => {
            require_stdin(passphrase_stdin)?;
            let dev = opened(&profile).await?;
            chat::history(&dev, conversation_id(&conversation)?).await
        }
        AgentCommand::Accept {
            profile,
            conversation,
            passphrase_stdin,
        } => {
            require_stdin(passphrase_stdin)?;
            let mut dev = opened(&profile).await?;
            chat::accept(&mut dev, conversation_id(&conversation)?).await
        }
        AgentCommand::Transfer {
            profile,
            conversation,
            to,
            team,
            passphrase_stdin,
        } => {
            require_stdin(passphrase_stdin)?;
            transfer(&profile, &conversation, to, team).await
        }
        AgentCommand::Supervise {
            profile,
            conversation,
            passphrase_stdin,
        } => {
            require_stdin(passphrase_stdin)?;
            let mut dev = opened(&profile).await?;
            membership::supervise(&mut dev, conversation_id(&conversation)?).await
        }
        AgentCommand::Read {
            profile,
            conversation,
            passphrase_stdin,
        } => {
            require_stdin(passphrase_stdin)?;
            let mut dev = opened(&profile).await?;
            chat::read(&mut dev, conversation_id(&conversation)?).await
        }
        AgentCommand::Send {
            profile,
            conversation,
            stdin,
        } => {
            require_stdin(stdin)?;
            let [pass, text] = stdin_lines(["this device's passphrase", "the message"])?;
            let mut dev = device::Opened::open(&profile, SecretString::from(pass)).await?;
            chat::send(&mut dev, conversation_id(&conversation)?, &text).await
        }
        AgentCommand::Note {
            profile,
            conversation,
            stdin,
        } => {
            require_stdin(stdin)?;
            let [pass, text] = stdin_lines(["this device's passphrase", "the note"])?;
            let dev = device::Opened::open(&profile, SecretString::from(pass)).await?;
            content::add_note(&dev, conversation_id(&conversation)?, &text).await
        }
        AgentCommand::Notes {
            profile,
            conversation,
            passphrase_stdin,
        } => {
            require_stdin(passphrase_stdin)?;
            let dev = opened(&profile).await?;
            content::notes(&dev, conversation_id(&conversation)?).await
        }
        AgentCommand::Canned(cmd) => content::run_canned(cmd).await,
        AgentCommand::Rekey {
            profile,
            conversation,
            passphrase_stdin,
        } => {
            require_stdin(passphrase_stdin)?;
            let ids = conversation
                .iter()
                .map(|c| conversation_id(c))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut dev = opened(&profile).await?;
            rekey::rekey(&mut dev, &ids).await
        }
        AgentCommand::Status {
            profile,
            passphrase_stdin,
            json,
        } => {
            require_stdin(passphrase_stdin)?;
            status(&profile, json).await
        }
    }
}

async fn enrol(dir: &Path, label: &str, tenant_key: &str) -> anyhow::Result<()> {
    let roots = root_keys(tenant_key)?;
    if dir.join("device.json").exists() {
        return Err(bad(
            "this profile already has a device: `sealdesk agent status`, or revoke it and use a new profile",
        ));
    }
    let (client, profile) = client_for(dir)?;
    let [pass] = stdin_lines(["a new passphrase for this device's keys"])?;
    if pass.chars().count() < 12 {
        return Err(bad("use a passphrase of at least 12 characters"));
    }
    let pass = SecretString::from(pass);
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    OsRandom.fill(seed.as_mut_slice());
    let mut wrap_ikm = zeroize::Zeroizing::new([0u8; 32]);
    OsRandom.fill(wrap_ikm.as_mut_slice());
    let signer = DeviceSigner::from_seed(seed.as_slice())?;
    let signature_key: [u8; 32] = signer
        .public()
        .try_into()
        .map_err(|_| anyhow::anyhow!("Ed25519 keys are 32 bytes"))?;
    let wrap = seal::derive_keys(wrap_ikm.as_slice())?;
    let view = client
        .request_device(label, &signature_key, &wrap.public)
        .await
        .map_err(fail)?;
    let mut file = DeviceFile {
        tenant: profile.tenant_id,
        device_id: view.id,
        label: label.to_owned(),
        signature_key: STANDARD.encode(signature_key),
        wrap_key: STANDARD.encode(wrap.public),
        roots: roots
            .iter()
            .map(|k| format!("ed25519:{}", URL_SAFE_NO_PAD.encode(k)))
            .collect(),
        sealed: String::new(),
    };
    let secrets = Secrets {
        signature_seed: STANDARD.encode(seed.as_slice()),
        wrap_ikm: STANDARD.encode(wrap_ikm.as_slice()),
        team_keys: Vec::new(),
        key_packages: Vec::new(),
        conversations: Vec::new(),
    };
    file.save(dir, &secrets, &pass, &OsRandom)?;
    let local = fingerprint(&signature_key, &wrap.public);
    if local != view.fingerprint {
        return Err(bad(
            "the server reports another fingerprint than this device's keys",
        ));
    }
    output::line(&format!(
        "device {} registered, waiting for an admin",
        view.id
    ));
    output::line(&format!("fingerprint: {local}"));
    output::line("read it to your admin; then run `sealdesk agent status`");
    Ok(())
}

/// The team keys wrapped to this device, each opened and checked against its announcement.
async fn open_wraps(
    client: &sealdesk_client::Client,
    file: &DeviceFile,
    anchor: &TrustAnchor,
    issuer: [u8; 32],
    secrets: &Secrets,
) -> anyhow::Result<Vec<TeamKey>> {
    let wraps = client.my_key_wraps(file.device_id).await.map_err(fail)?;
    let announced = client.sealing_keys(file.tenant).await.map_err(fail)?;
    let wrap_ikm = STANDARD
        .decode(&secrets.wrap_ikm)
        .map_err(|_| bad("device.json is damaged"))?;
    let wrap = seal::derive_keys(&wrap_ikm)?;
    let mut keys = Vec::new();
    for w in &wraps.wraps {
        let context = SealContext {
            purpose: "team-key-wrap",
            tenant: anchor.tenant,
            team: *w.team_id.as_uuid().as_bytes(),
            key_version: w.version,
            recipient: wrap.public,
        };
        let sealed = STANDARD
            .decode(&w.sealed)
            .map_err(|_| bad("a wrap is not base64"))?;
        // Sealed by the issuing key that certified this device (E2EE.md §3).
        let ikm = seal::open(&sealed, &context, &wrap.private, &issuer)?;
        let public = seal::derive_keys(&ikm)?.public;
        let matches = announced.keys.iter().any(|k| {
            STANDARD
                .decode(&k.announcement)
                .ok()
                .and_then(|a| Announcement::verify(&a, anchor).ok())
                .is_some_and(|a| {
                    a.kind == KeyKind::Team
                        && a.team == context.team
                        && a.version == w.version
                        && a.public == public
                })
        });
        if !matches {
            return Err(bad(format!(
                "the wrap of team {} version {} is not the announced key",
                w.team_id, w.version
            )));
        }
        keys.push(TeamKey {
            team: w.team_id,
            version: w.version,
            ikm: STANDARD.encode(ikm.as_slice()),
        });
    }
    Ok(keys)
}

/// Opens the team keys wrapped to this (certified) device and keeps them in the profile.
/// Returns how many it holds.
async fn refresh_team_keys(dev: &mut device::Opened) -> anyhow::Result<usize> {
    let chain = dev.chain()?;
    let issuer = certs::chain_issuer(chain).ok_or_else(|| bad("the certificate is malformed"))?;
    let keys = open_wraps(&dev.http, &dev.file, &dev.anchor, issuer, &dev.secrets).await?;
    let count = keys.len();
    if keys != dev.secrets.team_keys {
        dev.secrets.team_keys = keys;
        dev.save()?;
    }
    Ok(count)
}

async fn status(dir: &Path, json: bool) -> anyhow::Result<()> {
    let mut dev = opened(dir).await?;
    let mut team_keys = 0;
    let mut key_packages = 0;
    if dev.chain.is_some() {
        team_keys = refresh_team_keys(&mut dev).await?;
        key_packages = dev.refill_key_packages().await?;
    }
    let summary = serde_json::json!({
        "device": dev.file.device_id,
        "status": dev.status,
        "fingerprint": dev.fingerprint,
        "team_keys": team_keys,
        "key_packages": key_packages,
    });
    if json {
        output::json(&summary)
    } else {
        output::line(&format!(
            "device {} {} ({}); {team_keys} team key(s), {key_packages} key package(s) published",
            dev.file.device_id, dev.status, dev.fingerprint
        ));
        Ok(())
    }
}
