//! The data directory: created with mode 0700, and refused if others can enter it, because it
//! holds the database and the master key (OWASP ASVS v5.0.0-13.3.1, secrets protected at rest).

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// Creating or inspecting it failed.
    #[error("data directory {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Group or others have access.
    #[error(
        "data directory {path} is accessible by other users (mode {mode:04o}); run `chmod 700 {path}`"
    )]
    LoosePermissions {
        /// The directory.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// It exists but is not a directory.
    #[error("data directory {path} exists but is not a directory")]
    NotADirectory {
        /// The path.
        path: String,
    },
}

/// Creates `dir` (and parents) with mode 0700 if missing; otherwise checks that only the
/// owner can access it.
pub fn ensure(dir: &Path) -> Result<(), DataDirError> {
    let shown = dir.display().to_string();
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(DataDirError::NotADirectory { path: shown }),
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(DataDirError::LoosePermissions { path: shown, mode });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| DataDirError::Io {
                path: shown,
                source,
            }),
        Err(source) => Err(DataDirError::Io {
            path: shown,
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_0700_and_refuses_loose_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        ensure(&dir).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        ensure(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = ensure(&dir).unwrap_err();
        assert!(err.to_string().contains("mode 0755"), "{err}");
        let file = tmp.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(
            ensure(&file),
            Err(DataDirError::NotADirectory { .. })
        ));
    }
}
