//! Just enough of RFC 6455 for a load generator client: the upgrade request and the check of
//! its answer, masked client frames, and parsing of (unmasked) server frames from a byte
//! buffer. The generator owns the socket and its buffers, so an idle connection costs a few
//! hundred bytes instead of a tungstenite stream's ~7 KB (see docs/performance.md).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest as _, Sha1};

/// Text frame opcode.
pub(crate) const OP_TEXT: u8 = 0x1;
/// Continuation frame opcode.
pub(crate) const OP_CONTINUATION: u8 = 0x0;
/// Close frame opcode.
pub(crate) const OP_CLOSE: u8 = 0x8;
/// Ping frame opcode.
pub(crate) const OP_PING: u8 = 0x9;
/// Pong frame opcode.
pub(crate) const OP_PONG: u8 = 0xA;
/// Largest server frame accepted (the server's own limit is far below).
const MAX_FRAME: u64 = 16 << 20;

/// The `Sec-WebSocket-Accept` value for a key (RFC 6455 §4.2.2).
pub(crate) fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    STANDARD.encode(sha.finalize())
}

/// A key for the upgrade request, from 16 bytes of the caller's randomness.
pub(crate) fn request_key(bytes: [u8; 16]) -> String {
    STANDARD.encode(bytes)
}

/// The upgrade request for `path` on `host`, offering `protocol`, with extra header lines.
pub(crate) fn upgrade_request(
    host: &str,
    path: &str,
    key: &str,
    protocol: &str,
    headers: &[(&str, &str)],
) -> String {
    let mut r = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n"
    );
    for (name, value) in headers {
        r.push_str(name);
        r.push_str(": ");
        r.push_str(value);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r
}

/// Why an upgrade failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UpgradeError {
    /// Not `101 Switching Protocols`.
    #[error("upgrade refused: {0}")]
    Status(String),
    /// The accept key does not match.
    #[error("bad Sec-WebSocket-Accept")]
    Accept,
    /// Not HTTP.
    #[error("malformed upgrade response")]
    Malformed,
}

/// Checks a complete upgrade response in `buf`. `Ok(None)`: the head is not complete yet;
/// `Ok(Some(n))`: the head is `n` bytes long (anything after it is already WebSocket data).
pub(crate) fn check_upgrade(buf: &[u8], key: &str) -> Result<Option<usize>, UpgradeError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > 16 * 1024 {
            return Err(UpgradeError::Malformed);
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| UpgradeError::Malformed)?;
    let mut lines = head.split("\r\n");
    let status = lines.next().ok_or(UpgradeError::Malformed)?;
    if !status.starts_with("HTTP/1.1 101") {
        // Keep the start of the body for the report (the server's JSON error).
        let body = String::from_utf8_lossy(buf.get(end + 4..).unwrap_or_default());
        let body: String = body.chars().take(200).collect();
        return Err(UpgradeError::Status(format!("{status} {body}")));
    }
    let expected = accept_key(key);
    let accepted = lines.any(|l| {
        l.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("sec-websocket-accept") && value.trim() == expected
        })
    });
    if !accepted {
        return Err(UpgradeError::Accept);
    }
    Ok(Some(end + 4))
}

/// Appends one masked client frame (FIN set) to `out`.
pub(crate) fn encode_frame(opcode: u8, payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    out.push(0x80 | (opcode & 0x0f));
    let len = payload.len();
    if len < 126 {
        // Fits in 7 bits.
        out.push(0x80 | u8::try_from(len).unwrap_or(0));
    } else if let Ok(len16) = u16::try_from(len) {
        out.push(0x80 | 0x7e);
        out.extend_from_slice(&len16.to_be_bytes());
    } else {
        out.push(0x80 | 0x7f);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
}

/// One parsed server frame: header bits and where its payload lies in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    /// Final fragment.
    pub(crate) fin: bool,
    /// Opcode.
    pub(crate) opcode: u8,
    /// Payload start in the buffer.
    pub(crate) start: usize,
    /// Payload end in the buffer (exclusive); also the frame's total length.
    pub(crate) end: usize,
}

