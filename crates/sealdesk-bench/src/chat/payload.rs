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

//!
//! With `--mls` the 200 bytes travel as the `ciphertext` of an MLS `PrivateMessage` (RFC 9420
//! §6.3.2) of the conversation's group (group id = the conversation's UUID, epoch 0), padded
//! to the length a real 200-byte application message has under our profile (a test checks it
//! against openmls). The server validates that framing against the group it follows, exactly
//! as for real ciphertext, which it cannot read either way; what encryption costs the
//! clients is measured apart (docs/performance.md, MLS).

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

/// Bytes of the AEAD-sealed sender data of a `PrivateMessage` (RFC 9420 §6.3.2: leaf index,
/// generation and reuse guard, 12 bytes, plus a 16-byte tag).
const SENDER_DATA: usize = 28;
/// Length of the `ciphertext` of a real 200-byte application message under our profile
/// (padded content plus tag; checked against openmls in the tests).
pub(crate) const MLS_CIPHERTEXT: usize = 512;
/// Length of the framed message.
pub(crate) const MLS_LEN: usize = 4 + 1 + 16 + 8 + 1 + 1 + 1 + SENDER_DATA + 2 + MLS_CIPHERTEXT;
/// Its base64 length.
pub(crate) const MLS_B64_LEN: usize = MLS_LEN.div_ceil(3) * 4;

/// Appends an MLS variable-length vector (RFC 9420 §2.1.2) of `bytes`.
fn put_vec(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    if n < 1 << 6 {
        out.push(u8::try_from(n).unwrap_or(0));
    } else if n < 1 << 14 {
        out.extend_from_slice(&(0x4000u16 | u16::try_from(n).unwrap_or(0)).to_be_bytes());
    } else {
        out.extend_from_slice(&(0x8000_0000u32 | u32::try_from(n).unwrap_or(0)).to_be_bytes());
    }
    out.extend_from_slice(bytes);
}

/// Reads an MLS variable-length vector.
fn take_vec<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let first = *bytes.first()?;
    let (len, skip) = match first >> 6 {
        0 => (usize::from(first), 1),
        1 => (
            usize::from(u16::from_be_bytes(bytes.get(..2)?.try_into().ok()?) & 0x3fff),
            2,
        ),
        2 => (
            usize::try_from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) & 0x3fff_ffff)
                .ok()?,
            4,
        ),
        _ => return None,
    };
    let v = bytes.get(skip..skip + len)?;
    *bytes = bytes.get(skip + len..)?;
    Some(v)
}

/// `content` as the ciphertext of an application `PrivateMessage` of group `group_id` at
/// `epoch` (`MLSMessage`, RFC 9420 §6).
pub(crate) fn private_message(group_id: &[u8], epoch: u64, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MLS_LEN);
    out.extend_from_slice(&1u16.to_be_bytes()); // mls10
    out.extend_from_slice(&2u16.to_be_bytes()); // mls_private_message
    put_vec(&mut out, group_id);
    out.extend_from_slice(&epoch.to_be_bytes());
    out.push(1); // application
    put_vec(&mut out, &[]); // authenticated_data
    put_vec(&mut out, &[0x5a; SENDER_DATA]);
    put_vec(&mut out, content);
    out
}

/// A generator payload as the ciphertext of its conversation's application message, padded
/// with zeros to the length a real one has ([`MLS_CIPHERTEXT`]).
fn framed(payload: &[u8; LEN], group_id: &[u8]) -> Vec<u8> {
    let mut ciphertext = payload.to_vec();
    ciphertext.resize(MLS_CIPHERTEXT, 0);
    private_message(group_id, 0, &ciphertext)
}

/// The ciphertext of an application `PrivateMessage` made by [`private_message`].
fn private_content(mut bytes: &[u8]) -> Option<&[u8]> {
    if bytes.get(..4)? != [0, 1, 0, 2] {
        return None;
    }
    bytes = bytes.get(4..)?;
    take_vec(&mut bytes)?; // group id
    bytes = bytes.get(8..)?; // epoch
    if *bytes.first()? != 1 {
        return None;
    }
    bytes = bytes.get(1..)?;
    take_vec(&mut bytes)?;
    take_vec(&mut bytes)?;
    take_vec(&mut bytes)
}

/// Whether a base64 payload has the length of a generator message (plain or framed).
pub(crate) fn is_generator_len(len: usize) -> bool {
    len == B64_LEN || len == MLS_B64_LEN
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

    /// Appends the base64 of the payload framed as the conversation's MLS application
    /// message (epoch 0).
    pub(crate) fn encode_b64_mls(&self, out: &mut String) {
        STANDARD.encode_string(framed(&self.encode(), &self.conv_id), out);
    }

    /// Decodes the base64 text of a payload, plain or framed (`None` for anything else).
    pub(crate) fn decode_b64(text: &str) -> Option<Self> {
        if text.len() == MLS_B64_LEN {
            let mut buf = [0u8; MLS_LEN + 3];
            let n = STANDARD.decode_slice(text, &mut buf).ok()?;
            let content = private_content(buf.get(..n)?)?;
            let (payload, padding) = (content.get(..LEN)?, content.get(LEN..)?);
            if padding.iter().any(|b| *b != 0) {
                return None;
            }
            let m = Self::decode(payload)?;
            // The frame names the conversation's group.
            return (buf.get(5..21)? == m.conv_id).then_some(m);
        }
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

    #[test]
    fn framed_messages_round_trip_and_match_a_real_one() {
        let m = sample();
        let mut text = String::new();
        m.encode_b64_mls(&mut text);
        assert_eq!(text.len(), MLS_B64_LEN);
        assert!(is_generator_len(text.len()));
        assert_eq!(Message::decode_b64(&text), Some(m));
        // Another group's frame around the same payload is refused.
        let other = framed(&m.encode(), &[9; 16]);
        assert_eq!(Message::decode_b64(&STANDARD.encode(other)), None);

        // A real 200-byte application message of our profile frames the same way, with the
        // same lengths: the server sees what it would see from real clients.
        let check: std::sync::Arc<dyn sealdesk_mls::CredentialCheck> = std::sync::Arc::new(AnyOne);
        let mut client = sealdesk_mls::Client::new(b"bench", check).unwrap();
        client.create_group(&m.conv_id).unwrap();
        let real = client.send(&m.encode()).unwrap();
        let ours = framed(&m.encode(), &m.conv_id);
        assert_eq!(
            real.len(),
            ours.len(),
            "MLS_CIPHERTEXT no longer matches the profile"
        );
        assert_eq!(
            real[..30],
            ours[..30],
            "version, wire format, group id, epoch, type"
        );
        let view =
            sealdesk_mls::ds::GroupView::from_group_info(&client.group_info().unwrap()).unwrap();
        view.check_application(&ours).unwrap();
    }

    struct AnyOne;
    impl sealdesk_mls::CredentialCheck for AnyOne {
        fn check(&self, _: &[u8], _: &[u8]) -> Result<(), String> {
            Ok(())
        }
    }

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
