//! The application payload inside MLS application messages (E2EE.md §2): what a person sends,
//! versioned and length-delimited, so the widget, the console and the terminal agent read
//! each other. The server never sees it (it is the MLS plaintext).
//!
//! Encoding (big-endian; `<V>` is the MLS variable-length vector, RFC 9420 §2.1.2, whose
//! length is a QUIC-style variable-length integer, RFC 9000 §16):
//!
//! ```text
//! struct {
//!     uint8  version = 1;
//!     uint8  kind;          // 1 text, 2 file, 3 typing, 4 read, 5 leave_request, 6 prechat
//!     opaque msg_id[16];    // random; a resend keeps it (receivers deduplicate)
//!     uint64 sent_at_ms;    // the sender's clock, for display only
//!     opaque body<V>;       // by kind, below
//! } Payload;
//! text:          UTF-8, 1 to 16,384 bytes
//! file:          opaque sha256[32]; uint64 size; opaque key[32]; opaque nonce[12];
//!                opaque name<V>; opaque media_type<V>   (AES-256-GCM of the blob; §2)
//! typing:        uint8 on (0 or 1)
//! read:          uint64 seq (the last log entry read)
//! leave_request: empty
//! prechat:       (opaque field<V>; opaque value<V>)*   (the tenant's pre-chat fields)
//! ```
//!
//! Decoding is strict: unknown versions and kinds, trailing bytes, over-long or non-minimal
//! lengths and invalid UTF-8 are errors (the widget shows "message could not be read").

use crate::MlsError;

/// The payload version this code writes and reads.
pub const VERSION: u8 = 1;
/// Longest text, in bytes.
pub const MAX_TEXT: usize = 16 * 1024;
const MAX_FIELD: usize = 1024;

/// A client-encrypted attachment: where it is, how to open it, what it was called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// SHA-256 of the encrypted blob (its name on the server).
    pub sha256: [u8; 32],
    /// Size of the encrypted blob.
    pub size: u64,
    /// The AES-256-GCM key of this blob.
    pub key: [u8; 32],
    /// Its nonce.
    pub nonce: [u8; 12],
    /// The file name the sender chose (shown as text).
    pub name: String,
    /// The declared media type (never trusted for rendering).
    pub media_type: String,
}

/// What the payload carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A chat message.
    Text(String),
    /// An attachment reference.
    File(FileRef),
    /// Typing indicator.
    Typing(bool),
    /// Read up to this log sequence number.
    Read(u64),
    /// A supervisor asks to be removed (MLS does not let it commit its own removal).
    LeaveRequest,
    /// The answers to the tenant's pre-chat fields, in order.
    Prechat(Vec<(String, String)>),
}

/// One application payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Random id; a resend keeps it.
    pub msg_id: [u8; 16],
    /// The sender's clock (Unix milliseconds), for display.
    pub sent_at_ms: u64,
    /// The content.
    pub body: Body,
}

fn bad(what: &str) -> MlsError {
    MlsError::Malformed(format!("payload: {what}"))
}

/// RFC 9000 §16 variable-length integer, as MLS uses it for vector lengths (at most 2^30-1).
fn put_len(out: &mut Vec<u8>, len: usize) -> Result<(), MlsError> {
    match len {
        0..=63 => out.push(u8::try_from(len).map_err(|_| bad("length"))?),
        64..=16_383 => out.extend_from_slice(
            &(0x4000 | u16::try_from(len).map_err(|_| bad("length"))?).to_be_bytes(),
        ),
        16_384..=0x3fff_ffff => {
            out.extend_from_slice(
                &(0x8000_0000 | u32::try_from(len).map_err(|_| bad("length"))?).to_be_bytes(),
            );
        }
        _ => return Err(bad("too long")),
    }
    Ok(())
}

