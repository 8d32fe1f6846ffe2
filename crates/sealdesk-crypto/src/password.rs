//! Staff password hashing with Argon2id (RFC 9106), with parameters no weaker than the OWASP
//! Password Storage Cheat Sheet baseline (m = 19 456 KiB, t = 2, p = 1) and stored inside the
//! PHC string so that a raised policy can re-hash on the next login (NIST SP 800-63B §3.1.1.2;
//! OWASP ASVS v5.0.0-11.4.2).
//!
//! Hashing is CPU- and memory-heavy: callers on an async runtime must run it on a blocking
//! thread under a concurrency cap (done by the server's authentication service).
//!
//! New passwords are checked with [`check_new_password`] (length, block list, context words);
//! logins naming an unknown account call [`dummy_verify`] so they cost the same.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sealdesk_core::random::Random;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use zeroize::Zeroizing;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Minimum length when the password is the only factor (NIST SP 800-63B rev. 4 §3.1.1.2;
/// OWASP ASVS v5.0.0-6.2.1 "15 strongly recommended").
pub const MIN_CHARS_SINGLE_FACTOR: usize = 15;
/// Minimum length when a second factor is also required.
pub const MIN_CHARS_WITH_SECOND_FACTOR: usize = 8;
/// zxcvbn is superlinear in the input length; it only ever sees this many characters.
const ZXCVBN_MAX_CHARS: usize = 100;
/// Context words shorter than this are ignored (too many false matches: "co", "io", "bob").
const MIN_CONTEXT_CHARS: usize = 4;

/// Why a new password was refused. Stable: the server maps it to an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectionReason {
    /// Fewer than `min` characters (Unicode scalar values, not bytes).
    TooShort {
        /// The minimum, in characters.
        min: usize,
    },
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    TooLong,
    /// Too easy to guess: zxcvbn scores it below 3 (fewer than 10^10 guesses), or the whole
    /// password is one entry of its block lists (breached passwords, common words and names,
    /// also reversed, capitalised or with l33t substitutions).
    Common,
    /// Contains a context word: part of the e-mail address, the tenant name or a domain label
    /// (ASVS v5.0.0-6.2.11).
    ContainsContext,
}

impl RejectionReason {
    /// A stable machine-readable code: `too_short`, `too_long`, `common`, `contains_context`.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::TooLong => "too_long",
            Self::Common => "common",
            Self::ContainsContext => "contains_context",
        }
    }
}

/// A refused new password: a stable `reason` and a `message` safe to show the user (it never
/// contains the password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PasswordRejection {
    /// The stable reason.
    pub reason: RejectionReason,
    /// Help for the user, in English.
    pub message: String,
}

