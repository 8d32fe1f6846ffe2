//! One connection's task: authenticate, then serve frames and deliver events until either
//! side closes.
//!
//! Delivery guarantee: for each subscribed conversation the connection keeps a cursor, the
//! last sequence number it sent. A live entry is sent only if it is the next one; an older
//! one is dropped (already sent), a newer one means a gap (entries published by another
//! path, or lost to a full mailbox) which is filled from the durable log first. So each entry
//! reaches the client exactly once and in order, whatever order the events arrive in.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt as _;
use sealdesk_core::ratelimit::{Bucket, Rate};
use sealdesk_proto::ws::{
    ClientFrame, PROTOCOL_VERSION, ReadyInfo, ServerFrame, WireParty, WsError, close,
};
use sealdesk_proto::{ConversationId, ErrorCode};

use super::identify::{self, Identity, Refusal};
use super::{AUTH_TIMEOUT, MAILBOX, MAX_SUBSCRIPTIONS, codec};
use crate::app::conversations::{self, Access, Caller};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::hub::{Event, Inbox, Mailbox, Topic};
use crate::state::AppState;

mod delivery;
mod membership;

/// What the upgrade request established.
pub(super) struct Opening {
    pub peer: SocketAddr,
    /// The client's address (the forwarded one behind trusted proxies).
    pub ip: std::net::IpAddr,
    pub origin: Option<String>,
    pub staff: Option<Auth>,
    /// The address's connection slot, held for the connection's life.
    pub slot: crate::abuse::ConnectionSlot,
}

/// A write that takes longer than this means the client stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How many queued events are written before one flush.
const EVENT_BATCH: usize = 64;
/// Entries read from the log per catch-up query.
const CATCH_UP_PAGE: u32 = 500;

struct Sub {
    cursor: u64,
    access: Access,
}

/// Why the connection ends.
struct Closing {
    code: u16,
    reason: &'static str,
}

type Step = Result<(), Closing>;

struct Conn {
    state: AppState,
    socket: WebSocket,
    identity: Identity,
    inbox: Inbox,
    subs: HashMap<ConversationId, Sub>,
    max_payload: usize,
    frames: Bucket,
    frame_rate: Rate,
    /// The address's connection slot, released when the connection ends.
    _slot: crate::abuse::ConnectionSlot,
}

/// Authenticates the upgraded connection, then hands it to a task of its own for the rest of
/// its life: this task (with the upgrade's state and the authentication's futures, ~7 KiB)
/// ends, and an idle connection keeps only what `Conn::live` needs (S1, docs/performance.md).
pub(super) async fn run(state: AppState, mut socket: WebSocket, mut opening: Opening) {
    let slot = std::mem::replace(&mut opening.slot, crate::abuse::ConnectionSlot::none());
    let identity = match authenticate(&state, &mut socket, opening).await {
        Ok(identity) => identity,
        Err(refusal) => {
            let frame = codec::error_frame(WsError {
                code: refusal.error,
                message: refusal.reason.to_owned(),
                c: None,
                id: None,
            });
            let _ = socket.send(Message::Text(frame)).await;
            let _ = socket
                .send(close_message(refusal.code, refusal.reason))
                .await;
            return;
        }
    };
    let (inbox, mailbox) = state.hub().mailbox(MAILBOX);
    let frame_rate = crate::abuse::Abuse::frame_rate(&state.config().chat);
    let conn = Conn {
        frames: Bucket::full(frame_rate, state.clock().now()),
        frame_rate,
        max_payload: state.config().chat.max_payload_bytes,
        state,
        socket,
        identity,
        inbox,
        subs: HashMap::new(),
        _slot: slot,
    };
    tokio::spawn(conn.live(mailbox));
}

impl Conn {
    /// Serves the connection until it ends, then closes it.
    async fn live(mut self, mailbox: Mailbox) {
        let closing = self.serve(mailbox).await;
        self.unsubscribe_all();
        if let Err(closing) = closing {
            self.close(closing).await;
        }
    }

