//! Sealdesk's domain model and its rules: tenants, teams, staff and roles, as validated
//! types ("parse, don't validate"). Time and randomness are injected through [`clock::Clock`]
//! and [`random::Random`] so that every rule is deterministic under test.
//!
//! This crate must not do I/O: no tokio, no sqlx, no axum, no filesystem.
#![warn(missing_docs)]

pub mod access;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod domain;
pub mod error;
pub mod ids;
pub mod random;
pub mod ratelimit;
pub mod routing;
pub mod throttle;

pub use error::ValidationError;
