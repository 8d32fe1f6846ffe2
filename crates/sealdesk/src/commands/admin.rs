//! `sealdesk admin …`: tenants, teams and staff, directly in the configured database. SQLite
//! in WAL mode lets this run while the server is up.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use sealdesk_core::audit::{Actor, AuditAction, AuditEvent};
use sealdesk_core::domain::{Staff, Team, Tenant};
use sealdesk_proto::{StaffId, TeamId, TenantId};
use sealdesk_server::app::AppError;
use sealdesk_server::app::tenancy::{self, CreateStaff, CreateTenant, Deps};
use sealdesk_store::StoreError;
use secrecy::SecretString;

use crate::cli::{AdminArgs, AdminCommand, StaffCommand, TeamCommand, TenantCommand};
use crate::exit::{DATA_ERR, Failure, NO_INPUT, SOFTWARE, UNAVAILABLE};
use crate::output;

pub(crate) async fn run(
    config_file: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    args: AdminArgs,
) -> anyhow::Result<()> {
    let config = super::load_config(config_file, data_dir, Vec::new())?;
    let deps = super::deps(&config).await?;
    let json = args.json;
    match args.command {
        AdminCommand::Tenant(cmd) => tenant(&deps, cmd, json).await,
        AdminCommand::Team(cmd) => team(&deps, cmd, json).await,
        AdminCommand::Staff(cmd) => staff(&deps, cmd, json).await,
        AdminCommand::Audit(cmd) => super::audit::run(&deps, cmd, json).await,
        AdminCommand::Keys(cmd) => super::keys::run(&deps, cmd, json).await,
        AdminCommand::RotateMasterKey => {
            super::audit::rotate_master_key(&config, &deps, json).await
        }
    }
}

fn parse_id<T: std::str::FromStr>(raw: &str) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    raw.parse::<T>()
        .map_err(|e| Failure::new(DATA_ERR, e.to_string()).into())
}

/// Turns a use-case error into a message and exit code a person can act on.
fn fail(e: AppError) -> anyhow::Error {
    let (code, message) = match &e {
        AppError::Invalid(v) => (DATA_ERR, format!("invalid {}: {}", v.field, v.reason)),
        AppError::Conflict(m) => (DATA_ERR, m.clone()),
        AppError::NotFound(what) => (NO_INPUT, format!("{what} not found")),
        AppError::Store(StoreError::NotFound) => (NO_INPUT, "not found".to_owned()),
        AppError::Store(StoreError::Unavailable(_)) => {
            (UNAVAILABLE, "the database is unavailable".to_owned())
        }
        AppError::Store(_) | AppError::Hashing(_) => (SOFTWARE, e.to_string()),
    };
    match code {
        // Input problems: the message says everything; no cause chain to print.
        DATA_ERR | NO_INPUT => Failure::new(code, message).into(),
        _ => anyhow::Error::new(e).context(Failure::new(code, message)),
    }
}

fn not_found(what: &'static str) -> impl FnOnce(StoreError) -> anyhow::Error {
    move |e| match e {
        StoreError::NotFound => Failure::new(NO_INPUT, format!("{what} not found")).into(),
        other => fail(other.into()),
    }
}

/// Whether a disable/enable command disables.
enum Toggle {
    Disable,
    Enable,
}

/// Records an operator action in the audit log.
async fn operator_audit(
    deps: &Deps,
    action: AuditAction,
    tenant: Option<TenantId>,
    target: String,
    details: &[(&str, String)],
) -> anyhow::Result<()> {
    let event = AuditEvent {
        at: deps.clock.now(),
        tenant,
        actor: Actor::Operator,
        action,
        target: Some(target),
        details: details
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        ip: None,
    };
    deps.store
        .append_audit(&event)
        .await
        .context("cannot write the audit log")?;
    Ok(())
}

/// Every value parsed, or the first validation error.
fn parse_all<T>(
    values: &[String],
    parse: impl Fn(&str) -> Result<T, sealdesk_core::ValidationError>,
) -> anyhow::Result<Vec<T>> {
    values
        .iter()
        .map(|v| parse(v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.into()))
}

