//! Use cases: what the server and the admin CLI do, independent of HTTP. Handlers and CLI
//! commands parse their input, call a use case, and render the result.

pub mod attachments;
pub mod audit;
pub mod carry;
pub mod conversations;
pub mod devices;
pub mod history_rotation;
pub mod identity;
pub mod key_packages;
pub mod notes;
pub mod retention;
pub mod sealing_keys;
pub mod tenancy;
pub mod visitors;
pub mod widget;

use sealdesk_core::ValidationError;
use sealdesk_crypto::password::PasswordError;
use sealdesk_store::StoreError;

use crate::error::ApiError;

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input failed validation.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The change conflicts with existing data; the message names what.
    #[error("{0}")]
    Conflict(String),
    /// A referenced object does not exist (or is in another tenant).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error("password hashing failed")]
    Hashing(#[source] anyhow::Error),
}

impl From<PasswordError> for AppError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::TooLong | PasswordError::TooShort { .. } => {
                AppError::Invalid(ValidationError::new("password", e.to_string()))
            }
            other => AppError::Hashing(other.into()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(v) => ApiError::Invalid(v),
            AppError::Conflict(m) => ApiError::Conflict(m),
            AppError::NotFound(_) => ApiError::NotFound,
            AppError::Store(s) => s.into(),
            AppError::Hashing(e) => ApiError::Internal(e),
        }
    }
}
