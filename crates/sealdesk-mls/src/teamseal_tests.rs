//! Unit tests of `teamseal`: round trips for the team key and the archive key, and every
//! refusal (another conversation, team, tenant, kind, key or version; an untrusted, expired or
//! History Member chain; altered bytes; malformed plaintexts).

use super::*;
use crate::certs::encode_chain;
use crate::seal::{HpkeKeys, derive_keys};

struct Fixture {
    anchor: TrustAnchor,
    chain: Vec<u8>,
    device: DeviceSigner,
    team_key: HpkeKeys,
    archive_key: HpkeKeys,
}

const TENANT: [u8; 16] = [4; 16];
const TEAM: [u8; 16] = [5; 16];
const CONVERSATION: [u8; 16] = [6; 16];

fn fixture(role: Role) -> Fixture {
    let root = DeviceSigner::from_seed(&[1; 32]).unwrap();
    let issuing = DeviceSigner::from_seed(&[2; 32]).unwrap();
    let device = DeviceSigner::from_seed(&[3; 32]).unwrap();
    let body = |role, subject: &DeviceSigner| CertBody {
        role,
        tenant: TENANT,
        team: [0; 16],
        subject: subject.public().try_into().unwrap(),
        not_before: 1_000,
        not_after: 2_000,
        label: "Jane D.".into(),
    };
    let issuing_cert = body(Role::Issuing, &issuing).sign(&root).unwrap();
    let device_cert = body(role, &device).sign(&issuing).unwrap();
    Fixture {
        anchor: TrustAnchor {
            tenant: TENANT,
            roots: vec![root.public().try_into().unwrap()],
        },
        chain: encode_chain(&device_cert, &issuing_cert).unwrap(),
        device,
        team_key: derive_keys(&[10; 32]).unwrap(),
        archive_key: derive_keys(&[11; 32]).unwrap(),
    }
}

impl Fixture {
    fn recipients(&self) -> [Recipient; 2] {
        [
            Recipient {
                kind: KeyKind::Team,
                key_version: 3,
                public: self.team_key.public,
            },
            Recipient {
                kind: KeyKind::Archive,
                key_version: 1,
                public: self.archive_key.public,
            },
        ]
    }

    fn team(&self) -> OpeningKey<'_> {
        OpeningKey {
            recipient: self.recipients()[0],
            private: &self.team_key.private,
        }
    }

    fn archive(&self) -> OpeningKey<'_> {
        OpeningKey {
            recipient: self.recipients()[1],
            private: &self.archive_key.private,
        }
    }
}

fn note(text: &str) -> Note {
    Note {
        conversation: CONVERSATION,
        id: [8; 16],
        written_ms: 1_500_000,
        text: text.into(),
        carried_from: None,
    }
}

fn canned() -> CannedResponse {
    CannedResponse {
        team: TEAM,
        written_ms: 1_500_000,
        title: "Refund".into(),
        text: "Your refund is on its way: <b>3 days</b>.".into(),
    }
}

#[test]
fn notes_open_with_the_team_key_and_the_archive_key() {
    let f = fixture(Role::Agent);
    let sealed = seal_note(
        &note("VIP, be nice"),
        TENANT,
        TEAM,
        &f.chain,
        &f.recipients(),
        &f.device,
    )
    .unwrap();
    for key in [f.team(), f.archive()] {
        let opened = open_note(&sealed, CONVERSATION, &key, &f.anchor, 1_500).unwrap();
        assert_eq!(opened.content, note("VIP, be nice"));
        assert_eq!(opened.author.certificate.label, "Jane D.");
        assert_eq!(opened.author.device[..], f.device.public()[..]);
        assert_eq!(opened.team, TEAM);
        assert_eq!(opened.key, key.recipient);
    }
    // The server cannot move it to another conversation.
    assert!(matches!(
        open_note(&sealed, [9; 16], &f.team(), &f.anchor, 1_500),
        Err(MlsError::Rejected(_))
    ));
    // Nor pass it off as a canned response.
    assert!(matches!(
        open_canned(&sealed, TEAM, &f.team(), &f.anchor, 1_500),
        Err(MlsError::Rejected(_))
    ));
}

#[test]
fn canned_responses_belong_to_their_team() {
    let f = fixture(Role::Supervisor);
    let sealed = seal_canned(&canned(), TENANT, &f.chain, &f.recipients()[..1], &f.device).unwrap();
    let opened = open_canned(&sealed, TEAM, &f.team(), &f.anchor, 1_500).unwrap();
    assert_eq!(opened.content, canned());
    assert_eq!(opened.author.certificate.role, Role::Supervisor);
    // Listed under another team: refused, even by someone holding the right key.
    assert!(matches!(
        open_canned(&sealed, [9; 16], &f.team(), &f.anchor, 1_500),
        Err(MlsError::Rejected(_))
    ));
    // A re-labelled envelope (team B in the header) no longer opens: the team is in `info`.
    let mut moved = sealed.clone();
    moved[5..21].copy_from_slice(&[9; 16]);
    assert!(open_canned(&moved, [9; 16], &f.team(), &f.anchor, 1_500).is_err());
    // Not sealed to the archive key.
    assert!(open_canned(&sealed, TEAM, &f.archive(), &f.anchor, 1_500).is_err());
    assert!(open_note(&sealed, CONVERSATION, &f.team(), &f.anchor, 1_500).is_err());
}

