//! Conversations end to end: a visitor and agents on `sealdesk-client`, through a real server
//! (HTTP + WebSocket on 127.0.0.1), with assignment, transfer, reconnect and resume.

use std::time::Duration;

use sealdesk_client::ws::{Connection, Credential, Cursors, WsClientError};
use sealdesk_client::{Client, ClientError};
use sealdesk_core::domain::{Team, Tenant};
use sealdesk_proto::conversations::TransferRequest;
use sealdesk_proto::ws::{ServerFrame, SystemEvent, WireKind, WireParty, close};
use sealdesk_proto::{ConversationId, ErrorCode, StaffId};
use sealdesk_testkit::{TenantSpec, TestApp, spawn_app};
use url::Url;

/// A tenant with one team whose members are the given agents, all online.
pub(crate) struct Desk {
    pub(crate) tenant: Tenant,
    pub(crate) team: Team,
    pub(crate) agents: Vec<(StaffId, Client)>,
}

pub(crate) async fn desk(
    app: &TestApp,
    name: &'static str,
    domain: &'static str,
    agents: &[&str],
) -> Desk {
    let tenant = app.tenant(TenantSpec::relaxed(name, domain)).await;
    let team = team(app, &tenant, "Support").await;
    let mut logged_in = Vec::new();
    for email in agents {
        let staff = app.staff(&tenant, email, "agent").await;
        app.store
            .add_team_member(tenant.id, team.id, staff.id)
            .await
            .unwrap();
        let client = app.login(&tenant, email).await;
        client.set_availability("online", Some(5)).await.unwrap();
        logged_in.push((staff.id, client));
    }
    Desk {
        tenant,
        team,
        agents: logged_in,
    }
}

pub(crate) async fn team(app: &TestApp, tenant: &Tenant, name: &str) -> Team {
    let deps = sealdesk_server::app::tenancy::Deps {
        store: app.store.clone(),
        clock: app.clock.clone(),
        random: app.state.random_arc(),
        password_policy: sealdesk_crypto::password::HashPolicy::INSECURE_TEST_ONLY,
    };
    sealdesk_server::app::tenancy::create_team(&deps, tenant.id, name)
        .await
        .unwrap()
}

pub(crate) struct Visitor {
    pub(crate) http: Client,
    pub(crate) ticket: String,
    pub(crate) key: String,
}

pub(crate) async fn visitor(app: &TestApp, desk: &Desk) -> Visitor {
    let ticket = app
        .client
        .visitor_ticket(desk.tenant.id, desk.team.id, None)
        .await
        .unwrap();
    Visitor {
        http: app.client.clone().with_token(ticket.ticket.clone()),
        key: ticket.visitor_key.unwrap(),
        ticket: ticket.ticket,
    }
}

pub(crate) fn base(app: &TestApp) -> Url {
    Url::parse(&app.url).unwrap()
}

pub(crate) async fn connect_staff(app: &TestApp, client: &Client) -> Connection {
    let token = client.token().unwrap().to_owned();
    Connection::connect(&base(app), &Credential::Bearer(token))
        .await
        .unwrap()
}

pub(crate) async fn connect_visitor(app: &TestApp, visitor: &Visitor) -> Connection {
    Connection::connect(&base(app), &Credential::Ticket(visitor.ticket.clone()))
        .await
        .unwrap()
}

/// Reads frames until `n` entries of `c` were accepted by `cursors` (which checks order and
/// uniqueness), returning them.
pub(crate) async fn entries(
    conn: &mut Connection,
    cursors: &mut Cursors,
    c: ConversationId,
    n: usize,
) -> Vec<sealdesk_client::ws::Received> {
    let mut got = Vec::new();
    while got.len() < n {
        let frame = tokio::time::timeout(Duration::from_secs(10), conn.next())
            .await
            .expect("an entry within 10 s")
            .unwrap();
        if let Some(entry) = cursors.accept(&frame).unwrap()
            && entry.c == c
        {
            got.push(entry);
        }
    }
    got
}

