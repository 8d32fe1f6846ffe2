//! Cross-library vectors of the key-distribution formats (certificates and chains, SDS1 sealed
//! objects, SDB1 History Member bundles, SDK1 key announcements, SDT1 team-sealed notes and
//! canned responses), in both directions:
//! - `tests/vectors/sealed.json` is made here from fixed seeds (`SEALDESK_BLESS=1` rewrites
//!   it) and must verify and open in the browser code (`web/shared/seal/vectors.test.ts`);
//! - `web/shared/seal/vectors.ts.json` is made by the TypeScript code (`npm run
//!   vectors:write`) and must verify and open here.
//!
//! Ed25519 (RFC 8032) is deterministic, so certificates and announcements re-signed from the
//! file's seeds must be byte-identical; HPKE (RFC 9180) seals are randomised and only opened.
//! Every entry also gets its refusals: altered bytes, another key, version, signer or tenant.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "web_vectors/build.rs"]
mod build;
#[path = "web_vectors/teamseal.rs"]
mod teamseal;

use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::{self, KeyKind, OpeningKey, Recipient, open_bundle};
use sealdesk_mls::certs::{CertBody, Certificate, Role, TrustAnchor, Verified, verify_identity};
use sealdesk_mls::seal::{SealContext, derive_keys, open};
use sealdesk_mls::{DeviceSigner, MlsError};
use serde_json::Value;

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("a hex string")).unwrap()
}

fn arr<const N: usize>(v: &Value) -> [u8; N] {
    h(v).try_into().unwrap()
}

fn num(v: &Value) -> u64 {
    v.as_u64().expect("a number")
}

fn flipped(bytes: &[u8], i: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[i] ^= 1;
    out
}

/// Offsets spread over the whole object, first and last byte included.
fn offsets(len: usize) -> [usize; 9] {
    [0, 4, 20, 37, len / 3, len / 2, len - 97, len - 65, len - 1]
}

fn role(name: &str) -> Role {
    match name {
        "issuing" => Role::Issuing,
        "agent" => Role::Agent,
        "supervisor" => Role::Supervisor,
        "history" => Role::History,
        other => panic!("unknown role {other}"),
    }
}

fn kind(name: &Value) -> KeyKind {
    match name.as_str() {
        Some("team") => KeyKind::Team,
        Some("archive") => KeyKind::Archive,
        other => panic!("unknown key kind {other:?}"),
    }
}

/// `SealContext::purpose` is `&'static str`: the purposes the vectors use.
fn purpose(name: &Value) -> &'static str {
    [
        "team-key-wrap",
        "archive-key-wrap",
        "history-bundle",
        "history-archive",
    ]
    .into_iter()
    .find(|p| Some(*p) == name.as_str())
    .unwrap_or_else(|| panic!("unknown purpose {name}"))
}

fn seed(file: &Value, who: &Value) -> DeviceSigner {
    DeviceSigner::from_seed(&h(&file["seeds"][who.as_str().unwrap()])).unwrap()
}

fn check_certificates(file: &Value) {
    for c in file["certificates"].as_array().unwrap() {
        let encoded = h(&c["encoded"]);
        let decoded = Certificate::decode(&encoded).unwrap();
        let body = CertBody {
            role: role(c["role"].as_str().unwrap()),
            tenant: arr(&c["tenant"]),
            team: arr(&c["team"]),
            subject: arr(&c["subject"]),
            not_before: num(&c["not_before"]),
            not_after: num(&c["not_after"]),
            label: c["label"].as_str().unwrap().into(),
        };
        let issuer = seed(file, &c["issuer"]);
        assert_eq!(decoded.body, body, "{}", c["name"]);
        assert_eq!(decoded.issuer.to_vec(), issuer.public(), "{}", c["name"]);
        assert_eq!(body.sign(&issuer).unwrap(), encoded, "{}", c["name"]);
    }
}

