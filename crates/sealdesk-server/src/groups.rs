//! The delivery service's MLS validation (E2EE.md §9.2–9.4): one content-free view of each
//! conversation's group, kept beside the log, through which every handshake, Welcome and
//! application entry passes before it is sequenced.
//!
//! - A conversation's first handshake entry is its creator's epoch-0 `GroupInfo`; every
//!   later one is a commit, accepted only for the group's current epoch (the compare-and-swap
//!   of §9.2: the loser gets `stale_epoch` and retries). A commit is validated, appended,
//!   and merged into the view only once durable, under the conversation's lock, so two
//!   commits for one epoch can never both be sequenced.
//! - Application entries must be `PrivateMessage`s of the group within the last four epochs
//!   (§9.4); Welcomes must be Welcomes of our ciphersuite. Neither holds the lock while its
//!   append waits for the disk.
//! - For a tenant with registered root keys, commits also pass the membership policy
//!   (`sealdesk_mls::policy`: certified members only, one visitor, no History Member commits).
//! - Conversations that never started a group still carry opaque application entries (the
//!   pre-E2EE load generator); see docs/e2ee.md.
//!
//! Views are rebuilt from the log on first use (handshake entries only), so nothing but the
//! log is stored, and evicted when idle beyond a bound: live views beyond `MAX_VIEWS`, any
//! slot beyond `MAX_SLOTS` (conversations without a group stay known cheaply, so their sends
//! do not re-read the log). The lock is per process: the
//! scale-out work moves the epoch check into the store's append.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use sealdesk_core::domain::{AppendOutcome, EntryKind, NewEntry, Party};
use sealdesk_mls::certs::TrustAnchor;
use sealdesk_mls::ds::{DsError, GroupView, check_welcome};
use sealdesk_mls::policy;
use sealdesk_proto::{ConversationId, TenantId};

use crate::error::ApiError;
use crate::state::AppState;

/// Live group views kept in memory (a few KiB each); beyond this, idle ones are dropped and
/// rebuilt from the log when next used.
const MAX_VIEWS: usize = 16_384;
/// Slots of any kind (a conversation without a group costs ~100 bytes): most conversations
/// stay known without re-reading their log, which a send would otherwise do after eviction.
const MAX_SLOTS: usize = 262_144;
/// Accepted handshake sends remembered per conversation, so a retry gets its `dup` ack
/// instead of `stale_epoch`.
const RECENT_HANDSHAKES: usize = 8;
/// Log entries read per page while rebuilding a view.
const PAGE: u32 = 1000;

#[derive(Debug, Default)]
enum Group {
    /// Not read from the log yet.
    #[default]
    Unloaded,
    /// The conversation has no MLS group (yet).
    None,
    /// The group, at its current epoch.
    Live(Box<GroupView>),
    /// The log's handshake entries could not be replayed; the reason was logged.
    Broken,
}

#[derive(Debug, Default)]
struct Slot {
    group: Group,
    recent: VecDeque<(Party, String)>,
    /// Whether the tenant registered a root key, read once per slot: such a tenant's
    /// conversations carry nothing but MLS, so a message before the group is refused.
    e2ee_required: Option<bool>,
}

/// The views of this process, by conversation.
#[derive(Debug, Default)]
pub struct GroupViews {
    slots: Mutex<Slots>,
    /// Slots holding a live view.
    live: std::sync::atomic::AtomicUsize,
}

type Slots = HashMap<ConversationId, Arc<tokio::sync::Mutex<Slot>>>;

