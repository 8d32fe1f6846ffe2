//! The WebSocket side of the client: protocol v1 (docs/protocol.md) over one connection.
//!
//! [`Connection`] sends frames and waits for their answers (`subscribed`, `ack`, `error`),
//! keeping every other frame that arrives meanwhile, in order, for [`Connection::next`].
//! [`Cursors`] keeps the last sequence number seen per conversation, so a client resumes
//! after a reconnect with exactly the entries it missed.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::{SinkExt as _, StreamExt as _};
use sealdesk_proto::ConversationId;
use sealdesk_proto::ws::{ClientFrame, ReadyInfo, SUBPROTOCOL, ServerFrame, WireKind, WsError};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

/// What can go wrong on a WebSocket.
#[derive(Debug, thiserror::Error)]
pub enum WsClientError {
    /// The base URL cannot be turned into a WebSocket URL.
    #[error("invalid server URL {0:?}")]
    Url(String),
    /// Connecting or the transport failed.
    #[error("websocket transport: {0}")]
    Transport(#[from] tungstenite::Error),
    /// Connecting failed.
    #[error("cannot connect: {0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection.
    #[error("closed by the server ({code}): {reason}")]
    Closed {
        /// Close code (docs/protocol.md).
        code: u16,
        /// Reason text.
        reason: String,
    },
    /// The server refused a request with an error frame.
    #[error("server error {}: {}", .0.code, .0.message)]
    Server(WsError),
    /// The server sent something that is not protocol v1.
    #[error("protocol violation: {0}")]
    Protocol(String),
}

/// How a connection authenticates.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A staff session or API token, sent as a bearer header on the upgrade.
    Bearer(String),
    /// A visitor ticket (`sd_vt_…`), sent in the first frame.
    Ticket(String),
}

/// Connection options.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Bind the local end to this address (the load generator spreads connections over
    /// 127.0.0.x to get past the ephemeral-port limit).
    pub local_ip: Option<IpAddr>,
    /// An `Origin` header to send, as a browser would.
    pub origin: Option<String>,
    /// A `Cookie` header to send, as a browser attaches its cookies by itself (tests).
    pub cookie: Option<String>,
}

/// One protocol v1 connection.
#[derive(Debug)]
pub struct Connection {
    // Boxed: the stream (with its TLS state) is large, and every future holding a
    // connection would otherwise carry it inline.
    stream: Box<WebSocketStream<MaybeTlsStream<TcpStream>>>,
    pending: VecDeque<ServerFrame>,
    ready: ReadyInfo,
}

/// The acknowledgement of a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The entry's sequence number.
    pub seq: u64,
    /// Whether it had been appended before (this was a retry).
    pub duplicate: bool,
}

/// The `ws://` or `wss://` URL of `/api/ws` on the server at `base`.
pub fn ws_url(base: &Url) -> Result<Url, WsClientError> {
    let mut url = base
        .join("api/ws")
        .map_err(|_| WsClientError::Url(base.to_string()))?;
    let scheme = match base.scheme() {
        "http" => "ws",
        "https" => "wss",
        _ => return Err(WsClientError::Url(base.to_string())),
    };
    url.set_scheme(scheme)
        .map_err(|()| WsClientError::Url(base.to_string()))?;
    Ok(url)
}

/// Small buffers, as the server uses: the default 128 KiB read buffer would cost ~138 KB
/// per connection in a load generator (PERFORMANCE.md).
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(4 << 20))
        .max_frame_size(Some(4 << 20))
}

impl Connection {
    /// Connects to the server at `base` and authenticates.
    pub async fn connect(base: &Url, credential: &Credential) -> Result<Self, WsClientError> {
        Box::pin(Self::connect_with(
            base,
            credential,
            &ConnectOptions::default(),
        ))
        .await
    }

