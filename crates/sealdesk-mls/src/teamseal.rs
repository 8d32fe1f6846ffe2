//! Team-sealed content (`SDT1`): a conversation's internal notes and a team's canned
//! responses, sealed by the staff member's certified device to the team key (TK) and, for
//! notes, the tenant's archive key (AK) too (`docs/e2ee.md`, "Internal notes and canned
//! responses"). The server stores the objects opaquely and can open none of them.
//!
//! E2EE.md §5.5 suggests a separate MLS group per conversation for notes. We seal to the team
//! key instead: whoever holds TK version n already opens the History Member bundles sealed to
//! n and so reads whole conversations; a note sealed to n gives them nothing more, and a
//! member removed before the rotation to n+1 cannot open what is sealed after it.
//!
//! Encoding (TypeScript twin: `web/shared/seal/teamseal.ts`); `<V>` is an MLS vector
//! (RFC 9420 §2.1.2) in its minimal 1- or 2-byte form:
//!
//! ```text
//! "SDT1" ‖ kind (u8: 1 internal note, 2 canned response) ‖ tenant (16) ‖ team (16)
//! ‖ chain<V>                                the sealing device's SDCH credential chain
//! ‖ count (u8, 1..=4) ‖ count × {
//!     key kind (u8: 1 team, 2 archive) ‖ key_version (u32) ‖ recipient (32) ‖ sealed<V> }
//! ```
//!
//! Each `sealed` is a [`crate::seal`] object (SDS1: HPKE base mode, RFC 9180 §5.1.1; signed by
//! the device the chain certifies) whose `info` binds the purpose (`internal-note` or
//! `internal-note-archive`; `canned-response` or `canned-response-archive`), the tenant, the
//! team, the key version and the recipient. Its plaintext names what it belongs to, so the
//! server cannot move a note to another conversation or a canned response to another team:
//!
//! ```text
//! note:   version (u8 = 1) ‖ 1 ‖ conversation (16) ‖ note_id (16, random)
//!         ‖ written_ms (u64) ‖ text<V> ‖ padding<V>
//! note carried over to another team (docs/e2ee.md, "Transfer to another team"):
//!         version (u8 = 2) ‖ 1 ‖ conversation (16) ‖ note_id (16) ‖ written_ms (u64)
//!         ‖ author_chain<V> ‖ recorded_ms (u64) ‖ text<V> ‖ padding<V>
//! canned: version (u8 = 1) ‖ 2 ‖ team (16) ‖ written_ms (u64) ‖ title<V> ‖ text<V>
//!         ‖ padding<V>
//! ```
//!
//! `padding` is zeros that bring the plaintext to a multiple of 256 bytes (the buckets of the
//! chat's messages, E2EE.md §2), so the ciphertext's length says little about the text.
//! Decoding is strict: unknown versions and kinds, bad UTF-8, empty or over-long text,
//! non-zero padding and trailing bytes are refused. The opener checks the chain against the
//! tenant root it pins, at the time the server recorded the object, for an agent or a
//! supervisor device: that device is the verified author.
//!
//! A note carried over at a transfer is sealed by the transferring agent's device (the
//! re-sealer), which vouches for the text and for the author it names: version 2 names the
//! original author's chain and the time the server recorded the original, and the reader
//! verifies that chain at that time ([`carried_author`]). The original author's signature is
//! on the seal to the first team's key only; the archive keeps that original.

use crate::bundle::{KeyKind, OpeningKey, Recipient, put_seals, take_seals};
use crate::certs::{CertBody, Role, TrustAnchor, Verified, chain_subject, verify_identity};
use crate::seal::{self, SealContext};
use crate::wire::{array, put_vec, take, take_vec};
use crate::{DeviceSigner, MlsError};

const MAGIC: &[u8; 4] = b"SDT1";
/// The plaintext version this code writes and reads.
pub const VERSION: u8 = 1;
/// The note plaintext version that names the original author (a note carried over).
pub const CARRIED_VERSION: u8 = 2;
/// Longest note or canned-response text, in bytes of UTF-8.
pub const MAX_TEXT: usize = 8 * 1024;
/// Longest canned-response title, in bytes of UTF-8.
pub const MAX_TITLE: usize = 200;
const BUCKET: usize = 256;

/// What a team-sealed object carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// A conversation's internal note (staff only).
    Note,
    /// A team's canned response.
    Canned,
}

impl ContentKind {
    fn byte(self) -> u8 {
        match self {
            Self::Note => 1,
            Self::Canned => 2,
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Note),
            2 => Some(Self::Canned),
            _ => None,
        }
    }

    /// The seal's purpose for a key of `key` kind (it goes into HPKE's `info`).
    fn purpose(self, key: KeyKind) -> &'static str {
        match (self, key) {
            (Self::Note, KeyKind::Team) => "internal-note",
            (Self::Note, KeyKind::Archive) => "internal-note-archive",
            (Self::Canned, KeyKind::Team) => "canned-response",
            (Self::Canned, KeyKind::Archive) => "canned-response-archive",
        }
    }
}

