//! A conversation's internal notes in the decrypted archive: each SDT1 object
//! (`sealdesk_mls::teamseal`) opened with an archive key, its author's chain checked under the
//! owner's anchor at the time the server recorded it, the note bound to this conversation.
//! Notes are written beside the messages, marked as internal; one that does not open is
//! listed, not fatal.

use std::collections::HashSet;
use std::io::Write;

use sealdesk_mls::certs::{Role, TrustAnchor};
use sealdesk_mls::teamseal;
use serde_json::json;

use crate::ArchiveError;
use crate::decrypt::{ArchiveKey, DecryptReport, decode, rfc3339, unix};
use crate::format::{ConversationRecord, NoteRecord};
use crate::html::{HtmlConversation, HtmlMessage};

/// A note as opened: its id, the author's role and certified label, the text.
struct Opened {
    id: [u8; 16],
    role: &'static str,
    label: String,
    text: String,
}

/// Opens one note with whichever archive key it is sealed to.
fn open(
    note: &NoteRecord,
    conversation: [u8; 16],
    keys: &[ArchiveKey],
    anchor: &TrustAnchor,
) -> Result<Opened, String> {
    let sealed = decode(&note.payload, "a note").map_err(|e| e.to_string())?;
    let envelope = teamseal::parse(&sealed).map_err(|e| e.to_string())?;
    let opening = crate::decrypt::archive_opening(&envelope.seals, keys)
        .ok_or("not sealed to any archive key given")?;
    let opened = teamseal::open_note(&sealed, conversation, &opening, anchor, unix(note.at))
        .map_err(|e| format!("does not open: {e}"))?;
    Ok(Opened {
        id: opened.content.id,
        role: match opened.author.certificate.role {
            Role::Supervisor => "supervisor",
            _ => "agent",
        },
        label: opened.author.certificate.label,
        text: opened.content.text,
    })
}

/// Writes the conversation's notes (JSON Lines, type `internal_note`) and adds them to its
/// HTML section, marked as internal.
pub(crate) fn write(
    record: &ConversationRecord,
    conversation: [u8; 16],
    keys: &[ArchiveKey],
    anchor: &TrustAnchor,
    jsonl: &mut impl Write,
    report: &mut DecryptReport,
    section: &mut HtmlConversation,
) -> Result<(), ArchiveError> {
    let mut seen = HashSet::new();
    for note in &record.notes {
        let opened = open(note, conversation, keys, anchor).and_then(|o| {
            if seen.insert(o.id) {
                Ok(o)
            } else {
                Err("a repeat of an earlier note".into())
            }
        });
        match opened {
            Ok(Opened {
                role, label, text, ..
            }) => {
                let line = json!({
                    "conversation": record.id,
                    "note": note.seq,
                    "at": rfc3339(note.at),
                    "sender": { "role": role, "label": label, "verified": true },
                    "type": "internal_note",
                    "text": text,
                });
                serde_json::to_writer(&mut *jsonl, &line)
                    .map_err(|e| ArchiveError::Invalid(e.to_string()))?;
                jsonl.write_all(b"\n")?;
                section.messages.push(HtmlMessage {
                    at: rfc3339(note.at),
                    sender: format!("Internal note by {label} ({role})"),
                    text,
                    internal: true,
                });
                report.notes += 1;
            }
            Err(why) => report
                .unreadable_notes
                .push((record.id.clone(), format!("note {}: {why}", note.seq))),
        }
    }
    Ok(())
}
