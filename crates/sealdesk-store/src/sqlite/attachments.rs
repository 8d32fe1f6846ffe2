//! Attachment references on SQLite: which conversation references which blob.

use async_trait::async_trait;
use sealdesk_core::auth::Digest;
use sealdesk_proto::{ConversationId, TenantId};
use sqlx::Row;

use super::{SqliteStore, db_err, uuid_at};
use crate::conversation_rows::{AttachmentRow, ms, to_i64, uploader_parts};
use crate::{Attachment, AttachmentRepo, StoreError, StoreResult};

#[async_trait]
impl AttachmentRepo for SqliteStore {
    async fn add_attachment(&self, attachment: &Attachment) -> StoreResult<()> {
        let (kind, uploader) = uploader_parts(attachment.uploaded_by);
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM conversations WHERE tenant_id = ?1 AND id = ?2")
                .bind(attachment.tenant_id.to_string())
                .bind(attachment.conversation_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        // Idempotent: the first reference of a blob from a conversation stays as it was.
        sqlx::query(
            "INSERT INTO attachments (tenant_id, conversation_id, sha256, size, uploader_kind,
                                      uploader_id, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (conversation_id, sha256) DO NOTHING",
        )
        .bind(attachment.tenant_id.to_string())
        .bind(attachment.conversation_id.to_string())
        .bind(attachment.sha256.as_slice())
        .bind(to_i64(attachment.size))
        .bind(kind)
        .bind(uploader.to_string())
        .bind(ms(attachment.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn get_attachment(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        sha256: &Digest,
    ) -> StoreResult<Option<Attachment>> {
        sqlx::query(
            "SELECT tenant_id, conversation_id, sha256, size, uploader_kind, uploader_id,
                    created_at_ms
             FROM attachments WHERE tenant_id = ?1 AND conversation_id = ?2 AND sha256 = ?3",
        )
        .bind(tenant.to_string())
        .bind(conversation.to_string())
        .bind(sha256.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| {
            let what = "attachments";
            AttachmentRow {
                tenant_id: uuid_at(&row, "tenant_id", what)?,
                conversation_id: uuid_at(&row, "conversation_id", what)?,
                sha256: row.try_get("sha256").map_err(db_err)?,
                size: row.try_get("size").map_err(db_err)?,
                uploader_kind: row.try_get("uploader_kind").map_err(db_err)?,
                uploader_id: uuid_at(&row, "uploader_id", what)?,
                created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
            }
            .into_attachment()
        })
        .transpose()
    }

    async fn blob_referenced(&self, sha256: &Digest) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM attachments WHERE sha256 = ?1 LIMIT 1")
                .bind(sha256.as_slice())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(found.is_some())
    }
}
