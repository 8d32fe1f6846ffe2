//! The SQLite backend: one database file in WAL mode with `synchronous=FULL`, so that a write
//! acknowledged to the caller survives a crash. Repositories live in the submodules.

mod attachments;
mod audit;
mod carry;
mod conversations;
mod devices;
mod history_pool;
mod history_rotation;
mod inbox;
mod inline_tx;
mod invitations;
mod key_packages;
mod log;
mod notes;
mod passkeys;
mod recovery;
mod retention;
mod routing;
mod sealing_keys;
mod sessions;
mod staff;
mod teams;
mod tenants;
mod throttle;
mod totp;
mod visitors;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sealdesk_core::clock::{Clock, SystemClock, to_unix_ms};
use sealdesk_proto::{ConversationId, TenantId};
use sqlx::error::DatabaseError;
use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::sqlite::SqliteRow;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::{Backend, Constraint, StoreAdmin, StoreError, StoreResult};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a connection waits for another writer before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite allows one writer at a time; a few connections let reads proceed during a write.
const MAX_CONNECTIONS: u32 = 4;

/// How often the background checkpointer copies committed WAL frames into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// A store in one SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    /// Dropped with the last clone of the store, which stops the checkpointer.
    _checkpointer: Arc<oneshot::Sender<()>>,
}

/// Opens (creating if needed) the database at `path`. The parent directory must exist. A new
/// file is created with mode 0600 before SQLite touches it, because SQLite gives the `-wal`
/// and `-shm` files the permissions of the database file. Migrations are not run: call
/// [`StoreAdmin::migrate`].
pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
    create_private_file(path).map_err(|e| StoreError::Unavailable(sqlx::Error::Io(e)))?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: the WAL is synced on every commit, so an acknowledged write survives power
        // loss, not only a process crash (https://www.sqlite.org/pragma.html#pragma_synchronous).
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // Deleted content (a conversation past its retention period) is overwritten with
        // zeros in the database file instead of lingering in free pages
        // (https://www.sqlite.org/pragma.html#pragma_secure_delete).
        .pragma("secure_delete", "ON")
        // No automatic checkpoint inside the commit that crosses 1,000 WAL pages: it would
        // copy pages back and fsync the database file while every queued append waits
        // behind that commit. A background task checkpoints instead (`checkpoint_loop`);
        // durability is unchanged, since every commit still fsyncs the WAL
        // (https://www.sqlite.org/wal.html#automatic_checkpoint).
        .pragma("wal_autocheckpoint", "0");
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        // No ping before each use: a connection to a local file cannot go stale, and the
        // ping is one more round trip to the connection's worker thread on every query
        // (S2 profile, docs/performance.md).
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(db_err)?;
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(checkpoint_loop(pool.clone(), stopped));
    Ok(SqliteStore {
        pool,
        clock: Arc::new(SystemClock),
        _checkpointer: Arc::new(stop),
    })
}

/// Checkpoints the WAL every [`CHECKPOINT_EVERY`] on a connection of its own until the store
/// is dropped or closed. `PASSIVE` copies what it can without waiting for the writer or for
/// readers, so it never delays a commit; once a checkpoint has caught up and no reader needs
/// the old frames, the next writer starts the WAL over, which keeps it bounded.
async fn checkpoint_loop(pool: SqlitePool, mut stop: oneshot::Receiver<()>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => {}
        }
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "SQLite WAL checkpoint failed; retrying");
        }
    }
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl SqliteStore {
    /// Uses `clock` for the `updated_at` bookkeeping times (default: the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs `PRAGMA <name>` and returns the first column of every row as text. For tests
    /// and diagnostics (`journal_mode`, `integrity_check`, `foreign_key_check`).
    #[doc(hidden)]
    pub async fn pragma(&self, name: &str) -> StoreResult<Vec<String>> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(StoreError::Other(sqlx::Error::Configuration(
                format!("not a pragma name: {name:?}").into(),
            )));
        }
        let rows = sqlx::query(&format!("PRAGMA {name}"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        // Unchecked: pragmas return integers or text, and SQLite converts either to text.
        rows.iter()
            .map(|row| row.try_get_unchecked::<String, _>(0).map_err(db_err))
            .collect()
    }

    fn now_ms(&self) -> i64 {
        to_unix_ms(self.clock.now())
    }

    /// A write transaction. `BEGIN IMMEDIATE` takes the write lock up front, so a
    /// transaction that reads before it writes cannot fail half-way with `SQLITE_BUSY`.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)
    }

    /// A read transaction: every query in it sees the same snapshot.
    async fn begin_read(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.pool.begin().await.map_err(db_err)
    }
}