fn system_event(entry: &sealdesk_client::ws::Received) -> SystemEvent {
    assert_eq!(entry.kind, WireKind::System);
    serde_json::from_slice(&entry.payload).unwrap()
}

#[tokio::test]
async fn visitor_and_agent_talk_with_automatic_assignment() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let (ann, ann_http) = &desk.agents[0];
    let visitor = visitor(&app, &desk).await;
    let conversation = visitor.http.open_conversation(None).await.unwrap();
    assert_eq!(conversation.state, "open");

    let mut agent = connect_staff(&app, ann_http).await;
    let mut v = connect_visitor(&app, &visitor).await;
    assert!(matches!(v.ready().me, WireParty::Visitor(_)));
    assert_eq!(v.subscribe(conversation.id, 0).await.unwrap(), 0);
    let ack = v
        .send(
            conversation.id,
            "v-1",
            WireKind::Application,
            b"hello, I need help",
        )
        .await
        .unwrap();
    assert_eq!((ack.seq, ack.duplicate), (1, false));

    // The first message queues the conversation and least-busy assignment gives it to Ann,
    // who hears about it on her connection.
    let notice = loop {
        match tokio::time::timeout(Duration::from_secs(10), agent.next())
            .await
            .unwrap()
            .unwrap()
        {
            ServerFrame::Notice(n) if n.assignee == Some(*ann) => break n,
            _ => {}
        }
    };
    assert_eq!(notice.c, conversation.id);
    // Ann reads back what the router sees: online, capacity 5, one conversation.
    let mine = ann_http.availability().await.unwrap();
    assert_eq!(
        (mine.availability.as_str(), mine.capacity, mine.active),
        ("online", 5, 1)
    );
    ann_http.set_availability("away", Some(2)).await.unwrap();
    let mine = ann_http.availability().await.unwrap();
    assert_eq!(
        (mine.availability.as_str(), mine.capacity, mine.active),
        ("away", 2, 1)
    );
    // A status change without a capacity keeps the capacity.
    ann_http.set_availability("offline", None).await.unwrap();
    let mine = ann_http.availability().await.unwrap();
    assert_eq!((mine.availability.as_str(), mine.capacity), ("offline", 2));
    // A visitor's ticket is not a staff session.
    assert!(visitor.http.availability().await.is_err());
    ann_http.set_availability("online", Some(5)).await.unwrap();
    let mut agent_cursors = Cursors::default();
    agent.subscribe(conversation.id, 0).await.unwrap();
    let seen = entries(&mut agent, &mut agent_cursors, conversation.id, 3).await;
    assert_eq!(seen[0].payload, b"hello, I need help");
    assert_eq!(seen[0].id.as_deref(), Some("v-1"));
    assert!(matches!(system_event(&seen[1]), SystemEvent::Queued { .. }));
    assert_eq!(
        system_event(&seen[2]),
        SystemEvent::Assigned { agent: *ann }
    );

    let reply = agent
        .send(
            conversation.id,
            "a-1",
            WireKind::Application,
            b"hi, how can I help?",
        )
        .await
        .unwrap();
    assert_eq!(reply.seq, 4);
    let mut visitor_cursors = Cursors::default();
    let got = entries(&mut v, &mut visitor_cursors, conversation.id, 4).await;
    assert_eq!(got[3].payload, b"hi, how can I help?");
    assert_eq!(got[3].from, WireParty::Staff(*ann));
    // The sender also receives its own entry once, in order.
    assert_eq!(got[0].seq, 1);
}

#[tokio::test]
async fn a_retried_send_is_appended_once() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    let visitor = visitor(&app, &desk).await;
    let conversation = visitor.http.open_conversation(None).await.unwrap();
    let mut v = connect_visitor(&app, &visitor).await;
    let first = v
        .send(conversation.id, "same-id", WireKind::Application, b"once")
        .await
        .unwrap();
    let again = v
        .send(conversation.id, "same-id", WireKind::Application, b"once")
        .await
        .unwrap();
    assert_eq!(again.seq, first.seq);
    assert!(again.duplicate && !first.duplicate);
    let log = app
        .store
        .read_log(desk.tenant.id, conversation.id, 0, 100)
        .await
        .unwrap();
    let application: Vec<_> = log
        .iter()
        .filter(|e| e.kind == sealdesk_core::domain::EntryKind::Application)
        .collect();
    assert_eq!(application.len(), 1);
}

