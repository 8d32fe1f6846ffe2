//! Sealed objects for the tenant's key distribution (E2EE.md §3, "Wire formats for wraps and
//! seals"): a team key's private half wrapped to an agent device, a History Member's private
//! key package sealed to the team and archive keys. HPKE base mode (RFC 9180 §5.1.1) with
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM; `info` binds the purpose, tenant,
//! team, key version and recipient; the producing device signs the whole object (Ed25519), so
//! the server cannot substitute one (the MSC3270 lesson).
//!
//! Encoding: `"SDS1" ‖ enc<V> ‖ ciphertext<V> ‖ signer (32) ‖ signature (64)`, vectors as in
//! MLS (RFC 9420 §2.1.2); the signature covers `"sealdesk sealed v1\0" ‖ info ‖` every byte
//! before it.

use openmls_traits::OpenMlsProvider as _;
use openmls_traits::crypto::OpenMlsCrypto as _;
use openmls_traits::signatures::Signer as _;
use openmls_traits::types::{HpkeAeadType, HpkeCiphertext, HpkeConfig, HpkeKdfType, HpkeKemType};

use crate::wire::{put_vec, take_vec};
use crate::{DeviceSigner, MlsError, Provider};

/// The suite of every seal (RFC 9180 §7: KEM 0x0020, KDF 0x0001, AEAD 0x0001).
pub const SUITE: HpkeConfig = HpkeConfig(
    HpkeKemType::DhKem25519,
    HpkeKdfType::HkdfSha256,
    HpkeAeadType::AesGcm128,
);
const MAGIC: &[u8; 4] = b"SDS1";
const SIGNING_CONTEXT: &[u8] = b"sealdesk sealed v1\0";

/// What a sealed object is for, and for whom: all of it goes into HPKE's `info` and the
/// signature, so an object sealed for one purpose, team, version or recipient cannot be
/// replayed as another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealContext {
    /// `team-key-wrap`, `archive-key-wrap`, `history-bundle`, …
    pub purpose: &'static str,
    /// The tenant.
    pub tenant: [u8; 16],
    /// The team (zero when not a team object).
    pub team: [u8; 16],
    /// The sealing key's version.
    pub key_version: u32,
    /// The recipient key's id (its public key).
    pub recipient: [u8; 32],
}

impl SealContext {
    /// `info = "lc-e2ee/v1/<purpose>" ‖ tenant ‖ team ‖ key_version ‖ recipient_key_id`.
    pub fn info(&self) -> Vec<u8> {
        let mut info = format!("lc-e2ee/v1/{}", self.purpose).into_bytes();
        info.extend_from_slice(&self.tenant);
        info.extend_from_slice(&self.team);
        info.extend_from_slice(&self.key_version.to_be_bytes());
        info.extend_from_slice(&self.recipient);
        info
    }
}

/// An X25519 HPKE key pair (a team, archive or device wrap key).
pub struct HpkeKeys {
    /// The private key (32 bytes).
    pub private: zeroize::Zeroizing<Vec<u8>>,
    /// The public key (32 bytes).
    pub public: [u8; 32],
}

impl std::fmt::Debug for HpkeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HpkeKeys")
            .field("public", &hex::encode(self.public))
            .finish_non_exhaustive()
    }
}

/// Derives a key pair from input keying material (RFC 9180 §7.1.3 `DeriveKeyPair`).
pub fn derive_keys(ikm: &[u8]) -> Result<HpkeKeys, MlsError> {
    let provider = Provider::default();
    let pair = provider
        .crypto()
        .derive_hpke_keypair(SUITE, ikm)
        .map_err(|e| MlsError::Library(format!("{e:?}")))?;
    Ok(HpkeKeys {
        private: zeroize::Zeroizing::new(pair.private.to_vec()),
        public: pair
            .public
            .as_slice()
            .try_into()
            .map_err(|_| MlsError::Library("X25519 keys are 32 bytes".into()))?,
    })
}

/// Seals `plaintext` to `recipient_public` for `context`, signed by `signer`.
pub fn seal(
    recipient_public: &[u8; 32],
    context: &SealContext,
    plaintext: &[u8],
    signer: &DeviceSigner,
) -> Result<Vec<u8>, MlsError> {
    let info = context.info();
    let provider = Provider::default();
    let sealed = provider
        .crypto()
        .hpke_seal(SUITE, recipient_public, &info, MAGIC, plaintext)
        .map_err(|e| MlsError::Library(format!("{e:?}")))?;
    let mut out = MAGIC.to_vec();
    put_vec(&mut out, sealed.kem_output.as_slice())?;
    put_vec(&mut out, sealed.ciphertext.as_slice())?;
    out.extend_from_slice(&signer.public());
    let mut to_sign = SIGNING_CONTEXT.to_vec();
    to_sign.extend_from_slice(&info);
    to_sign.extend_from_slice(&out);
    let signature = signer
        .sign(&to_sign)
        .map_err(|e| MlsError::Library(format!("{e:?}")))?;
    out.extend_from_slice(&signature);
    Ok(out)
}

