//! Staff login, sessions, throttling, cookies and CSRF, through real HTTP.

use std::time::Duration;

use reqwest::StatusCode;
use sealdesk_client::ClientError;
use sealdesk_core::audit::AuditAction;
use sealdesk_crypto::audit_chain::ChainCursor;
use sealdesk_proto::auth::{ClientKind, Secret};
use sealdesk_proto::{ErrorBody, ErrorCode};
use sealdesk_testkit::{GOOD_PASSWORD, TenantSpec, TestApp, spawn_app};

fn api_code(result: Result<impl std::fmt::Debug, ClientError>) -> (u16, ErrorCode, String) {
    match result {
        Err(ClientError::Api { status, body }) => (status, body.code, body.message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn login_session_logout() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "Jane@ACME.com").await;
    let info = jane.session().await.unwrap();
    assert_eq!(info.staff.email, "jane@acme.com");
    assert_eq!(info.kind, "cli");
    assert!(!info.restricted);
    jane.logout().await.unwrap();
    assert_eq!(api_code(jane.session().await).1, ErrorCode::Unauthenticated);
}

#[tokio::test]
async fn failures_all_look_the_same_and_are_audited_with_their_reason() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let mut wrong = TestApp::login_request(&acme, "jane@acme.com");
    wrong.password = Secret("not the password at all".into());
    let unknown = TestApp::login_request(&acme, "nobody@acme.com");
    let a = api_code(app.client.login(&wrong).await);
    let b = api_code(app.client.login(&unknown).await);
    assert_eq!(
        a, b,
        "wrong password and unknown account must be indistinguishable"
    );
    assert_eq!(a.0, 401);
    assert_eq!(a.1, ErrorCode::InvalidCredentials);
    let audit = app.store.list_audit(Some(acme.id), 0, 100).await.unwrap();
    let reasons: Vec<_> = audit
        .iter()
        .filter(|r| r.event.action == AuditAction::LoginFailed)
        .map(|r| r.event.details["reason"].clone())
        .collect();
    assert_eq!(reasons, vec!["password", "account"]);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_then_it_unlocks() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let mut wrong = TestApp::login_request(&acme, "jane@acme.com");
    wrong.password = Secret("wrong wrong wrong".into());
    for _ in 0..5 {
        assert_eq!(
            api_code(app.client.login(&wrong).await).1,
            ErrorCode::InvalidCredentials
        );
    }
    // Locked: even the right password is refused, with a retry hint.
    let right = TestApp::login_request(&acme, "jane@acme.com");
    let raw = reqwest::Client::new()
        .post(format!("{}/api/auth/login", app.url))
        .json(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(raw.headers()["retry-after"], "2");
    app.clock.advance(Duration::from_secs(3));
    app.client.login(&right).await.unwrap();
    // Success clears the account's counter: one more failure does not lock again.
    assert_eq!(
        api_code(app.client.login(&wrong).await).1,
        ErrorCode::InvalidCredentials
    );
    app.client.login(&right).await.unwrap();
}

#[tokio::test]
async fn sessions_expire_when_idle_and_at_their_absolute_limit() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    // CLI sessions idle out after 8 × 30 minutes; activity pushes that back.
    for _ in 0..3 {
        app.clock.advance(Duration::from_hours(3));
        jane.session().await.unwrap();
    }
    app.clock
        .advance(Duration::from_hours(3) + Duration::from_mins(1));
    assert_eq!(
        api_code(jane.session().await).1,
        ErrorCode::Unauthenticated,
        "12 h absolute limit"
    );
    let again = app.login(&acme, "jane@acme.com").await;
    app.clock.advance(Duration::from_secs(4 * 3600 + 1));
    assert_eq!(
        api_code(again.session().await).1,
        ErrorCode::Unauthenticated,
        "idle limit"
    );
}

