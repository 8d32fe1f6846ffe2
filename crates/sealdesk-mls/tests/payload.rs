//! The application payload: round trips, strict refusals, and the shared vectors
//! (`tests/vectors/payload.json`) that the TypeScript encoder (`web/shared/mls/payload.ts`)
//! must reproduce byte for byte. `SEALDESK_BLESS=1` rewrites the file from this encoder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sealdesk_mls::payload::{Body, FileRef, Payload};
use serde_json::{Value, json};

fn cases() -> Vec<(&'static str, Payload, Value)> {
    let id = |n: u8| [n; 16];
    let file = FileRef {
        sha256: [0xab; 32],
        size: 123_456,
        key: [7; 32],
        nonce: [9; 12],
        name: "invoice-4711.pdf".into(),
        media_type: "application/pdf".into(),
    };
    vec![
        (
            "text",
            Payload {
                msg_id: id(1),
                sent_at_ms: 1_763_740_000_000,
                body: Body::Text("Hello, my card was charged twice 💳".into()),
            },
            json!({"kind": "text", "text": "Hello, my card was charged twice 💳"}),
        ),
        (
            "long text (2-byte length)",
            Payload {
                msg_id: id(2),
                sent_at_ms: 1,
                body: Body::Text("x".repeat(300)),
            },
            json!({"kind": "text", "text": "x".repeat(300)}),
        ),
        (
            "file",
            Payload {
                msg_id: id(3),
                sent_at_ms: 2,
                body: Body::File(file),
            },
            json!({"kind": "file", "sha256": "ab".repeat(32), "size": 123_456, "key": "07".repeat(32), "nonce": "09".repeat(12), "name": "invoice-4711.pdf", "media_type": "application/pdf"}),
        ),
        (
            "typing",
            Payload {
                msg_id: id(4),
                sent_at_ms: 3,
                body: Body::Typing(true),
            },
            json!({"kind": "typing", "on": true}),
        ),
        (
            "read",
            Payload {
                msg_id: id(5),
                sent_at_ms: 4,
                body: Body::Read(42),
            },
            json!({"kind": "read", "seq": 42}),
        ),
        (
            "leave request",
            Payload {
                msg_id: id(6),
                sent_at_ms: 5,
                body: Body::LeaveRequest,
            },
            json!({"kind": "leave_request"}),
        ),
        (
            "prechat",
            Payload {
                msg_id: id(7),
                sent_at_ms: 6,
                body: Body::Prechat(vec![
                    ("name".into(), "Zoë".into()),
                    ("order".into(), "A-17".into()),
                ]),
            },
            json!({"kind": "prechat", "fields": [["name", "Zoë"], ["order", "A-17"]]}),
        ),
    ]
}

fn invalid() -> Vec<(&'static str, Vec<u8>)> {
    let good = cases()[0].1.encode().unwrap();
    let mut trailing = good.clone();
    trailing.push(0);
    let mut version = good.clone();
    version[0] = 2;
    let mut kind = good.clone();
    kind[1] = 99;
    // Text "a" with its 1-byte length written in the 2-byte form (non-minimal).
    let mut non_minimal = good[..26].to_vec();
    non_minimal.extend_from_slice(&[0x40, 0x01, b'a']);
    let mut bad_utf8 = good[..26].to_vec();
    bad_utf8.extend_from_slice(&[0x01, 0xff]);
    let mut empty_text = good[..26].to_vec();
    empty_text.push(0x00);
    vec![
        ("truncated", good[..good.len() - 1].to_vec()),
        ("trailing byte", trailing),
        ("unknown version", version),
        ("unknown kind", kind),
        ("non-minimal length", non_minimal),
        ("invalid UTF-8", bad_utf8),
        ("empty text", empty_text),
    ]
}

fn vector_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/payload.json")
}

#[test]
fn every_kind_round_trips() {
    for (name, payload, _) in cases() {
        let bytes = payload.encode().unwrap();
        assert_eq!(Payload::decode(&bytes).unwrap(), payload, "{name}");
    }
}

#[test]
fn malformed_payloads_are_refused() {
    for (name, bytes) in invalid() {
        assert!(Payload::decode(&bytes).is_err(), "{name} must be refused");
    }
    assert!(
        Payload {
            msg_id: [0; 16],
            sent_at_ms: 0,
            body: Body::Text(String::new())
        }
        .encode()
        .is_err()
    );
    assert!(
        Payload {
            msg_id: [0; 16],
            sent_at_ms: 0,
            body: Body::Text("x".repeat(16 * 1024 + 1))
        }
        .encode()
        .is_err()
    );
}

#[test]
fn the_shared_vectors_are_this_encoding() {
    let valid: Vec<Value> = cases()
        .into_iter()
        .map(|(name, payload, body)| {
            json!({
                "name": name,
                "msg_id": hex::encode(payload.msg_id),
                "sent_at_ms": payload.sent_at_ms,
                "body": body,
                "encoded": hex::encode(payload.encode().unwrap()),
            })
        })
        .collect();
    let bad: Vec<Value> = invalid()
        .into_iter()
        .map(|(name, bytes)| json!({"name": name, "encoded": hex::encode(bytes)}))
        .collect();
    let expected =
        serde_json::to_string_pretty(&json!({"valid": valid, "invalid": bad})).unwrap() + "\n";
    if std::env::var_os("SEALDESK_BLESS").is_some() {
        std::fs::write(vector_file(), &expected).unwrap();
    }
    let committed = std::fs::read_to_string(vector_file()).unwrap_or_default();
    assert_eq!(
        committed, expected,
        "tests/vectors/payload.json is stale: rerun with SEALDESK_BLESS=1"
    );
}
