//! One-time passwords for staff second factors: HOTP (RFC 4226) and TOTP (RFC 6238) built on
//! HMAC, secrets in RFC 4648 base32, `otpauth://` enrolment URIs (Google Authenticator "Key
//! Uri Format") and QR codes. Codes are single-use (OWASP ASVS v5.0.0-6.5.1) and live one
//! 30 s step, with ±1 step of clock skew (RFC 6238 §5.2; ASVS v5.0.0-6.5.5).

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use qrcode::types::Color;
use qrcode::{EcLevel, QrCode};
use sealdesk_core::random::Random;
use subtle::{Choice, ConditionallySelectable as _};

/// The hash function under HMAC (RFC 6238 §1.2 allows SHA-1, SHA-256 and SHA-512).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TotpAlgorithm {
    /// HMAC-SHA-1, the RFC 4226 original and what every authenticator app supports.
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl TotpAlgorithm {
    /// The name used in `otpauth://` URIs (`SHA1`, `SHA256`, `SHA512`).
    pub fn uri_name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }
}

/// Product profile: the algorithm. SHA-1 because authenticator apps widely ignore the
/// `algorithm` parameter; HMAC-SHA-1 is not affected by SHA-1 collisions (RFC 4226 appendix A).
pub const PROFILE_ALGORITHM: TotpAlgorithm = TotpAlgorithm::Sha1;
/// Product profile: digits per code.
pub const PROFILE_DIGITS: u32 = 6;
/// Product profile: the time step X in seconds (RFC 6238 §5.2 recommends 30 s).
pub const PROFILE_STEP_SECS: u64 = 30;
/// Accepted clock skew, in steps on each side of the current one.
pub const PROFILE_SKEW_STEPS: i64 = 1;
/// Secret length in bytes: 160 bits, the RFC 4226 §4 recommendation (R6).
pub const SECRET_LEN: usize = 20;

/// Errors are impossible for HMAC (RFC 2104 accepts keys of any length); abort rather than
/// produce a code from a wrong key, as `MasterKey::seal` does for its impossible error.
fn hmac<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = <M as Mac>::new_from_slice(key) else {
        std::process::abort()
    };
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn hmac_of(alg: TotpAlgorithm, key: &[u8], msg: &[u8]) -> Vec<u8> {
    match alg {
        TotpAlgorithm::Sha1 => hmac::<Hmac<sha1::Sha1>>(key, msg),
        TotpAlgorithm::Sha256 => hmac::<Hmac<sha2::Sha256>>(key, msg),
        TotpAlgorithm::Sha512 => hmac::<Hmac<sha2::Sha512>>(key, msg),
    }
}

/// HOTP (RFC 4226 §5.3): HMAC over the 8-byte big-endian `counter`, dynamic truncation to a
/// 31-bit number, then its last `digits` decimal digits, zero-padded. RFC 4226 asks for 6 to 8
/// digits; more than 10 only adds leading zeros, since the truncated value is below 2^31.
pub fn hotp(secret: &[u8], counter: u64, digits: u32, alg: TotpAlgorithm) -> String {
    let mac = hmac_of(alg, secret, &counter.to_be_bytes());
    // Offset: the low 4 bits of the last byte; at most 15, so offset + 4 fits every digest.
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let word = mac
        .get(offset..offset + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .unwrap_or_default();
    let binary = u64::from(u32::from_be_bytes(word) & 0x7fff_ffff);
    let value = 10u64.checked_pow(digits).map_or(binary, |m| binary % m);
    let width = usize::try_from(digits).unwrap_or(usize::MAX);
    format!("{value:0width$}")
}

/// TOTP (RFC 6238 §4.2) at Unix time `unix_secs` with T0 = 0 and step X = `step_secs` (a step
/// of 0 is treated as 1 s). Times before 1970 give negative steps, which are fed to HOTP as
/// their two's-complement bit pattern; they never occur in practice.
pub fn totp_at(
    secret: &[u8],
    unix_secs: i64,
    step_secs: u64,
    digits: u32,
    alg: TotpAlgorithm,
) -> String {
    let step = i64::try_from(step_secs.max(1)).unwrap_or(i64::MAX);
    hotp(
        secret,
        unix_secs.div_euclid(step).cast_unsigned(),
        digits,
        alg,
    )
}

/// The product-profile time step (30 s, T0 = 0) containing `unix_secs`.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(PROFILE_STEP_SECS.cast_signed())
}

/// The product-profile code (SHA-1, 6 digits) of time step `step`.
pub fn code_for_step(secret: &[u8], step: i64) -> String {
    hotp(
        secret,
        step.cast_unsigned(),
        PROFILE_DIGITS,
        PROFILE_ALGORITHM,
    )
}