impl GroupViews {
    fn slot(
        &self,
        conversation: ConversationId,
    ) -> Result<Arc<tokio::sync::Mutex<Slot>>, ApiError> {
        let mut slots = self
            .slots
            .lock()
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("group views lock poisoned")))?;
        if let Some(slot) = slots.get(&conversation) {
            return Ok(Arc::clone(slot));
        }
        if slots.len() >= MAX_SLOTS {
            let excess = slots.len() - MAX_SLOTS / 2;
            self.evict(&mut slots, false, excess);
        }
        let live = self.live.load(std::sync::atomic::Ordering::Relaxed);
        if live > MAX_VIEWS {
            self.evict(&mut slots, true, live - MAX_VIEWS * 3 / 4);
        }
        let slot = Arc::new(tokio::sync::Mutex::new(Slot::default()));
        slots.insert(conversation, Arc::clone(&slot));
        Ok(slot)
    }

    /// Drops up to `count` idle slots (no request holds them; live views only when
    /// `only_live`). They are rebuilt from the log when next needed.
    fn evict(&self, slots: &mut Slots, only_live: bool, mut count: usize) {
        slots.retain(|_, slot| {
            if count == 0 || Arc::strong_count(slot) > 1 {
                return true;
            }
            let Ok(held) = slot.try_lock() else {
                return true;
            };
            let live = matches!(held.group, Group::Live(_));
            if only_live && !live {
                return true;
            }
            if live {
                self.live.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
            count -= 1;
            false
        });
    }

    /// Records that a slot now holds a live view.
    fn went_live(&self) {
        self.live.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Drops a conversation's view (it is rebuilt from the log when next needed): after the
    /// conversation is deleted, or to prove the log alone rebuilds it.
    pub fn forget(&self, conversation: ConversationId) {
        if let Ok(mut slots) = self.slots.lock()
            && let Some(slot) = slots.remove(&conversation)
            && slot
                .try_lock()
                .is_ok_and(|held| matches!(held.group, Group::Live(_)))
        {
            self.live.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Live views held (for metrics and tests).
    pub fn live_views(&self) -> usize {
        self.live.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` wants
fn refused(e: DsError) -> ApiError {
    match e {
        DsError::StaleEpoch { .. } => ApiError::StaleEpoch(e.to_string()),
        DsError::Malformed(_) | DsError::Rejected(_) => ApiError::MlsRejected(e.to_string()),
    }
}

/// Replays the conversation's handshake entries into a view.
async fn load(
    state: &AppState,
    tenant: TenantId,
    conversation: ConversationId,
) -> Result<Group, ApiError> {
    let mut group = Group::None;
    let mut after = 0;
    loop {
        let page = state
            .store()
            .read_log(tenant, conversation, after, PAGE)
            .await?;
        for entry in &page {
            if entry.kind != EntryKind::Handshake {
                continue;
            }
            let replayed = match group {
                Group::None => {
                    GroupView::from_group_info(&entry.payload).map(|v| Group::Live(Box::new(v)))
                }
                Group::Live(mut view) => view
                    .stage_commit(&entry.payload)
                    .and_then(|staged| view.merge(staged))
                    .map(|()| Group::Live(view)),
                Group::Unloaded | Group::Broken => return Ok(Group::Broken),
            };
            group = match replayed {
                Ok(g) => g,
                Err(e) => {
                    tracing::error!(%conversation, seq = entry.seq, error = %e, "cannot replay the group from the log");
                    return Ok(Group::Broken);
                }
            };
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = last.seq,
            _ => return Ok(group),
        }
    }
}

/// The tenant's trust anchor, when it registered root keys: then the membership policy of
/// `sealdesk_mls::policy` applies to its conversations' commits. Read per handshake (commits
/// are rare), so a newly registered key applies at once.
async fn anchor(state: &AppState, tenant: TenantId) -> Result<Option<TrustAnchor>, ApiError> {
    let roots = state.store().root_keys(tenant).await?;
    Ok((!roots.is_empty()).then(|| TrustAnchor {
        tenant: *tenant.as_uuid().as_bytes(),
        roots,
    }))
}

/// Reads the slot's group from the log on first use.
async fn ensure_loaded(
    state: &AppState,
    slot: &mut Slot,
    tenant: TenantId,
    conversation: ConversationId,
) -> Result<(), ApiError> {
    if matches!(slot.group, Group::Unloaded) {
        slot.group = load(state, tenant, conversation).await?;
        if matches!(slot.group, Group::Live(_)) {
            state.groups().went_live();
        }
    }
    Ok(())
}

/// Validates `entry` against its conversation's group and appends it (E2EE.md §9).
pub async fn append_checked(state: &AppState, entry: NewEntry) -> Result<AppendOutcome, ApiError> {
    let slot = state.groups().slot(entry.conversation_id)?;
    let mut slot = slot.lock().await;
    ensure_loaded(state, &mut slot, entry.tenant_id, entry.conversation_id).await?;
    match (entry.kind, &slot.group) {
        (_, Group::Broken) => Err(ApiError::MlsRejected(
            "this conversation's group cannot be validated any more; start a new conversation"
                .into(),
        )),
        (EntryKind::Handshake, _) => handshake(state, &mut slot, entry).await,
        (EntryKind::Application, Group::Live(view)) => {
            view.check_application(&entry.payload).map_err(refused)?;
            drop(slot);
            Ok(state.committer().append(entry).await?)
        }
        (EntryKind::Welcome, Group::Live(_)) => {
            check_welcome(&entry.payload).map_err(refused)?;
            drop(slot);
            Ok(state.committer().append(entry).await?)
        }
        (EntryKind::Welcome, _) => Err(ApiError::MlsRejected(
            "a Welcome needs a group: send its GroupInfo first".into(),
        )),
        (EntryKind::Application, Group::None | Group::Unloaded) => {
            let required = if let Some(required) = slot.e2ee_required {
                required
            } else {
                let required = anchor(state, entry.tenant_id).await?.is_some();
                slot.e2ee_required = Some(required);
                required
            };
            if required {
                return Err(ApiError::MlsRejected(
                    "this tenant requires end-to-end encryption: start the conversation's \
                     group (its GroupInfo) before any message"
                        .into(),
                ));
            }
            drop(slot);
            Ok(state.committer().append(entry).await?)
        }
        _ => {
            drop(slot);
            Ok(state.committer().append(entry).await?)
        }
    }
}

/// A commit by, or adding, a device the tenant revoked is refused, even with a key package
/// fetched before the revocation (the directory no longer hands its packages out). Removing
/// one is allowed: that is how members drop it.
async fn refuse_revoked(
    state: &AppState,
    tenant: TenantId,
    summary: &sealdesk_mls::ds::CommitSummary,
) -> Result<(), ApiError> {
    for leaf in std::iter::once(&summary.committer).chain(&summary.added) {
        let Ok(key) = <[u8; 32]>::try_from(leaf.signature_key.as_slice()) else {
            continue;
        };
        if let Some(device) = state.store().device_by_key(tenant, key).await?
            && device.status == sealdesk_store::DeviceStatus::Revoked
        {
            return Err(ApiError::MlsRejected(format!(
                "leaf {} is a revoked device",
                leaf.leaf
            )));
        }
    }
    Ok(())
}

async fn handshake(
    state: &AppState,
    slot: &mut Slot,
    entry: NewEntry,
) -> Result<AppendOutcome, ApiError> {
    let key = entry
        .client_msg_id
        .as_ref()
        .map(|id| (entry.sender, id.as_str().to_owned()));
    if key.as_ref().is_some_and(|k| slot.recent.contains(k)) {
        // A retry of an accepted commit: the store answers with its sequence number.
        return Ok(state.committer().append(entry).await?);
    }
    let anchor = anchor(state, entry.tenant_id).await?;
    let now = u64::try_from(state.clock().now().unix_timestamp()).unwrap_or(0);
    let outcome = if let Group::Live(view) = &slot.group {
        let staged = view.stage_commit(&entry.payload).map_err(refused)?;
        let mut rotation = None;
        if let Some(anchor) = &anchor {
            policy::check_commit(&staged.summary, &view.leaves(), anchor, now).map_err(refused)?;
            refuse_revoked(state, entry.tenant_id, &staged.summary).await?;
            rotation = crate::history_members::check_commit(
                state,
                entry.tenant_id,
                entry.conversation_id,
                &staged.summary,
            )
            .await?;
        }
        let (tenant, conversation) = (entry.tenant_id, entry.conversation_id);
        let outcome = state.committer().append(entry).await?;
        if let (AppendOutcome::Appended(_), Group::Live(view)) = (&outcome, &mut slot.group) {
            view.merge(staged).map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("merging a validated commit: {e}"))
            })?;
            // E2EE.md §3: the rotation is done once its commit is durable (§9.2).
            if let Some(hash_ref) = rotation {
                crate::history_members::complete(state, tenant, conversation, &hash_ref).await;
            }
        }
        outcome
    } else {
        let view = GroupView::from_group_info(&entry.payload).map_err(refused)?;
        if let Some(anchor) = &anchor {
            for creator in view.leaves() {
                policy::check_creator(&creator, anchor, now).map_err(refused)?;
            }
        }
        let outcome = state.committer().append(entry).await?;
        if matches!(outcome, AppendOutcome::Appended(_)) {
            slot.group = Group::Live(Box::new(view));
            state.groups().went_live();
        }
        outcome
    };
    if let (AppendOutcome::Appended(_), Some(key)) = (&outcome, key) {
        if slot.recent.len() == RECENT_HANDSHAKES {
            slot.recent.pop_front();
        }
        slot.recent.push_back(key);
    }
    Ok(outcome)
}

/// The signature keys of the conversation's group members (empty without a group): devices
/// the key-package directory must not hand out again for this conversation.
pub async fn member_keys(
    state: &AppState,
    tenant: TenantId,
    conversation: ConversationId,
) -> Result<Vec<[u8; 32]>, ApiError> {
    let slot = state.groups().slot(conversation)?;
    let mut slot = slot.lock().await;
    ensure_loaded(state, &mut slot, tenant, conversation).await?;
    Ok(match &slot.group {
        Group::Live(view) => view
            .leaves()
            .into_iter()
            .filter_map(|l| <[u8; 32]>::try_from(l.signature_key.as_slice()).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// The teams the certificates of the group's History Members name (empty without a group):
/// a rotation is due when one is not the conversation's current team (a team transfer).
/// Read from the leaves' chains without checking trust: the delivery service checked them
/// when they joined (`policy::check_commit`).
pub async fn history_member_teams(
    state: &AppState,
    tenant: TenantId,
    conversation: ConversationId,
) -> Result<Vec<[u8; 16]>, ApiError> {
    let slot = state.groups().slot(conversation)?;
    let mut slot = slot.lock().await;
    ensure_loaded(state, &mut slot, tenant, conversation).await?;
    Ok(match &slot.group {
        Group::Live(view) => view
            .leaves()
            .iter()
            .filter_map(|l| sealdesk_mls::certs::chain_device(&l.identity))
            .filter(|body| body.role == sealdesk_mls::certs::Role::History)
            .map(|body| body.team)
            .collect(),
        _ => Vec::new(),
    })
}
