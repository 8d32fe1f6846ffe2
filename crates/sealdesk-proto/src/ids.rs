//! Identifier newtypes. Each wraps a UUID so that a team id can never be passed where a
//! tenant id is expected. Generation lives in `sealdesk-core` (it needs a clock and randomness).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            /// The inner UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(s.trim()).map(Self).map_err(|_| ParseIdError { what: $what })
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Uuid,
                    )))
                    .description(Some(concat!("A ", $what, " id (UUID).")))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

id_type!(
    /// Identifies a tenant: one business served by this Sealdesk installation.
    TenantId,
    "tenant"
);
id_type!(
    /// Identifies a team (an inbox) inside a tenant.
    TeamId,
    "team"
);
id_type!(
    /// Identifies a staff account (owner, admin, supervisor or agent) of one tenant.
    StaffId,
    "staff"
);

id_type!(
    /// Identifies a pseudonymous website visitor of one tenant (a customer in the widget).
    VisitorId,
    "visitor"
);
id_type!(
    /// Identifies a conversation: one visitor's chat with a tenant's team, one MLS group.
    ConversationId,
    "conversation"
);
id_type!(
    /// Identifies a staff device (a browser console or a terminal agent) of one tenant.
    DeviceId,
    "device"
);
id_type!(
    /// Identifies a canned response of a team.
    CannedResponseId,
    "canned response"
);

/// A string was not a valid id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIdError {
    what: &'static str,
}

impl std::fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a valid {} id (expected a UUID)", self.what)
    }
}

impl std::error::Error for ParseIdError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let s = "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70";
        let id: TenantId = s.parse().unwrap();
        assert_eq!(id.to_string(), s);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{s}\""));
    }

    #[test]
    fn garbage_is_rejected_with_the_kind_named() {
        let err = "not-a-uuid".parse::<TeamId>().unwrap_err();
        assert_eq!(err.to_string(), "not a valid team id (expected a UUID)");
    }
}
