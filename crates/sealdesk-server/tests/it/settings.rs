//! Tenant settings: who may change them, validation, self-lockout guard, and the audit trail.

use reqwest::Method;
use sealdesk_client::ClientError;
use sealdesk_core::audit::AuditAction;
use sealdesk_proto::ErrorCode;
use sealdesk_testkit::{TenantSpec, spawn_app};
use serde_json::json;

fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn admins_change_settings_and_it_is_audited() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "admin@acme.com", "admin").await;
    app.staff(&acme, "agent@acme.com", "agent").await;
    let admin = app.login(&acme, "admin@acme.com").await;
    let agent = app.login(&acme, "agent@acme.com").await;
    let path = format!("/api/tenants/{}/settings", acme.id);
    let current = admin.get_json(&path).await.unwrap();
    assert_eq!(current["require_second_factor"], false);
    assert_eq!(
        code(agent.get_json(&path).await),
        (403, ErrorCode::Forbidden)
    );

    let mut wanted = current.clone();
    wanted["session_idle_minutes"] = json!(3);
    assert_eq!(
        code(admin.send_json(Method::PUT, &path, &wanted).await),
        (400, ErrorCode::InvalidInput)
    );
    wanted["session_idle_minutes"] = json!(20);
    wanted["staff_ip_allowlist"] = json!(["203.0.113.0/24"]);
    let (status, err) = code(admin.send_json(Method::PUT, &path, &wanted).await);
    assert_eq!(
        (status, err),
        (400, ErrorCode::InvalidInput),
        "an allow-list without the caller's address locks them out"
    );
    wanted["staff_ip_allowlist"] = json!(["127.0.0.0/8", "2001:db8::/32"]);
    wanted["require_second_factor"] = json!(true);
    let updated = admin.send_json(Method::PUT, &path, &wanted).await.unwrap();
    assert_eq!(updated["session_idle_minutes"], 20);
    assert_eq!(
        updated["staff_ip_allowlist"],
        json!(["127.0.0.0/8", "2001:db8::/32"])
    );

    let entry = app
        .store
        .list_audit(Some(acme.id), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .rfind(|r| r.event.action == AuditAction::SettingsChanged)
        .unwrap();
    assert_eq!(
        entry.event.details["changed"],
        "require_second_factor,session_idle_minutes,staff_ip_allowlist"
    );

    // The new policy applies at once: the admin now has to enrol a second factor.
    let again = app.login(&acme, "admin@acme.com").await;
    assert!(again.session().await.unwrap().restricted);
}

#[tokio::test]
async fn stale_sessions_must_reauthenticate_to_change_settings() {
    let app = spawn_app().await;
    let acme = app.tenant(TenantSpec::relaxed("Acme", "acme.com")).await;
    app.staff(&acme, "admin@acme.com", "admin").await;
    let admin = app.login(&acme, "admin@acme.com").await;
    let path = format!("/api/tenants/{}/settings", acme.id);
    let current = admin.get_json(&path).await.unwrap();
    app.clock.advance(std::time::Duration::from_mins(10));
    assert_eq!(
        code(admin.send_json(Method::PUT, &path, &current).await),
        (401, ErrorCode::ReauthenticationRequired)
    );
}
