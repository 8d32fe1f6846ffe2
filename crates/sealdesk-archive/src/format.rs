//! The archive's lines. Binary fields are standard base64; times are RFC 3339.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The format name in the header. Version 2 lists every History Member a conversation had
/// (E2EE.md §3 "Rotation"); readers also take version 1 (one History Member each).
pub const FORMAT: &str = "sealdesk-archive/2";
/// The previous format, still read.
pub(crate) const FORMAT_V1: &str = "sealdesk-archive/1";

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Header {
    pub format: String,
    pub tenant: String,
    pub tenant_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    /// The root public keys the server had registered (informational: the reader trusts the
    /// roots in its own archive key file).
    pub root_keys: Vec<String>,
    pub sealing_keys: Vec<KeyRecord>,
}

/// A team or archive key announcement.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    /// A team id, or `archive`.
    pub scope: String,
    pub version: u32,
    pub announcement: String,
}

/// One conversation.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ConversationRecord {
    pub id: String,
    pub team: String,
    pub state: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The current History Member (format 1 had only this one).
    pub history_member: Option<HistoryRecord>,
    /// Format 2: every History Member the conversation had, by generation (each reads the
    /// log up to the rotation commit that removed it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history_members: Vec<HistoryRecord>,
    pub entries: Vec<EntryRecord>,
    /// The conversation's internal notes (SDT1 objects sealed to the team and archive keys),
    /// oldest first. Absent when there are none, and in archives made before notes existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<NoteRecord>,
}

/// One internal note, as the server holds it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NoteRecord {
    pub seq: u64,
    /// The staff id the server recorded (the reader trusts the sealed author instead).
    pub author: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub payload: String,
}

/// A conversation's History Member.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HistoryRecord {
    /// Format 2: 1, 2, … in the order the conversation had them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u32>,
    /// Format 2: `pending`, `active`, `retired` or `abandoned`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub key_package: String,
    pub sealed_bundle: String,
}

/// One log entry.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct EntryRecord {
    pub seq: u64,
    /// `handshake`, `application`, `welcome` or `system`.
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub payload: String,
}

/// The last line.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Trailer {
    pub end: bool,
    pub conversations: u64,
    pub entries: u64,
    /// SHA-256 (hex) of every byte before this line.
    pub sha256: String,
}

/// Any line.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Line {
    Trailer(Trailer),
    Conversation(Box<ConversationRecord>),
}
