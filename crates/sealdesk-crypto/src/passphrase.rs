//! Secrets sealed under a passphrase, for key files that leave the server: the tenant root
//! key and issuing keys the owner keeps (E2EE.md §3: "exportable encrypted under a
//! passphrase"). Argon2id (RFC 9106) derives a 256-bit key from the passphrase and a random
//! salt; XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha, over RFC 8439) seals the secret with the
//! header as associated data, so parameters cannot be swapped. Both primitives are tested
//! with known-answer vectors where they are used for passwords and the master key.
//!
//! Also `fingerprint`: SHA-256 of a public key, for people to compare.
//!
//! Format: `"SDPK" ‖ 0x01 ‖ m_kib (u32 BE) ‖ t (u32 BE) ‖ p (u32 BE) ‖ salt (16) ‖
//! nonce (24) ‖ ciphertext ‖ tag (16)`.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sealdesk_core::random::Random;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"SDPK";
const VERSION: u8 = 1;
const HEADER: usize = 4 + 1 + 12 + 16 + 24;

/// Argon2id cost: RFC 9106 §4's second recommended option (64 MiB, 3 passes, 4 lanes). A key
/// file is opened rarely, by its owner; an attacker with the file pays this per guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Cost {
    /// RFC 9106 §4, option 2.
    pub const RECOMMENDED: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 4,
    };
    /// Cheap, for tests only.
    pub const INSECURE_TEST_ONLY: Self = Self {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    /// The largest cost a file may ask for (so a crafted file cannot exhaust memory).
    const MAX_MEMORY_KIB: u32 = 1024 * 1024;
}

/// Why a sealed secret cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassphraseError {
    /// Not a passphrase-sealed secret, or an unknown version or cost.
    #[error("not a Sealdesk passphrase-protected key file")]
    Malformed,
    /// Wrong passphrase, or the file was altered.
    #[error("wrong passphrase, or the key file was altered")]
    Rejected,
}

fn derive(
    passphrase: &SecretString,
    salt: &[u8],
    cost: Cost,
) -> Result<Zeroizing<[u8; 32]>, PassphraseError> {
    if cost.memory_kib > Cost::MAX_MEMORY_KIB || cost.iterations > 16 || cost.parallelism > 16 {
        return Err(PassphraseError::Malformed);
    }
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, Some(32))
        .map_err(|_| PassphraseError::Malformed)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(
            passphrase.expose_secret().as_bytes(),
            salt,
            key.as_mut_slice(),
        )
        .map_err(|_| PassphraseError::Malformed)?;
    Ok(key)
}

/// Seals `secret` under `passphrase`.
pub fn seal(
    secret: &[u8],
    passphrase: &SecretString,
    cost: Cost,
    random: &dyn Random,
) -> Result<Vec<u8>, PassphraseError> {
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.push(VERSION);
    for v in [cost.memory_kib, cost.iterations, cost.parallelism] {
        header.extend_from_slice(&v.to_be_bytes());
    }
    let mut salt_nonce = [0u8; 40];
    random.fill(&mut salt_nonce);
    header.extend_from_slice(&salt_nonce);
    let key = derive(passphrase, &salt_nonce[..16], cost)?;
    let sealed = XChaCha20Poly1305::new(key.as_ref().into())
        .encrypt(
            XNonce::from_slice(&salt_nonce[16..]),
            Payload {
                msg: secret,
                aad: &header,
            },
        )
        .map_err(|_| PassphraseError::Malformed)?;
    header.extend_from_slice(&sealed);
    Ok(header)
}

/// Opens a secret sealed by [`seal`].
pub fn open(
    sealed: &[u8],
    passphrase: &SecretString,
) -> Result<Zeroizing<Vec<u8>>, PassphraseError> {
    if sealed.len() < HEADER + 16 || &sealed[..4] != MAGIC || sealed[4] != VERSION {
        return Err(PassphraseError::Malformed);
    }
    let word =
        |i: usize| u32::from_be_bytes([sealed[i], sealed[i + 1], sealed[i + 2], sealed[i + 3]]);
    let cost = Cost {
        memory_kib: word(5),
        iterations: word(9),
        parallelism: word(13),
    };
    let (header, body) = sealed.split_at(HEADER);
    let key = derive(passphrase, &header[17..33], cost)?;
    XChaCha20Poly1305::new(key.as_ref().into())
        .decrypt(
            XNonce::from_slice(&header[33..]),
            Payload {
                msg: body,
                aad: header,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| PassphraseError::Rejected)
}

/// SHA-256 (FIPS 180-4) of `bytes`: key fingerprints.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn round_trip_and_refusals() {
        let secret = [42u8; 32];
        let sealed = seal(
            &secret,
            &pass("correct horse"),
            Cost::INSECURE_TEST_ONLY,
            &OsRandom,
        )
        .unwrap();
        assert_eq!(
            open(&sealed, &pass("correct horse")).unwrap().as_slice(),
            &secret
        );
        assert_eq!(
            open(&sealed, &pass("wrong horse")),
            Err(PassphraseError::Rejected)
        );
        // Every byte matters: the header is associated data, the body is authenticated.
        for i in [5, 20, 40, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[i] ^= 1;
            assert!(open(&altered, &pass("correct horse")).is_err(), "byte {i}");
        }
        assert_eq!(
            open(&sealed[..40], &pass("correct horse")),
            Err(PassphraseError::Malformed)
        );
        // Two seals of one secret differ (fresh salt and nonce).
        let again = seal(
            &secret,
            &pass("correct horse"),
            Cost::INSECURE_TEST_ONLY,
            &OsRandom,
        )
        .unwrap();
        assert_ne!(sealed, again);
    }

    #[test]
    fn a_crafted_cost_cannot_exhaust_memory() {
        let mut sealed = seal(b"x", &pass("p"), Cost::INSECURE_TEST_ONLY, &OsRandom).unwrap();
        sealed[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(open(&sealed, &pass("p")), Err(PassphraseError::Malformed));
    }
}
