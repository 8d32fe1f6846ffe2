//! WebSocket protocol v1: the frames a widget, console or terminal client exchanges with the
//! server on `GET /api/ws` (sub-protocol `sealdesk.v1`). Specified in docs/protocol.md.
//!
//! Every frame is one JSON object in a text message, tagged by `"t"`. Payloads (MLS messages:
//! opaque to the server) are standard base64 in `"p"`. Field names are short because they are
//! repeated in every frame of the hot path.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{ConversationId, StaffId, TeamId, VisitorId};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// The WebSocket sub-protocol name clients offer (`Sec-WebSocket-Protocol`).
pub const SUBPROTOCOL: &str = "sealdesk.v1";

/// What a log entry carries, on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WireKind {
    /// An MLS handshake message (commit).
    Handshake,
    /// An MLS application message (ciphertext).
    Application,
    /// An MLS Welcome.
    Welcome,
    /// A server-written routing event (JSON [`SystemEvent`] in the payload).
    System,
}

/// Who wrote an entry or an ephemeral frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum WireParty {
    /// The conversation's visitor.
    Visitor(VisitorId),
    /// A staff member.
    Staff(StaffId),
    /// The server.
    System,
}

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Authenticates the connection when the upgrade request carried no credentials: a
    /// visitor ticket (`sd_vt_…`) or a staff session or API token. Must be the first frame.
    Auth {
        /// The bearer token.
        token: String,
    },
    /// Starts delivery of a conversation: every entry with `seq > after`, in order, then
    /// live entries as they are committed.
    Sub {
        /// The conversation.
        c: ConversationId,
        /// The last sequence number the client already has (0: from the start).
        #[serde(default)]
        after: u64,
    },
    /// Stops delivery of a conversation.
    Unsub {
        /// The conversation.
        c: ConversationId,
    },
    /// Appends an entry to a conversation's log. Answered by `ack` (after the entry is
    /// durable) or `error` carrying the same `id`.
    Send {
        /// The conversation.
        c: ConversationId,
        /// The client's id for this send; a retry with the same id is appended once.
        id: String,
        /// What the payload is (`system` is refused: only the server writes it).
        k: WireKind,
        /// The payload, standard base64.
        p: String,
    },
    /// Typing indicator, forwarded to the other participants and never stored.
    Typing {
        /// The conversation.
        c: ConversationId,
        /// Typing (true) or stopped (false).
        on: bool,
    },
    /// Read receipt up to `seq`, forwarded and never stored.
    Read {
        /// The conversation.
        c: ConversationId,
        /// The last sequence number read.
        seq: u64,
    },
    /// Application-level ping (answered by `pong` with the same `n`).
    Ping {
        /// Any number.
        #[serde(default)]
        n: u64,
    },
}

/// Who the connection is, as the server sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReadyInfo {
    /// The protocol version.
    pub v: u32,
    /// The authenticated party.
    pub me: WireParty,
    /// Seconds between server heartbeats; a client silent for three of them is dropped.
    pub heartbeat_s: u32,
    /// The largest payload accepted in `send`, in bytes (decoded).
    pub max_payload: u32,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The connection is authenticated.
    Ready(ReadyInfo),
    /// A subscription started; the entries after the client's cursor follow.
    Subscribed {
        /// The conversation.
        c: ConversationId,
        /// The conversation's last sequence number when the subscription started.
        last_seq: u64,
        /// The conversation's state.
        state: String,
    },
    /// A subscription ended (on request, or because access was lost).
    Unsubscribed {
        /// The conversation.
        c: ConversationId,
    },
    /// One log entry. Each subscriber receives each entry exactly once, in `seq` order.
    Entry {
        /// The conversation.
        c: ConversationId,
        /// Sequence number.
        seq: u64,
        /// What the payload is.
        k: WireKind,
        /// The writer.
        from: WireParty,
        /// The writer's client message id, if it gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(nullable = false)]
        id: Option<String>,
        /// Append time, Unix milliseconds.
        at: i64,
        /// The payload, standard base64.
        p: String,
    },
    /// A `send` is durable.
    Ack {
        /// The conversation.
        c: ConversationId,
        /// The client message id of the send.
        id: String,
        /// The entry's sequence number.
        seq: u64,
        /// True when the entry had been appended before (a retry).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        dup: bool,
    },
    /// Someone is typing (ephemeral).
    Typing {
        /// The conversation.
        c: ConversationId,
        /// Who.
        from: WireParty,
        /// Typing or stopped.
        on: bool,
    },
    /// Someone read up to `seq` (ephemeral).
    Read {
        /// The conversation.
        c: ConversationId,
        /// Who.
        from: WireParty,
        /// Up to which entry.
        seq: u64,
    },
    /// Live delivery of the conversation fell behind: the entries after `after` follow
    /// from the log, still exactly once and in order. Nothing is dropped.
    Resync {
        /// The conversation.
        c: ConversationId,
        /// The last sequence number delivered before the gap.
        after: u64,
    },
    /// A change in a staff member's queues or assignments (staff connections only).
    Notice(Notice),
    /// The staff member's team memberships changed (an admin added or removed them): the
    /// connection now receives the notices of exactly these teams, and subscriptions it may
    /// no longer read ended with `unsubscribed`. Staff connections only.
    Teams {
        /// The teams the staff member belongs to now.
        teams: Vec<TeamId>,
    },
    /// A request failed; the connection stays open.
    Error(WsError),
    /// Answer to `ping`.
    Pong {
        /// The ping's number.
        n: u64,
    },
}

