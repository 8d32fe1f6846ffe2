//! Staff password hashing with Argon2id (RFC 9106), with parameters no weaker than the OWASP
//! Password Storage Cheat Sheet baseline (m = 19 456 KiB, t = 2, p = 1) and stored inside the
//! PHC string so that a raised policy can re-hash on the next login (NIST SP 800-63B §3.1.1.2;
//! OWASP ASVS v5.0.0-11.4.2).
//!
//! Hashing is CPU- and memory-heavy: callers on an async runtime must run it on a blocking
//! thread under a concurrency cap (done by the server's authentication service). The `*_with`
//! functions take the Argon2 working memory as a [`HashMemory`] the caller keeps and reuses,
//! so a server that holds one per hashing permit allocates nothing per login.
//!
//! New passwords are checked with [`check_new_password`] (length, block list, context words);
//! logins naming an unknown account call [`dummy_verify`] so they cost the same.

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

    fn params(&self) -> Result<Params, PasswordError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|e| PasswordError::Params(e.to_string()))
    }

    fn argon2(&self) -> Result<Argon2<'static>, PasswordError> {
        Ok(Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            self.params()?,
        ))
    }

    /// How many 1 KiB Argon2 blocks a hash under this policy works in.
    fn block_count(&self) -> Option<usize> {
        self.params().ok().map(|p| p.block_count())
    }
}

/// Argon2 working memory (`m` blocks of 1 KiB), kept by the caller and reused from one hash
/// to the next. Allocating and freeing 19 MiB per login makes glibc raise its mmap threshold
/// and keep the freed buffers in fragmented heap arenas, so a login storm grows the resident
/// size by hundreds of MB that never come back (docs/performance.md, S7); a buffer kept per
/// hashing permit bounds Argon2's memory at permits × m without a page fault per login.
///
/// It grows on first use to what the parameters need, and gives back anything beyond the
/// current policy after a hash with larger stored parameters, so it stays at the policy's
/// size. Argon2 overwrites every block in its first pass (RFC 9106 §3.4), so a reused buffer
/// needs no clearing for correctness. It is not wiped between hashes either: the blocks are
/// derived from a password that stays in process memory anyway (request buffers), and a
/// freed buffer was not wiped before this type existed.
#[derive(Default)]
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl std::fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashMemory")
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl HashMemory {
    /// Empty; nothing is allocated until the first hash.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes of working memory currently held.
    pub fn held_bytes(&self) -> usize {
        self.blocks.len() * Block::SIZE
    }

    /// At least `params.block_count()` blocks (the Argon2 crate uses the first that many).
    fn blocks_for(&mut self, params: &Params) -> &mut Vec<Block> {
        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::new());
        }
        &mut self.blocks
    }

    /// Gives back memory beyond what `policy` needs, after a hash with larger (stored)
    /// parameters: the buffer stays at the policy's size.
    fn trim_to(&mut self, policy: HashPolicy) {
        let keep = policy.block_count().unwrap_or(0);
        if self.blocks.len() > keep {
            self.blocks.truncate(keep);
            self.blocks.shrink_to_fit();
        }
    }
}

/// Computes Argon2id of `pw` with `salt` in `memory` and returns the PHC string, in exactly
/// the format of the `password-hash` crate's `hash_password` (algorithm, version, m, t, p,
/// salt, hash), so hashes made either way verify either way.
pub(crate) fn phc_hash(
    argon2: &Argon2<'_>,
    pw: &[u8],
    salt: &[u8],
    memory: &mut HashMemory,
) -> Result<String, PasswordError> {
    let params = argon2.params().clone();
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let mut out = Zeroizing::new(vec![0u8; len]);
    argon2
        .hash_password_into_with_memory(pw, salt, out.as_mut_slice(), memory.blocks_for(&params))
        .map_err(|e| PasswordError::Params(e.to_string()))?;
    let salt = SaltString::encode_b64(salt).map_err(|e| PasswordError::Params(e.to_string()))?;
    let params_string =
        ParamsString::try_from(&params).map_err(|e| PasswordError::Params(e.to_string()))?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: params_string,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| PasswordError::Params(e.to_string()))?),
    };
    Ok(hash.to_string())
}