async fn tenant(deps: &Deps, cmd: TenantCommand, json: bool) -> anyhow::Result<()> {
    let store = &deps.store;
    let cmd_kind = if matches!(cmd, TenantCommand::Disable { .. }) {
        Toggle::Disable
    } else {
        Toggle::Enable
    };
    let view = match cmd {
        TenantCommand::Create {
            name,
            domains,
            origins,
            retention_days,
            no_require_2fa,
        } => {
            let input = CreateTenant {
                name,
                domains,
                origins,
                retention_days,
                require_second_factor: !no_require_2fa,
            };
            let tenant = tenancy::create_tenant(deps, input).await.map_err(fail)?;
            let target = format!("tenant:{}", tenant.id);
            operator_audit(
                deps,
                AuditAction::TenantCreated,
                Some(tenant.id),
                target,
                &[],
            )
            .await?;
            tenant.view()
        }
        TenantCommand::List => {
            let list: Vec<_> = store
                .list_tenants()
                .await
                .map_err(|e| fail(e.into()))?
                .iter()
                .map(Tenant::view)
                .collect();
            return output::emit(json, list.as_slice(), output::tenants);
        }
        TenantCommand::Show { id } => store
            .get_tenant(parse_id(&id)?)
            .await
            .map_err(not_found("tenant"))?
            .view(),
        TenantCommand::Update {
            id,
            retention_days,
            require_2fa,
            session_idle_minutes,
            session_absolute_hours,
            ip_allow,
            clear_ip_allow,
            origins,
        } => {
            let id: TenantId = parse_id(&id)?;
            let mut settings = store
                .get_tenant(id)
                .await
                .map_err(not_found("tenant"))?
                .settings;
            settings.retention_days = retention_days.unwrap_or(settings.retention_days);
            settings.require_second_factor = require_2fa.unwrap_or(settings.require_second_factor);
            settings.session_idle_minutes =
                session_idle_minutes.unwrap_or(settings.session_idle_minutes);
            settings.session_absolute_hours =
                session_absolute_hours.unwrap_or(settings.session_absolute_hours);
            if clear_ip_allow || !ip_allow.is_empty() {
                settings.staff_ip_allowlist =
                    parse_all(&ip_allow, sealdesk_core::domain::Cidr::parse)?;
            }
            settings.validate().map_err(|e| fail(e.into()))?;
            let mut tenant = store
                .update_tenant_settings(id, &settings)
                .await
                .map_err(not_found("tenant"))?;
            if !origins.is_empty() {
                let parsed = parse_all(&origins, sealdesk_core::domain::WidgetOrigin::parse)?;
                tenant = store
                    .set_widget_origins(id, &parsed)
                    .await
                    .map_err(not_found("tenant"))?;
            }
            let target = format!("tenant:{}", tenant.id);
            operator_audit(
                deps,
                AuditAction::SettingsChanged,
                Some(tenant.id),
                target,
                &[],
            )
            .await?;
            tenant.view()
        }
        TenantCommand::Disable { id } | TenantCommand::Enable { id } => {
            let disabled = matches!(cmd_kind, Toggle::Disable);
            let tenant = store
                .set_tenant_disabled(parse_id(&id)?, disabled)
                .await
                .map_err(not_found("tenant"))?;
            let target = format!("tenant:{}", tenant.id);
            let details = [("disabled", disabled.to_string())];
            operator_audit(
                deps,
                AuditAction::SettingsChanged,
                Some(tenant.id),
                target,
                &details,
            )
            .await?;
            tenant.view()
        }
    };
    output::emit(json, &view, output::tenant)
}

