//! The WebSocket endpoint `GET /api/ws` (protocol v1, docs/protocol.md): authentication at
//! the upgrade or by the first frame, `Origin` checks, and one task per connection.

pub mod codec;
mod connection;
mod heartbeat;
mod identify;
pub mod sessions;

use std::net::SocketAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use sealdesk_proto::ws::SUBPROTOCOL;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::routes::visitors::ClientAddr;
use crate::state::AppState;

/// Read buffer per connection. tungstenite's default (128 KiB, allocated eagerly) would cost
/// ~138 KB per idle connection; 4 KiB costs ~7 KB (PERFORMANCE.md).
pub const READ_BUFFER: usize = 4 * 1024;
/// How many events may wait in a connection's mailbox before it is marked lagged.
pub const MAILBOX: usize = 256;
/// The most conversations one connection may subscribe to.
pub const MAX_SUBSCRIPTIONS: usize = 500;
/// How long an unauthenticated connection may take to send its `auth` frame.
pub const AUTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `GET /api/ws?auth=frame`: the client authenticates with an `auth` frame only.
#[derive(Debug, Default, serde::Deserialize)]
pub struct UpgradeQuery {
    /// `frame`: ignore ambient credentials (cookies) on the upgrade.
    #[serde(default)]
    pub auth: Option<String>,
}

/// `GET /api/ws`: upgrades to a protocol v1 connection.
///
/// Staff may authenticate the upgrade itself (bearer token, or the session cookie from a
/// page of this server's own origin); anyone else sends an `auth` frame first.
#[utoipa::path(get, path = "/api/ws", tag = "conversations",
    responses((status = 101, description = "Switching to WebSocket protocol `sealdesk.v1` (docs/protocol.md)"),
        (status = 401, description = "Credentials on the upgrade were invalid", body = sealdesk_proto::ErrorBody),
        (status = 403, description = "Cookie-authenticated upgrade from a foreign origin", body = sealdesk_proto::ErrorBody)))]
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    Query(query): Query<UpgradeQuery>,
    auth: Result<Auth, ApiError>,
    ws: WebSocketUpgrade,
) -> Response {
    let has_credentials =
        headers.contains_key(header::AUTHORIZATION) || headers.contains_key(header::COOKIE);
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let identity = match auth {
        // The client authenticates by frame (a widget): credentials the browser attaches on
        // its own (the console's session cookie, when the widget runs on a page of this very
        // server, as the demo shop does) must not make it a staff connection.
        _ if query.auth.as_deref() == Some("frame") => None,
        Ok(auth) => {
            let via_cookie = !headers.contains_key(header::AUTHORIZATION);
            if via_cookie && !identify::same_origin(&state, &headers, origin.as_deref()) {
                // Cross-site WebSocket hijacking guard (OWASP ASVS v5.0.0-4.4.2): a
                // cookie-authenticated upgrade must come from our own pages.
                return ApiError::Forbidden.into_response();
            }
            Some(auth)
        }
        // A cookie that is not a session (e.g. an expired one) with no bearer token: the
        // client may still authenticate by frame.
        Err(ApiError::Unauthenticated) if !headers.contains_key(header::AUTHORIZATION) => None,
        Err(e) if has_credentials => return e.into_response(),
        Err(_) => None,
    };
    // One slot per open connection of this address, released when the connection ends.
    let slot = match state.abuse().connect(&state.config().chat, ip) {
        Ok(slot) => slot,
        Err(e) => return e.into_response(),
    };
    let max_payload = state.config().chat.max_payload_bytes;
    // A base64 payload is 4/3 of its bytes, plus the frame's JSON envelope.
    let max_message = max_payload.div_ceil(3) * 4 + 1024;
    ws.protocols([SUBPROTOCOL])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |socket| {
            connection::run(
                state,
                socket,
                connection::Opening {
                    peer,
                    ip,
                    origin,
                    staff: identity,
                    slot,
                },
            )
        })
}
