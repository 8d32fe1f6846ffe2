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

#[cfg(test)]
mod tests {
    /// An `Option` skipped when `None` is absent from the JSON, never `null`: its schema must
    /// say so (`#[schema(nullable = false)]`), or the TypeScript generated from the OpenAPI
    /// document (web/shared/protocol/generated.ts) widens it to `T | null` for no reason.
    #[test]
    fn options_skipped_when_none_are_not_nullable_in_the_schema() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        // Split so that this line does not match itself.
        let needle = concat!("skip_serializing_if = ", r#""Option::is_none""#);
        let mut missing = Vec::new();
        for file in std::fs::read_dir(dir).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if line.contains(needle)
                    && !lines
                        .get(i + 1)
                        .is_some_and(|next| next.contains("nullable = false"))
                {
                    missing.push(format!("{}:{}", path.display(), i + 1));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "add #[schema(nullable = false)] after: {missing:?}"
        );
    }
}
