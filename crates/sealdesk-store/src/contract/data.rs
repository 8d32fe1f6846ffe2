//! Test data for the contract cases, built with the real core constructors from a manual
//! clock and seeded randomness, so every run writes the same ids and times.

use std::collections::BTreeMap;
use std::time::Duration;

use sealdesk_core::audit::{Actor, AuditAction, AuditEvent};
use sealdesk_core::auth::{Digest, Invitation, NewSession, SessionKind};
use sealdesk_core::clock::{Clock, ManualClock, from_unix_ms, to_unix_ms};
use sealdesk_core::domain::{
    DisplayName, DomainName, Email, NewStaff, NewTeam, NewTenant, Role, TeamName, TenantName,
    TenantSettings, WidgetOrigin,
};
use sealdesk_core::ids::IdGenerator;
use sealdesk_core::random::{Random, SeededRandom};
use sealdesk_proto::{StaffId, TenantId};
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

/// Where the clock starts. The microseconds are deliberate: stores keep milliseconds, and
/// the cases check that what is read back is the millisecond-truncated time.
const START: OffsetDateTime = datetime!(2026-03-14 15:09:26.535_897 UTC);

/// Builds ids, times and new entities. Each built entity is one second younger than the
/// previous one, so "oldest first" has a single right answer.
#[derive(Debug)]
pub struct TestData {
    clock: ManualClock,
    random: SeededRandom,
}

impl Default for TestData {
    fn default() -> Self {
        Self::new()
    }
}

impl TestData {
    /// A generator at the fixed start time with a fixed seed.
    pub fn new() -> Self {
        Self {
            clock: ManualClock::new(START),
            random: SeededRandom::new(0x5EA1_DE5C),
        }
    }

    /// The time the next entity gets, then moves the clock on.
    fn tick(&self) -> OffsetDateTime {
        let now = self.clock.now();
        self.clock.advance(Duration::from_secs(1));
        now
    }

    fn ids(&self) -> IdGenerator<'_> {
        IdGenerator::new(&self.clock, &self.random)
    }

    /// A tenant with default settings.
    pub fn tenant(&self, name: &str, domains: &[&str], origins: &[&str]) -> NewTenant {
        self.tenant_with(name, domains, origins, TenantSettings::default())
    }

    /// A tenant with the given settings.
    pub fn tenant_with(
        &self,
        name: &str,
        domains: &[&str],
        origins: &[&str],
        settings: TenantSettings,
    ) -> NewTenant {
        let id = self.ids().tenant();
        NewTenant::new(
            id,
            TenantName::parse(name).unwrap(),
            domains
                .iter()
                .map(|d| DomainName::parse(d).unwrap())
                .collect(),
            origins
                .iter()
                .map(|o| WidgetOrigin::parse(o).unwrap())
                .collect(),
            settings,
            self.tick(),
        )
        .unwrap()
    }

    /// A team of `tenant`.
    pub fn team(&self, tenant: TenantId, name: &str) -> NewTeam {
        NewTeam {
            id: self.ids().team(),
            tenant_id: tenant,
            name: TeamName::parse(name).unwrap(),
            created_at: self.tick(),
        }
    }

    /// A staff account of `tenant`.
    pub fn staff(
        &self,
        tenant: TenantId,
        email: &str,
        role: Role,
        password_hash: Option<&str>,
    ) -> NewStaff {
        NewStaff {
            id: self.ids().staff(),
            tenant_id: tenant,
            email: Email::parse(email).unwrap(),
            display_name: DisplayName::parse(&format!("Person {email}")).unwrap(),
            role,
            password_hash: password_hash.map(str::to_owned),
            created_at: self.tick(),
        }
    }
}

impl TestData {
    /// The current test time, without moving the clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// A new time-ordered id (sessions, invitations).
    pub fn uuid(&self) -> Uuid {
        self.ids().staff().as_uuid()
    }

    /// 32 seeded random bytes, standing in for the digest of a token or code.
    pub fn digest(&self) -> Digest {
        let mut digest = [0; 32];
        self.random.fill(&mut digest);
        digest
    }

    /// A session of `kind` created now with a fresh token hash: browser and CLI sessions
    /// get a 30-minute idle limit and a 12-hour absolute one; API tokens a name, scopes, no
    /// idle limit and 90 days.
    pub fn session(&self, tenant: TenantId, staff: StaffId, kind: SessionKind) -> NewSession {
        let created_at = self.tick();
        let api = kind == SessionKind::ApiToken;
        NewSession {
            id: self.uuid(),
            tenant,
            staff,
            token_hash: self.digest(),
            kind,
            name: api.then(|| "CI exporter".to_owned()),
            scopes: if api {
                vec!["view_queue".into(), "export_data".into()]
            } else {
                vec![]
            },
            created_at,
            idle_expires_at: (!api).then(|| created_at + time::Duration::minutes(30)),
            absolute_expires_at: created_at
                + if api {
                    time::Duration::days(90)
                } else {
                    time::Duration::hours(12)
                },
            ip: Some("203.0.113.0".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into()),
        }
    }

    /// An unused invitation of `staff`, issued now by `created_by`, valid for `valid_for`.
    pub fn invitation(
        &self,
        tenant: TenantId,
        staff: StaffId,
        created_by: Option<StaffId>,
        valid_for: time::Duration,
    ) -> Invitation {
        let created_at = self.tick();
        Invitation {
            id: self.uuid(),
            tenant,
            staff,
            token_hash: self.digest(),
            created_by,
            created_at,
            expires_at: created_at + valid_for,
            used_at: None,
        }
    }

    /// An audit event happening now, with `n` in its target and details so that events
    /// differ.
    pub fn audit_event(&self, tenant: Option<TenantId>, action: AuditAction, n: u32) -> AuditEvent {
        AuditEvent {
            at: self.tick(),
            tenant,
            actor: if n.is_multiple_of(2) {
                Actor::Staff(self.ids().staff())
            } else {
                Actor::Operator
            },
            action,
            target: (!n.is_multiple_of(3)).then(|| format!("staff:{}", self.uuid())),
            details: BTreeMap::from([
                ("n".to_owned(), n.to_string()),
                (
                    "reason".to_owned(),
                    "bad_password \"quoted\" ünïcode".to_owned(),
                ),
                ("a_first".to_owned(), String::new()),
            ]),
            ip: (n % 2 == 1).then(|| "198.51.100.0".to_owned()),
        }
    }
}

/// `t` at the stores' millisecond precision.
pub(crate) fn ms(t: OffsetDateTime) -> OffsetDateTime {
    from_unix_ms(to_unix_ms(t))
}
