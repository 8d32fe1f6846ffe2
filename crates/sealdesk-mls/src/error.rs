//! Errors of the MLS layer, each with a stable code for logs and the agent protocol.

/// What went wrong in an MLS operation.
#[derive(Debug, thiserror::Error)]
pub enum MlsError {
    /// The bytes are not a well-formed MLS message of the expected kind.
    #[error("malformed MLS message: {0}")]
    Malformed(String),
    /// The message is well formed but our profile or a validity rule refuses it.
    #[error("rejected: {0}")]
    Rejected(String),
    /// A credential failed the caller's check (for example a certificate chain).
    #[error("credential rejected: {0}")]
    Credential(String),
    /// The operation needs a group and there is none (or we were removed from it).
    #[error("no active group")]
    NoGroup,
    /// A commit of ours waits for the server's answer; merge or discard it first.
    #[error("a commit is pending")]
    PendingCommit,
    /// The library failed (a bug or an exhausted resource), not the input.
    #[error("MLS library error: {0}")]
    Library(String),
    /// Saving or restoring state failed.
    #[error("state error: {0}")]
    State(String),
}

impl MlsError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::Rejected(_) => "rejected",
            Self::Credential(_) => "credential_rejected",
            Self::NoGroup => "no_group",
            Self::PendingCommit => "pending_commit",
            Self::Library(_) => "library",
            Self::State(_) => "state",
        }
    }

    pub(crate) fn library(e: impl std::fmt::Display) -> Self {
        Self::Library(e.to_string())
    }

    pub(crate) fn rejected(e: impl std::fmt::Display) -> Self {
        Self::Rejected(e.to_string())
    }
}
