//! Proof-of-work challenges: when a tenant is under attack, a new visitor must spend a little
//! CPU before getting a ticket (self-hosted, no third-party captcha; the hashcash idea).
//!
//! A challenge is stateless for the server: `v1 ‖ expiry ‖ difficulty ‖ 16 random bytes ‖
//! HMAC-SHA-256(key, all of that)`, base64url. A solution is a number `n` such that
//! `SHA-256(challenge text ‖ ":" ‖ n)` starts with `difficulty` zero bits. The HMAC makes
//! challenges unforgeable; the caller keeps spent challenges until they expire so that each
//! is used once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sealdesk_core::random::Random;
use sha2::{Digest as _, Sha256};

const VERSION: u8 = 1;
const BODY: usize = 1 + 8 + 1 + 16;
const TOTAL: usize = BODY + 32;
/// The hardest difficulty accepted (about 2^24 hashes: seconds in a browser).
pub const MAX_DIFFICULTY: u8 = 24;

/// Why a solution was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// Not a challenge this server issued.
    #[error("invalid challenge")]
    Invalid,
    /// The challenge expired.
    #[error("challenge expired")]
    Expired,
    /// The solution does not have enough leading zero bits.
    #[error("wrong solution")]
    Wrong,
}

fn mac(key: &[u8], body: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Issues a challenge of `difficulty` bits valid until `expires_ms` (Unix milliseconds).
pub fn issue(key: &[u8], random: &dyn Random, difficulty: u8, expires_ms: i64) -> String {
    let mut raw = [0u8; TOTAL];
    raw[0] = VERSION;
    raw[1..9].copy_from_slice(&expires_ms.to_be_bytes());
    raw[9] = difficulty.min(MAX_DIFFICULTY);
    random.fill(&mut raw[10..BODY]);
    let tag = mac(key, &raw[..BODY]);
    raw[BODY..].copy_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Checks a solution at `now_ms`. Returns the challenge's expiry (to remember it as spent
/// until then).
pub fn verify(key: &[u8], challenge: &str, solution: u64, now_ms: i64) -> Result<i64, PowError> {
    let raw = URL_SAFE_NO_PAD
        .decode(challenge)
        .map_err(|_| PowError::Invalid)?;
    if raw.len() != TOTAL || raw[0] != VERSION {
        return Err(PowError::Invalid);
    }
    if !crate::ct_eq(&mac(key, &raw[..BODY]), &raw[BODY..]) {
        return Err(PowError::Invalid);
    }
    let mut expiry = [0u8; 8];
    expiry.copy_from_slice(&raw[1..9]);
    let expires_ms = i64::from_be_bytes(expiry);
    if now_ms >= expires_ms {
        return Err(PowError::Expired);
    }
    if leading_zero_bits(challenge, solution) < u32::from(raw[9]) {
        return Err(PowError::Wrong);
    }
    Ok(expires_ms)
}

/// The difficulty a challenge asks for (0 if it is not a well-formed challenge).
pub fn difficulty(challenge: &str) -> u8 {
    URL_SAFE_NO_PAD
        .decode(challenge)
        .ok()
        .filter(|raw| raw.len() == TOTAL)
        .map_or(0, |raw| raw[9])
}

fn leading_zero_bits(challenge: &str, solution: u64) -> u32 {
    let digest = Sha256::new()
        .chain_update(challenge.as_bytes())
        .chain_update(b":")
        .chain_update(solution.to_string().as_bytes())
        .finalize();
    let mut bits = 0;
    for byte in digest {
        if byte == 0 {
            bits += 8;
        } else {
            bits += byte.leading_zeros();
            break;
        }
    }
    bits
}

/// Finds a solution by brute force (what the widget does in a worker; tests and the Rust
/// client use this).
pub fn solve(challenge: &str) -> u64 {
    let want = u32::from(difficulty(challenge));
    // At most 24 bits are asked for, so a solution is expected within ~2^24 tries; 2^40
    // bounds the search without ever being reached in practice.
    (0u64..1 << 40)
        .find(|n| leading_zero_bits(challenge, *n) >= want)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_core::random::SeededRandom;

    #[test]
    fn a_solved_challenge_verifies_once_computed() {
        let key = [5u8; 32];
        let random = SeededRandom::new(1);
        let challenge = issue(&key, &random, 12, 10_000);
        assert_eq!(difficulty(&challenge), 12);
        let n = solve(&challenge);
        assert_eq!(verify(&key, &challenge, n, 9_999), Ok(10_000));
        assert_eq!(verify(&key, &challenge, n, 10_000), Err(PowError::Expired));
        // A wrong number almost surely fails at 12 bits; find one that does.
        let wrong = (0u64..1 << 20)
            .find(|m| leading_zero_bits(&challenge, *m) < 12)
            .unwrap();
        assert_eq!(verify(&key, &challenge, wrong, 0), Err(PowError::Wrong));
    }

    #[test]
    fn forged_or_altered_challenges_are_invalid() {
        let key = [5u8; 32];
        let random = SeededRandom::new(2);
        let challenge = issue(&key, &random, 1, 10_000);
        assert_eq!(verify(&[6u8; 32], &challenge, 0, 0), Err(PowError::Invalid));
        // Lowering the difficulty byte breaks the MAC.
        let mut raw = URL_SAFE_NO_PAD.decode(&challenge).unwrap();
        raw[9] = 0;
        let altered = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(verify(&key, &altered, 0, 0), Err(PowError::Invalid));
        assert_eq!(verify(&key, "garbage", 0, 0), Err(PowError::Invalid));
        assert!(issue(&key, &random, 200, 1).len() > 10);
        assert_eq!(difficulty(&issue(&key, &random, 200, 1)), MAX_DIFFICULTY);
    }
}