    /// Sends the close frame and waits for the client's.
    async fn close(&mut self, closing: Closing) {
        let _ = self
            .socket
            .send(close_message(closing.code, closing.reason))
            .await;
        // RFC 6455 §7.1.1: wait (briefly) for the client's Close before dropping the TCP
        // connection. Dropped at once, a connection with unread pongs in flight is reset, and
        // the client sees a transport error instead of the close code that tells it why.
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(message)) = self.socket.recv().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// How long a closing connection waits for the client's Close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

async fn authenticate(
    state: &AppState,
    socket: &mut WebSocket,
    opening: Opening,
) -> Result<Identity, Refusal> {
    if let Some(auth) = opening.staff {
        return identify::staff(state, auth).await;
    }
    let refused = || Refusal {
        code: close::UNAUTHENTICATED,
        error: ErrorCode::Unauthenticated,
        reason: "send an auth frame first",
    };
    let first = tokio::time::timeout(AUTH_TIMEOUT, socket.recv())
        .await
        .map_err(|_| refused())?;
    let Some(Ok(Message::Text(text))) = first else {
        return Err(refused());
    };
    match codec::decode(&text) {
        Ok(ClientFrame::Auth { token }) => {
            identify::by_token(
                state,
                &token,
                opening.peer,
                opening.ip,
                opening.origin.as_deref(),
            )
            .await
        }
        _ => Err(refused()),
    }
}

impl Conn {
    async fn serve(&mut self, mut mailbox: Mailbox) -> Step {
        let heartbeat = self.state.config().chat.heartbeat;
        // Revocation and expiry of a staff session are checked for all connections of the
        // node at once (`sessions::SessionWatch`); this connection is told when it ended.
        let mut session = self.identity.session.map(|id| {
            let tenant = self.identity.caller.tenant();
            self.state.sessions().register(tenant, id)
        });
        let me = match self.identity.caller.party() {
            sealdesk_core::domain::Party::Visitor(v) => WireParty::Visitor(v),
            sealdesk_core::domain::Party::Staff(s) => WireParty::Staff(s),
            sealdesk_core::domain::Party::System => WireParty::System,
        };
        // The awaits of `serve` that hold large futures (this one, a client frame, a batch of
        // events, a resync) are boxed: a future's size is that of its largest await, and it
        // is kept for the connection's life, while the boxes live only as long as the work.
        // With the own task per connection, S1 went from 14.3 to 9.6 KiB per idle connection.
        Box::pin(self.send(&ServerFrame::Ready(ReadyInfo {
            v: PROTOCOL_VERSION,
            me,
            heartbeat_s: u32::try_from(heartbeat.as_secs()).unwrap_or(25),
            max_payload: u32::try_from(self.max_payload).unwrap_or(u32::MAX),
        })))
        .await?;
        if let Caller::Staff { principal, teams } = &self.identity.caller {
            let hub = self.state.hub();
            hub.subscribe(Topic::Staff(principal.staff), &self.inbox);
            for team in teams.iter() {
                hub.subscribe(Topic::Team(*team), &self.inbox);
            }
        }
        let mut ticker = super::heartbeat::ticker(heartbeat);
        let mut silent_ticks = 0u32;
        loop {
            tokio::select! {
                () = session_ended(session.as_mut()) => return Err(session_closing()),
                message = self.socket.recv() => {
                    silent_ticks = 0;
                    match message {
                        Some(Ok(message)) => Box::pin(self.on_message(message)).await?,
                        // The peer went away or the transport failed: nothing to say.
                        Some(Err(_)) | None => return Ok(()),
                    }
                }
                event = mailbox.rx.recv() => {
                    let Some(event) = event else { return Ok(()) };
                    Box::pin(self.on_events(event, &mut mailbox)).await?;
                }
                _ = ticker.tick() => {
                    silent_ticks += 1;
                    if silent_ticks >= 3 {
                        return Err(Closing { code: close::IDLE_TIMEOUT, reason: "no heartbeat" });
                    }
                    self.check_expiry()?;
                    self.write(Message::Ping(bytes::Bytes::new())).await?;
                    self.flush().await?;
                }
            }
            if mailbox.take_lagged() {
                Box::pin(self.resync_all()).await?;
            }
        }
    }

