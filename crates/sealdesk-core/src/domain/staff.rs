//! Staff accounts: the people who answer, supervise and administer a tenant's support.
//! An account belongs to exactly one tenant; one person serving two tenants has two accounts.

use time::OffsetDateTime;

use sealdesk_proto::tenancy::StaffView;
use sealdesk_proto::{StaffId, TenantId};

use crate::domain::{DisplayName, Email, Role};

/// Everything needed to create a staff account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    /// The new account's id.
    pub id: StaffId,
    /// The tenant it belongs to.
    pub tenant_id: TenantId,
    /// Login address, unique within the tenant.
    pub email: Email,
    /// Name shown to colleagues and customers.
    pub display_name: DisplayName,
    /// Role in the tenant.
    pub role: Role,
    /// Argon2id PHC string, if a password is set at creation.
    pub password_hash: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A stored staff account. The password hash stays in the store layer's credential
/// queries; this type never carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// Id.
    pub id: StaffId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Login address.
    pub email: Email,
    /// Display name.
    pub display_name: DisplayName,
    /// Role.
    pub role: Role,
    /// Whether a password is set.
    pub has_password: bool,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Staff {
    /// The API view of the account.
    pub fn view(&self) -> StaffView {
        StaffView {
            id: self.id,
            tenant_id: self.tenant_id,
            email: self.email.to_string(),
            display_name: self.display_name.to_string(),
            role: self.role.to_string(),
            has_password: self.has_password,
            disabled: self.disabled,
            created_at: self.created_at,
        }
    }
}
