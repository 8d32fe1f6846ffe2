//! The operating system's cryptographically secure random source.

use sealdesk_core::random::Random;

/// Random bytes from the OS (`getrandom(2)` on Linux).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    #[allow(clippy::disallowed_methods)] // This is the single sanctioned RNG entry point.
    fn fill(&self, buf: &mut [u8]) {
        // getrandom only fails if the kernel has no entropy interface at all; continuing with
        // predictable bytes would be worse than stopping, so abort the process.
        if getrandom::getrandom(buf).is_err() {
            std::process::abort();
        }
    }
}
