//! The widget's public endpoints: configuration, visitor tickets, and the visitor's own
//! conversations (authenticated by ticket).
//!
//! These are called cross-origin from the tenant's website. They carry no ambient
//! credentials (no cookies; the ticket is a bearer token), so CORS may answer any origin:
//! which origins may use a tenant's widget is enforced where it matters, when a ticket is
//! issued and when a WebSocket is opened.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealdesk_crypto::token::{self, TokenKind};
use sealdesk_proto::conversations::{
    ChallengeResponse, ConversationList, ConversationView, OpenConversation, TicketRequest,
    TicketResponse, WidgetConfig,
};
use sealdesk_proto::ws::PROTOCOL_VERSION;
use sealdesk_proto::{ConversationId, TeamId, TenantId, VisitorId};
use sealdesk_store::ConversationFilter;

use crate::app::conversations::{self, Caller};
use crate::app::{visitors, widget};
use crate::error::{ApiError, ApiJson};
use crate::routes::conversations::conversation_view;
use crate::state::AppState;

/// A request authenticated by a valid visitor ticket.
#[derive(Debug, Clone, Copy)]
pub struct VisitorAuth {
    /// Tenant of the ticket.
    pub tenant: TenantId,
    /// Team of the ticket.
    pub team: TeamId,
    /// The visitor.
    pub visitor: VisitorId,
}

impl VisitorAuth {
    /// As a conversation caller.
    pub fn caller(&self) -> Caller {
        Caller::Visitor {
            tenant: self.tenant,
            team: self.team,
            visitor: self.visitor,
        }
    }
}

impl FromRequestParts<AppState> for VisitorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let raw = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .ok_or(ApiError::Unauthenticated)?;
        if token::parse(raw) != Some(TokenKind::VisitorTicket) {
            return Err(ApiError::Unauthenticated);
        }
        let (ticket, _) = state
            .store()
            .find_ticket(&token::digest(raw))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if !ticket.is_valid_at(state.clock().now()) {
            return Err(ApiError::Unauthenticated);
        }
        Ok(VisitorAuth {
            tenant: ticket.tenant_id,
            team: ticket.team_id,
            visitor: ticket.visitor_id,
        })
    }
}

/// Middleware for the widget's endpoints: answers CORS preflights and lets any origin read
/// the responses (without credentials).
pub async fn cors(request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = if request.method() == axum::http::Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(request).await
    };
    if let Some(origin) = origin {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}

/// The client's address (behind trusted proxies, the forwarded one).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(crate::auth::client::client_ip(
            parts,
            &state.config().server.trusted_proxies,
        )))
    }
}

fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// The widget's public configuration for one inbox.
#[utoipa::path(get, path = "/api/widget/{tenant}/{team}/config", tag = "widget",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team (inbox) id")),
    responses((status = 200, description = "Configuration", body = WidgetConfig),
        (status = 404, description = "No such enabled inbox", body = sealdesk_proto::ErrorBody)))]
pub async fn widget_config(
    State(state): State<AppState>,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
) -> Result<Json<WidgetConfig>, ApiError> {
    let (tenant, team) = visitors::inbox(&state, tenant, team).await?;
    let chat = &state.config().chat;
    let widget = widget::settings(&state, tenant.id, team.id).await?;
    let root_keys = state
        .store()
        .root_keys(tenant.id)
        .await?
        .iter()
        .map(|k| format!("ed25519:{}", URL_SAFE_NO_PAD.encode(k)))
        .collect();
    Ok(Json(WidgetConfig {
        tenant_id: tenant.id,
        tenant_name: tenant.name.to_string(),
        team_id: team.id,
        team_name: team.name.to_string(),
        protocol: PROTOCOL_VERSION,
        max_payload: u32::try_from(chat.max_payload_bytes).unwrap_or(u32::MAX),
        attachment_max: chat.attachment_max_bytes,
        root_keys,
        privacy_notice: widget.privacy_notice,
        prechat_fields: widget.prechat_fields,
    }))
}

/// Issues a visitor ticket (and, for a new visitor, its key).
#[utoipa::path(post, path = "/api/widget/{tenant}/{team}/tickets", tag = "widget", request_body = TicketRequest,
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team (inbox) id")),
    responses((status = 200, description = "Ticket", body = TicketResponse),
        (status = 403, description = "The page's origin is not an allowed widget origin", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "No such enabled inbox", body = sealdesk_proto::ErrorBody)))]
