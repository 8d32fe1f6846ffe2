//! Staff endpoints for conversations: queues and lists, history, claim, transfer, join,
//! close; one's availability; team membership and routing settings.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_core::ValidationError;
use sealdesk_core::access::Action;
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_core::clock::to_unix_ms;
use sealdesk_core::domain::{Conversation, ConversationState};
use sealdesk_core::routing::{AssignmentMode, Availability, DEFAULT_CAPACITY, MAX_CAPACITY};
use sealdesk_proto::conversations::{
    AvailabilityRequest, AvailabilityView, ConversationList, ConversationView, EntryPage,
    EntryView, InboxIdentityRequest, InboxIdentityView, RoutingSettings, TeamMembers,
    TransferRequest, VisitorView,
};
use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId, VisitorId};
use sealdesk_store::ConversationFilter;
use serde::Deserialize;

use crate::app::audit;
use crate::app::conversations::{self, Caller, TransferTarget};
use crate::app::identity;
use crate::auth::Auth;
use crate::auth::extract::TenantScope;
use crate::error::{ApiError, ApiJson};
use crate::hub::{Event, Topic};
use crate::state::AppState;
use crate::ws::codec;

/// The API view of a conversation.
pub fn conversation_view(c: &Conversation) -> ConversationView {
    ConversationView {
        id: c.id,
        tenant_id: c.tenant_id,
        team_id: c.team_id,
        visitor_id: c.visitor_id,
        state: c.state.as_str().to_owned(),
        assignee: c.assignee,
        reopened_from: c.reopened_from,
        last_seq: c.last_seq,
        created_at: c.created_at,
        updated_at: c.updated_at,
        closed_at: c.closed_at,
        consent_notice: c.consent_notice.clone(),
        erasure_requested_at: c.erasure_requested_at,
    }
}

/// Filters of the conversation list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only this team.
    pub team: Option<TeamId>,
    /// Only this state (`open`, `queued`, `assigned`, `closed`).
    pub state: Option<String>,
    /// Only the caller's own assigned conversations.
    #[serde(default)]
    pub mine: bool,
    /// Keyset pagination: conversations older than this one.
    pub before: Option<ConversationId>,
    /// At most this many (1 to 200, default 50).
    pub limit: Option<u32>,
}

/// Conversations the caller may see: supervisors and above see all of the tenant's, agents
/// those of their teams (and their own).
#[utoipa::path(get, path = "/api/tenants/{tenant}/conversations", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ListQuery),
    responses((status = 200, description = "Newest first", body = ConversationList)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ConversationList>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    let states = match q.state.as_deref() {
        None => None,
        Some(raw) => Some(vec![ConversationState::parse(raw).ok_or_else(|| {
            ValidationError::new("state", "must be open, queued, assigned or closed")
        })?]),
    };
    let supervises =
        sealdesk_core::access::allowed(auth.principal.role, Action::SuperviseConversations);
    let mut states = states;
    let teams = if supervises || q.mine {
        q.team.map(|t| vec![t])
    } else {
        // An agent sees the waiting conversations of their teams (and, with `mine`, their
        // own) and, asked for `state=closed`, the teams' history; never colleagues'
        // assigned ones.
        let waiting = [ConversationState::Open, ConversationState::Queued];
        states = Some(match states {
            Some(s) => s
                .into_iter()
                .filter(|s| waiting.contains(s) || *s == ConversationState::Closed)
                .collect(),
            None => waiting.to_vec(),
        });
        let mine = state
            .store()
            .teams_of_staff(tenant, auth.principal.staff)
            .await?;
        Some(match q.team {
            Some(t) if mine.contains(&t) => vec![t],
            Some(_) => Vec::new(),
            None => mine,
        })
    };
    let filter = ConversationFilter {
        teams,
        states,
        assignee: q.mine.then_some(auth.principal.staff),
        visitor: None,
        before: q.before,
        limit: q.limit.unwrap_or(50).clamp(1, 200),
    };
    let found = if filter.teams.as_ref().is_some_and(Vec::is_empty)
        || filter.states.as_ref().is_some_and(Vec::is_empty)
    {
        Vec::new()
    } else {
        state.store().list_conversations(tenant, &filter).await?
    };
    Ok(Json(ConversationList {
        conversations: found.iter().map(conversation_view).collect(),
    }))
}

async fn staff_caller(state: &AppState, auth: &Auth, tenant: TenantId) -> Result<Caller, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    Caller::staff(state, auth.principal).await
}

