//! Views of tenants, teams and staff accounts as the API and the admin CLI show them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::ids::{StaffId, TeamId, TenantId};

/// A tenant as shown to operators and its own admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantView {
    /// The tenant's id.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Brand domains (ASCII form), unique across tenants; used by the scam guard.
    pub domains: Vec<String>,
    /// Origins allowed to embed the widget (`https://host[:port]`).
    pub widget_origins: Vec<String>,
    /// Days after which closed conversations are deleted.
    pub retention_days: u32,
    /// Whether every staff member must have a second factor.
    pub require_second_factor: bool,
    /// A disabled tenant accepts no logins and no visitors.
    pub disabled: bool,
    /// Creation time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A team (inbox) of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TeamView {
    /// The team's id.
    pub id: TeamId,
    /// The tenant the team belongs to.
    pub tenant_id: TenantId,
    /// Display name, unique (case-insensitively) within the tenant.
    pub name: String,
    /// A disabled team receives no new conversations.
    pub disabled: bool,
    /// Creation time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A staff account as shown to admins. Never carries credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffView {
    /// The staff member's id.
    pub id: StaffId,
    /// The tenant the account belongs to.
    pub tenant_id: TenantId,
    /// Login e-mail, unique within the tenant (stored lower-case).
    pub email: String,
    /// Name shown to colleagues and, once verified, to customers.
    pub display_name: String,
    /// `owner`, `admin`, `supervisor` or `agent`.
    pub role: String,
    /// Whether a password has been set.
    pub has_password: bool,
    /// A disabled account cannot log in.
    pub disabled: bool,
    /// Creation time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A tenant's security and privacy settings (`GET`/`PUT /api/tenants/{tenant}/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantSettingsView {
    /// Days after which closed conversations are deleted (1 to 3650).
    pub retention_days: u32,
    /// Every staff member must have a second factor.
    pub require_second_factor: bool,
    /// Browser sessions lapse after this many idle minutes (5 to 1440).
    pub session_idle_minutes: u32,
    /// Sessions end this many hours after login (1 to 720).
    pub session_absolute_hours: u32,
    /// When not empty, staff may log in only from these CIDR ranges.
    pub staff_ip_allowlist: Vec<String>,
    /// Visitors from these CIDR ranges get no ticket and no connection.
    #[serde(default)]
    pub visitor_blocklist: Vec<String>,
    /// When new visitors must solve a proof-of-work challenge: `off`, `auto` (under attack;
    /// the default) or `always`.
    #[serde(default = "default_challenge")]
    pub visitor_challenge: String,
}

fn default_challenge() -> String {
    "auto".to_owned()
}