    async fn on_message(&mut self, message: Message) -> Step {
        if matches!(message, Message::Text(_) | Message::Binary(_))
            && self
                .frames
                .take(self.frame_rate, self.state.clock().now())
                .is_err()
        {
            // Over the frame rate (OWASP ASVS v5.0.0-4.4.4): the frame is not processed.
            let message = "too many frames; slow down".to_owned();
            self.error(ErrorCode::RateLimited, message, None, None)
                .await?;
            return self.flush().await;
        }
        match message {
            Message::Text(text) => match codec::decode(&text) {
                Ok(frame) => self.on_frame(frame).await,
                Err(e) => {
                    self.error(e.code, e.message, None, None).await?;
                    self.flush().await
                }
            },
            Message::Binary(_) => Err(Closing {
                code: close::INVALID_FRAME,
                reason: "protocol v1 uses text frames",
            }),
            // A close is answered by the transport and ends the stream; pings are answered
            // by the transport; pongs only prove liveness.
            Message::Close(_) | Message::Ping(_) | Message::Pong(_) => Ok(()),
        }
    }

    async fn on_frame(&mut self, frame: ClientFrame) -> Step {
        match frame {
            ClientFrame::Auth { .. } => {
                let message = "already authenticated".to_owned();
                self.error(ErrorCode::InvalidInput, message, None, None)
                    .await?;
            }
            ClientFrame::Sub { c, after } => self.subscribe(c, after).await?,
            ClientFrame::Unsub { c } => {
                if self.subs.remove(&c).is_some() {
                    self.state
                        .hub()
                        .unsubscribe(Topic::Conversation(c), self.inbox.id());
                }
                self.send_buffered(&ServerFrame::Unsubscribed { c }).await?;
            }
            ClientFrame::Send { c, id, k, p } => self.on_send(c, id, k, &p).await?,
            ClientFrame::Typing { c, on } => {
                let from = codec::wire_party(self.identity.caller.party());
                self.ephemeral(c, &ServerFrame::Typing { c, from, on })
                    .await?;
            }
            ClientFrame::Read { c, seq } => {
                let from = codec::wire_party(self.identity.caller.party());
                self.ephemeral(c, &ServerFrame::Read { c, from, seq })
                    .await?;
            }
            ClientFrame::Ping { n } => self.send_buffered(&ServerFrame::Pong { n }).await?,
        }
        self.flush().await
    }

    async fn subscribe(&mut self, c: ConversationId, after: u64) -> Step {
        if !self.subs.contains_key(&c) && self.subs.len() >= MAX_SUBSCRIPTIONS {
            let message = format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection");
            return self
                .error(ErrorCode::RateLimited, message, Some(c), None)
                .await;
        }
        // Listen before reading the conversation: an entry committed after the read arrives
        // live, and one committed before it is counted in `last_seq` (a duplicate of both is
        // dropped by the cursor). So a cursor already at `last_seq` needs no log read, which
        // is the usual case of a (re)connecting client that has seen everything.
        let listening = self.subs.contains_key(&c);
        self.state
            .hub()
            .subscribe(Topic::Conversation(c), &self.inbox);
        let (conversation, access) =
            match conversations::readable(&self.state, &self.identity.caller, c).await {
                Ok(found) => found,
                Err(e) => {
                    if !listening {
                        self.state
                            .hub()
                            .unsubscribe(Topic::Conversation(c), self.inbox.id());
                    }
                    return self.api_error(&e, Some(c), None).await;
                }
            };
        self.subs.insert(
            c,
            Sub {
                cursor: after,
                access,
            },
        );
        self.send_buffered(&ServerFrame::Subscribed {
            c,
            last_seq: conversation.last_seq,
            state: conversation.state.as_str().to_owned(),
        })
        .await?;
        if after >= conversation.last_seq {
            return Ok(());
        }
        self.catch_up(c).await
    }

    async fn on_send(
        &mut self,
        c: ConversationId,
        id: String,
        k: sealdesk_proto::ws::WireKind,
        p: &str,
    ) -> Step {
        let Some(kind) = codec::client_kind(k) else {
            let message = "only the server writes system entries".to_owned();
            return self
                .error(ErrorCode::Forbidden, message, Some(c), Some(id))
                .await;
        };
        let payload = match codec::decode_payload(p, self.max_payload) {
            Ok(payload) => payload,
            Err(e) => return self.error(e.code, e.message, Some(c), Some(id)).await,
        };
        let access = match self.subs.get(&c) {
            Some(sub) => sub.access,
            None => match conversations::readable(&self.state, &self.identity.caller, c).await {
                Ok((_, access)) => access,
                Err(e) => return self.api_error(&e, Some(c), Some(id)).await,
            },
        };
        if !access.write {
            let message = "you are not a participant of this conversation".to_owned();
            return self
                .error(ErrorCode::Forbidden, message, Some(c), Some(id))
                .await;
        }
        match conversations::send(&self.state, &self.identity.caller, c, &id, kind, payload).await {
            Ok(sent) => {
                self.send_buffered(&ServerFrame::Ack {
                    c,
                    id,
                    seq: sent.seq,
                    dup: sent.duplicate,
                })
                .await
            }
            Err(e) => self.api_error(&e, Some(c), Some(id)).await,
        }
    }

