//! Command-line definitions (clap derive). Handlers live in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Sealdesk: self-hosted customer-support chat, end-to-end encrypted.
#[derive(Debug, Parser)]
#[command(name = "sealdesk", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// Configuration file (default: `$SEALDESK_CONFIG`, else `./sealdesk.toml` if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Data directory (database, keys). Overrides `data_dir`.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Validate the configuration and print the effective settings (secrets redacted).
    CheckConfig(CheckConfigArgs),
    /// Administer tenants, teams and staff directly in the configured database
    /// (works while the server runs).
    Admin(AdminArgs),
}

/// `sealdesk serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Listen address, such as 127.0.0.1:8080. Overrides `server.listen`.
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// Metrics listen address. Overrides `metrics.listen`.
    #[arg(long, value_name = "ADDR")]
    pub(crate) metrics_listen: Option<String>,
    /// Disable the metrics listener.
    #[arg(long)]
    pub(crate) no_metrics: bool,
    /// Log format: pretty or json. Overrides `log.format`.
    #[arg(long, value_name = "FORMAT")]
    pub(crate) log_format: Option<String>,
    /// Create a demo tenant ("Demo Shop", domain demo.localhost, team "Support") if missing.
    #[arg(long)]
    pub(crate) demo: bool,
}

/// `sealdesk check-config`.
#[derive(Debug, Args)]
pub(crate) struct CheckConfigArgs {
    /// Print the generated example configuration instead.
    #[arg(long)]
    pub(crate) print_example: bool,
    /// Print the effective settings as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `sealdesk admin`.
#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: AdminCommand,
}

/// Admin resources.
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Tenants: the businesses this installation serves.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Teams (inboxes) of a tenant.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Staff accounts of a tenant.
    #[command(subcommand)]
    Staff(StaffCommand),
}

/// `sealdesk admin tenant …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Create a tenant.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Brand domain (repeat for several); unique across tenants.
        #[arg(long = "domain", required = true)]
        domains: Vec<String>,
        /// Origin allowed to embed the widget, such as `https://shop.example.com` (repeatable).
        #[arg(long = "origin")]
        origins: Vec<String>,
        /// Days after which closed conversations are deleted.
        #[arg(long, default_value_t = 30)]
        retention_days: u32,
        /// Do not require a second factor for staff (not recommended).
        #[arg(long)]
        no_require_2fa: bool,
    },
    /// List tenants.
    List,
    /// Show one tenant.
    Show {
        /// Tenant id.
        id: String,
    },
    /// Disable a tenant: no logins, no visitors.
    Disable {
        /// Tenant id.
        id: String,
    },
    /// Re-enable a disabled tenant.
    Enable {
        /// Tenant id.
        id: String,
    },
}

/// `sealdesk admin team …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TeamCommand {
    /// Create a team.
    Create {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Team name, unique within the tenant.
        #[arg(long)]
        name: String,
    },
    /// List a tenant's teams.
    List {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
    },
    /// Show one team.
    Show {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Team id.
        id: String,
    },
    /// Disable a team: it receives no new conversations.
    Disable {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Team id.
        id: String,
    },
    /// Re-enable a team.
    Enable {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Team id.
        id: String,
    },
}

/// `sealdesk admin staff …`.
#[derive(Debug, Subcommand)]
pub(crate) enum StaffCommand {
    /// Create a staff account.
    Create {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// owner, admin, supervisor or agent.
        #[arg(long)]
        role: String,
        /// Display name (default: the part of the e-mail before @).
        #[arg(long)]
        name: Option<String>,
        /// Read the initial password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List a tenant's staff.
    List {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
    },
    /// Show one staff account.
    Show {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Staff id.
        id: String,
    },
    /// Disable an account: it can no longer log in.
    Disable {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Staff id.
        id: String,
    },
    /// Re-enable an account.
    Enable {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Staff id.
        id: String,
    },
}