/// An internal note on a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The conversation it belongs to (its id's 16 bytes).
    pub conversation: [u8; 16],
    /// Random; a note the server repeats has the same id (readers show it once).
    pub id: [u8; 16],
    /// The writer's clock (Unix milliseconds), for display.
    pub written_ms: u64,
    /// The text, 1 to [`MAX_TEXT`] bytes.
    pub text: String,
    /// Set on a copy carried over to another team: who wrote the original (plaintext
    /// version 2).
    pub carried_from: Option<Origin>,
}

/// The original author of a note carried over to another team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The original sealing device's credential chain.
    pub chain: Vec<u8>,
    /// When the server recorded the original (Unix milliseconds): its chain is checked then.
    pub recorded_ms: u64,
}

/// A team's canned response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedResponse {
    /// The team it belongs to.
    pub team: [u8; 16],
    /// The writer's clock (Unix milliseconds), for display.
    pub written_ms: u64,
    /// A short title, also what the picker matches (1 to [`MAX_TITLE`] bytes).
    pub title: String,
    /// The text an agent inserts and may edit before sending (1 to [`MAX_TEXT`] bytes).
    pub text: String,
}

fn check_text(text: &str, max: usize, what: &str) -> Result<(), MlsError> {
    if text.is_empty() || text.len() > max {
        return Err(MlsError::Rejected(format!(
            "{what} must be 1 to {max} bytes"
        )));
    }
    Ok(())
}

/// Zero padding to the next multiple of [`BUCKET`] (the vector's own length byte(s) count).
fn pad(out: &mut Vec<u8>) -> Result<(), MlsError> {
    let mut padding = (BUCKET - (out.len() + 1) % BUCKET) % BUCKET;
    if padding >= 64 {
        // A 2-byte length: one byte more to cover; a length under 64 would not be minimal.
        padding = (BUCKET - (out.len() + 2) % BUCKET) % BUCKET;
        if padding < 64 {
            padding += BUCKET;
        }
    }
    put_vec(out, &vec![0; padding])
}

fn text_of(rest: &mut &[u8], max: usize, what: &str) -> Result<String, MlsError> {
    let bytes = take_vec(rest)?;
    if bytes.is_empty() || bytes.len() > max {
        return Err(MlsError::Malformed(format!(
            "{what} must be 1 to {max} bytes"
        )));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| MlsError::Malformed(format!("{what}: not UTF-8")))
}

/// The plaintext's version (1; or 2 for a note carried over).
fn header(rest: &mut &[u8], kind: ContentKind) -> Result<u8, MlsError> {
    let [version, k] = array::<2>(rest, "team-sealed content")?;
    let known = version == VERSION || (kind == ContentKind::Note && version == CARRIED_VERSION);
    if !known {
        return Err(MlsError::Malformed(format!("content version {version}")));
    }
    if k != kind.byte() {
        return Err(MlsError::Malformed("another kind of content".into()));
    }
    Ok(version)
}

fn unpad(mut rest: &[u8]) -> Result<(), MlsError> {
    let padding = take_vec(&mut rest)?;
    if padding.iter().any(|b| *b != 0) || !rest.is_empty() {
        return Err(MlsError::Malformed(
            "team-sealed content: trailing bytes".into(),
        ));
    }
    Ok(())
}

impl Note {
    /// The plaintext encoding (padded).
    pub fn encode(&self) -> Result<Vec<u8>, MlsError> {
        check_text(&self.text, MAX_TEXT, "a note")?;
        let version = if self.carried_from.is_some() {
            CARRIED_VERSION
        } else {
            VERSION
        };
        let mut out = vec![version, ContentKind::Note.byte()];
        out.extend_from_slice(&self.conversation);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&self.written_ms.to_be_bytes());
        if let Some(origin) = &self.carried_from {
            if origin.chain.is_empty() {
                return Err(MlsError::Rejected("a carried note names its author".into()));
            }
            put_vec(&mut out, &origin.chain)?;
            out.extend_from_slice(&origin.recorded_ms.to_be_bytes());
        }
        put_vec(&mut out, self.text.as_bytes())?;
        pad(&mut out)?;
        Ok(out)
    }

    /// Decodes [`Note::encode`]'s form, strictly.
    pub fn decode(bytes: &[u8]) -> Result<Self, MlsError> {
        let mut rest = bytes;
        let version = header(&mut rest, ContentKind::Note)?;
        let conversation = array(&mut rest, "note")?;
        let id = array(&mut rest, "note")?;
        let written_ms = u64::from_be_bytes(array(&mut rest, "note")?);
        let carried_from = if version == CARRIED_VERSION {
            let chain = take_vec(&mut rest)?.to_vec();
            if chain.is_empty() {
                return Err(MlsError::Malformed(
                    "a carried note names its author".into(),
                ));
            }
            Some(Origin {
                chain,
                recorded_ms: u64::from_be_bytes(array(&mut rest, "note")?),
            })
        } else {
            None
        };
        let note = Self {
            conversation,
            id,
            written_ms,
            text: text_of(&mut rest, MAX_TEXT, "a note")?,
            carried_from,
        };
        unpad(rest)?;
        Ok(note)
    }
}

