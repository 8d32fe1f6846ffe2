use super::*;
use sealdesk_core::random::SeededRandom;

const SEED_SHA1: &[u8] = b"12345678901234567890";
const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

/// RFC 6238 appendix B: every row, all three algorithms, 8 digits, X = 30, T0 = 0.
#[test]
fn rfc6238_appendix_b_vectors() {
    let table: [(i64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ];
    for (t, sha1, sha256, sha512) in table {
        assert_eq!(
            totp_at(SEED_SHA1, t, 30, 8, TotpAlgorithm::Sha1),
            sha1,
            "SHA1 T={t}"
        );
        assert_eq!(
            totp_at(SEED_SHA256, t, 30, 8, TotpAlgorithm::Sha256),
            sha256,
            "SHA256 T={t}"
        );
        assert_eq!(
            totp_at(SEED_SHA512, t, 30, 8, TotpAlgorithm::Sha512),
            sha512,
            "SHA512 T={t}"
        );
    }
}

/// RFC 4226 appendix D: HOTP values for counters 0–9 (SHA-1, 6 digits).
#[test]
fn rfc4226_appendix_d_vectors() {
    let expected = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    for (counter, code) in (0u64..).zip(expected) {
        assert_eq!(
            hotp(SEED_SHA1, counter, 6, TotpAlgorithm::Sha1),
            code,
            "counter {counter}"
        );
    }
}

/// Independent RFC 4226 §5.3 truncation, written with plain indexing.
fn reference_hotp_sha1(secret: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret).unwrap();
    mac.update(&counter.to_be_bytes());
    let hs = mac.finalize().into_bytes();
    let offset = (hs[19] & 0x0f) as usize;
    let sbits = (u32::from(hs[offset] & 0x7f) << 24)
        | (u32::from(hs[offset + 1]) << 16)
        | (u32::from(hs[offset + 2]) << 8)
        | u32::from(hs[offset + 3]);
    format!(
        "{:0width$}",
        sbits % 10u32.pow(digits),
        width = digits as usize
    )
}

#[test]
fn counter_beyond_32_bits_uses_all_64() {
    for counter in [(1u64 << 32) + 7, u64::MAX, 0x0123_4567_89ab_cdef] {
        let code = hotp(SEED_SHA1, counter, 6, TotpAlgorithm::Sha1);
        assert_eq!(
            code,
            reference_hotp_sha1(SEED_SHA1, counter, 6),
            "{counter:#x}"
        );
        let truncated = counter & 0xffff_ffff;
        assert_ne!(
            code,
            hotp(SEED_SHA1, truncated, 6, TotpAlgorithm::Sha1),
            "{counter:#x} must not wrap to 32 bits"
        );
    }
    // The reference agrees with the RFC table too, so it is a fair oracle.
    assert_eq!(reference_hotp_sha1(SEED_SHA1, 9, 6), "520489");
}

#[test]
fn codes_are_zero_padded_and_digit_counts_respected() {
    // RFC 6238 row T=1111111109 starts with a 0.
    let code = totp_at(SEED_SHA1, 1_111_111_109, 30, 8, TotpAlgorithm::Sha1);
    assert_eq!(code.len(), 8);
    assert!(code.starts_with('0'));
    for digits in [6, 7, 8, 10] {
        let code = hotp(SEED_SHA1, 3, digits, TotpAlgorithm::Sha1);
        assert_eq!(code.len(), digits as usize);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
    }
    // 6 digits are the last 6 of the 8-digit value.
    assert_eq!(
        &totp_at(SEED_SHA1, 59, 30, 8, TotpAlgorithm::Sha1)[2..],
        totp_at(SEED_SHA1, 59, 30, 6, TotpAlgorithm::Sha1)
    );
}

#[test]
fn step_of_uses_30_second_steps_from_the_epoch() {
    assert_eq!(step_of(0), 0);
    assert_eq!(step_of(29), 0);
    assert_eq!(step_of(30), 1);
    assert_eq!(step_of(59), 1);
    assert_eq!(step_of(1_111_111_109), 37_037_036);
    assert_eq!(step_of(-1), -1);
    assert_eq!(
        code_for_step(SEED_SHA1, step_of(59)),
        totp_at(SEED_SHA1, 59, PROFILE_STEP_SECS, 6, TotpAlgorithm::Sha1)
    );
}

const NOW: i64 = 1_700_000_015;

#[test]
fn skew_of_one_step_each_way_is_accepted_two_is_not() {
    let secret = generate_secret(&SeededRandom::new(7));
    let t = step_of(NOW);
    for delta in -1..=1 {
        let code = code_for_step(&secret, t + delta);
        assert_eq!(
            verify(&secret, &code, NOW, None),
            Some(t + delta),
            "delta {delta}"
        );
    }
    for delta in [-2, 2, -3, 3] {
        let code = code_for_step(&secret, t + delta);
        assert_eq!(verify(&secret, &code, NOW, None), None, "delta {delta}");
    }
    // The window follows the clock: the t+2 code is current 60 s later.
    let code = code_for_step(&secret, t + 2);
    assert_eq!(verify(&secret, &code, NOW + 60, None), Some(t + 2));
}

