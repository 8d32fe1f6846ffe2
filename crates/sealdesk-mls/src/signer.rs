//! A device's MLS signature key: Ed25519 (RFC 8032) as ciphersuite 0x0001 requires. Our own
//! `Signer` rather than `openmls_basic_credential`'s demo key pair (E2EE.md §8), so the seed
//! can be exported for a History Member made in one library and replayed in the other, and
//! is wiped from memory on drop.

use ed25519_dalek::{Signer as _, SigningKey};
use openmls_traits::signatures::{Signer, SignerError};
use openmls_traits::types::SignatureScheme;
use zeroize::Zeroizing;

/// An Ed25519 signing key (`ed25519_dalek` zeroizes the secret on drop).
pub struct DeviceSigner {
    key: SigningKey,
}

impl DeviceSigner {
    /// A signer from a 32-byte seed (RFC 8032 §5.1.5).
    pub fn from_seed(seed: &[u8]) -> Result<Self, crate::MlsError> {
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            seed.try_into()
                .map_err(|_| crate::MlsError::Malformed("an Ed25519 seed is 32 bytes".into()))?,
        );
        Ok(Self {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// A new key from 32 bytes the caller's randomness writes (the seed is wiped after use).
    pub fn generate(fill: impl FnOnce(&mut [u8])) -> Result<Self, crate::MlsError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        fill(seed.as_mut_slice());
        Self::from_seed(seed.as_slice())
    }

    /// The 32-byte seed.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// The 32-byte public key.
    pub fn public(&self) -> Vec<u8> {
        self.key.verifying_key().to_bytes().to_vec()
    }
}

impl Signer for DeviceSigner {
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(self.key.sign(payload).to_bytes().to_vec())
    }

    fn signature_scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    /// RFC 8037 Appendix A.1 (key) and A.4 (Ed25519 signature over the JWS signing input).
    #[test]
    fn rfc8037_a4_signature() {
        let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap();
        let signer =
            DeviceSigner::from_seed(&b64("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")).unwrap();
        assert_eq!(
            signer.public(),
            b64("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        );
        let signature = signer
            .sign(b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc")
            .unwrap();
        assert_eq!(
            signature,
            b64(
                "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
            )
        );
        assert_eq!(
            *signer.seed(),
            b64("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A").as_slice()
        );
        assert!(DeviceSigner::from_seed(&[0; 31]).is_err());
    }
}
