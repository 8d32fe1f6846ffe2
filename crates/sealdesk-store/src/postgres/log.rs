//! The conversation logs on PostgreSQL. `append_batch` is the hot path: a batch is a fixed
//! handful of statements whatever its size (see `crate::log_batch`), with the entries passed
//! as arrays and expanded by `unnest`. The conversations' rows are locked (`FOR UPDATE`, in
//! `rid` order so that two batches never deadlock), so concurrent batches, even from several
//! nodes, number each conversation's entries without gaps or duplicates.

use std::collections::HashMap;

use async_trait::async_trait;
use sealdesk_core::domain::{AppendOutcome, ClientMsgId, LogEntry, NewEntry};
use sealdesk_proto::{ConversationId, TenantId};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::{PgStore, db_err};
use crate::conversation_rows::{self, LogRow, MAX_LOG_READ, to_i64};
use crate::log_batch::{self, Head, Moved, SendKey};
use crate::{LogRepo, StoreError, StoreResult};

#[async_trait]
impl LogRepo for PgStore {
    async fn append_batch(&self, entries: &[NewEntry]) -> StoreResult<Vec<AppendOutcome>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let heads = load_heads(&mut tx, &log_batch::conversations(entries)).await?;
        let lookups = log_batch::lookups(entries, &heads);
        let existing = load_sends(&mut tx, &lookups).await?;
        let plan = log_batch::plan(entries, heads, existing);
        insert_rows(&mut tx, &plan.rows).await?;
        move_heads(&mut tx, &plan.moved).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(plan.outcomes)
    }

    async fn read_log(
        &self,
        tenant: TenantId,
        id: ConversationId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<LogEntry>> {
        // The conversation check and the entries in one statement (one snapshot); the LEFT
        // JOIN keeps a row for an existing conversation with no entries after `after`.
        let rows = sqlx::query(
            "SELECT l.seq, l.kind, l.sender_kind, l.sender_id, l.client_msg_id, l.payload,
                    l.created_at_ms
             FROM conversations c
             LEFT JOIN LATERAL (
                 SELECT * FROM log_entries
                 WHERE conv = c.rid AND seq > $3 ORDER BY seq LIMIT $4
             ) l ON TRUE
             WHERE c.tenant_id = $1 AND c.id = $2
             ORDER BY l.seq",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(to_i64(after))
        .bind(i64::from(limit.min(MAX_LOG_READ)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            if row
                .try_get::<Option<i64>, _>("seq")
                .map_err(db_err)?
                .is_none()
            {
                continue; // the conversation's row without entries
            }
            entries.push(log_row(row, tenant, id)?.into_entry()?);
        }
        Ok(entries)
    }
}

fn log_row(row: &PgRow, tenant: TenantId, id: ConversationId) -> StoreResult<LogRow> {
    Ok(LogRow {
        tenant_id: tenant,
        conversation_id: id,
        seq: row.try_get("seq").map_err(db_err)?,
        kind: row.try_get("kind").map_err(db_err)?,
        sender_kind: row.try_get("sender_kind").map_err(db_err)?,
        sender_id: row.try_get("sender_id").map_err(db_err)?,
        client_msg_id: row.try_get("client_msg_id").map_err(db_err)?,
        payload: row.try_get("payload").map_err(db_err)?,
        created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
    })
}

/// The heads of the conversations `ids`, locked until the commit, in one statement.
async fn load_heads(
    conn: &mut PgConnection,
    ids: &[ConversationId],
) -> StoreResult<HashMap<ConversationId, Head>> {
    let ids: Vec<Uuid> = ids.iter().map(ConversationId::as_uuid).collect();
    let rows = sqlx::query(
        "SELECT rid, id, tenant_id, state, last_seq FROM conversations
         WHERE id = ANY($1) ORDER BY rid FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    let mut heads = HashMap::with_capacity(rows.len());
    for row in &rows {
        let id = ConversationId::from_uuid(row.try_get("id").map_err(db_err)?);
        let what = format!("conversation {id}");
        heads.insert(
            id,
            Head {
                rid: row.try_get("rid").map_err(db_err)?,
                tenant_id: TenantId::from_uuid(row.try_get("tenant_id").map_err(db_err)?),
                state: conversation_rows::parse_state(
                    row.try_get("state").map_err(db_err)?,
                    &what,
                )?,
                last_seq: conversation_rows::to_u64(
                    row.try_get("last_seq").map_err(db_err)?,
                    &what,
                )?,
            },
        );
    }
    Ok(heads)
}

/// The earlier entries with these (conversation, client message id) pairs, in one statement.
async fn load_sends(
    conn: &mut PgConnection,
    lookups: &[(i64, &str)],
) -> StoreResult<HashMap<SendKey, u64>> {
    if lookups.is_empty() {
        return Ok(HashMap::new());
    }
    let (convs, ids): (Vec<i64>, Vec<&str>) = lookups.iter().copied().unzip();
    let rows = sqlx::query(
        "SELECT l.conv, l.seq, l.sender_kind, l.sender_id, l.client_msg_id
         FROM unnest($1::BIGINT[], $2::TEXT[]) AS k (conv, client_msg_id)
         JOIN log_entries l ON l.conv = k.conv AND l.client_msg_id = k.client_msg_id
         WHERE l.client_msg_id IS NOT NULL",
    )
    .bind(&convs)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    let mut sends = HashMap::with_capacity(rows.len());
    for row in &rows {
        let what = "log_entries";
        let key = SendKey {
            rid: row.try_get("conv").map_err(db_err)?,
            client_msg_id: row.try_get("client_msg_id").map_err(db_err)?,
            sender: conversation_rows::party(
                row.try_get("sender_kind").map_err(db_err)?,
                row.try_get("sender_id").map_err(db_err)?,
                what,
            )?,
        };
        let seq = conversation_rows::to_u64(row.try_get("seq").map_err(db_err)?, what)?;
        sends.insert(key, seq);
    }
    Ok(sends)
}

/// Inserts planned entries in one statement.
pub(super) async fn insert_rows(
    conn: &mut PgConnection,
    rows: &[log_batch::Row<'_>],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let (mut convs, mut seqs, mut kinds, mut sender_kinds) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut sender_ids, mut client_ids, mut payloads, mut times) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for row in rows {
        let e = row.entry;
        convs.push(row.rid);
        seqs.push(to_i64(row.seq));
        kinds.push(e.kind.code());
        sender_kinds.push(e.sender.code());
        sender_ids.push(e.sender.id());
        client_ids.push(e.client_msg_id.as_ref().map(ClientMsgId::as_str));
        payloads.push(e.payload.as_ref());
        times.push(conversation_rows::ms(e.at));
    }
    sqlx::query(
        "INSERT INTO log_entries (conv, seq, kind, sender_kind, sender_id, client_msg_id,
                                  payload, created_at_ms)
         SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::SMALLINT[], $4::SMALLINT[],
                              $5::UUID[], $6::TEXT[], $7::BYTEA[], $8::BIGINT[])",
    )
    .bind(&convs)
    .bind(&seqs)
    .bind(&kinds)
    .bind(&sender_kinds)
    .bind(&sender_ids)
    .bind(&client_ids)
    .bind(&payloads)
    .bind(&times)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Moves the heads of the conversations that got entries, in one statement.
async fn move_heads(conn: &mut PgConnection, moved: &[Moved]) -> StoreResult<()> {
    if moved.is_empty() {
        return Ok(());
    }
    let rids: Vec<i64> = moved.iter().map(|m| m.rid).collect();
    let seqs: Vec<i64> = moved.iter().map(|m| to_i64(m.last_seq)).collect();
    let times: Vec<i64> = moved.iter().map(|m| m.at_ms).collect();
    sqlx::query(
        "UPDATE conversations c
         SET last_seq = k.last_seq, updated_at_ms = GREATEST(c.updated_at_ms, k.at_ms)
         FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BIGINT[]) AS k (rid, last_seq, at_ms)
         WHERE c.rid = k.rid",
    )
    .bind(&rids)
    .bind(&seqs)
    .bind(&times)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}
