//! Visitors: identity tokens (the Chatwoot test: one customer's token never opens another
//! customer's conversations), and abuse controls (ticket and connection limits, block lists,
//! proof-of-work, frame rate).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use sealdesk_client::ws::{Connection, Credential, WsClientError};
use sealdesk_client::{Client, ClientError};
use sealdesk_core::clock::Clock as _;
use sealdesk_crypto::identity_token::sign_hs256;
use sealdesk_proto::conversations::{InboxIdentityView, PowSolution, TicketRequest};
use sealdesk_proto::ws::{ClientFrame, ServerFrame, WireKind};
use sealdesk_proto::{ErrorCode, TeamId};
use sealdesk_testkit::{TestApp, spawn_app, spawn_app_with};

use super::conversations::{Desk, base, desk};

fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn admin(app: &TestApp, desk: &Desk) -> Client {
    app.staff(&desk.tenant, "root@acme.example", "admin").await;
    app.login(&desk.tenant, "root@acme.example").await
}

async fn set_identity(admin: &Client, desk: &Desk, body: serde_json::Value) -> InboxIdentityView {
    let path = format!(
        "/api/tenants/{}/teams/{}/identity",
        desk.tenant.id, desk.team.id
    );
    let shown = admin
        .send_json(reqwest::Method::PUT, &path, &body)
        .await
        .unwrap();
    serde_json::from_value(shown).unwrap()
}

fn token(secret: &[u8], sub: &str, aud: TeamId, now: i64) -> String {
    sign_hs256(
        secret,
        &serde_json::json!({"sub": sub, "aud": aud.to_string(), "iat": now, "exp": now + 600}),
    )
}

async fn ticket_for(
    app: &TestApp,
    desk: &Desk,
    identity_token: Option<String>,
    key: Option<String>,
) -> Result<sealdesk_proto::conversations::TicketResponse, ClientError> {
    app.client
        .visitor_ticket_with(
            desk.tenant.id,
            desk.team.id,
            &TicketRequest {
                visitor_key: key,
                identity_token,
                pow: None,
            },
        )
        .await
}

#[tokio::test]
async fn an_identity_token_opens_only_its_customers_conversations() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    let admin = admin(&app, &desk).await;
    let shown = set_identity(&admin, &desk, serde_json::json!({"kind": "hs256"})).await;
    assert_eq!(shown.audience, desk.team.id.to_string());
    let secret = URL_SAFE_NO_PAD.decode(shown.secret.unwrap()).unwrap();
    assert_eq!(secret.len(), 32);
    // The secret is shown once: reading the settings never returns it.
    let read = admin
        .get_json(&format!(
            "/api/tenants/{}/teams/{}/identity",
            desk.tenant.id, desk.team.id
        ))
        .await
        .unwrap();
    assert!(read.get("secret").is_none(), "{read}");
    let now = app.clock.now().unix_timestamp();

    let alice = ticket_for(
        &app,
        &desk,
        Some(token(&secret, "cust-alice", desk.team.id, now)),
        None,
    )
    .await
    .unwrap();
    let alice_http = app.client.clone().with_token(alice.ticket.clone());
    let conversation = alice_http.open_conversation(None).await.unwrap();
    let mut a = Connection::connect(&base(&app), &Credential::Ticket(alice.ticket.clone()))
        .await
        .unwrap();
    a.send(conversation.id, "a1", WireKind::Application, b"my order 42")
        .await
        .unwrap();

    // Bob's token: another visitor, who cannot see Alice's conversation.
    let bob = ticket_for(
        &app,
        &desk,
        Some(token(&secret, "cust-bob", desk.team.id, now)),
        None,
    )
    .await
    .unwrap();
    assert_ne!(bob.visitor_id, alice.visitor_id);
    let mut b = Connection::connect(&base(&app), &Credential::Ticket(bob.ticket.clone()))
        .await
        .unwrap();
    let err = b.subscribe(conversation.id, 0).await.unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::NotFound),
        "{err:?}"
    );
    // Bob's token with Alice's visitor key is still Bob: the token decides alone.
    let bob_with_alices_key = ticket_for(
        &app,
        &desk,
        Some(token(&secret, "cust-bob", desk.team.id, now)),
        alice.visitor_key.clone(),
    )
    .await
    .unwrap();
    assert_eq!(bob_with_alices_key.visitor_id, bob.visitor_id);
    // Alice's key without a token does not bring back the verified visitor either.
    let anonymous = ticket_for(&app, &desk, None, alice.visitor_key.clone())
        .await
        .unwrap();
    assert_ne!(anonymous.visitor_id, alice.visitor_id);
    // A new token for Alice: the same visitor, with her conversation.
    let again = ticket_for(
        &app,
        &desk,
        Some(token(&secret, "cust-alice", desk.team.id, now + 5)),
        None,
    )
    .await
    .unwrap();
    assert_eq!(again.visitor_id, alice.visitor_id);
    let mine = app
        .client
        .clone()
        .with_token(again.ticket)
        .my_conversations()
        .await
        .unwrap();
    assert_eq!(mine.conversations.len(), 1);

    // Forged, foreign-audience and expired tokens are refused alike.
    for bad in [
        token(
            b"not the secret at all, not at all",
            "cust-alice",
            desk.team.id,
            now,
        ),
        token(
            &secret,
            "cust-alice",
            TeamId::from_uuid(uuid::Uuid::nil()),
            now,
        ),
        token(&secret, "cust-alice", desk.team.id, now - 3600),
    ] {
        assert_eq!(
            code_of(ticket_for(&app, &desk, Some(bad), None).await),
            (401, ErrorCode::Unauthenticated)
        );
    }
    // Staff see who the visitor is.
    let view = admin
        .get_json(&format!(
            "/api/tenants/{}/visitors/{}",
            desk.tenant.id, alice.visitor_id
        ))
        .await
        .unwrap();
    assert_eq!(view["verified"], true);
    assert_eq!(view["external_id"], "cust-alice");
}

