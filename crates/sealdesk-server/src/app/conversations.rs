//! Conversation use cases: who may read and write a conversation, sending through the group
//! committer, and the routing changes (queue, automatic assignment, claim, transfer, join,
//! close), each recorded as a system entry and announced on the bus.
//!
//! Access rules (docs/protocol.md, "Who sees what"):
//! - a visitor reads and writes only its own conversations, in the tenant of its ticket
//!   (also after a transfer to another team of the tenant);
//! - an agent reads the waiting (open or queued) conversations of its teams and the ones it is
//!   assigned to or participates in, and writes only those it is assigned to or participates
//!   in;
//! - supervisors, admins and owners read every conversation of their tenant and write the
//!   ones they joined or are assigned to.

use std::sync::Arc;

use bytes::Bytes;
use sealdesk_core::access::{Action, Principal, allowed};
use sealdesk_core::domain::{
    AppendOutcome, ClientMsgId, Conversation, ConversationChange, ConversationState, EntryKind,
    LogEntry, NewEntry, Party,
};
use sealdesk_core::routing::pick_agent;
use sealdesk_proto::ws::{Notice, NoticeKind, ServerFrame, SystemEvent};
use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId, VisitorId};
use sealdesk_store::{Constraint, StoreError};
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::hub::{CommittedEntry, Event, Topic};
use crate::state::AppState;
use crate::ws::codec;

/// Who is acting on a conversation.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A visitor holding a ticket.
    Visitor {
        /// Tenant of the ticket.
        tenant: TenantId,
        /// Team of the ticket.
        team: TeamId,
        /// The visitor.
        visitor: VisitorId,
    },
    /// A staff member.
    Staff {
        /// Who.
        principal: Principal,
        /// The teams they belong to (read when the connection or request started).
        teams: Arc<[TeamId]>,
    },
}

impl Caller {
    /// The caller's tenant.
    pub fn tenant(&self) -> TenantId {
        match self {
            Caller::Visitor { tenant, .. } => *tenant,
            Caller::Staff { principal, .. } => principal.tenant,
        }
    }

    /// The caller as the writer of log entries.
    pub fn party(&self) -> Party {
        match self {
            Caller::Visitor { visitor, .. } => Party::Visitor(*visitor),
            Caller::Staff { principal, .. } => Party::Staff(principal.staff),
        }
    }

    /// A staff caller, with their team memberships read from the store.
    pub async fn staff(state: &AppState, principal: Principal) -> Result<Self, ApiError> {
        let teams = state
            .store()
            .teams_of_staff(principal.tenant, principal.staff)
            .await?;
        Ok(Caller::Staff {
            principal,
            teams: teams.into(),
        })
    }
}

/// What a caller may do with one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access {
    /// Receive its entries.
    pub read: bool,
    /// Append entries.
    pub write: bool,
}

/// The caller's access to `conversation` (which the caller's tenant owns, or no access).
pub async fn access(
    state: &AppState,
    caller: &Caller,
    conversation: &Conversation,
) -> Result<Access, ApiError> {
    if conversation.tenant_id != caller.tenant() {
        return Ok(Access::default());
    }
    match caller {
        Caller::Visitor { visitor, .. } => {
            // The ticket's team is where the visitor's conversations start; a conversation
            // transferred to another team stays the visitor's (its widget goes on chatting
            // and adds the new team's assignee to the group). The tenant was checked above.
            let own = conversation.visitor_id == *visitor;
            Ok(Access {
                read: own,
                write: own,
            })
        }
        Caller::Staff { principal, teams } => {
            if !allowed(principal.role, Action::HandleConversations) {
                return Ok(Access::default());
            }
            let assigned = conversation.assignee == Some(principal.staff);
            let participant = assigned
                || state
                    .store()
                    .is_participant(principal.tenant, conversation.id, principal.staff)
                    .await?;
            let supervises = allowed(principal.role, Action::SuperviseConversations);
            // Waiting conversations (to claim) and closed ones (the team's history) of the
            // caller's teams; never a colleague's ongoing conversation. The team key opens
            // the History Member bundle of every conversation of the team anyway: this
            // matches what the team can decrypt.
            let team_visible = matches!(
                conversation.state,
                ConversationState::Open | ConversationState::Queued | ConversationState::Closed
            ) && teams.contains(&conversation.team_id);
            Ok(Access {
                read: participant || supervises || team_visible,
                write: participant,
            })
        }
    }
}

