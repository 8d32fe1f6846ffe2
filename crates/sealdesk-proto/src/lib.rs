//! Sealdesk wire types: what crosses the network between the server, the widget, the
//! console and the terminal client. Error codes, ID newtypes and REST payloads live here.
//!
//! This crate must not depend on anything that does I/O (no tokio, no sqlx, no axum): the
//! TypeScript types of the web clients are generated from it and it is shared by every client.
#![warn(missing_docs)]

pub mod auth;
pub mod content;
pub mod conversations;
pub mod devices;
pub mod error;
pub mod ids;
pub mod keys;
pub mod passkeys;
pub mod system;
pub mod tenancy;
pub mod widget;
pub mod ws;

pub use error::{ErrorBody, ErrorCode};
pub use ids::{CannedResponseId, ConversationId, DeviceId, StaffId, TeamId, TenantId, VisitorId};