#[tokio::test]
async fn a_reconnecting_visitor_gets_exactly_the_gap() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let (_, ann_http) = &desk.agents[0];
    let visitor = visitor(&app, &desk).await;
    let conversation = visitor.http.open_conversation(None).await.unwrap();
    let c = conversation.id;
    let mut cursors = Cursors::default();
    let mut v = connect_visitor(&app, &visitor).await;
    v.subscribe(c, 0).await.unwrap();
    v.send(c, "v-1", WireKind::Application, b"anyone?")
        .await
        .unwrap();
    // seq 1 (own message), 2 queued, 3 assigned
    entries(&mut v, &mut cursors, c, 3).await;
    v.close().await.unwrap();

    let mut agent = connect_staff(&app, ann_http).await;
    agent.subscribe(c, 0).await.unwrap();
    for i in 0..5 {
        agent
            .send(
                c,
                &format!("a-{i}"),
                WireKind::Application,
                format!("answer {i}").as_bytes(),
            )
            .await
            .unwrap();
    }
    // A new ticket for the same visitor (the widget keeps its key), then resume.
    let again = app
        .client
        .visitor_ticket(desk.tenant.id, desk.team.id, Some(&visitor.key))
        .await
        .unwrap();
    assert!(
        again.visitor_key.is_none(),
        "a known visitor gets no new key"
    );
    let mut v = Connection::connect(&base(&app), &Credential::Ticket(again.ticket))
        .await
        .unwrap();
    let last = v.subscribe(c, cursors.after(c)).await.unwrap();
    assert_eq!(last, 8);
    let gap = entries(&mut v, &mut cursors, c, 5).await;
    let payloads: Vec<_> = gap
        .iter()
        .map(|e| String::from_utf8_lossy(&e.payload).into_owned())
        .collect();
    assert_eq!(
        payloads,
        ["answer 0", "answer 1", "answer 2", "answer 3", "answer 4"]
    );
    assert_eq!(gap.first().unwrap().seq, 4);
    // Nothing more arrives: a ping is answered before any further entry.
    v.send_frame(&sealdesk_proto::ws::ClientFrame::Ping { n: 7 })
        .await
        .unwrap();
    assert_eq!(v.next().await.unwrap(), ServerFrame::Pong { n: 7 });
}