pub async fn ticket(
    State(state): State<AppState>,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<TicketResponse>, ApiError> {
    // The inbox and the origin are checked before the body is read: a missing inbox is 404
    // whatever the body says.
    let (tenant, team) = visitors::inbox(&state, tenant, team).await?;
    if !visitors::origin_allowed(&tenant, origin(&headers)) {
        return Err(ApiError::Forbidden);
    }
    let req: TicketRequest = if body.is_empty() {
        TicketRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?
    };
    let input = visitors::TicketInput {
        visitor_key: req.visitor_key.as_deref(),
        identity_token: req.identity_token.as_deref(),
        pow: req.pow.as_ref(),
        ip,
    };
    Ok(Json(
        visitors::issue_ticket(&state, &tenant, &team, input).await?,
    ))
}

/// A proof-of-work challenge, for when a ticket request was answered `challenge_required`.
#[utoipa::path(get, path = "/api/widget/{tenant}/{team}/challenge", tag = "widget",
    params(("tenant" = TenantId, Path, description = "Tenant id"), ("team" = TeamId, Path, description = "Team (inbox) id")),
    responses((status = 200, description = "Challenge", body = ChallengeResponse),
        (status = 404, description = "No such enabled inbox", body = sealdesk_proto::ErrorBody)))]
pub async fn challenge(
    State(state): State<AppState>,
    Path((tenant, team)): Path<(TenantId, TeamId)>,
) -> Result<Json<ChallengeResponse>, ApiError> {
    visitors::inbox(&state, tenant, team).await?;
    Ok(Json(visitors::challenge(&state)?))
}

/// Opens a conversation in the ticket's inbox.
#[utoipa::path(post, path = "/api/visitor/conversations", tag = "widget", request_body = OpenConversation,
    security(("bearer" = [])),
    responses((status = 200, description = "Opened", body = ConversationView),
        (status = 400, description = "The inbox's privacy notice was not accepted (`consent_required`)", body = sealdesk_proto::ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    ApiJson(req): ApiJson<OpenConversation>,
) -> Result<Json<ConversationView>, ApiError> {
    let conversation = visitors::open_conversation(
        &state,
        visitor.tenant,
        visitor.team,
        visitor.visitor,
        req.reopen,
        req.consent.as_ref(),
    )
    .await?;
    Ok(Json(conversation_view(&conversation)))
}

/// The visitor's conversations, newest first.
#[utoipa::path(get, path = "/api/visitor/conversations", tag = "widget",
    security(("bearer" = [])),
    responses((status = 200, description = "Conversations", body = ConversationList)))]
pub async fn list(
    State(state): State<AppState>,
    visitor: VisitorAuth,
) -> Result<Json<ConversationList>, ApiError> {
    let filter = ConversationFilter {
        visitor: Some(visitor.visitor),
        teams: Some(vec![visitor.team]),
        limit: 100,
        ..ConversationFilter::default()
    };
    let found = state
        .store()
        .list_conversations(visitor.tenant, &filter)
        .await?;
    Ok(Json(ConversationList {
        conversations: found.iter().map(conversation_view).collect(),
    }))
}

/// Asks for one of the visitor's conversations to be deleted (GDPR art. 17): it is closed if
/// it was not, and the next retention sweep deletes it with everything it holds.
#[utoipa::path(post, path = "/api/visitor/conversations/{id}/erasure", tag = "widget",
    security(("bearer" = [])),
    params(("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "Requested; deleted at the next retention sweep", body = ConversationView),
        (status = 404, description = "Not one of the visitor's conversations", body = sealdesk_proto::ErrorBody)))]
pub async fn request_erasure(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    Path(id): Path<ConversationId>,
) -> Result<Json<ConversationView>, ApiError> {
    let requested = visitors::request_erasure(&state, &visitor.caller(), id).await?;
    Ok(Json(conversation_view(&requested)))
}

/// Closes one of the visitor's conversations.
#[utoipa::path(post, path = "/api/visitor/conversations/{id}/close", tag = "widget",
    security(("bearer" = [])),
    params(("id" = ConversationId, Path, description = "Conversation id")),
    responses((status = 200, description = "Closed", body = ConversationView)))]
pub async fn close(
    State(state): State<AppState>,
    visitor: VisitorAuth,
    Path(id): Path<ConversationId>,
) -> Result<Json<ConversationView>, ApiError> {
    let closed = conversations::close(&state, &visitor.caller(), id).await?;
    Ok(Json(conversation_view(&closed)))
}