#[test]
fn wrong_keys_chains_and_altered_bytes_are_refused() {
    let f = fixture(Role::Agent);
    let sealed = seal_note(
        &note("call back at 5"),
        TENANT,
        TEAM,
        &f.chain,
        &f.recipients(),
        &f.device,
    )
    .unwrap();
    let open = |bytes: &[u8], key: &OpeningKey<'_>, anchor: &TrustAnchor, at: u64| {
        open_note(bytes, CONVERSATION, key, anchor, at).map_err(|e| e.code())
    };
    // Another version, the other key's private half, a stranger's key.
    let next = OpeningKey {
        recipient: Recipient {
            key_version: 4,
            ..f.recipients()[0]
        },
        private: &f.team_key.private,
    };
    assert_eq!(open(&sealed, &next, &f.anchor, 1_500), Err("rejected"));
    let crossed = OpeningKey {
        recipient: f.recipients()[0],
        private: &f.archive_key.private,
    };
    assert_eq!(open(&sealed, &crossed, &f.anchor, 1_500), Err("rejected"));
    let stranger_keys = derive_keys(&[12; 32]).unwrap();
    let stranger_key = OpeningKey {
        recipient: Recipient {
            public: stranger_keys.public,
            ..f.recipients()[0]
        },
        private: &stranger_keys.private,
    };
    assert_eq!(
        open(&sealed, &stranger_key, &f.anchor, 1_500),
        Err("rejected")
    );
    // An untrusted root, a time the chain was not valid, another tenant.
    let stranger = TrustAnchor {
        roots: vec![[7; 32]],
        ..f.anchor.clone()
    };
    let credential = Err("credential_rejected");
    assert_eq!(open(&sealed, &f.team(), &stranger, 1_500), credential);
    assert_eq!(open(&sealed, &f.team(), &f.anchor, 2_500), credential);
    let other_tenant = TrustAnchor {
        tenant: [9; 16],
        ..f.anchor.clone()
    };
    assert_eq!(
        open(&sealed, &f.team(), &other_tenant, 1_500),
        Err("rejected")
    );
    // Any altered byte: header, chain, either seal.
    let team_seal_end = sealed.len() / 2;
    for i in [0, 4, 5, 21, 40, 200, 400, team_seal_end, sealed.len() - 1] {
        let mut altered = sealed.clone();
        altered[i] ^= 1;
        let key = if i > team_seal_end {
            f.archive()
        } else {
            f.team()
        };
        assert!(open(&altered, &key, &f.anchor, 1_500).is_err(), "byte {i}");
    }
    let mut longer = sealed.clone();
    longer.push(0);
    assert!(parse(&longer).is_err());
    // A device that seals under someone else's chain is refused when sealing.
    let other = DeviceSigner::from_seed(&[13; 32]).unwrap();
    assert!(seal_note(&note("x"), TENANT, TEAM, &f.chain, &f.recipients(), &other).is_err());
    // A server that seals its own note under the author's chain is caught by the signer.
    let r = f.recipients()[0];
    let mut forged = MAGIC.to_vec();
    forged.push(ContentKind::Note.byte());
    forged.extend_from_slice(&TENANT);
    forged.extend_from_slice(&TEAM);
    put_vec(&mut forged, &f.chain).unwrap();
    forged.extend_from_slice(&[1, r.kind.byte()]);
    forged.extend_from_slice(&r.key_version.to_be_bytes());
    forged.extend_from_slice(&r.public);
    let plaintext = note("forged").encode().unwrap();
    let ctx = context(ContentKind::Note, TENANT, TEAM, &r);
    put_vec(
        &mut forged,
        &seal::seal(&r.public, &ctx, &plaintext, &other).unwrap(),
    )
    .unwrap();
    assert!(parse(&forged).is_ok());
    assert_eq!(open(&forged, &f.team(), &f.anchor, 1_500), Err("rejected"));
}

#[test]
fn only_agents_and_supervisors_write() {
    let f = fixture(Role::History);
    let sealed = seal_note(
        &note("x"),
        TENANT,
        TEAM,
        &f.chain,
        &f.recipients(),
        &f.device,
    )
    .unwrap();
    assert!(matches!(
        open_note(&sealed, CONVERSATION, &f.team(), &f.anchor, 1_500),
        Err(MlsError::Credential(_))
    ));
}

