//! Access control: who may do what inside a tenant. The permission matrix is the single source
//! of truth (documented in docs/permissions.md); every handler calls [`authorize`], which also
//! enforces that a request never crosses a tenant (OWASP ASVS v5.0.0-8.2.1, 8.2.2).

use sealdesk_proto::{StaffId, TenantId};

use crate::domain::Role;

/// Something a staff member can try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// See the tenant's name, teams and colleagues.
    ViewTenant,
    /// Manage one's own sessions, password, second factors and passkeys.
    ManageOwnAccount,
    /// Change tenant settings (retention, 2FA policy, IP allow-list, origins).
    ManageSettings,
    /// Invite, disable and re-enable staff; change roles below owner.
    ManageStaff,
    /// Grant or remove the owner role, or act on an owner's account.
    ManageOwners,
    /// Revoke other staff members' sessions.
    RevokeSessions,
    /// Create, rename and disable teams.
    ManageTeams,
    /// Read the tenant's audit log.
    ViewAuditLog,
    /// Create and revoke API tokens for automation.
    ManageApiTokens,
    /// Tenant root and issuing key operations.
    ManageKeys,
    /// Confirm agent devices (sign device certificates, wrap team keys).
    EnrolDevices,
    /// Export the tenant's data or archive.
    ExportData,
    /// Erase a customer's data (GDPR art. 17).
    EraseData,
    /// See queues and conversation previews of one's teams.
    ViewQueue,
    /// Claim, answer and transfer conversations.
    HandleConversations,
    /// Join, watch and whisper in colleagues' conversations.
    SuperviseConversations,
    /// Edit a team's canned responses.
    ManageCannedResponses,
}

impl Action {
    /// Every action, for tables and property tests.
    pub const ALL: [Action; 17] = [
        Action::ViewTenant,
        Action::ManageOwnAccount,
        Action::ManageSettings,
        Action::ManageStaff,
        Action::ManageOwners,
        Action::RevokeSessions,
        Action::ManageTeams,
        Action::ViewAuditLog,
        Action::ManageApiTokens,
        Action::ManageKeys,
        Action::EnrolDevices,
        Action::ExportData,
        Action::EraseData,
        Action::ViewQueue,
        Action::HandleConversations,
        Action::SuperviseConversations,
        Action::ManageCannedResponses,
    ];

    /// Whether this action changes security state and so needs a recent re-authentication
    /// (NIST SP 800-63B §4.2.3 / ASVS v5.0.0-6.5.x; "sensitive actions" in the issue).
    pub fn needs_recent_auth(self) -> bool {
        matches!(
            self,
            Action::ManageOwners
                | Action::ManageKeys
                | Action::ExportData
                | Action::EraseData
                | Action::ManageApiTokens
        )
    }
}

/// The permission matrix.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action as A;
    match role {
        Role::Owner => true,
        Role::Admin => !matches!(action, A::ManageOwners | A::ManageKeys),
        Role::Supervisor => matches!(
            action,
            A::ViewTenant
                | A::ManageOwnAccount
                | A::ViewQueue
                | A::HandleConversations
                | A::SuperviseConversations
                | A::ManageCannedResponses
        ),
        Role::Agent => matches!(
            action,
            A::ViewTenant | A::ManageOwnAccount | A::ViewQueue | A::HandleConversations
        ),
    }
}

/// An authenticated staff member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// Their tenant.
    pub tenant: TenantId,
    /// Their account.
    pub staff: StaffId,
    /// Their role.
    pub role: Role,
}

/// Why access was refused. `OutOfScope` must be reported exactly like a missing resource
/// (404), so that existence in another tenant is never confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The resource belongs to another tenant.
    #[error("not found")]
    OutOfScope,
    /// The role does not allow the action.
    #[error("your role does not allow this")]
    Forbidden,
}

/// Decides whether `principal` may perform `action` on a resource of `resource_tenant`.
pub fn authorize(
    principal: &Principal,
    action: Action,
    resource_tenant: TenantId,
) -> Result<(), Denied> {
    if principal.tenant != resource_tenant {
        return Err(Denied::OutOfScope);
    }
    if allowed(principal.role, action) {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// Whether `actor` may give `target_role` to someone (or act on an account holding it):
/// only owners touch owners; admins manage everyone else.
pub fn may_manage_role(actor: Role, target_role: Role) -> bool {
    match target_role {
        Role::Owner => allowed(actor, Action::ManageOwners),
        _ => allowed(actor, Action::ManageStaff),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn role() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }
    fn action() -> impl Strategy<Value = Action> {
        prop::sample::select(Action::ALL.to_vec())
    }
    fn tenant() -> impl Strategy<Value = TenantId> {
        (0u8..4).prop_map(|n| TenantId::from_uuid(Uuid::from_bytes([n; 16])))
    }

    proptest! {
        /// Random (role, action, tenant) triples never cross a tenant and never exceed the matrix.
        #[test]
        fn never_crosses_a_tenant_and_never_exceeds_the_matrix(
            role in role(), action in action(), own in tenant(), other in tenant(),
        ) {
            let p = Principal { tenant: own, staff: StaffId::from_uuid(Uuid::nil()), role };
            let result = authorize(&p, action, other);
            if own != other {
                prop_assert_eq!(result, Err(Denied::OutOfScope));
            } else if allowed(role, action) {
                prop_assert_eq!(result, Ok(()));
            } else {
                prop_assert_eq!(result, Err(Denied::Forbidden));
            }
        }
    }

    #[test]
    fn roles_are_nested() {
        // Each role can do everything the one below it can.
        for action in Action::ALL {
            assert!(
                !allowed(Role::Agent, action) || allowed(Role::Supervisor, action),
                "{action:?}"
            );
            assert!(
                !allowed(Role::Supervisor, action) || allowed(Role::Admin, action),
                "{action:?}"
            );
            assert!(
                !allowed(Role::Admin, action) || allowed(Role::Owner, action),
                "{action:?}"
            );
        }
    }

    #[test]
    fn key_points_of_the_matrix() {
        assert!(!allowed(Role::Admin, Action::ManageKeys));
        assert!(!allowed(Role::Admin, Action::ManageOwners));
        assert!(allowed(Role::Admin, Action::ViewAuditLog));
        assert!(!allowed(Role::Supervisor, Action::ViewAuditLog));
        assert!(allowed(Role::Supervisor, Action::SuperviseConversations));
        assert!(!allowed(Role::Agent, Action::SuperviseConversations));
        assert!(!may_manage_role(Role::Admin, Role::Owner));
        assert!(may_manage_role(Role::Admin, Role::Agent));
        assert!(may_manage_role(Role::Owner, Role::Owner));
    }
}
