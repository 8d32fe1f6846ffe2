//! The WebSocket frames as the OpenAPI document publishes them (components `ClientFrame`,
//! `ServerFrame`, `SystemEvent`, `CloseCode`, …): real frames, serialised by serde, must
//! validate against the published schemas, and wrong ones must not. The web clients' types are
//! generated from these schemas (web/shared/protocol/generated.ts), so this is what keeps them
//! describing the JSON actually on the wire.

use std::collections::BTreeSet;

use sealdesk_proto::conversations::EntryView;
use sealdesk_proto::ws::{
    ClientFrame, Notice, NoticeKind, PROTOCOL_VERSION, ReadyInfo, SUBPROTOCOL, ServerFrame,
    SystemEvent, WireKind, WireParty, WsError, close,
};
use sealdesk_proto::{ConversationId, ErrorCode, StaffId, TeamId, VisitorId};
use sealdesk_server::routes::openapi::ApiDoc;
use serde_json::{Map, Value, json};
use utoipa::OpenApi;
use uuid::Uuid;

/// A validator for the subset of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that utoipa
/// emits. A keyword it does not know fails the check rather than being ignored.
struct Schemas(Map<String, Value>);

impl Schemas {
    fn published() -> Self {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        Self(doc["components"]["schemas"].as_object().unwrap().clone())
    }

    fn get(&self, name: &str) -> &Value {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not a component"))
    }

    /// Checks `value` against the component `name`.
    fn validate(&self, name: &str, value: &Value) -> Result<(), String> {
        self.check(self.get(name), value, name)
    }