#[test]
fn a_used_step_cannot_be_replayed() {
    let secret = generate_secret(&SeededRandom::new(8));
    let t = step_of(NOW);
    let code = code_for_step(&secret, t);
    let used = verify(&secret, &code, NOW, None).unwrap();
    assert_eq!(used, t);
    // Same code, same step: refused.
    assert_eq!(verify(&secret, &code, NOW, Some(used)), None);
    // Still refused 30 s later, while it is inside the skew window as t−1.
    assert_eq!(verify(&secret, &code, NOW + 30, Some(used)), None);
    // An older code is refused once a newer one was used.
    let older = code_for_step(&secret, t - 1);
    assert_eq!(verify(&secret, &older, NOW, Some(used)), None);
    // The next step's code still works.
    let next = code_for_step(&secret, t + 1);
    assert_eq!(verify(&secret, &next, NOW, Some(used)), Some(t + 1));
    // A last-used step from an earlier window does not block the current code.
    assert_eq!(verify(&secret, &code, NOW, Some(t - 5)), Some(t));
}

#[test]
fn malformed_codes_are_refused_and_spaces_ignored() {
    let secret = generate_secret(&SeededRandom::new(9));
    let code = code_for_step(&secret, step_of(NOW));
    let spaced = format!(" {} {} ", &code[..3], &code[3..]);
    assert_eq!(verify(&secret, &spaced, NOW, None), Some(step_of(NOW)));
    let mut wrong = code.clone().into_bytes();
    wrong[5] = if wrong[5] == b'9' { b'0' } else { wrong[5] + 1 };
    let wrong = String::from_utf8(wrong).unwrap();
    let eight = totp_at(&secret, NOW, 30, 8, TotpAlgorithm::Sha1);
    for bad in [
        "",
        "12345",
        "1234567",
        "12a456",
        "+12345",
        "１２３４５６",
        &code[..5],
        &format!("{code}0"),
        &eight,
        &wrong,
    ] {
        assert_eq!(verify(&secret, bad, NOW, None), None, "{bad:?}");
    }
    // Another secret's code is refused.
    let other = generate_secret(&SeededRandom::new(10));
    assert_eq!(verify(&other, &code, NOW, None), None);
}

#[test]
fn generated_secrets_are_160_bits_and_differ() {
    let rng = SeededRandom::new(11);
    let a = generate_secret(&rng);
    let b = generate_secret(&rng);
    assert_eq!(a.len(), 20);
    assert_ne!(a, b);
    assert_ne!(a, [0u8; 20]);
}

/// RFC 4648 §10 base32 vectors, plus the tolerance a person typing a secret needs.
#[test]
fn base32_vectors_case_padding_and_spaces() {
    let vectors: [(&[u8], &str); 6] = [
        (b"f", "MY======"),
        (b"fo", "MZXQ===="),
        (b"foo", "MZXW6==="),
        (b"foob", "MZXW6YQ="),
        (b"fooba", "MZXW6YTB"),
        (b"foobar", "MZXW6YTBOI======"),
    ];
    for (raw, padded) in vectors {
        let unpadded = padded.trim_end_matches('=');
        assert_eq!(encode_secret(raw), unpadded);
        assert_eq!(decode_secret(padded).as_deref(), Some(raw), "{padded}");
        assert_eq!(decode_secret(unpadded).as_deref(), Some(raw));
        assert_eq!(decode_secret(&padded.to_lowercase()).as_deref(), Some(raw));
    }
    assert_eq!(encode_secret(SEED_SHA1), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_eq!(
        decode_secret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").as_deref(),
        Some(SEED_SHA1)
    );
    let secret = generate_secret(&SeededRandom::new(12));
    assert_eq!(
        decode_secret(&encode_secret(&secret)).as_deref(),
        Some(&secret[..])
    );
    for bad in [
        "",
        "   ",
        "====",
        "M",
        "MZXW6YQ1",
        "MZ=XW6YQ",
        "MZXW6YQ!",
        "MZXW6YTBOJ",
    ] {
        assert_eq!(decode_secret(bad), None, "{bad:?}");
    }
}

#[test]
fn otpauth_uri_encodes_label_and_parameters() {
    let uri = otpauth_uri("Acme Co: Support", "alice@example.com", SEED_SHA1);
    assert_eq!(
        uri,
        "otpauth://totp/Acme%20Co%3A%20Support:alice%40example.com\
         ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co%3A%20Support\
         &algorithm=SHA1&digits=6&period=30"
    );
    let label = uri
        .strip_prefix("otpauth://totp/")
        .and_then(|rest| rest.split_once('?'))
        .unwrap()
        .0;
    assert_eq!(label.matches(':').count(), 1, "one literal separator");
    let tricky = otpauth_uri("a&b=c", "x:y?z#w/%+é", b"k");
    assert!(
        tricky.contains("/a%26b%3Dc:x%3Ay%3Fz%23w%2F%25%2B%C3%A9?"),
        "{tricky}"
    );
    assert!(tricky.contains("&issuer=a%26b%3Dc&"));
    assert_eq!(tricky.matches('?').count(), 1);
    assert_eq!(tricky.matches('#').count(), 0);
}

fn sample_uri() -> String {
    otpauth_uri(
        "Sealdesk",
        "agent@example.com",
        &generate_secret(&SeededRandom::new(13)),
    )
}

#[test]
fn qr_svg_is_an_svg_document() {
    let svg = qr_svg(&sample_uri()).unwrap();
    assert!(
        svg.starts_with("<?xml") || svg.starts_with("<svg"),
        "{}",
        &svg[..40]
    );
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("<path"));
    assert_eq!(qr_svg(&"x".repeat(5000)), None);
}

