//! Test data for the contract cases, built with the real core constructors from a manual
//! clock and seeded randomness, so every run writes the same ids and times.

use std::time::Duration;

use sealdesk_core::clock::{Clock, ManualClock, from_unix_ms, to_unix_ms};
use sealdesk_core::domain::{
    DisplayName, DomainName, Email, NewStaff, NewTeam, NewTenant, Role, TeamName, TenantName,
    TenantSettings, WidgetOrigin,
};
use sealdesk_core::ids::IdGenerator;
use sealdesk_core::random::SeededRandom;
use sealdesk_proto::TenantId;
use time::OffsetDateTime;
use time::macros::datetime;

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

/// `t` at the stores' millisecond precision.
pub(crate) fn ms(t: OffsetDateTime) -> OffsetDateTime {
    from_unix_ms(to_unix_ms(t))
}