#[tokio::test]
async fn browser_sessions_use_a_strict_cookie_and_csrf() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let mut req = TestApp::login_request(&acme, "jane@acme.com");
    req.client = ClientKind::Browser;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/auth/login", app.url))
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attr in [
        "__Host-sealdesk_session=sd_ses_",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(cookie.contains(attr), "{attr} missing from {cookie}");
    }
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body.get("token").is_none(), "browsers never see the token");
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    let pair = cookie.split(';').next().unwrap().to_owned();
    let who = http
        .get(format!("{}/api/auth/session", app.url))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(who.status(), 200);
    // A new tab gets the same CSRF token from its session; a CLI session never does.
    let who: serde_json::Value = who.json().await.unwrap();
    assert_eq!(who["csrf_token"], csrf.as_str());
    let cli = app.login(&acme, "jane@acme.com").await;
    assert_eq!(cli.session().await.unwrap().csrf_token, None);
    let forged = http
        .post(format!("{}/api/auth/logout", app.url))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        403,
        "a state change without the CSRF token is refused"
    );
    let wrong = http
        .post(format!("{}/api/auth/logout", app.url))
        .header("cookie", &pair)
        .header("x-csrf-token", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let ok = http
        .post(format!("{}/api/auth/logout", app.url))
        .header("cookie", &pair)
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    assert!(
        ok.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn ip_allow_list_refuses_other_addresses() {
    let app = spawn_app().await;
    let mut spec = TenantSpec::relaxed("Acme", "acme.com");
    spec.settings.staff_ip_allowlist =
        vec![sealdesk_core::domain::Cidr::parse("203.0.113.0/24").unwrap()];
    let acme = app.tenant(spec).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let r = app
        .client
        .login(&TestApp::login_request(&acme, "jane@acme.com"))
        .await;
    assert_eq!(api_code(r).1, ErrorCode::InvalidCredentials);
    let reasons: Vec<_> = app
        .store
        .list_audit(Some(acme.id), 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event.details.get("reason").cloned())
        .collect();
    assert!(
        reasons.contains(&Some("ip_not_allowed".into())),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn disabled_accounts_lose_their_sessions() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    let jane = app.staff(&acme, "jane@acme.com", "agent").await;
    app.staff(&acme, "boss@acme.com", "admin").await;
    let jane_client = app.login(&acme, "jane@acme.com").await;
    let boss = app.login(&acme, "boss@acme.com").await;
    let path = format!("/api/tenants/{}/staff/{}/disable", acme.id, jane.id);
    boss.send_json(reqwest::Method::POST, &path, &serde_json::json!({}))
        .await
        .unwrap();
    assert_eq!(
        api_code(jane_client.session().await).1,
        ErrorCode::Unauthenticated
    );
    assert_eq!(
        api_code(
            app.client
                .login(&TestApp::login_request(&acme, "jane@acme.com"))
                .await
        )
        .1,
        ErrorCode::InvalidCredentials
    );
}

#[tokio::test]
async fn the_audit_chain_of_a_busy_session_verifies() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let mut wrong = TestApp::login_request(&acme, "jane@acme.com");
    wrong.password = Secret("nope nope nope".into());
    let _ = app.client.login(&wrong).await;
    let jane = app.login(&acme, "jane@acme.com").await;
    jane.logout().await.unwrap();
    let all = app.store.list_audit(None, 0, 1000).await.unwrap();
    let mut cursor = ChainCursor::default();
    for r in &all {
        cursor.feed(r);
    }
    let report = cursor.finish();
    assert!(report.ok, "{report:?}");
    let actions: Vec<_> = all.iter().map(|r| r.event.action).collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::LoginFailed,
            AuditAction::LoginSucceeded,
            AuditAction::Logout
        ]
    );
    assert!(
        all.iter()
            .all(|r| !format!("{:?}", r.event).contains(GOOD_PASSWORD)),
        "no secrets in the audit log"
    );
}

#[tokio::test]
async fn malformed_login_bodies_get_invalid_input() {
    let app = spawn_app().await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/auth/login", app.url))
        .header("content-type", "application/json")
        .body("{\"email\": 5}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: ErrorBody = r.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::InvalidInput);
}
