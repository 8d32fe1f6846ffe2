//! Reading an archive with the tenant's archive key: every conversation's History Member
//! bundle opened, its log replayed, its messages written as JSON Lines and HTML; its internal
//! notes opened with the archive key too (`notes`).

use std::io::{BufRead, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_mls::bundle::{self, KeyKind, OpeningKey, Recipient};
use sealdesk_mls::certs::{Role, TrustAnchor, VISITOR_MAGIC, chain_device};
use sealdesk_mls::payload::{Body, Payload};
use sealdesk_mls::{LogItem, Replay, Replayed};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::ArchiveError;
use crate::format::{ConversationRecord, FORMAT, FORMAT_V1, Header, HistoryRecord, Line};
use crate::html::{HtmlConversation, HtmlMessage, page};

/// One version of the tenant's archive key, private half included.
pub struct ArchiveKey {
    /// Its version.
    pub version: u32,
    /// The X25519 public key.
    pub public: [u8; 32],
    /// The X25519 private key.
    pub private: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ArchiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveKey")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// What a decryption did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecryptReport {
    /// Conversations in the archive.
    pub conversations: u64,
    /// Conversations replayed.
    pub decrypted_conversations: u64,
    /// Messages written.
    pub messages: u64,
    /// Conversations that could not be read, with why.
    pub unreadable: Vec<(String, String)>,
    /// Internal notes written.
    pub notes: u64,
    /// Internal notes that could not be read (conversation, why).
    pub unreadable_notes: Vec<(String, String)>,
}

pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

pub(crate) fn unix(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or(0)
}

/// Who sent a message, for people: the certified label and role, or the visitor.
fn sender(identity: &[u8]) -> (String, String) {
    if identity.starts_with(VISITOR_MAGIC) {
        return ("visitor".into(), "Visitor".into());
    }
    match chain_device(identity) {
        Some(body) => {
            let role = match body.role {
                Role::Agent => "agent",
                Role::Supervisor => "supervisor",
                Role::History => "history",
                Role::Issuing => "issuing",
            };
            (role.into(), body.label)
        }
        None => ("unknown".into(), "Unknown member".into()),
    }
}

/// What a decrypted payload shows.
fn content(plaintext: &[u8]) -> Option<(&'static str, String)> {
    match Payload::decode(plaintext) {
        Ok(p) => match p.body {
            Body::Text(text) => Some(("text", text)),
            Body::File(file) => Some((
                "file",
                format!(
                    "[attachment: {} ({}, {} bytes)]",
                    file.name, file.media_type, file.size
                ),
            )),
            Body::Prechat(fields) => Some((
                "prechat",
                fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )),
            Body::LeaveRequest => Some(("leave_request", "[asked to leave]".into())),
            Body::Typing(_) | Body::Read(_) => None,
        },
        Err(_) => Some((
            "undecodable",
            format!("[{} bytes in no known format]", plaintext.len()),
        )),
    }
}

struct Reader<R> {
    input: R,
    hash: Sha256,
    line: Vec<u8>,
}

impl<R: BufRead> Reader<R> {
    /// The next line, hashed unless it is the trailer (the caller decides, after parsing).
    fn next(&mut self) -> Result<Option<&[u8]>, ArchiveError> {
        self.line.clear();
        if self.input.read_until(b'\n', &mut self.line)? == 0 {
            return Ok(None);
        }
        if self.line.last() != Some(&b'\n') {
            return Err(ArchiveError::Invalid("the file is truncated".into()));
        }
        Ok(Some(&self.line))
    }
}

/// Decrypts the archive read from `input` with `keys`, trusting the tenant roots of
/// `anchor` (from the owner's key file, not from the archive). Writes one JSON line per
/// message to `jsonl` and the HTML page to `html`; the caller should keep both only if this
/// returns `Ok` (the trailer is checked last).
pub fn decrypt(
    input: impl BufRead,
    keys: &[ArchiveKey],
    anchor: &TrustAnchor,
    mut jsonl: impl Write,
    mut html: impl Write,
    mut progress: impl FnMut(u64),
) -> Result<DecryptReport, ArchiveError> {
    let mut reader = Reader {
        input,
        hash: Sha256::new(),
        line: Vec::new(),
    };
    let first = reader
        .next()?
        .ok_or_else(|| ArchiveError::Invalid("the file is empty".into()))?;
    let header: Header =
        serde_json::from_slice(first).map_err(|e| ArchiveError::Invalid(format!("header: {e}")))?;
    reader.hash.update(&reader.line);
    if header.format != FORMAT && header.format != FORMAT_V1 {
        return Err(ArchiveError::Invalid(format!(
            "unknown format {}",
            header.format
        )));
    }
    let tenant = uuid_bytes(&header.tenant)?;
    if tenant != anchor.tenant {
        return Err(ArchiveError::Keys(
            "this archive belongs to another tenant than the key".into(),
        ));
    }
    let mut report = DecryptReport::default();
    let mut sections = Vec::new();
    let mut entries = 0_u64;
    loop {
        let Some(bytes) = reader.next()? else {
            return Err(ArchiveError::Invalid(
                "the file is truncated (no trailer)".into(),
            ));
        };
        let line: Line = serde_json::from_slice(bytes).map_err(|e| {
            ArchiveError::Invalid(format!("line {}: {e}", report.conversations + 2))
        })?;
        match line {
            Line::Trailer(trailer) => {
                let digest = hex::encode(reader.hash.clone().finalize());
                if !trailer.end
                    || trailer.sha256 != digest
                    || trailer.conversations != report.conversations
                    || trailer.entries != entries
                {
                    return Err(ArchiveError::Invalid(
                        "the file was altered (its digest or counts do not match)".into(),
                    ));
                }
                if reader.next()?.is_some() {
                    return Err(ArchiveError::Invalid("data after the trailer".into()));
                }
                break;
            }
            Line::Conversation(record) => {
                reader.hash.update(&reader.line);
                report.conversations += 1;
                entries += record.entries.len() as u64;
                let mut section = conversation(&record, keys, anchor, &mut jsonl, &mut report)?;
                let id = uuid_bytes(&record.id)?;
                crate::notes::write(
                    &record,
                    id,
                    keys,
                    anchor,
                    &mut jsonl,
                    &mut report,
                    &mut section,
                )?;
                sections.push(section);
                progress(report.conversations);
            }
        }
    }
    html.write_all(page(&header.tenant_name, &sections).as_bytes())?;
    jsonl.flush()?;
    html.flush()?;
    Ok(report)
}

/// The 16 bytes of an id (a tenant's or a conversation's).
fn uuid_bytes(text: &str) -> Result<[u8; 16], ArchiveError> {
    let id: uuid::Uuid = text
        .parse()
        .map_err(|_| ArchiveError::Invalid(format!("{text:?} is not an id")))?;
    Ok(*id.as_bytes())
}

pub(crate) fn decode(text: &str, what: &str) -> Result<Vec<u8>, ArchiveError> {
    STANDARD
        .decode(text)
        .map_err(|_| ArchiveError::Invalid(format!("{what} is not base64")))
}

/// The opening key, among `keys`, of the archive seal in `seals` (a History Member bundle's
/// or an internal note's); none when the object is sealed to none of them.
pub(crate) fn archive_opening<'k>(
    seals: &[(Recipient, &[u8])],
    keys: &'k [ArchiveKey],
) -> Option<OpeningKey<'k>> {
    let key = keys.iter().find(|k| {
        seals.iter().any(|(r, _)| {
            r.kind == KeyKind::Archive && r.key_version == k.version && r.public == k.public
        })
    })?;
    Some(OpeningKey {
        recipient: Recipient {
            kind: KeyKind::Archive,
            key_version: key.version,
            public: key.public,
        },
        private: &key.private,
    })
}