/// One conversation the caller may read.
#[utoipa::path(get, path = "/api/tenants/{tenant}/conversations/{id}", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "The conversation", body = ConversationView)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
) -> Result<Json<ConversationView>, ApiError> {
    let caller = staff_caller(&state, &auth, tenant).await?;
    let (conversation, _) = conversations::readable(&state, &caller, id).await?;
    Ok(Json(conversation_view(&conversation)))
}

/// Paging of a log.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct EntriesQuery {
    /// Entries after this sequence number (default 0).
    #[serde(default)]
    pub after: u64,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

/// A page of a conversation's log (opaque payloads, base64).
#[utoipa::path(get, path = "/api/tenants/{tenant}/conversations/{id}/entries", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id"), EntriesQuery),
    responses((status = 200, description = "Oldest first", body = EntryPage)))]
pub async fn entries(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
    Query(q): Query<EntriesQuery>,
) -> Result<Json<EntryPage>, ApiError> {
    let caller = staff_caller(&state, &auth, tenant).await?;
    conversations::readable(&state, &caller, id).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let log = state.store().read_log(tenant, id, q.after, limit).await?;
    Ok(Json(EntryPage {
        entries: log
            .iter()
            .map(|e| EntryView {
                seq: e.seq,
                k: codec::wire_kind(e.kind),
                from: codec::wire_party(e.sender),
                id: e.client_msg_id.as_ref().map(|i| i.as_str().to_owned()),
                at: to_unix_ms(e.created_at),
                p: STANDARD.encode(&e.payload),
            })
            .collect(),
    }))
}

/// Claims a waiting conversation (of two simultaneous claims exactly one wins: 409 for the
/// other).
#[utoipa::path(post, path = "/api/tenants/{tenant}/conversations/{id}/claim", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "Assigned to the caller", body = ConversationView),
        (status = 409, description = "Already claimed, transferred or closed", body = sealdesk_proto::ErrorBody)))]
pub async fn claim(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
) -> Result<Json<ConversationView>, ApiError> {
    auth.require(Action::HandleConversations, tenant)?;
    let claimed = conversations::claim(&state, &auth.principal, id).await?;
    Ok(Json(conversation_view(&claimed)))
}

/// Decodes the carried copies' base64.
fn carry_request(
    carry: &sealdesk_proto::conversations::CarryOverUpload,
) -> Result<crate::app::carry::CarryRequest, ApiError> {
    let decode = |what: &str, b64: &str| {
        STANDARD.decode(b64).map_err(|_| {
            ApiError::from(ValidationError::new(
                "carry",
                format!("{what}: must be standard base64"),
            ))
        })
    };
    Ok(crate::app::carry::CarryRequest {
        bundles: carry
            .bundles
            .iter()
            .map(|b| Ok((b.generation, decode("sealed_bundle", &b.sealed_bundle)?)))
            .collect::<Result<_, ApiError>>()?,
        notes: carry
            .notes
            .iter()
            .map(|n| Ok((n.seq, decode("p", &n.p)?)))
            .collect::<Result<_, ApiError>>()?,
    })
}

/// Transfers a conversation to an agent or back to a team's queue. A transfer to another
/// team may carry the earlier History Member bundles and notes, re-sealed for that team
/// (docs/e2ee.md, "Transfer to another team").
#[utoipa::path(post, path = "/api/tenants/{tenant}/conversations/{id}/transfer", tag = "conversations",
    request_body = TransferRequest,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "Transferred", body = ConversationView),
        (status = 409, description = "The conversation changed meanwhile, or a copy is not sealed to the new team's newest key (`conflict`)", body = sealdesk_proto::ErrorBody),
        (status = 400, description = "A carried copy is malformed, of another tenant or team, too large, repeated, or of no original of the conversation (`invalid_input`)", body = sealdesk_proto::ErrorBody)))]
pub async fn transfer(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
    ApiJson(req): ApiJson<TransferRequest>,
) -> Result<Json<ConversationView>, ApiError> {
    auth.require(Action::HandleConversations, tenant)?;
    let target = match (req.agent, req.team) {
        (Some(agent), None) => TransferTarget::Agent(agent),
        (None, Some(team)) => TransferTarget::Team(team),
        _ => {
            return Err(ApiError::Invalid(ValidationError::new(
                "agent",
                "give exactly one of agent and team",
            )));
        }
    };
    let carry = req.carry.as_ref().map(carry_request).transpose()?;
    let moved = conversations::transfer(&state, &auth.principal, id, target, carry).await?;
    Ok(Json(conversation_view(&moved)))
}

