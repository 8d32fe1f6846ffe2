//! Passkeys through real HTTP, with webauthn-authenticator-rs's software passkey acting as
//! browser and authenticator: registration, passwordless and password + passkey login,
//! replay and cross-account/cross-tenant refusal, removal, and enumeration resistance.

use reqwest::Method;
use sealdesk_client::{Client, ClientError};
use sealdesk_core::domain::Tenant;
use sealdesk_proto::ErrorCode;
use sealdesk_testkit::{GOOD_PASSWORD, TenantSpec, TestApp, spawn_app};
use serde_json::{Value, json};
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse, Url,
    WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

/// A software authenticator that performs user verification (as a platform authenticator
/// does after a PIN or biometric check); `SoftPasskey::new(true)` sets the UV flag.
pub(crate) fn authenticator() -> SoftPasskey {
    SoftPasskey::new(true)
}

fn origin(app: &TestApp) -> Url {
    Url::parse(&format!("http://localhost:{}", app.addr.port())).unwrap()
}

fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Registers a passkey for the logged-in `client`; returns the stored view and the raw
/// credential id.
pub(crate) async fn register(
    app: &TestApp,
    client: &Client,
    key: &mut SoftPasskey,
    name: &str,
) -> Value {
    let start = client
        .send_json(
            Method::POST,
            "/api/account/passkeys/register/start",
            &json!({}),
        )
        .await
        .unwrap();
    let options: CreationChallengeResponse =
        serde_json::from_value(start["options"].clone()).unwrap();
    assert_eq!(options.public_key.rp.id, "localhost");
    let credential = key.do_registration(origin(app), options).unwrap();
    let mut view = client
        .send_json(
            Method::POST,
            "/api/account/passkeys/register/finish",
            &json!({"ceremony_id": start["ceremony_id"], "name": name, "credential": credential}),
        )
        .await
        .unwrap();
    view["credential_id"] = json!(credential.id);
    view
}

/// Starts a passkey login; returns the ceremony id and the options.
async fn start(app: &TestApp, tenant: &Tenant, email: Option<&str>) -> (Value, Value) {
    let body = match email {
        Some(e) => json!({"tenant_id": tenant.id, "email": e}),
        None => json!({"tenant_id": tenant.id}),
    };
    let r = app
        .client
        .send_json(Method::POST, "/api/auth/passkey/start", &body)
        .await
        .unwrap();
    (r["ceremony_id"].clone(), r["options"].clone())
}

/// Signs `options` with `key`. With `credential_id`, that credential is put in
/// `allowCredentials` first: the software passkey has no resident keys, so this stands in
/// for a discoverable credential, or for a client that offers a credential of its choice.
pub(crate) fn sign(
    app: &TestApp,
    key: &mut SoftPasskey,
    mut options: Value,
    credential_id: Option<&Value>,
) -> PublicKeyCredential {
    if let Some(id) = credential_id {
        options["publicKey"]["allowCredentials"] = json!([{"type": "public-key", "id": id}]);
        options.as_object_mut().unwrap().remove("mediation");
    }
    let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    key.do_authentication(origin(app), options).unwrap()
}

async fn finish(
    app: &TestApp,
    ceremony_id: &Value,
    credential: &PublicKeyCredential,
    password: Option<&str>,
) -> Result<Value, ClientError> {
    let mut body = json!({"ceremony_id": ceremony_id, "credential": credential, "client": "cli"});
    if let Some(p) = password {
        body["password"] = json!(p);
    }
    app.client
        .send_json(Method::POST, "/api/auth/passkey/finish", &body)
        .await
}