fn check_identities(file: &Value, anchor: &TrustAnchor, stranger: &TrustAnchor) {
    for v in file["identities"].as_array().unwrap() {
        let (identity, leaf, at) = (h(&v["identity"]), h(&v["leaf"]), num(&v["at"]));
        let verified = verify_identity(&identity, &leaf, anchor, at).unwrap();
        let e = &v["expected"];
        if e["kind"] == "visitor" {
            assert_eq!(verified, Verified::Visitor(arr(&e["id"])));
            continue;
        }
        let Verified::Device(body) = verified else {
            panic!("{} is not a device", v["name"])
        };
        assert_eq!(body.role, role(e["role"].as_str().unwrap()));
        assert_eq!(body.label, e["label"].as_str().unwrap());
        assert_eq!(body.team, arr(&e["team"]));
        assert!(verify_identity(&identity, &leaf, stranger, at).is_err());
        assert!(verify_identity(&identity, &leaf, anchor, at + 400 * build::DAY).is_err());
        assert!(verify_identity(&identity, &flipped(&leaf, 0), anchor, at).is_err());
        for i in offsets(identity.len()) {
            let altered = flipped(&identity, i);
            assert!(
                verify_identity(&altered, &leaf, anchor, at).is_err(),
                "byte {i}"
            );
        }
    }
}

fn check_seals(file: &Value) {
    let wrong_signer: [u8; 32] = arr(&file["roots"][1]);
    let stranger_key = derive_keys(&[0x77; 32]).unwrap();
    for v in file["seals"].as_array().unwrap() {
        let ctx = SealContext {
            purpose: purpose(&v["purpose"]),
            tenant: arr(&v["tenant"]),
            team: arr(&v["team"]),
            key_version: u32::try_from(num(&v["key_version"])).unwrap(),
            recipient: arr(&v["recipient_public"]),
        };
        let (sealed, key, signer) = (
            h(&v["sealed"]),
            h(&v["recipient_private"]),
            arr(&v["signer"]),
        );
        assert_eq!(
            &*open(&sealed, &ctx, &key, &signer).unwrap(),
            h(&v["plaintext"]).as_slice(),
            "{}",
            v["name"]
        );
        let refused = |ctx: &SealContext, key: &[u8], signer: &[u8; 32]| {
            matches!(open(&sealed, ctx, key, signer), Err(MlsError::Rejected(_)))
        };
        assert!(refused(&ctx, &stranger_key.private, &signer));
        let next = SealContext {
            key_version: ctx.key_version.wrapping_add(1),
            ..ctx.clone()
        };
        assert!(refused(&next, &key, &signer));
        let other = SealContext {
            purpose: "history-bundle",
            ..ctx.clone()
        };
        assert!(refused(&other, &key, &signer));
        assert!(refused(&ctx, &key, &wrong_signer));
        for i in offsets(sealed.len()) {
            assert!(
                open(&flipped(&sealed, i), &ctx, &key, &signer).is_err(),
                "byte {i}"
            );
        }
    }
}

fn check_bundles(file: &Value, anchor: &TrustAnchor, stranger: &TrustAnchor) {
    for v in file["bundles"].as_array().unwrap() {
        let (bytes, at) = (h(&v["bundle"]), num(&v["at"]));
        let keys: Vec<(Recipient, Vec<u8>)> = v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                let recipient = Recipient {
                    kind: kind(&k["kind"]),
                    key_version: u32::try_from(num(&k["key_version"])).unwrap(),
                    public: arr(&k["public"]),
                };
                (recipient, h(&k["private"]))
            })
            .collect();
        let s = &v["secrets"];
        for (recipient, private) in &keys {
            let key = OpeningKey {
                recipient: *recipient,
                private,
            };
            let secrets = open_bundle(&bytes, &key, anchor, at).unwrap();
            assert_eq!(secrets.key_package, h(&s["key_package"]));
            assert_eq!(secrets.init_private, h(&s["init_private"]));
            assert_eq!(secrets.encryption_private, h(&s["encryption_private"]));
            assert_eq!(secrets.signature_private, h(&s["signature_private"]));
        }
        let (team, archive) = (&keys[0], &keys[1]);
        let open_as = |recipient: Recipient, private: &[u8], anchor: &TrustAnchor, at: u64| {
            let key = OpeningKey { recipient, private };
            open_bundle(&bytes, &key, anchor, at).map_err(|e| e.code())
        };
        let next = Recipient {
            key_version: team.0.key_version + 1,
            ..team.0
        };
        let as_archive = Recipient {
            kind: archive.0.kind,
            ..team.0
        };
        assert_eq!(open_as(next, &team.1, anchor, at), Err("rejected"));
        assert_eq!(open_as(as_archive, &team.1, anchor, at), Err("rejected"));
        assert_eq!(open_as(team.0, &archive.1, anchor, at), Err("rejected"));
        let cred = Err("credential_rejected");
        assert_eq!(open_as(team.0, &team.1, stranger, at), cred);
        assert_eq!(
            open_as(team.0, &team.1, anchor, at + 400 * build::DAY),
            cred
        );
        // A flipped byte in the header or the chain concerns every key; in a seal, at least
        // the key sealed there.
        let chain = bundle::parse(&bytes).unwrap().chain.len();
        let header = 4 + 32 + if chain < 64 { 1 } else { 2 } + chain + 1;
        for i in offsets(bytes.len()).into_iter().chain([header - 1, header]) {
            let altered = flipped(&bytes, i);
            let refusals = keys
                .iter()
                .filter(|(recipient, private)| {
                    let key = OpeningKey {
                        recipient: *recipient,
                        private,
                    };
                    open_bundle(&altered, &key, anchor, at).is_err()
                })
                .count();
            let needed = if i < header { keys.len() } else { 1 };
            assert!(refusals >= needed, "byte {i}: {refusals} refusals");
        }
    }
}

