//! Rows as the backends read them, and their conversion back into domain values. Every
//! stored value is re-parsed with the core parsers; one that fails is [`StoreError::Corrupt`].

use sealdesk_core::clock::{from_unix_ms, to_unix_ms};
use sealdesk_core::domain::{
    DisplayName, DomainName, Email, NewStaff, NewTeam, NewTenant, Role, Staff, Team, TeamName,
    Tenant, TenantName, TenantSettings, WidgetOrigin,
};
use sealdesk_proto::{StaffId, TeamId, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{StoreError, StoreResult};

/// A `tenants` row, before its domains and origins are attached.
#[derive(Debug)]
pub(crate) struct TenantRow {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) settings: String,
    pub(crate) disabled: bool,
    pub(crate) created_at_ms: i64,
}

impl TenantRow {
    /// The tenant, with its domains and origins in stored order.
    pub(crate) fn into_tenant(self, domains: &[String], origins: &[String]) -> StoreResult<Tenant> {
        let id = TenantId::from_uuid(self.id);
        let what = |field: &str| format!("tenant {id}: {field}");
        let settings = parse_settings(&self.settings, &what("settings"))?;
        Ok(Tenant {
            id,
            name: TenantName::parse(&self.name).map_err(|e| corrupt(&what("name"), e))?,
            domains: domains
                .iter()
                .map(|d| DomainName::parse(d).map_err(|e| corrupt(&what("domain"), e)))
                .collect::<StoreResult<_>>()?,
            widget_origins: origins
                .iter()
                .map(|o| WidgetOrigin::parse(o).map_err(|e| corrupt(&what("origin"), e)))
                .collect::<StoreResult<_>>()?,
            settings,
            disabled: self.disabled,
            created_at: from_unix_ms(self.created_at_ms),
        })
    }
}

/// A `teams` row.
#[derive(Debug)]
pub(crate) struct TeamRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) name: String,
    pub(crate) disabled: bool,
    pub(crate) created_at_ms: i64,
}

impl TeamRow {
    /// The team.
    pub(crate) fn into_team(self) -> StoreResult<Team> {
        let id = TeamId::from_uuid(self.id);
        Ok(Team {
            id,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            name: TeamName::parse(&self.name)
                .map_err(|e| corrupt(&format!("team {id}: name"), e))?,
            disabled: self.disabled,
            created_at: from_unix_ms(self.created_at_ms),
        })
    }
}

/// A `staff` row, without the password hash (only whether one is set).
#[derive(Debug)]
pub(crate) struct StaffRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) email: String,
    pub(crate) display_name: String,
    pub(crate) role: String,
    pub(crate) has_password: bool,
    pub(crate) disabled: bool,
    pub(crate) created_at_ms: i64,
}

impl StaffRow {
    /// The staff account.
    pub(crate) fn into_staff(self) -> StoreResult<Staff> {
        let id = StaffId::from_uuid(self.id);
        let what = |field: &str| format!("staff {id}: {field}");
        Ok(Staff {
            id,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            email: Email::parse(&self.email).map_err(|e| corrupt(&what("email"), e))?,
            display_name: DisplayName::parse(&self.display_name)
                .map_err(|e| corrupt(&what("display_name"), e))?,
            role: Role::parse(&self.role).map_err(|e| corrupt(&what("role"), e))?,
            has_password: self.has_password,
            disabled: self.disabled,
            created_at: from_unix_ms(self.created_at_ms),
        })
    }
}

/// A UUID stored as text (SQLite).
#[cfg(feature = "sqlite")]
pub(crate) fn parse_uuid(raw: &str, what: &str) -> StoreResult<Uuid> {
    Uuid::try_parse(raw).map_err(|e| corrupt(what, e))
}

/// A stored settings document, parsed and validated; `what` names it in the error.
pub(crate) fn parse_settings(raw: &str, what: &str) -> StoreResult<TenantSettings> {
    let settings: TenantSettings = serde_json::from_str(raw).map_err(|e| corrupt(what, e))?;
    settings.validate().map_err(|e| corrupt(what, e))?;
    Ok(settings)
}

/// The settings document as stored.
pub(crate) fn settings_json(settings: &TenantSettings) -> StoreResult<String> {
    serde_json::to_string(settings)
        .map_err(|e| StoreError::Corrupt(format!("tenant settings: {e}")))
}

/// Converts a list position to the stored integer (lists are capped at
/// [`NewTenant::MAX_LIST`], so this never saturates in practice).
pub(crate) fn position(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}

/// What a create returns: the input as it reads back, with time truncated to the stored
/// millisecond precision so that `create` and `get` agree.
pub(crate) fn created_tenant(new: &NewTenant) -> Tenant {
    Tenant {
        id: new.id,
        name: new.name.clone(),
        domains: new.domains.clone(),
        widget_origins: new.widget_origins.clone(),
        settings: new.settings.clone(),
        disabled: false,
        created_at: stored_time(new.created_at),
    }
}

/// See [`created_tenant`].
pub(crate) fn created_team(new: &NewTeam) -> Team {
    Team {
        id: new.id,
        tenant_id: new.tenant_id,
        name: new.name.clone(),
        disabled: false,
        created_at: stored_time(new.created_at),
    }
}

/// See [`created_tenant`].
pub(crate) fn created_staff(new: &NewStaff) -> Staff {
    Staff {
        id: new.id,
        tenant_id: new.tenant_id,
        email: new.email.clone(),
        display_name: new.display_name.clone(),
        role: new.role,
        has_password: new.password_hash.is_some(),
        disabled: false,
        created_at: stored_time(new.created_at),
    }
}

pub(crate) fn stored_time(t: OffsetDateTime) -> OffsetDateTime {
    from_unix_ms(to_unix_ms(t))
}

pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}
