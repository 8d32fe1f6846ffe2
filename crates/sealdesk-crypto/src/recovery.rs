//! Recovery codes: single-use look-up secrets (NIST SP 800-63B §5.1.2; OWASP ASVS
//! v5.0.0-6.5.1, -6.5.3, -6.5.4) that stand in for a lost second factor. Ten are shown once as
//! `xxxxxx-xxxxxx` from an alphabet without look-alikes (no `0 o 1 l i`). Each code carries
//! 12 × log2(31) ≈ 59.5 bits.
//!
//! Storage follows OWASP ASVS v5.0.0-6.5.2: look-up secrets under 112 bits are stored with an
//! approved password hashing function and a random salt. [`hash`] is Argon2id (RFC 9106)
//! with a fresh 128-bit salt per code and [`HASH_POLICY`]'s cost, keyed with a subkey derived
//! from the server master key as Argon2's secret input K (RFC 9106 §3.1; purpose
//! [`KDF_PURPOSE`]), so a database dump alone does not even allow guessing, and a dump plus
//! the master key still costs one Argon2id computation per guess per code.
//!
//! Codes stored before migration 0005 are HMAC-SHA256 digests under the same subkey, without
//! salt ([`digest`], [`matches`]); they keep verifying until the account regenerates its codes.

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Version};
use hmac::{Hmac, Mac};
use sealdesk_core::random::Random;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::password::{HashMemory, HashPolicy, PasswordError, phc_hash, phc_verify};

/// The code alphabet: digits and lower-case letters without `0 o 1 l i` (31 symbols).
pub const ALPHABET: &[u8; 31] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Characters per group; a code is two groups joined by `-`.
pub const GROUP_CHARS: usize = 6;
/// Characters per code, without the hyphen.
pub const CODE_CHARS: usize = 2 * GROUP_CHARS;
/// How many codes a user gets.
pub const DEFAULT_COUNT: usize = 10;
/// The master-key derivation purpose for the recovery-code key
/// (`MasterKey::derive_key(version, KDF_PURPOSE)`).
pub const KDF_PURPOSE: &str = "recovery-code";

/// Argon2id cost per recovery code: 2 MiB, one pass, one lane (about 1.5 ms on one core of
/// the benchmark machine). A code is random, not chosen by a person: with ≈ 59.5 bits, an
/// attacker holding the database *and* the master key needs about 2^58.5 such computations,
/// each with its own salt, to find one code on average, which is millions of core-years;
/// the cost a password needs (19 MiB, t = 2) would only make each login that offers a
/// recovery code, which checks up to ten stored hashes, slower. Stored in the PHC string, so
/// it can change without invalidating codes.
pub const HASH_POLICY: HashPolicy = HashPolicy {
    memory_kib: 2048,
    iterations: 1,
    parallelism: 1,
};

/// Largest multiple of 31 that fits a byte; bytes at or above it are redrawn so every symbol
/// is equally likely (no modulo bias).
const ACCEPT_BELOW: u8 = 248;

fn random_symbols(random: &dyn Random, out: &mut Zeroizing<Vec<u8>>, count: usize) {
    let mut buf = Zeroizing::new([0u8; 32]);
    while out.len() < count {
        random.fill(buf.as_mut());
        for &byte in buf.iter().filter(|b| **b < ACCEPT_BELOW) {
            if out.len() == count {
                break;
            }
            if let Some(&symbol) = ALPHABET.get(usize::from(byte % 31)) {
                out.push(symbol);
            }
        }
    }
}

/// `n` fresh codes, formatted `xxxxxx-xxxxxx`. `random` must be a CSPRNG in production.
pub fn generate(random: &dyn Random, n: usize) -> Vec<SecretString> {
    (0..n)
        .map(|_| {
            let mut symbols = Zeroizing::new(Vec::with_capacity(CODE_CHARS));
            random_symbols(random, &mut symbols, CODE_CHARS);
            let mut code = String::with_capacity(CODE_CHARS + 1);
            for (i, &symbol) in symbols.iter().enumerate() {
                if i == GROUP_CHARS {
                    code.push('-');
                }
                code.push(char::from(symbol));
            }
            SecretString::from(code)
        })
        .collect()
}

/// The canonical form of a typed code: lower case, spaces and hyphens removed. `None` if any
/// other character is outside [`ALPHABET`] or the length is not [`CODE_CHARS`]. No look-alike
/// is mapped (`0` to `o`, …): the alphabet avoids them, so they only come from typos.
pub fn normalize(input: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_CHARS);
    for c in input.chars() {
        if c == '-' || c.is_whitespace() {
            continue;
        }
        let byte = u8::try_from(c).ok()?.to_ascii_lowercase();
        if !ALPHABET.contains(&byte) || out.len() == CODE_CHARS {
            return None;
        }
        out.push(char::from(byte));
    }
    (out.len() == CODE_CHARS).then_some(out)
}

