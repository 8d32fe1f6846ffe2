//! The same-run reference: raw Argon2id verifications per second on this machine with the
//! server's parameters, one OS thread per core and nothing else. Login throughput is reported
//! as a ratio of this hardware ceiling.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Serialize;

use crate::stats::f;

/// Memory cost in KiB (the server's default, the OWASP minimum).
pub(crate) const M_COST_KIB: u32 = 19_456;
/// Iterations.
pub(crate) const T_COST: u32 = 2;
/// Lanes.
pub(crate) const P_COST: u32 = 1;

/// What the reference measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Reference {
    /// Threads verifying in parallel.
    pub(crate) threads: usize,
    /// Wall-clock seconds.
    pub(crate) wall_s: f64,
    /// Verifications completed.
    pub(crate) verifies: u64,
    /// Verifications per second, all threads together.
    pub(crate) verifies_per_s: f64,
    /// Mean time of one verification on one thread.
    pub(crate) ms_per_verify: f64,
    /// Argon2id parameters: memory KiB, iterations, lanes.
    pub(crate) params: [u32; 3],
}

/// Verifies one correct password repeatedly on `threads` threads for about `secs` seconds.
pub(crate) fn measure(threads: usize, secs: f64) -> anyhow::Result<Reference> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, Some(32))
        .map_err(|e| anyhow::anyhow!("Argon2 parameters: {e}"))?;
    let password = b"reference-password-for-the-s7-benchmark";
    let salt =
        SaltString::encode_b64(b"sealdesk-bench-s").map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let phc = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password, &salt)
        .map_err(|e| anyhow::anyhow!("cannot hash: {e}"))?
        .to_string();
    let parsed =
        PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("cannot parse the hash: {e}"))?;
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let counts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let parsed = &parsed;
                scope.spawn(move || -> anyhow::Result<u64> {
                    let mut n = 0_u64;
                    // At least one verification (a thread may start after a short deadline on
                    // a busy machine), then bounded by the deadline and by a count no machine
                    // reaches in `secs`.
                    loop {
                        // The server verifies with `Argon2::default()`: the parameters come from the hash.
                        Argon2::default()
                            .verify_password(password, parsed)
                            .map_err(|e| anyhow::anyhow!("reference verification failed: {e}"))?;
                        n += 1;
                        if Instant::now() >= deadline || n >= 1_000_000 {
                            break;
                        }
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a reference thread panicked"))?
            })
            .collect::<anyhow::Result<Vec<u64>>>()
    })
    .context("Argon2 reference")?;
    let wall_s = start.elapsed().as_secs_f64();
    let verifies: u64 = counts.iter().sum();
    let verifies_per_s = f(verifies) / wall_s;
    Ok(Reference {
        threads,
        wall_s,
        verifies,
        verifies_per_s,
        ms_per_verify: if verifies > 0 {
            wall_s * 1000.0 * f(threads as u64) / f(verifies)
        } else {
            f64::NAN
        },
        params: [M_COST_KIB, T_COST, P_COST],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_at_least_one_verification() {
        let r = measure(1, 0.01).unwrap();
        assert!(r.verifies >= 1);
        assert!(r.verifies_per_s > 0.0);
        assert_eq!(r.params, [19_456, 2, 1]);
    }
}
