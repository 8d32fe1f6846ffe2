use super::*;
use sealdesk_core::random::SeededRandom;
use std::os::unix::fs::PermissionsExt;

#[test]
fn seal_open_round_trip_and_binding() {
    let rng = SeededRandom::new(42);
    let key = MasterKey::generate(&rng);
    let sealed = key.seal(&rng, "totp-seed", b"staff-1", b"JBSWY3DPEHPK3PXP");
    assert_eq!(
        &*key.open("totp-seed", b"staff-1", &sealed).unwrap(),
        b"JBSWY3DPEHPK3PXP"
    );
    // Another row or another purpose cannot open it.
    assert!(matches!(
        key.open("totp-seed", b"staff-2", &sealed),
        Err(MasterKeyError::Open)
    ));
    assert!(matches!(
        key.open("jwt-secret", b"staff-1", &sealed),
        Err(MasterKeyError::Open)
    ));
    // Any flipped bit is detected.
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        assert!(
            key.open("totp-seed", b"staff-1", &bad).is_err(),
            "flip at byte {i} went unnoticed"
        );
    }
    assert!(key.open("totp-seed", b"staff-1", &sealed[..10]).is_err());
}

#[test]
fn two_seals_of_the_same_value_differ() {
    let rng = SeededRandom::new(1);
    let key = MasterKey::generate(&rng);
    assert_ne!(
        key.seal(&rng, "p", b"", b"x"),
        key.seal(&rng, "p", b"", b"x")
    );
}

#[test]
fn file_is_created_0600_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let rng = SeededRandom::new(3);
    let (key, created) = MasterKey::load_or_generate(&path, &rng).unwrap();
    assert!(created);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let sealed = key.seal(&rng, "p", b"c", b"secret");
    let (again, created) = MasterKey::load_or_generate(&path, &rng).unwrap();
    assert!(!created);
    assert_eq!(&*again.open("p", b"c", &sealed).unwrap(), b"secret");
    assert!(!format!("{again:?}").contains(&STANDARD.encode([0u8; 4])));
}

#[test]
fn loose_permissions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    MasterKey::generate(&SeededRandom::new(5))
        .write_new(&path)
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = MasterKey::load(&path).unwrap_err();
    assert!(
        matches!(err, MasterKeyError::LoosePermissions { mode: 0o644, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 600"));
}

#[test]
fn malformed_files_are_explained() {
    for (text, needle) in [
        ("hello\n", "first line"),
        ("sealdesk-master-key-v1\n", "no key"),
        ("sealdesk-master-key-v1\n1 !!!\n", "base64"),
        ("sealdesk-master-key-v1\n1 AAAA\n", "32 bytes"),
        ("sealdesk-master-key-v1\nx AAAA\n", "not a number"),
    ] {
        let err = MasterKey::parse(text).unwrap_err();
        assert!(err.contains(needle), "{text:?} gave {err:?}");
    }
}

#[test]
fn older_versions_still_open_after_a_new_version_is_added() {
    let rng = SeededRandom::new(9);
    let mut key = MasterKey::generate(&rng);
    let old = key.seal(&rng, "p", b"c", b"v1 secret");
    let mut k2 = Zeroizing::new([0u8; 32]);
    rng.fill(k2.as_mut());
    key.keys.insert(2, k2);
    assert_eq!(key.current_version(), 2);
    let new = key.seal(&rng, "p", b"c", b"v2 secret");
    assert_eq!(MasterKey::sealed_version(&old), Some(1));
    assert_eq!(MasterKey::sealed_version(&new), Some(2));
    assert_eq!(&*key.open("p", b"c", &old).unwrap(), b"v1 secret");
    let reparsed = MasterKey::parse(&key.serialize()).unwrap();
    assert_eq!(reparsed.versions(), vec![1, 2]);
    key.keys.remove(&1);
    assert!(matches!(
        key.open("p", b"c", &old),
        Err(MasterKeyError::UnknownVersion(1))
    ));
}

/// Known-answer tests: every Wycheproof XChaCha20-Poly1305 vector through the same AEAD the
/// master key uses (SECURITY-TESTING.md, "Wycheproof").
#[test]
fn wycheproof_xchacha20poly1305() {
    use wycheproof::TestResult;
    use wycheproof::aead::{TestName, TestSet};
    let set = TestSet::load(TestName::XChaCha20Poly1305).unwrap();
    let mut checked = 0;
    for group in set.test_groups {
        if group.key_size != 256 || group.nonce_size != 192 || group.tag_size != 128 {
            continue;
        }
        for t in group.tests {
            let cipher = XChaCha20Poly1305::new_from_slice(&t.key).unwrap();
            let nonce = XNonce::from_slice(&t.nonce);
            let mut expected = t.ct.to_vec();
            expected.extend_from_slice(&t.tag);
            let opened = cipher.decrypt(
                nonce,
                Payload {
                    msg: &expected,
                    aad: &t.aad,
                },
            );
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(opened.unwrap(), t.pt.to_vec(), "tc {}", t.tc_id);
                    let sealed = cipher
                        .encrypt(
                            nonce,
                            Payload {
                                msg: &t.pt,
                                aad: &t.aad,
                            },
                        )
                        .unwrap();
                    assert_eq!(sealed, expected, "tc {}", t.tc_id);
                }
                TestResult::Invalid => assert!(opened.is_err(), "tc {} must fail", t.tc_id),
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} vectors ran");
}

#[test]
fn derive_key_is_hkdf_sha256_per_purpose_and_version() {
    use hmac::{Hmac, Mac};
    let rng = SeededRandom::new(21);
    let mut key = MasterKey::generate(&rng);
    let (v, recovery) = key.derive_key(None, "recovery-code").unwrap();
    assert_eq!(v, 1);
    // Independent RFC 5869 computation: PRK = HMAC(zeros, IKM); OKM = HMAC(PRK, info ‖ 0x01).
    let ikm = key.keys[&1].clone();
    let mut extract = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&[0u8; 32]).unwrap();
    extract.update(ikm.as_ref());
    let prk = extract.finalize().into_bytes();
    let mut expand = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&prk).unwrap();
    expand.update(b"sealdesk/v1/kdf/recovery-code\x01");
    assert_eq!(&recovery[..], &expand.finalize().into_bytes()[..]);

    // Deterministic, and different per purpose.
    assert_eq!(
        key.derive_key(Some(1), "recovery-code").unwrap().1,
        recovery
    );
    let (_, other) = key.derive_key(None, "webhook-signing").unwrap();
    assert_ne!(other, recovery);
    assert_ne!(key.derive_key(None, "").unwrap().1, recovery);

    // A new version becomes current and derives another key; the old one stays derivable.
    let mut k2 = Zeroizing::new([0u8; 32]);
    rng.fill(k2.as_mut());
    key.keys.insert(2, k2);
    let (v2, newer) = key.derive_key(None, "recovery-code").unwrap();
    assert_eq!(v2, 2);
    assert_ne!(newer, recovery);
    assert_eq!(
        key.derive_key(Some(1), "recovery-code").unwrap(),
        (1, recovery)
    );

    // Another master key derives another subkey.
    let stranger = MasterKey::generate(&SeededRandom::new(22));
    assert_ne!(
        stranger.derive_key(None, "recovery-code").unwrap().1,
        key.derive_key(Some(1), "recovery-code").unwrap().1
    );

    assert!(matches!(
        key.derive_key(Some(7), "recovery-code"),
        Err(MasterKeyError::UnknownVersion(7))
    ));
}

