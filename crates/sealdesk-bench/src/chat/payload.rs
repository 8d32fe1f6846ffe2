//! The generator's message payload: opaque bytes to the server, carrying what the receiver
//! needs to check delivery and measure latency. 200 bytes before base64 (PERFORMANCE.md: "≈ 200
//! B text body"), laid out little-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `SDB1` |
//! | 4..12 | `msg_id` (unique in the run: worker id in the top 16 bits) |
//! | 12..28 | `conv_id` (the conversation's UUID) |
//! | 28..32 | the conversation's index in its worker |
//! | 32 | sender role (0 visitor, 1 agent) |
//! | 33..40 | reserved (zero) |
//! | 40..48 | per-sender `seq` (1, 2, 3, …) |
//! | 48..56 | `intended_send_ns` (`CLOCK_MONOTONIC`) |
//! | 56..64 | `actual_send_ns` |
//! | 64..200 | padding: byte `i` is `(msg_id + i) mod 256`, checked on receipt |

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Payload size in bytes.
pub(crate) const LEN: usize = 200;
/// Its base64 length.
pub(crate) const B64_LEN: usize = LEN.div_ceil(3) * 4;
const MAGIC: &[u8; 4] = b"SDB1";
const HEADER: usize = 64;

/// Who sent a message in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The visitor.
    Visitor,
    /// The agent.
    Agent,
}

impl Role {
    /// 0 or 1, for per-direction arrays.
    pub(crate) fn index(self) -> usize {
        match self {
            Role::Visitor => 0,
            Role::Agent => 1,
        }
    }
}

/// The decoded fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Message {
    /// Unique message id.
    pub(crate) msg_id: u64,
    /// The conversation's UUID bytes.
    pub(crate) conv_id: [u8; 16],
    /// The conversation's index in its worker.
    pub(crate) conv: u32,
    /// Who sent it.
    pub(crate) from: Role,
    /// Per-sender sequence number.
    pub(crate) seq: u64,
    /// When the schedule said to send it.
    pub(crate) intended_ns: u64,
    /// When it was sent.
    pub(crate) actual_ns: u64,
}

fn put(buf: &mut [u8; LEN], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn u64_at(buf: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(buf.get(at..at + 8)?.try_into().ok()?))
}

#[allow(clippy::cast_possible_truncation)] // padding keeps the low byte on purpose
fn pad_byte(msg_id: u64, i: usize) -> u8 {
    (msg_id.wrapping_add(i as u64) & 0xff) as u8
}

impl Message {
    /// The 200 payload bytes.
    pub(crate) fn encode(&self) -> [u8; LEN] {
        let mut buf = [0u8; LEN];
        put(&mut buf, 0, MAGIC);
        put(&mut buf, 4, &self.msg_id.to_le_bytes());
        put(&mut buf, 12, &self.conv_id);
        put(&mut buf, 28, &self.conv.to_le_bytes());
        put(
            &mut buf,
            32,
            &[match self.from {
                Role::Visitor => 0,
                Role::Agent => 1,
            }],
        );
        put(&mut buf, 40, &self.seq.to_le_bytes());
        put(&mut buf, 48, &self.intended_ns.to_le_bytes());
        put(&mut buf, 56, &self.actual_ns.to_le_bytes());
        for (i, b) in buf.iter_mut().enumerate().skip(HEADER) {
            *b = pad_byte(self.msg_id, i);
        }
        buf
    }

    /// Appends the base64 of the payload to `out`.
    pub(crate) fn encode_b64(&self, out: &mut String) {
        STANDARD.encode_string(self.encode(), out);
    }

    /// Decodes a payload; `None` if it is not a generator message or was altered.
    pub(crate) fn decode(buf: &[u8]) -> Option<Self> {
        if buf.len() != LEN || buf.get(0..4)? != MAGIC {
            return None;
        }
        let msg_id = u64_at(buf, 4)?;
        let intact = buf
            .iter()
            .enumerate()
            .skip(HEADER)
            .all(|(i, b)| *b == pad_byte(msg_id, i));
        if !intact {
            return None;
        }
        let from = match buf.get(32)? {
            0 => Role::Visitor,
            1 => Role::Agent,
            _ => return None,
        };
        Some(Self {
            msg_id,
            conv_id: buf.get(12..28)?.try_into().ok()?,
            conv: u32::from_le_bytes(buf.get(28..32)?.try_into().ok()?),
            from,
            seq: u64_at(buf, 40)?,
            intended_ns: u64_at(buf, 48)?,
            actual_ns: u64_at(buf, 56)?,
        })
    }

    /// Decodes the base64 text of a payload (`None` for anything else).
    pub(crate) fn decode_b64(text: &str) -> Option<Self> {
        if text.len() != B64_LEN {
            return None;
        }
        let mut buf = [0u8; LEN + 3];
        let n = STANDARD.decode_slice(text, &mut buf).ok()?;
        Self::decode(buf.get(..n)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        Message {
            msg_id: (7 << 48) | 0x3039,
            conv_id: *b"0123456789abcdef",
            conv: 4_999,
            from: Role::Agent,
            seq: 42,
            intended_ns: 1_000_000_007,
            actual_ns: 1_000_050_011,
        }
    }

    #[test]
    fn round_trips_through_base64() {
        let m = sample();
        let mut text = String::new();
        m.encode_b64(&mut text);
        assert_eq!(text.len(), B64_LEN);
        assert_eq!(Message::decode_b64(&text), Some(m));
    }

    #[test]
    fn refuses_foreign_or_altered_payloads() {
        let mut bytes = sample().encode();
        assert!(Message::decode(&bytes).is_some());
        bytes[150] ^= 1;
        assert!(Message::decode(&bytes).is_none(), "padding altered");
        let mut bytes = sample().encode();
        bytes[0] = b'X';
        assert!(Message::decode(&bytes).is_none(), "no magic");
        assert!(Message::decode(&bytes[..199]).is_none(), "short");
        assert!(
            Message::decode_b64("aGVsbG8=").is_none(),
            "someone else's payload"
        );
        assert_eq!(Role::Agent.index(), 1);
    }
}
