//! Staff password hashing with Argon2id (RFC 9106), with parameters no weaker than the OWASP
//! Password Storage Cheat Sheet baseline (m = 19 456 KiB, t = 2, p = 1) and stored inside the
//! PHC string so that a raised policy can re-hash on the next login (NIST SP 800-63B §3.1.1.2;
//! OWASP ASVS v5.0.0-11.4.2).
//!
//! Hashing is CPU- and memory-heavy: callers on an async runtime must run it on a blocking
//! thread under a concurrency cap (done by the server's authentication service).

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sealdesk_core::random::Random;
use secrecy::{ExposeSecret, SecretString};

/// Inputs longer than this are refused before hashing, so a huge "password" cannot be used
/// to burn CPU (NIST SP 800-63B allows a maximum as long as it is at least 64 characters).
pub const MAX_PASSWORD_BYTES: usize = 512;

/// Why hashing or verifying failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The password is longer than [`MAX_PASSWORD_BYTES`].
    #[error("password must be at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// The password is shorter than the policy allows.
    #[error("password must be at least {min} characters")]
    TooShort {
        /// The minimum, in characters.
        min: usize,
    },
    /// The password does not match.
    #[error("password does not match")]
    Mismatch,
    /// The stored hash is not a valid Argon2 PHC string.
    #[error("stored password hash is malformed")]
    MalformedHash,
    /// The policy parameters are invalid.
    #[error("invalid Argon2 parameters: {0}")]
    Params(String),
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashPolicy {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl HashPolicy {
    /// The OWASP minimum and the production default: m = 19 456 KiB, t = 2, p = 1.
    pub const OWASP_MINIMUM: HashPolicy = HashPolicy {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// A deliberately cheap policy for tests only; production config refuses it.
    pub const INSECURE_TEST_ONLY: HashPolicy = HashPolicy {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    /// Whether this policy is at least the OWASP minimum.
    pub fn meets_minimum(&self) -> bool {
        self.memory_kib >= Self::OWASP_MINIMUM.memory_kib
            && self.iterations >= Self::OWASP_MINIMUM.iterations
            && self.parallelism >= Self::OWASP_MINIMUM.parallelism
    }

    fn argon2(&self) -> Result<Argon2<'static>, PasswordError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|e| PasswordError::Params(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// The result of a successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The stored hash is weaker than the current policy: store a fresh hash.
    pub needs_rehash: bool,
}

/// Checks the length rules of NIST SP 800-63B §3.1.1.2 for a new password: at least
/// `min_chars` characters (15 when it is the only factor, 8 with a second factor), at most
/// [`MAX_PASSWORD_BYTES`] bytes, any Unicode, no composition rules.
pub fn check_length(password: &SecretString, min_chars: usize) -> Result<(), PasswordError> {
    let pw = password.expose_secret();
    if pw.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    if pw.chars().count() < min_chars {
        return Err(PasswordError::TooShort { min: min_chars });
    }
    Ok(())
}

/// Hashes `password` under `policy` with a fresh 16-byte salt; returns the PHC string.
pub fn hash(
    policy: HashPolicy,
    random: &dyn Random,
    password: &SecretString,
) -> Result<String, PasswordError> {
    let pw = password.expose_secret();
    if pw.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::MalformedHash)?;
    policy
        .argon2()?
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Params(e.to_string()))
}

/// Verifies `password` against a stored PHC string (the parameters inside it are used), and
/// says whether it should be re-hashed under `policy`.
pub fn verify(
    policy: HashPolicy,
    password: &SecretString,
    phc: &str,
) -> Result<Verified, PasswordError> {
    let pw = password.expose_secret();
    if pw.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let parsed = PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(PasswordError::MalformedHash);
    }
    let stored = Params::try_from(&parsed).map_err(|_| PasswordError::MalformedHash)?;
    // Argon2 compares the tags in constant time inside verify_password.
    Argon2::default()
        .verify_password(pw.as_bytes(), &parsed)
        .map_err(|_| PasswordError::Mismatch)?;
    let needs_rehash = stored.m_cost() < policy.memory_kib
        || stored.t_cost() < policy.iterations
        || stored.p_cost() < policy.parallelism;
    Ok(Verified { needs_rehash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_core::random::SeededRandom;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    /// RFC 9106 §5.3 known-answer test for Argon2id (with secret and associated data).
    #[test]
    fn rfc9106_argon2id_vector() {
        let params = argon2::ParamsBuilder::new()
            .m_cost(32)
            .t_cost(3)
            .p_cost(4)
            .data(argon2::AssociatedData::new(&[0x04; 12]).unwrap())
            .output_len(32)
            .build()
            .unwrap();
        let a = Argon2::new_with_secret(&[0x03; 8], Algorithm::Argon2id, Version::V0x13, params)
            .unwrap();
        let mut out = [0u8; 32];
        a.hash_password_into(&[0x01; 32], &[0x02; 16], &mut out)
            .unwrap();
        assert_eq!(
            hex::encode(out),
            "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
        );
    }

    #[test]
    fn hash_verify_and_mismatch() {
        let rng = SeededRandom::new(1);
        let policy = HashPolicy::INSECURE_TEST_ONLY;
        let phc = hash(policy, &rng, &secret("correct horse battery staple")).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(
            !verify(policy, &secret("correct horse battery staple"), &phc)
                .unwrap()
                .needs_rehash
        );
        assert_eq!(
            verify(policy, &secret("wrong"), &phc),
            Err(PasswordError::Mismatch)
        );
        assert_eq!(
            verify(policy, &secret("x"), "not a phc"),
            Err(PasswordError::MalformedHash)
        );
    }

    #[test]
    fn weaker_stored_parameters_ask_for_rehash() {
        let rng = SeededRandom::new(2);
        let phc = hash(HashPolicy::INSECURE_TEST_ONLY, &rng, &secret("pw")).unwrap();
        let stronger = HashPolicy {
            memory_kib: 128,
            ..HashPolicy::INSECURE_TEST_ONLY
        };
        assert!(verify(stronger, &secret("pw"), &phc).unwrap().needs_rehash);
    }

    #[test]
    fn production_default_is_the_owasp_minimum() {
        assert!(HashPolicy::OWASP_MINIMUM.meets_minimum());
        assert!(!HashPolicy::INSECURE_TEST_ONLY.meets_minimum());
        assert_eq!(
            (
                HashPolicy::OWASP_MINIMUM.memory_kib,
                HashPolicy::OWASP_MINIMUM.iterations
            ),
            (19_456, 2)
        );
    }

    #[test]
    fn length_rules() {
        let long = "a".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(
            check_length(&secret(&long), 15),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            hash(
                HashPolicy::INSECURE_TEST_ONLY,
                &SeededRandom::new(1),
                &secret(&long)
            ),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            check_length(&secret("short"), 15),
            Err(PasswordError::TooShort { min: 15 })
        );
        assert!(check_length(&secret("ünïcødé pass"), 8).is_ok());
        assert!(check_length(&secret(&"é".repeat(64)), 15).is_ok());
    }
}
