//! Attachment references on PostgreSQL: which conversation references which blob.

use async_trait::async_trait;
use sealdesk_core::auth::Digest;
use sealdesk_proto::{ConversationId, TenantId};
use sqlx::Row;

use super::{PgStore, db_err};
use crate::conversation_rows::{AttachmentRow, ms, to_i64, uploader_parts};
use crate::{Attachment, AttachmentRepo, StoreError, StoreResult};

#[async_trait]
impl AttachmentRepo for PgStore {
    async fn add_attachment(&self, attachment: &Attachment) -> StoreResult<()> {
        let (kind, uploader) = uploader_parts(attachment.uploaded_by);
        // Idempotent: the first reference of a blob from a conversation stays as it was. The
        // outer query reports whether the conversation exists, inserted or not.
        let exists: bool = sqlx::query_scalar(
            "WITH ok AS (
                 SELECT EXISTS (SELECT 1 FROM conversations WHERE tenant_id = $1 AND id = $2)
                        AS conv
             ), ins AS (
                 INSERT INTO attachments (tenant_id, conversation_id, sha256, size,
                                          uploader_kind, uploader_id, created_at_ms)
                 SELECT $1, $2, $3, $4, $5, $6, $7 FROM ok WHERE ok.conv
                 ON CONFLICT (conversation_id, sha256) DO NOTHING
             )
             SELECT conv FROM ok",
        )
        .bind(attachment.tenant_id.as_uuid())
        .bind(attachment.conversation_id.as_uuid())
        .bind(attachment.sha256.as_slice())
        .bind(to_i64(attachment.size))
        .bind(kind)
        .bind(uploader)
        .bind(ms(attachment.created_at))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        if exists {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
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
             FROM attachments WHERE tenant_id = $1 AND conversation_id = $2 AND sha256 = $3",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .bind(sha256.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| {
            AttachmentRow {
                tenant_id: row.try_get("tenant_id").map_err(db_err)?,
                conversation_id: row.try_get("conversation_id").map_err(db_err)?,
                sha256: row.try_get("sha256").map_err(db_err)?,
                size: row.try_get("size").map_err(db_err)?,
                uploader_kind: row.try_get("uploader_kind").map_err(db_err)?,
                uploader_id: row.try_get("uploader_id").map_err(db_err)?,
                created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
            }
            .into_attachment()
        })
        .transpose()
    }

    async fn blob_referenced(&self, sha256: &Digest) -> StoreResult<bool> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = $1)")
            .bind(sha256.as_slice())
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }
}