/// A routing change a staff connection is told about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notice {
    /// What happened.
    pub what: NoticeKind,
    /// The conversation.
    pub c: ConversationId,
    /// Its team now.
    pub team: TeamId,
    /// Its assignee now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub assignee: Option<StaffId>,
}

/// Kinds of [`Notice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A conversation entered the team's queue.
    Queued,
    /// A conversation was assigned (to `assignee`).
    Assigned,
    /// A conversation was closed.
    Closed,
}

/// An error frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WsError {
    /// Stable code (the same `snake_case` codes as the REST API's `ErrorCode`).
    pub code: crate::ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// The conversation the failed request named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub c: Option<ConversationId>,
    /// The client message id of a failed `send`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub id: Option<String>,
}

/// A server-written routing event: the JSON payload of a `system` entry. Content-free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SystemEvent {
    /// The conversation entered a team's queue.
    Queued {
        /// The team.
        team: TeamId,
    },
    /// An agent took the conversation.
    Assigned {
        /// The agent.
        agent: StaffId,
    },
    /// The conversation moved to another agent.
    TransferredToAgent {
        /// The previous agent.
        from: StaffId,
        /// The new agent.
        to: StaffId,
    },
    /// The conversation went back to a team's queue.
    TransferredToTeam {
        /// The previous agent, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(nullable = false)]
        from: Option<StaffId>,
        /// The team.
        team: TeamId,
    },
    /// A supervisor joined.
    SupervisorJoined {
        /// The supervisor.
        staff: StaffId,
    },
    /// The conversation was closed.
    Closed {
        /// Who closed it.
        by: WireParty,
    },
}

/// Declares the close codes once: each as a constant of [`close`], and all of them in
/// [`close::ALL`] for the schema ([`CloseCode`]), so the two cannot disagree.
macro_rules! close_codes {
    ($($(#[doc = $doc:literal])+ $name:ident = $code:literal;)+) => {
        /// WebSocket close codes the server uses (RFC 6455 §7.4: 4000–4999 are for applications).
        pub mod close {
            $($(#[doc = $doc])+ pub const $name: u16 = $code;)+
            /// Every code above: its name, its value and what it means.
            pub const ALL: &[(&str, u16, &str)] = &[$((stringify!($name), $code, concat!($($doc),+))),+];
        }
    };
}

close_codes! {
    /// Normal closure.
    NORMAL = 1000;
    /// The server is shutting down; reconnect later.
    GOING_AWAY = 1001;
    /// A frame could not be decoded (binary frame, bad JSON, unknown type).
    INVALID_FRAME = 1007;
    /// A frame was larger than the limit.
    TOO_BIG = 1009;
    /// The server failed.
    INTERNAL = 1011;
    /// No valid credentials within the authentication timeout, or they were refused.
    UNAUTHENTICATED = 4001;
    /// The `Origin` is not an allowed widget origin of the tenant.
    FORBIDDEN_ORIGIN = 4003;
    /// The session or ticket expired or was revoked.
    SESSION_ENDED = 4004;
    /// The client did not answer heartbeats.
    IDLE_TIMEOUT = 4008;
    /// The client could not keep up with its deliveries for too long.
    SLOW_CONSUMER = 4009;
    /// Too many frames or connections.
    RATE_LIMITED = 4029;
}

/// The close codes of [`close`] as a schema component (`CloseCode`), so that clients generated
/// from the OpenAPI document name them too: one `oneOf` member per code, each a single-value
/// integer `enum` titled with the constant's name. Never instantiated: codes travel as `u16`.
#[derive(Debug)]
pub enum CloseCode {}

impl utoipa::PartialSchema for CloseCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let mut codes = OneOfBuilder::new().description(Some(
            "A WebSocket close code the server uses (RFC 6455 §7.4: 4000–4999 are Sealdesk's).",
        ));
        for (name, code, doc) in close::ALL {
            codes = codes.item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .title(Some(*name))
                    .description(Some(doc.trim()))
                    .enum_values(Some([*code])),
            );
        }
        codes.into()
    }
}

impl ToSchema for CloseCode {}

/// The sub-protocol name and version as schema components, so generated clients pin them.
macro_rules! constant_schema {
    ($(#[$doc:meta])* $name:ident, $ty:ident, $value:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub enum $name {}

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::$ty)
                    .description(Some($what))
                    .enum_values(Some([$value]))
                    .into()
            }
        }

        impl ToSchema for $name {}
    };
}

