//! The conversation logs on SQLite. `append_batch` is the hot path: with sqlx's SQLite driver
//! every query is a round trip to the connection's worker thread (two thread wake-ups), so a
//! batch is a fixed handful of queries whatever its size (see `crate::log_batch`): the ids
//! travel as one JSON array (`json_each`), and the entries as multi-row `INSERT`s. A query
//! string may hold several statements, which the worker runs in one go; anonymous `?`
//! parameters are numbered across them in order. So a small batch (the live-chat case: one or
//! two entries per commit) costs two round trips: `BEGIN IMMEDIATE` with the heads and earlier
//! sends in one query, the rows, the moved heads and `COMMIT` in another (`inline_tx`).

use std::collections::HashMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use sealdesk_core::domain::{AppendOutcome, ClientMsgId, LogEntry, NewEntry};
use sealdesk_proto::{ConversationId, TenantId};
use sqlx::Row;
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use super::inline_tx::{BEGIN, COMMIT, InlineTx};
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

/// The most rows written by one combined query (insert and head update together); larger
/// batches take one query per insert chunk, where the round trips are spread over many rows.
const COMBINED_MAX: usize = 16;

/// The heads update of a combined query: `[rid, last_seq, at_ms]` triples as one JSON array.
const MOVE_HEADS_SQL: &str = "UPDATE conversations
     SET last_seq = json_extract(k.value, '$[1]'),
         updated_at_ms = max(updated_at_ms, json_extract(k.value, '$[2]'))
     FROM json_each(?) AS k
     WHERE conversations.rid = json_extract(k.value, '$[0]')";

/// For `n` in 1..=[`COMBINED_MAX`]: the `INSERT` of exactly `n` rows, the heads update and
/// `COMMIT`, as one query (index `n - 1`).
static COMBINED_SQL: LazyLock<Vec<String>> = LazyLock::new(|| {
    (1..=COMBINED_MAX)
        .map(|n| {
            let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; n].join(", ");
            format!(
                "INSERT INTO log_entries (conv, seq, kind, sender_kind, sender_id, client_msg_id,
                                          payload, created_at_ms) VALUES {values};
                 {MOVE_HEADS_SQL}{COMMIT}"
            )
        })
        .collect()
});

/// The heads of the named conversations (rows tagged `h`).
const HEADS_SQL: &str = "SELECT 'h' AS t, rid, id, tenant_id, state, last_seq FROM conversations
     WHERE id IN (SELECT value FROM json_each(?))";

/// The earlier entries with the given (conversation id, client message id) pairs (rows tagged
/// `s`). CROSS JOIN fixes the loop order (the list outside, a seek per pair inside) and
/// INDEXED BY the index: left to itself, the planner scans the conversation's whole log by
/// primary key instead (it cannot prove the partial index's condition from a json_extract).
const SENDS_SQL: &str =
    "SELECT 's' AS t, l.conv, l.seq, l.sender_kind, l.sender_id, l.client_msg_id
     FROM json_each(?) AS k
     CROSS JOIN conversations AS c ON c.id = json_extract(k.value, '$[0]')
     CROSS JOIN log_entries AS l INDEXED BY log_entries_client_msg_idx
       ON l.conv = c.rid
      AND l.client_msg_id = json_extract(k.value, '$[1]')
     WHERE l.client_msg_id IS NOT NULL";

/// The transaction's first query: `BEGIN IMMEDIATE` and the heads.
static BEGIN_HEADS_SQL: LazyLock<String> = LazyLock::new(|| format!("{BEGIN}{HEADS_SQL}"));

/// The transaction's first query: `BEGIN IMMEDIATE`, the heads and the earlier sends.
static BEGIN_HEADS_AND_SENDS_SQL: LazyLock<String> =
    LazyLock::new(|| format!("{BEGIN}{HEADS_SQL};\n{SENDS_SQL}"));

/// The heads update and `COMMIT` (after the chunked inserts of a large batch).
static MOVE_HEADS_COMMIT_SQL: LazyLock<String> =
    LazyLock::new(|| format!("{MOVE_HEADS_SQL}{COMMIT}"));

