//! What protocol v1's JSON frames cost against a compact binary layout, on this machine:
//! `cargo run --release -p sealdesk-proto --example frame_cost`.
//!
//! Measures, for a 200-byte payload, encoding one `entry` frame (what the server does once per
//! committed entry) and decoding one `send` frame (once per inbound message), as JSON with
//! base64 payloads and as a length-prefixed binary layout carrying the same fields. The
//! numbers justify the encoding choice in docs/protocol.md.

// A measurement program: printing its results is its job, and nanosecond counts fit f64.
#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

use std::hint::black_box;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_proto::ws::{ClientFrame, ServerFrame, WireKind, WireParty};
use sealdesk_proto::{ConversationId, VisitorId};
use uuid::Uuid;

const ROUNDS: u32 = 200_000;

fn time(label: &str, mut f: impl FnMut() -> usize) -> f64 {
    // Warm up, then measure.
    for _ in 0..ROUNDS / 10 {
        black_box(f());
    }
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..ROUNDS {
        bytes = black_box(f());
    }
    let ns = started.elapsed().as_nanos() as f64 / f64::from(ROUNDS);
    println!("{label:<34} {ns:>8.0} ns/frame  {bytes:>4} bytes");
    ns
}

/// The same fields as `entry`, binary: kind, seq, conversation, sender kind + id, time,
/// optional client id, payload — each length-prefixed where variable.
fn binary_entry(out: &mut Vec<u8>, c: Uuid, seq: u64, from: Uuid, at: i64, id: &str, p: &[u8]) {
    out.clear();
    out.push(2);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(c.as_bytes());
    out.push(1);
    out.extend_from_slice(from.as_bytes());
    out.extend_from_slice(&at.to_be_bytes());
    out.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&u32::try_from(p.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(p);
}

fn binary_send_decode(frame: &[u8]) -> Option<(Uuid, &str, &[u8])> {
    let c = Uuid::from_slice(frame.get(1..17)?).ok()?;
    let id_len = usize::from(*frame.get(17)?);
    let id = std::str::from_utf8(frame.get(18..18 + id_len)?).ok()?;
    let rest = frame.get(18 + id_len..)?;
    let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    Some((c, id, rest.get(4..4 + len)?))
}

fn main() {
    let c = Uuid::now_v7();
    let from = Uuid::now_v7();
    let payload = vec![0xA5u8; 200];
    let entry = || ServerFrame::Entry {
        c: ConversationId::from_uuid(c),
        seq: 123_456,
        k: WireKind::Application,
        from: WireParty::Visitor(VisitorId::from_uuid(from)),
        id: Some("0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70".to_owned()),
        at: 1_763_740_000_000,
        p: STANDARD.encode(&payload),
    };
    println!("payload: {} bytes; {} rounds each", payload.len(), ROUNDS);
    let json_encode = time("entry: JSON encode (incl. base64)", || {
        serde_json::to_string(&entry()).map_or(0, |s| s.len())
    });
    let mut buf = Vec::with_capacity(512);
    let binary_encode = time("entry: binary encode", || {
        binary_entry(
            &mut buf,
            c,
            123_456,
            from,
            1_763_740_000_000,
            "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70",
            &payload,
        );
        buf.len()
    });
    let send = serde_json::to_string(&ClientFrame::Send {
        c: ConversationId::from_uuid(c),
        id: "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70".to_owned(),
        k: WireKind::Application,
        p: STANDARD.encode(&payload),
    })
    .unwrap_or_default();
    let json_decode = time(
        "send: JSON decode (incl. base64)",
        || match serde_json::from_str::<ClientFrame>(&send) {
            Ok(ClientFrame::Send { p, .. }) => STANDARD.decode(p).map_or(0, |b| b.len()),
            _ => 0,
        },
    );
    let mut send_bin = vec![3u8];
    send_bin.extend_from_slice(c.as_bytes());
    send_bin.push(36);
    send_bin.extend_from_slice(b"0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70");
    send_bin.extend_from_slice(&200u32.to_be_bytes());
    send_bin.extend_from_slice(&payload);
    let binary_decode = time("send: binary decode (copying payload)", || {
        binary_send_decode(&send_bin).map_or(0, |(_, _, p)| p.to_vec().len())
    });
    println!(
        "JSON costs {:.2} µs more per persisted 1:1 message (1 decode + 1 encode) than binary",
        (json_encode + json_decode - binary_encode - binary_decode) / 1000.0
    );
}
