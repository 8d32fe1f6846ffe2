//! The conversation logs on SQLite. `append_batch` is the hot path: with sqlx's SQLite driver
//! every statement is a round trip to the connection's worker thread, so a batch is a fixed
//! handful of statements whatever its size (see `crate::log_batch`): the ids travel as one
//! JSON array (`json_each`), and the entries as multi-row `INSERT`s.

use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use sealdesk_core::domain::{AppendOutcome, ClientMsgId, LogEntry, NewEntry};
use sealdesk_proto::{ConversationId, TenantId};
use sqlx::Row;
use sqlx::SqliteConnection;

use super::{SqliteStore, db_err, opt_uuid_at, uuid_at};
use crate::conversation_rows::{self, LogRow, MAX_LOG_READ, to_i64};
use crate::log_batch::{self, Head, Moved, SendKey};
use crate::{LogRepo, StoreError, StoreResult};

/// The most entries one `INSERT` carries (8 parameters each, far below SQLite's limit).
const INSERT_CHUNK: usize = 64;

/// `INSERT`s for 1, 2, 4, … [`INSERT_CHUNK`] rows: a batch is split into these sizes, so each
/// connection prepares at most seven insert statements and reuses them.
static INSERT_SQL: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut sizes = Vec::new();
    let mut n = 1;
    while n <= INSERT_CHUNK {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; n].join(", ");
        sizes.push(format!(
            "INSERT INTO log_entries (conv, seq, kind, sender_kind, sender_id, client_msg_id,
                                      payload, created_at_ms) VALUES {values}"
        ));
        n *= 2;
    }
    sizes
});

#[async_trait]
impl LogRepo for SqliteStore {
    async fn append_batch(&self, entries: &[NewEntry]) -> StoreResult<Vec<AppendOutcome>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        // BEGIN IMMEDIATE: the heads read below cannot change before the commit.
        let mut tx = self.begin_write().await?;
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
        // One snapshot: the conversation check and the entries agree.
        let mut tx = self.begin_read().await?;
        let rid: i64 =
            sqlx::query_scalar("SELECT rid FROM conversations WHERE tenant_id = ?1 AND id = ?2")
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound)?;
        let rows = sqlx::query(
            "SELECT seq, kind, sender_kind, sender_id, client_msg_id, payload, created_at_ms
             FROM log_entries WHERE conv = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .bind(rid)
        .bind(to_i64(after))
        .bind(i64::from(limit.min(MAX_LOG_READ)))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        rows.iter()
            .map(|row| {
                LogRow {
                    tenant_id: tenant,
                    conversation_id: id,
                    seq: row.try_get("seq").map_err(db_err)?,
                    kind: row.try_get("kind").map_err(db_err)?,
                    sender_kind: row.try_get("sender_kind").map_err(db_err)?,
                    sender_id: opt_uuid_at(row, "sender_id", "log_entries.sender_id")?,
                    client_msg_id: row.try_get("client_msg_id").map_err(db_err)?,
                    payload: row.try_get("payload").map_err(db_err)?,
                    created_at_ms: row.try_get("created_at_ms").map_err(db_err)?,
                }
                .into_entry()
            })
            .collect()
    }
}

