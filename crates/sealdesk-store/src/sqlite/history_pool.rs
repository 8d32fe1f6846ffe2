//! History Member pools on SQLite.

use async_trait::async_trait;
use bytes::Bytes;
use sealdesk_core::clock::to_unix_ms;
use sealdesk_proto::{ConversationId, TeamId, TenantId};
use time::OffsetDateTime;

use super::{SqliteStore, db_err, history_rotation as rotation};
use crate::{
    Constraint, HistoryGeneration, HistoryPackage, HistoryPoolRepo, NewHistoryPackage, StoreError,
    StoreResult,
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
                 (hash_ref, tenant_id, team_id, key_package, sealed_bundle, not_after_ms,
                  created_at_ms, team_key_version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (hash_ref) DO NOTHING",
            )
            .bind(p.hash_ref.as_slice())
            .bind(tenant.to_string())
            .bind(team.to_string())
            .bind(p.key_package.as_ref())
            .bind(p.sealed_bundle.as_ref())
            .bind(to_unix_ms(p.not_after))
            .bind(now)
            .bind(p.team_key_version.map(i64::from))
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
            "SELECT hash_ref, key_package, sealed_bundle FROM conversation_history
             WHERE conversation_id = ?1 AND state = 'active'",
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
        let Some(popped) = rotation::pop(&mut tx, tenant, team, 0, now).await? else {
            return Ok(None);
        };
        let member =
            rotation::insert(&mut tx, tenant, conversation, 1, "active", popped, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(member.package))
    }

    async fn conversation_history_member(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Option<HistoryPackage>> {
        let mut tx = self.begin_read().await?;
        let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT hash_ref, key_package, sealed_bundle FROM conversation_history
             WHERE conversation_id = ?1 AND tenant_id = ?2 AND state = 'active'",
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

    async fn take_rotation_package(
        &self,
        tenant: TenantId,
        team: TeamId,
        conversation: ConversationId,
        min_team_key_version: u32,
        now: OffsetDateTime,
    ) -> StoreResult<Option<HistoryGeneration>> {
        let mut tx = self.begin_write().await?;
        // One writer at a time: two requests for one conversation cannot both pop.
        let taken = rotation::take(
            &mut tx,
            tenant,
            team,
            conversation,
            min_team_key_version,
            now,
        )
        .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(taken)
    }

    async fn complete_history_rotation(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        hash_ref: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = rotation::complete(&mut tx, tenant, conversation, hash_ref, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(done)
    }

    async fn abandon_pending_history(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        hash_ref: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = rotation::abandon(&mut tx, tenant, conversation, hash_ref, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(done)
    }

    async fn conversation_history_members(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<HistoryGeneration>> {
        let mut tx = self.begin_read().await?;
        let members = rotation::list(&mut tx, tenant, conversation).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(members)
    }
}
