//! Internal notes and canned responses on PostgreSQL. A note takes the next number from its
//! conversation's `note_seq` counter (a row lock until the commit) in the same transaction
//! that inserts it.

use async_trait::async_trait;
use sealdesk_proto::{CannedResponseId, ConversationId, StaffId, TeamId, TenantId};
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{PgStore, db_err};
use crate::conversation_rows::{CannedRow, NoteRow, ms, to_u64};
use crate::rows::stored_time;
use crate::{CannedResponse, Note, NoteRepo, StoreError, StoreResult};

#[async_trait]
impl NoteRepo for PgStore {
    async fn add_note(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
        author: StaffId,
        payload: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<Note> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let seq: i64 = sqlx::query_scalar(
            "UPDATE conversations SET note_seq = note_seq + 1
             WHERE tenant_id = $1 AND id = $2 RETURNING note_seq",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let inserted = sqlx::query(
            "INSERT INTO notes (tenant_id, conversation_id, seq, author_id, payload, created_at_ms)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE EXISTS (SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $4)",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .bind(seq)
        .bind(author.as_uuid())
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
        // The conversation check and the notes in one statement (one snapshot).
        let rows = sqlx::query(
            "SELECT c.id AS conversation_id, n.seq, n.author_id, n.payload, n.created_at_ms
             FROM conversations c
             LEFT JOIN notes n ON n.tenant_id = c.tenant_id AND n.conversation_id = c.id
             WHERE c.tenant_id = $1 AND c.id = $2
             ORDER BY n.seq",
        )
        .bind(tenant.as_uuid())
        .bind(conversation.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        let mut notes = Vec::with_capacity(rows.len());
        for row in &rows {
            if row
                .try_get::<Option<i64>, _>("seq")
                .map_err(db_err)?
                .is_some()
            {
                notes.push(note_row(row)?.into_note()?);
            }
        }
        Ok(notes)
    }

    async fn create_canned_response(&self, response: &CannedResponse) -> StoreResult<()> {
        let inserted = sqlx::query(
            "INSERT INTO canned_responses (id, tenant_id, team_id, payload, created_by,
                                           created_at_ms)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE EXISTS (SELECT 1 FROM teams WHERE tenant_id = $2 AND id = $3)
               AND EXISTS (SELECT 1 FROM staff WHERE tenant_id = $2 AND id = $5)",
        )
        .bind(response.id.as_uuid())
        .bind(response.tenant_id.as_uuid())
        .bind(response.team_id.as_uuid())
        .bind(response.payload.as_ref())
        .bind(response.created_by.as_uuid())
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
             FROM canned_responses WHERE tenant_id = $1 AND team_id = $2
             ORDER BY created_at_ms, id",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|row| {
            Ok(CannedRow {
                id: row.try_get("id").map_err(db_err)?,
                tenant_id: row.try_get("tenant_id").map_err(db_err)?,
                team_id: row.try_get("team_id").map_err(db_err)?,
                payload: row.try_get("payload").map_err(db_err)?,
                created_by: row.try_get("created_by").map_err(db_err)?,
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
            "UPDATE canned_responses SET payload = $4, created_by = $5, created_at_ms = $6
             WHERE tenant_id = $1 AND team_id = $2 AND id = $3 AND payload = $7
               AND EXISTS (SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $5)",
        )
        .bind(response.tenant_id.as_uuid())
        .bind(response.team_id.as_uuid())
        .bind(response.id.as_uuid())
        .bind(response.payload.as_ref())
        .bind(response.created_by.as_uuid())
        .bind(ms(response.created_at))
        .bind(expected)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if replaced.rows_affected() > 0 {
            return Ok(true);
        }
        // Nothing replaced: a changed payload, or no such response or author.
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM canned_responses
             WHERE tenant_id = $1 AND team_id = $2 AND id = $3
               AND EXISTS (SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $4)",
        )
        .bind(response.tenant_id.as_uuid())
        .bind(response.team_id.as_uuid())
        .bind(response.id.as_uuid())
        .bind(response.created_by.as_uuid())
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
            "DELETE FROM canned_responses WHERE tenant_id = $1 AND team_id = $2 AND id = $3",
        )
        .bind(tenant.as_uuid())
        .bind(team.as_uuid())
        .bind(id.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(deleted.rows_affected() > 0)
    }
}

fn note_row(row: &PgRow) -> StoreResult<NoteRow> {
    Ok(NoteRow {
        conversation_id: row.try_get("conversation_id").map_err(db_err)?,
        seq: row.try_get("seq").map_err(db_err)?,
        author_id: row.try_get("author_id").map_err(db_err)?,
        payload: row.try_get("payload").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
    })
}
