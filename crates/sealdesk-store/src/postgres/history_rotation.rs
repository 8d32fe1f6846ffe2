//! A conversation's History Members over its life on PostgreSQL (E2EE.md §3 "Rotation"):
//! taking one from the team's pool (the first, or a rotation's), completing a rotation once
//! its commit is sequenced, listing them by generation. Row locks serialise the writers: the
//! conversation's row for a take, its History Member rows for a completion.

use bytes::Bytes;
use sealdesk_core::clock::{from_unix_ms, to_unix_ms};
use sealdesk_proto::{ConversationId, TeamId, TenantId};
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;

use super::db_err;
use crate::{
    Constraint, HistoryGeneration, HistoryMemberState, HistoryPackage, StoreError, StoreResult,
};

type Tx = Transaction<'static, Postgres>;

/// A package moved out of a team's pool.
pub(super) struct Popped {
    hash_ref: Vec<u8>,
    key_package: Vec<u8>,
    sealed_bundle: Vec<u8>,
    not_after_ms: i64,
    team_key_version: Option<i64>,
}

type PoppedRow = (Vec<u8>, Vec<u8>, Vec<u8>, i64, Option<i64>);
type MemberRow = (i32, String, Vec<u8>, Vec<u8>, Vec<u8>, Option<i64>, i64);

const MEMBER_COLUMNS: &str =
    "generation, state, hash_ref, key_package, sealed_bundle, team_key_version, taken_at_ms";

fn member(row: MemberRow) -> StoreResult<HistoryGeneration> {
    let (generation, state, hash_ref, key_package, sealed_bundle, version, taken_at_ms) = row;
    Ok(HistoryGeneration {
        generation: u32::try_from(generation)
            .map_err(|_| StoreError::Corrupt("history generation out of range".into()))?,
        state: HistoryMemberState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("history member state {state:?}")))?,
        package: HistoryPackage {
            hash_ref,
            key_package: Bytes::from(key_package),
            sealed_bundle: Bytes::from(sealed_bundle),
        },
        team_key_version: version.and_then(|v| u32::try_from(v).ok()),
        taken_at: from_unix_ms(taken_at_ms),
    })
}

/// Moves the team's best valid package out of its pool: sealed to the newest team key
/// version (at least `min_version`; unknown versions count as 0), oldest first.
pub(super) async fn pop(
    tx: &mut Tx,
    tenant: TenantId,
    team: TeamId,
    min_version: u32,
    now: OffsetDateTime,
) -> StoreResult<Option<Popped>> {
    let row: Option<PoppedRow> = sqlx::query_as(
        "DELETE FROM history_pool WHERE hash_ref = (
            SELECT hash_ref FROM history_pool
            WHERE tenant_id = $1 AND team_id = $2 AND not_after_ms > $3
              AND COALESCE(team_key_version, 0) >= $4
            ORDER BY COALESCE(team_key_version, 0) DESC, created_at_ms, hash_ref LIMIT 1
            FOR UPDATE SKIP LOCKED)
         RETURNING hash_ref, key_package, sealed_bundle, not_after_ms, team_key_version",
    )
    .bind(tenant.as_uuid())
    .bind(team.as_uuid())
    .bind(to_unix_ms(now))
    .bind(i64::from(min_version))
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(row.map(
        |(hash_ref, key_package, sealed_bundle, not_after_ms, team_key_version)| Popped {
            hash_ref,
            key_package,
            sealed_bundle,
            not_after_ms,
            team_key_version,
        },
    ))
}

