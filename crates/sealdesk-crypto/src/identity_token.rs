//! Identity tokens: a tenant's website vouches for its logged-in customer with a signed JWT
//! (RFC 7519) in JWS compact serialisation (RFC 7515), so the widget's visitor is marked
//! verified and finds only that customer's conversations.
//!
//! Two key kinds, chosen per inbox: `HS256` (HMAC-SHA-256, RFC 7518 §3.2) with a secret the
//! server generated, or `EdDSA` with the tenant's own Ed25519 key (RFC 8037; the server
//! holds only the public key). The algorithm is fixed by the inbox's key, never taken from
//! the token: a token whose header names another algorithm (`none`, an HMAC with a public
//! key, …) is refused (RFC 8725 §2.1, §3.1; OWASP ASVS v5.0.0-9.1.1, 9.1.2). Claims checked
//! (RFC 8725 §3.8–3.10, ASVS 9.2.1–9.2.3): `exp` required and in the future, `nbf` if present,
//! lifetime at most [`MAX_LIFETIME_SECS`], `aud` must name the inbox, `sub` is the customer.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The longest a token may live (`exp − iat`, or `exp − now` without `iat`): one day.
pub const MAX_LIFETIME_SECS: i64 = 86_400;
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 60;
/// Tokens longer than this are refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 4096;

/// The key an inbox verifies identity tokens with.
#[derive(Clone)]
pub enum IdentityKey {
    /// A shared HMAC secret (at least 32 bytes).
    Hs256(Vec<u8>),
    /// The tenant's Ed25519 public key.
    Ed25519(VerifyingKey),
}

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityKey::Hs256(_) => f.write_str("Hs256(<redacted>)"),
            IdentityKey::Ed25519(k) => write!(f, "Ed25519({})", hex::encode(k.as_bytes())),
        }
    }
}

impl IdentityKey {
    /// The JWS `alg` this key verifies.
    pub fn alg(&self) -> &'static str {
        match self {
            IdentityKey::Hs256(_) => "HS256",
            IdentityKey::Ed25519(_) => "EdDSA",
        }
    }

    /// An Ed25519 public key from its 32 bytes; `None` if they are not a valid point.
    pub fn ed25519(public: &[u8]) -> Option<Self> {
        let bytes: [u8; 32] = public.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes)
            .ok()
            .map(IdentityKey::Ed25519)
    }
}

/// Why a token was refused. Deliberately coarse: the client learns only "invalid".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts, bad JSON, or too long.
    #[error("malformed identity token")]
    Malformed,
    /// The header's algorithm is not the inbox's.
    #[error("identity token algorithm not accepted")]
    Algorithm,
    /// The signature does not verify.
    #[error("identity token signature invalid")]
    Signature,
    /// Expired, not yet valid, or living too long.
    #[error("identity token expired or not yet valid")]
    Time,
    /// The audience is not this inbox.
    #[error("identity token is for another audience")]
    Audience,
    /// No usable subject.
    #[error("identity token has no subject")]
    Subject,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    exp: Option<i64>,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
}

/// Verifies a JWS compact token's signature with `key` and returns its payload bytes. The
/// header's `alg` must be exactly the key's; `crit` is refused (no extensions understood).
pub fn verify_signature(token: &str, key: &IdentityKey) -> Result<Vec<u8>, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| TokenError::Malformed);
    let header: Header =
        serde_json::from_slice(&decode(header_b64)?).map_err(|_| TokenError::Malformed)?;
    if header.alg != key.alg() || header.crit.is_some() {
        return Err(TokenError::Algorithm);
    }
    let signature = decode(signature_b64)?;
    let signed = &token[..header_b64.len() + 1 + payload_b64.len()];
    match key {
        IdentityKey::Hs256(secret) => {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(secret).map_err(|_| TokenError::Signature)?;
            mac.update(signed.as_bytes());
            // `verify_slice` compares in constant time.
            mac.verify_slice(&signature)
                .map_err(|_| TokenError::Signature)?;
        }
        IdentityKey::Ed25519(public) => {
            let signature = Signature::from_slice(&signature).map_err(|_| TokenError::Signature)?;
            public
                .verify_strict(signed.as_bytes(), &signature)
                .map_err(|_| TokenError::Signature)?;
        }
    }
    decode(payload_b64)
}

/// Verifies an identity token for the inbox whose audience string is `audience` at Unix time
/// `now`, and returns the customer id (`sub`).
pub fn verify(
    token: &str,
    key: &IdentityKey,
    audience: &str,
    now: i64,
) -> Result<String, TokenError> {
    let payload = verify_signature(token, key)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    let exp = claims.exp.ok_or(TokenError::Time)?;
    if now > exp + LEEWAY_SECS {
        return Err(TokenError::Time);
    }
    if claims.nbf.is_some_and(|nbf| now + LEEWAY_SECS < nbf) {
        return Err(TokenError::Time);
    }
    let start = claims.iat.unwrap_or(now).min(now);
    if exp - start > MAX_LIFETIME_SECS {
        return Err(TokenError::Time);
    }
    let audience_ok = match &claims.aud {
        Some(Audience::One(a)) => a == audience,
        Some(Audience::Many(list)) => list.iter().any(|a| a == audience),
        None => false,
    };
    if !audience_ok {
        return Err(TokenError::Audience);
    }
    claims
        .sub
        .filter(|s| !s.is_empty())
        .ok_or(TokenError::Subject)
}

