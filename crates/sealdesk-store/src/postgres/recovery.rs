//! Recovery codes on PostgreSQL: a set replaced as a whole in one transaction, listed for
//! the caller to check, each code used at most once by a single conditional UPDATE on its id.

use async_trait::async_trait;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::{StaffId, TenantId};
use time::OffsetDateTime;

use super::{PgStore, db_err};
use crate::auth_rows::RecoveryCodeRow;
use crate::rows::corrupt;
use crate::{RecoveryCodeRecord, RecoveryCodeRepo, StoreError, StoreResult};

#[async_trait]
impl RecoveryCodeRepo for PgStore {
    async fn replace_recovery_codes(
        &self,
        tenant: TenantId,
        staff: StaffId,
        hashes: &[String],
        key_version: u32,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (tenant, staff) = (tenant.as_uuid(), staff.as_uuid());
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Locking the account row serialises replacements of its set: without it, two
        // concurrent regenerations under READ COMMITTED could each delete only the rows they
        // saw and leave both new sets valid. (NO KEY UPDATE does not block the foreign-key
        // checks of the inserts below.)
        let exists: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE",
        )
        .bind(tenant)
        .bind(staff)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        // Old codes go with the new set: a regenerated set invalidates the previous one.
        sqlx::query("DELETE FROM recovery_codes WHERE tenant_id = $1 AND staff_id = $2")
            .bind(tenant)
            .bind(staff)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let created_at_ms = to_unix_ms(at);
        for phc in hashes {
            sqlx::query(
                "INSERT INTO recovery_codes (tenant_id, staff_id, phc, key_version,
                                             created_at_ms, used_at_ms)
                 VALUES ($1, $2, $3, $4, $5, NULL)",
            )
            .bind(tenant)
            .bind(staff)
            .bind(phc)
            .bind(i64::from(key_version))
            .bind(created_at_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        // On any error above, dropping `tx` rolls back and the old codes stay valid.
        tx.commit().await.map_err(db_err)
    }

    async fn use_recovery_code(
        &self,
        tenant: TenantId,
        staff: StaffId,
        id: i64,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        // Atomic, so two concurrent logins cannot both use one recovery code
        // (OWASP ASVS v5.0.0-6.5.1).
        let updated = sqlx::query(
            "UPDATE recovery_codes SET used_at_ms = $4
             WHERE tenant_id = $1 AND staff_id = $2 AND id = $3 AND used_at_ms IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .bind(id)
        .bind(to_unix_ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(updated.rows_affected() == 1)
    }

    async fn count_recovery_codes(&self, tenant: TenantId, staff: StaffId) -> StoreResult<u32> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes
             WHERE tenant_id = $1 AND staff_id = $2 AND used_at_ms IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        u32::try_from(count).map_err(|e| corrupt("recovery code count", e))
    }

    async fn list_recovery_codes(
        &self,
        tenant: TenantId,
        staff: StaffId,
    ) -> StoreResult<Vec<RecoveryCodeRecord>> {
        let rows: Vec<(i64, Option<String>, Option<Vec<u8>>, i64)> = sqlx::query_as(
            "SELECT id, phc, digest, key_version FROM recovery_codes
             WHERE tenant_id = $1 AND staff_id = $2 AND used_at_ms IS NULL
             ORDER BY id",
        )
        .bind(tenant.as_uuid())
        .bind(staff.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, phc, digest, key_version)| {
                RecoveryCodeRow {
                    id,
                    phc,
                    digest,
                    key_version,
                }
                .into_record()
            })
            .collect()
    }
}