fn keyed(key: &[u8; 32]) -> Result<Argon2<'_>, PasswordError> {
    let params = argon2::Params::new(
        HASH_POLICY.memory_kib,
        HASH_POLICY.iterations,
        HASH_POLICY.parallelism,
        Some(32),
    )
    .map_err(|e| PasswordError::Params(e.to_string()))?;
    Argon2::new_with_secret(key, Algorithm::Argon2id, Version::V0x13, params)
        .map_err(|e| PasswordError::Params(e.to_string()))
}

/// The PHC string to store for `normalized_code` (output of [`normalize`]): Argon2id under
/// [`HASH_POLICY`] with a fresh 16-byte salt from `random`, keyed with the subkey from
/// `MasterKey::derive_key(_, KDF_PURPOSE)` (store its version with it). Works in `memory`.
pub fn hash(
    key: &[u8; 32],
    random: &dyn Random,
    normalized_code: &str,
    memory: &mut HashMemory,
) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    phc_hash(&keyed(key)?, normalized_code.as_bytes(), &salt, memory)
}

/// Whether `normalized_code` matches a PHC string made by [`hash`] with `key`: the
/// parameters and salt come from the string, the comparison is constant-time. A malformed
/// string matches nothing. The caller spends the matched code atomically (single use,
/// ASVS v5.0.0-6.5.1).
pub fn verify(key: &[u8; 32], normalized_code: &str, phc: &str, memory: &mut HashMemory) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        phc_verify(normalized_code.as_bytes(), &parsed, Some(key), memory).is_ok()
    })
}