    /// Connects with options.
    pub async fn connect_with(
        base: &Url,
        credential: &Credential,
        options: &ConnectOptions,
    ) -> Result<Self, WsClientError> {
        let mut url = ws_url(base)?;
        if let Credential::Ticket(_) = credential {
            // Frame authentication: the server ignores any ambient cookie.
            url.set_query(Some("auth=frame"));
        }
        let mut request = url.as_str().into_client_request()?;
        let headers = request.headers_mut();
        headers.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(SUBPROTOCOL),
        );
        if let Credential::Bearer(token) = credential {
            let value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| WsClientError::Protocol("token is not a header value".into()))?;
            headers.insert("authorization", value);
        }
        if let Some(cookie) = &options.cookie {
            let value = HeaderValue::from_str(cookie)
                .map_err(|_| WsClientError::Protocol("cookie is not a header value".into()))?;
            headers.insert("cookie", value);
        }
        if let Some(origin) = &options.origin {
            let value = HeaderValue::from_str(origin)
                .map_err(|_| WsClientError::Protocol("origin is not a header value".into()))?;
            headers.insert("origin", value);
        }
        let tcp = connect_tcp(&url, options.local_ip).await?;
        let (stream, _) = Box::pin(tokio_tungstenite::client_async_tls_with_config(
            request,
            tcp,
            Some(config()),
            None,
        ))
        .await?;
        let mut conn = Self {
            stream: Box::new(stream),
            pending: VecDeque::new(),
            ready: ReadyInfo {
                v: 0,
                me: sealdesk_proto::ws::WireParty::System,
                heartbeat_s: 0,
                max_payload: 0,
            },
        };
        if let Credential::Ticket(ticket) = credential {
            conn.send_frame(&ClientFrame::Auth {
                token: ticket.clone(),
            })
            .await?;
        }
        match conn.read().await? {
            ServerFrame::Ready(info) => conn.ready = info,
            ServerFrame::Error(e) => return Err(WsClientError::Server(e)),
            other => {
                return Err(WsClientError::Protocol(format!(
                    "expected ready, got {other:?}"
                )));
            }
        }
        Ok(conn)
    }

    /// Who the server says we are, and its limits.
    pub fn ready(&self) -> &ReadyInfo {
        &self.ready
    }

    /// Sends one frame.
    pub async fn send_frame(&mut self, frame: &ClientFrame) -> Result<(), WsClientError> {
        let text = serde_json::to_string(frame)
            .map_err(|e| WsClientError::Protocol(format!("cannot encode frame: {e}")))?;
        self.stream.send(Message::text(text)).await?;
        Ok(())
    }

    /// Sends a raw text message (for tests of malformed input).
    pub async fn send_raw(&mut self, text: &str) -> Result<(), WsClientError> {
        self.stream.send(Message::text(text.to_owned())).await?;
        Ok(())
    }

    /// The next frame: one kept while waiting for an answer, or the next from the server.
    pub async fn next(&mut self) -> Result<ServerFrame, WsClientError> {
        if let Some(frame) = self.pending.pop_front() {
            return Ok(frame);
        }
        self.read().await
    }

    async fn read(&mut self) -> Result<ServerFrame, WsClientError> {
        loop {
            let Some(message) = self.stream.next().await else {
                return Err(WsClientError::Closed {
                    code: 1006,
                    reason: "connection lost".into(),
                });
            };
            match message? {
                Message::Text(text) => {
                    return serde_json::from_str(&text).map_err(|e| {
                        WsClientError::Protocol(format!("undecodable frame {text}: {e}"))
                    });
                }
                Message::Close(frame) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (f.code.into(), f.reason.to_string())
                    });
                    return Err(WsClientError::Closed { code, reason });
                }
                // tungstenite answers pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                Message::Binary(_) => {
                    return Err(WsClientError::Protocol("binary frame".into()));
                }
            }
        }
    }

    /// Waits for the first frame `matches` accepts, keeping the others for `next`.
    async fn wait_for<T>(
        &mut self,
        mut matches: impl FnMut(&ServerFrame) -> Option<Result<T, WsError>>,
    ) -> Result<T, WsClientError> {
        loop {
            let frame = self.read().await?;
            match matches(&frame) {
                Some(Ok(value)) => return Ok(value),
                Some(Err(error)) => return Err(WsClientError::Server(error)),
                None => self.pending.push_back(frame),
            }
        }
    }

    /// Subscribes to a conversation from `after`; returns its last sequence number. The
    /// missed entries then arrive through [`next`](Self::next).
    pub async fn subscribe(&mut self, c: ConversationId, after: u64) -> Result<u64, WsClientError> {
        self.send_frame(&ClientFrame::Sub { c, after }).await?;
        self.wait_for(|frame| match frame {
            ServerFrame::Subscribed {
                c: got, last_seq, ..
            } if *got == c => Some(Ok(*last_seq)),
            ServerFrame::Error(e) if e.c == Some(c) && e.id.is_none() => Some(Err(e.clone())),
            _ => None,
        })
        .await
    }

    /// Appends an entry and waits until the server says it is durable.
    pub async fn send(
        &mut self,
        c: ConversationId,
        id: &str,
        kind: WireKind,
        payload: &[u8],
    ) -> Result<Ack, WsClientError> {
        self.send_nowait(c, id, kind, payload).await?;
        self.wait_ack(id).await
    }

    /// Sends an entry without waiting for its acknowledgement (pipelining).
    pub async fn send_nowait(
        &mut self,
        c: ConversationId,
        id: &str,
        kind: WireKind,
        payload: &[u8],
    ) -> Result<(), WsClientError> {
        self.send_frame(&ClientFrame::Send {
            c,
            id: id.to_owned(),
            k: kind,
            p: STANDARD.encode(payload),
        })
        .await
    }

    /// Waits for the acknowledgement (or error) of the send with client id `id`.
    pub async fn wait_ack(&mut self, id: &str) -> Result<Ack, WsClientError> {
        if let Some(pos) = self.pending.iter().position(|f| is_answer_to(f, id))
            && let Some(frame) = self.pending.remove(pos)
        {
            return answer(frame);
        }
        loop {
            let frame = self.read().await?;
            if is_answer_to(&frame, id) {
                return answer(frame);
            }
            self.pending.push_back(frame);
        }
    }

    /// Closes the connection politely.
    pub async fn close(mut self) -> Result<(), WsClientError> {
        WebSocketStream::close(&mut *self.stream, None).await?;
        Ok(())
    }
}