/// Opens a sealed object: the signature must verify under `expected_signer` (a device the
/// caller trusts, for example through its certificate chain) over this `context`, then HPKE
/// must open it with `recipient_private`.
pub fn open(
    sealed: &[u8],
    context: &SealContext,
    recipient_private: &[u8],
    expected_signer: &[u8; 32],
) -> Result<zeroize::Zeroizing<Vec<u8>>, MlsError> {
    use ed25519_dalek::{Signature, VerifyingKey};
    let bad = || MlsError::Malformed("sealed object".into());
    if sealed.len() < 4 + 96 || &sealed[..4] != MAGIC {
        return Err(bad());
    }
    let (body, tail) = sealed.split_at(sealed.len() - 96);
    let (signer, signature) = tail.split_at(32);
    if signer != expected_signer {
        return Err(MlsError::Rejected("sealed by another device".into()));
    }
    let info = context.info();
    let mut to_verify = SIGNING_CONTEXT.to_vec();
    to_verify.extend_from_slice(&info);
    to_verify.extend_from_slice(body);
    to_verify.extend_from_slice(signer);
    let key = VerifyingKey::from_bytes(expected_signer).map_err(|_| bad())?;
    let signature = Signature::from_slice(signature).map_err(|_| bad())?;
    key.verify_strict(&to_verify, &signature)
        .map_err(|_| MlsError::Rejected("the seal's signature does not verify".into()))?;
    let mut rest = &body[4..];
    let enc = take_vec(&mut rest)?;
    let ciphertext = take_vec(&mut rest)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let input = HpkeCiphertext {
        kem_output: enc.to_vec().into(),
        ciphertext: ciphertext.to_vec().into(),
    };
    Provider::default()
        .crypto()
        .hpke_open(SUITE, &input, recipient_private, &info, MAGIC)
        .map(zeroize::Zeroizing::new)
        .map_err(|_| MlsError::Rejected("the sealed object does not open with this key".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9180 Appendix A.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base
    /// mode): `DeriveKeyPair` of both parties, and the first encryption opened with the
    /// recipient's key (single-shot open uses sequence number 0).
    #[test]
    fn rfc9180_a1_base_mode() {
        let h = |s: &str| hex::decode(s).unwrap();
        let recipient = derive_keys(&h(
            "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
        ))
        .unwrap();
        assert_eq!(
            hex::encode(recipient.public),
            "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d"
        );
        assert_eq!(
            hex::encode(&*recipient.private),
            "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8"
        );
        let ephemeral = derive_keys(&h(
            "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
        ))
        .unwrap();
        assert_eq!(
            hex::encode(ephemeral.public),
            "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431"
        );
        assert_eq!(
            hex::encode(&*ephemeral.private),
            "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736"
        );
        let input = HpkeCiphertext {
            kem_output: h("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431").into(),
            ciphertext: h("f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a").into(),
        };
        let plaintext = Provider::default()
            .crypto()
            .hpke_open(
                SUITE,
                &input,
                &recipient.private,
                &h("4f6465206f6e2061204772656369616e2055726e"),
                &h("436f756e742d30"),
            )
            .unwrap();
        assert_eq!(
            plaintext,
            h("4265617574792069732074727574682c20747275746820626561757479")
        );
    }

    fn context(recipient: [u8; 32]) -> SealContext {
        SealContext {
            purpose: "team-key-wrap",
            tenant: [1; 16],
            team: [2; 16],
            key_version: 3,
            recipient,
        }
    }

    #[test]
    fn sealed_objects_open_only_as_sealed() {
        let device = derive_keys(&[5; 32]).unwrap();
        let admin = DeviceSigner::from_seed(&[6; 32]).unwrap();
        let admin_key: [u8; 32] = admin.public().try_into().unwrap();
        let ctx = context(device.public);
        let sealed = seal(&device.public, &ctx, b"team private key", &admin).unwrap();
        assert_eq!(
            &*open(&sealed, &ctx, &device.private, &admin_key).unwrap(),
            b"team private key"
        );
        // Another purpose, version or team: refused (info and signature bind them).
        for other in [
            SealContext {
                purpose: "history-bundle",
                ..ctx.clone()
            },
            SealContext {
                key_version: 4,
                ..ctx.clone()
            },
            SealContext {
                team: [9; 16],
                ..ctx.clone()
            },
        ] {
            assert!(open(&sealed, &other, &device.private, &admin_key).is_err());
        }
        // Another recipient key, another claimed signer, any flipped byte: refused.
        let stranger = derive_keys(&[7; 32]).unwrap();
        assert!(open(&sealed, &ctx, &stranger.private, &admin_key).is_err());
        assert!(open(&sealed, &ctx, &device.private, &[8; 32]).is_err());
        for i in [0, 5, 40, sealed.len() - 70, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[i] ^= 1;
            assert!(
                open(&altered, &ctx, &device.private, &admin_key).is_err(),
                "byte {i}"
            );
        }
        // A server that re-signs with its own key is caught by the expected signer.
        let server = DeviceSigner::from_seed(&[9; 32]).unwrap();
        let forged = seal(&device.public, &ctx, b"attacker's key", &server).unwrap();
        assert!(open(&forged, &ctx, &device.private, &admin_key).is_err());
    }
}
