//! Team and archive key announcements on PostgreSQL.

use async_trait::async_trait;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::TenantId;

use super::{PgStore, db_err};
use crate::sealing_key_repo::{SealingKeyRow, sealing_key_from_row};
use crate::{Constraint, KeyScope, SealingKey, SealingKeyRepo, StoreError, StoreResult};

#[async_trait]
impl SealingKeyRepo for PgStore {
    async fn add_sealing_key(&self, tenant: TenantId, key: &SealingKey) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The owner row's lock serialises publishers of one tenant; a racing insert that
        // still slips through hits the primary key (`KeyVersion` too).
        let owner: Option<i32> = match key.scope {
            KeyScope::Archive => {
                sqlx::query_scalar("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE")
                    .bind(tenant.as_uuid())
            }
            KeyScope::Team(team) => sqlx::query_scalar(
                "SELECT 1 FROM teams WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
            )
            .bind(tenant.as_uuid())
            .bind(team.as_uuid()),
        }
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if owner.is_none() {
            return Err(StoreError::NotFound);
        }
        let latest: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM sealing_keys WHERE tenant_id = $1 AND scope = $2",
        )
        .bind(tenant.as_uuid())
        .bind(key.scope.column())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if i64::from(key.version) != latest + 1 {
            return Err(StoreError::Conflict {
                constraint: Constraint::KeyVersion,
            });
        }
        sqlx::query(
            "INSERT INTO sealing_keys
             (tenant_id, scope, version, public_key, announcement, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tenant.as_uuid())
        .bind(key.scope.column())
        .bind(i64::from(key.version))
        .bind(key.public_key.as_slice())
        .bind(key.announcement.as_ref())
        .bind(to_unix_ms(key.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn sealing_keys(&self, tenant: TenantId) -> StoreResult<Vec<SealingKey>> {
        let rows: Vec<SealingKeyRow> = sqlx::query_as(
            "SELECT scope, version, public_key, announcement, created_at_ms
             FROM sealing_keys WHERE tenant_id = $1 ORDER BY scope, version",
        )
        .bind(tenant.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(sealing_key_from_row).collect()
    }
}