#[tokio::test]
async fn two_simultaneous_claims_have_one_winner() {
    let app = spawn_app().await;
    let desk = desk(
        &app,
        "Acme",
        "acme.example",
        &["ann@acme.example", "bob@acme.example"],
    )
    .await;
    let (_, ann_http) = &desk.agents[0];
    let (_, bob_http) = &desk.agents[1];
    ann_http
        .set_routing(desk.tenant.id, desk.team.id, "manual")
        .await
        .unwrap_err(); // agents may not change routing
    let admin = app.staff(&desk.tenant, "root@acme.example", "admin").await;
    let admin_http = app.login(&desk.tenant, "root@acme.example").await;
    let _ = admin;
    admin_http
        .set_routing(desk.tenant.id, desk.team.id, "manual")
        .await
        .unwrap();
    let visitor = visitor(&app, &desk).await;
    let conversation = visitor.http.open_conversation(None).await.unwrap();
    let mut v = connect_visitor(&app, &visitor).await;
    v.send(conversation.id, "v-1", WireKind::Application, b"hello")
        .await
        .unwrap();
    // Wait until it is queued.
    for _ in 0..100 {
        let queued = ann_http
            .conversations(desk.tenant.id, "state=queued")
            .await
            .unwrap();
        if !queued.conversations.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (a, b) = tokio::join!(
        ann_http.claim(desk.tenant.id, conversation.id),
        bob_http.claim(desk.tenant.id, conversation.id)
    );
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    match loser {
        Err(ClientError::Api { status: 409, .. }) => {}
        other => panic!("the second claim must be a conflict: {other:?}"),
    }
}

#[tokio::test]
async fn a_transfer_moves_write_access_to_the_new_agent() {
    let app = spawn_app().await;
    let desk = desk(
        &app,
        "Acme",
        "acme.example",
        &["ann@acme.example", "bob@acme.example"],
    )
    .await;
    let (ann, ann_http) = &desk.agents[0];
    let (bob, bob_http) = &desk.agents[1];
    let visitor = visitor(&app, &desk).await;
    let conversation = visitor.http.open_conversation(None).await.unwrap();
    let c = conversation.id;
    let mut v = connect_visitor(&app, &visitor).await;
    v.send(c, "v-1", WireKind::Application, b"hello")
        .await
        .unwrap();
    // Wait for assignment (least busy, ties to the smallest id: either agent).
    let assignee = loop {
        let now = ann_http
            .conversations(desk.tenant.id, "state=assigned&mine=true")
            .await
            .unwrap();
        let bobs = bob_http
            .conversations(desk.tenant.id, "state=assigned&mine=true")
            .await
            .unwrap();
        if let Some(conv) = now.conversations.first().or(bobs.conversations.first()) {
            break conv.assignee.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (from_http, to, to_http) = if assignee == *ann {
        (ann_http, *bob, bob_http)
    } else {
        (bob_http, *ann, ann_http)
    };
    let mut old = connect_staff(&app, from_http).await;
    old.subscribe(c, 0).await.unwrap();
    let moved = from_http
        .transfer(
            desk.tenant.id,
            c,
            &TransferRequest {
                agent: Some(to),
                team: None,
                carry: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.assignee, Some(to));
    // The previous agent is unsubscribed and can no longer write.
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), old.next())
            .await
            .unwrap()
            .unwrap();
        if frame == (ServerFrame::Unsubscribed { c }) {
            break;
        }
    }
    let refused = old
        .send(c, "late", WireKind::Application, b"still here?")
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, WsClientError::Server(e) if e.code == ErrorCode::NotFound),
        "{refused:?}"
    );
    let mut new = connect_staff(&app, to_http).await;
    new.subscribe(c, 0).await.unwrap();
    new.send(c, "b-1", WireKind::Application, b"I take over")
        .await
        .unwrap();
}

#[tokio::test]
async fn another_tenant_never_sees_a_conversation() {
    let app = spawn_app().await;
    let acme = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let other = desk(&app, "Other", "other.example", &["eve@other.example"]).await;
    let visitor_a = visitor(&app, &acme).await;
    let conversation = visitor_a.http.open_conversation(None).await.unwrap();
    let c = conversation.id;

    // A visitor of another tenant, over WebSocket.
    let visitor_o = visitor(&app, &other).await;
    let mut o = connect_visitor(&app, &visitor_o).await;
    let err = o.subscribe(c, 0).await.unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::NotFound),
        "{err:?}"
    );
    let err = o
        .send(c, "x", WireKind::Application, b"intrusion")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::NotFound),
        "{err:?}"
    );

    // Another tenant's agent, over REST (their own tenant path and the victim's) and WS.
    let (_, eve_http) = &other.agents[0];
    for result in [
        eve_http.claim(other.tenant.id, c).await,
        eve_http.claim(acme.tenant.id, c).await,
    ] {
        assert!(
            matches!(result, Err(ClientError::Api { status: 404, .. })),
            "{result:?}"
        );
    }
    let mut eve = connect_staff(&app, eve_http).await;
    let err = eve.subscribe(c, 0).await.unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::NotFound),
        "{err:?}"
    );

    // A second visitor of the same tenant is a stranger too.
    let visitor_b = visitor(&app, &acme).await;
    let mut b = connect_visitor(&app, &visitor_b).await;
    let err = b.subscribe(c, 0).await.unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::NotFound),
        "{err:?}"
    );
    assert!(
        visitor_b
            .http
            .my_conversations()
            .await
            .unwrap()
            .conversations
            .is_empty()
    );
    let log = app.store.read_log(acme.tenant.id, c, 0, 10).await.unwrap();
    assert!(log.is_empty(), "nothing was appended by strangers");
}

