//! The terminal client's profile directory: the server URL and the session token of a
//! `sealdesk login`, in `session.json` with mode 0600 inside a 0700 directory (the token is a
//! bearer credential; OWASP ASVS v5.0.0-13.3.1).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use sealdesk_proto::TenantId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::exit::{CANT_CREATE, Failure, NO_INPUT};

/// A saved login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Profile {
    /// Server base URL.
    pub(crate) server: String,
    /// Tenant.
    pub(crate) tenant_id: TenantId,
    /// Login e-mail.
    pub(crate) email: String,
    /// Bearer token.
    pub(crate) token: String,
    /// Session id.
    pub(crate) session_id: Uuid,
    /// Absolute expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires_at: OffsetDateTime,
}

fn file(dir: &Path) -> PathBuf {
    dir.join("session.json")
}

/// Saves atomically (temporary file, fsync, rename), creating the directory with mode 0700.
pub(crate) fn save(dir: &Path, profile: &Profile) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create profile directory {}", dir.display()))?;
    write_private(dir, "session.json", &serde_json::to_vec_pretty(profile)?)
}

/// Writes `dir/name` atomically and readable by its owner only (mode 0600): a temporary
/// file, fsync, rename.
pub(crate) fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    Ok(())
}

/// Loads the profile, refusing one that other users can read.
pub(crate) fn load(dir: &Path) -> anyhow::Result<Profile> {
    let path = file(dir);
    let meta = std::fs::metadata(&path).map_err(|_| {
        Failure::new(
            NO_INPUT,
            format!(
                "not logged in: no session in {} (run `sealdesk login`)",
                dir.display()
            ),
        )
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Failure::new(
            CANT_CREATE,
            format!(
                "{} is readable by other users (mode {mode:04o}); run `chmod 600 {}`",
                path.display(),
                path.display()
            ),
        )
        .into());
    }
    let text = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a Sealdesk profile", path.display()))
}

/// Deletes the saved session; `false` if there was none.
pub(crate) fn remove(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::remove_file(file(dir)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot remove the session in {}", dir.display())),
    }
}