impl CannedResponse {
    /// The plaintext encoding (padded).
    pub fn encode(&self) -> Result<Vec<u8>, MlsError> {
        check_text(&self.title, MAX_TITLE, "a title")?;
        check_text(&self.text, MAX_TEXT, "a canned response")?;
        let mut out = vec![VERSION, ContentKind::Canned.byte()];
        out.extend_from_slice(&self.team);
        out.extend_from_slice(&self.written_ms.to_be_bytes());
        put_vec(&mut out, self.title.as_bytes())?;
        put_vec(&mut out, self.text.as_bytes())?;
        pad(&mut out)?;
        Ok(out)
    }

    /// Decodes [`CannedResponse::encode`]'s form, strictly.
    pub fn decode(bytes: &[u8]) -> Result<Self, MlsError> {
        let mut rest = bytes;
        header(&mut rest, ContentKind::Canned)?;
        let canned = Self {
            team: array(&mut rest, "canned response")?,
            written_ms: u64::from_be_bytes(array(&mut rest, "canned response")?),
            title: text_of(&mut rest, MAX_TITLE, "a title")?,
            text: text_of(&mut rest, MAX_TEXT, "a canned response")?,
        };
        unpad(rest)?;
        Ok(canned)
    }
}

/// An object's parts, before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// Note or canned response.
    pub kind: ContentKind,
    /// The tenant.
    pub tenant: [u8; 16],
    /// The team whose key it is sealed to.
    pub team: [u8; 16],
    /// The sealing device's credential chain.
    pub chain: &'a [u8],
    /// The keys it is sealed to, each with its sealed object.
    pub seals: Vec<(Recipient, &'a [u8])>,
}

fn context(kind: ContentKind, tenant: [u8; 16], team: [u8; 16], r: &Recipient) -> SealContext {
    SealContext {
        purpose: kind.purpose(r.kind),
        tenant,
        team,
        key_version: r.key_version,
        recipient: r.public,
    }
}

fn seal_object(
    kind: ContentKind,
    plaintext: &[u8],
    tenant: [u8; 16],
    team: [u8; 16],
    chain: &[u8],
    recipients: &[Recipient],
    signer: &DeviceSigner,
) -> Result<Vec<u8>, MlsError> {
    let mut out = MAGIC.to_vec();
    out.push(kind.byte());
    out.extend_from_slice(&tenant);
    out.extend_from_slice(&team);
    put_seals(&mut out, chain, recipients, signer, plaintext, |r| {
        context(kind, tenant, team, r)
    })?;
    Ok(out)
}

/// Parses an object (no cryptography).
pub fn parse(bytes: &[u8]) -> Result<Envelope<'_>, MlsError> {
    let what = "team-sealed object";
    let mut rest = bytes;
    if take(&mut rest, 4, what)? != MAGIC {
        return Err(MlsError::Malformed("not a team-sealed object".into()));
    }
    let kind = ContentKind::from_byte(array::<1>(&mut rest, what)?[0])
        .ok_or_else(|| MlsError::Malformed("unknown content kind".into()))?;
    let tenant = array(&mut rest, what)?;
    let team = array(&mut rest, what)?;
    let (chain, seals) = take_seals(&mut rest, what)?;
    Ok(Envelope {
        kind,
        tenant,
        team,
        chain,
        seals,
    })
}

/// Who wrote an object: the certificate of the device that sealed it, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The device's Ed25519 key.
    pub device: [u8; 32],
    /// Its certificate (label: the staff member's name; role: agent or supervisor).
    pub certificate: CertBody,
}

/// An opened object: its content, its verified author, and the team and key it was sealed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened<T> {
    /// The content.
    pub content: T,
    /// The verified author.
    pub author: Author,
    /// The team whose key it was sealed to.
    pub team: [u8; 16],
    /// The key that opened it.
    pub key: Recipient,
}

