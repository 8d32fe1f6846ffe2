//! The terminal's device, opened: its sealed secrets, its certificate checked under the pinned
//! root, an HTTP client with the profile's session, and the MLS clients it makes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sealdesk_client::Client;
use sealdesk_core::clock::{Clock as _, SystemClock};
use sealdesk_crypto::OsRandom;
use sealdesk_mls::certs::{self, ChainCheck, Role, TrustAnchor, Verified};
use sealdesk_mls::ds::check_key_package;
use sealdesk_mls::{Client as Mls, DeviceSigner, profile};
use sealdesk_server::app::key_packages::{LOW_WATER, MAX_LIFETIME_SECS};
use secrecy::SecretString;

use super::state::{DeviceFile, PendingKeyPackage, Secrets};
use crate::commands::session::{client_for, fail};
use crate::exit::{DATA_ERR, Failure};
use crate::profile::Profile;

fn bad(message: impl Into<String>) -> anyhow::Error {
    Failure::new(DATA_ERR, message).into()
}

pub(crate) fn now() -> u64 {
    u64::try_from(SystemClock.now().unix_timestamp()).unwrap_or(0)
}

/// The pinned roots of `device.json`.
pub(crate) fn pinned(file: &DeviceFile) -> anyhow::Result<TrustAnchor> {
    let roots = file
        .roots
        .iter()
        .map(|k| {
            URL_SAFE_NO_PAD
                .decode(k.trim_start_matches("ed25519:"))
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                .ok_or_else(|| bad("device.json is damaged (roots)"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(TrustAnchor {
        tenant: *file.tenant.as_uuid().as_bytes(),
        roots,
    })
}

/// An opened device.
pub(crate) struct Opened {
    dir: PathBuf,
    pub(crate) file: DeviceFile,
    pub(crate) secrets: Secrets,
    pass: SecretString,
    pub(crate) http: Client,
    pub(crate) profile: Profile,
    pub(crate) anchor: TrustAnchor,
    /// The device's owner.
    pub(crate) staff: sealdesk_proto::StaffId,
    /// `pending`, `certified` or `revoked`, as the server says.
    pub(crate) status: String,
    pub(crate) fingerprint: String,
    /// The certificate chain, once certified and verified.
    pub(crate) chain: Option<Vec<u8>>,
}

impl Opened {
    /// Loads the device, opens its secrets with the passphrase, asks the server for its state
    /// and, when certified, verifies the chain under the pinned root for this key.
    pub(crate) async fn open(dir: &Path, pass: SecretString) -> anyhow::Result<Self> {
        let file = DeviceFile::load(dir)?;
        let (http, profile) = client_for(dir)?;
        let secrets = file.open(&pass)?;
        let anchor = pinned(&file)?;
        let view = http
            .my_devices()
            .await
            .map_err(fail)?
            .devices
            .into_iter()
            .find(|d| d.id == file.device_id)
            .ok_or_else(|| bad("the server does not know this device any more"))?;
        let chain = if view.status == "certified" {
            let chain = STANDARD
                .decode(view.credential.as_deref().unwrap_or_default())
                .map_err(|_| bad("the certificate is not base64"))?;
            let key: [u8; 32] = STANDARD
                .decode(&file.signature_key)
                .ok()
                .and_then(|k| k.try_into().ok())
                .ok_or_else(|| bad("device.json is damaged"))?;
            match certs::verify_identity(&chain, &key, &anchor, now()) {
                Ok(Verified::Device(body))
                    if matches!(body.role, Role::Agent | Role::Supervisor) => {}
                Ok(_) => return Err(bad("the certificate is not an agent's or a supervisor's")),
                Err(e) => {
                    return Err(bad(format!(
                        "the certificate does not verify under the pinned root: {e}"
                    )));
                }
            }
            Some(chain)
        } else {
            None
        };
        Ok(Self {
            dir: dir.to_owned(),
            file,
            secrets,
            pass,
            http,
            profile,
            anchor,
            staff: view.staff_id,
            status: view.status,
            fingerprint: view.fingerprint,
            chain,
        })
    }

    /// The verified chain, or an error saying the device waits for an admin.
    pub(crate) fn chain(&self) -> anyhow::Result<&[u8]> {
        self.chain.as_deref().ok_or_else(|| {
            bad(format!(
                "this device is {}: an admin must confirm its fingerprint first",
                self.status
            ))
        })
    }

    /// Checks every member's chain under the pinned root, at the current time.
    pub(crate) fn check(&self) -> Arc<ChainCheck> {
        Arc::new(ChainCheck::new(self.anchor.clone(), now))
    }

    /// This device's signature key (MLS leaf, and the signer of its sealed objects).
    pub(crate) fn signer(&self) -> anyhow::Result<DeviceSigner> {
        let seed = zeroize::Zeroizing::new(
            STANDARD
                .decode(&self.secrets.signature_seed)
                .map_err(|_| bad("device.json is damaged"))?,
        );
        Ok(DeviceSigner::from_seed(&seed)?)
    }

    /// A fresh MLS client signing with this device's key and its certificate.
    pub(crate) fn new_client(&self) -> anyhow::Result<Mls> {
        Ok(Mls::with_signer(
            self.chain()?,
            self.signer()?,
            self.check(),
        ))
    }

    /// Restores a saved MLS client.
    pub(crate) fn restore(&self, saved: &str) -> anyhow::Result<Mls> {
        let bytes = zeroize::Zeroizing::new(
            STANDARD
                .decode(saved)
                .map_err(|_| bad("device.json is damaged (client)"))?,
        );
        Ok(Mls::restore(&bytes, self.check())?)
    }

    /// Seals the secrets back into `device.json`.
    pub(crate) fn save(&mut self) -> anyhow::Result<()> {
        self.file
            .save(&self.dir, &self.secrets, &self.pass, &OsRandom)
    }

    /// Keeps at least the low-water mark of key packages published for this device; each
    /// package's client is kept to join from the Welcome that names it. Returns how many
    /// are available now.
    pub(crate) async fn refill_key_packages(&mut self) -> anyhow::Result<u32> {
        let key: Vec<u8> = STANDARD
            .decode(&self.file.signature_key)
            .map_err(|_| bad("device.json is damaged"))?;
        let stock = self.http.key_package_stock().await.map_err(fail)?;
        let available = stock
            .devices
            .iter()
            .find(|d| STANDARD.decode(&d.device_key).ok().as_deref() == Some(key.as_slice()))
            .map_or(0, |d| d.available);
        if available >= LOW_WATER {
            return Ok(available);
        }
        let mut packages = Vec::new();
        for _ in available..LOW_WATER * 2 {
            let mut client = self.new_client()?;
            let kp = client.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)?;
            let entry = check_key_package(&kp, &self.anchor, now(), MAX_LIFETIME_SECS)
                .map_err(|e| bad(format!("a key package failed its own check: {e}")))?;
            self.secrets.key_packages.push(PendingKeyPackage {
                hash_ref: STANDARD.encode(&entry.hash_ref),
                client: STANDARD.encode(client.save()?),
            });
            packages.push(kp);
        }
        // Saved before publishing: a package the server hands out must be joinable here.
        self.save()?;
        let view = self
            .http
            .publish_key_packages(&packages, None)
            .await
            .map_err(fail)?;
        Ok(view.available)
    }
}
