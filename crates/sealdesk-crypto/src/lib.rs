//! Sealdesk's cryptography: the server master key and envelope encryption of server-held
//! secrets at rest, password hashing and acceptance, one-time passwords (TOTP), recovery
//! codes, opaque bearer tokens, and the operating system's random source.
//!
//! Only this crate touches RNG entry points and cryptographic primitives directly. It must
//! not depend on the store, the server or any I/O beyond reading and writing its key file.
#![warn(missing_docs)]

pub mod audit_chain;
pub mod identity_token;
pub mod master_key;
pub mod passphrase;
pub mod password;
pub mod pow;
pub mod random;
pub mod recovery;
pub mod token;
pub mod totp;

pub use master_key::{MasterKey, MasterKeyError};
pub use random::OsRandom;

/// Compares two secrets in constant time (OWASP ASVS v5.0.0-11.2.4 style: no early exit that
/// leaks the length of a matching prefix). Lengths are not secret.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ct_eq_compares_content_and_length() {
        assert!(super::ct_eq(b"secret", b"secret"));
        assert!(!super::ct_eq(b"secret", b"secreT"));
        assert!(!super::ct_eq(b"secret", b"secret!"));
    }
}
