use super::*;
use sealdesk_core::random::SeededRandom;

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// RFC 9106 §5.3 known-answer test for Argon2id (with secret and associated data).
#[test]
fn rfc9106_argon2id_vector() {
    let params = argon2::ParamsBuilder::new()
        .m_cost(32)
        .t_cost(3)
        .p_cost(4)
        .data(argon2::AssociatedData::new(&[0x04; 12]).unwrap())
        .output_len(32)
        .build()
        .unwrap();
    let a =
        Argon2::new_with_secret(&[0x03; 8], Algorithm::Argon2id, Version::V0x13, params).unwrap();
    let mut out = [0u8; 32];
    a.hash_password_into(&[0x01; 32], &[0x02; 16], &mut out)
        .unwrap();
    assert_eq!(
        hex::encode(out),
        "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    );
}

#[test]
fn hash_verify_and_mismatch() {
    let rng = SeededRandom::new(1);
    let policy = HashPolicy::INSECURE_TEST_ONLY;
    let phc = hash(policy, &rng, &secret("correct horse battery staple")).unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    assert!(
        !verify(policy, &secret("correct horse battery staple"), &phc)
            .unwrap()
            .needs_rehash
    );
    assert_eq!(
        verify(policy, &secret("wrong"), &phc),
        Err(PasswordError::Mismatch)
    );
    assert_eq!(
        verify(policy, &secret("x"), "not a phc"),
        Err(PasswordError::MalformedHash)
    );
}

#[test]
fn weaker_stored_parameters_ask_for_rehash() {
    let rng = SeededRandom::new(2);
    let phc = hash(HashPolicy::INSECURE_TEST_ONLY, &rng, &secret("pw")).unwrap();
    let stronger = HashPolicy {
        memory_kib: 128,
        ..HashPolicy::INSECURE_TEST_ONLY
    };
    assert!(verify(stronger, &secret("pw"), &phc).unwrap().needs_rehash);
}

#[test]
fn production_default_is_the_owasp_minimum() {
    assert!(HashPolicy::OWASP_MINIMUM.meets_minimum());
    assert!(!HashPolicy::INSECURE_TEST_ONLY.meets_minimum());
    assert_eq!(
        (
            HashPolicy::OWASP_MINIMUM.memory_kib,
            HashPolicy::OWASP_MINIMUM.iterations
        ),
        (19_456, 2)
    );
}

#[test]
fn length_rules() {
    let long = "a".repeat(MAX_PASSWORD_BYTES + 1);
    assert_eq!(
        check_length(&secret(&long), 15),
        Err(PasswordError::TooLong)
    );
    assert_eq!(
        hash(
            HashPolicy::INSECURE_TEST_ONLY,
            &SeededRandom::new(1),
            &secret(&long)
        ),
        Err(PasswordError::TooLong)
    );
    assert_eq!(
        check_length(&secret("short"), 15),
        Err(PasswordError::TooShort { min: 15 })
    );
    assert!(check_length(&secret("ünïcødé pass"), 8).is_ok());
    assert!(check_length(&secret(&"é".repeat(64)), 15).is_ok());
}

fn reason(pw: &str, min: usize, context: &[&str]) -> Option<RejectionReason> {
    check_new_password(&secret(pw), min, context)
        .err()
        .map(|r| r.reason)
}

#[test]
fn common_passwords_are_rejected_with_feedback() {
    for pw in [
        "password",
        "Password123!",
        "qwertyuiop1234",
        "iloveyou",
        "P@ssw0rd2024",
    ] {
        let err = check_new_password(&secret(pw), 8, &[]).unwrap_err();
        assert_eq!(err.reason, RejectionReason::Common, "{pw}");
        assert!(err.message.len() > 30, "{pw}: {}", err.message);
        if pw != "password" {
            assert!(
                !err.message.contains(pw),
                "message must not echo the password"
            );
        }
    }
    // Even when long enough for the single-factor minimum.
    assert_eq!(
        reason("passwordpassword", MIN_CHARS_SINGLE_FACTOR, &[]),
        Some(RejectionReason::Common)
    );
    assert_eq!(
        reason("aaaaaaaaaaaaaaaaaaaa", MIN_CHARS_SINGLE_FACTOR, &[]),
        Some(RejectionReason::Common)
    );
    // zxcvbn's warning reaches the user.
    let err = check_new_password(&secret("password"), 8, &[]).unwrap_err();
    assert!(err.message.contains("top-10"), "{}", err.message);
}

#[test]
fn strong_passphrases_are_accepted_without_composition_rules() {
    for pw in [
        "velvet otter quantum marmalade",
        "copper-lantern-drifts-sideways-92",
        "all lower case words no symbols at all tundra",
        "Wkq7 zm Rt9p Lx2v Hn4c",
    ] {
        assert_eq!(
            check_new_password(&secret(pw), MIN_CHARS_SINGLE_FACTOR, &["bob@example.com"]),
            Ok(()),
            "{pw}"
        );
    }
}

#[test]
fn context_words_are_refused_case_insensitively() {
    let context = ["alice.smith@acme-widgets.example", "Acme Widgets Ltd"];
    for pw in [
        "Tr0mbone-ACME-galaxy-nebula",
        "widgets under the harvest moon",
        "smith quietly paints violet dunes",
        "EXAMPLE: copper lantern drifts",
    ] {
        let err = check_new_password(&secret(pw), 8, &context).unwrap_err();
        assert_eq!(err.reason, RejectionReason::ContainsContext, "{pw}");
        assert!(!err.message.contains(pw));
    }
    // Words under four characters (here "ltd", "bo", "io") are ignored.
    assert_eq!(
        check_new_password(
            &secret("ltd copper io lantern drifts bo"),
            8,
            &["Bo", "x@ab.io", "Acme Ltd"]
        ),
        Ok(())
    );
    // Words are matched whole-input too, e.g. a tenant name with no long word.
    assert_eq!(
        reason("copper a-b-c lantern drifts", 8, &["A-B-C"]),
        Some(RejectionReason::ContainsContext)
    );
    assert_eq!(
        context_words(&["Alice.Smith@Acme.io"]),
        ["alice.smith@acme.io", "alice", "smith", "acme"]
    );
}

#[test]
fn length_is_counted_in_characters_and_capped_in_bytes() {
    // 14 characters but 28 bytes: too short.
    assert_eq!(
        reason(&"é".repeat(14), 15, &[]),
        Some(RejectionReason::TooShort { min: 15 })
    );
    // 15 × 'é' passes the length rule (and is then refused as a repeat).
    assert_eq!(
        reason(&"é".repeat(15), 15, &[]),
        Some(RejectionReason::Common)
    );
    // Exactly 15 characters of mixed Unicode, 22 bytes: accepted.
    let pw = "Zéphyr brûlé ñq";
    assert_eq!(pw.chars().count(), 15);
    assert!(pw.len() > 15);
    assert_eq!(check_new_password(&secret(pw), 15, &[]), Ok(()));
    assert_eq!(
        reason(&pw[..pw.len() - 1], 15, &[]),
        Some(RejectionReason::TooShort { min: 15 })
    );
    // Too long is decided on bytes, before zxcvbn.
    let long = "é".repeat(MAX_PASSWORD_BYTES / 2 + 1);
    assert_eq!(reason(&long, 15, &[]), Some(RejectionReason::TooLong));
    // Within the byte cap, zxcvbn judges only the first 100 characters.
    let strong_first = format!("velvet otter quantum marmalade {}", "x".repeat(450));
    assert!(strong_first.len() <= MAX_PASSWORD_BYTES);
    assert_eq!(check_new_password(&secret(&strong_first), 15, &[]), Ok(()));
    let weak_first = format!("{}velvet otter quantum marmalade", "a".repeat(100));
    assert_eq!(reason(&weak_first, 15, &[]), Some(RejectionReason::Common));
}

#[test]
fn rejection_codes_are_stable() {
    assert_eq!(RejectionReason::TooShort { min: 8 }.code(), "too_short");
    assert_eq!(RejectionReason::TooLong.code(), "too_long");
    assert_eq!(RejectionReason::Common.code(), "common");
    assert_eq!(RejectionReason::ContainsContext.code(), "contains_context");
    let err = check_new_password(&secret("short"), 15, &[]).unwrap_err();
    assert_eq!(err.to_string(), err.message);
    assert!(err.message.contains("15"));
}

#[test]
fn dummy_verification_runs_and_never_matches() {
    let policy = HashPolicy::INSECURE_TEST_ONLY;
    dummy_verify(policy, &secret("anything at all"));
    dummy_verify(policy, &secret(&"x".repeat(MAX_PASSWORD_BYTES + 1)));
    let phc = dummy_phc(policy, &mut HashMemory::new()).unwrap();
    // Computed once: the same string every time, with the policy's own cost.
    assert_eq!(dummy_phc(policy, &mut HashMemory::new()).unwrap(), phc);
    assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
    for pw in [
        String::new(),
        "password".to_owned(),
        "\u{FFFD}".repeat(32),
        "\u{FF}".repeat(32),
        "sealdesk-dummy-1".to_owned(),
    ] {
        assert_eq!(
            verify(policy, &secret(&pw), &phc),
            Err(PasswordError::Mismatch),
            "{pw:?}"
        );
    }
    // Another policy gets its own dummy hash with its own cost.
    let other = HashPolicy {
        memory_kib: 128,
        ..policy
    };
    assert!(
        dummy_phc(other, &mut HashMemory::new())
            .unwrap()
            .starts_with("$argon2id$v=19$m=128,t=1,p=1$")
    );
}

#[test]
fn dummy_hash_uses_the_production_cost() {
    let phc = dummy_phc(HashPolicy::OWASP_MINIMUM, &mut HashMemory::new()).unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    dummy_verify(
        HashPolicy::OWASP_MINIMUM,
        &secret("correct horse battery staple"),
    );
}

/// The PHC strings made in caller-kept memory are byte-for-byte those of the `password-hash`
/// API the server used before, and each side verifies the other's.
#[test]
fn pooled_hashes_match_the_password_hash_crate() {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
    let policy = HashPolicy {
        memory_kib: 256,
        iterations: 2,
        parallelism: 2,
    };
    let salt = [7u8; 16];
    let ours = phc_hash(
        &policy.argon2().unwrap(),
        b"correct horse battery staple",
        &salt,
        &mut HashMemory::new(),
    )
    .unwrap();
    let theirs = policy
        .argon2()
        .unwrap()
        .hash_password(
            b"correct horse battery staple",
            &SaltString::encode_b64(&salt).unwrap(),
        )
        .unwrap()
        .to_string();
    assert_eq!(ours, theirs);
    assert!(ours.starts_with("$argon2id$v=19$m=256,t=2,p=2$"), "{ours}");
    let parsed = PasswordHash::new(&ours).unwrap();
    Argon2::default()
        .verify_password(b"correct horse battery staple", &parsed)
        .unwrap();
    let mut memory = HashMemory::new();
    assert!(
        !verify_with(
            policy,
            &secret("correct horse battery staple"),
            &theirs,
            &mut memory
        )
        .unwrap()
        .needs_rehash
    );
    assert_eq!(
        verify_with(
            policy,
            &secret("correct horse battery stapl"),
            &theirs,
            &mut memory
        ),
        Err(PasswordError::Mismatch)
    );
}

/// One buffer serves every hash: it is allocated once at the policy's size, reused (same
/// allocation, and a dirty buffer gives the same result as a fresh one), grows for a stored
/// hash with more memory, and shrinks back to the policy afterwards.
#[test]
fn hash_memory_is_reused_and_kept_at_the_policy_size() {
    let rng = SeededRandom::new(3);
    let policy = HashPolicy::INSECURE_TEST_ONLY;
    let mut memory = HashMemory::new();
    assert_eq!(memory.held_bytes(), 0, "nothing until the first hash");
    let first = hash_with(policy, &rng, &secret("first password"), &mut memory).unwrap();
    assert_eq!(memory.held_bytes(), 64 * 1024);
    let address = memory.blocks.as_ptr();
    verify_with(policy, &secret("first password"), &first, &mut memory).unwrap();
    hash_with(policy, &rng, &secret("second password"), &mut memory).unwrap();
    assert_eq!(
        memory.blocks.as_ptr(),
        address,
        "the same allocation is reused"
    );

    let argon2 = policy.argon2().unwrap();
    let dirty = phc_hash(&argon2, b"pw", &[9; 16], &mut memory).unwrap();
    let fresh = phc_hash(&argon2, b"pw", &[9; 16], &mut HashMemory::new()).unwrap();
    assert_eq!(dirty, fresh, "leftover blocks do not change the result");

    let bigger = HashPolicy {
        memory_kib: 512,
        ..policy
    };
    let stored = hash(bigger, &rng, &secret("old and big")).unwrap();
    assert!(
        !verify_with(policy, &secret("old and big"), &stored, &mut memory)
            .unwrap()
            .needs_rehash,
        "stronger stored parameters need no rehash"
    );
    assert_eq!(
        memory.held_bytes(),
        64 * 1024,
        "back to the policy's size after a bigger stored hash"
    );
    assert_eq!(
        verify_with(
            policy,
            &secret("x"),
            &stored.replace("argon2id", "argon2i"),
            &mut memory
        ),
        Err(PasswordError::MalformedHash),
        "only Argon2id is accepted"
    );
    assert_eq!(
        verify_with(
            policy,
            &secret("x"),
            &stored.replace("v=19", "v=20"),
            &mut memory
        ),
        Err(PasswordError::MalformedHash)
    );
}