/// A bundle's secrets, with whichever archive key it was sealed to.
fn open_one(
    history: &HistoryRecord,
    record: &ConversationRecord,
    keys: &[ArchiveKey],
    anchor: &TrustAnchor,
) -> Result<sealdesk_mls::KeyPackageSecrets, String> {
    let sealed = decode(&history.sealed_bundle, "a bundle").map_err(|e| e.to_string())?;
    let envelope = bundle::parse(&sealed).map_err(|e| e.to_string())?;
    let opening =
        archive_opening(&envelope.seals, keys).ok_or("not sealed to any archive key given")?;
    bundle::open_bundle(&sealed, &opening, anchor, unix(record.created_at))
        .map_err(|e| format!("the bundle does not open: {e}"))
}

/// The secrets of every History Member the conversation had (format 2; format 1: its one),
/// in generation order. A generation that was never added (abandoned) is left out; any other
/// that does not open makes the conversation unreadable rather than silently partial.
fn open(
    record: &ConversationRecord,
    keys: &[ArchiveKey],
    anchor: &TrustAnchor,
) -> Result<Vec<sealdesk_mls::KeyPackageSecrets>, String> {
    if record.history_members.is_empty() {
        let history = record
            .history_member
            .as_ref()
            .ok_or("no History Member (the conversation had no encrypted history)")?;
        return open_one(history, record, keys, anchor).map(|s| vec![s]);
    }
    let mut generations: Vec<&HistoryRecord> = record
        .history_members
        .iter()
        .filter(|h| h.state.as_deref() != Some("abandoned"))
        .collect();
    generations.sort_by_key(|h| h.generation);
    generations
        .into_iter()
        .map(|h| {
            open_one(h, record, keys, anchor).map_err(|e| {
                format!(
                    "History Member {}: {e}",
                    h.generation.map_or_else(|| "?".into(), |g| g.to_string())
                )
            })
        })
        .collect()
}

