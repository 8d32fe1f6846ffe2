//! The server master key: encrypts secrets the server must hold (TOTP seeds, identity-token
//! secrets) so that a database dump alone does not reveal them. Message content is never
//! encrypted with it: the server holds no key that opens conversations (design/E2EE.md).
//!
//! The key file holds one or more versioned 256-bit keys; the highest version seals, every
//! version opens, which is what lets a rotation re-wrap secrets one by one and survive a
//! crash half-way (NIST SP 800-57 Part 1 §5.3, key versions; OWASP ASVS v5.0.0-11.1.1).
//!
//! Sealed format: `0x01 ‖ key version (u32 BE) ‖ 24-byte nonce ‖ XChaCha20-Poly1305(ct ‖ tag)`
//! with associated data `"sealdesk/v1/" ‖ purpose ‖ 0x00 ‖ context`, so a sealed value cannot
//! be moved to another purpose or row (draft-irtf-cfrg-xchacha-03).
//!
//! Subkeys for keyed digests (such as recovery codes) are derived per purpose with
//! HKDF-SHA256 (RFC 5869), so each is independent of the sealing key and of every other purpose.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sealdesk_core::random::Random;
use zeroize::Zeroizing;

const HEADER: &str = "sealdesk-master-key-v1";
const FORMAT: u8 = 1;
const NONCE_LEN: usize = 24;
const PREFIX_LEN: usize = 1 + 4 + NONCE_LEN;
const KDF_INFO_PREFIX: &[u8] = b"sealdesk/v1/kdf/";

