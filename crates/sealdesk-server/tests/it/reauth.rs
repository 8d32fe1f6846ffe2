//! Re-authentication replaces the session (OWASP ASVS v5.0.0-7.2.4), with the password or a
//! passkey; "log out everywhere else"; password changes; the one-query session lookup; and
//! recovery codes stored as salted Argon2id.

use std::time::Duration;

use reqwest::Method;
use sealdesk_client::{Client, ClientError};
use sealdesk_core::audit::AuditAction;
use sealdesk_core::domain::Tenant;
use sealdesk_crypto::totp;
use sealdesk_proto::ErrorCode;
use sealdesk_proto::auth::{ChangePassword, ClientKind, ReauthRequest, Secret};
use sealdesk_proto::passkeys::PasskeyAssertion;
use sealdesk_store::RecoveryCodeHash;
use sealdesk_testkit::{GOOD_PASSWORD, TenantSpec, TestApp, spawn_app};
use serde_json::json;

use super::passkeys::{authenticator, register, sign};

fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn jane(app: &TestApp) -> (Tenant, Client) {
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "admin").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    (acme, jane)
}

async fn audit_count(app: &TestApp, action: AuditAction) -> usize {
    app.store
        .list_audit(None, 0, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.event.action == action)
        .count()
}

#[tokio::test]
async fn reauth_with_the_password_replaces_the_token() {
    let app = spawn_app().await;
    let (_, jane) = jane(&app).await;
    let before = jane.session().await.unwrap();
    app.clock.advance(Duration::from_mins(6));
    assert_eq!(
        code_of(jane.totp_enroll().await),
        (401, ErrorCode::ReauthenticationRequired)
    );

    let fresh = jane
        .reauth(&ReauthRequest::password(GOOD_PASSWORD, None))
        .await
        .unwrap();
    let token = fresh.token.clone().unwrap();
    assert!(token.starts_with("sd_cli_"), "the same kind of session");
    assert_ne!(fresh.session.session_id, before.session_id);
    assert_eq!(
        fresh.session.authenticated_at,
        before.authenticated_at + Duration::from_mins(6)
    );

    // The old token is dead everywhere, including for another re-authentication.
    assert_eq!(
        code_of(jane.session().await),
        (401, ErrorCode::Unauthenticated)
    );
    assert_eq!(
        code_of(
            jane.reauth(&ReauthRequest::password(GOOD_PASSWORD, None))
                .await
        ),
        (401, ErrorCode::Unauthenticated)
    );
    let renewed = jane.clone().with_token(token);
    assert_eq!(
        renewed.session().await.unwrap().session_id,
        fresh.session.session_id
    );
    renewed.totp_enroll().await.unwrap();
    let sessions = renewed.sessions().await.unwrap();
    assert_eq!(sessions.len(), 1, "the replaced session is revoked");
    assert!(sessions[0].current);
    let entry = app
        .store
        .list_audit(None, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .rfind(|r| r.event.action == AuditAction::Reauthenticated)
        .unwrap();
    assert_eq!(
        entry.event.target.as_deref(),
        Some(format!("session:{}", fresh.session.session_id).as_str())
    );
    assert_eq!(
        entry.event.details["replaced"],
        format!("session:{}", before.session_id)
    );
    assert_eq!(entry.event.details["method"], "password");
}

#[tokio::test]
async fn a_failed_reauth_keeps_the_session_and_is_throttled() {
    let app = spawn_app().await;
    let (_, jane) = jane(&app).await;
    for _ in 0..5 {
        assert_eq!(
            code_of(
                jane.reauth(&ReauthRequest::password("not my password", None))
                    .await
            ),
            (401, ErrorCode::InvalidCredentials)
        );
    }
    assert_eq!(
        code_of(
            jane.reauth(&ReauthRequest::password("not my password", None))
                .await
        ),
        (429, ErrorCode::RateLimited),
        "failures count towards the account's lock"
    );
    // The session itself still works.
    jane.session().await.unwrap();
    // Neither or both of password and passkey: a bad request, not a credential failure.
    assert_eq!(
        code_of(jane.reauth(&ReauthRequest::default()).await),
        (400, ErrorCode::InvalidInput)
    );
    let both = ReauthRequest {
        passkey: Some(PasskeyAssertion {
            ceremony_id: uuid::Uuid::nil(),
            credential: json!({}),
        }),
        ..ReauthRequest::password(GOOD_PASSWORD, None)
    };
    assert_eq!(
        code_of(jane.reauth(&both).await),
        (400, ErrorCode::InvalidInput)
    );
}

#[tokio::test]
async fn browser_reauth_sets_a_new_cookie_and_csrf_token() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let mut req = TestApp::login_request(&acme, "jane@acme.com");
    req.client = ClientKind::Browser;
    let http = reqwest::Client::new();
    let login = http
        .post(format!("{}/api/auth/login", app.url))
        .json(&req)
        .send()
        .await
        .unwrap();
    let cookie_of = |r: &reqwest::Response| {
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let old_cookie = cookie_of(&login);
    let old_csrf = login.json::<serde_json::Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reauth = http
        .post(format!("{}/api/auth/reauth", app.url))
        .header("cookie", &old_cookie)
        .header("x-csrf-token", &old_csrf)
        .json(&json!({"password": GOOD_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(reauth.status(), 200);
    let new_cookie = cookie_of(&reauth);
    assert!(new_cookie.starts_with("__Host-sealdesk_session=sd_ses_"));
    assert_ne!(new_cookie, old_cookie);
    let body: serde_json::Value = reauth.json().await.unwrap();
    assert!(body.get("token").is_none(), "browsers never see the token");
    let new_csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert_ne!(
        new_csrf, old_csrf,
        "the CSRF token is bound to the new session"
    );

    let with = |cookie: &str| {
        http.get(format!("{}/api/auth/session", app.url))
            .header("cookie", cookie.to_owned())
            .send()
    };
    assert_eq!(with(&old_cookie).await.unwrap().status(), 401);
    assert_eq!(with(&new_cookie).await.unwrap().status(), 200);
    let stale_csrf = http
        .post(format!("{}/api/auth/logout", app.url))
        .header("cookie", &new_cookie)
        .header("x-csrf-token", &old_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(stale_csrf.status(), 403);
}

#[tokio::test]
async fn reauth_with_a_passkey_replaces_the_token() {
    let app = spawn_app().await;
    let (acme, jane) = jane(&app).await;
    let mut key = authenticator();
    let view = register(&app, &jane, &mut key, "Laptop").await;
    let before = jane.session().await.unwrap();
    app.clock.advance(Duration::from_mins(6));

    let challenge = jane.reauth_passkey_start().await.unwrap();
    let options = serde_json::to_value(&challenge.options).unwrap();
    let allowed = options["publicKey"]["allowCredentials"].as_array().unwrap();
    assert_eq!(
        allowed.len(),
        1,
        "only the account's own passkeys are offered"
    );
    assert_eq!(allowed[0]["id"], view["credential_id"]);
    let credential = sign(&app, &mut key, options, None);
    let assertion = PasskeyAssertion {
        ceremony_id: challenge.ceremony_id,
        credential: serde_json::to_value(&credential).unwrap(),
    };
    let fresh = jane
        .reauth(&ReauthRequest {
            passkey: Some(assertion.clone()),
            ..ReauthRequest::default()
        })
        .await
        .unwrap();
    assert!(fresh.session.second_factor);
    assert_ne!(fresh.session.session_id, before.session_id);
    assert_eq!(
        code_of(jane.session().await),
        (401, ErrorCode::Unauthenticated),
        "the old token no longer works"
    );
    let renewed = jane.clone().with_token(fresh.token.unwrap());
    // A fresh proof of identity: a sensitive action goes through.
    renewed
        .send_json(
            Method::POST,
            "/api/account/passkeys/register/start",
            &json!({}),
        )
        .await
        .unwrap();
    let entry = app
        .store
        .list_audit(None, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .rfind(|r| r.event.action == AuditAction::Reauthenticated)
        .unwrap();
    assert_eq!(entry.event.details["method"], "passkey");

    // The same assertion again: its ceremony is spent.
    assert_eq!(
        code_of(
            renewed
                .reauth(&ReauthRequest {
                    passkey: Some(assertion),
                    ..ReauthRequest::default()
                })
                .await
        ),
        (401, ErrorCode::InvalidCredentials)
    );

    // Another account cannot answer Jane's challenge, nor Jane another account's.
    app.staff(&acme, "omar@acme.com", "agent").await;
    let omar = app.login(&acme, "omar@acme.com").await;
    let mut omar_key = authenticator();
    let omar_view = register(&app, &omar, &mut omar_key, "Phone").await;
    let omars = omar.reauth_passkey_start().await.unwrap();
    let signed_by_jane = sign(
        &app,
        &mut key,
        serde_json::to_value(&omars.options).unwrap(),
        Some(&view["credential_id"]),
    );
    assert_eq!(
        code_of(
            renewed
                .reauth(&ReauthRequest {
                    passkey: Some(PasskeyAssertion {
                        ceremony_id: omars.ceremony_id,
                        credential: serde_json::to_value(&signed_by_jane).unwrap(),
                    }),
                    ..ReauthRequest::default()
                })
                .await
        ),
        (401, ErrorCode::InvalidCredentials),
        "a ceremony started for another account"
    );
    let janes = renewed.reauth_passkey_start().await.unwrap();
    let signed_by_omar = sign(
        &app,
        &mut omar_key,
        serde_json::to_value(&janes.options).unwrap(),
        Some(&omar_view["credential_id"]),
    );
    assert_eq!(
        code_of(
            renewed
                .reauth(&ReauthRequest {
                    passkey: Some(PasskeyAssertion {
                        ceremony_id: janes.ceremony_id,
                        credential: serde_json::to_value(&signed_by_omar).unwrap(),
                    }),
                    ..ReauthRequest::default()
                })
                .await
        ),
        (401, ErrorCode::InvalidCredentials),
        "another account's passkey"
    );
    renewed.session().await.unwrap();
    assert_eq!(
        audit_count(&app, AuditAction::Reauthenticated).await,
        1,
        "failures rotate nothing"
    );
}

#[tokio::test]
async fn passkey_reauth_needs_a_passkey_and_a_person() {
    let app = spawn_app().await;
    let (acme, jane) = jane(&app).await;
    assert_eq!(
        code_of(jane.reauth_passkey_start().await),
        (409, ErrorCode::Conflict)
    );
    // API tokens never re-authenticate.
    let created = jane
        .send_json(
            Method::POST,
            &format!("/api/tenants/{}/api-tokens", acme.id),
            &json!({"name": "ci bot", "expires_in_days": 30}),
        )
        .await
        .unwrap();
    let bot = app
        .client
        .clone()
        .with_token(created["token"].as_str().unwrap());
    assert_eq!(
        code_of(
            bot.reauth(&ReauthRequest::password(GOOD_PASSWORD, None))
                .await
        ),
        (403, ErrorCode::Forbidden)
    );
    assert_eq!(
        code_of(bot.reauth_passkey_start().await),
        (403, ErrorCode::Forbidden)
    );
}

#[tokio::test]
async fn revoking_the_other_sessions_keeps_this_one() {
    let app = spawn_app().await;
    let (acme, jane) = jane(&app).await;
    let laptop = app.login(&acme, "jane@acme.com").await;
    let phone = app.login(&acme, "jane@acme.com").await;
    assert_eq!(jane.revoke_other_sessions().await.unwrap(), 2);
    jane.session().await.unwrap();
    for other in [&laptop, &phone] {
        assert_eq!(
            code_of(other.session().await),
            (401, ErrorCode::Unauthenticated)
        );
    }
    assert_eq!(jane.revoke_other_sessions().await.unwrap(), 0);
    assert_eq!(audit_count(&app, AuditAction::SessionsRevokedAll).await, 2);
}

#[tokio::test]
async fn changing_the_password_checks_the_current_one_under_throttling() {
    let app = spawn_app().await;
    let (acme, jane) = jane(&app).await;
    let other = app.login(&acme, "jane@acme.com").await;
    let change = |current: &str| ChangePassword {
        current_password: Secret(current.to_owned()),
        new_password: Secret("violet kettle under a quiet moon".to_owned()),
    };
    for _ in 0..5 {
        assert_eq!(
            code_of(jane.change_password(&change("wrong guess")).await),
            (401, ErrorCode::InvalidCredentials)
        );
    }
    assert_eq!(
        code_of(jane.change_password(&change(GOOD_PASSWORD)).await),
        (429, ErrorCode::RateLimited),
        "guessing the current password through a session is throttled like a login"
    );
    app.clock.advance(Duration::from_mins(20));
    jane.change_password(&change(GOOD_PASSWORD)).await.unwrap();
    assert_eq!(
        code_of(other.session().await),
        (401, ErrorCode::Unauthenticated),
        "other sessions end with the old password"
    );
    jane.session().await.unwrap();
    assert_eq!(
        code_of(
            app.client
                .login(&TestApp::login_request(&acme, "jane@acme.com"))
                .await
        ),
        (401, ErrorCode::InvalidCredentials)
    );
}

#[tokio::test]
async fn the_session_view_follows_second_factor_changes() {
    let app = spawn_app().await;
    let (_, jane) = jane(&app).await;
    assert!(!jane.session().await.unwrap().second_factor);
    let enrolment = jane.totp_enroll().await.unwrap();
    assert!(
        !jane.session().await.unwrap().second_factor,
        "a pending enrolment is no factor"
    );
    let secret = totp::decode_secret(&enrolment.secret).unwrap();
    let now = sealdesk_core::clock::Clock::now(app.clock.as_ref()).unix_timestamp();
    let code = totp::totp_at(&secret, now, 30, 6, totp::TotpAlgorithm::Sha1);
    jane.totp_confirm(&code).await.unwrap();
    assert!(jane.session().await.unwrap().second_factor);
}

#[tokio::test]
async fn recovery_codes_are_stored_as_salted_argon2id_and_regenerated() {
    let app = spawn_app().await;
    let (acme, jane) = jane(&app).await;
    let staff = app
        .store
        .find_staff_by_email(acme.id, "jane@acme.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        code_of(jane.regenerate_recovery_codes().await),
        (409, ErrorCode::Conflict),
        "no second factor yet"
    );
    let enrolment = jane.totp_enroll().await.unwrap();
    let secret = totp::decode_secret(&enrolment.secret).unwrap();
    let now = sealdesk_core::clock::Clock::now(app.clock.as_ref()).unix_timestamp();
    let first = jane
        .totp_confirm(&totp::totp_at(
            &secret,
            now,
            30,
            6,
            totp::TotpAlgorithm::Sha1,
        ))
        .await
        .unwrap()
        .recovery_codes;
    let stored = app
        .store
        .list_recovery_codes(acme.id, staff.id)
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    let mut salts = std::collections::HashSet::new();
    for code in &stored {
        let RecoveryCodeHash::Argon2id(phc) = &code.hash else {
            panic!("new codes are Argon2id: {code:?}");
        };
        assert!(phc.starts_with("$argon2id$v=19$m=2048,t=1,p=1$"), "{phc}");
        salts.insert(phc.split('$').nth(4).unwrap().to_owned());
    }
    assert_eq!(salts.len(), 10, "a salt per code");
    let db = std::fs::read(app.data_dir.path().join("data/sealdesk.db")).unwrap();
    for code in &first {
        let plain = code.replace('-', "");
        assert!(!db.windows(plain.len()).any(|w| w == plain.as_bytes()));
    }

    // Regenerating needs a recent proof of identity; the new set replaces the old one.
    app.clock.advance(Duration::from_mins(6));
    assert_eq!(
        code_of(jane.regenerate_recovery_codes().await),
        (401, ErrorCode::ReauthenticationRequired)
    );
    let now = sealdesk_core::clock::Clock::now(app.clock.as_ref()).unix_timestamp();
    let code = totp::totp_at(&secret, now, 30, 6, totp::TotpAlgorithm::Sha1);
    let fresh = jane
        .reauth(&ReauthRequest::password(GOOD_PASSWORD, Some(&code)))
        .await
        .unwrap();
    let jane = jane.with_token(fresh.token.unwrap());
    let second = jane
        .regenerate_recovery_codes()
        .await
        .unwrap()
        .recovery_codes;
    assert_eq!(second.len(), 10);
    let mut login = TestApp::login_request(&acme, "jane@acme.com");
    login.recovery_code = Some(Secret(first[0].clone()));
    assert_eq!(
        code_of(app.client.login(&login).await),
        (401, ErrorCode::InvalidCredentials),
        "the old set is gone"
    );
    login.recovery_code = Some(Secret(second[9].to_uppercase()));
    app.client.login(&login).await.unwrap();
    assert_eq!(
        code_of(app.client.login(&login).await),
        (401, ErrorCode::InvalidCredentials),
        "used once"
    );
    assert_eq!(
        app.store
            .count_recovery_codes(acme.id, staff.id)
            .await
            .unwrap(),
        9
    );
}