#[tokio::test]
async fn bad_frames_get_error_codes_and_the_connection_survives() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    let visitor = visitor(&app, &desk).await;
    let conversation = visitor.http.open_conversation(None).await.unwrap();
    let c = conversation.id;
    let mut v = connect_visitor(&app, &visitor).await;

    for raw in [
        "not json",
        "{}",
        r#"{"t":"launch"}"#,
        r#"{"t":"sub","c":"nope"}"#,
    ] {
        v.send_raw(raw).await.unwrap();
        match v.next().await.unwrap() {
            ServerFrame::Error(e) => assert_eq!(e.code, ErrorCode::InvalidInput, "{raw}"),
            other => panic!("{raw}: {other:?}"),
        }
    }
    let too_big = vec![7u8; 64 * 1024 + 1];
    let err = v
        .send(c, "big", WireKind::Application, &too_big)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::PayloadTooLarge),
        "{err:?}"
    );
    let err = v.send(c, "sys", WireKind::System, b"{}").await.unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::Forbidden),
        "{err:?}"
    );
    let err = v
        .send(c, "bad id!", WireKind::Application, b"x")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::InvalidInput),
        "{err:?}"
    );
    let unknown = ConversationId::from_uuid(uuid::Uuid::now_v7());
    let err = v.subscribe(unknown, 0).await.unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::NotFound),
        "{err:?}"
    );

    // Still healthy: a normal send works, then a closed conversation refuses more.
    v.send(c, "ok", WireKind::Application, b"fine")
        .await
        .unwrap();
    visitor.http.visitor_close(c).await.unwrap();
    let err = v
        .send(c, "late", WireKind::Application, b"x")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::ConversationClosed),
        "{err:?}"
    );
    assert_eq!(app.client.healthz().await.unwrap().status, "ok");
}

#[tokio::test]
async fn a_cookie_authenticated_upgrade_must_come_from_our_own_pages() {
    // Cross-site WebSocket hijacking: a page elsewhere makes the browser send the cookie.
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    app.staff(&desk.tenant, "ann@acme.example", "agent").await;
    let mut login = TestApp::login_request(&desk.tenant, "ann@acme.example");
    login.client = sealdesk_proto::auth::ClientKind::Browser;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/auth/login", app.url))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let upgrade = |origin: String| {
        http.get(format!("{}/api/ws", app.url))
            .header("cookie", &pair)
            .header("origin", origin)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-protocol", "sealdesk.v1")
            .send()
    };
    let foreign = upgrade("https://evil.example".into()).await.unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(
        foreign
            .json::<sealdesk_proto::ErrorBody>()
            .await
            .unwrap()
            .code,
        ErrorCode::Forbidden
    );
    let public = app.state.config().server.public_url.clone().unwrap();
    let own = upgrade(public.origin().ascii_serialization())
        .await
        .unwrap();
    assert_eq!(own.status(), 101);
}

/// A widget on a page of the server's own origin (the demo shop) next to a console session:
/// the browser attaches the staff cookie to the widget's upgrade, but frame authentication
/// (`?auth=frame`) makes it the visitor's connection, never the staff member's.
#[tokio::test]
async fn a_widget_beside_a_console_session_stays_the_visitor() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    app.staff(&desk.tenant, "ann@acme.example", "agent").await;
    let mut login = TestApp::login_request(&desk.tenant, "ann@acme.example");
    login.client = sealdesk_proto::auth::ClientKind::Browser;
    let r = reqwest::Client::new()
        .post(format!("{}/api/auth/login", app.url))
        .json(&login)
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let own_origin = app
        .state
        .config()
        .server
        .public_url
        .clone()
        .unwrap()
        .origin()
        .ascii_serialization();
    app.store
        .set_widget_origins(
            desk.tenant.id,
            &[sealdesk_core::domain::WidgetOrigin::parse(&own_origin).unwrap()],
        )
        .await
        .unwrap();
    let v = visitor(&app, &desk).await;
    let options = sealdesk_client::ws::ConnectOptions {
        origin: Some(own_origin),
        cookie: Some(pair),
        ..Default::default()
    };
    let conn =
        Connection::connect_with(&base(&app), &Credential::Ticket(v.ticket.clone()), &options)
            .await
            .unwrap();
    assert!(
        matches!(conn.ready().me, WireParty::Visitor(_)),
        "{:?}",
        conn.ready().me
    );
}

