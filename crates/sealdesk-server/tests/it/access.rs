//! Access control through HTTP: the permission matrix on real endpoints, and a second
//! tenant's staff getting 404 from every tenant-scoped endpoint.

use reqwest::Method;
use sealdesk_client::ClientError;
use sealdesk_proto::ErrorCode;
use sealdesk_server::routes::api_routes;
use sealdesk_testkit::{TenantSpec, spawn_app};

fn status_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Every route with `{tenant}` in its path, called by an owner of another tenant, answers 404.
#[tokio::test]
async fn another_tenants_staff_gets_404_everywhere() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    let globex = app
        .tenant(TenantSpec::relaxed("Globex", "globex.com"))
        .await;
    let victim = app.staff(&acme, "jane@acme.com", "agent").await;
    app.staff(&globex, "owner@globex.com", "owner").await;
    let intruder = app.login(&globex, "owner@globex.com").await;
    let mut checked = 0;
    for (path, _) in api_routes() {
        if !path.contains("{tenant}") {
            continue;
        }
        let concrete = path
            .replace("{tenant}", &acme.id.to_string())
            .replace("{staff}", &victim.id.to_string())
            .replace("{id}", &uuid::Uuid::nil().to_string())
            .replace("{team}", &uuid::Uuid::nil().to_string());
        let mut routed = 0;
        for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
            let body = serde_json::json!({"email": "x@acme.com", "role": "agent", "name": "X", "expires_in_days": 1});
            let result = if method == Method::GET {
                intruder.get_json(&concrete).await
            } else {
                intruder.send_json(method.clone(), &concrete, &body).await
            };
            match status_of(result) {
                // 405 depends only on the path pattern, never on the tenant: not a leak.
                (405, _) => {}
                other => {
                    assert_eq!(other, (404, ErrorCode::NotFound), "{method} {path}");
                    routed += 1;
                }
            }
        }
        assert!(routed > 0, "{path} answered no method");
        checked += routed;
    }
    assert!(checked >= 11, "only {checked} tenant routes checked");
    // And nothing was changed in the victim tenant.
    assert_eq!(app.store.list_staff(acme.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_matrix_holds_on_real_endpoints() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "agent@acme.com", "agent").await;
    app.staff(&acme, "admin@acme.com", "admin").await;
    let owner = app.staff(&acme, "owner@acme.com", "owner").await;
    let agent = app.login(&acme, "agent@acme.com").await;
    let admin = app.login(&acme, "admin@acme.com").await;
    let invite = format!("/api/tenants/{}/invitations", acme.id);
    let body =
        |role: &str| serde_json::json!({"email": format!("{role}-new@acme.com"), "role": role});
    assert_eq!(
        status_of(agent.send_json(Method::POST, &invite, &body("agent")).await),
        (403, ErrorCode::Forbidden)
    );
    assert_eq!(
        status_of(
            agent
                .get_json(&format!("/api/tenants/{}/audit", acme.id))
                .await
        ),
        (403, ErrorCode::Forbidden)
    );
    admin
        .send_json(Method::POST, &invite, &body("agent"))
        .await
        .unwrap();
    assert_eq!(
        status_of(admin.send_json(Method::POST, &invite, &body("owner")).await),
        (403, ErrorCode::Forbidden),
        "admins cannot mint owners"
    );
    let demote = format!("/api/tenants/{}/staff/{}/role", acme.id, owner.id);
    assert_eq!(
        status_of(
            admin
                .send_json(Method::PUT, &demote, &serde_json::json!({"role": "agent"}))
                .await
        ),
        (403, ErrorCode::Forbidden)
    );
    let oldest = admin
        .get_json(&format!("/api/tenants/{}/audit", acme.id))
        .await
        .unwrap();
    let seqs = |v: &serde_json::Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_i64().unwrap())
            .collect()
    };
    let oldest = seqs(&oldest);
    assert!(oldest.len() >= 2, "{oldest:?}");
    // Newest first, and the next page below the last one seen.
    let newest = seqs(
        &admin
            .get_json(&format!(
                "/api/tenants/{}/audit?order=newest&limit=1",
                acme.id
            ))
            .await
            .unwrap(),
    );
    assert_eq!(newest, [*oldest.last().unwrap()]);
    let next = seqs(
        &admin
            .get_json(&format!(
                "/api/tenants/{}/audit?order=newest&limit=1&before={}",
                acme.id, newest[0]
            ))
            .await
            .unwrap(),
    );
    assert_eq!(next, [oldest[oldest.len() - 2]]);
    assert_eq!(
        status_of(
            admin
                .get_json(&format!("/api/tenants/{}/audit?order=sideways", acme.id))
                .await
        ),
        (400, ErrorCode::InvalidInput)
    );
}

