//! Which History Member a commit may add (E2EE.md §2, §3 "Rotation", §9.3), checked by the
//! delivery service after `PublicGroup` and the membership policy accepted the commit:
//!
//! - an Add of a History Member alone (the group's creator adding it) must be the
//!   conversation's own, the one taken from its team's pool (`POST …/history-member`);
//! - a rotation, `Remove(History Member) + Add(History Member)` (the policy already requires
//!   an agent or supervisor committer and one for one), must add the conversation's pending
//!   rotation member (`POST …/history-member/rotation`), and its certificate must name the
//!   conversation's current team (after a transfer to another team, the new team's member is
//!   accepted and one of any other team refused). Once the commit is durably in the log,
//!   that member becomes the conversation's active one and the previous one retired.
//!
//! So nobody can slip in a History Member whose bundle the team cannot open, or one of
//! another conversation.

use sealdesk_mls::certs::{Role, chain_device, device_role};
use sealdesk_mls::ds::{CommitSummary, Leaf};
use sealdesk_proto::{ConversationId, TenantId};
use sealdesk_store::HistoryMemberState;

use crate::error::ApiError;
use crate::state::AppState;

fn is_history(leaf: &Leaf) -> bool {
    device_role(&leaf.identity) == Some(Role::History)
}

/// Checks the History Members `summary` adds. Returns the key package reference of a
/// rotation's new member, to [`complete`] once the commit is appended.
pub(crate) async fn check_commit(
    state: &AppState,
    tenant: TenantId,
    conversation: ConversationId,
    summary: &CommitSummary,
) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(added) = summary.added.iter().find(|l| is_history(l)) else {
        return Ok(None);
    };
    let rotation = summary.removed.iter().any(is_history);
    let members = match state
        .store()
        .conversation_history_members(tenant, conversation)
        .await
    {
        Err(sealdesk_store::StoreError::NotFound) => Vec::new(),
        other => other?,
    };
    let wanted = if rotation {
        HistoryMemberState::Pending
    } else {
        HistoryMemberState::Active
    };
    let Some(own) = members.iter().find(|m| m.state == wanted) else {
        return Err(ApiError::MlsRejected(if rotation {
            "a rotation adds the conversation's pending History Member \
             (POST …/history-member/rotation)"
                .into()
        } else {
            "a History Member comes from the team's pool (POST …/history-member)".into()
        }));
    };
    // RFC 9420 §5.2: the reference names exactly this key package.
    if added.key_package_ref.as_deref() != Some(own.package.hash_ref.as_slice()) {
        return Err(ApiError::MlsRejected(if rotation {
            "not this conversation's pending History Member".into()
        } else {
            "not this conversation's History Member".into()
        }));
    }
    if rotation {
        // Defence in depth beside the reference check (the pending member came from the
        // current team's pool): a member taken before a transfer to another team, or any
        // other team's, is refused. The policy verified the chain; its body names the team.
        let current = state.store().get_conversation(tenant, conversation).await?;
        let certified = chain_device(&added.identity).map(|body| body.team);
        if certified != Some(*current.team_id.as_uuid().as_bytes()) {
            return Err(ApiError::MlsRejected(
                "a rotation adds a History Member of the conversation's current team".into(),
            ));
        }
    }
    Ok(rotation.then(|| own.package.hash_ref.clone()))
}

/// After the rotation commit is durably appended: the pending member becomes the active one.
/// A failure here leaves the commit sequenced (it is in the log, which is the group's only
/// state) with the store still saying "pending"; it is logged, and the next rotation request
/// repairs it (see `app::key_packages::rotation_member`).
pub(crate) async fn complete(
    state: &AppState,
    tenant: TenantId,
    conversation: ConversationId,
    hash_ref: &[u8],
) {
    if let Err(e) = state
        .store()
        .complete_history_rotation(tenant, conversation, hash_ref, state.clock().now())
        .await
    {
        tracing::error!(%conversation, error = %e, "recording a History Member rotation");
    }
}