async fn team(deps: &Deps, cmd: TeamCommand, json: bool) -> anyhow::Result<()> {
    let store = &deps.store;
    let view = match cmd {
        TeamCommand::Create { tenant, name } => {
            tenancy::create_team(deps, parse_id::<TenantId>(&tenant)?, &name)
                .await
                .map_err(fail)?
                .view()
        }
        TeamCommand::List { tenant } => {
            let tenant: TenantId = parse_id(&tenant)?;
            store
                .get_tenant(tenant)
                .await
                .map_err(not_found("tenant"))?;
            let list: Vec<_> = store
                .list_teams(tenant)
                .await
                .map_err(|e| fail(e.into()))?
                .iter()
                .map(Team::view)
                .collect();
            return output::emit(json, list.as_slice(), output::teams);
        }
        TeamCommand::Show { tenant, id } => store
            .get_team(parse_id(&tenant)?, parse_id::<TeamId>(&id)?)
            .await
            .map_err(not_found("team"))?
            .view(),
        TeamCommand::Disable { tenant, id } => store
            .set_team_disabled(parse_id(&tenant)?, parse_id(&id)?, true)
            .await
            .map_err(not_found("team"))?
            .view(),
        TeamCommand::Enable { tenant, id } => store
            .set_team_disabled(parse_id(&tenant)?, parse_id(&id)?, false)
            .await
            .map_err(not_found("team"))?
            .view(),
        TeamCommand::AddMember {
            tenant,
            team,
            staff,
        } => {
            let (tenant, team): (TenantId, TeamId) = (parse_id(&tenant)?, parse_id(&team)?);
            store
                .add_team_member(tenant, team, parse_id::<StaffId>(&staff)?)
                .await
                .map_err(not_found("team or staff member"))?;
            let details = [("member", staff)];
            operator_audit(
                deps,
                AuditAction::TeamChanged,
                Some(tenant),
                format!("team:{team}"),
                &details,
            )
            .await?;
            store
                .get_team(tenant, team)
                .await
                .map_err(not_found("team"))?
                .view()
        }
    };
    output::emit(json, &view, output::team)
}

async fn staff(deps: &Deps, cmd: StaffCommand, json: bool) -> anyhow::Result<()> {
    let store = &deps.store;
    let view = match cmd {
        StaffCommand::Create {
            tenant,
            email,
            role,
            name,
            password_stdin,
        } => {
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let input = CreateStaff {
                tenant: parse_id(&tenant)?,
                email,
                role,
                display_name: name,
                password,
            };
            let staff = tenancy::create_staff(deps, input).await.map_err(fail)?;
            let target = format!("staff:{}", staff.id);
            let details = [("role", staff.role.to_string())];
            operator_audit(
                deps,
                AuditAction::StaffCreated,
                Some(staff.tenant_id),
                target,
                &details,
            )
            .await?;
            staff.view()
        }
        StaffCommand::List { tenant } => {
            let tenant: TenantId = parse_id(&tenant)?;
            store
                .get_tenant(tenant)
                .await
                .map_err(not_found("tenant"))?;
            let list: Vec<_> = store
                .list_staff(tenant)
                .await
                .map_err(|e| fail(e.into()))?
                .iter()
                .map(Staff::view)
                .collect();
            return output::emit(json, list.as_slice(), output::staff_list);
        }
        StaffCommand::Show { tenant, id } => store
            .get_staff(parse_id(&tenant)?, parse_id::<StaffId>(&id)?)
            .await
            .map_err(not_found("staff account"))?
            .view(),
        StaffCommand::Disable { tenant, id } => {
            let staff = store
                .set_staff_disabled(parse_id(&tenant)?, parse_id(&id)?, true)
                .await
                .map_err(not_found("staff account"))?;
            // A disabled account's sessions end now, not at their expiry.
            let revoked = store
                .revoke_all_sessions(staff.tenant_id, staff.id, deps.clock.now())
                .await?;
            let target = format!("staff:{}", staff.id);
            let details = [
                ("disabled", "true".to_owned()),
                ("sessions_revoked", revoked.to_string()),
            ];
            operator_audit(
                deps,
                AuditAction::StaffStatusChanged,
                Some(staff.tenant_id),
                target,
                &details,
            )
            .await?;
            staff.view()
        }
        StaffCommand::Enable { tenant, id } => store
            .set_staff_disabled(parse_id(&tenant)?, parse_id(&id)?, false)
            .await
            .map_err(not_found("staff account"))?
            .view(),
    };
    output::emit(json, &view, output::staff)
}

/// Reads one line from stdin (at most 4 KiB; the length policy is checked later), without
/// the trailing newline.
fn read_password() -> anyhow::Result<SecretString> {
    let mut buf = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut buf)
        .context("cannot read the password from standard input")?;
    let line = buf.lines().next().unwrap_or_default().to_owned();
    if line.is_empty() {
        return Err(Failure::new(DATA_ERR, "no password on standard input").into());
    }
    Ok(SecretString::from(line))
}