fn is_answer_to(frame: &ServerFrame, id: &str) -> bool {
    match frame {
        ServerFrame::Ack { id: got, .. } => got == id,
        ServerFrame::Error(e) => e.id.as_deref() == Some(id),
        _ => false,
    }
}

fn answer(frame: ServerFrame) -> Result<Ack, WsClientError> {
    match frame {
        ServerFrame::Ack { seq, dup, .. } => Ok(Ack {
            seq,
            duplicate: dup,
        }),
        ServerFrame::Error(e) => Err(WsClientError::Server(e)),
        other => Err(WsClientError::Protocol(format!("not an answer: {other:?}"))),
    }
}

async fn connect_tcp(url: &Url, local_ip: Option<IpAddr>) -> Result<TcpStream, WsClientError> {
    let host = url
        .host_str()
        .ok_or_else(|| WsClientError::Url(url.to_string()))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| WsClientError::Url(url.to_string()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addr: SocketAddr = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .ok_or_else(|| WsClientError::Url(url.to_string()))?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = local_ip {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// An entry as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The conversation.
    pub c: ConversationId,
    /// Sequence number.
    pub seq: u64,
    /// Kind.
    pub kind: WireKind,
    /// Writer.
    pub from: sealdesk_proto::ws::WireParty,
    /// The writer's client message id.
    pub id: Option<String>,
    /// Decoded payload.
    pub payload: Vec<u8>,
}

/// The last sequence number seen per conversation, checking the server's promise: each
/// entry exactly once and in order.
#[derive(Debug, Clone, Default)]
pub struct Cursors {
    last: HashMap<ConversationId, u64>,
}

impl Cursors {
    /// Where to resume `c` from.
    pub fn after(&self, c: ConversationId) -> u64 {
        self.last.get(&c).copied().unwrap_or(0)
    }

    /// Checks an `entry` frame against the cursor and advances it. Any other frame gives
    /// `Ok(None)`; an entry out of order or seen before is a protocol violation.
    pub fn accept(&mut self, frame: &ServerFrame) -> Result<Option<Received>, WsClientError> {
        let ServerFrame::Entry {
            c,
            seq,
            k,
            from,
            id,
            p,
            ..
        } = frame
        else {
            return Ok(None);
        };
        let expected = self.after(*c) + 1;
        if *seq != expected {
            return Err(WsClientError::Protocol(format!(
                "conversation {c}: got entry {seq}, expected {expected}"
            )));
        }
        let payload = STANDARD
            .decode(p)
            .map_err(|_| WsClientError::Protocol("payload is not base64".into()))?;
        self.last.insert(*c, *seq);
        Ok(Some(Received {
            c: *c,
            seq: *seq,
            kind: *k,
            from: *from,
            id: id.clone(),
            payload,
        }))
    }
}