constant_schema!(
    /// [`SUBPROTOCOL`] as a schema component (`Subprotocol`). Never instantiated.
    Subprotocol,
    String,
    SUBPROTOCOL,
    "The WebSocket sub-protocol clients offer (`Sec-WebSocket-Protocol`)."
);
constant_schema!(
    /// [`PROTOCOL_VERSION`] as a schema component (`ProtocolVersion`). Never instantiated.
    ProtocolVersion,
    Integer,
    PROTOCOL_VERSION,
    "The WebSocket protocol version this server speaks (`v` of `ready`)."
);

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn conv() -> ConversationId {
        ConversationId::from_uuid(Uuid::from_u128(0x0190_c2d6_7b1e_7cc3_9a5e_2f3c_4d5e_6f70))
    }

    #[test]
    fn client_frames_have_a_stable_shape() {
        let raw = r#"{"t":"send","c":"0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70","id":"m1","k":"application","p":"aGk="}"#;
        let frame: ClientFrame = serde_json::from_str(raw).unwrap();
        assert_eq!(
            frame,
            ClientFrame::Send {
                c: conv(),
                id: "m1".into(),
                k: WireKind::Application,
                p: "aGk=".into()
            }
        );
        assert_eq!(serde_json::to_string(&frame).unwrap(), raw);
        let sub: ClientFrame =
            serde_json::from_str(r#"{"t":"sub","c":"0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70"}"#)
                .unwrap();
        assert_eq!(
            sub,
            ClientFrame::Sub {
                c: conv(),
                after: 0
            }
        );
    }

    #[test]
    fn unknown_types_and_fields_are_refused() {
        assert!(serde_json::from_str::<ClientFrame>(r#"{"t":"nope"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"t":"ping","n":1,"x":2}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"c":"x"}"#).is_err());
    }

    #[test]
    fn server_frames_have_a_stable_shape() {
        let entry = ServerFrame::Entry {
            c: conv(),
            seq: 7,
            k: WireKind::Application,
            from: WireParty::Staff(StaffId::from_uuid(Uuid::from_u128(1))),
            id: None,
            at: 1_700_000_000_000,
            p: "AA==".into(),
        };
        let json = serde_json::to_string(&entry).unwrap();
        assert_eq!(
            json,
            r#"{"t":"entry","c":"0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70","seq":7,"k":"application","from":{"kind":"staff","id":"00000000-0000-0000-0000-000000000001"},"at":1700000000000,"p":"AA=="}"#
        );
        let ack = ServerFrame::Ack {
            c: conv(),
            id: "m1".into(),
            seq: 3,
            dup: false,
        };
        assert!(!serde_json::to_string(&ack).unwrap().contains("dup"));
        let err = ServerFrame::Error(WsError {
            code: crate::ErrorCode::NotFound,
            message: "no such conversation".into(),
            c: Some(conv()),
            id: None,
        });
        let json = serde_json::to_string(&err).unwrap();
        assert!(
            json.starts_with(r#"{"t":"error","code":"not_found""#),
            "{json}"
        );
        let back: ServerFrame = serde_json::from_str(&json).unwrap();
        assert_eq!(back, err);
    }

    #[test]
    fn system_events_round_trip() {
        let e = SystemEvent::TransferredToTeam {
            from: None,
            team: TeamId::from_uuid(Uuid::from_u128(5)),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"event":"transferred_to_team","team":"00000000-0000-0000-0000-000000000005"}"#
        );
        assert_eq!(serde_json::from_str::<SystemEvent>(&json).unwrap(), e);
    }

    #[test]
    fn close_codes_are_listed_once_each_with_their_meaning() {
        assert_eq!(close::ALL.len(), 11);
        let mut codes: Vec<u16> = close::ALL.iter().map(|(_, code, _)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(
            codes.len(),
            close::ALL.len(),
            "a close code is listed twice"
        );
        assert!(close::ALL.contains(&(
            "UNAUTHENTICATED",
            close::UNAUTHENTICATED,
            " No valid credentials within the authentication timeout, or they were refused."
        )));
        assert!(close::ALL.iter().all(|(_, _, doc)| !doc.trim().is_empty()));
    }
}
