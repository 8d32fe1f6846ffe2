//! Opaque bearer tokens (sessions, CLI and API keys, invitations, CSRF): 32 random bytes
//! (256 bits, above the 128 of OWASP ASVS v5.0.0-7.2.3 and -11.5.1) shown once as
//! `sd_<kind>_<base64url without padding>` (RFC 4648 §5). Only `SHA-256(token)` is stored and
//! looked up, so a database dump holds no usable token (design/STYLE.md, "Secrets and passwords").
//! A plain hash suffices because the input has 256 bits of entropy (ASVS v5.0.0-6.5.2 note).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealdesk_core::random::Random;
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// Every token starts with this, so secret scanners and people can recognise it.
pub const PREFIX: &str = "sd_";
/// Random bytes per token.
pub const RANDOM_BYTES: usize = 32;
/// Length of the base64url body: 32 bytes without padding.
pub const BODY_CHARS: usize = 43;

/// What a token grants. The short names are part of the token text and must never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A browser session (`ses`).
    Session,
    /// A command-line login (`cli`).
    Cli,
    /// An API key for integrations (`api`).
    Api,
    /// A single-use staff invitation link (`inv`).
    Invite,
    /// A CSRF token bound to a session (`csrf`).
    Csrf,
    /// A short-lived visitor ticket for the WebSocket (`vt`).
    VisitorTicket,
    /// The long-lived key a widget keeps to come back as the same visitor (`vk`).
    VisitorKey,
}

impl TokenKind {
    /// Every kind, in a fixed order.
    pub const ALL: [TokenKind; 7] = [
        TokenKind::Session,
        TokenKind::Cli,
        TokenKind::Api,
        TokenKind::Invite,
        TokenKind::Csrf,
        TokenKind::VisitorTicket,
        TokenKind::VisitorKey,
    ];

    /// The stable short name used inside the token.
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Session => "ses",
            TokenKind::Cli => "cli",
            TokenKind::Api => "api",
            TokenKind::Invite => "inv",
            TokenKind::Csrf => "csrf",
            TokenKind::VisitorTicket => "vt",
            TokenKind::VisitorKey => "vk",
        }
    }

    /// The kind with short name `name`.
    pub fn from_name(name: &str) -> Option<TokenKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A new token of `kind` and the SHA-256 digest to store. The token is returned once, as a
/// secret; `random` must be a CSPRNG in production.
pub fn generate(random: &dyn Random, kind: TokenKind) -> (SecretString, [u8; 32]) {
    let mut bytes = Zeroizing::new([0u8; RANDOM_BYTES]);
    random.fill(bytes.as_mut());
    let mut token = String::with_capacity(PREFIX.len() + 5 + BODY_CHARS);
    token.push_str(PREFIX);
    token.push_str(kind.name());
    token.push('_');
    URL_SAFE_NO_PAD.encode_string(bytes.as_ref(), &mut token);
    let hash = digest(&token);
    (SecretString::from(token), hash)
}

/// `SHA-256` of the full token text, the value stored and looked up. Lookups by this digest
/// need no constant-time comparison: an attacker cannot choose inputs that hash to a prefix
/// of a stored digest.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The kind a token claims to be, from its prefix alone (for routing and error messages).
/// Use [`parse`] before trusting its shape.
pub fn kind_of(token: &str) -> Option<TokenKind> {
    let (kind, _) = token.strip_prefix(PREFIX)?.split_once('_')?;
    TokenKind::from_name(kind)
}

