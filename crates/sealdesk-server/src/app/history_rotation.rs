//! Re-keying a conversation's History Member after a team key rotation (E2EE.md §3
//! "Rotation"), or after the conversation moved to another team (docs/e2ee.md, "Transfer to
//! another team"): the conversation's agent (or a supervisor in it) takes the member to add,
//! from the pool of the conversation's current team and sealed to that team's current key
//! version, then commits `Remove(old) + Add(new)`; the delivery service accepts only that
//! member (`crate::history_members`).

use sealdesk_mls::ds::check_key_package;
use sealdesk_proto::ConversationId;
use sealdesk_store::{HistoryGeneration, HistoryMemberState, KeyScope, StoreError};

use super::conversations::{Caller, readable};
use super::key_packages::{LOW_WATER, MAX_LIFETIME_SECS, anchor_of};
use crate::error::ApiError;
use crate::state::AppState;

/// The team's newest announced key version (0 when it has none).
async fn current_team_key_version(
    state: &AppState,
    tenant: sealdesk_proto::TenantId,
    team: sealdesk_proto::TeamId,
) -> Result<u32, ApiError> {
    Ok(state
        .store()
        .sealing_keys(tenant)
        .await?
        .iter()
        .filter(|k| k.scope == KeyScope::Team(team))
        .map(|k| k.version)
        .max()
        .unwrap_or(0))
}

/// A pending member already in the group means its commit was sequenced but the store was
/// not told (the server stopped between the append and the update): record it now.
async fn repair(
    state: &AppState,
    caller: &Caller,
    conversation: ConversationId,
    members: &[HistoryGeneration],
) -> Result<bool, ApiError> {
    let Some(pending) = members
        .iter()
        .find(|m| m.state == HistoryMemberState::Pending)
    else {
        return Ok(false);
    };
    let tenant = caller.tenant();
    let anchor = anchor_of(state, tenant).await?;
    let now = u64::try_from(state.clock().now().unix_timestamp()).unwrap_or(0);
    let Ok(entry) = check_key_package(
        &pending.package.key_package,
        &anchor,
        now,
        MAX_LIFETIME_SECS,
    ) else {
        return Ok(false);
    };
    let in_group = crate::groups::member_keys(state, tenant, conversation)
        .await?
        .contains(&entry.device_key);
    if in_group {
        state
            .store()
            .complete_history_rotation(
                tenant,
                conversation,
                &pending.package.hash_ref,
                state.clock().now(),
            )
            .await?;
    }
    Ok(in_group)
}

/// The History Member a rotation of `conversation` adds: its pending one, or one taken from
/// its current team's pool sealed to the team's current key version. For staff who write the
/// conversation (its assignee, a supervisor in it), while it is not closed. A rotation is
/// due when the active member is sealed to an older version, or when the History Member in
/// the group is certified for another team (the conversation was transferred: the new team's
/// key cannot open the old member's bundle). A pending member of the previous team is
/// abandoned for one of the current team. `Conflict` when no rotation is due, or the pool has
/// none sealed to the current version (the owner refills it: `sealdesk admin keys
/// history-pool`).
pub async fn rotation_member(
    state: &AppState,
    caller: &Caller,
    conversation: ConversationId,
) -> Result<HistoryGeneration, ApiError> {
    if !matches!(caller, Caller::Staff { .. }) {
        return Err(ApiError::Forbidden);
    }
    let (found, access) = readable(state, caller, conversation).await?;
    if !access.write {
        return Err(ApiError::Forbidden);
    }
    if found.closed_at.is_some() {
        return Err(ApiError::ConversationClosed);
    }
    let (tenant, team, now) = (caller.tenant(), found.team_id, state.clock().now());
    let version = current_team_key_version(state, tenant, team).await?;
    if version == 0 {
        return Err(ApiError::Conflict(
            "the team has no announced key: its owner runs `sealdesk admin keys team`".into(),
        ));
    }
    let mut members = state
        .store()
        .conversation_history_members(tenant, conversation)
        .await?;
    if repair(state, caller, conversation, &members).await? {
        members = state
            .store()
            .conversation_history_members(tenant, conversation)
            .await?;
    }
    let pending = members
        .iter()
        .any(|m| m.state == HistoryMemberState::Pending);
    let current = members
        .iter()
        .find(|m| m.state == HistoryMemberState::Active)
        .ok_or(ApiError::NotFound)?;
    let team_bytes = *team.as_uuid().as_bytes();
    // Comparing key versions alone is not enough: versions count per team, so the first
    // team's version n says nothing about the current team's key.
    let moved = crate::groups::history_member_teams(state, tenant, conversation)
        .await?
        .iter()
        .any(|t| *t != team_bytes);
    if !pending && !moved && current.team_key_version.is_some_and(|v| v >= version) {
        return Err(ApiError::Conflict(format!(
            "the History Member is already sealed to team key version {version}"
        )));
    }
    let mut taken = take(state, caller, conversation, team, version).await?;
    // A member taken from the previous team's pool before the transfer (a key rotation was
    // under way) can never be committed (the delivery service refuses it, and the new team's
    // key does not open it): it is abandoned, and one of the current team's pool taken.
    if let Some(other) = member_team(state, caller, &taken).await?
        && other != team_bytes
    {
        state
            .store()
            .abandon_pending_history(tenant, conversation, &taken.package.hash_ref, now)
            .await?;
        taken = take(state, caller, conversation, team, version).await?;
        if member_team(state, caller, &taken)
            .await?
            .is_some_and(|t| t != team_bytes)
        {
            return Err(ApiError::Conflict(
                "the pool's History Member is not certified for the conversation's team".into(),
            ));
        }
    }
    Ok(taken)
}

/// Takes the conversation's pending rotation member, or one from `team`'s pool sealed to
/// `version` (see `HistoryPoolRepo::take_rotation_package`).
async fn take(
    state: &AppState,
    caller: &Caller,
    conversation: ConversationId,
    team: sealdesk_proto::TeamId,
    version: u32,
) -> Result<HistoryGeneration, ApiError> {
    let (tenant, now) = (caller.tenant(), state.clock().now());
    let taken = state
        .store()
        .take_rotation_package(tenant, team, conversation, version, now)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => ApiError::ConversationClosed,
            other => other.into(),
        })?;
    let available = state.store().history_pool_size(tenant, team, now).await?;
    crate::metrics::history_pool(tenant, team, available, LOW_WATER);
    taken.ok_or_else(|| {
        crate::metrics::history_pool_empty(tenant, team);
        ApiError::Conflict(format!(
            "the team's History Member pool has none sealed to team key version {version}: \
             the owner refills it (`sealdesk admin keys history-pool`)"
        ))
    })
}

/// The team a History Member's certificate names (`None` when its key package no longer
/// checks, e.g. expired).
async fn member_team(
    state: &AppState,
    caller: &Caller,
    member: &HistoryGeneration,
) -> Result<Option<[u8; 16]>, ApiError> {
    let anchor = anchor_of(state, caller.tenant()).await?;
    let now = u64::try_from(state.clock().now().unix_timestamp()).unwrap_or(0);
    Ok(
        check_key_package(&member.package.key_package, &anchor, now, MAX_LIFETIME_SECS)
            .ok()
            .map(|entry| entry.team),
    )
}
