//! Conversations and their routing state on PostgreSQL. A guarded change is one conditional
//! `UPDATE`: the guard is part of its `WHERE`, and a second concurrent claim waits for the
//! first one's row lock, then re-checks the guard against the committed row and matches
//! nothing (READ COMMITTED re-evaluation), so exactly one wins.

use async_trait::async_trait;
use sealdesk_core::domain::{
    Conversation, ConversationChange, LogEntry, NewConversation, NewEntry,
};
use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{PgStore, db_err};
use crate::conversation_rows::{
    self, CONVERSATION_COLUMNS, ConversationRow, MAX_CONVERSATIONS, ms,
};
use crate::log_batch;
use crate::{Constraint, ConversationFilter, ConversationRepo, StoreError, StoreResult};

#[async_trait]
impl ConversationRepo for PgStore {
    async fn create_conversation(
        &self,
        conversation: &NewConversation,
    ) -> StoreResult<Conversation> {
        // One statement: team, visitor and the reopened conversation (closed, same visitor)
        // are checked in the tenant as the row is written.
        let inserted = sqlx::query(
            "INSERT INTO conversations (id, tenant_id, team_id, visitor_id, state, reopened_from,
                                        created_at_ms, updated_at_ms, consent_notice)
             SELECT $1, $2, $3, $4, 'open', $5, $6, $6, $7
             WHERE EXISTS (SELECT 1 FROM teams WHERE tenant_id = $2 AND id = $3)
               AND EXISTS (SELECT 1 FROM visitors WHERE tenant_id = $2 AND id = $4)
               AND ($5::UUID IS NULL OR EXISTS (
                     SELECT 1 FROM conversations
                     WHERE tenant_id = $2 AND id = $5 AND visitor_id = $4 AND state = 'closed'))",
        )
        .bind(conversation.id.as_uuid())
        .bind(conversation.tenant_id.as_uuid())
        .bind(conversation.team_id.as_uuid())
        .bind(conversation.visitor_id.as_uuid())
        .bind(conversation.reopened_from.map(|id| id.as_uuid()))
        .bind(ms(conversation.created_at))
        .bind(conversation.consent_notice.as_deref())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(conversation_rows::created_conversation(conversation))
    }

    async fn get_conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> StoreResult<Conversation> {
        let row = sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        conversation_row(&row)?.into_conversation()
    }

    async fn list_conversations(
        &self,
        tenant: TenantId,
        filter: &ConversationFilter,
    ) -> StoreResult<Vec<Conversation>> {
        let mut query = QueryBuilder::<Postgres>::new(format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = "
        ));
        query.push_bind(tenant.as_uuid());
        if let Some(teams) = &filter.teams {
            let teams: Vec<Uuid> = teams.iter().map(TeamId::as_uuid).collect();
            query.push(" AND team_id = ANY(").push_bind(teams).push(")");
        }
        if let Some(states) = &filter.states {
            let states: Vec<&'static str> = states.iter().map(|s| s.as_str()).collect();
            query.push(" AND state = ANY(").push_bind(states).push(")");
        }
        if let Some(assignee) = filter.assignee {
            query
                .push(" AND assignee_id = ")
                .push_bind(assignee.as_uuid());
        }
        if let Some(visitor) = filter.visitor {
            query
                .push(" AND visitor_id = ")
                .push_bind(visitor.as_uuid());
        }
        if let Some(before) = filter.before {
            query.push(" AND id < ").push_bind(before.as_uuid());
        }
        query
            .push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(filter.limit.min(MAX_CONVERSATIONS)));
        query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|row| conversation_row(row)?.into_conversation())
            .collect()
    }

    async fn change_conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
        change: &ConversationChange,
        event: Option<&NewEntry>,
    ) -> StoreResult<(Conversation, Option<LogEntry>)> {
        conversation_rows::check_change(tenant, id, change, event)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let changed = change_in(&mut tx, tenant, id, change, event).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(changed)
    }

    async fn add_participant(
        &self,
        tenant: TenantId,
        id: ConversationId,
        staff: StaffId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let inserted = sqlx::query(
            "INSERT INTO conversation_participants (tenant_id, conversation_id, staff_id,
                                                    added_at_ms)
             SELECT $1, $2, $3, $4
             WHERE EXISTS (SELECT 1 FROM conversations WHERE tenant_id = $1 AND id = $2)
               AND EXISTS (SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $3)
             ON CONFLICT (conversation_id, staff_id) DO NOTHING",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(staff.as_uuid())
        .bind(ms(at))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 1 || self.is_participant(tenant, id, staff).await? {
            Ok(())
        } else {
            // Nothing inserted and not a participant: the staff member is not the tenant's.
            Err(StoreError::NotFound)
        }
    }

    async fn is_participant(
        &self,
        tenant: TenantId,
        id: ConversationId,
        staff: StaffId,
    ) -> StoreResult<bool> {
        let found: Option<bool> = sqlx::query_scalar(
            "SELECT c.assignee_id IS NOT DISTINCT FROM $3 OR EXISTS (
                        SELECT 1 FROM conversation_participants p
                        WHERE p.conversation_id = c.id AND p.staff_id = $3)
             FROM conversations c WHERE c.tenant_id = $1 AND c.id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(staff.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        found.ok_or(StoreError::NotFound)
    }
}

