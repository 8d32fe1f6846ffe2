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
    /// Your own account: second factors, sessions, password, recovery codes.
    Account(AccountArgs),
    /// Invitations to join a tenant as staff.
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Prove a running server carries conversations: provisions a throwaway tenant with the
    /// admin access of the data directory, exchanges messages through the server, checks
    /// delivery, order and resume, and erases the tenant (unless --keep).
    Selftest(SelftestArgs),
    /// The terminal agent: enrol this terminal as a device of yours, check its certificate
    /// and team keys.
    #[command(subcommand)]
    Agent(crate::commands::agent::AgentCommand),
    /// The demo of `sealdesk serve --demo`: confirm the demo agent's console device.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Tenant archives: export what the server holds (ciphertext), decrypt it with the
    /// tenant's archive key into JSON Lines and HTML transcripts.
    #[command(subcommand)]
    Archive(crate::commands::archive::ArchiveCommand),
    /// Benchmarks of shared/design/PERFORMANCE.md against a `sealdesk` binary: S1–S3 (chat
    /// load generator and null relay), S6 (store), S7 (login); see docs/performance.md.
    Bench(sealdesk_bench::Cli),
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
    /// Your active sessions: list them, or revoke one or all the others.
    Sessions(SessionsArgs),
    /// Prove your identity again (for sensitive changes in the next five minutes); the
    /// session is replaced by a new one, saved in the profile.
    Reauth(ReauthArgs),
    /// Change your password: standard input gives the current password on the first line
    /// and the new one on the second. Every other session is signed out.
    Password {
        /// Profile directory.
        #[arg(long, value_name = "DIR")]
        profile: PathBuf,
        /// Read both passwords from standard input (required: passwords never go on the
        /// command line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Single-use recovery codes for a lost second factor.
    #[command(subcommand)]
    RecoveryCodes(RecoveryCodesCommand),
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

/// `sealdesk account sessions`: lists without a subcommand.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct SessionsArgs {
    /// Profile directory.
    #[arg(long, value_name = "DIR", required = true)]
    pub(crate) profile: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Option<SessionsCommand>,
}

/// `sealdesk account sessions …`.
#[derive(Debug, Subcommand)]
pub(crate) enum SessionsCommand {
    /// Revoke one session or API token by id, or every one except this session.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "others"])))]
    Revoke {
        /// Profile directory.
        #[arg(long, value_name = "DIR")]
        profile: PathBuf,
        /// The session id (from `sealdesk account sessions`).
        id: Option<String>,
        /// Revoke every other session and API token of yours ("log out everywhere else").
        #[arg(long)]
        others: bool,
    },
}

/// Proof of identity for `sealdesk account reauth` and commands that need a recent one.
#[derive(Debug, Args)]
pub(crate) struct ReauthArgs {
    /// Profile directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) profile: PathBuf,
    /// Read the password from standard input (required: passwords never go on the command
    /// line).
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// A current TOTP code, when the account has TOTP.
    #[arg(long, conflicts_with = "recovery_code")]
    pub(crate) totp: Option<String>,
    /// A recovery code, instead of a TOTP code.
    #[arg(long)]
    pub(crate) recovery_code: Option<String>,
}

/// `sealdesk account recovery-codes …`.
#[derive(Debug, Subcommand)]
pub(crate) enum RecoveryCodesCommand {
    /// Replace your recovery codes with ten new ones (the old ones stop working). Needs a
    /// proof of identity from the last five minutes: pass --password-stdin (and --totp) to
    /// re-authenticate first, or run `sealdesk account reauth` before.
    Regenerate {
        /// Profile directory.
        #[arg(long, value_name = "DIR")]
        profile: PathBuf,
        /// Re-authenticate first with the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// With --password-stdin: a current TOTP code.
        #[arg(long, requires = "password_stdin", conflicts_with = "recovery_code")]
        totp: Option<String>,
        /// With --password-stdin: a recovery code instead of a TOTP code.
        #[arg(long, requires = "password_stdin")]
        recovery_code: Option<String>,
    },
}

/// `sealdesk invite …`.
#[derive(Debug, Subcommand)]
pub(crate) enum InviteCommand {
    /// Accept an invitation: set your password and log in. Standard input gives the
    /// invitation token on the first line and the new password on the second.
    Accept(InviteAcceptArgs),
}

/// `sealdesk invite accept`.
#[derive(Debug, Args)]
pub(crate) struct InviteAcceptArgs {
    /// Server URL, such as `https://support.example.com`.
    #[arg(long)]
    pub(crate) server: String,
    /// Read the invitation token (first line) from standard input (required: tokens never
    /// go on the command line).
    #[arg(long)]
    pub(crate) token_stdin: bool,
    /// Read the new password (second line) from standard input (required).
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// Profile directory to keep the session in (created with mode 0700).
    #[arg(long, value_name = "DIR")]
    pub(crate) profile: PathBuf,
    /// Print the session as JSON.
    #[arg(long)]
    pub(crate) json: bool,
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
    /// Directory of the built widget and console (web/dist). Overrides `web_dir`.
    #[arg(long, value_name = "DIR")]
    pub(crate) web_dir: Option<String>,
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
    /// Tenant keys for end-to-end encryption: the root key (kept by the owner, never on the
    /// server), issuing keys and device certificates.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Add a new master key version and re-encrypt every server-held secret with it.
    RotateMasterKey,
}

