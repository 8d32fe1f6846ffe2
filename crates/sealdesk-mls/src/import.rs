//! Moving a key package's private parts between libraries: a History Member key package made
//! by a browser (ts-mls) must be joinable by the Rust archive reader, and the other way round.
//!
//! openmls keeps `KeyPackageBundle` constructors private outside its `test-utils` feature, so
//! the import writes the bundle through openmls's storage API in its serde layout
//! (`{key_package, private_init_key, private_encryption_key: {key}}`, openmls 0.9.2). That
//! layout is tied to the openmls version: the round-trip test below pins it, and `openmls` is
//! pinned exactly in Cargo.toml (E2EE.md §6, "Caveat for the Rust reader").

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    KeyPackage, KeyPackageBundle, KeyPackageVerifyError, MlsMessageBodyIn, MlsMessageIn,
    MlsMessageOut, ProtocolVersion,
};
use openmls_traits::OpenMlsProvider;
use openmls_traits::storage::StorageProvider as _;
use openmls_traits::types::HpkePrivateKey;
use serde_json::json;

use crate::wire::{put_vec, take_vec};
use crate::{MlsError, Provider};

/// A key package (RFC 9420 §10, as an `MLSMessage`) with its three private keys, raw bytes:
/// the HPKE init key (X25519, 32 bytes), the leaf encryption key (X25519, 32 bytes) and the
/// leaf signature key (Ed25519 seed, 32 bytes).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyPackageSecrets {
    /// The public key package, `MLSMessage`-encoded.
    pub key_package: Vec<u8>,
    /// The init private key.
    pub init_private: Vec<u8>,
    /// The leaf's encryption private key.
    pub encryption_private: Vec<u8>,
    /// The leaf's signature private key.
    pub signature_private: Vec<u8>,
}

impl KeyPackageSecrets {
    /// The binary form sealed inside a History Member bundle (the TypeScript twin is
    /// `web/shared/seal/bundle.ts`): `key_package<V> ‖ init_private<V> ‖
    /// encryption_private<V> ‖ signature_private<V>`, each private key 32 bytes.
    pub fn to_bytes(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, MlsError> {
        let mut out = zeroize::Zeroizing::new(Vec::with_capacity(self.key_package.len() + 110));
        put_vec(&mut out, &self.key_package)?;
        for key in [
            &self.init_private,
            &self.encryption_private,
            &self.signature_private,
        ] {
            if key.len() != 32 {
                return Err(MlsError::Rejected("private keys are 32 bytes".into()));
            }
            put_vec(&mut out, key)?;
        }
        Ok(out)
    }

    /// Decodes [`Self::to_bytes`]'s form, refusing trailing bytes and keys of another size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MlsError> {
        let mut rest = bytes;
        let key_package = take_vec(&mut rest)?.to_vec();
        let mut keys = Vec::with_capacity(3);
        for _ in 0..3 {
            let key = take_vec(&mut rest)?;
            if key.len() != 32 {
                return Err(MlsError::Malformed("private keys are 32 bytes".into()));
            }
            keys.push(key.to_vec());
        }
        if !rest.is_empty() {
            return Err(MlsError::Malformed(
                "key package secrets: trailing bytes".into(),
            ));
        }
        let signature_private = keys.pop().unwrap_or_default();
        let encryption_private = keys.pop().unwrap_or_default();
        let init_private = keys.pop().unwrap_or_default();
        Ok(Self {
            key_package,
            init_private,
            encryption_private,
            signature_private,
        })
    }
}

impl std::fmt::Debug for KeyPackageSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPackageSecrets").finish_non_exhaustive()
    }
}

/// Whether a key package's lifetime must cover the present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifetimes {
    /// Adding a member: an expired key package is refused (RFC 9420 §10.1).
    Check,
    /// Replaying a History Member from an archive, possibly long after the key package
    /// expired: signatures are still verified, the lifetime is not.
    Ignore,
}

/// Parses and verifies an `MLSMessage`-encoded key package (signatures, version, extension
/// support, lifetime; RFC 9420 §10.1).
pub(crate) fn parse_key_package(
    provider: &Provider,
    bytes: &[u8],
    lifetimes: Lifetimes,
) -> Result<KeyPackage, MlsError> {
    let message = MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|e| MlsError::Malformed(format!("key package: {e}")))?;
    let MlsMessageBodyIn::KeyPackage(kp) = message.extract() else {
        return Err(MlsError::Malformed("not a key package".into()));
    };
    match kp
        .clone()
        .validate(provider.crypto(), ProtocolVersion::Mls10)
    {
        Ok(valid) => Ok(valid),
        // openmls checks the lifetime last, after both signatures: the package is authentic.
        // Its public conversion is test-only, so convert through the serde layout and prove
        // the result re-encodes to the very bytes we verified.
        Err(KeyPackageVerifyError::LifetimeError(_)) if lifetimes == Lifetimes::Ignore => {
            let value = serde_json::to_value(&kp).map_err(MlsError::library)?;
            let converted: KeyPackage = serde_json::from_value(value).map_err(|e| {
                MlsError::Library(format!("openmls key package layout changed: {e}"))
            })?;
            let again = MlsMessageOut::from(converted.clone())
                .tls_serialize_detached()
                .map_err(MlsError::library)?;
            if again != bytes {
                return Err(MlsError::Library(
                    "openmls key package layout changed".into(),
                ));
            }
            Ok(converted)
        }
        Err(e) => Err(MlsError::rejected(e)),
    }
}

/// The private init and encryption keys of a bundle.
pub(crate) fn bundle_private_keys(
    bundle: &KeyPackageBundle,
) -> Result<(Vec<u8>, Vec<u8>), MlsError> {
    let value = serde_json::to_value(bundle).map_err(MlsError::library)?;
    let encryption: HpkePrivateKey =
        serde_json::from_value(value["private_encryption_key"]["key"].clone())
            .map_err(|e| MlsError::Library(format!("openmls bundle layout changed: {e}")))?;
    Ok((bundle.init_private_key().to_vec(), encryption.to_vec()))
}

/// Stores `secrets` so that a Welcome addressed to its key package can be joined.
pub(crate) fn store_bundle(
    provider: &Provider,
    secrets: &KeyPackageSecrets,
) -> Result<KeyPackage, MlsError> {
    let key_package = parse_key_package(provider, &secrets.key_package, Lifetimes::Ignore)?;
    let bundle: KeyPackageBundle = serde_json::from_value(json!({
        "key_package": key_package,
        "private_init_key": HpkePrivateKey::from(secrets.init_private.as_slice()),
        "private_encryption_key": { "key": HpkePrivateKey::from(secrets.encryption_private.as_slice()) },
    }))
    .map_err(|e| MlsError::Library(format!("openmls bundle layout changed: {e}")))?;
    let hash_ref = key_package
        .hash_ref(provider.crypto())
        .map_err(MlsError::library)?;
    provider
        .storage()
        .write_key_package(&hash_ref, &bundle)
        .map_err(MlsError::library)?;
    Ok(key_package)
}
