//! The password-hashing pool: Argon2 runs on blocking threads, never on the async executor,
//! at most one per core at a time (a semaphore), and each run borrows the Argon2 working
//! memory kept for its permit. A login storm therefore queues instead of allocating
//! 19 MiB per attempt, and memory stays at permits × m: no buffer is allocated or freed per
//! login, which would let glibc keep hundreds of MB of freed buffers (docs/performance.md,
//! S7; OWASP Password Storage Cheat Sheet: bound the resources a hash can consume).

use std::sync::{Arc, Mutex, PoisonError};

use sealdesk_crypto::password::HashMemory;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Permits and their working memory.
#[derive(Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<HashMemory>>,
    size: usize,
}

/// Returns a borrowed buffer to the pool when dropped, also if the work panicked.
struct Borrowed<'a> {
    pool: &'a Hasher,
    memory: Option<HashMemory>,
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        if let Some(memory) = self.memory.take() {
            self.pool.lock().push(memory);
        }
    }
}

impl Hasher {
    /// A pool of `size` permits (at least one). Buffers are allocated on first use, at the
    /// size the first hash needs.
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        Self {
            permits: Arc::new(Semaphore::new(size)),
            idle: Mutex::new((0..size).map(|_| HashMemory::new()).collect()),
            size,
        }
    }

    /// How many hashes may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes of working memory held by the buffers not in use right now.
    pub fn idle_bytes(&self) -> usize {
        self.lock().iter().map(HashMemory::held_bytes).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<HashMemory>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` on a blocking thread while holding a permit, with that permit's working
    /// memory. Waits for a permit first, so at most [`size`](Self::size) run at once.
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut HashMemory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            // One buffer per permit: with the permit held, one is always idle. Should one
            // have been lost anyway, a fresh one takes its place.
            let memory = pool.lock().pop().unwrap_or_default();
            let mut borrowed = Borrowed {
                pool: &pool,
                memory: Some(memory),
            };
            let out = borrowed.memory.as_mut().map(work);
            drop(borrowed);
            drop(permit);
            out
        })
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("hash memory missing")))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sealdesk_core::random::SeededRandom;
    use sealdesk_crypto::password::{self, HashPolicy};
    use secrecy::SecretString;

    use super::*;

    #[tokio::test]
    async fn buffers_are_kept_per_permit_and_reused() {
        let pool = Arc::new(Hasher::new(2));
        assert_eq!(
            pool.idle_bytes(),
            0,
            "nothing allocated before the first hash"
        );
        let policy = HashPolicy {
            memory_kib: 256,
            ..HashPolicy::INSECURE_TEST_ONLY
        };
        let mut runs = Vec::new();
        for i in 0..8 {
            let pool = Arc::clone(&pool);
            runs.push(tokio::spawn(async move {
                pool.run(move |memory| {
                    let pw = SecretString::from(format!("password number {i}"));
                    let phc =
                        password::hash_with(policy, &SeededRandom::new(i), &pw, memory).unwrap();
                    // Hold the permit a little so the runs overlap.
                    std::thread::park_timeout(Duration::from_millis(5));
                    password::verify_with(policy, &pw, &phc, memory).unwrap();
                })
                .await
            }));
        }
        for run in runs {
            run.await.unwrap().unwrap();
        }
        // However many ran, only the two permits' buffers exist, each at the policy's size.
        assert_eq!(pool.lock().len(), 2);
        assert!(pool.idle_bytes() <= 2 * 256 * 1024, "{}", pool.idle_bytes());
        assert!(pool.idle_bytes() >= 256 * 1024, "{}", pool.idle_bytes());
    }

    #[tokio::test]
    async fn a_panicking_hash_gives_its_buffer_back() {
        let pool = Arc::new(Hasher::new(1));
        let failed = pool
            .run(|memory| {
                let _ = password::hash_with(
                    HashPolicy::INSECURE_TEST_ONLY,
                    &SeededRandom::new(1),
                    &SecretString::from("pw".to_owned()),
                    memory,
                );
                panic!("boom");
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(pool.lock().len(), 1);
        assert_eq!(pool.idle_bytes(), 64 * 1024);
        // The permit was released too.
        pool.run(|_| ()).await.unwrap();
    }
}
