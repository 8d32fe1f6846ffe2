//! A write transaction whose `BEGIN IMMEDIATE` and `COMMIT` travel inside the strings of its
//! first and last queries, for the log's hot path.
//!
//! With sqlx's SQLite driver every query is a round trip to the connection's worker thread
//! (two thread wake-ups, the largest cost of a small commit in S2/S3 profiles). A
//! `Transaction` spends one round trip on `BEGIN` and one on `COMMIT`; here they ride along
//! with the reads and the writes, so a live-chat commit is two round trips instead of four.
//!
//! sqlx does not know about a transaction opened this way, so it must never go back to the
//! pool open. [`InlineTx`] holds the connection: unless [`InlineTx::committed`] is called
//! (the last query, ending in `COMMIT`, succeeded), dropping it closes the connection instead
//! of returning it, and SQLite rolls back whatever the closed connection left open
//! (sqlite.org/lang_transaction.html: "if the database connection is closed, any pending
//! transaction is rolled back"). That covers an error anywhere (including a failed `BEGIN`,
//! a failed statement after it, a failed `COMMIT`) and a caller that stops waiting.

use sqlx::pool::PoolConnection;
use sqlx::sqlite::SqlitePool;
use sqlx::{Sqlite, SqliteConnection};

use super::db_err;
use crate::StoreResult;

/// What the first query string of an inline transaction starts with.
pub(super) const BEGIN: &str = "BEGIN IMMEDIATE;\n";

/// What the last query string of an inline transaction ends with.
pub(super) const COMMIT: &str = ";\nCOMMIT";

/// A pooled connection that may hold an inline transaction.
pub(super) struct InlineTx {
    conn: PoolConnection<Sqlite>,
    committed: bool,
}

impl InlineTx {
    /// Takes a connection from the pool (no query is run).
    pub(super) async fn acquire(pool: &SqlitePool) -> StoreResult<Self> {
        Ok(Self {
            conn: pool.acquire().await.map_err(db_err)?,
            committed: false,
        })
    }

    /// The connection, for the transaction's queries.
    pub(super) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }

    /// Marks the transaction as committed: the connection returns to the pool.
    pub(super) fn committed(mut self) {
        self.committed = true;
    }
}

impl Drop for InlineTx {
    fn drop(&mut self) {
        if !self.committed {
            self.conn.close_on_drop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    /// A one-connection pool on a file (a closed in-memory database would be gone).
    async fn pool(dir: &tempfile::TempDir) -> SqlitePool {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("database");
        sqlx::query("CREATE TABLE t (v INTEGER NOT NULL CHECK (v > 0))")
            .execute(&pool)
            .await
            .expect("table");
        pool
    }

    async fn count(pool: &SqlitePool) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(pool)
            .await
            .expect("count")
    }

    #[tokio::test]
    async fn a_failed_statement_rolls_back_and_the_pool_stays_usable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = pool(&dir).await;
        {
            let mut tx = InlineTx::acquire(&pool).await.expect("acquire");
            sqlx::query(&format!("{BEGIN}INSERT INTO t (v) VALUES (1)"))
                .execute(tx.conn())
                .await
                .expect("begin and insert");
            let failed = sqlx::query(&format!("INSERT INTO t (v) VALUES (-1){COMMIT}"))
                .execute(tx.conn())
                .await;
            assert!(
                failed.is_err(),
                "the CHECK refuses -1 before the COMMIT runs"
            );
        }
        // One connection in the pool: had it gone back with the transaction open, this
        // would run inside it and see (or keep) the first row.
        assert_eq!(count(&pool).await, 0);
        let mut tx = InlineTx::acquire(&pool).await.expect("acquire again");
        sqlx::query(&format!("{BEGIN}INSERT INTO t (v) VALUES (2){COMMIT}"))
            .execute(tx.conn())
            .await
            .expect("a new transaction begins");
        tx.committed();
        assert_eq!(count(&pool).await, 1);
    }

    #[tokio::test]
    async fn a_committed_transaction_keeps_its_connection() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = pool(&dir).await;
        let mut tx = InlineTx::acquire(&pool).await.expect("acquire");
        sqlx::query(&format!("{BEGIN}INSERT INTO t (v) VALUES (3){COMMIT}"))
            .execute(tx.conn())
            .await
            .expect("insert");
        tx.committed();
        assert_eq!(count(&pool).await, 1);
        assert_eq!(pool.size(), 1, "the connection went back to the pool");
    }
}
