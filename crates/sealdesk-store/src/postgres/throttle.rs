//! Login throttling counters on PostgreSQL. A failure is counted by one upsert, so concurrent
//! failures are all counted; a lock only ever moves later.

use async_trait::async_trait;
use sealdesk_core::auth::ThrottleState;
use sealdesk_core::clock::to_unix_ms;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{PgStore, db_err};
use crate::auth_rows::ThrottleRow;
use crate::{StoreResult, ThrottleRepo};

#[async_trait]
impl ThrottleRepo for PgStore {
    async fn get_throttle(&self, key: &str) -> StoreResult<Option<ThrottleState>> {
        sqlx::query(
            "SELECT failures, last_failure_at_ms, locked_until_ms FROM login_throttle
             WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| throttle_row(&row)?.into_state(key))
        .transpose()
    }

    async fn record_failure(&self, key: &str, at: OffsetDateTime) -> StoreResult<ThrottleState> {
        // One atomic upsert: a burst of parallel guesses is counted in full, never as one
        // (OWASP ASVS v5.0.0-6.3.1). The count saturates at u32::MAX.
        let row = sqlx::query(
            "INSERT INTO login_throttle (key, failures, last_failure_at_ms, locked_until_ms)
             VALUES ($1, 1, $2, NULL)
             ON CONFLICT (key) DO UPDATE
             SET failures = LEAST(login_throttle.failures + 1, 4294967295),
                 last_failure_at_ms = GREATEST(login_throttle.last_failure_at_ms,
                                          excluded.last_failure_at_ms)
             RETURNING failures, last_failure_at_ms, locked_until_ms",
        )
        .bind(key)
        .bind(to_unix_ms(at))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        throttle_row(&row)?.into_state(key)
    }

    async fn set_locked_until(
        &self,
        key: &str,
        until: Option<OffsetDateTime>,
    ) -> StoreResult<bool> {
        // GREATEST (which ignores NULL): of two concurrent lock decisions the longer stands.
        let updated = sqlx::query(
            "UPDATE login_throttle
             SET locked_until_ms = CASE WHEN $2::BIGINT IS NULL THEN NULL
                                        ELSE GREATEST(locked_until_ms, $2) END
             WHERE key = $1",
        )
        .bind(key)
        .bind(until.map(to_unix_ms))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn purge_throttle(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let deleted = sqlx::query(
            "DELETE FROM login_throttle
             WHERE last_failure_at_ms < $1 AND (locked_until_ms IS NULL OR locked_until_ms <= $1)",
        )
        .bind(to_unix_ms(before))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(deleted.rows_affected())
    }
}

fn throttle_row(row: &PgRow) -> StoreResult<ThrottleRow> {
    Ok(ThrottleRow {
        failures: row.try_get("failures").map_err(db_err)?,
        last_failure_at_ms: row.try_get("last_failure_at_ms").map_err(db_err)?,
        locked_until_ms: row.try_get("locked_until_ms").map_err(db_err)?,
    })
}
