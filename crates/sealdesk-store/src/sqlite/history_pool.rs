//! History Member pools on SQLite.

use async_trait::async_trait;
use bytes::Bytes;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::{ConversationId, TeamId, TenantId};
use time::OffsetDateTime;

use super::{SqliteStore, db_err};
use crate::{
    Constraint, HistoryPackage, HistoryPoolRepo, NewHistoryPackage, StoreError, StoreResult,
};

#[async_trait]
impl HistoryPoolRepo for SqliteStore {
    async fn add_history_packages(
        &self,
        tenant: TenantId,
        team: TeamId,
        packages: &[NewHistoryPackage],
        max_per_team: u32,
        at: OffsetDateTime,
    ) -> StoreResult<u32> {
        let mut tx = self.begin_write().await?;
        // SQLite has one writer at a time: the count below cannot race another upload.
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM teams WHERE tenant_id = ?1 AND id = ?2")
                .bind(tenant.to_string())
                .bind(team.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let now = to_unix_ms(at);
        sqlx::query(
            "DELETE FROM history_pool WHERE tenant_id = ?1 AND team_id = ?2 AND not_after_ms <= ?3",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        for p in packages {
            sqlx::query(
                "INSERT INTO history_pool
                 (hash_ref, tenant_id, team_id, key_package, sealed_bundle, not_after_ms, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (hash_ref) DO NOTHING",
            )
            .bind(p.hash_ref.as_slice())
            .bind(tenant.to_string())
            .bind(team.to_string())
            .bind(p.key_package.as_ref())
            .bind(p.sealed_bundle.as_ref())
            .bind(to_unix_ms(p.not_after))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM history_pool WHERE tenant_id = ?1 AND team_id = ?2",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        if count > max_per_team {
            // Dropping the transaction rolls the whole upload back.
            return Err(StoreError::Conflict {
                constraint: Constraint::KeyPackageLimit,
            });
        }
        tx.commit().await.map_err(db_err)?;
        Ok(count)
    }

    async fn history_pool_size(
        &self,
        tenant: TenantId,
        team: TeamId,
        now: OffsetDateTime,
    ) -> StoreResult<u32> {
        let mut tx = self.begin_read().await?;
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM history_pool WHERE tenant_id = ?1 AND team_id = ?2 AND not_after_ms > ?3",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .bind(to_unix_ms(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn take_history_package(
        &self,
        tenant: TenantId,
        team: TeamId,
        conversation: ConversationId,
        now: OffsetDateTime,
    ) -> StoreResult<Option<HistoryPackage>> {
        let mut tx = self.begin_write().await?;
        // One writer at a time: two requests for one conversation cannot both pop.
        let exists: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM conversations WHERE tenant_id = ?1 AND id = ?2 AND team_id = ?3",
        )
        .bind(tenant.to_string())
        .bind(conversation.to_string())
        .bind(team.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let existing: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT hash_ref, key_package, sealed_bundle FROM conversation_history WHERE conversation_id = ?1",
        )
        .bind(conversation.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some((hash_ref, key_package, sealed_bundle)) = existing {
            tx.commit().await.map_err(db_err)?;
            return Ok(Some(HistoryPackage {
                hash_ref,
                key_package: Bytes::from(key_package),
                sealed_bundle: Bytes::from(sealed_bundle),
            }));
        }
        let popped: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "DELETE FROM history_pool WHERE hash_ref = (
                SELECT hash_ref FROM history_pool
                WHERE tenant_id = ?1 AND team_id = ?2 AND not_after_ms > ?3
                ORDER BY created_at_ms, hash_ref LIMIT 1)
             RETURNING hash_ref, key_package, sealed_bundle",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .bind(to_unix_ms(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some((hash_ref, key_package, sealed_bundle)) = popped else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO conversation_history
             (conversation_id, tenant_id, hash_ref, key_package, sealed_bundle, taken_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(conversation.to_string())
        .bind(tenant.to_string())
        .bind(hash_ref.as_slice())
        .bind(key_package.as_slice())
        .bind(sealed_bundle.as_slice())
        .bind(to_unix_ms(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(HistoryPackage {
            hash_ref,
            key_package: Bytes::from(key_package),
            sealed_bundle: Bytes::from(sealed_bundle),
        }))
    }

    async fn conversation_history_member(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Option<HistoryPackage>> {
        let mut tx = self.begin_read().await?;
        let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT hash_ref, key_package, sealed_bundle FROM conversation_history
             WHERE conversation_id = ?1 AND tenant_id = ?2",
        )
        .bind(conversation.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(
            row.map(|(hash_ref, key_package, sealed_bundle)| HistoryPackage {
                hash_ref,
                key_package: Bytes::from(key_package),
                sealed_bundle: Bytes::from(sealed_bundle),
            }),
        )
    }
}