/// The sealing device, if the chain verifies under `anchor` at `at` for an agent or a
/// supervisor (the roles that write notes and canned responses).
fn author(chain: &[u8], anchor: &TrustAnchor, at: u64) -> Result<Author, MlsError> {
    // The chain names its own subject; verify_identity then binds the chain to that key.
    let device = chain_subject(chain)
        .ok_or_else(|| MlsError::Credential("the object's chain is malformed".into()))?;
    match verify_identity(chain, &device, anchor, at) {
        Ok(Verified::Device(certificate))
            if matches!(certificate.role, Role::Agent | Role::Supervisor) =>
        {
            Ok(Author {
                device,
                certificate,
            })
        }
        Ok(_) => Err(MlsError::Credential(
            "only agent and supervisor devices write notes and canned responses".into(),
        )),
        Err(e) => Err(MlsError::Credential(e.to_string())),
    }
}

fn open_object(
    bytes: &[u8],
    kind: ContentKind,
    key: &OpeningKey<'_>,
    anchor: &TrustAnchor,
    at: u64,
) -> Result<Opened<zeroize::Zeroizing<Vec<u8>>>, MlsError> {
    let envelope = parse(bytes)?;
    if envelope.kind != kind {
        return Err(MlsError::Rejected("another kind of content".into()));
    }
    if envelope.tenant != anchor.tenant {
        return Err(MlsError::Rejected("another tenant's object".into()));
    }
    let author = author(envelope.chain, anchor, at)?;
    let (_, sealed) = envelope
        .seals
        .iter()
        .find(|(r, _)| *r == key.recipient)
        .ok_or_else(|| MlsError::Rejected("not sealed to this key".into()))?;
    let plaintext = seal::open(
        sealed,
        &context(kind, envelope.tenant, envelope.team, &key.recipient),
        key.private,
        &author.device,
    )?;
    Ok(Opened {
        content: plaintext,
        author,
        team: envelope.team,
        key: key.recipient,
    })
}

/// Seals a note to `recipients` (the team's newest key, and the archive key): `team` is the
/// conversation's team, `chain` the credential of `signer`'s device.
pub fn seal_note(
    note: &Note,
    tenant: [u8; 16],
    team: [u8; 16],
    chain: &[u8],
    recipients: &[Recipient],
    signer: &DeviceSigner,
) -> Result<Vec<u8>, MlsError> {
    let plaintext = zeroize::Zeroizing::new(note.encode()?);
    seal_object(
        ContentKind::Note,
        &plaintext,
        tenant,
        team,
        chain,
        recipients,
        signer,
    )
}

/// Opens a note the server listed under `conversation`, recorded at `at` (Unix seconds): the
/// author's chain must verify then, and the note must name this conversation.
pub fn open_note(
    bytes: &[u8],
    conversation: [u8; 16],
    key: &OpeningKey<'_>,
    anchor: &TrustAnchor,
    at: u64,
) -> Result<Opened<Note>, MlsError> {
    let opened = open_object(bytes, ContentKind::Note, key, anchor, at)?;
    let note = Note::decode(&opened.content)?;
    if note.conversation != conversation {
        return Err(MlsError::Rejected(
            "the note belongs to another conversation".into(),
        ));
    }
    Ok(Opened {
        content: note,
        author: opened.author,
        team: opened.team,
        key: opened.key,
    })
}

/// The original author a carried note names, verified: their chain under `anchor` at the
/// time the server recorded the original, for an agent or supervisor device. `None` for a
/// note that was not carried over. This proves the re-sealer named a certified author, not
/// that the author wrote this text (the re-sealer's seal vouches for that).
pub fn carried_author(note: &Note, anchor: &TrustAnchor) -> Option<Result<Author, MlsError>> {
    let origin = note.carried_from.as_ref()?;
    Some(author(&origin.chain, anchor, origin.recorded_ms / 1000))
}

/// Seals a canned response to its team's key (`recipients`).
pub fn seal_canned(
    canned: &CannedResponse,
    tenant: [u8; 16],
    chain: &[u8],
    recipients: &[Recipient],
    signer: &DeviceSigner,
) -> Result<Vec<u8>, MlsError> {
    let plaintext = zeroize::Zeroizing::new(canned.encode()?);
    seal_object(
        ContentKind::Canned,
        &plaintext,
        tenant,
        canned.team,
        chain,
        recipients,
        signer,
    )
}

/// Opens a canned response the server listed under `team`, created at `at` (Unix seconds).
pub fn open_canned(
    bytes: &[u8],
    team: [u8; 16],
    key: &OpeningKey<'_>,
    anchor: &TrustAnchor,
    at: u64,
) -> Result<Opened<CannedResponse>, MlsError> {
    let opened = open_object(bytes, ContentKind::Canned, key, anchor, at)?;
    let canned = CannedResponse::decode(&opened.content)?;
    if opened.team != team || canned.team != team {
        return Err(MlsError::Rejected(
            "the canned response belongs to another team".into(),
        ));
    }
    Ok(Opened {
        content: canned,
        author: opened.author,
        team: opened.team,
        key: opened.key,
    })
}

#[cfg(test)]
#[path = "teamseal_tests.rs"]
mod tests;