/// Records a popped package as the conversation's History Member `generation`.
pub(super) async fn insert(
    tx: &mut Tx,
    tenant: TenantId,
    conversation: ConversationId,
    generation: u32,
    state: &str,
    p: Popped,
    now: OffsetDateTime,
) -> StoreResult<HistoryGeneration> {
    sqlx::query(
        "INSERT INTO conversation_history
         (conversation_id, generation, tenant_id, hash_ref, key_package, sealed_bundle, state,
          team_key_version, not_after_ms, taken_at_ms, changed_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(conversation.as_uuid())
    .bind(
        i32::try_from(generation)
            .map_err(|_| StoreError::Corrupt("history generation out of range".into()))?,
    )
    .bind(tenant.as_uuid())
    .bind(p.hash_ref.as_slice())
    .bind(p.key_package.as_slice())
    .bind(p.sealed_bundle.as_slice())
    .bind(state)
    .bind(p.team_key_version)
    .bind(p.not_after_ms)
    .bind(to_unix_ms(now))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    member((
        i32::try_from(generation).unwrap_or(i32::MAX),
        state.to_owned(),
        p.hash_ref,
        p.key_package,
        p.sealed_bundle,
        p.team_key_version,
        to_unix_ms(now),
    ))
}

/// `HistoryPoolRepo::take_rotation_package`.
pub(super) async fn take(
    tx: &mut Tx,
    tenant: TenantId,
    team: TeamId,
    conversation: ConversationId,
    min_version: u32,
    now: OffsetDateTime,
) -> StoreResult<Option<HistoryGeneration>> {
    let state: Option<String> = sqlx::query_scalar(
        "SELECT state FROM conversations WHERE tenant_id = $1 AND id = $2 AND team_id = $3
         FOR UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(conversation.as_uuid())
    .bind(team.as_uuid())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    match state.as_deref() {
        None => return Err(StoreError::NotFound),
        Some("closed") => {
            return Err(StoreError::Conflict {
                constraint: Constraint::ConversationState,
            });
        }
        Some(_) => {}
    }
    let members = list_rows(tx, conversation).await?;
    if !members
        .iter()
        .any(|m| m.state == HistoryMemberState::Active)
    {
        return Err(StoreError::NotFound);
    }
    let pending: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT not_after_ms FROM conversation_history
         WHERE conversation_id = $1 AND state = 'pending'",
    )
    .bind(conversation.as_uuid())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    match pending {
        Some(not_after) if not_after.is_none_or(|ms| ms > to_unix_ms(now)) => {
            return Ok(members
                .into_iter()
                .find(|m| m.state == HistoryMemberState::Pending));
        }
        Some(_) => {
            sqlx::query(
                "UPDATE conversation_history SET state = 'abandoned', changed_at_ms = $2
                 WHERE conversation_id = $1 AND state = 'pending'",
            )
            .bind(conversation.as_uuid())
            .bind(to_unix_ms(now))
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
        }
        None => {}
    }
    let Some(popped) = pop(tx, tenant, team, min_version.max(1), now).await? else {
        return Ok(None);
    };
    let next = members.iter().map(|m| m.generation).max().unwrap_or(0) + 1;
    insert(tx, tenant, conversation, next, "pending", popped, now)
        .await
        .map(Some)
}

/// `HistoryPoolRepo::complete_history_rotation`.
pub(super) async fn complete(
    tx: &mut Tx,
    tenant: TenantId,
    conversation: ConversationId,
    hash_ref: &[u8],
    at: OffsetDateTime,
) -> StoreResult<bool> {
    // Lock the conversation's members: two completions of one rotation serialise here.
    sqlx::query("SELECT 1 FROM conversation_history WHERE conversation_id = $1 FOR UPDATE")
        .bind(conversation.as_uuid())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    let found: Option<(i32, String)> = sqlx::query_as(
        "SELECT generation, state FROM conversation_history
         WHERE tenant_id = $1 AND conversation_id = $2 AND hash_ref = $3
           AND state IN ('pending', 'active')",
    )
    .bind(tenant.as_uuid())
    .bind(conversation.as_uuid())
    .bind(hash_ref)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    let generation = match found {
        None => return Err(StoreError::NotFound),
        Some((_, state)) if state == "active" => return Ok(false),
        Some((generation, _)) => generation,
    };
    // Retire first: at most one active member per conversation (a unique partial index).
    sqlx::query(
        "UPDATE conversation_history SET state = 'retired', changed_at_ms = $2
         WHERE conversation_id = $1 AND state = 'active'",
    )
    .bind(conversation.as_uuid())
    .bind(to_unix_ms(at))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    sqlx::query(
        "UPDATE conversation_history SET state = 'active', changed_at_ms = $3
         WHERE conversation_id = $1 AND generation = $2",
    )
    .bind(conversation.as_uuid())
    .bind(generation)
    .bind(to_unix_ms(at))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(true)
}

/// `HistoryPoolRepo::abandon_pending_history`.
pub(super) async fn abandon(
    tx: &mut Tx,
    tenant: TenantId,
    conversation: ConversationId,
    hash_ref: &[u8],
    at: OffsetDateTime,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE conversation_history SET state = 'abandoned', changed_at_ms = $4
         WHERE tenant_id = $1 AND conversation_id = $2 AND hash_ref = $3
           AND state = 'pending'",
    )
    .bind(tenant.as_uuid())
    .bind(conversation.as_uuid())
    .bind(hash_ref)
    .bind(to_unix_ms(at))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() == 1)
}

async fn list_rows(
    tx: &mut Tx,
    conversation: ConversationId,
) -> StoreResult<Vec<HistoryGeneration>> {
    let rows: Vec<MemberRow> = sqlx::query_as(&format!(
        "SELECT {MEMBER_COLUMNS} FROM conversation_history
         WHERE conversation_id = $1 ORDER BY generation"
    ))
    .bind(conversation.as_uuid())
    .fetch_all(&mut **tx)
    .await
    .map_err(db_err)?;
    rows.into_iter().map(member).collect()
}

/// `HistoryPoolRepo::conversation_history_members`.
pub(super) async fn list(
    tx: &mut Tx,
    tenant: TenantId,
    conversation: ConversationId,
) -> StoreResult<Vec<HistoryGeneration>> {
    let exists: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM conversations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(conversation.as_uuid())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    list_rows(tx, conversation).await
}
