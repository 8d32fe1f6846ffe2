//! The store's integration tests, in one binary: the contract suite on SQLite and on
//! PostgreSQL (when `SEALDESK_TEST_PG_URL` is set), plus backend-specific checks (including
//! audit-log tampering by raw SQL) and a crash-safety test.

// Every function in this crate is test code, helpers included; clippy's test allowances
// (clippy.toml) reach only `#[test]` functions. The docs name SQLite and PostgreSQL as
// products, not code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::doc_markdown
)]

mod crash;
mod migrations;
mod postgres;
mod sqlite;
mod tamper;
mod tenant_deletion;
