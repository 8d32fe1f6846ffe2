//! Team-sealed notes and canned responses (SDT1) in the cross-library vector files: made here
//! for `tests/vectors/sealed.json`, and checked in both files. The plaintext encoding is
//! deterministic and must be byte-identical in both languages; the seals are opened.

use sealdesk_mls::DeviceSigner;
use sealdesk_mls::bundle::{KeyKind, OpeningKey, Recipient};
use sealdesk_mls::certs::TrustAnchor;
use sealdesk_mls::seal::HpkeKeys;
use sealdesk_mls::teamseal::{
    CannedResponse, Note, Origin, carried_author, open_canned, open_note, parse, seal_canned,
    seal_note,
};
use serde_json::{Value, json};

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("a hex string")).unwrap()
}

fn arr<const N: usize>(v: &Value) -> [u8; N] {
    h(v).try_into().unwrap()
}

fn key_entry(kind: &str, version: u32, keys: &HpkeKeys) -> Value {
    json!({"kind": kind, "key_version": version, "public": hex::encode(keys.public),
           "private": hex::encode(&*keys.private)})
}

/// The Rust-made entries: a note to the team and archive keys (long enough for two-byte
/// lengths), a canned response to the team key, a note carried over (version 2).
pub(crate) fn entries(
    tenant: [u8; 16],
    team: [u8; 16],
    at: u64,
    chain: &[u8],
    signer: &DeviceSigner,
    team_key: &HpkeKeys,
    archive_key: &HpkeKeys,
) -> Value {
    let team_r = Recipient {
        kind: KeyKind::Team,
        key_version: 3,
        public: team_key.public,
    };
    let archive_r = Recipient {
        kind: KeyKind::Archive,
        key_version: 1,
        public: archive_key.public,
    };
    let note = Note {
        conversation: [0x61; 16],
        id: [0x62; 16],
        written_ms: at * 1000 + 7,
        text: format!(
            "Rückruf um 17 Uhr <script>alert(1)</script> {}",
            "x".repeat(200)
        ),
        carried_from: None,
    };
    // Carried over to another team (plaintext version 2): names its original author.
    let carried = Note {
        id: [0x63; 16],
        text: "Übernommen: Rückerstattung genehmigt".into(),
        carried_from: Some(Origin {
            chain: chain.to_vec(),
            recorded_ms: at * 1000 - 5,
        }),
        ..note.clone()
    };
    let canned = CannedResponse {
        team,
        written_ms: at * 1000 + 8,
        title: "Remboursement ✓".into(),
        text: "Votre remboursement arrive <b>sous 3 jours</b>.".into(),
    };
    let sealed_note = seal_note(&note, tenant, team, chain, &[team_r, archive_r], signer).unwrap();
    let sealed_canned = seal_canned(&canned, tenant, chain, &[team_r], signer).unwrap();
    let sealed_carried =
        seal_note(&carried, tenant, team, chain, &[team_r, archive_r], signer).unwrap();
    let origin = carried.carried_from.as_ref().unwrap();
    json!([
        {"name": "note to team and archive", "kind": "note", "tenant": hex::encode(tenant),
         "team": hex::encode(team), "at": at, "subject": hex::encode(note.conversation),
         "keys": [key_entry("team", 3, team_key), key_entry("archive", 1, archive_key)],
         "content": {"conversation": hex::encode(note.conversation), "id": hex::encode(note.id),
                     "written_ms": note.written_ms, "text": note.text},
         "plaintext": hex::encode(note.encode().unwrap()),
         "author": "Jürgen S. (Rust)", "sealed": hex::encode(sealed_note)},
        {"name": "canned response to the team", "kind": "canned", "tenant": hex::encode(tenant),
         "team": hex::encode(team), "at": at, "subject": hex::encode(team),
         "keys": [key_entry("team", 3, team_key)],
         "content": {"team": hex::encode(team), "written_ms": canned.written_ms,
                     "title": canned.title, "text": canned.text},
         "plaintext": hex::encode(canned.encode().unwrap()),
         "author": "Jürgen S. (Rust)", "sealed": hex::encode(sealed_canned)},
        {"name": "note carried over to another team", "kind": "note",
         "tenant": hex::encode(tenant), "team": hex::encode(team), "at": at,
         "subject": hex::encode(carried.conversation),
         "keys": [key_entry("team", 3, team_key), key_entry("archive", 1, archive_key)],
         "content": {"conversation": hex::encode(carried.conversation),
                     "id": hex::encode(carried.id), "written_ms": carried.written_ms,
                     "text": carried.text,
                     "carried_from": {"chain": hex::encode(&origin.chain),
                                      "recorded_ms": origin.recorded_ms}},
         "plaintext": hex::encode(carried.encode().unwrap()),
         "author": "Jürgen S. (Rust)", "sealed": hex::encode(sealed_carried)},
    ])
}

fn flipped(bytes: &[u8], i: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[i] ^= 1;
    out
}

