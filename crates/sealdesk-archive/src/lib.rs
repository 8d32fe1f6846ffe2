//! Tenant archives (E2EE.md §6, "Archive export"). The server can export what it holds and
//! no more: every conversation's ordered log (ciphertext), its History Member's key package
//! and sealed bundle, and the signed team and archive key announcements. Only the tenant,
//! holding its archive key, can turn that into transcripts: it opens each bundle, replays
//! the log as the History Member and writes JSON Lines and a readable HTML page.
//!
//! The file is JSON Lines (`format`): a header, one line per conversation, a trailer with the
//! count and a SHA-256 over every byte before it, so a truncated or edited file is refused.

mod decrypt;
mod export;
mod format;
mod html;
mod notes;

pub use decrypt::{ArchiveKey, DecryptReport, decrypt};
pub use export::{ExportSummary, export};
pub use format::FORMAT;

/// What went wrong with an archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading or writing failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] sealdesk_store::StoreError),
    /// The file is not a complete, unaltered archive of this format.
    #[error("not a valid archive: {0}")]
    Invalid(String),
    /// The keys given do not fit this archive.
    #[error("{0}")]
    Keys(String),
}
