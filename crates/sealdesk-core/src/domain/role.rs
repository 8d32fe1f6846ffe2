//! Staff roles within a tenant. What each role may do is the permission matrix (added with
//! staff authentication); the order here is from most to least privileged.

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A staff member's role in their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Holds the tenant root key; manages admins, keys and archives.
    Owner,
    /// Manages staff, teams and settings.
    Admin,
    /// Watches and joins conversations of their teams.
    Supervisor,
    /// Answers conversations.
    Agent,
}

impl Role {
    /// Every role, most privileged first.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Supervisor, Role::Agent];

    /// The role's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }

    /// Parses a role name (case-insensitive).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let lower = raw.trim().to_ascii_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == lower)
            .ok_or_else(|| {
                ValidationError::new("role", "must be one of owner, admin, supervisor, agent")
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_role() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
            assert_eq!(Role::parse(&role.as_str().to_uppercase()).unwrap(), role);
        }
        assert!(Role::parse("superuser").is_err());
    }
}
