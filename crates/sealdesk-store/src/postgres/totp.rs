//! TOTP enrolments on PostgreSQL, one row per account. Every change is one conditional statement,
//! so concurrent requests cannot both pass a check that only one of them should.

use async_trait::async_trait;
use sealdesk_core::auth::TotpRecord;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::{StaffId, TenantId};
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{PgStore, db_err};
use crate::auth_rows::TotpRow;
use crate::{Constraint, StoreError, StoreResult, TotpRepo};

#[async_trait]
impl TotpRepo for PgStore {
    async fn begin_totp(
        &self,
        tenant: TenantId,
        staff: StaffId,
        sealed_secret: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<TotpRecord> {
        // One upsert: inserts for an account of the tenant, replaces only an unconfirmed
        // enrolment. A confirmed factor is never overwritten by a new enrolment, which would
        // let whoever holds a session swap the second factor without removing it first.
        let row = sqlx::query(
            "INSERT INTO staff_totp (staff_id, tenant_id, sealed_secret, confirmed_at_ms,
                                     last_used_step, created_at_ms)
             SELECT $1, $2, $3, NULL, NULL, $4
             WHERE EXISTS (SELECT 1 FROM staff WHERE tenant_id = $2 AND id = $1)
             ON CONFLICT (staff_id) DO UPDATE
             SET sealed_secret = excluded.sealed_secret, created_at_ms = excluded.created_at_ms,
                 last_used_step = NULL
             WHERE staff_totp.confirmed_at_ms IS NULL AND staff_totp.tenant_id = excluded.tenant_id
             RETURNING sealed_secret, confirmed_at_ms, last_used_step, created_at_ms",
        )
        .bind(staff.as_uuid())
        .bind(tenant.as_uuid())
        .bind(sealed_secret)
        .bind(to_unix_ms(at))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        if let Some(row) = row {
            return Ok(totp_row(&row)?.into_record());
        }
        // Nothing written: tell a confirmed enrolment from a missing account.
        match self.get_totp(tenant, staff).await? {
            Some(existing) if existing.confirmed_at.is_some() => Err(StoreError::Conflict {
                constraint: Constraint::TotpConfirmed,
            }),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn get_totp(&self, tenant: TenantId, staff: StaffId) -> StoreResult<Option<TotpRecord>> {
        sqlx::query(
            "SELECT sealed_secret, confirmed_at_ms, last_used_step, created_at_ms
             FROM staff_totp WHERE tenant_id = $1 AND staff_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| totp_row(&row).map(TotpRow::into_record))
        .transpose()
    }

    async fn confirm_totp(
        &self,
        tenant: TenantId,
        staff: StaffId,
        step: i64,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        // The confirming code's step becomes the last used one, so the same code cannot be
        // replayed to log in (OWASP ASVS v5.0.0-6.5.1).
        let updated = sqlx::query(
            "UPDATE staff_totp SET confirmed_at_ms = $3, last_used_step = $4
             WHERE tenant_id = $1 AND staff_id = $2 AND confirmed_at_ms IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(to_unix_ms(at))
        .bind(step)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn use_totp_step(
        &self,
        tenant: TenantId,
        staff: StaffId,
        step: i64,
    ) -> StoreResult<bool> {
        // Atomic compare-and-set on the last used step, so a TOTP code is usable once even
        // when two logins present it at the same moment (OWASP ASVS v5.0.0-6.5.1, RFC 6238
        // §5.2).
        let updated = sqlx::query(
            "UPDATE staff_totp SET last_used_step = $3
             WHERE tenant_id = $1 AND staff_id = $2 AND confirmed_at_ms IS NOT NULL
               AND (last_used_step IS NULL OR last_used_step < $3)",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(step)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn replace_totp_secret(
        &self,
        tenant: TenantId,
        staff: StaffId,
        old: &[u8],
        new: &[u8],
    ) -> StoreResult<bool> {
        // Compare-and-swap: a re-seal racing a re-enrolment must not overwrite the new
        // secret with the re-sealed old one. The compared values are ciphertexts, not the
        // secret itself.
        let updated = sqlx::query(
            "UPDATE staff_totp SET sealed_secret = $4
             WHERE tenant_id = $1 AND staff_id = $2 AND sealed_secret = $3",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(old)
        .bind(new)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn delete_totp(&self, tenant: TenantId, staff: StaffId) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM staff_totp WHERE tenant_id = $1 AND staff_id = $2")
            .bind(tenant.as_uuid())
            .bind(staff.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn list_totp_secrets(&self) -> StoreResult<Vec<(TenantId, StaffId, Vec<u8>)>> {
        // Installation-wide on purpose: re-sealing after a master key rotation is an operator
        // task that covers every tenant.
        sqlx::query("SELECT tenant_id, staff_id, sealed_secret FROM staff_totp ORDER BY staff_id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|row| {
                Ok((
                    TenantId::from_uuid(row.try_get("tenant_id").map_err(db_err)?),
                    StaffId::from_uuid(row.try_get("staff_id").map_err(db_err)?),
                    row.try_get("sealed_secret").map_err(db_err)?,
                ))
            })
            .collect()
    }
}

fn totp_row(row: &PgRow) -> StoreResult<TotpRow> {
    Ok(TotpRow {
        sealed_secret: row.try_get("sealed_secret").map_err(db_err)?,
        confirmed_at_ms: row.try_get("confirmed_at_ms").map_err(db_err)?,
        last_used_step: row.try_get("last_used_step").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
    })
}
