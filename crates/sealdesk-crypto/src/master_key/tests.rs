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