/// Known-answer tests: every Wycheproof HKDF-SHA256 vector through the HKDF `derive_key` uses,
/// including empty salts (our case) and the over-long output that must be refused.
#[test]
fn wycheproof_hkdf_sha256() {
    use wycheproof::TestResult;
    use wycheproof::hkdf::{TestName, TestSet};
    let set = TestSet::load(TestName::HkdfSha256).unwrap();
    let mut checked = 0;
    for group in set.test_groups {
        for t in group.tests {
            let salt = (!t.salt.is_empty()).then_some(&t.salt[..]);
            let mut okm = vec![0u8; t.size];
            let result = hkdf::Hkdf::<sha2::Sha256>::new(salt, &t.ikm).expand(&t.info, &mut okm);
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert!(result.is_ok(), "tc {}", t.tc_id);
                    assert_eq!(okm, t.okm.to_vec(), "tc {}", t.tc_id);
                    // An empty salt and no salt are the same (RFC 5869 §2.2).
                    if t.salt.is_empty() {
                        let mut again = vec![0u8; t.size];
                        hkdf::Hkdf::<sha2::Sha256>::new(Some(&[]), &t.ikm)
                            .expand(&t.info, &mut again)
                            .unwrap();
                        assert_eq!(again, okm, "tc {}", t.tc_id);
                    }
                }
                TestResult::Invalid => assert!(result.is_err(), "tc {} must fail", t.tc_id),
            }
            checked += 1;
        }
    }
    assert!(checked >= 80, "only {checked} vectors ran");
}

#[test]
fn rotation_adds_a_version_and_replaces_the_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let rng = SeededRandom::new(11);
    let (key, _) = MasterKey::load_or_generate(&path, &rng).unwrap();
    let old = key.seal(&rng, "p", b"c", b"before");
    let rotated = key.with_new_version(&rng);
    assert_eq!(rotated.versions(), vec![1, 2]);
    rotated.replace_file(&path).unwrap();
    let reloaded = MasterKey::load(&path).unwrap();
    assert_eq!(reloaded.current_version(), 2);
    assert_eq!(&*reloaded.open("p", b"c", &old).unwrap(), b"before");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!dir.path().join("master.key.tmp").exists());
}