fn session_client(app: &TestApp, login: &Value) -> Client {
    app.client
        .clone()
        .with_token(login["token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn register_then_log_in_without_password() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    let mut key = authenticator();
    let view = register(&app, &jane, &mut key, "Laptop").await;
    assert_eq!(view["name"], "Laptop");
    let listed = jane.get_json("/api/account/passkeys").await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0]["last_used_at"].is_null());
    assert!(jane.session().await.unwrap().second_factor);

    // Passwordless, naming the account.
    let (ceremony, options) = start(&app, &acme, Some("jane@acme.com")).await;
    assert!(options.get("mediation").is_none());
    let assertion = sign(&app, &mut key, options, None);
    let login = finish(&app, &ceremony, &assertion, None).await.unwrap();
    assert_eq!(login["session"]["staff"]["email"], "jane@acme.com");
    assert_eq!(login["session"]["second_factor"], true);
    assert_eq!(login["session"]["restricted"], false);
    let session = session_client(&app, &login).session().await.unwrap();
    assert_eq!(session.staff.email, "jane@acme.com");

    // Discoverable (username-less): the credential names the account.
    let (ceremony, options) = start(&app, &acme, None).await;
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]));
    let assertion = sign(&app, &mut key, options, Some(&view["credential_id"]));
    let login = finish(&app, &ceremony, &assertion, None).await.unwrap();
    assert_eq!(login["session"]["staff"]["email"], "jane@acme.com");

    let listed = jane.get_json("/api/account/passkeys").await.unwrap();
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
    let audit = app.store.list_audit(Some(acme.id), 0, 100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.event.action.as_str() == "passkey_added")
    );
}

#[tokio::test]
async fn password_and_passkey_satisfy_a_tenant_requiring_two_factors() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::strict("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "admin").await;
    let enrol_only = app.login(&acme, "jane@acme.com").await;
    assert!(enrol_only.session().await.unwrap().restricted);
    let mut key = authenticator();
    register(&app, &enrol_only, &mut key, "Phone").await;

    // The password alone no longer logs in: the account has a second factor.
    let (status, code) = code_of(
        app.client
            .login(&TestApp::login_request(&acme, "jane@acme.com"))
            .await,
    );
    assert_eq!((status, code), (401, ErrorCode::InvalidCredentials));

    // A wrong password with a valid passkey is refused.
    let (ceremony, options) = start(&app, &acme, Some("jane@acme.com")).await;
    let assertion = sign(&app, &mut key, options, None);
    let wrong = finish(&app, &ceremony, &assertion, Some("not the password at all")).await;
    assert_eq!(code_of(wrong), (401, ErrorCode::InvalidCredentials));

    let (ceremony, options) = start(&app, &acme, Some("jane@acme.com")).await;
    let assertion = sign(&app, &mut key, options, None);
    let login = finish(&app, &ceremony, &assertion, Some(GOOD_PASSWORD))
        .await
        .unwrap();
    assert_eq!(login["session"]["restricted"], false);
    assert_eq!(login["session"]["second_factor"], true);
    let jane = session_client(&app, &login);
    jane.get_json(&format!("/api/tenants/{}/staff", acme.id))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    let mut key = authenticator();
    register(&app, &jane, &mut key, "Laptop").await;
    let (ceremony, options) = start(&app, &acme, Some("jane@acme.com")).await;
    let assertion = sign(&app, &mut key, options, None);
    finish(&app, &ceremony, &assertion, None).await.unwrap();
    // Same ceremony again: it was used.
    let again = finish(&app, &ceremony, &assertion, None).await;
    assert_eq!(code_of(again), (401, ErrorCode::InvalidCredentials));
    // The old assertion on a new ceremony: its challenge does not match.
    let (fresh, _) = start(&app, &acme, Some("jane@acme.com")).await;
    let replay = finish(&app, &fresh, &assertion, None).await;
    assert_eq!(code_of(replay), (401, ErrorCode::InvalidCredentials));
    // A ceremony answered after its five minutes: expired.
    let (late, options) = start(&app, &acme, Some("jane@acme.com")).await;
    app.clock.advance(std::time::Duration::from_mins(6));
    let assertion = sign(&app, &mut key, options, None);
    let expired = finish(&app, &late, &assertion, None).await;
    assert_eq!(code_of(expired), (401, ErrorCode::InvalidCredentials));
    // An unknown ceremony names no tenant, so read the whole log.
    let audit = app.store.list_audit(None, 0, 1000).await.unwrap();
    let reasons: Vec<_> = audit
        .iter()
        .filter_map(|r| r.event.details.get("reason").cloned())
        .collect();
    assert!(
        reasons.contains(&"passkey_ceremony".to_owned()),
        "{reasons:?}"
    );
    assert!(reasons.contains(&"passkey".to_owned()), "{reasons:?}");
}

