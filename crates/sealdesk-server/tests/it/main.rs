//! Integration tests of the server through real HTTP on 127.0.0.1 (one test binary).

// Clippy's test allowances cover #[test] functions, not the shared helpers in these modules;
// failing loudly is what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod archive;
mod auth;
mod canned_reseal;
mod content;
mod conversations;
mod devices;
mod e2ee;
mod e2ee_policy;
mod edge;
mod hierarchy;
mod history_rotation;
mod openapi;
mod openapi_frames;
mod passkeys;
mod reauth;
mod resume_head;
mod second_factor;
mod settings;
mod system;
mod team_membership;
mod team_transfer;
mod tls;
mod visitors;
mod web;
mod widget;
mod ws_sessions;