#[tokio::test]
async fn invitations_are_single_use_and_check_the_password_first() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::strict("Acme", "acme.com")).await;
    app.staff(&acme, "admin@acme.com", "admin").await;
    // The tenant is strict; give the admin a restricted-free session by relaxing nothing:
    // admins need TOTP too, so enrol first.
    let admin = app.login(&acme, "admin@acme.com").await;
    let e = admin.totp_enroll().await.unwrap();
    let secret = sealdesk_crypto::totp::decode_secret(&e.secret).unwrap();
    let now = || sealdesk_core::clock::Clock::now(app.clock.as_ref()).unix_timestamp();
    let code = sealdesk_crypto::totp::totp_at(
        &secret,
        now(),
        30,
        6,
        sealdesk_crypto::totp::TotpAlgorithm::Sha1,
    );
    admin.totp_confirm(&code).await.unwrap();
    app.clock.advance(std::time::Duration::from_secs(30));
    let mut req = sealdesk_testkit::TestApp::login_request(&acme, "admin@acme.com");
    req.totp = Some(sealdesk_proto::auth::Secret(
        sealdesk_crypto::totp::totp_at(
            &secret,
            now(),
            30,
            6,
            sealdesk_crypto::totp::TotpAlgorithm::Sha1,
        ),
    ));
    let admin = app
        .client
        .clone()
        .with_token(app.client.login(&req).await.unwrap().token.unwrap());

    let invited = admin
        .send_json(
            Method::POST,
            &format!("/api/tenants/{}/invitations", acme.id),
            &serde_json::json!({"email": "new@acme.com", "role": "agent"}),
        )
        .await
        .unwrap();
    let token = invited["invitation_token"].as_str().unwrap().to_owned();
    let accept =
        |password: &str| serde_json::json!({"token": token, "password": password, "client": "cli"});
    let weak = app
        .client
        .send_json(
            Method::POST,
            "/api/invitations/accept",
            &accept("password123"),
        )
        .await;
    assert_eq!(status_of(weak), (400, ErrorCode::InvalidInput));
    let ok = app
        .client
        .send_json(
            Method::POST,
            "/api/invitations/accept",
            &accept("violet kettle under a quiet moon"),
        )
        .await
        .unwrap();
    assert_eq!(
        ok["session"]["restricted"], true,
        "the tenant requires a second factor"
    );
    let again = app
        .client
        .send_json(
            Method::POST,
            "/api/invitations/accept",
            &accept("violet kettle under a quiet moon"),
        )
        .await;
    assert_eq!(status_of(again), (401, ErrorCode::InvalidCredentials));
}

#[tokio::test]
async fn api_tokens_are_scoped_and_revocable() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "admin@acme.com", "admin").await;
    let admin = app.login(&acme, "admin@acme.com").await;
    let created = admin
        .send_json(
            Method::POST,
            &format!("/api/tenants/{}/api-tokens", acme.id),
            &serde_json::json!({"name": "ci bot", "expires_in_days": 30}),
        )
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("sd_api_"));
    let bot = app.client.clone().with_token(token);
    bot.get_json(&format!("/api/tenants/{}/staff", acme.id))
        .await
        .unwrap();
    assert_eq!(
        status_of(bot.sessions().await),
        (403, ErrorCode::Forbidden),
        "tokens cannot manage accounts"
    );
    let id = created["id"].as_str().unwrap();
    admin
        .send_json(
            Method::DELETE,
            &format!("/api/tenants/{}/api-tokens/{id}", acme.id),
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    assert_eq!(
        status_of(
            bot.get_json(&format!("/api/tenants/{}/staff", acme.id))
                .await
        )
        .0,
        401
    );
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    let owner = app.staff(&acme, "owner@acme.com", "owner").await;
    let client = app.login(&acme, "owner@acme.com").await;
    let path = format!("/api/tenants/{}/staff/{}/role", acme.id, owner.id);
    let r = client
        .send_json(Method::PUT, &path, &serde_json::json!({"role": "admin"}))
        .await;
    match r {
        Err(ClientError::Api { status, body }) => {
            assert_eq!((status, body.code), (409, ErrorCode::Conflict));
            assert_eq!(body.message, "a tenant keeps at least one owner");
        }
        other => panic!("expected 409, got {other:?}"),
    }
    assert_eq!(
        app.store
            .get_staff(acme.id, owner.id)
            .await
            .unwrap()
            .role
            .as_str(),
        "owner"
    );
}

/// Sensitive actions of the matrix need a fresh proof of identity even where the handler does
/// not ask for it: revoking an API token (`ManageApiTokens`) ten minutes after login.
#[tokio::test]
async fn sensitive_actions_need_recent_authentication_everywhere() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "admin@acme.com", "admin").await;
    let admin = app.login(&acme, "admin@acme.com").await;
    let created = admin
        .send_json(
            Method::POST,
            &format!("/api/tenants/{}/api-tokens", acme.id),
            &serde_json::json!({"name": "bot", "expires_in_days": 1}),
        )
        .await
        .unwrap();
    app.clock.advance(std::time::Duration::from_mins(10));
    let revoke = format!(
        "/api/tenants/{}/api-tokens/{}",
        acme.id,
        created["id"].as_str().unwrap()
    );
    let r = admin
        .send_json(Method::DELETE, &revoke, &serde_json::json!({}))
        .await;
    assert_eq!(status_of(r), (401, ErrorCode::ReauthenticationRequired));
    // Non-sensitive actions are unaffected.
    admin
        .get_json(&format!("/api/tenants/{}/staff", acme.id))
        .await
        .unwrap();
}
