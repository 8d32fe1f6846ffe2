//! Sealdesk's MLS (RFC 9420) profile on openmls: the client side used by the terminal agent,
//! the archive tools and the interop tests, and (later) the delivery-service validation.
//!
//! The profile (`profile`) is the one of `shared/design/E2EE.md` §2: ciphersuite 0x0001,
//! commits as `PublicMessage` (so the server can validate them with `PublicGroup`),
//! application data as `PrivateMessage`, the ratchet tree in every Welcome, padded
//! plaintexts, four past epochs of keys, bounded lifetimes. The browser side (ts-mls, in
//! `web/shared/mls`) uses the same numbers; `web/interop` proves the two agree.

pub mod announce;
pub mod bundle;
pub mod certs;
mod client;
pub mod ds;
mod error;
mod history;
mod import;
pub mod payload;
pub mod policy;
pub mod profile;
mod provider;
pub mod seal;
mod signer;
mod snapshot;
pub mod teamseal;
#[cfg(test)]
mod vectors;
mod wire;

pub use client::{Client, CredentialCheck, EpochInfo, Member, Outgoing, Processed};
pub use error::MlsError;
pub use history::{LogItem, Replay, Replayed, addressed_to};
pub use import::KeyPackageSecrets;
pub use provider::Provider;
pub use signer::DeviceSigner;
