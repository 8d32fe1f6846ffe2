//! Internal notes and canned responses on SQLite. A note takes the next number from its
//! conversation's `note_seq` counter in the same transaction that inserts it.

use async_trait::async_trait;
use sealdesk_proto::{CannedResponseId, ConversationId, StaffId, TeamId, TenantId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use super::{SqliteStore, db_err, uuid_at};
use crate::conversation_rows::{CannedRow, NoteRow, ms, to_u64};
use crate::rows::stored_time;
use crate::{CannedResponse, Note, NoteRepo, StoreError, StoreResult};

#[async_trait]
impl NoteRepo for SqliteStore {
    async fn add_note(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        author: StaffId,
        payload: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<Note> {
        let mut tx = self.begin_write().await?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE conversations SET note_seq = note_seq + 1
             WHERE tenant_id = ?1 AND id = ?2 RETURNING note_seq",
        )
        .bind(tenant.to_string())
        .bind(conversation.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let inserted = sqlx::query(
            "INSERT INTO notes (tenant_id, conversation_id, seq, author_id, payload, created_at_ms)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6
             WHERE EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?1 AND id = ?4)",
        )
        .bind(tenant.to_string())
        .bind(conversation.to_string())
        .bind(seq)
        .bind(author.to_string())
        .bind(payload)
        .bind(ms(at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            // Dropping `tx` rolls the counter back.
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db_err)?;
        Ok(Note {
            conversation_id: conversation,
            seq: to_u64(seq, "notes.seq")?,
            author,
            payload: payload.to_vec().into(),
            created_at: stored_time(at),
        })
    }

    async fn list_notes(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<Note>> {
        let rows = super::rows_in_conversation(
            self,
            tenant,
            conversation,
            "SELECT conversation_id, seq, author_id, payload, created_at_ms FROM notes
             WHERE tenant_id = ?1 AND conversation_id = ?2 ORDER BY seq",
        )
        .await?;
        rows.iter().map(|row| note_row(row)?.into_note()).collect()
    }

    async fn create_canned_response(&self, response: &CannedResponse) -> StoreResult<()> {
        let inserted = sqlx::query(
            "INSERT INTO canned_responses (id, tenant_id, team_id, payload, created_by,
                                           created_at_ms)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6
             WHERE EXISTS (SELECT 1 FROM teams WHERE tenant_id = ?2 AND id = ?3)
               AND EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?2 AND id = ?5)",
        )
        .bind(response.id.to_string())
        .bind(response.tenant_id.to_string())
        .bind(response.team_id.to_string())
        .bind(response.payload.as_ref())
        .bind(response.created_by.to_string())
        .bind(ms(response.created_at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn list_canned_responses(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> StoreResult<Vec<CannedResponse>> {
        sqlx::query(
            "SELECT id, tenant_id, team_id, payload, created_by, created_at_ms
             FROM canned_responses WHERE tenant_id = ?1 AND team_id = ?2
             ORDER BY created_at_ms, id",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            let what = "canned_responses";
            Ok(CannedRow {
                id: uuid_at(row, "id", what)?,
                tenant_id: uuid_at(row, "tenant_id", what)?,
                team_id: uuid_at(row, "team_id", what)?,
                payload: row.try_get("payload").map_err(db_err)?,
                created_by: uuid_at(row, "created_by", what)?,
                created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
            }
            .into_canned())
        })
        .collect()
    }

    async fn replace_canned_response(
        &self,
        response: &CannedResponse,
        expected: &[u8],
    ) -> StoreResult<bool> {
        // One statement: the payload is compared and replaced atomically, so of two writers
        // that read the same payload only the first replaces it.
        let replaced = sqlx::query(
            "UPDATE canned_responses SET payload = ?4, created_by = ?5, created_at_ms = ?6
             WHERE tenant_id = ?1 AND team_id = ?2 AND id = ?3 AND payload = ?7
               AND EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?1 AND id = ?5)",
        )
        .bind(response.tenant_id.to_string())
        .bind(response.team_id.to_string())
        .bind(response.id.to_string())
        .bind(response.payload.as_ref())
        .bind(response.created_by.to_string())
        .bind(ms(response.created_at))
        .bind(expected)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if replaced.rows_affected() > 0 {
            return Ok(true);
        }
        // Nothing replaced: a changed payload, or no such response or author.
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM canned_responses
             WHERE tenant_id = ?1 AND team_id = ?2 AND id = ?3
               AND EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?1 AND id = ?4)",
        )
        .bind(response.tenant_id.to_string())
        .bind(response.team_id.to_string())
        .bind(response.id.to_string())
        .bind(response.created_by.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match found {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound),
        }
    }

    async fn delete_canned_response(
        &self,
        tenant: TenantId,
        team: TeamId,
        id: CannedResponseId,
    ) -> StoreResult<bool> {
        let deleted = sqlx::query(
            "DELETE FROM canned_responses WHERE tenant_id = ?1 AND team_id = ?2 AND id = ?3",
        )
        .bind(tenant.to_string())
        .bind(team.to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(deleted.rows_affected() > 0)
    }
}

fn note_row(row: &SqliteRow) -> StoreResult<NoteRow> {
    Ok(NoteRow {
        conversation_id: uuid_at(row, "conversation_id", "notes.conversation_id")?,
        seq: row.try_get("seq").map_err(db_err)?,
        author_id: uuid_at(row, "author_id", "notes.author_id")?,
        payload: row.try_get("payload").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
    })
}
