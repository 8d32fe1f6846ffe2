//! The PostgreSQL backend, for installations that outgrow one file. Same behaviour as SQLite;
//! unique violations are told apart by the constraint names the migrations give them.

mod attachments;
mod audit;
mod carry;
mod conversations;
mod devices;
mod history_pool;
mod history_rotation;
mod inbox;
mod invitations;
mod key_packages;
mod log;
mod notes;
mod passkeys;
mod recovery;
mod retention;
mod routing;
mod scratch;
mod sealing_keys;
mod sessions;
mod staff;
mod teams;
mod tenants;
mod throttle;
mod totp;
mod visitors;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sealdesk_core::clock::{Clock, SystemClock, to_unix_ms};
use sqlx::error::DatabaseError;
use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::{Backend, Constraint, StoreAdmin, StoreError, StoreResult};

pub use scratch::{create_schema, drop_schema};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Connection settings beyond the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The most connections the pool opens. Default 10.
    pub max_connections: u32,
    /// How long to wait for a connection, including the first one at start-up, before
    /// failing with [`StoreError::Unavailable`]. Default 5 s.
    pub acquire_timeout: Duration,
    /// The schema to create tables in and read from (`search_path`); `None` keeps the
    /// server's default (normally `public`). Must be a plain lower-case identifier.
    pub schema: Option<String>,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            schema: None,
        }
    }
}

/// A store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    clock: Arc<dyn Clock>,
}

/// Connects to `url` (`postgres://user@host:port/db?...`). Connects at once, so an
/// unreachable server fails here with [`StoreError::Unavailable`] after at most
/// `opts.acquire_timeout`; a malformed URL or schema name is [`StoreError::Other`].
/// Migrations are not run: call [`StoreAdmin::migrate`].
pub async fn connect(url: &str, opts: &PgOptions) -> StoreResult<PgStore> {
    let mut options: PgConnectOptions = url.parse().map_err(StoreError::Other)?;
    if let Some(schema) = &opts.schema {
        if !is_plain_identifier(schema) {
            return Err(StoreError::Other(sqlx::Error::Configuration(
                format!("schema {schema:?} must be a lower-case identifier (a-z, 0-9, _)").into(),
            )));
        }
        // Sent as a startup parameter, so every pooled connection uses the schema.
        options = options.options([("search_path", schema.as_str())]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(opts.acquire_timeout)
        .connect_with(options)
        .await
        .map_err(db_err)?;
    Ok(PgStore {
        pool,
        clock: Arc::new(SystemClock),
    })
}

/// A name that needs no quoting and no escaping in the `options` startup parameter.
fn is_plain_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.len() <= 63
}

impl PgStore {
    /// Uses `clock` for the `updated_at` bookkeeping times (default: the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn now_ms(&self) -> i64 {
        to_unix_ms(self.clock.now())
    }
}

#[async_trait]
impl StoreAdmin for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn migrate(&self) -> StoreResult<usize> {
        let before: HashSet<i64> = {
            let mut conn = self.pool.acquire().await.map_err(db_err)?;
            conn.ensure_migrations_table().await.map_err(migrate_err)?;
            conn.list_applied_migrations()
                .await
                .map_err(migrate_err)?
                .into_iter()
                .map(|m| m.version)
                .collect()
        };
        // If another process migrates at the same moment, the count may include its work;
        // the resulting schema is the same either way.
        MIGRATOR.run(&self.pool).await.map_err(migrate_err)?;
        Ok(MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration() && !before.contains(&m.version))
            .count())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// The one conversion from `sqlx::Error` for this backend.
pub(crate) fn db_err(err: sqlx::Error) -> StoreError {
    StoreError::from_sqlx(err, classify)
}

fn migrate_err(err: MigrateError) -> StoreError {
    match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => db_err(e),
        other => StoreError::Other(sqlx::Error::from(other)),
    }
}

/// By the constraint names in `migrations/postgres`.
fn classify(db: &dyn DatabaseError) -> Constraint {
    match db.constraint() {
        Some("tenant_domains_pkey") => Constraint::TenantDomain,
        Some("teams_tenant_name_key") => Constraint::TeamName,
        Some("staff_tenant_email_key") => Constraint::StaffEmail,
        Some("sessions_token_hash_key") => Constraint::SessionToken,
        Some("invitations_token_hash_key") => Constraint::InvitationToken,
        Some("passkeys_credential_id_key") => Constraint::PasskeyCredential,
        Some("visitors_tenant_key_hash_key") => Constraint::VisitorKey,
        Some("visitors_tenant_external_key") => Constraint::VisitorExternalId,
        Some("visitor_tickets_pkey") => Constraint::VisitorTicket,
        Some("sealing_keys_pkey") => Constraint::KeyVersion,
        Some("devices_signature_key_key") => Constraint::DeviceKey,
        Some("recovery_codes_staff_digest_key" | "recovery_codes_staff_phc_key") => {
            Constraint::RecoveryCode
        }
        Some(
            "tenants_pkey"
            | "teams_pkey"
            | "staff_pkey"
            | "sessions_pkey"
            | "invitations_pkey"
            | "passkeys_pkey"
            | "webauthn_ceremonies_pkey"
            | "visitors_pkey"
            | "conversations_pkey"
            | "canned_responses_pkey",
        ) => Constraint::PrimaryKey,
        Some(other) => Constraint::Other(other.to_owned()),
        None => Constraint::Other(String::from("unknown")),
    }
}

/// Whether a session is usable at the time bound to parameter `${at}`: not revoked, before
/// its absolute expiry, and before its idle expiry if it has one (OWASP ASVS v5.0.0-7.3.1,
/// 7.3.2). The same rule as `Session::is_active`.
fn active_at(at: u8) -> String {
    format!(
        "revoked_at_ms IS NULL AND absolute_expires_at_ms > ${at} \
         AND (idle_expires_at_ms IS NULL OR idle_expires_at_ms > ${at})"
    )
}
