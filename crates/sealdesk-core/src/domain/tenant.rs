//! Tenants: the businesses an installation serves. A tenant never sees another's data.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use sealdesk_proto::TenantId;
use sealdesk_proto::tenancy::TenantView;

use crate::ValidationError;
use crate::domain::{DomainName, TenantName, WidgetOrigin};

/// Per-tenant settings, stored as one versioned document. Defaults favour privacy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantSettings {
    /// Days after which closed conversations are hard-deleted (1 to 3650; default 30).
    pub retention_days: u32,
    /// Every staff member must enrol a second factor (default true).
    pub require_second_factor: bool,
    /// A browser session lapses after this many minutes without activity (5 to 1440;
    /// default 30). Terminal sessions get eight times as long.
    pub session_idle_minutes: u32,
    /// Any session ends this many hours after login (1 to 720; default 12).
    pub session_absolute_hours: u32,
    /// When not empty, staff may log in only from these ranges.
    pub staff_ip_allowlist: Vec<crate::domain::Cidr>,
    /// Visitors from these ranges get no ticket and no connection (abuse control).
    pub visitor_blocklist: Vec<crate::domain::Cidr>,
    /// When a new visitor must solve a proof-of-work challenge before getting a ticket.
    pub visitor_challenge: VisitorChallenge,
}

/// When a new visitor must solve a proof-of-work challenge (self-hosted, no third-party
/// captcha).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitorChallenge {
    /// Never.
    Off,
    /// Only while the tenant is under attack (more new-visitor tickets per minute than the
    /// server's threshold).
    #[default]
    Auto,
    /// Always.
    Always,
}

impl VisitorChallenge {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            VisitorChallenge::Off => "off",
            VisitorChallenge::Auto => "auto",
            VisitorChallenge::Always => "always",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Off, Self::Auto, Self::Always]
            .into_iter()
            .find(|m| m.as_str() == raw)
    }
}

impl TenantSettings {
    /// The longest retention a tenant may choose: ten years.
    pub const MAX_RETENTION_DAYS: u32 = 3650;

    /// Checks the invariants the type cannot express.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.retention_days == 0 || self.retention_days > Self::MAX_RETENTION_DAYS {
            return Err(ValidationError::new(
                "retention_days",
                format!("must be between 1 and {}", Self::MAX_RETENTION_DAYS),
            ));
        }
        if !(5..=1440).contains(&self.session_idle_minutes) {
            return Err(ValidationError::new(
                "session_idle_minutes",
                "must be between 5 and 1440",
            ));
        }
        if !(1..=720).contains(&self.session_absolute_hours) {
            return Err(ValidationError::new(
                "session_absolute_hours",
                "must be between 1 and 720",
            ));
        }
        if self.staff_ip_allowlist.len() > 100 {
            return Err(ValidationError::new("ip_allowlist", "at most 100 ranges"));
        }
        if self.visitor_blocklist.len() > 1000 {
            return Err(ValidationError::new(
                "visitor_blocklist",
                "at most 1000 ranges",
            ));
        }
        Ok(())
    }
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            retention_days: 30,
            require_second_factor: true,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            staff_ip_allowlist: Vec::new(),
            visitor_blocklist: Vec::new(),
            visitor_challenge: VisitorChallenge::Auto,
        }
    }
}

/// Everything needed to create a tenant; the id and time come from the caller's
/// injected clock and randomness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    /// The new tenant's id.
    pub id: TenantId,
    /// Display name.
    pub name: TenantName,
    /// Brand domains; at least one, unique across all tenants.
    pub domains: Vec<DomainName>,
    /// Origins allowed to embed the widget.
    pub widget_origins: Vec<WidgetOrigin>,
    /// Settings.
    pub settings: TenantSettings,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl NewTenant {
    /// The most domains or origins one tenant may list.
    pub const MAX_LIST: usize = 50;

    /// Builds a tenant, de-duplicating domains and origins and checking the settings.
    pub fn new(
        id: TenantId,
        name: TenantName,
        mut domains: Vec<DomainName>,
        mut widget_origins: Vec<WidgetOrigin>,
        settings: TenantSettings,
        created_at: OffsetDateTime,
    ) -> Result<Self, ValidationError> {
        dedup_keep_order(&mut domains);
        dedup_keep_order(&mut widget_origins);
        if domains.is_empty() {
            return Err(ValidationError::new(
                "domain",
                "at least one brand domain is required",
            ));
        }
        if domains.len() > Self::MAX_LIST {
            return Err(ValidationError::new(
                "domain",
                format!("at most {} domains", Self::MAX_LIST),
            ));
        }
        if widget_origins.len() > Self::MAX_LIST {
            return Err(ValidationError::new(
                "origin",
                format!("at most {} origins", Self::MAX_LIST),
            ));
        }
        settings.validate()?;
        Ok(Self {
            id,
            name,
            domains,
            widget_origins,
            settings,
            created_at,
        })
    }
}

fn dedup_keep_order<T: PartialEq + Clone>(items: &mut Vec<T>) {
    let mut seen: Vec<T> = Vec::with_capacity(items.len());
    items.retain(|item| {
        if seen.contains(item) {
            false
        } else {
            seen.push(item.clone());
            true
        }
    });
}

/// A stored tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Id.
    pub id: TenantId,
    /// Display name.
    pub name: TenantName,
    /// Brand domains, in the order given.
    pub domains: Vec<DomainName>,
    /// Widget origins, in the order given.
    pub widget_origins: Vec<WidgetOrigin>,
    /// Settings.
    pub settings: TenantSettings,
    /// Whether the tenant is disabled.
    pub disabled: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

impl Tenant {
    /// The API view of the tenant.
    pub fn view(&self) -> TenantView {
        TenantView {
            id: self.id,
            name: self.name.to_string(),
            domains: self.domains.iter().map(ToString::to_string).collect(),
            widget_origins: self
                .widget_origins
                .iter()
                .map(ToString::to_string)
                .collect(),
            retention_days: self.settings.retention_days,
            require_second_factor: self.settings.require_second_factor,
            disabled: self.disabled,
            created_at: self.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn tenant_id() -> TenantId {
        "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70".parse().unwrap()
    }

    #[test]
    fn duplicates_collapse_and_a_domain_is_required() {
        let d = DomainName::parse("acme.com").unwrap();
        let t = NewTenant::new(
            tenant_id(),
            TenantName::parse("Acme").unwrap(),
            vec![d.clone(), DomainName::parse("ACME.com").unwrap()],
            vec![],
            TenantSettings::default(),
            datetime!(2026-01-01 0:00 UTC),
        )
        .unwrap();
        assert_eq!(t.domains, vec![d]);
        let err = NewTenant::new(
            tenant_id(),
            TenantName::parse("Acme").unwrap(),
            vec![],
            vec![],
            TenantSettings::default(),
            datetime!(2026-01-01 0:00 UTC),
        )
        .unwrap_err();
        assert_eq!(err.field, "domain");
    }

    #[test]
    fn settings_bounds() {
        let mut s = TenantSettings::default();
        assert!(s.validate().is_ok());
        s.retention_days = 0;
        assert!(s.validate().is_err());
        s.retention_days = 3651;
        assert!(s.validate().is_err());
    }

    #[test]
    fn settings_reject_unknown_keys() {
        let err =
            serde_json::from_str::<TenantSettings>(r#"{"retention_days":5,"retention_dayz":9}"#);
        assert!(err.is_err());
        let ok: TenantSettings = serde_json::from_str(r#"{"retention_days":5}"#).unwrap();
        assert_eq!(ok.retention_days, 5);
        assert!(ok.require_second_factor);
    }
}
