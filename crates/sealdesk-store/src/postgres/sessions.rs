//! Sessions and API tokens on PostgreSQL. Looked up by token hash; activity, re-authentication
//! and revocation are single conditional UPDATEs.

use std::sync::LazyLock;

use async_trait::async_trait;
use sealdesk_core::auth::{Digest, NewSession, Session};
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::{StaffId, TenantId};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{PgStore, active_at, db_err};
use crate::auth_rows::{self, ResolvedRow, SESSION_COLUMNS, SessionRow};
use crate::rows::StaffRow;
use crate::{ResolvedSession, SessionRepo, StoreError, StoreResult};

/// The statement of `resolve_session`, built once: it runs on every authenticated request,
/// and the driver's prepared-statement cache is keyed by its text.
static RESOLVE_SQL: LazyLock<String> = LazyLock::new(|| auth_rows::resolve_session_sql("$1"));

#[async_trait]
impl SessionRepo for PgStore {
    async fn create_session(&self, session: &NewSession) -> StoreResult<Session> {
        if insert_session(&self.pool, session).await? {
            Ok(auth_rows::created_session(session))
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn resolve_session(&self, token_hash: &Digest) -> StoreResult<Option<ResolvedSession>> {
        // One read-only statement (one round trip) for the whole per-request check.
        sqlx::query(RESOLVE_SQL.as_str())
            .bind(token_hash.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|row| resolved_row(&row)?.into_resolved())
            .transpose()
    }

    async fn rotate_session(&self, old: Uuid, new: &NewSession) -> StoreResult<Option<Session>> {
        // The conditional UPDATE locks the old row, so of two concurrent rotations the second
        // waits, then finds it revoked and changes nothing.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let revoked = sqlx::query(&format!(
            "UPDATE sessions SET revoked_at_ms = $4
             WHERE id = $1 AND tenant_id = $2 AND staff_id = $3 AND {}",
            active_at(4)
        ))
        .bind(old)
        .bind(new.tenant.as_uuid())
        .bind(new.staff.as_uuid())
        .bind(to_unix_ms(new.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if revoked.rows_affected() != 1 || !insert_session(&mut *tx, new).await? {
            // Dropping `tx` rolls back: the old session stays as it was.
            return Ok(None);
        }
        tx.commit().await.map_err(db_err)?;
        Ok(Some(auth_rows::created_session(new)))
    }

    async fn find_session(&self, token_hash: &Digest) -> StoreResult<Option<Session>> {
        // By the token hash alone: the 256-bit token is the credential that establishes the
        // tenant; the caller checks the session's tenant against the request's.
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1"
        ))
        .bind(token_hash.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| session_row(&row)?.into_session())
        .transpose()
    }

