//! TOTP enrolment and login, replay refusal, recovery codes, enforced 2FA, re-authentication.

use std::time::Duration;

use sealdesk_client::{Client, ClientError};
use sealdesk_crypto::totp;
use sealdesk_proto::ErrorCode;
use sealdesk_proto::auth::{ReauthRequest, Secret};
use sealdesk_testkit::{GOOD_PASSWORD, TenantSpec, TestApp, spawn_app};

fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> ErrorCode {
    match r {
        Err(ClientError::Api { body, .. }) => body.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn current_code(app: &TestApp, secret_b32: &str) -> String {
    let secret = totp::decode_secret(secret_b32).unwrap();
    totp::totp_at(
        &secret,
        app.clock.now_unix(),
        30,
        6,
        totp::TotpAlgorithm::Sha1,
    )
}

trait NowUnix {
    fn now_unix(&self) -> i64;
}
impl NowUnix for sealdesk_core::clock::ManualClock {
    fn now_unix(&self) -> i64 {
        sealdesk_core::clock::Clock::now(self).unix_timestamp()
    }
}

/// Enrols TOTP for a freshly logged-in client; returns (secret, recovery codes).
async fn enrol(app: &TestApp, client: &Client) -> (String, Vec<String>) {
    let e = client.totp_enroll().await.unwrap();
    assert!(e.uri.starts_with("otpauth://totp/"), "{}", e.uri);
    assert!(e.qr_svg.contains("<svg"), "QR code is an SVG");
    let codes = client
        .totp_confirm(&current_code(app, &e.secret))
        .await
        .unwrap();
    (e.secret, codes.recovery_codes)
}

#[tokio::test]
async fn enforced_2fa_restricts_until_enrolled_then_totp_is_required() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::strict("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "admin").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    assert!(jane.session().await.unwrap().restricted);
    let staff_path = format!("/api/tenants/{}/staff", acme.id);
    assert_eq!(
        code_of(jane.get_json(&staff_path).await),
        ErrorCode::SecondFactorRequired
    );

    let (secret, recovery) = enrol(&app, &jane).await;
    assert_eq!(recovery.len(), 10);

    // Password alone no longer works, and the failure does not say why.
    let password_only = TestApp::login_request(&acme, "jane@acme.com");
    assert_eq!(
        code_of(app.client.login(&password_only).await),
        ErrorCode::InvalidCredentials
    );

    // A fresh code works, once: the same code in the same step is a replay.
    app.clock.advance(Duration::from_secs(30));
    let mut with_code = password_only.clone();
    with_code.totp = Some(Secret(current_code(&app, &secret)));
    let full = app.client.login(&with_code).await.unwrap();
    assert!(!full.session.restricted && full.session.second_factor);
    assert_eq!(
        code_of(app.client.login(&with_code).await),
        ErrorCode::InvalidCredentials
    );
    let full = app.client.clone().with_token(full.token.unwrap());
    full.get_json(&staff_path).await.unwrap();

    // A wrong code fails.
    let mut wrong = password_only.clone();
    wrong.totp = Some(Secret("000000".into()));
    if current_code(&app, &secret) != "000000" {
        assert_eq!(
            code_of(app.client.login(&wrong).await),
            ErrorCode::InvalidCredentials
        );
    }
}

#[tokio::test]
async fn totp_skew_is_one_step() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    let (secret, _) = enrol(&app, &jane).await;
    let raw = totp::decode_secret(&secret).unwrap();
    app.clock.advance(Duration::from_mins(5));
    let now = app.clock.now_unix();
    let at = |offset: i64| totp::totp_at(&raw, now + offset, 30, 6, totp::TotpAlgorithm::Sha1);
    let mut req = TestApp::login_request(&acme, "jane@acme.com");
    req.totp = Some(Secret(at(-60)));
    assert_eq!(
        code_of(app.client.login(&req).await),
        ErrorCode::InvalidCredentials,
        "two steps old"
    );
    req.totp = Some(Secret(at(-30)));
    app.client.login(&req).await.unwrap();
    req.totp = Some(Secret(at(30)));
    app.client.login(&req).await.unwrap();
}

#[tokio::test]
async fn recovery_codes_work_once_each() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    let (_, codes) = enrol(&app, &jane).await;
    let mut req = TestApp::login_request(&acme, "jane@acme.com");
    req.recovery_code = Some(Secret(codes[3].to_uppercase().replace('-', " ")));
    app.client.login(&req).await.unwrap();
    assert_eq!(
        code_of(app.client.login(&req).await),
        ErrorCode::InvalidCredentials,
        "used codes are spent"
    );
    req.recovery_code = Some(Secret(codes[4].clone()));
    app.client.login(&req).await.unwrap();
}

#[tokio::test]
async fn changing_2fa_needs_a_recent_reauthentication() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    app.clock.advance(Duration::from_mins(6));
    assert_eq!(
        code_of(jane.totp_enroll().await),
        ErrorCode::ReauthenticationRequired
    );
    let wrong = ReauthRequest::password("not it, sorry", None);
    assert_eq!(
        code_of(jane.reauth(&wrong).await),
        ErrorCode::InvalidCredentials
    );
    let fresh = jane
        .reauth(&ReauthRequest::password(GOOD_PASSWORD, None))
        .await
        .unwrap();
    let jane = jane.with_token(fresh.token.unwrap());
    jane.totp_enroll().await.unwrap();
}

#[tokio::test]
async fn totp_secrets_are_encrypted_at_rest() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    let staff = app.staff(&acme, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    let (secret, _) = enrol(&app, &jane).await;
    let raw = totp::decode_secret(&secret).unwrap();
    let stored = app
        .store
        .get_totp(acme.id, staff.id)
        .await
        .unwrap()
        .unwrap()
        .sealed_secret;
    assert!(
        !stored.windows(raw.len()).any(|w| w == raw.as_slice()),
        "the seed must not be stored in the clear"
    );
    let db = std::fs::read(app.data_dir.path().join("data/sealdesk.db")).unwrap();
    assert!(!db.windows(raw.len()).any(|w| w == raw.as_slice()));
}