    fn check(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        let schema = schema
            .as_object()
            .ok_or_else(|| format!("{at}: schema is not an object"))?;
        for (keyword, arg) in schema {
            match keyword.as_str() {
                "description" | "title" | "default" | "examples" | "deprecated" => {}
                "$ref" => {
                    let name = arg
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/schemas/"))
                        .ok_or_else(|| format!("{at}: unsupported $ref {arg}"))?;
                    self.check(self.get(name), value, &format!("{at}→{name}"))?;
                }
                "type" => {
                    let types: Vec<&str> = match arg {
                        Value::String(t) => vec![t.as_str()],
                        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                        _ => return Err(format!("{at}: bad type {arg}")),
                    };
                    if !types.iter().any(|t| has_type(value, t)) {
                        return Err(format!("{at}: {value} is not of type {arg}"));
                    }
                }
                "format" => check_format(arg.as_str().unwrap_or_default(), value, at)?,
                "enum" => {
                    if !arg.as_array().is_some_and(|vs| vs.contains(value)) {
                        return Err(format!("{at}: {value} is not one of {arg}"));
                    }
                }
                "minimum" => {
                    if let (Some(v), Some(min)) = (value.as_f64(), arg.as_f64())
                        && v < min
                    {
                        return Err(format!("{at}: {value} < {min}"));
                    }
                }
                "required" => {
                    if let Some(object) = value.as_object() {
                        for field in arg.as_array().unwrap() {
                            let field = field.as_str().unwrap();
                            if !object.contains_key(field) {
                                return Err(format!("{at}: required field `{field}` missing"));
                            }
                        }
                    }
                }
                "properties" => {
                    if let Some(object) = value.as_object() {
                        for (field, sub) in arg.as_object().unwrap() {
                            if let Some(v) = object.get(field) {
                                self.check(sub, v, &format!("{at}.{field}"))?;
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Some(object) = value.as_object() {
                        let known = schema.get("properties").and_then(Value::as_object);
                        for (field, v) in object {
                            if known.is_some_and(|k| k.contains_key(field)) {
                                continue;
                            }
                            match arg {
                                Value::Bool(false) => {
                                    return Err(format!("{at}: unknown field `{field}`"));
                                }
                                Value::Bool(true) => {}
                                sub => self.check(sub, v, &format!("{at}[{field}]"))?,
                            }
                        }
                    }
                }
                "propertyNames" => {
                    if let Some(object) = value.as_object() {
                        for field in object.keys() {
                            self.check(arg, &json!(field), &format!("{at} key {field}"))?;
                        }
                    }
                }
                "items" => {
                    if let Some(items) = value.as_array() {
                        for (i, v) in items.iter().enumerate() {
                            self.check(arg, v, &format!("{at}[{i}]"))?;
                        }
                    }
                }
                "allOf" => {
                    for sub in arg.as_array().unwrap() {
                        self.check(sub, value, at)?;
                    }
                }
                "oneOf" => {
                    let errors: Vec<String> = arg
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|sub| self.check(sub, value, at).err())
                        .collect();
                    let matched = arg.as_array().unwrap().len() - errors.len();
                    if matched != 1 {
                        return Err(format!(
                            "{at}: {value} matches {matched} of oneOf, not exactly 1 ({errors:?})"
                        ));
                    }
                }
                other => return Err(format!("{at}: unsupported keyword `{other}`")),
            }
        }
        Ok(())
    }
}

fn has_type(value: &Value, ty: &str) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

fn check_format(format: &str, value: &Value, at: &str) -> Result<(), String> {
    let ok = match (format, value) {
        ("uuid", Value::String(s)) => Uuid::try_parse(s).is_ok(),
        ("int32", Value::Number(n)) => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{at}: {value} is not a valid {format}"))
    }
}

fn conv() -> ConversationId {
    ConversationId::from_uuid(Uuid::from_u128(0x0190_c2d6_7b1e_7cc3_9a5e_2f3c_4d5e_6f70))
}

fn staff() -> StaffId {
    StaffId::from_uuid(Uuid::from_u128(2))
}

fn parties() -> [WireParty; 3] {
    [
        WireParty::Visitor(VisitorId::from_uuid(Uuid::from_u128(1))),
        WireParty::Staff(staff()),
        WireParty::System,
    ]
}

/// One or more frames of every server frame type, optional fields present and absent. The
/// exhaustive match makes a new variant fail to compile here until it has a sample.
fn server_frames() -> Vec<ServerFrame> {
    let team = TeamId::from_uuid(Uuid::from_u128(3));
    let mut frames = Vec::new();
    for me in parties() {
        frames.push(ServerFrame::Ready(ReadyInfo {
            v: PROTOCOL_VERSION,
            me,
            heartbeat_s: 25,
            max_payload: 65_536,
        }));
        frames.push(ServerFrame::Typing {
            c: conv(),
            from: me,
            on: true,
        });
    }
    frames.extend([
        ServerFrame::Subscribed {
            c: conv(),
            last_seq: 2,
            state: "assigned".into(),
        },
        ServerFrame::Unsubscribed { c: conv() },
        ServerFrame::Entry {
            c: conv(),
            seq: 7,
            k: WireKind::Application,
            from: WireParty::Staff(staff()),
            id: Some("m-1".into()),
            at: 1_700_000_000_000,
            p: "AA==".into(),
        },
        ServerFrame::Entry {
            c: conv(),
            seq: 1,
            k: WireKind::System,
            from: WireParty::System,
            id: None,
            at: 1_700_000_000_000,
            p: "e30=".into(),
        },
        ServerFrame::Ack {
            c: conv(),
            id: "m-1".into(),
            seq: 3,
            dup: false,
        },
        ServerFrame::Ack {
            c: conv(),
            id: "m-1".into(),
            seq: 3,
            dup: true,
        },
        ServerFrame::Read {
            c: conv(),
            from: WireParty::Staff(staff()),
            seq: 3,
        },
        ServerFrame::Resync {
            c: conv(),
            after: 4,
        },
        ServerFrame::Notice(Notice {
            what: NoticeKind::Assigned,
            c: conv(),
            team,
            assignee: Some(staff()),
        }),
        ServerFrame::Notice(Notice {
            what: NoticeKind::Queued,
            c: conv(),
            team,
            assignee: None,
        }),
        ServerFrame::Teams { teams: vec![team] },
        ServerFrame::Teams { teams: Vec::new() },
        ServerFrame::Error(WsError {
            code: ErrorCode::NotFound,
            message: "no such conversation".into(),
            c: Some(conv()),
            id: Some("m-1".into()),
        }),
        ServerFrame::Error(WsError {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            c: None,
            id: None,
        }),
        ServerFrame::Pong { n: 9 },
    ]);
    frames
}

fn server_tag(frame: &ServerFrame) -> &'static str {
    match frame {
        ServerFrame::Ready(_) => "ready",
        ServerFrame::Subscribed { .. } => "subscribed",
        ServerFrame::Unsubscribed { .. } => "unsubscribed",
        ServerFrame::Entry { .. } => "entry",
        ServerFrame::Ack { .. } => "ack",
        ServerFrame::Typing { .. } => "typing",
        ServerFrame::Read { .. } => "read",
        ServerFrame::Resync { .. } => "resync",
        ServerFrame::Notice(_) => "notice",
        ServerFrame::Teams { .. } => "teams",
        ServerFrame::Error(_) => "error",
        ServerFrame::Pong { .. } => "pong",
    }
}

fn client_frames() -> Vec<ClientFrame> {
    vec![
        ClientFrame::Auth {
            token: "sd_vt_x".into(),
        },
        ClientFrame::Sub {
            c: conv(),
            after: 0,
        },
        ClientFrame::Unsub { c: conv() },
        ClientFrame::Send {
            c: conv(),
            id: "m-1".into(),
            k: WireKind::Handshake,
            p: "AA==".into(),
        },
        ClientFrame::Typing {
            c: conv(),
            on: false,
        },
        ClientFrame::Read { c: conv(), seq: 5 },
        ClientFrame::Ping { n: 1 },
    ]
}

fn client_tag(frame: &ClientFrame) -> &'static str {
    match frame {
        ClientFrame::Auth { .. } => "auth",
        ClientFrame::Sub { .. } => "sub",
        ClientFrame::Unsub { .. } => "unsub",
        ClientFrame::Send { .. } => "send",
        ClientFrame::Typing { .. } => "typing",
        ClientFrame::Read { .. } => "read",
        ClientFrame::Ping { .. } => "ping",
    }
}

