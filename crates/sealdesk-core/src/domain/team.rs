//! Teams: the inboxes of a tenant. Conversations are routed to a team's queue.

use time::OffsetDateTime;

use sealdesk_proto::tenancy::TeamView;
use sealdesk_proto::{TeamId, TenantId};

use crate::domain::TeamName;

/// Everything needed to create a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTeam {
    /// The new team's id.
    pub id: TeamId,
    /// The tenant it belongs to.
    pub tenant_id: TenantId,
    /// Name, unique case-insensitively within the tenant.
    pub name: TeamName,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A stored team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Id.
    pub id: TeamId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Name.
    pub name: TeamName,
    /// Whether the team is disabled.
    pub disabled: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Team {
    /// The API view of the team.
    pub fn view(&self) -> TeamView {
        TeamView {
            id: self.id,
            tenant_id: self.tenant_id,
            name: self.name.to_string(),
            disabled: self.disabled,
            created_at: self.created_at,
        }
    }
}
