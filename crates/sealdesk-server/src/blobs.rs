//! Attachment blobs in the data directory: content-addressed files at
//! `<data_dir>/blobs/<hex[0..2]>/<hex sha256>`, written durably (temp file, fsync, rename,
//! directory fsync) before the store records a reference to them.
//!
//! File names come only from the SHA-256 the server computed, never from client input
//! (OWASP ASVS v5.0.0-5.3.2: no user-supplied path reaches the filesystem), and the files are
//! never executed or interpreted (5.3.1). Directories are created 0700 and files 0600, like
//! the rest of the data directory (13.3.1 of the same standard, as in `datadir.rs`).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sealdesk_core::auth::Digest;
use sealdesk_core::random::Random;
use sealdesk_store::Store;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, MutexGuard};

/// Lock stripes: uploads and deletions of the same blob take the same stripe.
const STRIPES: usize = 64;

/// Prefix of upload temp files; anything with it is a leftover after a crash.
const TEMP_PREFIX: &str = ".upload-";

/// Why a blob could not be received.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The body is longer than the limit; nothing was kept.
    #[error("the attachment is larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: u64,
    },
    /// The body is empty.
    #[error("the attachment is empty")]
    Empty,
    /// Reading the request body failed (client went away, or the body was malformed).
    #[error("reading the upload failed: {0}")]
    Body(String),
    /// The filesystem failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The blob directory and the locks that keep uploads and deletions of one blob apart.
#[derive(Debug)]
pub struct BlobStore {
    root: PathBuf,
    locks: Box<[Mutex<()>]>,
}

/// A blob streamed into a temp file, hashed and fsync'd, not yet at its address. Dropping it
/// removes the temp file.
#[derive(Debug)]
pub struct Received {
    /// SHA-256 of the bytes.
    pub sha256: Digest,
    /// Size in bytes.
    pub size: u64,
    temp: TempFile,
}