/// Opens one entry with `key` for `subject`; the content must decode as the entry says.
fn open_entry(
    v: &Value,
    bytes: &[u8],
    subject: [u8; 16],
    key: &OpeningKey<'_>,
    anchor: &TrustAnchor,
    at: u64,
) -> Result<(String, Vec<u8>), &'static str> {
    let c = &v["content"];
    if v["kind"] == "note" {
        let opened = open_note(bytes, subject, key, anchor, at).map_err(|e| e.code())?;
        let expected = Note {
            conversation: arr(&c["conversation"]),
            id: arr(&c["id"]),
            written_ms: c["written_ms"].as_u64().unwrap(),
            text: c["text"].as_str().unwrap().into(),
            carried_from: c.get("carried_from").map(|o| Origin {
                chain: h(&o["chain"]),
                recorded_ms: o["recorded_ms"].as_u64().unwrap(),
            }),
        };
        assert_eq!(opened.content, expected, "{}", v["name"]);
        if let Some(origin) = carried_author(&opened.content, anchor) {
            let origin = origin.map_err(|e| e.code())?;
            assert_eq!(origin.certificate.label, v["author"].as_str().unwrap());
        }
        Ok((
            opened.author.certificate.label,
            opened.content.encode().unwrap(),
        ))
    } else {
        let opened = open_canned(bytes, subject, key, anchor, at).map_err(|e| e.code())?;
        let expected = CannedResponse {
            team: arr(&c["team"]),
            written_ms: c["written_ms"].as_u64().unwrap(),
            title: c["title"].as_str().unwrap().into(),
            text: c["text"].as_str().unwrap().into(),
        };
        assert_eq!(opened.content, expected, "{}", v["name"]);
        Ok((
            opened.author.certificate.label,
            opened.content.encode().unwrap(),
        ))
    }
}

/// Every team-sealed entry opens with each of its keys for its subject, its plaintext is the
/// byte-identical encoding, and it is refused for another subject, key, version, anchor or
/// with an altered byte.
pub(crate) fn check(file: &Value, anchor: &TrustAnchor, stranger: &TrustAnchor) {
    let entries = file["team_seals"].as_array().expect("team_seals");
    assert!(entries.iter().any(|v| v["kind"] == "note"));
    assert!(entries.iter().any(|v| v["kind"] == "canned"));
    for v in entries {
        let (bytes, at, subject) = (
            h(&v["sealed"]),
            v["at"].as_u64().unwrap(),
            arr(&v["subject"]),
        );
        let keys: Vec<(Recipient, Vec<u8>)> = v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                let kind = if k["kind"] == "team" {
                    KeyKind::Team
                } else {
                    KeyKind::Archive
                };
                let recipient = Recipient {
                    kind,
                    key_version: u32::try_from(k["key_version"].as_u64().unwrap()).unwrap(),
                    public: arr(&k["public"]),
                };
                (recipient, h(&k["private"]))
            })
            .collect();
        for (recipient, private) in &keys {
            let key = OpeningKey {
                recipient: *recipient,
                private,
            };
            let (author, plaintext) = open_entry(v, &bytes, subject, &key, anchor, at).unwrap();
            assert_eq!(author, v["author"].as_str().unwrap());
            assert_eq!(plaintext, h(&v["plaintext"]), "{}: encoding", v["name"]);
        }
        let (team, private) = &keys[0];
        let key = OpeningKey {
            recipient: *team,
            private,
        };
        let open = |bytes: &[u8], subject, key: &OpeningKey<'_>, anchor, at| {
            open_entry(v, bytes, subject, key, anchor, at).map(|_| ())
        };
        assert_eq!(open(&bytes, [0x99; 16], &key, anchor, at), Err("rejected"));
        let next = OpeningKey {
            recipient: Recipient {
                key_version: team.key_version + 1,
                ..*team
            },
            private,
        };
        assert_eq!(open(&bytes, subject, &next, anchor, at), Err("rejected"));
        let cred = Err("credential_rejected");
        assert_eq!(open(&bytes, subject, &key, stranger, at), cred);
        assert_eq!(open(&bytes, subject, &key, anchor, at + 400 * 86_400), cred);
        let len = bytes.len();
        let chain = parse(&bytes).unwrap().chain.len();
        let header = 4 + 1 + 32 + 2 + chain + 1;
        for i in [
            0,
            4,
            5,
            20,
            37,
            header - 1,
            header,
            header + 40,
            len / 2,
            len - 1,
        ] {
            let altered = flipped(&bytes, i);
            let refused = keys
                .iter()
                .filter(|(recipient, private)| {
                    let key = OpeningKey {
                        recipient: *recipient,
                        private,
                    };
                    open(&altered, subject, &key, anchor, at).is_err()
                })
                .count();
            let needed = if i < header { keys.len() } else { 1 };
            assert!(
                refused >= needed,
                "{} byte {i}: {refused} refusals",
                v["name"]
            );
        }
    }
}