#[tokio::test]
async fn an_inbox_can_require_identity_and_use_the_tenants_ed25519_key() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    let admin = admin(&app, &desk).await;
    let signing = SigningKey::from_bytes(&[7u8; 32]);
    let public = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
    let shown = set_identity(
        &admin,
        &desk,
        serde_json::json!({"kind": "ed25519", "public_key": public, "required": true}),
    )
    .await;
    assert!(shown.secret.is_none());
    assert_eq!(shown.public_key.as_deref(), Some(public.as_str()));
    assert_eq!(
        code_of(ticket_for(&app, &desk, None, None).await),
        (401, ErrorCode::Unauthenticated)
    );
    let now = app.clock.now().unix_timestamp();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","typ":"JWT"}"#);
    let claims =
        serde_json::json!({"sub": "c-1", "aud": desk.team.id.to_string(), "exp": now + 60});
    let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let sig = URL_SAFE_NO_PAD.encode(signing.sign(signed.as_bytes()).to_bytes());
    let ticket = ticket_for(&app, &desk, Some(format!("{signed}.{sig}")), None)
        .await
        .unwrap();
    assert!(ticket.visitor_key.is_some());
    // An HS256 token made with the public key as secret (algorithm confusion) is refused.
    let confused = sign_hs256(signing.verifying_key().as_bytes(), &claims);
    assert_eq!(
        code_of(ticket_for(&app, &desk, Some(confused), None).await),
        (401, ErrorCode::Unauthenticated)
    );
    // Switching identity off drops the requirement.
    set_identity(&admin, &desk, serde_json::json!({"kind": "off"})).await;
    ticket_for(&app, &desk, None, None).await.unwrap();
}