/// Loads a conversation the caller may read; anything else is `NotFound` (never telling a
/// foreign conversation from a missing one).
pub async fn readable(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
) -> Result<(Conversation, Access), ApiError> {
    let conversation = state.store().get_conversation(caller.tenant(), id).await?;
    let access = access(state, caller, &conversation).await?;
    if !access.read {
        return Err(ApiError::NotFound);
    }
    Ok((conversation, access))
}

/// The result of a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// The entry's sequence number.
    pub seq: u64,
    /// Whether it had been appended before (a retry).
    pub duplicate: bool,
}

/// Appends an entry written by `caller` (whose write access the caller of this function
/// checked) and waits until it is durable; MLS entries pass the delivery service's validation
/// first (`groups`). A visitor's first application message queues an
/// open conversation and starts automatic assignment.
pub async fn send(
    state: &AppState,
    caller: &Caller,
    conversation: ConversationId,
    client_msg_id: &str,
    kind: EntryKind,
    payload: Bytes,
) -> Result<Sent, ApiError> {
    let client_msg_id = ClientMsgId::parse(client_msg_id)?;
    let entry = NewEntry {
        tenant_id: caller.tenant(),
        conversation_id: conversation,
        sender: caller.party(),
        kind,
        client_msg_id: Some(client_msg_id),
        payload,
        at: state.clock().now(),
    };
    match crate::groups::append_checked(state, entry).await? {
        AppendOutcome::Appended(entry) => {
            if matches!(caller, Caller::Visitor { .. })
                && kind == EntryKind::Application
                && !state.routed().contains(conversation)
            {
                let state = state.clone();
                let tenant = caller.tenant();
                // Routing must not delay the sender's acknowledgement.
                tokio::spawn(async move {
                    match queue_if_open(&state, tenant, conversation).await {
                        // Queued now or before: later messages need not look again.
                        Ok(()) => state.routed().insert(conversation),
                        Err(e) => tracing::warn!(error = %e, "routing a new conversation failed"),
                    }
                });
            }
            Ok(Sent {
                seq: entry.seq,
                duplicate: false,
            })
        }
        AppendOutcome::Duplicate { seq } => Ok(Sent {
            seq,
            duplicate: true,
        }),
        AppendOutcome::NotFound => Err(ApiError::NotFound),
        AppendOutcome::Closed => Err(ApiError::ConversationClosed),
    }
}