/// Why the master key could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The file could not be read or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Group or others may read or write the file.
    #[error(
        "master key file {path} is accessible by other users (mode {mode:04o}); run `chmod 600 {path}`"
    )]
    LoosePermissions {
        /// The key file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a Sealdesk master key file.
    #[error("master key file {path} is malformed: {reason}")]
    Malformed {
        /// The key file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A sealed value was tampered with, truncated, or sealed for another purpose or context.
    #[error("sealed value could not be opened (tampered, truncated or for another context)")]
    Open,
    /// A sealed value names a key version this key file does not hold.
    #[error("sealed value needs master key version {0}, which the key file does not hold")]
    UnknownVersion(u32),
}

/// A set of versioned master keys. `Debug` never prints key material.
pub struct MasterKey {
    keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// Generates a fresh key (version 1).
    pub fn generate(random: &dyn Random) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        random.fill(key.as_mut());
        Self {
            keys: BTreeMap::from([(1, key)]),
        }
    }

    /// Loads the key file at `path`, refusing it if group or others can access it.
    pub fn load(path: &Path) -> Result<Self, MasterKeyError> {
        let shown = path.display().to_string();
        let io = |source| MasterKeyError::Io {
            path: shown.clone(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(MasterKeyError::LoosePermissions { path: shown, mode });
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
        Self::parse(&text).map_err(|reason| MasterKeyError::Malformed {
            path: shown,
            reason,
        })
    }

    /// Loads the key file, or creates it with mode 0600 if it does not exist.
    /// Returns the key and whether it was created.
    pub fn load_or_generate(
        path: &Path,
        random: &dyn Random,
    ) -> Result<(Self, bool), MasterKeyError> {
        if path.exists() {
            return Self::load(path).map(|k| (k, false));
        }
        let key = Self::generate(random);
        key.write_new(path)?;
        Ok((key, true))
    }

    fn parse(text: &str) -> Result<Self, String> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines.next() != Some(HEADER) {
            return Err(format!("first line must be {HEADER:?}"));
        }
        let mut keys = BTreeMap::new();
        for line in lines {
            let (version, b64) = line
                .split_once(' ')
                .ok_or_else(|| "each key line must be `<version> <base64 key>`".to_owned())?;
            let version: u32 = version
                .parse()
                .map_err(|_| format!("key version {version:?} is not a number"))?;
            let bytes = Zeroizing::new(
                STANDARD
                    .decode(b64.trim())
                    .map_err(|_| format!("key version {version} is not valid base64"))?,
            );
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| format!("key version {version} must be 32 bytes"))?;
            if keys.insert(version, Zeroizing::new(key)).is_some() {
                return Err(format!("key version {version} appears twice"));
            }
        }
        if keys.is_empty() {
            return Err("the file holds no key".to_owned());
        }
        Ok(Self { keys })
    }

    fn serialize(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(format!(
            "# Sealdesk server master key. Keep it secret (mode 0600) and back it up:\n\
             # without it, secrets stored by this server cannot be read.\n{HEADER}\n"
        ));
        for (version, key) in &self.keys {
            let _ = writeln!(out, "{version} {}", STANDARD.encode(key.as_ref()));
        }
        out
    }

    /// Writes the key to a new file with mode 0600 (never overwrites) and syncs it.
    pub fn write_new(&self, path: &Path) -> Result<(), MasterKeyError> {
        let io = |source| MasterKeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        file.write_all(self.serialize().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        if let Some(dir) = path.parent() {
            // Make the new directory entry durable too.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }

    /// A copy of this key set with one more version, freshly generated, which becomes the
    /// current one. Old versions are kept so existing sealed values still open.
    #[must_use]
    pub fn with_new_version(&self, random: &dyn Random) -> Self {
        let mut keys = self.keys.clone();
        let mut key = Zeroizing::new([0u8; 32]);
        random.fill(key.as_mut());
        keys.insert(self.current_version().saturating_add(1), key);
        Self { keys }
    }

    /// Replaces the key file atomically: writes a temporary file (mode 0600) beside it,
    /// syncs it, renames it over the old one and syncs the directory, so a crash leaves
    /// either the old or the new file, never a torn one.
    pub fn replace_file(&self, path: &Path) -> Result<(), MasterKeyError> {
        let io = |source| MasterKeyError::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("key.tmp");
        let _ = std::fs::remove_file(&tmp);
        self.write_new(&tmp)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
        }
        Ok(())
    }

    /// The version new values are sealed with.
    pub fn current_version(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or(1)
    }

    /// Key versions held, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    fn cipher(&self, version: u32) -> Result<XChaCha20Poly1305, MasterKeyError> {
        let key = self
            .keys
            .get(&version)
            .ok_or(MasterKeyError::UnknownVersion(version))?;
        Ok(XChaCha20Poly1305::new(key.as_ref().into()))
    }

    fn aad(purpose: &str, context: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(12 + purpose.len() + 1 + context.len());
        aad.extend_from_slice(b"sealdesk/v1/");
        aad.extend_from_slice(purpose.as_bytes());
        aad.push(0);
        aad.extend_from_slice(context);
        aad
    }

    /// Encrypts `plaintext` for `purpose` (a constant such as `"totp-seed"`) bound to
    /// `context` (such as the owning row's id).
    pub fn seal(
        &self,
        random: &dyn Random,
        purpose: &str,
        context: &[u8],
        plaintext: &[u8],
    ) -> Vec<u8> {
        let version = self.current_version();
        let mut nonce = [0u8; NONCE_LEN];
        random.fill(&mut nonce);
        let aad = Self::aad(purpose, context);
        let mut out = Vec::with_capacity(PREFIX_LEN + plaintext.len() + 16);
        out.push(FORMAT);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&nonce);
        // Encryption with a valid key and nonce length cannot fail for inputs under 256 GiB.
        let sealed = self.cipher(version).ok().and_then(|cipher| {
            cipher
                .encrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: plaintext,
                        aad: &aad,
                    },
                )
                .ok()
        });
        if let Some(ct) = sealed {
            out.extend_from_slice(&ct);
            return out;
        }
        std::process::abort()
    }

    /// Decrypts a value produced by [`MasterKey::seal`] with the same purpose and context.
    pub fn open(
        &self,
        purpose: &str,
        context: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
        let (prefix, ct) = sealed
            .split_at_checked(PREFIX_LEN)
            .ok_or(MasterKeyError::Open)?;
        let (format, rest) = prefix.split_first().ok_or(MasterKeyError::Open)?;
        if *format != FORMAT {
            return Err(MasterKeyError::Open);
        }
        let (version, nonce) = rest.split_at(4);
        let version = u32::from_be_bytes(version.try_into().map_err(|_| MasterKeyError::Open)?);
        let aad = Self::aad(purpose, context);
        self.cipher(version)?
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| MasterKeyError::Open)
    }

    /// Derives a 256-bit subkey for `purpose` (a constant such as `"recovery-code"`) from key
    /// `version`, or from the current version when `None`, with HKDF-SHA256 (RFC 5869: no
    /// salt, info = `"sealdesk/v1/kdf/" ‖ purpose`). Returns the version used, which callers
    /// store next to anything keyed with the subkey so it can be re-derived after a rotation.
    pub fn derive_key(
        &self,
        version: Option<u32>,
        purpose: &str,
    ) -> Result<(u32, Zeroizing<[u8; 32]>), MasterKeyError> {
        let version = version.unwrap_or_else(|| self.current_version());
        let ikm = self
            .keys
            .get(&version)
            .ok_or(MasterKeyError::UnknownVersion(version))?;
        let mut info = Vec::with_capacity(KDF_INFO_PREFIX.len() + purpose.len());
        info.extend_from_slice(KDF_INFO_PREFIX);
        info.extend_from_slice(purpose.as_bytes());
        let mut okm = Zeroizing::new([0u8; 32]);
        // Expanding to 32 bytes cannot fail (HKDF allows up to 255 × 32 bytes).
        if hkdf::Hkdf::<sha2::Sha256>::new(None, ikm.as_ref())
            .expand(&info, okm.as_mut())
            .is_err()
        {
            std::process::abort()
        }
        Ok((version, okm))
    }

    /// The key version a sealed value was made with, if it is well-formed.
    pub fn sealed_version(sealed: &[u8]) -> Option<u32> {
        let bytes = sealed.get(1..5)?;
        Some(u32::from_be_bytes(bytes.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests;