#[tokio::test]
async fn tickets_and_connections_are_limited_per_address() {
    let app = spawn_app_with(|c| {
        c.chat.tickets_per_minute_per_address = 3;
        c.chat.connections_per_address = 2;
    })
    .await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    let mut tickets = Vec::new();
    for _ in 0..3 {
        tickets.push(ticket_for(&app, &desk, None, None).await.unwrap());
    }
    assert_eq!(
        code_of(ticket_for(&app, &desk, None, None).await),
        (429, ErrorCode::RateLimited)
    );
    app.clock.advance(Duration::from_secs(21));
    ticket_for(&app, &desk, None, None).await.unwrap();

    let first = Connection::connect(&base(&app), &Credential::Ticket(tickets[0].ticket.clone()))
        .await
        .unwrap();
    let _second = Connection::connect(&base(&app), &Credential::Ticket(tickets[1].ticket.clone()))
        .await
        .unwrap();
    let third =
        Connection::connect(&base(&app), &Credential::Ticket(tickets[2].ticket.clone())).await;
    assert!(
        matches!(third, Err(WsClientError::Transport(_))),
        "{third:?}"
    );
    first.close().await.unwrap();
    // The slot is released when the connection ends.
    let mut retried = None;
    for _ in 0..50 {
        match Connection::connect(&base(&app), &Credential::Ticket(tickets[2].ticket.clone())).await
        {
            Ok(conn) => {
                retried = Some(conn);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(retried.is_some(), "the freed slot was never reusable");
}

#[tokio::test]
async fn blocked_ranges_get_no_ticket_and_no_connection() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    let early = ticket_for(&app, &desk, None, None).await.unwrap();
    let mut settings = desk.tenant.settings.clone();
    settings.visitor_blocklist = vec![sealdesk_core::domain::Cidr::parse("127.0.0.0/8").unwrap()];
    app.store
        .update_tenant_settings(desk.tenant.id, &settings)
        .await
        .unwrap();
    assert_eq!(
        code_of(ticket_for(&app, &desk, None, None).await),
        (403, ErrorCode::Forbidden)
    );
    let err = Connection::connect(&base(&app), &Credential::Ticket(early.ticket))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, WsClientError::Server(e) if e.code == ErrorCode::Forbidden),
        "{err:?}"
    );
}

#[tokio::test]
async fn new_visitors_solve_a_challenge_when_asked() {
    let app = spawn_app_with(|c| {
        c.chat.challenge_bits = 8;
        c.chat.new_visitors_per_minute = 2;
    })
    .await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    // Auto mode: two new visitors a minute pass, the third finds the tenant under attack.
    let first = ticket_for(&app, &desk, None, None).await.unwrap();
    ticket_for(&app, &desk, None, None).await.unwrap();
    assert_eq!(
        code_of(ticket_for(&app, &desk, None, None).await),
        (429, ErrorCode::ChallengeRequired)
    );
    // A returning visitor is not challenged.
    ticket_for(&app, &desk, None, first.visitor_key.clone())
        .await
        .unwrap();
    let challenge = app
        .client
        .challenge(desk.tenant.id, desk.team.id)
        .await
        .unwrap();
    assert_eq!(challenge.bits, 8);
    let solution = sealdesk_crypto::pow::solve(&challenge.challenge);
    let request = TicketRequest {
        pow: Some(PowSolution {
            challenge: challenge.challenge.clone(),
            solution,
        }),
        ..TicketRequest::default()
    };
    app.client
        .visitor_ticket_with(desk.tenant.id, desk.team.id, &request)
        .await
        .unwrap();
    // The same solution twice is a replay.
    assert_eq!(
        code_of(
            app.client
                .visitor_ticket_with(desk.tenant.id, desk.team.id, &request)
                .await
        ),
        (429, ErrorCode::ChallengeRequired)
    );
    // A wrong solution.
    let other = app
        .client
        .challenge(desk.tenant.id, desk.team.id)
        .await
        .unwrap();
    let wrong = (0u64..1000)
        .find(|n| {
            use sha2::Digest as _;
            sha2::Sha256::digest(format!("{}:{n}", other.challenge))[0] != 0
        })
        .unwrap();
    let bad = TicketRequest {
        pow: Some(PowSolution {
            challenge: other.challenge,
            solution: wrong,
        }),
        ..TicketRequest::default()
    };
    assert_eq!(
        code_of(
            app.client
                .visitor_ticket_with(desk.tenant.id, desk.team.id, &bad)
                .await
        ),
        (429, ErrorCode::ChallengeRequired)
    );
}

#[tokio::test]
async fn a_flooding_connection_is_slowed_down() {
    let app = spawn_app_with(|c| c.chat.messages_per_second = 2).await;
    let desk = desk(&app, "Acme", "acme.example", &[]).await;
    let ticket = ticket_for(&app, &desk, None, None).await.unwrap();
    let mut conn = Connection::connect(&base(&app), &Credential::Ticket(ticket.ticket))
        .await
        .unwrap();
    for n in 0..10 {
        conn.send_frame(&ClientFrame::Ping { n }).await.unwrap();
    }
    let (mut pongs, mut limited) = (0, 0);
    for _ in 0..10 {
        match conn.next().await.unwrap() {
            ServerFrame::Pong { .. } => pongs += 1,
            ServerFrame::Error(e) if e.code == ErrorCode::RateLimited => limited += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        pongs, 4,
        "a burst of twice the rate passes (the clock does not move)"
    );
    assert_eq!(limited, 6);
}