#[derive(Debug)]
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: a leftover is removed at the next start (`remove_stale_uploads`).
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl BlobStore {
    /// The blob store of a data directory (`<data_dir>/blobs`, created on first use).
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("blobs"),
            locks: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// The file of a blob.
    pub fn path(&self, sha256: &Digest) -> PathBuf {
        let hex = hex::encode(sha256);
        let fan_out = hex.get(..2).unwrap_or_default().to_owned();
        self.root.join(fan_out).join(hex)
    }

    /// Serialises writing a blob and recording its reference against checking and deleting
    /// it, so a blob that just became orphaned is never deleted under a fresh upload.
    pub async fn lock(&self, sha256: &Digest) -> MutexGuard<'_, ()> {
        let stripe = usize::from(sha256[0]) % self.locks.len();
        // `locks` is never empty (`STRIPES` entries), so the index is in range.
        #[allow(clippy::indexing_slicing)]
        self.locks[stripe].lock().await
    }

    /// Streams `body` into a temp file in the blob directory, hashing it on the way, and
    /// refuses it as soon as it passes `max` bytes: at most `max` bytes are ever written
    /// and nothing is buffered beyond one chunk (OWASP ASVS v5.0.0-5.2.1). The file is
    /// fsync'd before this returns.
    pub async fn receive<S, E>(
        &self,
        mut body: S,
        max: u64,
        random: &dyn Random,
    ) -> Result<Received, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        ensure_dir(&self.root).await?;
        let mut name = [0u8; 16];
        random.fill(&mut name);
        let mut temp = TempFile {
            path: self
                .root
                .join(format!("{TEMP_PREFIX}{}.tmp", hex::encode(name))),
            keep: true,
        };
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp.path)
            .await?;
        // Created: from here on, every early return removes it.
        temp.keep = false;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| BlobError::Body(e.to_string()))?;
            size = size.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
            if size > max {
                return Err(BlobError::TooLarge { max });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        if size == 0 {
            return Err(BlobError::Empty);
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(Received {
            sha256: hasher.finalize().into(),
            size,
            temp,
        })
    }

    /// Moves a received blob to its address and makes the rename durable (fsync of the
    /// directory), so the file survives a crash before any reference to it is committed.
    /// The caller holds [`lock`](Self::lock) for the blob. An existing file with the same
    /// address has the same bytes and is replaced atomically.
    pub async fn persist(&self, mut received: Received) -> Result<(), std::io::Error> {
        let dest = self.path(&received.sha256);
        let dir = dest.parent().unwrap_or(&self.root).to_owned();
        ensure_dir(&dir).await?;
        tokio::fs::rename(&received.temp.path, &dest).await?;
        received.temp.keep = true;
        sync_dir(dir).await
    }

    /// Opens a blob for reading with its length, or `None` if there is no such file.
    pub async fn open(
        &self,
        sha256: &Digest,
    ) -> Result<Option<(tokio::fs::File, u64)>, std::io::Error> {
        match tokio::fs::File::open(self.path(sha256)).await {
            Ok(file) => {
                let len = file.metadata().await?.len();
                Ok(Some((file, len)))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether a blob's file exists.
    pub async fn exists(&self, sha256: &Digest) -> Result<bool, std::io::Error> {
        tokio::fs::try_exists(self.path(sha256)).await
    }

    /// Deletes a blob's file; `false` if there was none. The caller holds
    /// [`lock`](Self::lock) and checked that nothing references the blob any more.
    pub async fn remove(&self, sha256: &Digest) -> Result<bool, std::io::Error> {
        let path = self.path(sha256);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {
                sync_dir(path.parent().unwrap_or(&self.root).to_owned()).await?;
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes upload temp files left by a crash; returns how many. Call it at start-up,
    /// before uploads are accepted.
    pub async fn remove_stale_uploads(&self) -> Result<usize, std::io::Error> {
        let mut entries = match tokio::fs::read_dir(&self.root).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(TEMP_PREFIX) {
                tokio::fs::remove_file(entry.path()).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Deletes the files of blobs a deletion reported as orphaned (`Deleted::orphaned_blobs`),
/// unless an upload referenced them again meanwhile. Returns how many files were deleted.
/// Failures are logged as errors for the operator: the file left behind holds only
/// ciphertext, but nothing retries it.
pub async fn remove_orphans(store: &dyn Store, blobs: &BlobStore, orphaned: &[Digest]) -> u64 {
    let mut removed = 0;
    for sha256 in orphaned {
        let _guard = blobs.lock(sha256).await;
        match store.blob_referenced(sha256).await {
            Ok(false) => {}
            Ok(true) => continue,
            Err(e) => {
                tracing::error!(error = %e, sha256 = %hex::encode(sha256), "could not check a blob before deleting it");
                continue;
            }
        }
        match blobs.remove(sha256).await {
            Ok(true) => removed += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, sha256 = %hex::encode(sha256), "could not delete an orphaned blob");
            }
        }
    }
    removed
}

/// Creates a directory (and parents) with mode 0700 if it is missing.
async fn ensure_dir(dir: &Path) -> Result<(), std::io::Error> {
    tokio::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .await
}

/// fsyncs a directory, making the creation, rename or removal of an entry in it durable.
async fn sync_dir(dir: PathBuf) -> Result<(), std::io::Error> {
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use sealdesk_core::random::SeededRandom;

    use super::*;

    fn body(chunks: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures_util::stream::iter(
            chunks
                .iter()
                .map(|c| Ok(Bytes::from_static(c)))
                .collect::<Vec<_>>(),
        )
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn leftovers(root: &Path) -> Vec<String> {
        std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(TEMP_PREFIX))
            .collect()
    }

    #[tokio::test]
    async fn stores_by_hash_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(tmp.path());
        let random = SeededRandom::new(1);
        let received = blobs
            .receive(body(&[b"hello ", b"world"]), 100, &random)
            .await
            .unwrap();
        let expected: Digest = Sha256::digest(b"hello world").into();
        assert_eq!((received.sha256, received.size), (expected, 11));
        blobs.persist(received).await.unwrap();
        let path = blobs.path(&expected);
        let hex = hex::encode(expected);
        assert!(path.ends_with(format!("blobs/{}/{hex}", &hex[..2])));
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&tmp.path().join("blobs")), 0o700);
        assert!(leftovers(&tmp.path().join("blobs")).is_empty());
        assert!(blobs.remove(&expected).await.unwrap());
        assert!(!blobs.exists(&expected).await.unwrap());
        assert!(!blobs.remove(&expected).await.unwrap());
    }

    #[tokio::test]
    async fn refuses_past_the_limit_empty_and_broken_bodies_leaving_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(tmp.path());
        let random = SeededRandom::new(2);
        let too_big = blobs.receive(body(&[b"12345", b"6"]), 5, &random).await;
        assert!(matches!(too_big, Err(BlobError::TooLarge { max: 5 })));
        let exact = blobs.receive(body(&[b"12345"]), 5, &random).await.unwrap();
        assert_eq!(exact.size, 5);
        drop(exact);
        let empty = blobs.receive(body(&[]), 5, &random).await;
        assert!(matches!(empty, Err(BlobError::Empty)));
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"ab")),
            Err("connection reset".to_owned()),
        ]);
        assert!(matches!(
            blobs.receive(broken, 5, &random).await,
            Err(BlobError::Body(_))
        ));
        assert!(leftovers(&tmp.path().join("blobs")).is_empty());
    }

    #[tokio::test]
    async fn stale_uploads_are_removed_at_start() {
        let tmp = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(tmp.path());
        assert_eq!(blobs.remove_stale_uploads().await.unwrap(), 0);
        let random = SeededRandom::new(3);
        let received = blobs.receive(body(&[b"x"]), 5, &random).await.unwrap();
        // A crash before the rename: the temp file stays behind.
        std::mem::forget(received);
        assert_eq!(leftovers(&tmp.path().join("blobs")).len(), 1);
        assert_eq!(blobs.remove_stale_uploads().await.unwrap(), 1);
        assert!(leftovers(&tmp.path().join("blobs")).is_empty());
    }
}
