//! Conversations and their routing state on SQLite. A guarded change is one conditional
//! `UPDATE` inside a `BEGIN IMMEDIATE` transaction: the guard is part of its `WHERE`, so of
//! two concurrent claims exactly one matches a row.

use async_trait::async_trait;
use sealdesk_core::domain::{
    Conversation, ConversationChange, ConversationState, LogEntry, NewConversation, NewEntry,
};
use sealdesk_proto::{ConversationId, StaffId, TenantId};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use time::OffsetDateTime;

use super::{SqliteStore, db_err, opt_uuid_at, uuid_at};
use crate::conversation_rows::{
    self, CONVERSATION_COLUMNS, ConversationRow, MAX_CONVERSATIONS, ms,
};
use crate::log_batch;
use crate::{Constraint, ConversationFilter, ConversationRepo, StoreError, StoreResult};

#[async_trait]
impl ConversationRepo for SqliteStore {
    async fn create_conversation(
        &self,
        conversation: &NewConversation,
    ) -> StoreResult<Conversation> {
        // One statement: team, visitor and the reopened conversation (closed, same visitor)
        // are checked in the tenant as the row is written.
        let inserted = sqlx::query(
            "INSERT INTO conversations (id, tenant_id, team_id, visitor_id, state, reopened_from,
                                        created_at_ms, updated_at_ms, consent_notice)
             SELECT ?1, ?2, ?3, ?4, 'open', ?5, ?6, ?6, ?7
             WHERE EXISTS (SELECT 1 FROM teams WHERE tenant_id = ?2 AND id = ?3)
               AND EXISTS (SELECT 1 FROM visitors WHERE tenant_id = ?2 AND id = ?4)
               AND (?5 IS NULL OR EXISTS (
                     SELECT 1 FROM conversations
                     WHERE tenant_id = ?2 AND id = ?5 AND visitor_id = ?4 AND state = 'closed'))",
        )
        .bind(conversation.id.to_string())
        .bind(conversation.tenant_id.to_string())
        .bind(conversation.team_id.to_string())
        .bind(conversation.visitor_id.to_string())
        .bind(conversation.reopened_from.map(|id| id.to_string()))
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
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = ?1 AND id = ?2"
        ))
        .bind(tenant.to_string())
        .bind(id.to_string())
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
        if filter.teams.as_ref().is_some_and(Vec::is_empty)
            || filter.states.as_ref().is_some_and(Vec::is_empty)
        {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = "
        ));
        query.push_bind(tenant.to_string());
        if let Some(teams) = &filter.teams {
            query.push(" AND team_id IN (");
            let mut list = query.separated(", ");
            for team in teams {
                list.push_bind(team.to_string());
            }
            query.push(")");
        }
        if let Some(states) = &filter.states {
            query.push(" AND state IN (");
            let mut list = query.separated(", ");
            for state in states {
                list.push_bind(state.as_str());
            }
            query.push(")");
        }
        if let Some(assignee) = filter.assignee {
            query
                .push(" AND assignee_id = ")
                .push_bind(assignee.to_string());
        }
        if let Some(visitor) = filter.visitor {
            query
                .push(" AND visitor_id = ")
                .push_bind(visitor.to_string());
        }
        if let Some(before) = filter.before {
            query.push(" AND id < ").push_bind(before.to_string());
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
        let mut tx = self.begin_write().await?;
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
        let mut tx = self.begin_write().await?;
        let found: Option<(i64, i64)> = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM conversations WHERE tenant_id = ?1 AND id = ?2),
                    EXISTS (SELECT 1 FROM staff WHERE tenant_id = ?1 AND id = ?3)",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(staff.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if found != Some((1, 1)) {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO conversation_participants (tenant_id, conversation_id, staff_id,
                                                    added_at_ms)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (conversation_id, staff_id) DO NOTHING",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(staff.to_string())
        .bind(ms(at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn is_participant(
        &self,
        tenant: TenantId,
        id: ConversationId,
        staff: StaffId,
    ) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT c.assignee_id IS ?3 OR EXISTS (
                        SELECT 1 FROM conversation_participants p
                        WHERE p.conversation_id = c.id AND p.staff_id = ?3)
             FROM conversations c WHERE c.tenant_id = ?1 AND c.id = ?2",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(staff.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        found.map(|yes| yes != 0).ok_or(StoreError::NotFound)
    }
}

