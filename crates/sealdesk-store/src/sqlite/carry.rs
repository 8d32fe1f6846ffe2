//! Copies carried over at a transfer to another team, on SQLite: stored in the transfer's
//! write transaction, beside the originals they re-seal.

use async_trait::async_trait;
use sealdesk_core::clock::from_unix_ms;
use sealdesk_core::domain::{Conversation, ConversationChange, LogEntry, NewEntry};
use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::{SqliteStore, db_err, uuid_at};
use crate::conversation_rows::{self, ms, to_u64};
use crate::rows::corrupt;
use crate::{Carried, CarriedBundle, CarriedNote, CarryOver, CarryRepo, StoreError, StoreResult};

#[async_trait]
impl CarryRepo for SqliteStore {
    async fn transfer_carrying(
        &self,
        tenant: TenantId,
        id: ConversationId,
        change: &ConversationChange,
        event: Option<&NewEntry>,
        carry: &CarryOver,
    ) -> StoreResult<(Conversation, Option<LogEntry>)> {
        conversation_rows::check_change(tenant, id, change, event)?;
        conversation_rows::check_carry(change, carry)?;
        let mut tx = self.begin_write().await?;
        let changed = super::conversations::change_in(&mut tx, tenant, id, change, event).await?;
        // Dropping `tx` on any error below undoes the change too.
        insert_copies(&mut tx, tenant, id, carry, change.at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(changed)
    }

    async fn carried_bundles(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<Carried<CarriedBundle>>> {
        let rows = super::rows_in_conversation(
            self,
            tenant,
            conversation,
            "SELECT generation, team_id, sealed_bundle, team_key_version, resealed_by,
                    carried_at_ms
             FROM carried_history WHERE tenant_id = ?1 AND conversation_id = ?2
             ORDER BY generation, team_id",
        )
        .await?;
        rows.iter()
            .map(|row| {
                let generation: i64 = row.try_get("generation").map_err(db_err)?;
                let version: i64 = row.try_get("team_key_version").map_err(db_err)?;
                let sealed: Vec<u8> = row.try_get("sealed_bundle").map_err(db_err)?;
                carried(
                    row,
                    CarriedBundle {
                        generation: u32::try_from(generation)
                            .map_err(|e| corrupt("carried_history.generation", e))?,
                        sealed_bundle: sealed.into(),
                        team_key_version: u32::try_from(version)
                            .map_err(|e| corrupt("carried_history.team_key_version", e))?,
                    },
                )
            })
            .collect()
    }

    async fn carried_notes(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<Carried<CarriedNote>>> {
        let rows = super::rows_in_conversation(
            self,
            tenant,
            conversation,
            "SELECT seq, team_id, payload, resealed_by, carried_at_ms
             FROM carried_notes WHERE tenant_id = ?1 AND conversation_id = ?2
             ORDER BY seq, team_id",
        )
        .await?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq").map_err(db_err)?;
                let payload: Vec<u8> = row.try_get("payload").map_err(db_err)?;
                carried(
                    row,
                    CarriedNote {
                        seq: to_u64(seq, "carried_notes.seq")?,
                        payload: payload.into(),
                    },
                )
            })
            .collect()
    }
}

fn carried<T>(row: &SqliteRow, copy: T) -> StoreResult<Carried<T>> {
    Ok(Carried {
        copy,
        team: TeamId::from_uuid(uuid_at(row, "team_id", "carried.team_id")?),
        resealed_by: StaffId::from_uuid(uuid_at(row, "resealed_by", "carried.resealed_by")?),
        carried_at: from_unix_ms(row.try_get("carried_at_ms").map_err(db_err)?),
    })
}

/// Inserts (or replaces) each copy if its original is the conversation's and the re-sealer
/// is the tenant's staff; `NotFound` at the first that is not.
async fn insert_copies(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: ConversationId,
    carry: &CarryOver,
    at: time::OffsetDateTime,
) -> StoreResult<()> {
    for bundle in &carry.bundles {
        let inserted = sqlx::query(
            "INSERT INTO carried_history (conversation_id, generation, team_id, tenant_id,
                                          sealed_bundle, team_key_version, resealed_by,
                                          carried_at_ms)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
             WHERE EXISTS (SELECT 1 FROM conversation_history
                           WHERE tenant_id = ?4 AND conversation_id = ?1 AND generation = ?2)
               AND EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?4 AND id = ?7)
             ON CONFLICT (conversation_id, generation, team_id) DO UPDATE SET
                 sealed_bundle = excluded.sealed_bundle,
                 team_key_version = excluded.team_key_version,
                 resealed_by = excluded.resealed_by,
                 carried_at_ms = excluded.carried_at_ms",
        )
        .bind(id.to_string())
        .bind(i64::from(bundle.generation))
        .bind(carry.team.to_string())
        .bind(tenant.to_string())
        .bind(bundle.sealed_bundle.as_ref())
        .bind(i64::from(bundle.team_key_version))
        .bind(carry.resealed_by.to_string())
        .bind(ms(at))
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
    }
    for note in &carry.notes {
        let seq = i64::try_from(note.seq).map_err(|_| StoreError::NotFound)?;
        let inserted = sqlx::query(
            "INSERT INTO carried_notes (conversation_id, seq, team_id, tenant_id, payload,
                                        resealed_by, carried_at_ms)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
             WHERE EXISTS (SELECT 1 FROM notes
                           WHERE tenant_id = ?4 AND conversation_id = ?1 AND seq = ?2)
               AND EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?4 AND id = ?6)
             ON CONFLICT (conversation_id, seq, team_id) DO UPDATE SET
                 payload = excluded.payload,
                 resealed_by = excluded.resealed_by,
                 carried_at_ms = excluded.carried_at_ms",
        )
        .bind(id.to_string())
        .bind(seq)
        .bind(carry.team.to_string())
        .bind(tenant.to_string())
        .bind(note.payload.as_ref())
        .bind(carry.resealed_by.to_string())
        .bind(ms(at))
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}
