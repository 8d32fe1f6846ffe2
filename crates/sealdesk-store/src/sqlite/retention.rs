//! Retention on SQLite: finding expired conversations and deleting one with everything that
//! belongs to it, in one transaction. `secure_delete` (set in `open`) overwrites the freed
//! bytes in the database file.

use async_trait::async_trait;
use sealdesk_proto::{ConversationId, TenantId};
use time::OffsetDateTime;

use super::{SqliteStore, db_err, uuid_at};
use crate::conversation_rows::{self, ms};
use crate::{Deleted, RetentionRepo, StoreError, StoreResult};

#[async_trait]
impl RetentionRepo for SqliteStore {
    async fn request_erasure(
        &self,
        tenant: TenantId,
        id: ConversationId,
        at: OffsetDateTime,
    ) -> StoreResult<sealdesk_core::domain::Conversation> {
        let updated = sqlx::query(
            "UPDATE conversations
             SET erasure_requested_at_ms = COALESCE(erasure_requested_at_ms, ?3)
             WHERE tenant_id = ?1 AND id = ?2 AND state = 'closed'",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        let conversation = crate::ConversationRepo::get_conversation(self, tenant, id).await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                constraint: crate::Constraint::ConversationState,
            });
        }
        Ok(conversation)
    }

    async fn expired_conversations(
        &self,
        tenant: TenantId,
        closed_before: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<ConversationId>> {
        sqlx::query(
            "SELECT id FROM conversations
             WHERE tenant_id = ?1 AND closed_at_ms IS NOT NULL
               AND (closed_at_ms < ?2 OR erasure_requested_at_ms IS NOT NULL)
             ORDER BY closed_at_ms, id LIMIT ?3",
        )
        .bind(tenant.to_string())
        .bind(ms(closed_before))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            Ok(ConversationId::from_uuid(uuid_at(
                row,
                "id",
                "conversations.id",
            )?))
        })
        .collect()
    }

    async fn delete_conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> StoreResult<Deleted> {
        let mut tx = self.begin_write().await?;
        let rid: i64 =
            sqlx::query_scalar("SELECT rid FROM conversations WHERE tenant_id = ?1 AND id = ?2")
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound)?;
        let blobs: Vec<Vec<u8>> = sqlx::query_scalar(
            "DELETE FROM attachments WHERE tenant_id = ?1 AND conversation_id = ?2
             RETURNING sha256",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let entries = sqlx::query("DELETE FROM log_entries WHERE conv = ?1")
            .bind(rid)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        for table in [
            "carried_notes",
            "carried_history",
            "notes",
            "conversation_participants",
            "conversation_history",
        ] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE tenant_id = ?1 AND conversation_id = ?2"
            ))
            .bind(tenant.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        // Conversations reopened from this one stay, without the link (the foreign key's
        // ON DELETE SET NULL would do it too; explicit keeps both backends alike).
        sqlx::query("UPDATE conversations SET reopened_from = NULL WHERE reopened_from = ?1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM conversations WHERE rid = ?1")
            .bind(rid)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let mut orphaned_blobs = Vec::new();
        for blob in blobs {
            let still: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM attachments WHERE sha256 = ?1 LIMIT 1")
                    .bind(blob.as_slice())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if still.is_none() {
                orphaned_blobs.push(conversation_rows::digest(&blob, "attachments.sha256")?);
            }
        }
        tx.commit().await.map_err(db_err)?;
        orphaned_blobs.sort_unstable();
        Ok(Deleted {
            entries,
            orphaned_blobs,
        })
    }
}
