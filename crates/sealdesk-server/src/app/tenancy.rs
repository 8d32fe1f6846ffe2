//! Creating tenants, teams and staff accounts: parse every field (reporting the first bad
//! one by name), mint ids from the injected clock and randomness, store, and turn uniqueness
//! conflicts into messages that say which value is taken.

use std::sync::Arc;

use sealdesk_core::clock::Clock;
use sealdesk_core::domain::{
    DisplayName, DomainName, Email, NewStaff, NewTeam, NewTenant, Role, Staff, Team, TeamName,
    Tenant, TenantName, TenantSettings, WidgetOrigin,
};
use sealdesk_core::ids::IdGenerator;
use sealdesk_core::random::Random;
use sealdesk_crypto::password::{self, HashPolicy};
use sealdesk_proto::TenantId;
use sealdesk_store::{Constraint, DynStore, StoreError};
use secrecy::SecretString;

use super::AppError;

/// Minimum password length when the password is the only factor (NIST SP 800-63B rev. 4).
pub const MIN_PASSWORD_SINGLE_FACTOR: usize = 15;
/// Minimum password length when the tenant enforces a second factor.
pub const MIN_PASSWORD_WITH_SECOND_FACTOR: usize = 8;

/// The injected dependencies of these use cases.
#[derive(Debug, Clone)]
pub struct Deps {
    /// Storage.
    pub store: DynStore,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
    /// Password hashing cost.
    pub password_policy: HashPolicy,
}

/// Input for [`create_tenant`], as typed by a person.
#[derive(Debug, Clone)]
pub struct CreateTenant {
    /// Display name.
    pub name: String,
    /// Brand domains.
    pub domains: Vec<String>,
    /// Widget origins.
    pub origins: Vec<String>,
    /// Retention in days.
    pub retention_days: u32,
    /// Require a second factor for staff.
    pub require_second_factor: bool,
}

/// Creates a tenant.
pub async fn create_tenant(deps: &Deps, input: CreateTenant) -> Result<Tenant, AppError> {
    let name = TenantName::parse(&input.name)?;
    let domains = input
        .domains
        .iter()
        .map(|d| DomainName::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    let origins = input
        .origins
        .iter()
        .map(|o| WidgetOrigin::parse(o))
        .collect::<Result<Vec<_>, _>>()?;
    let settings = TenantSettings {
        retention_days: input.retention_days,
        require_second_factor: input.require_second_factor,
        ..TenantSettings::default()
    };
    let ids = IdGenerator::new(deps.clock.as_ref(), deps.random.as_ref());
    let new = NewTenant::new(
        ids.tenant(),
        name,
        domains,
        origins,
        settings,
        deps.clock.now(),
    )?;
    // Name the taken domain when we can; the unique constraint still decides under a race.
    for domain in &new.domains {
        if deps
            .store
            .find_tenant_by_domain(domain.as_str())
            .await?
            .is_some()
        {
            return Err(AppError::Conflict(format!(
                "domain {domain} already belongs to a tenant"
            )));
        }
    }
    deps.store.create_tenant(&new).await.map_err(|e| match e {
        StoreError::Conflict {
            constraint: Constraint::TenantDomain,
        } => AppError::Conflict("one of these domains already belongs to a tenant".into()),
        other => other.into(),
    })
}

/// Creates a team in a tenant.
pub async fn create_team(deps: &Deps, tenant: TenantId, name: &str) -> Result<Team, AppError> {
    let name = TeamName::parse(name)?;
    let ids = IdGenerator::new(deps.clock.as_ref(), deps.random.as_ref());
    let new = NewTeam {
        id: ids.team(),
        tenant_id: tenant,
        name,
        created_at: deps.clock.now(),
    };
    deps.store.create_team(&new).await.map_err(|e| match e {
        StoreError::NotFound => AppError::NotFound("tenant"),
        StoreError::Conflict {
            constraint: Constraint::TeamName,
        } => AppError::Conflict(format!(
            "the tenant already has a team named {:?}",
            new.name.as_str()
        )),
        other => other.into(),
    })
}

/// Input for [`create_staff`].
#[derive(Debug)]
pub struct CreateStaff {
    /// Tenant.
    pub tenant: TenantId,
    /// Login e-mail.
    pub email: String,
    /// Role name.
    pub role: String,
    /// Display name; defaults to the e-mail's local part.
    pub display_name: Option<String>,
    /// Initial password, if any.
    pub password: Option<SecretString>,
}

/// Creates a staff account, hashing the initial password off the async executor.
pub async fn create_staff(deps: &Deps, input: CreateStaff) -> Result<Staff, AppError> {
    let email = Email::parse(&input.email)?;
    let role = Role::parse(&input.role)?;
    let display_name = match &input.display_name {
        Some(n) => DisplayName::parse(n)?,
        None => DisplayName::parse(email.as_str().split('@').next().unwrap_or("staff"))?,
    };
    let tenant = deps
        .store
        .get_tenant(input.tenant)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::NotFound("tenant"),
            other => other.into(),
        })?;
    let password_hash = match input.password {
        Some(pw) => {
            let min = if tenant.settings.require_second_factor {
                MIN_PASSWORD_WITH_SECOND_FACTOR
            } else {
                MIN_PASSWORD_SINGLE_FACTOR
            };
            let local = email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned();
            let mut context = vec![local, tenant.name.to_string(), "sealdesk".to_owned()];
            context.extend(
                tenant
                    .domains
                    .iter()
                    .flat_map(|d| d.as_str().split('.').map(str::to_owned)),
            );
            let words: Vec<&str> = context.iter().map(String::as_str).collect();
            password::check_new_password(&pw, min, &words).map_err(|r| {
                AppError::Invalid(sealdesk_core::ValidationError::new("password", r.message))
            })?;
            let (policy, random) = (deps.password_policy, deps.random.clone());
            let phc =
                tokio::task::spawn_blocking(move || password::hash(policy, random.as_ref(), &pw))
                    .await
                    .map_err(|e| AppError::Hashing(e.into()))??;
            Some(phc)
        }
        None => None,
    };
    let ids = IdGenerator::new(deps.clock.as_ref(), deps.random.as_ref());
    let new = NewStaff {
        id: ids.staff(),
        tenant_id: tenant.id,
        email,
        display_name,
        role,
        password_hash,
        created_at: deps.clock.now(),
    };
    deps.store.create_staff(&new).await.map_err(|e| match e {
        StoreError::NotFound => AppError::NotFound("tenant"),
        StoreError::Conflict {
            constraint: Constraint::StaffEmail,
        } => AppError::Conflict(format!(
            "the tenant already has a staff account for {}",
            new.email
        )),
        other => other.into(),
    })
}