fn put_vec(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), MlsError> {
    put_len(out, bytes.len())?;
    out.extend_from_slice(bytes);
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MlsError> {
        if self.0.len() < n {
            return Err(bad("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], MlsError> {
        self.take(N)?.try_into().map_err(|_| bad("truncated"))
    }

    fn u8(&mut self) -> Result<u8, MlsError> {
        Ok(self.array::<1>()?[0])
    }

    fn u64(&mut self) -> Result<u64, MlsError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A vector; its length must use the shortest encoding (RFC 9420 §2.1.2).
    fn vec(&mut self) -> Result<&'a [u8], MlsError> {
        let first = self.u8()?;
        let (len, min) = match first >> 6 {
            0 => (usize::from(first & 0x3f), 0),
            1 => (
                usize::from(u16::from_be_bytes([first & 0x3f, self.u8()?])),
                64,
            ),
            2 => {
                let rest = self.array::<3>()?;
                let v = u32::from_be_bytes([first & 0x3f, rest[0], rest[1], rest[2]]);
                (usize::try_from(v).map_err(|_| bad("length"))?, 16_384)
            }
            _ => return Err(bad("length prefix")),
        };
        if len < min {
            return Err(bad("non-minimal length"));
        }
        self.take(len)
    }

    fn text(&mut self, max: usize) -> Result<String, MlsError> {
        let raw = self.vec()?;
        if raw.len() > max {
            return Err(bad("text too long"));
        }
        String::from_utf8(raw.to_vec()).map_err(|_| bad("not UTF-8"))
    }
}

impl Payload {
    /// The encoding above.
    pub fn encode(&self) -> Result<Vec<u8>, MlsError> {
        let (kind, body) = match &self.body {
            Body::Text(t) => {
                if t.is_empty() || t.len() > MAX_TEXT {
                    return Err(bad("a text is 1 to 16,384 bytes"));
                }
                (1, t.as_bytes().to_vec())
            }
            Body::File(f) => {
                let mut b = Vec::with_capacity(100 + f.name.len() + f.media_type.len());
                b.extend_from_slice(&f.sha256);
                b.extend_from_slice(&f.size.to_be_bytes());
                b.extend_from_slice(&f.key);
                b.extend_from_slice(&f.nonce);
                put_vec(&mut b, f.name.as_bytes())?;
                put_vec(&mut b, f.media_type.as_bytes())?;
                (2, b)
            }
            Body::Typing(on) => (3, vec![u8::from(*on)]),
            Body::Read(seq) => (4, seq.to_be_bytes().to_vec()),
            Body::LeaveRequest => (5, Vec::new()),
            Body::Prechat(fields) => {
                let mut b = Vec::new();
                for (field, value) in fields {
                    if field.len() > MAX_FIELD || value.len() > MAX_FIELD {
                        return Err(bad("a pre-chat field or value is at most 1,024 bytes"));
                    }
                    put_vec(&mut b, field.as_bytes())?;
                    put_vec(&mut b, value.as_bytes())?;
                }
                (6, b)
            }
        };
        let mut out = Vec::with_capacity(26 + 4 + body.len());
        out.push(VERSION);
        out.push(kind);
        out.extend_from_slice(&self.msg_id);
        out.extend_from_slice(&self.sent_at_ms.to_be_bytes());
        put_vec(&mut out, &body)?;
        Ok(out)
    }

    /// Strict decoding of [`Payload::encode`]'s output.
    pub fn decode(bytes: &[u8]) -> Result<Self, MlsError> {
        let mut r = Reader(bytes);
        if r.u8()? != VERSION {
            return Err(bad("unknown version"));
        }
        let kind = r.u8()?;
        let msg_id = r.array()?;
        let sent_at_ms = r.u64()?;
        let mut b = Reader(r.vec()?);
        if !r.0.is_empty() {
            return Err(bad("trailing bytes"));
        }
        let body = match kind {
            1 => {
                let t = std::str::from_utf8(b.take(b.0.len())?).map_err(|_| bad("not UTF-8"))?;
                if t.is_empty() || t.len() > MAX_TEXT {
                    return Err(bad("a text is 1 to 16,384 bytes"));
                }
                Body::Text(t.to_owned())
            }
            2 => Body::File(FileRef {
                sha256: b.array()?,
                size: b.u64()?,
                key: b.array()?,
                nonce: b.array()?,
                name: b.text(MAX_FIELD)?,
                media_type: b.text(MAX_FIELD)?,
            }),
            3 => match b.u8()? {
                0 => Body::Typing(false),
                1 => Body::Typing(true),
                _ => return Err(bad("typing is 0 or 1")),
            },
            4 => Body::Read(b.u64()?),
            5 => Body::LeaveRequest,
            6 => {
                let mut fields = Vec::new();
                while !b.0.is_empty() {
                    fields.push((b.text(MAX_FIELD)?, b.text(MAX_FIELD)?));
                }
                Body::Prechat(fields)
            }
            _ => return Err(bad("unknown kind")),
        };
        if !b.0.is_empty() {
            return Err(bad("trailing bytes in the body"));
        }
        Ok(Self {
            msg_id,
            sent_at_ms,
            body,
        })
    }
}