/// The kind of a well-formed token: `sd_`, a known kind, `_`, then exactly 43 base64url
/// characters that decode canonically to 32 bytes. Anything else is `None`, which callers
/// answer exactly like an unknown token.
pub fn parse(token: &str) -> Option<TokenKind> {
    let (name, body) = token.strip_prefix(PREFIX)?.split_once('_')?;
    let kind = TokenKind::from_name(name)?;
    if body.len() != BODY_CHARS
        || !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    // Rejects non-canonical trailing bits, so each 32-byte value has exactly one spelling.
    let decoded = Zeroizing::new(URL_SAFE_NO_PAD.decode(body).ok()?);
    (decoded.len() == RANDOM_BYTES).then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_core::random::SeededRandom;
    use secrecy::ExposeSecret as _;
    use std::collections::HashSet;

    #[test]
    fn tokens_have_the_documented_shape() {
        let rng = SeededRandom::new(1);
        for kind in TokenKind::ALL {
            let (token, hash) = generate(&rng, kind);
            let text = token.expose_secret();
            let body = text.strip_prefix(&format!("sd_{}_", kind.name())).unwrap();
            assert_eq!(body.len(), 43, "{text}");
            assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
            assert_eq!(parse(text), Some(kind));
            assert_eq!(kind_of(text), Some(kind));
            assert_eq!(hash, digest(text));
            assert_eq!(TokenKind::from_name(kind.name()), Some(kind));
            // The secret does not leak through Debug.
            assert!(!format!("{token:?}").contains(body));
        }
        let names: Vec<_> = TokenKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, ["ses", "cli", "api", "inv", "csrf", "vt", "vk"]);
    }

    #[test]
    fn tokens_are_unique_across_calls() {
        let rng = SeededRandom::new(2);
        let mut seen = HashSet::new();
        let mut digests = HashSet::new();
        for _ in 0..500 {
            let (token, hash) = generate(&rng, TokenKind::Session);
            assert!(seen.insert(token.expose_secret().to_owned()));
            assert!(digests.insert(hash));
        }
    }

    #[test]
    fn digest_is_stable_sha256_of_the_text() {
        // SHA-256("abc"), FIPS 180-4 example.
        assert_eq!(
            hex::encode(digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (token, hash) = generate(&SeededRandom::new(3), TokenKind::Api);
        let text = token.expose_secret();
        assert_eq!(digest(text), hash);
        // A fixed token's digest never changes (stored digests must keep matching).
        let fixed = format!("sd_ses_{}", "A".repeat(43));
        assert_eq!(parse(&fixed), Some(TokenKind::Session));
        assert_eq!(
            hex::encode(digest(&fixed)),
            "53a545d52d6d0ac75e7a37ad417ca5ebdf1c3bb5616cda0d761b97c586b77e29"
        );
        // Same random bytes, other kind: another digest.
        let (other, other_hash) = generate(&SeededRandom::new(3), TokenKind::Cli);
        assert_eq!(
            text.split_once("_api_").unwrap().1,
            other.expose_secret().split_once("_cli_").unwrap().1
        );
        assert_ne!(hash, other_hash);
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let (token, _) = generate(&SeededRandom::new(4), TokenKind::Session);
        let good = token.expose_secret();
        let body = &good["sd_ses_".len()..];
        let last = body.chars().last().unwrap();
        // A final character with non-zero trailing bits (43 chars carry 258 bits).
        let non_canonical = format!(
            "sd_ses_{}{}",
            &body[..42],
            if last == 'B' { 'C' } else { 'B' }
        );
        for bad in [
            String::new(),
            "sd_".to_owned(),
            "sd_ses_".to_owned(),
            format!("SD_ses_{body}"),
            format!("sd_SES_{body}"),
            format!("sd_xyz_{body}"),
            format!("xd_ses_{body}"),
            format!("sd_ses{body}"),
            format!("sd_ses_{}", &body[..42]),
            format!("sd_ses_{body}A"),
            format!("sd_ses_{}+", &body[..42]),
            format!("sd_ses_{}/", &body[..42]),
            format!("sd_ses_{}=", &body[..42]),
            format!("sd_ses_{body}="),
            format!(" {good}"),
            format!("{good}\n"),
            format!("sd_ses_{}é", &body[..41]),
            non_canonical,
        ] {
            assert_eq!(parse(&bad), None, "{bad:?}");
        }
        assert_eq!(kind_of("sd_api_whatever"), Some(TokenKind::Api));
        assert_eq!(kind_of("sd_nope_x"), None);
        assert_eq!(kind_of("bearer"), None);
    }
}
