//! Retention on PostgreSQL: finding expired conversations and deleting one with everything
//! that belongs to it, in one transaction. (Deleted rows stay in the table files until VACUUM
//! reuses their space.)

use async_trait::async_trait;
use sealdesk_proto::{ConversationId, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{PgStore, db_err};
use crate::conversation_rows::{self, ms};
use crate::{Deleted, RetentionRepo, StoreError, StoreResult};

#[async_trait]
impl RetentionRepo for PgStore {
    async fn request_erasure(
        &self,
        tenant: TenantId,
        id: ConversationId,
        at: OffsetDateTime,
    ) -> StoreResult<sealdesk_core::domain::Conversation> {
        let updated = sqlx::query(
            "UPDATE conversations
             SET erasure_requested_at_ms = COALESCE(erasure_requested_at_ms, $3)
             WHERE tenant_id = $1 AND id = $2 AND state = 'closed'",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
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
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM conversations
             WHERE tenant_id = $1 AND closed_at_ms IS NOT NULL
               AND (closed_at_ms < $2 OR erasure_requested_at_ms IS NOT NULL)
             ORDER BY closed_at_ms, id LIMIT $3",
        )
        .bind(tenant.as_uuid())
        .bind(ms(closed_before))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ids.into_iter().map(ConversationId::from_uuid).collect())
    }

    async fn delete_conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> StoreResult<Deleted> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Locks the row: appends and changes to this conversation wait, then find it gone.
        let rid: i64 = sqlx::query_scalar(
            "SELECT rid FROM conversations WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let blobs: Vec<Vec<u8>> = sqlx::query_scalar(
            "DELETE FROM attachments WHERE tenant_id = $1 AND conversation_id = $2
             RETURNING sha256",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let entries = sqlx::query("DELETE FROM log_entries WHERE conv = $1")
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
                "DELETE FROM {table} WHERE tenant_id = $1 AND conversation_id = $2"
            ))
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        // Conversations reopened from this one stay, without the link.
        sqlx::query("UPDATE conversations SET reopened_from = NULL WHERE reopened_from = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM conversations WHERE rid = $1")
            .bind(rid)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // Blobs this conversation referenced that no other row references now. (A reference
        // added elsewhere after this commit is the caller's to handle: an upload writes the
        // file again.)
        let orphans: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT DISTINCT b FROM unnest($1::BYTEA[]) AS b
             WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = b)
             ORDER BY b",
        )
        .bind(&blobs)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        orphans
            .iter()
            .map(|b| conversation_rows::digest(b, "attachments.sha256"))
            .collect::<StoreResult<Vec<_>>>()
            .map(|orphaned_blobs| Deleted {
                entries,
                orphaned_blobs,
            })
    }
}