    async fn ephemeral(&mut self, c: ConversationId, frame: &ServerFrame) -> Step {
        if !self.subs.get(&c).is_some_and(|s| s.access.read) {
            let message = "subscribe to the conversation first".to_owned();
            return self
                .error(ErrorCode::NotFound, message, Some(c), None)
                .await;
        }
        self.state.bus().publish(
            Topic::Conversation(c),
            Event::Ephemeral {
                origin: self.inbox.id(),
                frame: codec::encode(frame),
            },
        );
        Ok(())
    }

    /// Ends the connection when its ticket or session has reached its absolute expiry (a
    /// local check; revocation and idle expiry come from the session watch).
    fn check_expiry(&self) -> Step {
        if self.state.clock().now() >= self.identity.expires_at {
            return Err(session_closing());
        }
        Ok(())
    }

    fn unsubscribe_all(&mut self) {
        let hub = self.state.hub();
        let id = self.inbox.id();
        for c in self.subs.keys() {
            hub.unsubscribe(Topic::Conversation(*c), id);
        }
        if let Caller::Staff { principal, teams } = &self.identity.caller {
            hub.unsubscribe(Topic::Staff(principal.staff), id);
            for team in teams.iter() {
                hub.unsubscribe(Topic::Team(*team), id);
            }
        }
        self.subs.clear();
    }

    async fn api_error(
        &mut self,
        e: &ApiError,
        c: Option<ConversationId>,
        id: Option<String>,
    ) -> Step {
        let code = e.code();
        let message = if code == ErrorCode::Internal || code == ErrorCode::Unavailable {
            "try again later".to_owned()
        } else {
            e.to_string()
        };
        self.error(code, message, c, id).await
    }

    async fn error(
        &mut self,
        code: ErrorCode,
        message: String,
        c: Option<ConversationId>,
        id: Option<String>,
    ) -> Step {
        self.write(Message::Text(codec::error_frame(WsError {
            code,
            message,
            c,
            id,
        })))
        .await
    }

    async fn send(&mut self, frame: &ServerFrame) -> Step {
        self.write_frame(frame).await?;
        self.flush().await
    }

    async fn send_buffered(&mut self, frame: &ServerFrame) -> Step {
        self.write_frame(frame).await
    }

    async fn write_frame(&mut self, frame: &ServerFrame) -> Step {
        self.write(Message::Text(codec::encode(frame))).await
    }

    /// Queues a message on the socket (written at the next flush, or when the transport's
    /// buffer fills). A client that does not read for [`WRITE_TIMEOUT`] is dropped.
    async fn write(&mut self, message: Message) -> Step {
        match tokio::time::timeout(WRITE_TIMEOUT, self.socket.feed(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Closing {
                code: close::NORMAL,
                reason: "",
            }),
            Err(_) => Err(Closing {
                code: close::SLOW_CONSUMER,
                reason: "not reading",
            }),
        }
    }

    async fn flush(&mut self) -> Step {
        match tokio::time::timeout(WRITE_TIMEOUT, self.socket.flush()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Closing {
                code: close::NORMAL,
                reason: "",
            }),
            Err(_) => Err(Closing {
                code: close::SLOW_CONSUMER,
                reason: "not reading",
            }),
        }
    }
}

/// The close of a connection whose ticket or session ended.
fn session_closing() -> Closing {
    Closing {
        code: close::SESSION_ENDED,
        reason: "session ended; authenticate again",
    }
}

/// Resolves when the staff session behind the connection was found ended; never for a
/// visitor (whose ticket only expires).
async fn session_ended(session: Option<&mut super::sessions::SessionGuard>) {
    match session {
        Some(guard) => guard.ended().await,
        None => std::future::pending().await,
    }
}