/// The heads of the conversations `ids`, in one statement.
async fn load_heads(
    conn: &mut SqliteConnection,
    ids: &[ConversationId],
) -> StoreResult<HashMap<ConversationId, Head>> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let rows = sqlx::query(
        "SELECT rid, id, tenant_id, state, last_seq FROM conversations
         WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .bind(serde_json::to_string(&ids).map_err(encode)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    let mut heads = HashMap::with_capacity(rows.len());
    for row in &rows {
        let id = ConversationId::from_uuid(uuid_at(row, "id", "conversations.id")?);
        let what = format!("conversation {id}");
        heads.insert(
            id,
            Head {
                rid: row.try_get("rid").map_err(db_err)?,
                tenant_id: TenantId::from_uuid(uuid_at(row, "tenant_id", &what)?),
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
    conn: &mut SqliteConnection,
    lookups: &[(i64, &str)],
) -> StoreResult<HashMap<SendKey, u64>> {
    if lookups.is_empty() {
        return Ok(HashMap::new());
    }
    // CROSS JOIN fixes the loop order (the list outside, a seek per pair inside) and INDEXED
    // BY the index: left to itself, the planner scans the conversation's whole log by primary
    // key instead (it cannot prove the partial index's condition from a json_extract).
    let rows = sqlx::query(
        "SELECT l.conv, l.seq, l.sender_kind, l.sender_id, l.client_msg_id
         FROM json_each(?1) AS k
         CROSS JOIN log_entries AS l INDEXED BY log_entries_client_msg_idx
           ON l.conv = json_extract(k.value, '$[0]')
          AND l.client_msg_id = json_extract(k.value, '$[1]')
         WHERE l.client_msg_id IS NOT NULL",
    )
    .bind(serde_json::to_string(lookups).map_err(encode)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    let mut sends = HashMap::with_capacity(rows.len());
    for row in &rows {
        let what = "log_entries";
        let client_msg_id: String = row.try_get("client_msg_id").map_err(db_err)?;
        let key = SendKey {
            rid: row.try_get("conv").map_err(db_err)?,
            client_msg_id,
            sender: conversation_rows::party(
                row.try_get("sender_kind").map_err(db_err)?,
                opt_uuid_at(row, "sender_id", what)?,
                what,
            )?,
        };
        let seq = conversation_rows::to_u64(row.try_get("seq").map_err(db_err)?, what)?;
        sends.insert(key, seq);
    }
    Ok(sends)
}

/// Inserts planned entries with as few statements as the chunk sizes allow.
pub(super) async fn insert_rows(
    conn: &mut SqliteConnection,
    rows: &[log_batch::Row<'_>],
) -> StoreResult<()> {
    let mut rest = rows;
    while !rest.is_empty() {
        // The largest prepared size that fits: 64, or the highest power of two below.
        let n = rest.len().min(INSERT_CHUNK);
        let size = usize::BITS - 1 - n.leading_zeros();
        let n = 1 << size;
        let (chunk, tail) = rest.split_at(n);
        let sql = INSERT_SQL.get(size as usize).ok_or_else(|| {
            StoreError::Other(sqlx::Error::Protocol(
                "insert chunk size out of range".into(),
            ))
        })?;
        let mut query = sqlx::query(sql);
        for row in chunk {
            let e = row.entry;
            query = query
                .bind(row.rid)
                .bind(to_i64(row.seq))
                .bind(e.kind.code())
                .bind(e.sender.code())
                .bind(e.sender.id().map(|id| id.to_string()))
                .bind(e.client_msg_id.as_ref().map(ClientMsgId::as_str))
                .bind(e.payload.as_ref())
                .bind(conversation_rows::ms(e.at));
        }
        query.execute(&mut *conn).await.map_err(db_err)?;
        rest = tail;
    }
    Ok(())
}

/// Moves the heads of the conversations that got entries, in one statement.
async fn move_heads(conn: &mut SqliteConnection, moved: &[Moved]) -> StoreResult<()> {
    if moved.is_empty() {
        return Ok(());
    }
    let heads: Vec<[i64; 3]> = moved
        .iter()
        .map(|m| [m.rid, to_i64(m.last_seq), m.at_ms])
        .collect();
    sqlx::query(
        "UPDATE conversations
         SET last_seq = json_extract(k.value, '$[1]'),
             updated_at_ms = max(updated_at_ms, json_extract(k.value, '$[2]'))
         FROM json_each(?1) AS k
         WHERE conversations.rid = json_extract(k.value, '$[0]')",
    )
    .bind(serde_json::to_string(&heads).map_err(encode)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

fn encode(err: serde_json::Error) -> StoreError {
    StoreError::Other(sqlx::Error::Encode(err.into()))
}