/// Why a server frame is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FrameError {
    /// Servers must not mask.
    #[error("masked frame from the server")]
    Masked,
    /// Larger than [`MAX_FRAME`].
    #[error("frame too large")]
    TooLarge,
    /// Reserved bits set (no extension was negotiated).
    #[error("reserved bits set")]
    Reserved,
}

/// Parses the frame at the start of `buf`: `Ok(None)` if it is incomplete.
pub(crate) fn parse_frame(buf: &[u8]) -> Result<Option<Frame>, FrameError> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(FrameError::Reserved);
    }
    if b1 & 0x80 != 0 {
        return Err(FrameError::Masked);
    }
    let (len, header) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge);
    }
    let end = header + usize::try_from(len).map_err(|_| FrameError::TooLarge)?;
    if buf.len() < end {
        return Ok(None);
    }
    Ok(Some(Frame {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0f,
        start: header,
        end,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_matches_the_rfc_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn upgrade_response_is_checked() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let ok = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi";
        assert_eq!(check_upgrade(ok, key), Ok(Some(ok.len() - 4)));
        assert_eq!(check_upgrade(&ok[..20], key), Ok(None));
        let bad = b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: nope\r\n\r\n";
        assert_eq!(check_upgrade(bad, key), Err(UpgradeError::Accept));
        let refused = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\n{}";
        assert!(matches!(
            check_upgrade(refused, key),
            Err(UpgradeError::Status(s)) if s.contains("401") && s.contains("{}")
        ));
        let request = upgrade_request(
            "h:1",
            "/api/ws",
            key,
            "sealdesk.v1",
            &[("Authorization", "Bearer x")],
        );
        assert!(request.ends_with("Authorization: Bearer x\r\n\r\n"));
    }

    /// Unmasks a client frame the way a server does.
    fn unmask(frame: &[u8]) -> (u8, Vec<u8>) {
        let (len, at) = match frame[1] & 0x7f {
            126 => (u16::from_be_bytes([frame[2], frame[3]]) as usize, 4),
            127 => (
                usize::try_from(u64::from_be_bytes(frame[2..10].try_into().unwrap())).unwrap(),
                10,
            ),
            n => (n as usize, 2),
        };
        assert!(frame[1] & 0x80 != 0, "client frames are masked");
        let mask = &frame[at..at + 4];
        let body = frame[at + 4..at + 4 + len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        (frame[0], body)
    }

    #[test]
    fn client_frames_are_masked_with_every_length_form() {
        for len in [0usize, 5, 125, 126, 300, 65_535, 65_536, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
            let mut out = Vec::new();
            encode_frame(OP_TEXT, &payload, [1, 2, 3, 4], &mut out);
            let (b0, body) = unmask(&out);
            assert_eq!(b0, 0x81);
            assert_eq!(body, payload, "length {len}");
        }
    }

    #[test]
    fn server_frames_parse_incrementally() {
        let mut buf = vec![0x81, 126, 0x01, 0x00];
        buf.extend(std::iter::repeat_n(b'a', 256));
        buf.extend([0x89, 0x00]);
        for cut in 0..buf.len() - 2 {
            assert_eq!(parse_frame(&buf[..cut.min(259)]), Ok(None), "cut {cut}");
        }
        let f = parse_frame(&buf).unwrap().unwrap();
        assert_eq!((f.fin, f.opcode, f.start, f.end), (true, OP_TEXT, 4, 260));
        let ping = parse_frame(&buf[f.end..]).unwrap().unwrap();
        assert_eq!((ping.opcode, ping.start, ping.end), (OP_PING, 2, 2));
        assert_eq!(parse_frame(&[0x81, 0x85]), Err(FrameError::Masked));
        assert_eq!(parse_frame(&[0xC1, 0x00]), Err(FrameError::Reserved));
        let mut huge = vec![0x82, 127];
        huge.extend((1u64 << 40).to_be_bytes());
        assert_eq!(parse_frame(&huge), Err(FrameError::TooLarge));
    }
}