fn conversation(
    record: &ConversationRecord,
    keys: &[ArchiveKey],
    anchor: &TrustAnchor,
    jsonl: &mut impl Write,
    report: &mut DecryptReport,
) -> Result<HtmlConversation, ArchiveError> {
    let mut section = HtmlConversation {
        id: record.id.clone(),
        created_at: rfc3339(record.created_at),
        state: record.state.clone(),
        note: None,
        messages: Vec::new(),
    };
    let replay = open(record, keys, anchor)
        .and_then(|secrets| Replay::generations(&secrets, anchor).map_err(|e| e.to_string()));
    let mut replay = match replay {
        Ok(r) => r,
        Err(why) => {
            section.note = Some(format!("Not readable: {why}."));
            report.unreadable.push((record.id.clone(), why));
            return Ok(section);
        }
    };
    for entry in &record.entries {
        let payload = decode(&entry.payload, "an entry")?;
        let item = match entry.kind.as_str() {
            "welcome" => LogItem::Welcome(&payload),
            "handshake" => LogItem::Handshake(&payload),
            "application" => LogItem::Application(&payload),
            _ => continue,
        };
        match replay.feed(item, unix(entry.at)) {
            Ok(Replayed::Message {
                plaintext,
                sender: identity,
            }) => {
                let Some((kind, text)) = content(&plaintext) else {
                    continue;
                };
                let (role, label) = sender(&identity);
                let line = json!({
                    "conversation": record.id,
                    "seq": entry.seq,
                    "at": rfc3339(entry.at),
                    "sender": { "role": role, "label": label },
                    "type": kind,
                    "text": text,
                });
                serde_json::to_writer(&mut *jsonl, &line)
                    .map_err(|e| ArchiveError::Invalid(e.to_string()))?;
                jsonl.write_all(b"\n")?;
                section.messages.push(HtmlMessage {
                    at: rfc3339(entry.at),
                    sender: format!("{label} ({role})"),
                    text,
                    internal: false,
                });
                report.messages += 1;
            }
            Ok(Replayed::Unreadable) => {
                // Every generation is given, so this means the log and the list disagree.
                let why = format!(
                    "entry {} follows a History Member rotation the archive does not list",
                    entry.seq
                );
                section.note = Some(format!("Stopped: {why}."));
                report.unreadable.push((record.id.clone(), why));
                return Ok(section);
            }
            Ok(_) => {}
            Err(e) => {
                let why = format!("entry {} does not replay: {e}", entry.seq);
                section.note = Some(format!("Stopped: {why}."));
                report.unreadable.push((record.id.clone(), why));
                return Ok(section);
            }
        }
    }
    if replay.joined() {
        report.decrypted_conversations += 1;
    } else {
        let why = "the History Member's Welcome is not in the log".to_owned();
        section.note = Some(format!("Not readable: {why}."));
        report.unreadable.push((record.id.clone(), why));
    }
    Ok(section)
}
