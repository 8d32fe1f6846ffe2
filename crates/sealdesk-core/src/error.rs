//! Validation errors: which field, and what is wrong with it, in words safe to show a user.

/// A value failed validation. `field` names the input (`"name"`, `"domain"`), `reason`
/// explains the rule in plain words; both are shown to the user as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// The input that failed.
    pub field: &'static str,
    /// What is wrong, in words for a person.
    pub reason: String,
}

impl ValidationError {
    /// A new validation error.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