/// `sealdesk admin keys issue`.
#[derive(Debug, Args)]
pub(crate) struct KeysIssueArgs {
    /// Tenant id.
    #[arg(long)]
    pub(crate) tenant: String,
    /// The root key file.
    #[arg(long)]
    pub(crate) root: PathBuf,
    /// Where to write the issuing key file (must not exist).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Name shown for the issuer.
    #[arg(long, default_value = "Sealdesk CLI")]
    pub(crate) label: String,
    /// Validity in days.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=1825))]
    pub(crate) days: u32,
    /// Read the passphrases from standard input (required).
    #[arg(long)]
    pub(crate) passphrase_stdin: bool,
}

/// `sealdesk admin keys certify`.
#[derive(Debug, Args)]
pub(crate) struct KeysCertifyArgs {
    /// Tenant id.
    #[arg(long)]
    pub(crate) tenant: String,
    /// The issuing key file.
    #[arg(long)]
    pub(crate) issuing: PathBuf,
    /// agent, supervisor or history.
    #[arg(long)]
    pub(crate) role: String,
    /// The name the widget shows (agent) or the archive's name (history).
    #[arg(long)]
    pub(crate) label: String,
    /// The device's Ed25519 public key, base64 (32 bytes).
    #[arg(long)]
    pub(crate) subject: String,
    /// A History Member's team id.
    #[arg(long)]
    pub(crate) team: Option<String>,
    /// Validity in days (at most the issuing key's remaining validity).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub(crate) days: u32,
    /// Read the issuing key's passphrase from standard input (required).
    #[arg(long)]
    pub(crate) passphrase_stdin: bool,
}

/// `sealdesk admin keys …`. Key files are sealed under a passphrase read from standard input.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate the tenant root key: the private key goes to --out (sealed under the
    /// passphrase; keep it offline), the public key is registered with the server. Prints
    /// its fingerprint and the widget snippet attribute.
    Init {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Where to write the root key file (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Create an issuing key certified by the root key (for an admin console or this CLI).
    /// Standard input: the root key's passphrase, then the issuing key file's.
    Issue(KeysIssueArgs),
    /// Certify a device's signature key (agent, supervisor or history); prints the
    /// credential (certificate chain, base64) to install on the device.
    Certify(KeysCertifyArgs),
    /// Certify a device that asked to be enrolled, after checking the fingerprint it shows,
    /// and wrap team keys to it. Standard input: the issuing key's passphrase, then each
    /// team key file's.
    Enrol(crate::commands::keys::KeysEnrolArgs),
    /// Add History Members to a team's pool: key packages certified as the team's archive,
    /// their private halves sealed to the team key (and the archive key). Standard input:
    /// the issuing key's passphrase, the team key's, then the archive key's.
    HistoryPool(crate::commands::keys::KeysHistoryArgs),
    /// Wrap a team key (after a rotation: its new version) to every certified device of the
    /// team's current members, and nobody else. Standard input: the issuing key's passphrase,
    /// then the team key's.
    Rewrap(crate::commands::keys::KeysRewrapArgs),
    /// Devices of the tenant (pending ones wait for `enrol`), with their fingerprints.
    Devices {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Only devices in this state (pending, certified, revoked).
        #[arg(long)]
        status: Option<String>,
    },
    /// The tenant's registered root keys, with fingerprints and snippet attributes.
    List {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
    },
    /// Make the next version of the tenant's archive key (owners keep the file to read
    /// archives); its public half is announced, signed by the root key.
    Archive(crate::commands::keys::KeysSealingArgs),
    /// Make the next version of a team's key (History Member bundles are sealed to it); its
    /// public half is announced, signed by the root key.
    Team {
        /// Team id.
        #[arg(long)]
        team: String,
        #[command(flatten)]
        args: crate::commands::keys::KeysSealingArgs,
    },
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
        /// Origin allowed to embed the widget, such as `https://shop.example.com`
        /// (repeatable; replaces the list).
        #[arg(long = "origin")]
        origins: Vec<String>,
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
    /// Make a staff member a member of a team (idempotent): they see its queue.
    AddMember {
        /// Tenant id.
        #[arg(long)]
        tenant: String,
        /// Team id.
        #[arg(long)]
        team: String,
        /// Staff id.
        #[arg(long)]
        staff: String,
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

/// `sealdesk demo …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DemoCommand {
    /// Confirm the demo agent's console device: type the fingerprint the console shows. Its
    /// key is then certified and the demo team key wrapped to it (like `admin keys enrol`).
    Enrol {
        /// The fingerprint, as the console shows it.
        #[arg(long)]
        fingerprint: String,
    },
}