/// Legacy storage, for codes made before migration 0005: HMAC-SHA256 of `normalized_code`
/// keyed with the subkey from `MasterKey::derive_key(_, KDF_PURPOSE)`, without salt.
pub fn digest(key: &[u8; 32], normalized_code: &str) -> [u8; 32] {
    // HMAC accepts keys of any length (RFC 2104 §2); a 32-byte key cannot be refused.
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) else {
        std::process::abort()
    };
    mac.update(normalized_code.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Whether a typed code matches a legacy [`digest`], normalising first and comparing in
/// constant time. The caller spends the matched code atomically (single use,
/// ASVS v5.0.0-6.5.1).
pub fn matches(key: &[u8; 32], input: &str, stored_digest: &[u8]) -> bool {
    normalize(input).is_some_and(|code| crate::ct_eq(&digest(key, &code), stored_digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MasterKey;
    use sealdesk_core::random::SeededRandom;
    use secrecy::ExposeSecret as _;
    use std::collections::HashSet;

    #[test]
    fn codes_have_the_documented_format_and_entropy() {
        let codes = generate(&SeededRandom::new(1), DEFAULT_COUNT);
        assert_eq!(codes.len(), 10);
        for code in &codes {
            let text = code.expose_secret();
            let (a, b) = text.split_once('-').unwrap();
            assert_eq!((a.len(), b.len()), (6, 6), "{text}");
            assert!(
                text.bytes()
                    .filter(|c| *c != b'-')
                    .all(|c| ALPHABET.contains(&c))
            );
            assert_eq!(normalize(text).unwrap(), format!("{a}{b}"));
        }
        for banned in "0o1li".bytes() {
            assert!(!ALPHABET.contains(&banned));
        }
        assert_eq!(ALPHABET.iter().collect::<HashSet<_>>().len(), 31);
        // At least 50 bits: 31^12 ≥ 2^50.
        let symbols = u64::try_from(ALPHABET.len()).unwrap();
        let space = symbols.pow(u32::try_from(CODE_CHARS).unwrap());
        assert!(space >= 1 << 50, "{space}");
        assert!(!format!("{:?}", codes[0]).contains(codes[0].expose_secret()));
    }

    #[test]
    fn codes_are_unique_and_use_the_whole_alphabet() {
        let codes = generate(&SeededRandom::new(2), 400);
        let set: HashSet<String> = codes.iter().map(|c| c.expose_secret().to_owned()).collect();
        assert_eq!(set.len(), 400);
        let used: HashSet<u8> = set
            .iter()
            .flat_map(|c| c.bytes())
            .filter(|c| *c != b'-')
            .collect();
        assert_eq!(used.len(), 31, "every symbol appears in 4 800 draws");
        assert_ne!(
            generate(&SeededRandom::new(3), 1)[0].expose_secret(),
            generate(&SeededRandom::new(4), 1)[0].expose_secret()
        );
        assert!(generate(&SeededRandom::new(5), 0).is_empty());
    }

    #[test]
    fn normalisation_accepts_typing_variants_only() {
        for typed in [
            "abcdef-ghjkmn",
            "ABCDEF-GHJKMN",
            " abc def ghj kmn ",
            "abcdefghjkmn",
            "a-b-c-d-e-f-g-h-j-k-m-n",
        ] {
            assert_eq!(
                normalize(typed).as_deref(),
                Some("abcdefghjkmn"),
                "{typed:?}"
            );
        }
        for bad in [
            "",
            "abcdef-ghjkm",
            "abcdef-ghjkmnp",
            "abcdef-ghjkm0",
            "abcdef-ghjkmo",
            "abcdef-ghjkm1",
            "abcdef-ghjkml",
            "abcdef-ghjkmi",
            "abcdef_ghjkmn",
            "abcdéf-ghjkmn",
            "abcdef-ghjkmn\u{0}",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn stored_codes_are_salted_keyed_argon2id() {
        let rng = SeededRandom::new(7);
        let master = MasterKey::generate(&rng);
        let (_, key) = master.derive_key(None, KDF_PURPOSE).unwrap();
        let (_, other_key) = master.derive_key(None, "something-else").unwrap();
        let code = normalize(generate(&rng, 1)[0].expose_secret()).unwrap();
        let mut memory = HashMemory::new();
        let stored = hash(&key, &rng, &code, &mut memory).unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=2048,t=1,p=1$"),
            "{stored}"
        );
        assert!(verify(&key, &code, &stored, &mut memory));
        // Salted: the same code hashes differently each time, and both verify.
        let again = hash(&key, &rng, &code, &mut memory).unwrap();
        assert_ne!(stored, again);
        assert!(verify(&key, &code, &again, &mut memory));
        // Keyed: without the master-key subkey nothing matches, not even the right code.
        assert!(!verify(&other_key, &code, &stored, &mut memory));
        assert!(!verify(&key, "abcdefghjkmn", &stored, &mut memory));
        assert!(!verify(&key, &code, "not a phc", &mut memory));
        assert!(!verify(
            &key,
            &code,
            &stored.replace("argon2id", "argon2d"),
            &mut memory
        ));
        // The salt is 128 bits (ASVS v5.0.0-6.5.2 asks for at least 32).
        let parsed = PasswordHash::new(&stored).unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(parsed.salt.unwrap().decode_b64(&mut buf).unwrap().len(), 16);
        // It is Argon2id with the key as the secret input K (RFC 9106 §3.1): recompute it.
        let salt = parsed.salt.unwrap().decode_b64(&mut buf).unwrap().to_vec();
        let mut out = [0u8; 32];
        keyed(&key)
            .unwrap()
            .hash_password_into(code.as_bytes(), &salt, &mut out)
            .unwrap();
        assert_eq!(parsed.hash.unwrap().as_bytes(), out);
        // The cheap per-code cost fits in the memory kept for password hashing.
        assert_eq!(memory.held_bytes(), 2048 * 1024);
    }

    #[test]
    fn digests_are_keyed() {
        let rng = SeededRandom::new(6);
        let master = MasterKey::generate(&rng);
        let (_, key) = master.derive_key(None, KDF_PURPOSE).unwrap();
        let (_, other_key) = master.derive_key(None, "something-else").unwrap();
        let code = normalize(generate(&rng, 1)[0].expose_secret()).unwrap();
        let stored = digest(&key, &code);
        assert_eq!(stored, digest(&key, &code));
        assert_ne!(stored, digest(&other_key, &code));
        assert_ne!(stored, digest(&key, "abcdefghjkmn"));
        // Not a plain hash of the code: a dump without the key gives nothing to test against.
        assert_ne!(&stored[..], &crate::token::digest(&code)[..]);
        // It is HMAC-SHA256 of the normalised code (HMAC itself is checked with Wycheproof).
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key[..]).unwrap();
        mac.update(code.as_bytes());
        assert_eq!(&stored[..], &mac.finalize().into_bytes()[..]);

        let shown = format!("{}-{}", &code[..6].to_uppercase(), &code[6..]);
        assert!(matches(&key, &shown, &stored));
        assert!(!matches(&other_key, &shown, &stored));
        assert!(!matches(&key, "abcdef-ghjkmn", &stored));
        assert!(!matches(&key, "not a code", &stored));
        assert!(!matches(&key, &shown, &stored[..31]));
    }
}
