//! Visitor use cases: the widget's public configuration, tickets, and opening
//! conversations.

use std::net::IpAddr;

use sealdesk_core::ValidationError;
use sealdesk_core::audit::{Actor, AuditAction};
use sealdesk_core::clock::to_unix_ms;
use sealdesk_core::domain::{
    Conversation, ConversationState, ExternalId, NewConversation, NewVisitor, Team, Tenant,
    Visitor, VisitorTicket,
};
use sealdesk_core::ids::IdGenerator;
use sealdesk_crypto::pow;
use sealdesk_crypto::token::{self, TokenKind};
use sealdesk_proto::conversations::{ChallengeResponse, PowSolution, TicketResponse};
use sealdesk_proto::widget::Consent;
use sealdesk_proto::{ConversationId, TeamId, TenantId, VisitorId};
use secrecy::ExposeSecret;

use crate::abuse::{Abuse, CHALLENGE_TTL};
use crate::app::identity;
use crate::error::ApiError;
use crate::state::AppState;

/// The enabled tenant and team a widget talks to; disabled or foreign ones are `NotFound`.
pub async fn inbox(
    state: &AppState,
    tenant: TenantId,
    team: TeamId,
) -> Result<(Tenant, Team), ApiError> {
    let store = state.store();
    let tenant = store.get_tenant(tenant).await?;
    let team = store.get_team(tenant.id, team).await?;
    if tenant.disabled || team.disabled {
        return Err(ApiError::NotFound);
    }
    Ok((tenant, team))
}

/// Whether a browser page at `origin` may use the tenant's widget. Requests without an
/// `Origin` (not from a browser: the terminal client, tests, the load generator) pass.
pub fn origin_allowed(tenant: &Tenant, origin: Option<&str>) -> bool {
    origin.is_none_or(|o| tenant.widget_origins.iter().any(|w| w.as_str() == o))
}

/// What a ticket request carries.
#[derive(Debug, Clone, Copy)]
pub struct TicketInput<'a> {
    /// The key of a returning anonymous visitor.
    pub visitor_key: Option<&'a str>,
    /// An identity token from the tenant's website.
    pub identity_token: Option<&'a str>,
    /// A solved proof-of-work challenge.
    pub pow: Option<&'a PowSolution>,
    /// The client's address.
    pub ip: IpAddr,
}

/// Issues a ticket: for the verified visitor of an identity token's customer; else for the
/// returning visitor holding `visitor_key`; else for a new visitor (whose key is returned
/// once), who may first have to solve a proof-of-work challenge.
///
/// An identity token decides alone: a visitor key sent with it is ignored, so a token for
/// one customer can never open another customer's (or an anonymous visitor's)
/// conversations.
pub async fn issue_ticket(
    state: &AppState,
    tenant: &Tenant,
    team: &Team,
    input: TicketInput<'_>,
) -> Result<TicketResponse, ApiError> {
    let chat = &state.config().chat;
    let now = state.clock().now();
    Abuse::check_blocklist(tenant, input.ip)?;
    state.abuse().ticket(chat, input.ip, now)?;
    let store = state.store();
    let identity = store.get_inbox_identity(tenant.id, team.id).await?;
    let (visitor, new_key) = if let Some(token) = input.identity_token {
        let Some(identity) = identity.as_ref() else {
            return Err(ValidationError::new(
                "identity_token",
                "this inbox does not accept identity tokens",
            )
            .into());
        };
        let customer = ExternalId::parse(&identity::verify(state, identity, token)?)?;
        verified_visitor(state, tenant, team, &customer).await?
    } else {
        if identity.as_ref().is_some_and(|i| i.required) {
            return Err(ApiError::Unauthenticated);
        }
        let known = match input.visitor_key {
            Some(key) if token::parse(key) == Some(TokenKind::VisitorKey) => {
                store
                    .find_visitor_by_key(tenant.id, &token::digest(key))
                    .await?
                    // A verified visitor comes back only with a new identity token.
                    .filter(|v| !v.is_verified())
            }
            _ => None,
        };
        if let Some(visitor) = known {
            store.touch_visitor(tenant.id, visitor.id, now).await?;
            (visitor, None)
        } else {
            if state.abuse().challenge_needed(chat, tenant, now) {
                check_pow(state, input.pow)?;
            }
            new_visitor(state, tenant, team, None).await?
        }
    };
    let ttl = time::Duration::try_from(chat.visitor_ticket_ttl).unwrap_or(time::Duration::HOUR);
    let (ticket, token_hash) = token::generate(state.random(), TokenKind::VisitorTicket);
    let record = VisitorTicket {
        token_hash,
        visitor_id: visitor.id,
        tenant_id: tenant.id,
        team_id: team.id,
        created_at: now,
        expires_at: now + ttl,
    };
    store.create_ticket(&record).await?;
    Ok(TicketResponse {
        ticket: ticket.expose_secret().to_owned(),
        expires_at: record.expires_at,
        visitor_id: visitor.id,
        visitor_key: new_key,
    })
}