impl PasswordRejection {
    fn new(reason: RejectionReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// Lower-cased context words: each input whole, and each of its alphanumeric runs, when at
/// least [`MIN_CONTEXT_CHARS`] characters long.
fn context_words(context: &[&str]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for input in context {
        let lower = input.trim().to_lowercase();
        let parts = lower.split(|c: char| !c.is_alphanumeric());
        for word in std::iter::once(lower.as_str()).chain(parts) {
            if word.chars().count() >= MIN_CONTEXT_CHARS && !words.iter().any(|w| w == word) {
                words.push(word.to_owned());
            }
        }
    }
    words
}

/// Decides whether a new password is acceptable under NIST SP 800-63B rev. 4 §3.1.1.2: at least
/// `min_chars` characters ([`MIN_CHARS_SINGLE_FACTOR`] or [`MIN_CHARS_WITH_SECOND_FACTOR`]),
/// at most [`MAX_PASSWORD_BYTES`] bytes, any Unicode, **no composition rules**, not in a block
/// list, and without context words (`context`: e-mail address, tenant name, domain; compared
/// case-insensitively, words under 4 characters ignored). Checks run in that order.
///
/// The block list is zxcvbn's bundled frequency lists: the most common passwords from
/// breached-password corpora (with English words, names and TV/film words), matched also
/// reversed, capitalised and with l33t substitutions. They serve as the offline list of common
/// and breached passwords (ASVS v5.0.0-6.2.4, -6.2.12) without sending anything to an online
/// service. Over-long input is refused before zxcvbn runs, and zxcvbn sees at most the first
/// 100 characters, because its matching is slow on long input.
pub fn check_new_password(
    password: &SecretString,
    min_chars: usize,
    context: &[&str],
) -> Result<(), PasswordRejection> {
    let pw = password.expose_secret();
    if pw.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordRejection::new(
            RejectionReason::TooLong,
            format!("Use at most {MAX_PASSWORD_BYTES} bytes."),
        ));
    }
    if pw.chars().count() < min_chars {
        return Err(PasswordRejection::new(
            RejectionReason::TooShort { min: min_chars },
            format!("Use at least {min_chars} characters; a few unrelated words work well."),
        ));
    }
    let words = context_words(context);
    let lowered = Zeroizing::new(pw.to_lowercase());
    if let Some(word) = words.iter().find(|w| lowered.contains(w.as_str())) {
        return Err(PasswordRejection::new(
            RejectionReason::ContainsContext,
            format!(
                "Do not use \"{word}\" in your password: it is part of your e-mail address \
                 or organisation."
            ),
        ));
    }
    let capped = Zeroizing::new(pw.chars().take(ZXCVBN_MAX_CHARS).collect::<String>());
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let entropy = zxcvbn::zxcvbn(&capped, &inputs);
    let listed = matches!(
        entropy.sequence(),
        [only] if matches!(only.pattern, zxcvbn::matching::patterns::MatchPattern::Dictionary(_))
    );
    if entropy.score() < zxcvbn::Score::Three || listed {
        let mut parts: Vec<String> = vec!["This password is too easy to guess.".to_owned()];
        if let Some(feedback) = entropy.feedback() {
            parts.extend(feedback.warning().map(|w| w.to_string()));
            parts.extend(feedback.suggestions().iter().map(ToString::to_string));
        }
        if parts.len() == 1 {
            parts.push(
                "It appears in lists of common or breached passwords. Use a few uncommon words."
                    .to_owned(),
            );
        }
        return Err(PasswordRejection::new(
            RejectionReason::Common,
            parts.join(" "),
        ));
    }
    Ok(())
}

/// The dummy hash's input: invalid UTF-8, so no `SecretString` can ever match it.
const DUMMY_INPUT: [u8; 32] = [0xFF; 32];

/// PHC strings of [`DUMMY_INPUT`] per policy, computed once each (fixed salt: nothing secret).
static DUMMY_HASHES: OnceLock<Mutex<HashMap<HashPolicy, String>>> = OnceLock::new();

fn dummy_phc(policy: HashPolicy) -> Option<String> {
    let cache = DUMMY_HASHES.get_or_init(Mutex::default);
    if let Some(phc) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&policy)
    {
        return Some(phc.clone());
    }
    // Computed outside the lock; two racing first calls just compute the same value twice.
    let salt = SaltString::encode_b64(b"sealdesk-dummy-1").ok()?;
    let phc = policy
        .argon2()
        .ok()?
        .hash_password(&DUMMY_INPUT, &salt)
        .ok()?
        .to_string();
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(policy, phc.clone());
    Some(phc)
}

/// Spends the work of one [`verify`] under `policy` for a login naming an unknown account,
/// so response time does not reveal whether the account exists (OWASP ASVS v5.0.0-6.3.8). It
/// runs the real [`verify`] against a fixed PHC string of an input no password can equal; the
/// over-long check is the same as well. The fixed hash is computed lazily on the first call
/// per policy: call it once at startup so the first unknown-account login is not slower.
pub fn dummy_verify(policy: HashPolicy, password: &SecretString) {
    if let Some(phc) = dummy_phc(policy) {
        let _ = verify(policy, password, &phc);
    }
}

#[cfg(test)]
mod tests;