/// Verifies `pw` against a parsed Argon2id PHC string with the parameters, version and salt
/// inside it, computing the hash in `memory` and comparing in constant time
/// ([`crate::ct_eq`]; OWASP ASVS v5.0.0-11.2.4). `secret` is Argon2's secret input K
/// (RFC 9106 §3.1), for hashes keyed with a server-held key. Returns the stored parameters.
pub(crate) fn phc_verify(
    pw: &[u8],
    parsed: &PasswordHash<'_>,
    secret: Option<&[u8]>,
    memory: &mut HashMemory,
) -> Result<Params, PasswordError> {
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(PasswordError::MalformedHash);
    }
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|_| PasswordError::MalformedHash)?,
        None => Version::V0x13,
    };
    let params = Params::try_from(parsed).map_err(|_| PasswordError::MalformedHash)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(PasswordError::MalformedHash);
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|_| PasswordError::MalformedHash)?;
    let argon2 = match secret {
        Some(key) => Argon2::new_with_secret(key, Algorithm::Argon2id, version, params.clone())
            .map_err(|_| PasswordError::MalformedHash)?,
        None => Argon2::new(Algorithm::Argon2id, version, params.clone()),
    };
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    argon2
        .hash_password_into_with_memory(pw, salt, out.as_mut_slice(), memory.blocks_for(&params))
        .map_err(|_| PasswordError::MalformedHash)?;
    if crate::ct_eq(&out, expected.as_bytes()) {
        Ok(params)
    } else {
        Err(PasswordError::Mismatch)
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
/// Allocates its working memory; see [`hash_with`] to reuse it.
pub fn hash(
    policy: HashPolicy,
    random: &dyn Random,
    password: &SecretString,
) -> Result<String, PasswordError> {
    hash_with(policy, random, password, &mut HashMemory::new())
}

/// [`hash`] with caller-kept working memory.
pub fn hash_with(
    policy: HashPolicy,
    random: &dyn Random,
    password: &SecretString,
    memory: &mut HashMemory,
) -> Result<String, PasswordError> {
    let pw = password.expose_secret();
    if pw.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let phc = phc_hash(&policy.argon2()?, pw.as_bytes(), &salt, memory);
    memory.trim_to(policy);
    phc
}

/// Verifies `password` against a stored PHC string (the parameters inside it are used), and
/// says whether it should be re-hashed under `policy`. Allocates its working memory; see
/// [`verify_with`] to reuse it.
pub fn verify(
    policy: HashPolicy,
    password: &SecretString,
    phc: &str,
) -> Result<Verified, PasswordError> {
    verify_with(policy, password, phc, &mut HashMemory::new())
}

/// [`verify`] with caller-kept working memory.
pub fn verify_with(
    policy: HashPolicy,
    password: &SecretString,
    phc: &str,
    memory: &mut HashMemory,
) -> Result<Verified, PasswordError> {
    let pw = password.expose_secret();
    if pw.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let parsed = PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
    let stored = phc_verify(pw.as_bytes(), &parsed, None, memory);
    memory.trim_to(policy);
    let stored = stored?;
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

fn dummy_phc(policy: HashPolicy, memory: &mut HashMemory) -> Option<String> {
    let cache = DUMMY_HASHES.get_or_init(Mutex::default);
    if let Some(phc) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&policy)
    {
        return Some(phc.clone());
    }
    // Computed outside the lock; two racing first calls just compute the same value twice.
    let phc = phc_hash(
        &policy.argon2().ok()?,
        &DUMMY_INPUT,
        b"sealdesk-dummy-1",
        memory,
    )
    .ok()?;
    memory.trim_to(policy);
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
    dummy_verify_with(policy, password, &mut HashMemory::new());
}

/// [`dummy_verify`] with caller-kept working memory.
pub fn dummy_verify_with(policy: HashPolicy, password: &SecretString, memory: &mut HashMemory) {
    if let Some(phc) = dummy_phc(policy, memory) {
        let _ = verify_with(policy, password, &phc, memory);
    }
}

#[cfg(test)]
mod tests;