/// A supervisor joins a conversation.
#[utoipa::path(post, path = "/api/tenants/{tenant}/conversations/{id}/join", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "Joined", body = ConversationView)))]
pub async fn join(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
) -> Result<Json<ConversationView>, ApiError> {
    auth.require(Action::SuperviseConversations, tenant)?;
    let joined = conversations::join(&state, &auth.principal, id).await?;
    Ok(Json(conversation_view(&joined)))
}

/// Closes a conversation.
#[utoipa::path(post, path = "/api/tenants/{tenant}/conversations/{id}/close", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "Closed", body = ConversationView)))]
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, ConversationId)>,
) -> Result<Json<ConversationView>, ApiError> {
    auth.require(Action::HandleConversations, tenant)?;
    let caller = Caller::staff(&state, auth.principal).await?;
    let closed = conversations::close(&state, &caller, id).await?;
    Ok(Json(conversation_view(&closed)))
}

/// The caller's availability and capacity as the router sees them, and how many
/// conversations are assigned to the caller now.
#[utoipa::path(get, path = "/api/account/availability", tag = "conversations",
    responses((status = 200, description = "Availability", body = AvailabilityView)))]
pub async fn availability(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<AvailabilityView>, ApiError> {
    auth.require(Action::HandleConversations, auth.principal.tenant)?;
    let (tenant, staff) = (auth.principal.tenant, auth.principal.staff);
    let (availability, capacity) = state
        .store()
        .availability(tenant, staff)
        .await?
        .unwrap_or((Availability::Offline, DEFAULT_CAPACITY));
    let filter = ConversationFilter {
        states: Some(vec![ConversationState::Assigned]),
        assignee: Some(staff),
        limit: 500,
        ..ConversationFilter::default()
    };
    let active = state
        .store()
        .list_conversations(tenant, &filter)
        .await?
        .len();
    Ok(Json(AvailabilityView {
        availability: availability.as_str().to_owned(),
        capacity,
        active: u32::try_from(active).unwrap_or(u32::MAX),
    }))
}

/// Sets the caller's availability and capacity (kept as it was when left out).
#[utoipa::path(put, path = "/api/account/availability", tag = "conversations",
    request_body = AvailabilityRequest,
    responses((status = 204, description = "Set")))]
pub async fn set_availability(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<AvailabilityRequest>,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::HandleConversations, auth.principal.tenant)?;
    let availability = Availability::parse(&req.availability)
        .ok_or_else(|| ValidationError::new("availability", "must be online, away or offline"))?;
    // Without a capacity, the one set before stays (the default until one is set).
    let capacity = match req.capacity {
        Some(capacity) => capacity,
        None => state
            .store()
            .availability(auth.principal.tenant, auth.principal.staff)
            .await?
            .map_or(DEFAULT_CAPACITY, |(_, capacity)| capacity),
    };
    if capacity == 0 || capacity > MAX_CAPACITY {
        return Err(ValidationError::new(
            "capacity",
            format!("must be between 1 and {MAX_CAPACITY}"),
        )
        .into());
    }
    state
        .store()
        .set_availability(
            auth.principal.tenant,
            auth.principal.staff,
            availability,
            capacity,
            auth.at,
        )
        .await?;
    if availability == Availability::Online {
        // Waiting conversations of the caller's teams may now find an agent.
        let caller = Caller::staff(&state, auth.principal).await?;
        if let Caller::Staff { teams, .. } = caller {
            let filter = ConversationFilter {
                teams: Some(teams.to_vec()),
                states: Some(vec![ConversationState::Queued]),
                limit: u32::from(capacity),
                ..ConversationFilter::default()
            };
            let waiting = state
                .store()
                .list_conversations(auth.principal.tenant, &filter)
                .await?;
            for conversation in waiting.iter().rev() {
                conversations::auto_assign(&state, conversation).await?;
            }
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A team's members.
#[utoipa::path(get, path = "/api/tenants/{tenant}/teams/{team}/members", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "Members", body = TeamMembers)))]
pub async fn members(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
) -> Result<Json<TeamMembers>, ApiError> {
    auth.require(Action::ViewTenant, tenant)?;
    state.store().get_team(tenant, team).await?;
    Ok(Json(TeamMembers {
        members: state.store().team_members(tenant, team).await?,
    }))
}

/// Adds a staff member to a team.
#[utoipa::path(put, path = "/api/tenants/{tenant}/teams/{team}/members/{staff}", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id"), ("staff" = StaffId, Path, description = "Staff id")),
    responses((status = 204, description = "Member")))]