#[tokio::test]
async fn an_assertion_for_another_accounts_challenge_is_refused() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    app.staff(&acme, "omar@acme.com", "agent").await;
    let (mut jane_key, mut omar_key) = (authenticator(), authenticator());
    let jane = app.login(&acme, "jane@acme.com").await;
    register(&app, &jane, &mut jane_key, "Jane's").await;
    let omar = app.login(&acme, "omar@acme.com").await;
    let omar_view = register(&app, &omar, &mut omar_key, "Omar's").await;

    // Omar answers the challenge issued for Jane with his own (valid) passkey.
    let (ceremony, options) = start(&app, &acme, Some("jane@acme.com")).await;
    let assertion = sign(
        &app,
        &mut omar_key,
        options,
        Some(&omar_view["credential_id"]),
    );
    let refused = finish(&app, &ceremony, &assertion, None).await;
    assert_eq!(code_of(refused), (401, ErrorCode::InvalidCredentials));

    // Omar's answer to Jane's challenge, replayed on Omar's own ceremony: wrong challenge.
    let (own, _) = start(&app, &acme, Some("omar@acme.com")).await;
    let refused = finish(&app, &own, &assertion, None).await;
    assert_eq!(code_of(refused), (401, ErrorCode::InvalidCredentials));
}

#[tokio::test]
async fn a_credential_of_one_tenant_does_not_work_for_another() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    let globex = app
        .tenant(TenantSpec::relaxed("Globex", "globex.com"))
        .await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    app.staff(&globex, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    let mut key = authenticator();
    let view = register(&app, &jane, &mut key, "Laptop").await;
    for email in [None, Some("jane@acme.com")] {
        let (ceremony, options) = start(&app, &globex, email).await;
        let assertion = sign(&app, &mut key, options, Some(&view["credential_id"]));
        let refused = finish(&app, &ceremony, &assertion, None).await;
        assert_eq!(code_of(refused), (401, ErrorCode::InvalidCredentials));
    }
}

#[tokio::test]
async fn a_removed_passkey_stops_working() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let jane = app.login(&acme, "jane@acme.com").await;
    let mut key = authenticator();
    let view = register(&app, &jane, &mut key, "Laptop").await;
    let path = format!("/api/account/passkeys/{}", view["id"].as_str().unwrap());
    jane.send_json(Method::DELETE, &path, &json!({}))
        .await
        .unwrap();
    let again = jane.send_json(Method::DELETE, &path, &json!({})).await;
    assert_eq!(code_of(again), (404, ErrorCode::NotFound));
    let listed = jane.get_json("/api/account/passkeys").await.unwrap();
    assert_eq!(listed, json!([]));
    let (ceremony, options) = start(&app, &acme, None).await;
    let assertion = sign(&app, &mut key, options, Some(&view["credential_id"]));
    let refused = finish(&app, &ceremony, &assertion, None).await;
    assert_eq!(code_of(refused), (401, ErrorCode::InvalidCredentials));
    let audit = app.store.list_audit(Some(acme.id), 0, 100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.event.action.as_str() == "passkey_removed")
    );
}

#[tokio::test]
async fn the_last_second_factor_cannot_be_removed_when_required() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::strict("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "admin").await;
    let enrol_only = app.login(&acme, "jane@acme.com").await;
    let mut key = authenticator();
    let view = register(&app, &enrol_only, &mut key, "Phone").await;
    let path = format!("/api/account/passkeys/{}", view["id"].as_str().unwrap());
    let refused = enrol_only
        .send_json(Method::DELETE, &path, &json!({}))
        .await;
    assert_eq!(code_of(refused), (409, ErrorCode::Conflict));
}

#[tokio::test]
async fn login_start_does_not_reveal_accounts() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "jane@acme.com", "agent").await;
    let shape = |options: &Value| {
        let mut keys: Vec<String> = options["publicKey"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        (options.get("mediation").is_some(), keys)
    };
    let (_, unknown) = start(&app, &acme, Some("nobody@acme.com")).await;
    let (_, unknown_again) = start(&app, &acme, Some("nobody@acme.com")).await;
    let (_, no_passkeys) = start(&app, &acme, Some("jane@acme.com")).await;
    let jane = app.login(&acme, "jane@acme.com").await;
    register(&app, &jane, &mut authenticator(), "Laptop").await;
    let (_, real) = start(&app, &acme, Some("jane@acme.com")).await;
    for decoy in [&unknown, &no_passkeys] {
        assert_eq!(shape(decoy), shape(&real));
        assert!(
            !decoy["publicKey"]["allowCredentials"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
    // The same unknown e-mail always gets the same decoy credentials.
    assert_eq!(
        unknown["publicKey"]["allowCredentials"],
        unknown_again["publicKey"]["allowCredentials"]
    );
}