#[tokio::test]
async fn origins_and_credentials_are_checked() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    // The tenant has no widget origin, so a browser page anywhere is refused a ticket...
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/widget/{}/{}/tickets",
            app.url, desk.tenant.id, desk.team.id
        ))
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // ...and a ticket obtained elsewhere cannot open a socket from that page.
    let visitor = visitor(&app, &desk).await;
    let options = sealdesk_client::ws::ConnectOptions {
        origin: Some("https://evil.example".into()),
        ..Default::default()
    };
    let err = Connection::connect_with(
        &base(&app),
        &Credential::Ticket(visitor.ticket.clone()),
        &options,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::Forbidden),
        "{err:?}"
    );

    // A made-up ticket, and a valid one after it expired.
    let fake = "sd_vt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let err = Connection::connect(&base(&app), &Credential::Ticket(fake.into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::Unauthenticated),
        "{err:?}"
    );
    app.clock.advance(Duration::from_secs(3601));
    let err = Connection::connect(&base(&app), &Credential::Ticket(visitor.ticket))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::Unauthenticated),
        "{err:?}"
    );
    // A bad bearer token on the upgrade is refused before upgrading.
    let err = Connection::connect(&base(&app), &Credential::Bearer("sd_ses_nonsense".into()))
        .await
        .unwrap_err();
    assert!(matches!(err, WsClientError::Transport(_)), "{err:?}");
    let _ = close::UNAUTHENTICATED;
}

/// A team's history: once closed, a conversation is readable (not writable) by the members of
/// its team, as the team key already opens its History Member, and by nobody else; an
/// ongoing conversation of a colleague stays out of sight.
#[tokio::test]
async fn closed_conversations_are_the_team_history() {
    let app = spawn_app().await;
    let desk = desk(
        &app,
        "Acme",
        "acme.example",
        &["jane@acme.example", "omar@acme.example"],
    )
    .await;
    let tenant = desk.tenant.id;
    let other_team = team(&app, &desk.tenant, "Sales").await;
    app.staff(&desk.tenant, "sam@acme.example", "agent").await;
    let sam_id = app
        .store
        .find_staff_by_email(tenant, "sam@acme.example")
        .await
        .unwrap()
        .unwrap()
        .id;
    app.store
        .add_team_member(tenant, other_team.id, sam_id)
        .await
        .unwrap();
    let sam = app.login(&desk.tenant, "sam@acme.example").await;
    let (jane, omar) = (&desk.agents[0].1, &desk.agents[1].1);

    let v = visitor(&app, &desk).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    jane.claim(tenant, c).await.unwrap();
    // Ongoing and Jane's: Omar does not see it.
    assert!(matches!(
        omar.entries(tenant, c, 0, 10).await,
        Err(ClientError::Api { status: 404, .. })
    ));
    jane.close_conversation(tenant, c).await.unwrap();

    let listed = omar.conversations(tenant, "state=closed").await.unwrap();
    assert_eq!(
        listed
            .conversations
            .iter()
            .map(|x| x.id)
            .collect::<Vec<_>>(),
        [c]
    );
    assert!(
        !omar
            .entries(tenant, c, 0, 10)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
    // Read, not write: a claim or a close is refused.
    assert!(omar.claim(tenant, c).await.is_err());
    // Another team's agent sees none of it.
    assert!(
        sam.conversations(tenant, "state=closed")
            .await
            .unwrap()
            .conversations
            .is_empty()
    );
    assert!(matches!(
        sam.entries(tenant, c, 0, 10).await,
        Err(ClientError::Api { status: 404, .. })
    ));
}