pub async fn add_member(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team, staff)): Path<(TenantId, TeamId, StaffId)>,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::ManageTeams, tenant)?;
    state.store().add_team_member(tenant, team, staff).await?;
    membership_changed(&state, tenant, staff);
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a staff member from a team.
#[utoipa::path(delete, path = "/api/tenants/{tenant}/teams/{team}/members/{staff}", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id"), ("staff" = StaffId, Path, description = "Staff id")),
    responses((status = 204, description = "Removed"), (status = 404, description = "Not a member", body = sealdesk_proto::ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team, staff)): Path<(TenantId, TeamId, StaffId)>,
) -> Result<StatusCode, ApiError> {
    auth.require(Action::ManageTeams, tenant)?;
    if state
        .store()
        .remove_team_member(tenant, team, staff)
        .await?
    {
        membership_changed(&state, tenant, staff);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Tells the staff member's open connections (on every node, through the bus) that their
/// teams changed: they follow the new teams' queues and lose what they may no longer read
/// without reconnecting (least privilege applied at once: OWASP ASVS 4.0 V4.1.3).
fn membership_changed(state: &AppState, tenant: TenantId, staff: StaffId) {
    state
        .bus()
        .publish(Topic::Staff(staff), Event::Membership(tenant));
}

/// Sets a team's assignment mode.
#[utoipa::path(put, path = "/api/tenants/{tenant}/teams/{team}/routing", tag = "conversations",
    request_body = RoutingSettings,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "Set", body = RoutingSettings)))]
pub async fn set_routing(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
    ApiJson(req): ApiJson<RoutingSettings>,
) -> Result<Json<RoutingSettings>, ApiError> {
    auth.require(Action::ManageTeams, tenant)?;
    let mode = AssignmentMode::parse(&req.assignment).ok_or_else(|| {
        ValidationError::new("assignment", "must be manual, least_busy or round_robin")
    })?;
    state
        .store()
        .set_assignment_mode(tenant, team, mode)
        .await?;
    Ok(Json(RoutingSettings {
        assignment: mode.as_str().to_owned(),
    }))
}

/// An inbox's identity-token settings.
#[utoipa::path(get, path = "/api/tenants/{tenant}/teams/{team}/identity", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "Settings (never the secret)", body = InboxIdentityView)))]
pub async fn get_identity(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
) -> Result<Json<InboxIdentityView>, ApiError> {
    auth.require(Action::ManageSettings, tenant)?;
    state.store().get_team(tenant, team).await?;
    let current = state.store().get_inbox_identity(tenant, team).await?;
    Ok(Json(identity::view(team, current.as_ref())))
}

/// Sets an inbox's identity-token key (a key operation: needs a recent re-authentication).
/// For `hs256` the response carries the new secret, once.
#[utoipa::path(put, path = "/api/tenants/{tenant}/teams/{team}/identity", tag = "conversations",
    request_body = InboxIdentityRequest,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team id")),
    responses((status = 200, description = "Set", body = InboxIdentityView)))]
pub async fn set_identity(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
    ApiJson(req): ApiJson<InboxIdentityRequest>,
) -> Result<Json<InboxIdentityView>, ApiError> {
    auth.require(Action::ManageSettings, tenant)?;
    auth.require_recent_auth(auth.at)?;
    let team = state.store().get_team(tenant, team).await?;
    let shown = identity::set(&state, tenant, &team, &req).await?;
    audit::event(
        &state,
        AuditAction::SettingsChanged,
        Actor::Staff(auth.principal.staff),
    )
    .tenant(tenant)
    .target(format!("team:{}", team.id))
    .detail("changed", "identity_key")
    .detail("kind", shown.kind.clone())
    .ip(auth.ip)
    .record(&state)
    .await;
    Ok(Json(shown))
}

/// A visitor of the tenant: whether the tenant's website verified it, and as whom.
#[utoipa::path(get, path = "/api/tenants/{tenant}/visitors/{id}", tag = "conversations",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("id" = VisitorId, Path, description = "Visitor id")),
    responses((status = 200, description = "The visitor", body = VisitorView)))]
pub async fn visitor(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path((tenant, id)): Path<(TenantId, VisitorId)>,
) -> Result<Json<VisitorView>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    let v = state.store().get_visitor(tenant, id).await?;
    Ok(Json(VisitorView {
        id: v.id,
        team_id: v.team_id,
        verified: v.is_verified(),
        external_id: v.external_id.as_ref().map(|e| e.as_str().to_owned()),
        created_at: v.created_at,
        last_seen_at: v.last_seen_at,
    }))
}