#[async_trait]
impl StoreAdmin for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
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
    if let sqlx::Error::Database(db) = &err
        && is_busy(db.as_ref())
    {
        return StoreError::Unavailable(err);
    }
    StoreError::from_sqlx(err, classify)
}

fn migrate_err(err: MigrateError) -> StoreError {
    match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => db_err(e),
        other => StoreError::Other(sqlx::Error::from(other)),
    }
}

/// `SQLITE_BUSY` and `SQLITE_LOCKED` (with any extended code): another writer held the lock
/// for longer than the busy timeout. Retryable, like a pool timeout.
fn is_busy(db: &dyn DatabaseError) -> bool {
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// SQLite names the columns, not the constraint: "UNIQUE constraint failed: teams.tenant_id,
/// teams.name_key". Primary keys fail the same way ("tenants.id").
fn classify(db: &dyn DatabaseError) -> Constraint {
    let message = db.message();
    let columns = message
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or(message);
    let columns: Vec<&str> = columns.split(',').map(str::trim).collect();
    match columns.as_slice() {
        ["tenant_domains.domain"] => Constraint::TenantDomain,
        ["teams.tenant_id", "teams.name_key"] => Constraint::TeamName,
        ["staff.tenant_id", "staff.email"] => Constraint::StaffEmail,
        ["sessions.token_hash"] => Constraint::SessionToken,
        ["invitations.token_hash"] => Constraint::InvitationToken,
        ["passkeys.credential_id"] => Constraint::PasskeyCredential,
        ["visitors.tenant_id", "visitors.key_hash"] => Constraint::VisitorKey,
        ["visitors.tenant_id", "visitors.external_id"] => Constraint::VisitorExternalId,
        ["visitor_tickets.token_hash"] => Constraint::VisitorTicket,
        ["devices.tenant_id", "devices.signature_key"] => Constraint::DeviceKey,
        [
            "recovery_codes.staff_id",
            "recovery_codes.digest" | "recovery_codes.phc",
        ] => Constraint::RecoveryCode,
        [
            "tenants.id"
            | "teams.id"
            | "staff.id"
            | "sessions.id"
            | "invitations.id"
            | "passkeys.id"
            | "webauthn_ceremonies.id"
            | "visitors.id"
            | "conversations.id"
            | "canned_responses.id",
        ]
        // The (tenant_id, id) indexes that composite foreign keys reference: a repeated id
        // in the same tenant trips them before the primary key.
        | [
            "teams.tenant_id" | "visitors.tenant_id" | "conversations.tenant_id",
            "teams.id" | "visitors.id" | "conversations.id",
        ] => Constraint::PrimaryKey,
        _ => Constraint::Other(columns.join(", ")),
    }
}

/// A UUID column (stored as text); `what` names it in a [`StoreError::Corrupt`].
fn uuid_at(row: &SqliteRow, column: &str, what: &str) -> StoreResult<Uuid> {
    crate::rows::parse_uuid(row.try_get::<&str, _>(column).map_err(db_err)?, what)
}

/// A nullable UUID column (stored as text).
fn opt_uuid_at(row: &SqliteRow, column: &str, what: &str) -> StoreResult<Option<Uuid>> {
    row.try_get::<Option<&str>, _>(column)
        .map_err(db_err)?
        .map(|raw| crate::rows::parse_uuid(raw, what))
        .transpose()
}

/// Whether a session is usable at the time bound to parameter `?{at}`: not revoked, before
/// its absolute expiry, and before its idle expiry if it has one (OWASP ASVS v5.0.0-7.3.1,
/// 7.3.2). The same rule as `Session::is_active`.
fn active_at(at: u8) -> String {
    format!(
        "revoked_at_ms IS NULL AND absolute_expires_at_ms > ?{at} \
         AND (idle_expires_at_ms IS NULL OR idle_expires_at_ms > ?{at})"
    )
}

/// The rows of `sql` (bound to tenant and conversation), or `NotFound` if the conversation
/// is not the tenant's (one snapshot).
pub(super) async fn rows_in_conversation(
    store: &SqliteStore,
    tenant: TenantId,
    conversation: ConversationId,
    sql: &str,
) -> StoreResult<Vec<SqliteRow>> {
    let mut tx = store.begin_read().await?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM conversations WHERE tenant_id = ?1 AND id = ?2")
            .bind(tenant.to_string())
            .bind(conversation.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let rows = sqlx::query(sql)
        .bind(tenant.to_string())
        .bind(conversation.to_string())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(rows)
}
