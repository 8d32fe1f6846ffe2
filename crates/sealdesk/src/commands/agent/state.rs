//! The terminal agent's device in its profile directory (`device.json`, mode 0600 in a 0700
//! directory): the public half in the clear, the private keys and the team keys it received
//! sealed under the person's passphrase (Argon2id + XChaCha20-Poly1305,
//! `sealdesk_crypto::passphrase`), so a copied profile gives nothing without it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_crypto::passphrase::{self, Cost};
use sealdesk_proto::{DeviceId, TeamId, TenantId};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::exit::{DATA_ERR, Failure, NO_INPUT};

/// `device.json`.
#[derive(Serialize, Deserialize)]
pub(crate) struct DeviceFile {
    pub(crate) tenant: TenantId,
    pub(crate) device_id: DeviceId,
    pub(crate) label: String,
    /// Ed25519 public key, base64.
    pub(crate) signature_key: String,
    /// X25519 public key, base64.
    pub(crate) wrap_key: String,
    /// The tenant root keys this device trusts (`ed25519:<base64url>`, from the snippet line
    /// the admin gave), never taken from the server.
    pub(crate) roots: Vec<String>,
    /// [`Secrets`], sealed under the passphrase.
    pub(crate) sealed: String,
}

/// What only the device may know.
#[derive(Serialize, Deserialize)]
pub(crate) struct Secrets {
    /// The Ed25519 seed (base64).
    pub(crate) signature_seed: String,
    /// The 32 bytes the X25519 wrap key is derived from (base64).
    pub(crate) wrap_ikm: String,
    /// Team keys received as wraps.
    #[serde(default)]
    pub(crate) team_keys: Vec<TeamKey>,
    /// Key packages published and not used yet: each one's MLS client, saved.
    #[serde(default)]
    pub(crate) key_packages: Vec<PendingKeyPackage>,
    /// Conversations this device is a member of.
    #[serde(default)]
    pub(crate) conversations: Vec<Conversation>,
}

/// A published key package waiting for a Welcome.
#[derive(Serialize, Deserialize)]
pub(crate) struct PendingKeyPackage {
    /// Its reference (RFC 9420 §5.2), base64.
    pub(crate) hash_ref: String,
    /// The MLS client that made it (`sealdesk_mls::Client::save`), base64.
    pub(crate) client: String,
}

/// This device's state in one conversation.
#[derive(Serialize, Deserialize)]
pub(crate) struct Conversation {
    pub(crate) id: sealdesk_proto::ConversationId,
    /// The MLS client in the conversation's group, saved (base64).
    pub(crate) client: String,
    /// The last log entry processed.
    pub(crate) cursor: u64,
    /// What this device sent, by client message id (its own messages cannot be decrypted
    /// from the log: MLS senders do not hold their own message keys).
    #[serde(default)]
    pub(crate) sent: Vec<(String, String)>,
    /// Client ids of the commits this device made and merged: skipped when the log brings
    /// them back.
    #[serde(default)]
    pub(crate) own_commits: Vec<String>,
}

/// A team key the device opened from its wrap.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
pub(crate) struct TeamKey {
    pub(crate) team: TeamId,
    pub(crate) version: u32,
    /// The 32-byte seed of the key pair (base64).
    pub(crate) ikm: String,
}

fn path(dir: &Path) -> PathBuf {
    dir.join("device.json")
}

impl DeviceFile {
    /// Reads `device.json`.
    pub(crate) fn load(dir: &Path) -> anyhow::Result<Self> {
        let file = path(dir);
        let text = std::fs::read(&file).map_err(|e| {
            Failure::new(
                NO_INPUT,
                format!(
                    "no device in {} ({e}): run `sealdesk agent enrol` first",
                    dir.display()
                ),
            )
        })?;
        serde_json::from_slice(&text)
            .map_err(|_| Failure::new(DATA_ERR, "device.json is damaged").into())
    }

    /// Opens the secrets with the passphrase.
    pub(crate) fn open(&self, pass: &SecretString) -> anyhow::Result<Secrets> {
        let sealed = STANDARD
            .decode(&self.sealed)
            .map_err(|_| Failure::new(DATA_ERR, "device.json is damaged"))?;
        let plain =
            passphrase::open(&sealed, pass).map_err(|e| Failure::new(DATA_ERR, e.to_string()))?;
        serde_json::from_slice(&plain).context("device.json's secrets are damaged")
    }

    /// Seals `secrets` into the file and writes it atomically (temporary file, fsync,
    /// rename; never readable by others).
    pub(crate) fn save(
        &mut self,
        dir: &Path,
        secrets: &Secrets,
        pass: &SecretString,
        random: &dyn sealdesk_core::random::Random,
    ) -> anyhow::Result<()> {
        let plain = Zeroizing::new(serde_json::to_vec(secrets)?);
        let sealed = passphrase::seal(&plain, pass, Cost::RECOMMENDED, random)
            .map_err(|e| anyhow::anyhow!("cannot seal the device's keys: {e}"))?;
        self.sealed = STANDARD.encode(sealed);
        crate::profile::write_private(dir, "device.json", &serde_json::to_vec_pretty(self)?)
    }
}

/// The secrets are wiped from memory when dropped.
impl Drop for Secrets {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.signature_seed.zeroize();
        self.wrap_ikm.zeroize();
        for key in &mut self.team_keys {
            key.ikm.zeroize();
        }
        for kp in &mut self.key_packages {
            kp.client.zeroize();
        }
        for c in &mut self.conversations {
            c.client.zeroize();
            for (_, text) in &mut c.sent {
                text.zeroize();
            }
        }
    }
}