#[test]
fn recipients_are_one_to_four_distinct_keys() {
    let f = fixture(Role::Agent);
    let r = f.recipients()[0];
    for recipients in [vec![], vec![r, r], vec![r; 5]] {
        assert!(seal_note(&note("x"), TENANT, TEAM, &f.chain, &recipients, &f.device).is_err());
    }
}

#[test]
fn plaintexts_are_padded_and_decoded_strictly() {
    // Every length lands on a 256-byte bucket, whatever the size of the padding's length.
    for len in 1..=700 {
        let text = "a".repeat(len);
        let bytes = note(&text).encode().unwrap();
        assert_eq!(bytes.len() % BUCKET, 0, "text of {len} bytes");
        assert_eq!(Note::decode(&bytes).unwrap().text, text);
        let c = CannedResponse {
            title: "t".repeat(len % MAX_TITLE + 1),
            text,
            ..canned()
        };
        let bytes = c.encode().unwrap();
        assert_eq!(bytes.len() % BUCKET, 0);
        assert_eq!(CannedResponse::decode(&bytes).unwrap(), c);
    }
    // Empty or over-long text and titles are not written.
    assert!(note("").encode().is_err());
    assert!(note(&"a".repeat(MAX_TEXT + 1)).encode().is_err());
    assert!(note(&"a".repeat(MAX_TEXT)).encode().is_ok());
    let long_title = CannedResponse {
        title: "t".repeat(MAX_TITLE + 1),
        ..canned()
    };
    assert!(long_title.encode().is_err());
    // Unknown version or kind, non-zero padding, trailing bytes, bad UTF-8: refused.
    let good = note("hello").encode().unwrap();
    let mut bad_version = good.clone();
    bad_version[0] = 2;
    let mut bad_kind = good.clone();
    bad_kind[1] = 2;
    let mut bad_padding = good.clone();
    *bad_padding.last_mut().unwrap() = 1;
    let mut trailing = good.clone();
    trailing.push(0);
    let mut bad_utf8 = good.clone();
    bad_utf8[2 + 16 + 16 + 8 + 1] = 0xff;
    for bytes in [bad_version, bad_kind, bad_padding, trailing, bad_utf8] {
        assert!(Note::decode(&bytes).is_err());
    }
    assert!(CannedResponse::decode(&good).is_err());
}

#[test]
fn a_carried_note_names_its_original_author() {
    let author = fixture(Role::Agent);
    // The re-sealer: another agent device of the same tenant.
    let resealer = fixture(Role::Supervisor);
    let carried = Note {
        carried_from: Some(Origin {
            chain: author.chain.clone(),
            recorded_ms: 1_200_000,
        }),
        ..note("carried over")
    };
    let encoded = carried.encode().unwrap();
    assert_eq!(encoded[0], CARRIED_VERSION);
    assert_eq!(encoded.len() % BUCKET, 0);
    assert_eq!(Note::decode(&encoded).unwrap(), carried);
    assert_eq!(note("plain").encode().unwrap()[0], VERSION);

    let sealed = seal_note(
        &carried,
        TENANT,
        TEAM,
        &resealer.chain,
        &resealer.recipients(),
        &resealer.device,
    )
    .unwrap();
    let opened = open_note(
        &sealed,
        CONVERSATION,
        &resealer.team(),
        &resealer.anchor,
        1_500,
    )
    .unwrap();
    assert_eq!(opened.author.certificate.role, Role::Supervisor);
    let original = carried_author(&opened.content, &author.anchor)
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            original.certificate.label.as_str(),
            original.certificate.role
        ),
        ("Jane D.", Role::Agent)
    );
    assert!(carried_author(&note("plain"), &author.anchor).is_none());

    // The named chain is checked at the recorded time, for agents and supervisors only.
    let late = Note {
        carried_from: Some(Origin {
            chain: author.chain.clone(),
            recorded_ms: 2_500_000,
        }),
        ..note("x")
    };
    assert!(carried_author(&late, &author.anchor).unwrap().is_err());
    let history = fixture(Role::History);
    let by_history = Note {
        carried_from: Some(Origin {
            chain: history.chain,
            recorded_ms: 1_200_000,
        }),
        ..note("x")
    };
    assert!(
        carried_author(&by_history, &author.anchor)
            .unwrap()
            .is_err()
    );

    // Strict decoding: no empty author, no version 2 for canned responses.
    let mut empty = vec![CARRIED_VERSION, 1];
    empty.extend_from_slice(&[0; 40]);
    empty.push(0);
    assert!(Note::decode(&empty).is_err());
    let mut canned_v2 = canned().encode().unwrap();
    canned_v2[0] = CARRIED_VERSION;
    assert!(CannedResponse::decode(&canned_v2).is_err());
}