/// The state names a guard accepts, as a JSON array.
fn states_json(states: &[ConversationState]) -> StoreResult<String> {
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    serde_json::to_string(&names).map_err(|e| StoreError::Other(sqlx::Error::Encode(e.into())))
}

/// The guarded change and its event, inside the caller's write transaction (see
/// `ConversationRepo::change_conversation`; the caller checked it with `check_change`).
pub(super) async fn change_in(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: ConversationId,
    change: &ConversationChange,
    event: Option<&NewEntry>,
) -> StoreResult<(Conversation, Option<LogEntry>)> {
    let Some(row) = guarded_update(conn, tenant, id, change, event.is_some()).await? else {
        // Nothing matched: either there is no such conversation, or the guard failed.
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM conversations WHERE tenant_id = ?1 AND id = ?2")
                .bind(tenant.to_string())
                .bind(id.to_string())
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
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: ConversationId,
    change: &ConversationChange,
    with_event: bool,
) -> StoreResult<Option<SqliteRow>> {
    let to = change.to.as_str();
    sqlx::query(&format!(
        "UPDATE conversations SET
             state = ?3,
             assignee_id = ?4,
             team_id = coalesce(?5, team_id),
             last_seq = last_seq + ?6,
             updated_at_ms = max(updated_at_ms, ?7),
             closed_at_ms = CASE WHEN ?3 = 'closed' THEN ?7 END
         WHERE tenant_id = ?1 AND id = ?2
           AND state IN (SELECT value FROM json_each(?8))
           AND (?9 = 0 OR assignee_id IS ?10)
           AND (?4 IS NULL OR EXISTS (
                 SELECT 1 FROM staff WHERE tenant_id = ?1 AND id = ?4 AND disabled = 0))
           AND (?5 IS NULL OR EXISTS (SELECT 1 FROM teams WHERE tenant_id = ?1 AND id = ?5))
         RETURNING rid, {CONVERSATION_COLUMNS}"
    ))
    .bind(tenant.to_string())
    .bind(id.to_string())
    .bind(to)
    .bind(change.assignee.map(|a| a.to_string()))
    .bind(change.team_id.map(|t| t.to_string()))
    .bind(i64::from(with_event))
    .bind(ms(change.at))
    .bind(states_json(&change.from)?)
    .bind(change.expect_assignee.is_some())
    .bind(change.expect_assignee.flatten().map(|a| a.to_string()))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)
}

/// Remembers when `agent` was last given a conversation (round robin and least-busy ties).
async fn note_assignment(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    agent: StaffId,
    at: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO staff_availability (staff_id, tenant_id, availability, capacity,
                                         updated_at_ms, last_assigned_at_ms)
         VALUES (?1, ?2, 'offline', ?3, ?4, ?4)
         ON CONFLICT (staff_id) DO UPDATE SET last_assigned_at_ms =
             max(coalesce(last_assigned_at_ms, excluded.last_assigned_at_ms),
                 excluded.last_assigned_at_ms)",
    )
    .bind(agent.to_string())
    .bind(tenant.to_string())
    .bind(i64::from(sealdesk_core::routing::DEFAULT_CAPACITY))
    .bind(ms(at))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn conversation_row(row: &SqliteRow) -> StoreResult<ConversationRow> {
    let what = "conversations";
    Ok(ConversationRow {
        id: uuid_at(row, "id", what)?,
        tenant_id: uuid_at(row, "tenant_id", what)?,
        team_id: uuid_at(row, "team_id", what)?,
        visitor_id: uuid_at(row, "visitor_id", what)?,
        state: row.try_get("state").map_err(db_err)?,
        assignee_id: opt_uuid_at(row, "assignee_id", what)?,
        reopened_from: opt_uuid_at(row, "reopened_from", what)?,
        last_seq: row.try_get("last_seq").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
        updated_at_ms: row.try_get("updated_at_ms").map_err(db_err)?,
        closed_at_ms: row.try_get("closed_at_ms").map_err(db_err)?,
        consent_notice: row.try_get("consent_notice").map_err(db_err)?,
        erasure_requested_at_ms: row.try_get("erasure_requested_at_ms").map_err(db_err)?,
    })
}