#[async_trait]
impl LogRepo for SqliteStore {
    async fn append_batch(&self, entries: &[NewEntry]) -> StoreResult<Vec<AppendOutcome>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        // BEGIN IMMEDIATE (with the first query): the heads read cannot change before the
        // commit (with the last query). Any error drops `tx` uncommitted, which rolls back.
        let mut tx = InlineTx::acquire(&self.pool).await?;
        let (heads, existing) = load_heads_and_sends(tx.conn(), entries).await?;
        let plan = log_batch::plan(entries, heads, existing);
        write_plan_and_commit(tx.conn(), &plan).await?;
        tx.committed();
        Ok(plan.outcomes)
    }

    async fn read_log(
        &self,
        tenant: TenantId,
        id: ConversationId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<LogEntry>> {
        // The conversation check and the entries in one statement: one snapshot, and one
        // round trip to sqlx's worker thread instead of four (a transaction around two
        // queries). Every subscribe and resume reads here. The LEFT JOIN keeps a row (with a
        // NULL seq) for an existing conversation with nothing after `after`; the plan walks
        // `log_entries_seq_idx` in order, so the LIMIT stops the scan (no sort). A limit of
        // zero still reads one row, to tell an empty page from an unknown conversation.
        let limit = limit.min(MAX_LOG_READ);
        let rows = sqlx::query(
            "SELECT l.seq, l.kind, l.sender_kind, l.sender_id, l.client_msg_id, l.payload,
                    l.created_at_ms
             FROM conversations c
             LEFT JOIN log_entries l ON l.conv = c.rid AND l.seq > ?3
             WHERE c.tenant_id = ?1 AND c.id = ?2
             ORDER BY l.seq LIMIT ?4",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(to_i64(after))
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        rows.iter()
            .filter(|row| !matches!(row.try_get::<Option<i64>, _>("seq"), Ok(None)))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
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

/// Begins the transaction and reads the heads of the conversations `entries` name, and the
/// earlier entries with the client message ids they carry, in one query. Lookups are by conversation id, before the tenant
/// check: a pair naming another tenant's conversation finds rows the plan never matches,
/// since its entry resolves to no head (`log_batch::plan`).
async fn load_heads_and_sends(
    conn: &mut SqliteConnection,
    entries: &[NewEntry],
) -> StoreResult<(HashMap<ConversationId, Head>, HashMap<SendKey, u64>)> {
    let ids: Vec<String> = log_batch::conversations(entries)
        .iter()
        .map(ToString::to_string)
        .collect();
    let lookups = log_batch::lookups_by_id(entries);
    let ids = serde_json::to_string(&ids).map_err(encode)?;
    let rows = if lookups.is_empty() {
        sqlx::query(&BEGIN_HEADS_SQL)
            .bind(ids)
            .fetch_all(&mut *conn)
            .await
    } else {
        sqlx::query(&BEGIN_HEADS_AND_SENDS_SQL)
            .bind(ids)
            .bind(serde_json::to_string(&lookups).map_err(encode)?)
            .fetch_all(&mut *conn)
            .await
    }
    .map_err(db_err)?;
    let mut heads = HashMap::with_capacity(entries.len());
    let mut sends = HashMap::new();
    for row in &rows {
        let tag: &str = row.try_get("t").map_err(db_err)?;
        if tag == "h" {
            let id = ConversationId::from_uuid(uuid_at(row, "id", "conversations.id")?);
            heads.insert(id, head_of(row, id)?);
        } else {
            let (key, seq) = send_of(row)?;
            sends.insert(key, seq);
        }
    }
    Ok((heads, sends))
}

fn head_of(row: &SqliteRow, id: ConversationId) -> StoreResult<Head> {
    let what = format!("conversation {id}");
    Ok(Head {
        rid: row.try_get("rid").map_err(db_err)?,
        tenant_id: TenantId::from_uuid(uuid_at(row, "tenant_id", &what)?),
        state: conversation_rows::parse_state(row.try_get("state").map_err(db_err)?, &what)?,
        last_seq: conversation_rows::to_u64(row.try_get("last_seq").map_err(db_err)?, &what)?,
    })
}

fn send_of(row: &SqliteRow) -> StoreResult<(SendKey, u64)> {
    let what = "log_entries";
    let key = SendKey {
        rid: row.try_get("conv").map_err(db_err)?,
        client_msg_id: row.try_get("client_msg_id").map_err(db_err)?,
        sender: conversation_rows::party(
            row.try_get("sender_kind").map_err(db_err)?,
            opt_uuid_at(row, "sender_id", what)?,
            what,
        )?,
    };
    let seq = conversation_rows::to_u64(row.try_get("seq").map_err(db_err)?, what)?;
    Ok((key, seq))
}

/// Writes a plan's rows and moves its heads: one query for a small batch, else one per
/// insert chunk and one for the heads.
/// Writes the planned rows and moved heads, and commits.
async fn write_plan_and_commit(
    conn: &mut SqliteConnection,
    plan: &log_batch::Plan<'_>,
) -> StoreResult<()> {
    let n = plan.rows.len();
    if n == 0 {
        sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        return Ok(());
    }
    if n > COMBINED_MAX {
        insert_rows(conn, &plan.rows).await?;
        sqlx::query(&MOVE_HEADS_COMMIT_SQL)
            .bind(heads_json(&plan.moved)?)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        return Ok(());
    }
    let mut query = sqlx::query(&COMBINED_SQL[n - 1]);
    for row in &plan.rows {
        query = bind_row(query, row);
    }
    query
        .bind(heads_json(&plan.moved)?)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds one row's eight values, in the column order of the `INSERT`s.
fn bind_row<'q>(query: SqliteQuery<'q>, row: &log_batch::Row<'q>) -> SqliteQuery<'q> {
    let e = row.entry;
    query
        .bind(row.rid)
        .bind(to_i64(row.seq))
        .bind(e.kind.code())
        .bind(e.sender.code())
        .bind(e.sender.id().map(|id| id.to_string()))
        .bind(e.client_msg_id.as_ref().map(ClientMsgId::as_str))
        .bind(e.payload.as_ref())
        .bind(conversation_rows::ms(e.at))
}

fn heads_json(moved: &[Moved]) -> StoreResult<String> {
    let heads: Vec<[i64; 3]> = moved
        .iter()
        .map(|m| [m.rid, to_i64(m.last_seq), m.at_ms])
        .collect();
    serde_json::to_string(&heads).map_err(encode)
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
            query = bind_row(query, row);
        }
        query.execute(&mut *conn).await.map_err(db_err)?;
        rest = tail;
    }
    Ok(())
}

fn encode(err: serde_json::Error) -> StoreError {
    StoreError::Other(sqlx::Error::Encode(err.into()))
}