/// A new visitor and its key (shown once).
async fn new_visitor(
    state: &AppState,
    tenant: &Tenant,
    team: &Team,
    external_id: Option<ExternalId>,
) -> Result<(Visitor, Option<String>), ApiError> {
    let ids = IdGenerator::new(state.clock(), state.random());
    let (key, key_hash) = token::generate(state.random(), TokenKind::VisitorKey);
    let visitor = state
        .store()
        .create_visitor(&NewVisitor {
            id: ids.visitor(),
            tenant_id: tenant.id,
            team_id: team.id,
            key_hash,
            external_id,
            created_at: state.clock().now(),
        })
        .await?;
    Ok((visitor, Some(key.expose_secret().to_owned())))
}

/// The visitor verified as `customer`, created on its first token.
async fn verified_visitor(
    state: &AppState,
    tenant: &Tenant,
    team: &Team,
    customer: &ExternalId,
) -> Result<(Visitor, Option<String>), ApiError> {
    let store = state.store();
    if let Some(visitor) = store
        .find_visitor_by_external_id(tenant.id, customer)
        .await?
    {
        store
            .touch_visitor(tenant.id, visitor.id, state.clock().now())
            .await?;
        return Ok((visitor, None));
    }
    match new_visitor(state, tenant, team, Some(customer.clone())).await {
        // Two first logins of the same customer at once: the other one created it.
        Err(ApiError::Conflict(_)) => store
            .find_visitor_by_external_id(tenant.id, customer)
            .await?
            .map(|v| (v, None))
            .ok_or(ApiError::NotFound),
        other => other,
    }
}

/// A new proof-of-work challenge for this server.
pub fn challenge(state: &AppState) -> Result<ChallengeResponse, ApiError> {
    let (_, key) = state
        .master_key()
        .derive_key(None, POW_PURPOSE)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let expires_at = state.clock().now() + CHALLENGE_TTL;
    let bits = state.config().chat.challenge_bits;
    let challenge = pow::issue(key.as_ref(), state.random(), bits, to_unix_ms(expires_at));
    Ok(ChallengeResponse {
        challenge,
        bits,
        expires_at,
    })
}

/// The master-key purpose of the proof-of-work challenge key.
const POW_PURPOSE: &str = "pow-challenge";

fn check_pow(state: &AppState, solution: Option<&PowSolution>) -> Result<(), ApiError> {
    let solution = solution.ok_or(ApiError::ChallengeRequired)?;
    let (_, key) = state
        .master_key()
        .derive_key(None, POW_PURPOSE)
        .map_err(|e| ApiError::Internal(e.into()))?;
    let now_ms = to_unix_ms(state.clock().now());
    let expires_ms = pow::verify(key.as_ref(), &solution.challenge, solution.solution, now_ms)
        .map_err(|_| ApiError::ChallengeRequired)?;
    if pow::difficulty(&solution.challenge) < state.config().chat.challenge_bits
        || !state
            .abuse()
            .spend_challenge(&solution.challenge, expires_ms, now_ms)
    {
        return Err(ApiError::ChallengeRequired);
    }
    Ok(())
}

/// Opens a conversation for a visitor in the team of its ticket, optionally continuing one
/// of its closed conversations.
pub async fn open_conversation(
    state: &AppState,
    tenant: TenantId,
    team: TeamId,
    visitor: VisitorId,
    reopen: Option<ConversationId>,
    consent: Option<&Consent>,
) -> Result<Conversation, ApiError> {
    let consent_notice = super::widget::consent(state, tenant, team, consent).await?;
    let store = state.store();
    if let Some(previous) = reopen {
        let old = store.get_conversation(tenant, previous).await?;
        if old.visitor_id != visitor {
            return Err(ApiError::NotFound);
        }
        if old.state != ConversationState::Closed {
            return Err(ApiError::Conflict(
                "only a closed conversation can be reopened".into(),
            ));
        }
    }
    let ids = IdGenerator::new(state.clock(), state.random());
    Ok(store
        .create_conversation(&NewConversation {
            id: ids.conversation(),
            tenant_id: tenant,
            team_id: team,
            visitor_id: visitor,
            reopened_from: reopen,
            consent_notice,
            created_at: state.clock().now(),
        })
        .await?)
}

/// The visitor's request to delete one of their conversations: closed first if it was not,
/// then marked for the next retention sweep, which deletes it whatever the tenant's retention
/// period. Audited without content.
pub async fn request_erasure(
    state: &AppState,
    caller: &super::conversations::Caller,
    id: ConversationId,
) -> Result<Conversation, ApiError> {
    let super::conversations::Caller::Visitor { visitor, .. } = caller else {
        return Err(ApiError::Forbidden);
    };
    match super::conversations::close(state, caller, id).await {
        Ok(_) | Err(ApiError::ConversationClosed) => {}
        Err(e) => return Err(e),
    }
    let requested = state
        .store()
        .request_erasure(caller.tenant(), id, state.clock().now())
        .await?;
    super::audit::event(state, AuditAction::ErasureRequested, Actor::Anonymous)
        .tenant(caller.tenant())
        .target(format!("conversation:{id}"))
        .detail("visitor", visitor.to_string())
        .record(state)
        .await;
    Ok(requested)
}