/// Verifies a product-profile code entered at `unix_secs` (the server's clock, never the
/// client's: ASVS v5.0.0-6.5.8). Whitespace is ignored; anything but exactly six ASCII digits is
/// refused. The codes of steps t−1, t and t+1 are accepted if their step is strictly greater
/// than `last_used_step`, so a code works once (ASVS v5.0.0-6.5.1). Returns the matched step,
/// which the caller must store as the new `last_used_step` in the same transaction.
///
/// All three windows are always computed and compared in constant time, and the result is
/// selected without branching on which window matched, so timing does not reveal it.
pub fn verify(
    secret: &[u8],
    code: &str,
    unix_secs: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let width = usize::try_from(PROFILE_DIGITS).unwrap_or(usize::MAX);
    if code.len() != width || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    let mut found = Choice::from(0);
    let mut matched = 0i64;
    for delta in -PROFILE_SKEW_STEPS..=PROFILE_SKEW_STEPS {
        let step = now.saturating_add(delta);
        let expected = code_for_step(secret, step);
        // `&` rather than `&&`: the comparison always runs. Freshness is not secret.
        let fresh = last_used_step.is_none_or(|last| step > last);
        let ok = Choice::from(u8::from(
            crate::ct_eq(expected.as_bytes(), code.as_bytes()) & fresh,
        ));
        // The latest matching step wins, which is the conservative choice for replay.
        matched = i64::conditional_select(&matched, &step, ok);
        found |= ok;
    }
    bool::from(found).then_some(matched)
}

/// A fresh 160-bit secret from `random` (which must be a CSPRNG in production:
/// ASVS v5.0.0-6.5.3).
pub fn generate_secret(random: &dyn Random) -> [u8; SECRET_LEN] {
    let mut secret = [0u8; SECRET_LEN];
    random.fill(&mut secret);
    secret
}

/// The secret as RFC 4648 base32: upper case, no padding (what authenticator apps expect).
pub fn encode_secret(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// Decodes a base32 secret as typed by a person: case-insensitive, spaces ignored, trailing
/// `=` padding optional. Returns `None` for an empty or malformed secret (including
/// non-zero trailing bits, which canonical encoders never produce).
pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let unpadded = compact.trim_end_matches('=');
    if unpadded.is_empty() {
        return None;
    }
    data_encoding::BASE32_NOPAD.decode(unpadded.as_bytes()).ok()
}

/// Percent-encodes everything but RFC 3986 unreserved characters (`A–Z a–z 0–9 - . _ ~`),
/// so `:` `/` `?` `&` `=` `#` `%` `+` and spaces can never change the URI's structure.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The enrolment URI in the Key Uri Format:
/// `otpauth://totp/{issuer}:{account}?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
/// Issuer and account are percent-encoded (a `:` inside either becomes `%3A`, so the label's
/// one literal `:` stays the separator). The URI contains the secret: show it once, never log it.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
         &algorithm={alg}&digits={PROFILE_DIGITS}&period={PROFILE_STEP_SECS}",
        account = percent_encode(account),
        secret = encode_secret(secret),
        alg = PROFILE_ALGORITHM.uri_name(),
    )
}

fn qr(uri: &str) -> Option<QrCode> {
    QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).ok()
}

/// The URI as a QR code in SVG (error correction level M, with the standard 4-module quiet
/// zone). `None` only if the URI exceeds QR capacity (about 2.3 KB at level M).
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qr(uri)?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
    )
}

/// Quiet-zone width in modules (ISO/IEC 18004 §9.1 asks for 4).
const QUIET_ZONE: usize = 4;

/// The URI as a QR code for a terminal: each character cell carries two module rows with the
/// half blocks `▀ ▄ █`. Light modules (and the 4-module quiet zone) are drawn as blocks, so the
/// code reads correctly in the usual light-text-on-dark terminal, as `qrencode -t UTF8` does.
/// `None` only if the URI exceeds QR capacity.
pub fn qr_text(uri: &str) -> Option<String> {
    let code = qr(uri)?;
    let width = code.width();
    let colors = code.to_colors();
    let full = width + 2 * QUIET_ZONE;
    // Light unless the coordinate (in the padded grid) is a dark module of the code.
    let light = |x: usize, y: usize| -> bool {
        let inside = |v: usize| v.checked_sub(QUIET_ZONE).filter(|v| *v < width);
        match (inside(x), inside(y)) {
            (Some(cx), Some(cy)) => colors.get(cy * width + cx) != Some(&Color::Dark),
            _ => true,
        }
    };
    let mut out = String::with_capacity((full + 1) * full.div_ceil(2) * 3);
    for y in (0..full).step_by(2) {
        for x in 0..full {
            // A missing lower row (odd height) extends the light quiet zone.
            out.push(match (light(x, y), light(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests;
