//! Maps errors to exit codes (BSD sysexits, so scripts can tell a typo from an outage) and
//! prints them with their chain of causes.

use std::io::Write;
use std::process::ExitCode;

use sealdesk_server::config::ConfigErrors;
use sealdesk_server::startup::StartupError;
use sealdesk_store::StoreError;

/// Input was invalid (bad name, domain, id).
pub(crate) const DATA_ERR: u8 = 65;
/// The named object does not exist.
pub(crate) const NO_INPUT: u8 = 66;
/// A needed service (the database) is unavailable.
pub(crate) const UNAVAILABLE: u8 = 69;
/// Internal software error.
pub(crate) const SOFTWARE: u8 = 70;
/// A file or directory has the wrong permissions or cannot be created.
pub(crate) const CANT_CREATE: u8 = 73;
/// The configuration is invalid.
pub(crate) const CONFIG: u8 = 78;

/// A user-facing error with a chosen exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Failure {
    /// What to print.
    pub(crate) message: String,
    /// The exit code.
    pub(crate) code: u8,
}

impl Failure {
    /// A failure with `code`.
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code,
        }
    }
}

fn code_of(err: &anyhow::Error) -> u8 {
    // Works whether the Failure is the error itself or a context added to it.
    if let Some(f) = err.downcast_ref::<Failure>() {
        return f.code;
    }
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.code;
        }
        if cause.downcast_ref::<ConfigErrors>().is_some() {
            return CONFIG;
        }
        if let Some(s) = cause.downcast_ref::<StartupError>() {
            return match s {
                StartupError::DataDir(_) | StartupError::MasterKey(_) => CANT_CREATE,
                StartupError::Tls(_) | StartupError::Passkeys(_) | StartupError::Web(_) => CONFIG,
                StartupError::Bind { .. } | StartupError::Database { .. } => UNAVAILABLE,
            };
        }
        if let Some(s) = cause.downcast_ref::<StoreError>() {
            return match s {
                StoreError::NotFound => NO_INPUT,
                StoreError::Conflict { .. } => DATA_ERR,
                StoreError::Unavailable(_) => UNAVAILABLE,
                _ => SOFTWARE,
            };
        }
    }
    1
}

/// Prints `err` and its causes to stderr and returns its exit code.
pub(crate) fn report(err: &anyhow::Error) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "error: {err}");
    for cause in err.chain().skip(1) {
        let _ = write!(stderr, "\n  caused by: {cause}");
    }
    let _ = writeln!(stderr);
    ExitCode::from(code_of(err))
}