    async fn get_session(&self, tenant: TenantId, id: Uuid) -> StoreResult<Session> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        session_row(&row)?.into_session()
    }

    async fn active_sessions(
        &self,
        ids: &[Uuid],
        now: OffsetDateTime,
    ) -> StoreResult<Vec<(TenantId, Uuid)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(&format!(
            "SELECT tenant_id, id FROM sessions WHERE id = ANY($1) AND {}",
            active_at(2)
        ))
        .bind(ids)
        .bind(to_unix_ms(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(tenant, id)| (TenantId::from_uuid(tenant), id))
            .collect())
    }

    async fn list_sessions(
        &self,
        tenant: TenantId,
        staff: StaffId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Session>> {
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions
             WHERE tenant_id = $1 AND staff_id = $2 AND {}
             ORDER BY created_at_ms DESC, id DESC",
            active_at(3)
        ))
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(to_unix_ms(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| session_row(row)?.into_session())
        .collect()
    }

    async fn touch_session(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        idle_expires_at: Option<OffsetDateTime>,
    ) -> StoreResult<bool> {
        // One UPDATE on the primary key: cheap enough for every request. Times only move
        // forward, so requests finishing out of order cannot shorten a session, and the
        // idle expiry never passes the absolute one (OWASP ASVS v5.0.0-7.3.2). The id is
        // that of the session the caller just authenticated by its token.
        let updated = sqlx::query(&format!(
            "UPDATE sessions
             SET last_seen_at_ms = GREATEST(last_seen_at_ms, $2),
                 idle_expires_at_ms = CASE WHEN idle_expires_at_ms IS NULL OR $3 IS NULL
                     THEN idle_expires_at_ms
                     ELSE LEAST(GREATEST(idle_expires_at_ms, $3), absolute_expires_at_ms) END
             WHERE id = $1 AND {}",
            active_at(2)
        ))
        .bind(id)
        .bind(to_unix_ms(now))
        .bind(idle_expires_at.map(to_unix_ms))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn set_session_authenticated(&self, id: Uuid, at: OffsetDateTime) -> StoreResult<bool> {
        let updated = sqlx::query(&format!(
            "UPDATE sessions SET authenticated_at_ms = GREATEST(authenticated_at_ms, $2)
             WHERE id = $1 AND {}",
            active_at(2)
        ))
        .bind(id)
        .bind(to_unix_ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn revoke_session(
        &self,
        tenant: TenantId,
        staff: StaffId,
        id: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        // Revocation is stored, so every later lookup sees it (OWASP ASVS v5.0.0-7.4.1).
        // Scoped to the account, so nobody revokes a session that is not theirs by its id.
        let updated = sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $4
             WHERE tenant_id = $1 AND staff_id = $2 AND id = $3 AND revoked_at_ms IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(id)
        .bind(to_unix_ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if updated.rows_affected() == 1 {
            return Ok(true);
        }
        // Nothing changed: already revoked, or not a session of this account.
        let exists: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM sessions WHERE tenant_id = $1 AND staff_id = $2 AND id = $3",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        exists.map(|_| false).ok_or(StoreError::NotFound)
    }

    async fn revoke_all_sessions(
        &self,
        tenant: TenantId,
        staff: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        // One statement for all of them, so no session of the account survives half-way
        // (OWASP ASVS v5.0.0-7.4.2, 7.4.5).
        let updated = sqlx::query(&format!(
            "UPDATE sessions SET revoked_at_ms = $3
             WHERE tenant_id = $1 AND staff_id = $2 AND {}",
            active_at(3)
        ))
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(to_unix_ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected())
    }

    async fn revoke_other_sessions(
        &self,
        tenant: TenantId,
        staff: StaffId,
        keep: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<u64> {
        // One statement, as for revoke_all_sessions (OWASP ASVS v5.0.0-7.4.3, 7.5.2).
        let updated = sqlx::query(&format!(
            "UPDATE sessions SET revoked_at_ms = $3
             WHERE tenant_id = $1 AND staff_id = $2 AND id <> $4 AND {}",
            active_at(3)
        ))
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(to_unix_ms(at))
        .bind(keep)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected())
    }
}

/// Inserts a session if its account is in its tenant; `false` (nothing written) otherwise.
/// One statement, so the account check and the insert are one atomic step; the composite
/// foreign key (tenant_id, staff_id) is the second line of defence.
async fn insert_session<'c, E>(conn: E, session: &NewSession) -> StoreResult<bool>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    let inserted = sqlx::query(
        "INSERT INTO sessions (id, tenant_id, staff_id, token_hash, kind, name, scopes,
                               created_at_ms, last_seen_at_ms, authenticated_at_ms,
                               idle_expires_at_ms, absolute_expires_at_ms, revoked_at_ms,
                               ip, user_agent)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $8, $8, $9, $10, NULL, $11, $12
         WHERE EXISTS (SELECT 1 FROM staff WHERE tenant_id = $2 AND id = $3)",
    )
    .bind(session.id)
    .bind(session.tenant.as_uuid())
    .bind(session.staff.as_uuid())
    .bind(session.token_hash.as_slice())
    .bind(session.kind.as_str())
    .bind(session.name.as_deref())
    .bind(auth_rows::scopes_json(&session.scopes)?)
    .bind(to_unix_ms(session.created_at))
    .bind(session.idle_expires_at.map(to_unix_ms))
    .bind(to_unix_ms(session.absolute_expires_at))
    .bind(session.ip.as_deref())
    .bind(session.user_agent.as_deref())
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(inserted.rows_affected() == 1)
}

fn resolved_row(row: &PgRow) -> StoreResult<ResolvedRow> {
    let session = session_row(row)?;
    let staff = StaffRow {
        id: session.staff_id,
        tenant_id: session.tenant_id,
        email: row.try_get("staff_email").map_err(db_err)?,
        display_name: row.try_get("staff_display_name").map_err(db_err)?,
        role: row.try_get("staff_role").map_err(db_err)?,
        has_password: row.try_get("staff_has_password").map_err(db_err)?,
        disabled: row.try_get("staff_disabled").map_err(db_err)?,
        created_at_ms: row.try_get("staff_created_at_ms").map_err(db_err)?,
    };
    Ok(ResolvedRow {
        session,
        staff,
        tenant_disabled: row.try_get("tenant_disabled").map_err(db_err)?,
        tenant_settings: row.try_get("tenant_settings").map_err(db_err)?,
        second_factor: row.try_get("second_factor").map_err(db_err)?,
    })
}

fn session_row(row: &PgRow) -> StoreResult<SessionRow> {
    Ok(SessionRow {
        id: row.try_get("id").map_err(db_err)?,
        tenant_id: row.try_get("tenant_id").map_err(db_err)?,
        staff_id: row.try_get("staff_id").map_err(db_err)?,
        kind: row.try_get("kind").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        scopes: row.try_get("scopes").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
        last_seen_at_ms: row.try_get("last_seen_at_ms").map_err(db_err)?,
        authenticated_at_ms: row.try_get("authenticated_at_ms").map_err(db_err)?,
        idle_expires_at_ms: row.try_get("idle_expires_at_ms").map_err(db_err)?,
        absolute_expires_at_ms: row.try_get("absolute_expires_at_ms").map_err(db_err)?,
        revoked_at_ms: row.try_get("revoked_at_ms").map_err(db_err)?,
        ip: row.try_get("ip").map_err(db_err)?,
        user_agent: row.try_get("user_agent").map_err(db_err)?,
    })
}