/// The guarded change and its event, inside the caller's transaction (see
/// `ConversationRepo::change_conversation`; the caller checked it with `check_change`).
pub(super) async fn change_in(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ConversationId,
    change: &ConversationChange,
    event: Option<&NewEntry>,
) -> StoreResult<(Conversation, Option<LogEntry>)> {
    let Some(row) = guarded_update(conn, tenant, id, change, event.is_some()).await? else {
        // Nothing matched: either there is no such conversation, or the guard failed.
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM conversations WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?;
        return Err(match exists {
            None => StoreError::NotFound,
            Some(_) => StoreError::Conflict {
                constraint: Constraint::ConversationState,
            },
        });
    };
    let rid: i64 = row.try_get("rid").map_err(db_err)?;
    let conversation = conversation_row(&row)?.into_conversation()?;
    if let Some(agent) = change.assignee {
        note_assignment(conn, tenant, agent, change.at).await?;
    }
    let appended = match event {
        Some(event) => {
            // The row lock taken by the UPDATE keeps appends to this conversation out
            // until the commit, so `last_seq` (already counting the event) is ours.
            let seq = conversation.last_seq;
            let rows = [log_batch::Row {
                rid,
                seq,
                entry: event,
            }];
            super::log::insert_rows(conn, &rows).await?;
            Some(log_batch::appended(event, seq))
        }
        None => None,
    };
    Ok((conversation, appended))
}

/// Applies the change if its guard holds; the changed row, or `None`.
async fn guarded_update(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ConversationId,
    change: &ConversationChange,
    with_event: bool,
) -> StoreResult<Option<PgRow>> {
    let from: Vec<&'static str> = change.from.iter().map(|s| s.as_str()).collect();
    sqlx::query(&format!(
        "UPDATE conversations SET
             state = $3,
             assignee_id = $4,
             team_id = COALESCE($5, team_id),
             last_seq = last_seq + $6,
             updated_at_ms = GREATEST(updated_at_ms, $7),
             closed_at_ms = CASE WHEN $3 = 'closed' THEN $7 END
         WHERE tenant_id = $1 AND id = $2
           AND state = ANY($8)
           AND (NOT $9 OR assignee_id IS NOT DISTINCT FROM $10)
           AND ($4::UUID IS NULL OR EXISTS (
                 SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $4 AND NOT disabled))
           AND ($5::UUID IS NULL OR EXISTS (
                 SELECT 1 FROM teams WHERE tenant_id = $1 AND id = $5))
         RETURNING rid, {CONVERSATION_COLUMNS}"
    ))
    .bind(tenant.as_uuid())
    .bind(id.as_uuid())
    .bind(change.to.as_str())
    .bind(change.assignee.map(|a| a.as_uuid()))
    .bind(change.team_id.map(|t| t.as_uuid()))
    .bind(i64::from(with_event))
    .bind(ms(change.at))
    .bind(from)
    .bind(change.expect_assignee.is_some())
    .bind(change.expect_assignee.flatten().map(|a| a.as_uuid()))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)
}

/// Remembers when `agent` was last given a conversation (round robin and least-busy ties).
async fn note_assignment(
    conn: &mut PgConnection,
    tenant: TenantId,
    agent: StaffId,
    at: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO staff_availability (staff_id, tenant_id, availability, capacity,
                                         updated_at_ms, last_assigned_at_ms)
         VALUES ($1, $2, 'offline', $3, $4, $4)
         ON CONFLICT (staff_id) DO UPDATE SET last_assigned_at_ms =
             GREATEST(staff_availability.last_assigned_at_ms, excluded.last_assigned_at_ms)",
    )
    .bind(agent.as_uuid())
    .bind(tenant.as_uuid())
    .bind(i32::from(sealdesk_core::routing::DEFAULT_CAPACITY))
    .bind(ms(at))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn conversation_row(row: &PgRow) -> StoreResult<ConversationRow> {
    Ok(ConversationRow {
        id: row.try_get("id").map_err(db_err)?,
        tenant_id: row.try_get("tenant_id").map_err(db_err)?,
        team_id: row.try_get("team_id").map_err(db_err)?,
        visitor_id: row.try_get("visitor_id").map_err(db_err)?,
        state: row.try_get("state").map_err(db_err)?,
        assignee_id: row.try_get("assignee_id").map_err(db_err)?,
        reopened_from: row.try_get("reopened_from").map_err(db_err)?,
        last_seq: row.try_get("last_seq").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
        updated_at_ms: row.try_get("updated_at_ms").map_err(db_err)?,
        closed_at_ms: row.try_get("closed_at_ms").map_err(db_err)?,
        consent_notice: row.try_get("consent_notice").map_err(db_err)?,
        erasure_requested_at_ms: row.try_get("erasure_requested_at_ms").map_err(db_err)?,
    })
}