/// Puts an open conversation into its team's queue and tries automatic assignment. Does
/// nothing if it is no longer open.
pub async fn queue_if_open(
    state: &AppState,
    tenant: TenantId,
    id: ConversationId,
) -> Result<(), ApiError> {
    let now = state.clock().now();
    let conversation = state.store().get_conversation(tenant, id).await?;
    if conversation.state != ConversationState::Open {
        return Ok(());
    }
    let queued = SystemEvent::Queued {
        team: conversation.team_id,
    };
    match change(
        state,
        &conversation,
        &ConversationChange::queue(now),
        &queued,
    )
    .await
    {
        Ok(conversation) => auto_assign(state, &conversation).await,
        Err(ApiError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Offers a queued conversation to an agent according to its team's assignment mode.
pub async fn auto_assign(state: &AppState, conversation: &Conversation) -> Result<(), ApiError> {
    if conversation.state != ConversationState::Queued {
        return Ok(());
    }
    let store = state.store();
    let mode = store
        .assignment_mode(conversation.tenant_id, conversation.team_id)
        .await?;
    let loads = store
        .team_loads(conversation.tenant_id, conversation.team_id)
        .await?;
    let Some(agent) = pick_agent(mode, &loads) else {
        return Ok(());
    };
    let now = state.clock().now();
    let event = SystemEvent::Assigned { agent };
    match change(
        state,
        conversation,
        &ConversationChange::claim(agent, now),
        &event,
    )
    .await
    {
        // Someone claimed it first, or the agent just became unavailable: it stays queued.
        Ok(_) | Err(ApiError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// An agent claims a waiting conversation. Of two simultaneous claims exactly one wins; the
/// other gets `Conflict`.
pub async fn claim(
    state: &AppState,
    principal: &Principal,
    id: ConversationId,
) -> Result<Conversation, ApiError> {
    let caller = Caller::staff(state, *principal).await?;
    let conversation = state.store().get_conversation(principal.tenant, id).await?;
    // A conversation of the caller's teams stays in scope after a colleague claimed it, so
    // the slower of two simultaneous claims hears "conflict", not "not found".
    let in_scope = match &caller {
        Caller::Staff { teams, .. } => {
            teams.contains(&conversation.team_id)
                || allowed(principal.role, Action::SuperviseConversations)
                || access(state, &caller, &conversation).await?.read
        }
        Caller::Visitor { .. } => false,
    };
    if !in_scope {
        return Err(ApiError::NotFound);
    }
    let now = state.clock().now();
    let event = SystemEvent::Assigned {
        agent: principal.staff,
    };
    change(
        state,
        &conversation,
        &ConversationChange::claim(principal.staff, now),
        &event,
    )
    .await
}

/// Where a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTarget {
    /// To another agent of the tenant.
    Agent(StaffId),
    /// Back to a team's queue.
    Team(TeamId),
}

/// Transfers a conversation. Its assignee may transfer it; so may a supervisor (or above).
/// A transfer to another team may carry copies of the earlier History Member bundles and
/// notes re-sealed for that team (`super::carry`), stored in the transfer's transaction.
pub async fn transfer(
    state: &AppState,
    principal: &Principal,
    id: ConversationId,
    target: TransferTarget,
    carry: Option<super::carry::CarryRequest>,
) -> Result<Conversation, ApiError> {
    let caller = Caller::staff(state, *principal).await?;
    let (conversation, _) = readable(state, &caller, id).await?;
    let is_assignee = conversation.assignee == Some(principal.staff);
    if !is_assignee && !allowed(principal.role, Action::SuperviseConversations) {
        return Err(ApiError::Forbidden);
    }
    let now = state.clock().now();
    let (change_spec, event) = match target {
        TransferTarget::Agent(to) => {
            let from = conversation.assignee.ok_or_else(|| {
                ApiError::Conflict("only an assigned conversation moves to an agent".into())
            })?;
            (
                ConversationChange::transfer_to_agent(from, to, now),
                SystemEvent::TransferredToAgent { from, to },
            )
        }
        TransferTarget::Team(team) => (
            ConversationChange::transfer_to_team(conversation.assignee, team, now),
            SystemEvent::TransferredToTeam {
                from: conversation.assignee,
                team,
            },
        ),
    };
    let carried = match (carry, target) {
        (None, _) => None,
        (Some(request), TransferTarget::Team(team)) => {
            Some(super::carry::checked(state, principal, &conversation, team, request).await?)
        }
        (Some(_), TransferTarget::Agent(_)) => {
            return Err(sealdesk_core::ValidationError::new(
                "carry",
                "only a transfer to another team carries copies",
            )
            .into());
        }
    };
    let changed =
        change_carrying(state, &conversation, &change_spec, &event, carried.as_ref()).await?;
    if changed.state == ConversationState::Queued {
        auto_assign(state, &changed).await?;
    }
    Ok(changed)
}

/// A supervisor joins a conversation (and may then write to it).
pub async fn join(
    state: &AppState,
    principal: &Principal,
    id: ConversationId,
) -> Result<Conversation, ApiError> {
    if !allowed(principal.role, Action::SuperviseConversations) {
        return Err(ApiError::Forbidden);
    }
    let caller = Caller::staff(state, *principal).await?;
    let (conversation, _) = readable(state, &caller, id).await?;
    if conversation.state == ConversationState::Closed {
        return Err(ApiError::ConversationClosed);
    }
    let now = state.clock().now();
    state
        .store()
        .add_participant(principal.tenant, id, principal.staff, now)
        .await?;
    let event = SystemEvent::SupervisorJoined {
        staff: principal.staff,
    };
    let entry = system_entry(&conversation, &event, now);
    let outcome = state.committer().append(entry).await?;
    if let AppendOutcome::Closed = outcome {
        return Err(ApiError::ConversationClosed);
    }
    state
        .bus()
        .publish(Topic::Conversation(id), Event::Access(id));
    Ok(conversation)
}

/// Closes a conversation: its visitor, its assignee or participants, or a supervisor.
pub async fn close(
    state: &AppState,
    caller: &Caller,
    id: ConversationId,
) -> Result<Conversation, ApiError> {
    let (conversation, access) = readable(state, caller, id).await?;
    let supervises = matches!(caller, Caller::Staff { principal, .. }
        if allowed(principal.role, Action::SuperviseConversations));
    if !access.write && !supervises {
        return Err(ApiError::Forbidden);
    }
    if conversation.state == ConversationState::Closed {
        return Err(ApiError::ConversationClosed);
    }
    let now = state.clock().now();
    let event = SystemEvent::Closed {
        by: codec::wire_party(caller.party()),
    };
    change(
        state,
        &conversation,
        &ConversationChange::close(now),
        &event,
    )
    .await
}

fn system_entry(conversation: &Conversation, event: &SystemEvent, at: OffsetDateTime) -> NewEntry {
    NewEntry {
        tenant_id: conversation.tenant_id,
        conversation_id: conversation.id,
        sender: Party::System,
        kind: EntryKind::System,
        client_msg_id: None,
        payload: Bytes::from(serde_json::to_vec(event).unwrap_or_default()),
        at,
    }
}

/// Applies a guarded change with its system entry, then announces it: the entry to the
/// conversation's subscribers, an access re-check, and notices to the team and assignee.
async fn change(
    state: &AppState,
    conversation: &Conversation,
    spec: &ConversationChange,
    event: &SystemEvent,
) -> Result<Conversation, ApiError> {
    change_carrying(state, conversation, spec, event, None).await
}

/// [`change`], storing `carry` in the same transaction when given.
async fn change_carrying(
    state: &AppState,
    conversation: &Conversation,
    spec: &ConversationChange,
    event: &SystemEvent,
    carry: Option<&sealdesk_store::CarryOver>,
) -> Result<Conversation, ApiError> {
    let entry = system_entry(conversation, event, spec.at);
    let (tenant, id, store) = (conversation.tenant_id, conversation.id, state.store());
    let stored = match carry {
        Some(carry) => {
            store
                .transfer_carrying(tenant, id, spec, Some(&entry), carry)
                .await
        }
        None => {
            store
                .change_conversation(tenant, id, spec, Some(&entry))
                .await
        }
    };
    let (changed, appended) = match stored {
        Ok(result) => result,
        Err(StoreError::Conflict {
            constraint: Constraint::ConversationState,
        }) => {
            return Err(ApiError::Conflict(
                "the conversation changed meanwhile (claimed, transferred or closed)".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    announce(state, &changed, appended);
    Ok(changed)
}

fn announce(state: &AppState, changed: &Conversation, appended: Option<LogEntry>) {
    let bus = state.bus();
    let topic = Topic::Conversation(changed.id);
    if let Some(entry) = appended {
        bus.publish(topic, Event::Entry(Arc::new(CommittedEntry::new(entry))));
    }
    bus.publish(topic, Event::Access(changed.id));
    let what = match changed.state {
        ConversationState::Queued => NoticeKind::Queued,
        ConversationState::Assigned => NoticeKind::Assigned,
        ConversationState::Closed => NoticeKind::Closed,
        ConversationState::Open => return,
    };
    let frame = codec::encode(&ServerFrame::Notice(Notice {
        what,
        c: changed.id,
        team: changed.team_id,
        assignee: changed.assignee,
    }));
    bus.publish(Topic::Team(changed.team_id), Event::Notice(frame.clone()));
    if let Some(agent) = changed.assignee {
        bus.publish(Topic::Staff(agent), Event::Notice(frame));
    }
}