fn system_events() -> Vec<SystemEvent> {
    let team = TeamId::from_uuid(Uuid::from_u128(3));
    let other = StaffId::from_uuid(Uuid::from_u128(4));
    let mut events = vec![
        SystemEvent::Queued { team },
        SystemEvent::Assigned { agent: staff() },
        SystemEvent::TransferredToAgent {
            from: staff(),
            to: other,
        },
        SystemEvent::TransferredToTeam {
            from: Some(staff()),
            team,
        },
        SystemEvent::TransferredToTeam { from: None, team },
        SystemEvent::SupervisorJoined { staff: other },
    ];
    events.extend(parties().map(|by| SystemEvent::Closed { by }));
    events
}

fn system_tag(event: &SystemEvent) -> &'static str {
    match event {
        SystemEvent::Queued { .. } => "queued",
        SystemEvent::Assigned { .. } => "assigned",
        SystemEvent::TransferredToAgent { .. } => "transferred_to_agent",
        SystemEvent::TransferredToTeam { .. } => "transferred_to_team",
        SystemEvent::SupervisorJoined { .. } => "supervisor_joined",
        SystemEvent::Closed { .. } => "closed",
    }
}

/// The tag values a tagged-union component publishes (`oneOf` members, directly or through
/// `allOf`, each with a single-value `enum` for the tag property).
fn published_tags(schemas: &Schemas, name: &str, tag: &str) -> BTreeSet<String> {
    fn tag_of(schema: &Value, tag: &str) -> Option<String> {
        if let Some(parts) = schema["allOf"].as_array() {
            return parts.iter().find_map(|p| tag_of(p, tag));
        }
        let values = schema["properties"][tag]["enum"].as_array()?;
        assert_eq!(values.len(), 1, "{schema}");
        values[0].as_str().map(str::to_owned)
    }
    schemas.get(name)["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| tag_of(member, tag).unwrap_or_else(|| panic!("{name}: untagged {member}")))
        .collect()
}

fn assert_valid(schemas: &Schemas, name: &str, value: &Value) {
    if let Err(e) = schemas.validate(name, value) {
        panic!("{value} does not validate against {name}: {e}");
    }
}

#[test]
fn every_frame_on_the_wire_validates_against_the_published_schema() {
    let schemas = Schemas::published();

    let server = server_frames();
    for frame in &server {
        assert_valid(
            &schemas,
            "ServerFrame",
            &serde_json::to_value(frame).unwrap(),
        );
    }
    let sampled: BTreeSet<String> = server.iter().map(|f| server_tag(f).to_owned()).collect();
    assert_eq!(published_tags(&schemas, "ServerFrame", "t"), sampled);

    let client = client_frames();
    for frame in &client {
        assert_valid(
            &schemas,
            "ClientFrame",
            &serde_json::to_value(frame).unwrap(),
        );
    }
    let sampled: BTreeSet<String> = client.iter().map(|f| client_tag(f).to_owned()).collect();
    assert_eq!(published_tags(&schemas, "ClientFrame", "t"), sampled);

    let events = system_events();
    for event in &events {
        assert_valid(
            &schemas,
            "SystemEvent",
            &serde_json::to_value(event).unwrap(),
        );
    }
    let sampled: BTreeSet<String> = events.iter().map(|e| system_tag(e).to_owned()).collect();
    assert_eq!(published_tags(&schemas, "SystemEvent", "event"), sampled);

    for party in parties() {
        assert_valid(&schemas, "WireParty", &serde_json::to_value(party).unwrap());
    }
    // The REST history returns entries with the entry frame's fields.
    let entry = EntryView {
        seq: 1,
        k: WireKind::Welcome,
        from: WireParty::Visitor(VisitorId::from_uuid(Uuid::from_u128(1))),
        id: None,
        at: 1,
        p: "AA==".into(),
    };
    assert_valid(
        &schemas,
        "EntryView",
        &serde_json::to_value(&entry).unwrap(),
    );
}

#[test]
fn frames_that_are_not_on_the_wire_fail_the_published_schema() {
    let schemas = Schemas::published();
    let c = conv().to_string();
    let staff = staff().to_string();
    let wrong = [
        ("ServerFrame", json!({"t": "nope"})),
        (
            "ServerFrame",
            json!({"t": "entry", "c": c, "seq": 1, "k": "application", "from": {"kind": "system"}, "at": 1}),
        ),
        (
            "ServerFrame",
            json!({"t": "entry", "c": c, "seq": -1, "k": "application", "from": {"kind": "system"}, "at": 1, "p": ""}),
        ),
        (
            "ServerFrame",
            json!({"t": "entry", "c": c, "seq": 1, "k": "bogus", "from": {"kind": "system"}, "at": 1, "p": ""}),
        ),
        (
            "ServerFrame",
            json!({"t": "entry", "c": c, "seq": 1, "k": "application", "from": {"kind": "staff"}, "at": 1, "p": ""}),
        ),
        (
            "ServerFrame",
            json!({"t": "entry", "c": "not-a-uuid", "seq": 1, "k": "application", "from": {"kind": "system"}, "at": 1, "p": ""}),
        ),
        (
            "ServerFrame",
            json!({"t": "ready", "me": {"kind": "system"}, "heartbeat_s": 25, "max_payload": 1}),
        ),
        (
            "ServerFrame",
            json!({"t": "notice", "what": "moved", "c": c, "team": c}),
        ),
        (
            "ServerFrame",
            json!({"t": "notice", "what": "queued", "c": c, "team": c, "assignee": null}),
        ),
        (
            "ServerFrame",
            json!({"t": "error", "code": "no_such_code", "message": ""}),
        ),
        (
            "ServerFrame",
            json!({"t": "ack", "c": c, "id": "m", "seq": 1, "dup": "yes"}),
        ),
        (
            "ClientFrame",
            json!({"t": "send", "c": c, "id": "m", "k": "application"}),
        ),
        ("ClientFrame", json!({"t": "typing", "c": c})),
        ("SystemEvent", json!({"event": "assigned", "agent": 5})),
        (
            "SystemEvent",
            json!({"event": "transferred_to_agent", "from": staff}),
        ),
        (
            "EntryView",
            json!({"seq": 1, "k": "application", "from": {"kind": "visitor", "id": 1}, "at": 1, "p": ""}),
        ),
    ];
    for (name, value) in wrong {
        assert!(
            schemas.validate(name, &value).is_err(),
            "{value} wrongly validates against {name}"
        );
    }
}

#[test]
fn close_codes_and_the_subprotocol_are_published() {
    let schemas = Schemas::published();
    let published: Vec<(String, u64)> = schemas.get("CloseCode")["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| {
            (
                code["title"].as_str().unwrap().to_owned(),
                code["enum"][0].as_u64().unwrap(),
            )
        })
        .collect();
    let defined: Vec<(String, u64)> = close::ALL
        .iter()
        .map(|(name, code, _)| ((*name).to_owned(), u64::from(*code)))
        .collect();
    assert_eq!(published, defined);
    assert_valid(&schemas, "CloseCode", &json!(close::SLOW_CONSUMER));
    assert!(schemas.validate("CloseCode", &json!(4000)).is_err());
    assert_valid(&schemas, "Subprotocol", &json!(SUBPROTOCOL));
    assert!(
        schemas
            .validate("Subprotocol", &json!("sealdesk.v2"))
            .is_err()
    );
    assert_valid(&schemas, "ProtocolVersion", &json!(PROTOCOL_VERSION));
}
