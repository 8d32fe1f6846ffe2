//! Who a connection is: a staff session (from the upgrade or an `auth` frame) or a visitor
//! ticket (from an `auth` frame), and whether the page it came from may use it.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, Request, header};
use sealdesk_core::access::Action;
use sealdesk_crypto::token::{self, TokenKind};
use sealdesk_proto::ErrorCode;
use sealdesk_proto::ws::close;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::conversations::Caller;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated connection's identity.
#[derive(Debug, Clone)]
pub(super) struct Identity {
    /// Who acts.
    pub caller: Caller,
    /// When the credential stops being valid.
    pub expires_at: OffsetDateTime,
    /// The staff session to re-check periodically (revocation ends the connection).
    pub session: Option<Uuid>,
}

/// Why authentication failed: a close code and a reason.
#[derive(Debug, Clone)]
pub(super) struct Refusal {
    pub code: u16,
    pub error: ErrorCode,
    pub reason: &'static str,
}

impl Refusal {
    fn unauthenticated() -> Self {
        Self {
            code: close::UNAUTHENTICATED,
            error: ErrorCode::Unauthenticated,
            reason: "invalid or expired credentials",
        }
    }
}

/// Whether the `Origin` is this server's own (its public URL, or the `Host` it was reached
/// at when no public URL is configured). A missing `Origin` (not a browser) passes.
pub(super) fn same_origin(state: &AppState, headers: &HeaderMap, origin: Option<&str>) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    if let Some(public) = &state.config().server.public_url {
        return public.origin().ascii_serialization() == origin;
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

/// The identity of a staff session that authenticated the upgrade.
pub(super) async fn staff(state: &AppState, auth: Auth) -> Result<Identity, Refusal> {
    auth.require(Action::ViewQueue, auth.principal.tenant)
        .map_err(|e| match e {
            ApiError::SecondFactorRequired => Refusal {
                code: close::UNAUTHENTICATED,
                error: ErrorCode::SecondFactorRequired,
                reason: "enrol a second factor first",
            },
            _ => Refusal {
                code: close::UNAUTHENTICATED,
                error: ErrorCode::Forbidden,
                reason: "this session may not use conversations",
            },
        })?;
    let caller = Caller::staff(state, auth.principal)
        .await
        .map_err(|_| Refusal {
            code: close::INTERNAL,
            error: ErrorCode::Unavailable,
            reason: "try again later",
        })?;
    Ok(Identity {
        caller,
        expires_at: auth.session.absolute_expires_at,
        session: Some(auth.session.id),
    })
}

/// The identity behind the token of an `auth` frame.
pub(super) async fn by_token(
    state: &AppState,
    token_text: &str,
    peer: SocketAddr,
    ip: std::net::IpAddr,
    origin: Option<&str>,
) -> Result<Identity, Refusal> {
    match token::parse(token_text) {
        Some(TokenKind::VisitorTicket) => visitor(state, token_text, ip, origin).await,
        Some(_) => {
            // Staff by frame: the same checks as the HTTP extractor, on a synthetic request
            // carrying the token as a bearer credential.
            let mut request = Request::builder()
                .header(header::AUTHORIZATION, format!("Bearer {token_text}"))
                .body(())
                .map_err(|_| Refusal::unauthenticated())?;
            request.extensions_mut().insert(ConnectInfo(peer));
            let (mut parts, ()) = request.into_parts();
            let auth = Auth::from_request_parts(&mut parts, state)
                .await
                .map_err(|_| Refusal::unauthenticated())?;
            staff(state, auth).await
        }
        None => Err(Refusal::unauthenticated()),
    }
}

async fn visitor(
    state: &AppState,
    token_text: &str,
    ip: std::net::IpAddr,
    origin: Option<&str>,
) -> Result<Identity, Refusal> {
    let store = state.store();
    let now = state.clock().now();
    let (ticket, visitor) = store
        .find_ticket(&token::digest(token_text))
        .await
        .map_err(|_| Refusal::unauthenticated())?
        .ok_or_else(Refusal::unauthenticated)?;
    if !ticket.is_valid_at(now) {
        return Err(Refusal::unauthenticated());
    }
    let tenant = store
        .get_tenant(ticket.tenant_id)
        .await
        .map_err(|_| Refusal::unauthenticated())?;
    if tenant.disabled {
        return Err(Refusal::unauthenticated());
    }
    if crate::abuse::Abuse::check_blocklist(&tenant, ip).is_err() {
        return Err(Refusal {
            code: close::FORBIDDEN_ORIGIN,
            error: ErrorCode::Forbidden,
            reason: "blocked",
        });
    }
    if let Some(origin) = origin
        && !tenant.widget_origins.iter().any(|o| o.as_str() == origin)
    {
        return Err(Refusal {
            code: close::FORBIDDEN_ORIGIN,
            error: ErrorCode::Forbidden,
            reason: "this page's origin is not an allowed widget origin",
        });
    }
    Ok(Identity {
        caller: Caller::Visitor {
            tenant: ticket.tenant_id,
            team: ticket.team_id,
            visitor: visitor.id,
        },
        expires_at: ticket.expires_at,
        session: None,
    })
}
