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
    /// Log in to a server as a staff member; the session is kept in the profile directory.
    Login(LoginArgs),
    /// End the session kept in the profile directory.
    Logout {
        /// Profile directory.
        #[arg(long, value_name = "DIR")]
        profile: PathBuf,
    },
    /// Your own account: second factors, sessions.
    Account(AccountArgs),
    /// Prove a running server carries conversations: provisions a throwaway tenant with the
    /// admin access of the data directory, exchanges messages through the server, checks
    /// delivery, order and resume, and erases the tenant (unless --keep).
    Selftest(SelftestArgs),
}

/// `sealdesk selftest`.
#[derive(Debug, Args)]
pub(crate) struct SelftestArgs {
    /// The running server's URL, such as `http://127.0.0.1:8080`.
    #[arg(long)]
    pub(crate) server: String,
    /// A message to send among the test messages.
    #[arg(long)]
    pub(crate) message: Option<String>,
    /// Keep the throwaway tenant (for inspection) instead of erasing it.
    #[arg(long)]
    pub(crate) keep: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `sealdesk login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// Server URL, such as `https://support.example.com`.
    #[arg(long)]
    pub(crate) server: String,
    /// Tenant id.
    #[arg(long)]
    pub(crate) tenant: String,
    /// Login e-mail.
    #[arg(long)]
    pub(crate) email: String,
    /// Read the password from standard input (required: passwords never go on the command line).
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// A current TOTP code.
    #[arg(long, conflicts_with = "recovery_code")]
    pub(crate) totp: Option<String>,
    /// A recovery code, instead of a TOTP code.
    #[arg(long)]
    pub(crate) recovery_code: Option<String>,
    /// Profile directory to keep the session in (created with mode 0700).
    #[arg(long, value_name = "DIR")]
    pub(crate) profile: PathBuf,
}

/// `sealdesk account`.
#[derive(Debug, Args)]
pub(crate) struct AccountArgs {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: AccountCommand,
}

/// Account commands.
#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Time-based one-time passwords (authenticator apps).
    #[command(subcommand)]
    Totp(TotpCommand),
    /// Your active sessions.
    Sessions {
        /// Profile directory.
        #[arg(long, value_name = "DIR")]
        profile: PathBuf,
    },
    /// Who you are logged in as.
    Whoami {
        /// Profile directory.
        #[arg(long, value_name = "DIR")]
        profile: PathBuf,
    },
}

/// `sealdesk account totp …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TotpCommand {
    /// Start enrolment: shows a QR code and the secret.
    Enroll {
        /// Profile directory.
        #[arg(long, value_name = "DIR")]
        profile: PathBuf,
    },
    /// Finish enrolment with a first code; prints ten recovery codes.
    Confirm {
        /// Profile directory.
        #[arg(long, value_name = "DIR")]
        profile: PathBuf,
        /// The code shown by the authenticator app.
        #[arg(long)]
        code: String,
    },
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
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Add a new master key version and re-encrypt every server-held secret with it.
    RotateMasterKey,
}

/// `sealdesk admin audit …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the hash chain; exits non-zero if any entry was edited, inserted or deleted.
    Verify,
    /// Show entries (of one tenant, or all).
    List {
        /// Only this tenant's entries.
        #[arg(long)]
        tenant: Option<String>,
        /// Entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
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
    /// Change a tenant's security and privacy settings (only the options given).
    Update {
        /// Tenant id.
        id: String,
        /// Days after which closed conversations are deleted.
        #[arg(long)]
        retention_days: Option<u32>,
        /// Require a second factor for every staff member: true or false.
        #[arg(long, value_name = "BOOL")]
        require_2fa: Option<bool>,
        /// Minutes of inactivity after which a browser session lapses.
        #[arg(long)]
        session_idle_minutes: Option<u32>,
        /// Hours after login at which any session ends.
        #[arg(long)]
        session_absolute_hours: Option<u32>,
        /// Allow staff logins only from this CIDR range (repeatable; replaces the list).
        #[arg(long = "ip-allow", value_name = "CIDR")]
        ip_allow: Vec<String>,
        /// Remove the staff IP allow-list.
        #[arg(long, conflicts_with = "ip_allow")]
        clear_ip_allow: bool,
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