fn check_announcements(file: &Value, anchor: &TrustAnchor, stranger: &TrustAnchor) {
    for v in file["announcements"].as_array().unwrap() {
        let encoded = h(&v["encoded"]);
        let expected = Announcement {
            kind: kind(&v["kind"]),
            tenant: arr(&v["tenant"]),
            team: arr(&v["team"]),
            version: u32::try_from(num(&v["version"])).unwrap(),
            public: arr(&v["public"]),
            created: num(&v["created"]),
        };
        assert_eq!(Announcement::verify(&encoded, anchor).unwrap(), expected);
        let signer = seed(file, &v["signer"]);
        assert_eq!(
            expected.sign(&h(&v["issuing_cert"]), &signer).unwrap(),
            encoded,
            "{}",
            v["name"]
        );
        assert!(matches!(
            Announcement::verify(&encoded, stranger),
            Err(MlsError::Credential(_))
        ));
        let other_tenant = TrustAnchor {
            tenant: [9; 16],
            ..anchor.clone()
        };
        assert!(matches!(
            Announcement::verify(&encoded, &other_tenant),
            Err(MlsError::Rejected(_))
        ));
        for i in offsets(encoded.len()) {
            assert!(
                Announcement::verify(&flipped(&encoded, i), anchor).is_err(),
                "byte {i}"
            );
        }
    }
}

/// Verifies and opens everything in a vector file. By convention `roots[0]` is a stranger's
/// key and `roots[1]` the hierarchy's root.
fn check(file: &Value, producer: &str) {
    assert_eq!(file["producer"], producer);
    let roots: Vec<[u8; 32]> = file["roots"].as_array().unwrap().iter().map(arr).collect();
    let anchor = TrustAnchor {
        tenant: arr(&file["tenant"]),
        roots: roots.clone(),
    };
    let stranger = TrustAnchor {
        roots: roots[..1].to_vec(),
        ..anchor.clone()
    };
    check_certificates(file);
    check_identities(file, &anchor, &stranger);
    check_seals(file);
    check_bundles(file, &anchor, &stranger);
    check_announcements(file, &anchor, &stranger);
    teamseal::check(file, &anchor, &stranger);
    for (part, least) in [
        ("certificates", 3),
        ("identities", 3),
        ("seals", 2),
        ("bundles", 1),
        ("announcements", 2),
        ("team_seals", 2),
    ] {
        assert!(file[part].as_array().unwrap().len() >= least, "{part}");
    }
}

fn read(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The parts of a vector file that do not depend on HPKE's randomness.
fn deterministic(file: &Value) -> Value {
    let mut file = file.clone();
    for (part, field) in [
        ("seals", "sealed"),
        ("bundles", "bundle"),
        ("team_seals", "sealed"),
    ] {
        for entry in file[part].as_array_mut().unwrap() {
            entry.as_object_mut().unwrap().remove(field);
        }
    }
    file
}

#[test]
fn rust_vectors_verify_and_are_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/sealed.json");
    let fresh = build::vectors();
    if std::env::var_os("SEALDESK_BLESS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&fresh).unwrap() + "\n").unwrap();
    }
    let committed = read(&path);
    assert_eq!(
        deterministic(&committed),
        deterministic(&fresh),
        "tests/vectors/sealed.json is stale: rerun with SEALDESK_BLESS=1"
    );
    check(&committed, "rust");
}

#[test]
fn typescript_vectors_verify_and_open_in_rust() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../web/shared/seal/vectors.ts.json");
    check(&read(&path), "typescript");
}
