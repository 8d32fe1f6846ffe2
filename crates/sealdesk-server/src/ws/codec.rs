//! Encoding and decoding of protocol v1 frames (JSON text messages, base64 payloads), with
//! the size limits applied before anything is allocated for a payload.

use axum::extract::ws::Utf8Bytes;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_core::domain::{EntryKind, LogEntry, Party};
use sealdesk_proto::ErrorCode;
use sealdesk_proto::ws::{ClientFrame, ServerFrame, WireKind, WireParty, WsError};

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// Stable code.
    pub code: ErrorCode,
    /// Explanation for the client.
    pub message: String,
}

impl FrameError {
    fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidInput,
            message: message.into(),
        }
    }
}

/// Decodes one client text frame.
pub fn decode(text: &str) -> Result<ClientFrame, FrameError> {
    serde_json::from_str(text).map_err(|e| {
        // serde's message names the field or the unknown type, never the payload.
        FrameError::invalid(format!("malformed frame: {e}"))
    })
}

/// Decodes a base64 payload of at most `max` bytes. The length is checked on the encoded
/// form first, so an oversized payload is refused before it is decoded.
pub fn decode_payload(p: &str, max: usize) -> Result<Bytes, FrameError> {
    if p.len() > max.div_ceil(3) * 4 {
        return Err(FrameError {
            code: ErrorCode::PayloadTooLarge,
            message: format!("payload larger than {max} bytes"),
        });
    }
    let bytes = STANDARD
        .decode(p)
        .map_err(|_| FrameError::invalid("payload is not valid base64"))?;
    if bytes.len() > max {
        return Err(FrameError {
            code: ErrorCode::PayloadTooLarge,
            message: format!("payload larger than {max} bytes"),
        });
    }
    if bytes.is_empty() {
        return Err(FrameError::invalid("payload is empty"));
    }
    Ok(Bytes::from(bytes))
}

/// Encodes a server frame.
pub fn encode(frame: &ServerFrame) -> Utf8Bytes {
    // Serialising these plain structs cannot fail (string keys, no maps with non-string
    // keys, no floats); an empty frame would be refused by clients, never misread.
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default())
}

/// An error frame.
pub fn error_frame(err: WsError) -> Utf8Bytes {
    encode(&ServerFrame::Error(err))
}

/// The wire form of an entry kind.
pub fn wire_kind(kind: EntryKind) -> WireKind {
    match kind {
        EntryKind::Handshake => WireKind::Handshake,
        EntryKind::Application => WireKind::Application,
        EntryKind::Welcome => WireKind::Welcome,
        EntryKind::System => WireKind::System,
    }
}

/// The entry kind a client may send (`system` is the server's alone).
pub fn client_kind(kind: WireKind) -> Option<EntryKind> {
    match kind {
        WireKind::Handshake => Some(EntryKind::Handshake),
        WireKind::Application => Some(EntryKind::Application),
        WireKind::Welcome => Some(EntryKind::Welcome),
        WireKind::System => None,
    }
}

/// The wire form of a party.
pub fn wire_party(party: Party) -> WireParty {
    match party {
        Party::Visitor(v) => WireParty::Visitor(v),
        Party::Staff(s) => WireParty::Staff(s),
        Party::System => WireParty::System,
    }
}

/// The `entry` frame of a log entry.
pub fn entry_frame(entry: &LogEntry) -> Utf8Bytes {
    encode(&ServerFrame::Entry {
        c: entry.conversation_id,
        seq: entry.seq,
        k: wire_kind(entry.kind),
        from: wire_party(entry.sender),
        id: entry
            .client_msg_id
            .as_ref()
            .map(|id| id.as_str().to_owned()),
        at: to_unix_ms(entry.created_at),
        p: STANDARD.encode(&entry.payload),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_core::domain::ClientMsgId;
    use sealdesk_proto::{ConversationId, TenantId, VisitorId};
    use time::macros::datetime;
    use uuid::Uuid;

    #[test]
    fn payload_limits_hold_before_and_after_decoding() {
        assert_eq!(decode_payload("aGVsbG8=", 5).unwrap().as_ref(), b"hello");
        assert_eq!(
            decode_payload("aGVsbG8h", 5).unwrap_err().code,
            ErrorCode::PayloadTooLarge
        );
        let huge = "A".repeat(1_000_000);
        assert_eq!(
            decode_payload(&huge, 1024).unwrap_err().code,
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(
            decode_payload("***", 100).unwrap_err().code,
            ErrorCode::InvalidInput
        );
        assert_eq!(
            decode_payload("", 100).unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }

    #[test]
    fn entry_frames_decode_back_to_the_entry() {
        let entry = LogEntry {
            tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
            conversation_id: ConversationId::from_uuid(Uuid::from_u128(2)),
            seq: 42,
            sender: Party::Visitor(VisitorId::from_uuid(Uuid::from_u128(3))),
            kind: EntryKind::Application,
            client_msg_id: Some(ClientMsgId::parse("m-1").unwrap()),
            payload: Bytes::from_static(b"\x00\x01ciphertext"),
            created_at: datetime!(2026-01-01 0:00 UTC),
        };
        let frame: ServerFrame = serde_json::from_str(&entry_frame(&entry)).unwrap();
        let ServerFrame::Entry {
            c,
            seq,
            k,
            from,
            id,
            at,
            p,
        } = frame
        else {
            panic!("not an entry frame");
        };
        assert_eq!(c, entry.conversation_id);
        assert_eq!(seq, 42);
        assert_eq!(k, WireKind::Application);
        assert_eq!(
            from,
            WireParty::Visitor(VisitorId::from_uuid(Uuid::from_u128(3)))
        );
        assert_eq!(id.as_deref(), Some("m-1"));
        assert_eq!(at, 1_767_225_600_000);
        assert_eq!(STANDARD.decode(p).unwrap(), entry.payload.as_ref());
    }

    proptest::proptest! {
        /// The stable-toolchain twin of the cargo-fuzz target `fuzz/fuzz_targets/ws_frame.rs`.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = decode(&text);
        }

        #[test]
        fn frame_shaped_text_never_panics(
            t in "(auth|sub|unsub|send|typing|read|ping|x)",
            c in "[0-9a-f-]{0,40}",
            n in proptest::num::i64::ANY,
            p in "[A-Za-z0-9+/=]{0,64}",
        ) {
            let text = format!(
                r#"{{"t":"{t}","c":"{c}","after":{n},"id":"{c}","k":"application","p":"{p}","on":true,"seq":{n},"n":{n},"token":"{c}"}}"#
            );
            if let Ok(ClientFrame::Send { p, .. }) = decode(&text)
                && let Ok(payload) = decode_payload(&p, 16)
            {
                proptest::prop_assert!(!payload.is_empty() && payload.len() <= 16);
            }
        }
    }

    #[test]
    fn garbage_frames_get_invalid_input() {
        for raw in [
            "",
            "{",
            "[]",
            "null",
            r#"{"t":"send"}"#,
            r#"{"t":"sub","c":"x"}"#,
        ] {
            assert_eq!(
                decode(raw).unwrap_err().code,
                ErrorCode::InvalidInput,
                "{raw}"
            );
        }
        assert!(client_kind(WireKind::System).is_none());
    }
}