/// Signs claims with an HS256 key (tests, the self-test, and documentation examples).
pub fn sign_hs256(secret: &[u8], claims: &serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use serde_json::json;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    /// RFC 7515 Appendix A.1: the HS256 example.
    #[test]
    fn rfc7515_a1_hs256_vector() {
        let key = IdentityKey::Hs256(b64(
            "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
        ));
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let payload = verify_signature(token, &key).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(claims["iss"], "joe");
        assert_eq!(claims["exp"], 1_300_819_380);
        let mut tampered = token.to_owned();
        tampered.pop();
        tampered.push('Y');
        assert_eq!(
            verify_signature(&tampered, &key),
            Err(TokenError::Signature)
        );
    }

    /// RFC 8037 Appendix A.4: the Ed25519 signing example.
    #[test]
    fn rfc8037_a4_eddsa_vector() {
        let key =
            IdentityKey::ed25519(&b64("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")).unwrap();
        let token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
        assert_eq!(
            verify_signature(token, &key).unwrap(),
            b"Example of Ed25519 signing"
        );
        // The same token against an HS256 key: refused on the algorithm, before any MAC.
        let hs = IdentityKey::Hs256(vec![7; 32]);
        assert_eq!(verify_signature(token, &hs), Err(TokenError::Algorithm));
    }

    fn claims(sub: &str, aud: &str, iat: i64, exp: i64) -> serde_json::Value {
        json!({"sub": sub, "aud": aud, "iat": iat, "exp": exp})
    }

    #[test]
    fn claims_are_checked() {
        let secret = vec![42u8; 32];
        let key = IdentityKey::Hs256(secret.clone());
        let now = 1_800_000_000;
        let ok = sign_hs256(&secret, &claims("cust-1", "inbox-a", now, now + 600));
        assert_eq!(verify(&ok, &key, "inbox-a", now).unwrap(), "cust-1");
        // Another inbox's audience.
        assert_eq!(verify(&ok, &key, "inbox-b", now), Err(TokenError::Audience));
        // Expired (beyond the leeway), not yet valid, too long-lived.
        assert_eq!(
            verify(&ok, &key, "inbox-a", now + 700),
            Err(TokenError::Time)
        );
        let future = sign_hs256(
            &secret,
            &json!({"sub":"c","aud":"inbox-a","nbf": now + 600, "exp": now + 900}),
        );
        assert_eq!(verify(&future, &key, "inbox-a", now), Err(TokenError::Time));
        let long = sign_hs256(
            &secret,
            &claims("c", "inbox-a", now, now + MAX_LIFETIME_SECS + 1),
        );
        assert_eq!(verify(&long, &key, "inbox-a", now), Err(TokenError::Time));
        let no_exp = sign_hs256(&secret, &json!({"sub":"c","aud":"inbox-a"}));
        assert_eq!(verify(&no_exp, &key, "inbox-a", now), Err(TokenError::Time));
        let no_sub = sign_hs256(&secret, &json!({"aud":"inbox-a","exp": now + 10}));
        assert_eq!(
            verify(&no_sub, &key, "inbox-a", now),
            Err(TokenError::Subject)
        );
        let many = sign_hs256(
            &secret,
            &json!({"sub":"c","aud":["x","inbox-a"],"exp": now + 10}),
        );
        assert_eq!(verify(&many, &key, "inbox-a", now).unwrap(), "c");
        // Signed with another secret.
        let forged = sign_hs256(&[1u8; 32], &claims("cust-1", "inbox-a", now, now + 600));
        assert_eq!(
            verify(&forged, &key, "inbox-a", now),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn unsigned_and_malformed_tokens_are_refused() {
        let key = IdentityKey::Hs256(vec![42u8; 32]);
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin","aud":"a","exp":9999999999}"#);
        let unsigned = format!("{none_header}.{payload}.");
        assert_eq!(verify(&unsigned, &key, "a", 0), Err(TokenError::Algorithm));
        let crit = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","crit":["exp"]}"#);
        assert_eq!(
            verify_signature(&format!("{crit}.{payload}.AAAA"), &key),
            Err(TokenError::Algorithm)
        );
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.??.**",
            &"a".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert_eq!(
                verify(bad, &key, "a", 0),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
    }

    /// Wycheproof Ed25519 verification vectors, through the exact call identity tokens use
    /// (`verify_strict`): every valid signature verifies, every invalid one is refused.
    #[test]
    fn wycheproof_ed25519() {
        use wycheproof::TestResult;
        use wycheproof::eddsa::{TestName, TestSet};
        let set = TestSet::load(TestName::Ed25519).unwrap();
        let mut checked = 0;
        for group in set.test_groups {
            let Some(IdentityKey::Ed25519(public)) = IdentityKey::ed25519(&group.key.pk) else {
                continue;
            };
            for t in group.tests {
                let verified = Signature::from_slice(&t.sig)
                    .is_ok_and(|sig| public.verify_strict(&t.msg, &sig).is_ok());
                match t.result {
                    TestResult::Valid => assert!(verified, "tc {}", t.tc_id),
                    TestResult::Invalid => assert!(!verified, "tc {}", t.tc_id),
                    TestResult::Acceptable => {}
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} vectors");
    }

    #[test]
    fn eddsa_tokens_from_the_tenants_key() {
        let signing = SigningKey::from_bytes(&[9u8; 32]);
        let key = IdentityKey::Ed25519(signing.verifying_key());
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA"}"#);
        let payload = URL_SAFE_NO_PAD
            .encode(br#"{"sub":"c-9","aud":"inbox","exp":2000000100,"iat":2000000000}"#);
        let signed = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(signing.sign(signed.as_bytes()).to_bytes());
        let token = format!("{signed}.{signature}");
        assert_eq!(verify(&token, &key, "inbox", 2_000_000_050).unwrap(), "c-9");
        assert!(IdentityKey::ed25519(&[0u8; 31]).is_none());
    }
}
