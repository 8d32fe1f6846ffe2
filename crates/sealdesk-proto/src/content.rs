//! REST payloads of the opaque content the server keeps besides the logs: internal notes
//! (staff only), a team's canned responses, and attachments. The server never reads any of
//! it: payloads are standard base64 on the wire, attachments raw bytes; clients encrypt them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::ids::{CannedResponseId, ConversationId, StaffId, TeamId};

/// Adds an internal note, or creates a canned response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayload {
    /// The opaque payload, standard base64 (1 byte to `max_payload` decoded).
    pub p: String,
}

/// Replaces a canned response's sealed payload (an edit, or a re-seal to the team's newest
/// key version after a rotation), if it is still the one the client read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceCannedResponse {
    /// The team key version the stored payload was sealed to when the client read it; the
    /// server refuses the replacement (`conflict`) if the payload has changed since.
    pub key_version: u32,
    /// SHA-256 of the payload the client read (standard base64, 32 bytes): the server refuses
    /// the replacement (`conflict`) unless the stored payload is still that one, so two
    /// editors working from the same version cannot overwrite each other unknowingly.
    pub read_sha256: String,
    /// The new payload, standard base64: an `SDT1` canned response of this tenant and team
    /// sealed to the team's newest key version only.
    pub p: String,
}

/// One internal note: visible to staff only, never to the visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoteView {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Position among the conversation's notes, from 1.
    pub seq: u64,
    /// Who wrote it.
    pub author: StaffId,
    /// Unix milliseconds.
    pub at: i64,
    /// Payload, standard base64.
    pub p: String,
    /// Copies carried over to other teams at transfers (docs/e2ee.md, "Transfer to another
    /// team"), by team.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried: Vec<CarriedNoteView>,
}

/// A note re-sealed to another team's key at a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CarriedNoteView {
    /// The team whose key it is sealed to.
    pub team_id: TeamId,
    /// Whose device re-sealed it.
    pub resealed_by: StaffId,
    /// When the server stored it, Unix milliseconds (readers check the re-sealer's chain
    /// then).
    pub at: i64,
    /// The re-sealed note (`SDT1`), standard base64.
    pub p: String,
}

/// A conversation's notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoteList {
    /// Oldest first.
    pub notes: Vec<NoteView>,
}

/// One canned response of a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CannedResponseView {
    /// Id.
    pub id: CannedResponseId,
    /// The team.
    pub team_id: TeamId,
    /// Who stored its current payload (created it, or last edited or re-sealed it).
    pub created_by: StaffId,
    /// When the server stored its current payload (readers check the sealing device's
    /// certificate at this time).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Payload (title and text, encrypted by clients), standard base64.
    pub p: String,
}

/// A team's canned responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CannedResponseList {
    /// Oldest first.
    pub canned_responses: Vec<CannedResponseView>,
}

/// A stored attachment: the address to fetch it by and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttachmentRef {
    /// SHA-256 of the bytes as stored (the client-encrypted blob), 64 lowercase hex digits.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_payload_refuses_unknown_fields() {
        let ok: NewPayload = serde_json::from_str(r#"{"p":"aGk="}"#).unwrap();
        assert_eq!(ok.p, "aGk=");
        assert!(serde_json::from_str::<NewPayload>(r#"{"p":"aGk=","x":1}"#).is_err());
    }
}