/// The terminal rendering is square (two module rows per line), has a quiet zone, and decodes
/// back to exactly the modules of the QR code at level M.
#[test]
fn qr_text_round_trips_to_the_module_grid() {
    let uri = sample_uri();
    let text = qr_text(&uri).unwrap();
    let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).unwrap();
    let width = code.width();
    let full = width + 2 * QUIET_ZONE;
    let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    assert_eq!(lines.len(), full.div_ceil(2));
    assert!(lines.iter().all(|l| l.len() == full));
    // Square-ish: a cell is about twice as tall as wide, so lines ≈ columns / 2.
    assert!(lines.len() * 2 >= full && lines.len() * 2 <= full + 1);
    // The first line and first column are entirely quiet zone (light = full block).
    assert!(lines[0].iter().all(|c| *c == '█'));
    assert!(lines.iter().all(|l| l[0] == '█'));
    let colors = code.to_colors();
    for (row, line) in lines.iter().enumerate() {
        for (x, ch) in line.iter().enumerate() {
            let (top, bottom) = match ch {
                '█' => (true, true),
                '▀' => (true, false),
                '▄' => (false, true),
                ' ' => (false, false),
                other => panic!("unexpected {other:?}"),
            };
            for (y, is_light) in [(row * 2, top), (row * 2 + 1, bottom)] {
                let expected_light = if (QUIET_ZONE..QUIET_ZONE + width).contains(&x)
                    && (QUIET_ZONE..QUIET_ZONE + width).contains(&y)
                {
                    colors[(y - QUIET_ZONE) * width + (x - QUIET_ZONE)] == Color::Light
                } else {
                    true
                };
                assert_eq!(is_light, expected_light, "module ({x},{y})");
            }
        }
    }
    assert_eq!(qr_text(&"x".repeat(5000)), None);
}

/// Wycheproof vectors for an HMAC we call directly; truncated-tag groups compare a prefix.
fn wycheproof_hmac<M: Mac + hmac::digest::KeyInit>(name: wycheproof::mac::TestName) -> usize {
    use wycheproof::TestResult;
    let set = wycheproof::mac::TestSet::load(name).unwrap();
    let mut checked = 0;
    for group in set.test_groups {
        let tag_len = group.tag_size / 8;
        for t in group.tests {
            let full = hmac::<M>(&t.key, &t.msg);
            let ours = &full[..tag_len];
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(ours, &t.tag[..], "tc {}", t.tc_id);
                    // The streaming verifier agrees.
                    let mut mac = <M as Mac>::new_from_slice(&t.key).unwrap();
                    mac.update(&t.msg);
                    assert!(mac.verify_truncated_left(&t.tag).is_ok(), "tc {}", t.tc_id);
                }
                TestResult::Invalid => assert_ne!(ours, &t.tag[..], "tc {} must fail", t.tc_id),
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn wycheproof_hmac_sha1() {
    let n = wycheproof_hmac::<Hmac<sha1::Sha1>>(wycheproof::mac::TestName::HmacSha1);
    assert!(n >= 150, "only {n} vectors ran");
}

#[test]
fn wycheproof_hmac_sha256() {
    let n = wycheproof_hmac::<Hmac<sha2::Sha256>>(wycheproof::mac::TestName::HmacSha256);
    assert!(n >= 150, "only {n} vectors ran");
}

#[test]
fn wycheproof_hmac_sha512() {
    let n = wycheproof_hmac::<Hmac<sha2::Sha512>>(wycheproof::mac::TestName::HmacSha512);
    assert!(n >= 150, "only {n} vectors ran");
}
