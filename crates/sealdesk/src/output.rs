//! Output for people (aligned text) and scripts (`--json`). Everything goes to stdout
//! through here; errors go to stderr through `exit`.

use std::io::Write;

use sealdesk_proto::tenancy::{StaffView, TeamView, TenantView};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Silences (or restores) command output, while a command runs other commands' steps
/// itself (the demo's key ceremony at start-up).
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

/// Writes a line to stdout; a closed pipe (`| head`) is not an error worth reporting.
pub(crate) fn line(text: &str) {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// Prints `value` as JSON when `json` is set, otherwise with the `text` printer.
pub(crate) fn emit<T: Serialize + ?Sized>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T),
) -> anyhow::Result<()> {
    if json {
        self::json(value)
    } else {
        text(value);
        Ok(())
    }
}

/// Prints `value` as pretty JSON.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    line(&serde_json::to_string_pretty(value)?);
    Ok(())
}

fn date(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn state(disabled: bool) -> &'static str {
    if disabled { "disabled" } else { "active" }
}

/// A tenant, in detail.
pub(crate) fn tenant(t: &TenantView) {
    line(&format!("tenant     {}", t.id));
    line(&format!("name       {}", t.name));
    line(&format!("domains    {}", t.domains.join(", ")));
    line(&format!(
        "origins    {}",
        if t.widget_origins.is_empty() {
            "-".into()
        } else {
            t.widget_origins.join(", ")
        }
    ));
    line(&format!("retention  {} days", t.retention_days));
    line(&format!(
        "2fa        {}",
        if t.require_second_factor {
            "required"
        } else {
            "optional"
        }
    ));
    line(&format!("state      {}", state(t.disabled)));
    line(&format!("created    {}", date(t.created_at)));
}

/// Tenants, one per line.
pub(crate) fn tenants(list: &[TenantView]) {
    if list.is_empty() {
        line("no tenants");
        return;
    }
    line(&format!(
        "{:<36}  {:<8}  {:<24}  DOMAINS",
        "ID", "STATE", "NAME"
    ));
    for t in list {
        line(&format!(
            "{:<36}  {:<8}  {:<24}  {}",
            t.id,
            state(t.disabled),
            t.name,
            t.domains.join(",")
        ));
    }
}

/// A team, in detail.
pub(crate) fn team(t: &TeamView) {
    line(&format!("team       {}", t.id));
    line(&format!("tenant     {}", t.tenant_id));
    line(&format!("name       {}", t.name));
    line(&format!("state      {}", state(t.disabled)));
    line(&format!("created    {}", date(t.created_at)));
}

/// Teams, one per line.
pub(crate) fn teams(list: &[TeamView]) {
    if list.is_empty() {
        line("no teams");
        return;
    }
    line(&format!("{:<36}  {:<8}  NAME", "ID", "STATE"));
    for t in list {
        line(&format!(
            "{:<36}  {:<8}  {}",
            t.id,
            state(t.disabled),
            t.name
        ));
    }
}

/// A staff account, in detail.
pub(crate) fn staff(s: &StaffView) {
    line(&format!("staff      {}", s.id));
    line(&format!("tenant     {}", s.tenant_id));
    line(&format!("email      {}", s.email));
    line(&format!("name       {}", s.display_name));
    line(&format!("role       {}", s.role));
    line(&format!(
        "password   {}",
        if s.has_password { "set" } else { "not set" }
    ));
    line(&format!("state      {}", state(s.disabled)));
    line(&format!("created    {}", date(s.created_at)));
}

/// Staff, one per line.
pub(crate) fn staff_list(list: &[StaffView]) {
    if list.is_empty() {
        line("no staff");
        return;
    }
    line(&format!(
        "{:<36}  {:<8}  {:<10}  EMAIL",
        "ID", "STATE", "ROLE"
    ));
    for s in list {
        line(&format!(
            "{:<36}  {:<8}  {:<10}  {}",
            s.id,
            state(s.disabled),
            s.role,
            s.email
        ));
    }
}
