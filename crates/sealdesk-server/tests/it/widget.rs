//! An inbox's widget settings: admins set the privacy notice and the pre-chat fields, the
//! widget reads them from its public configuration, and a conversation opens only with the
//! current notice accepted, which the conversation then records.

use sealdesk_client::{Client, ClientError};
use sealdesk_core::audit::AuditAction;
use sealdesk_proto::ErrorCode;
use sealdesk_proto::conversations::OpenConversation;
use sealdesk_proto::widget::{
    Consent, InboxWidgetSettings, PrechatField, PrechatKind, PrivacyNotice,
};
use sealdesk_testkit::{TestApp, spawn_app};

use super::conversations::{Desk, desk, visitor};

fn error_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode, Option<String>) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body.code, body.field),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn settings(version: &str) -> InboxWidgetSettings {
    InboxWidgetSettings {
        privacy_notice: Some(PrivacyNotice {
            version: version.to_owned(),
            text: "Acme keeps chats for 30 days. <b>Ask</b> us to delete yours.".to_owned(),
            url: Some("https://acme.example/privacy".to_owned()),
        }),
        prechat_fields: vec![
            PrechatField {
                name: "email".to_owned(),
                label: "Your email".to_owned(),
                kind: PrechatKind::Email,
                required: true,
            },
            PrechatField {
                name: "order".to_owned(),
                label: "Order number".to_owned(),
                kind: PrechatKind::Text,
                required: false,
            },
        ],
    }
}

async fn admin(app: &TestApp, desk: &Desk) -> Client {
    app.staff(&desk.tenant, "root@acme.example", "admin").await;
    app.login(&desk.tenant, "root@acme.example").await
}

fn consent(version: &str) -> OpenConversation {
    OpenConversation {
        reopen: None,
        consent: Some(Consent {
            notice_version: version.to_owned(),
        }),
    }
}

#[tokio::test]
async fn a_conversation_opens_only_with_the_current_notice_accepted() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &["jane@acme.example"]).await;
    let admin = admin(&app, &desk).await;
    let (tenant, team) = (desk.tenant.id, desk.team.id);

    // Without settings the widget asks nothing, and no consent is recorded.
    let config = app.client.widget_config(tenant, team).await.unwrap();
    assert_eq!(config.privacy_notice, None);
    assert!(config.prechat_fields.is_empty());
    assert!(config.root_keys.is_empty());
    let first = visitor(&app, &desk).await;
    let opened = first.http.open_conversation(None).await.unwrap();
    assert_eq!(opened.consent_notice, None);

    let stored = admin
        .set_widget_settings(tenant, team, &settings("2026-11"))
        .await
        .unwrap();
    assert_eq!(stored, settings("2026-11"));
    assert_eq!(
        admin.widget_settings(tenant, team).await.unwrap(),
        settings("2026-11")
    );
    let config = app.client.widget_config(tenant, team).await.unwrap();
    assert_eq!(config.privacy_notice, settings("2026-11").privacy_notice);
    assert_eq!(config.prechat_fields, settings("2026-11").prechat_fields);

    // No consent, or consent to another version: refused with a stable code.
    let second = visitor(&app, &desk).await;
    for request in [OpenConversation::default(), consent("2025-01"), consent("")] {
        assert_eq!(
            error_of(second.http.open_conversation_with(&request).await),
            (400, ErrorCode::ConsentRequired, None)
        );
    }
    let accepted = second
        .http
        .open_conversation_with(&consent("2026-11"))
        .await
        .unwrap();
    assert_eq!(accepted.consent_notice.as_deref(), Some("2026-11"));
    // Staff see which version the visitor accepted.
    let agent = &desk.agents[0].1;
    let seen = agent.conversation(tenant, accepted.id).await.unwrap();
    assert_eq!(seen.consent_notice.as_deref(), Some("2026-11"));

    // A new version: the old acceptance no longer opens a conversation.
    admin
        .set_widget_settings(tenant, team, &settings("2026-12"))
        .await
        .unwrap();
    assert_eq!(
        error_of(
            second
                .http
                .open_conversation_with(&consent("2026-11"))
                .await
        )
        .1,
        ErrorCode::ConsentRequired
    );
    let renewed = second
        .http
        .open_conversation_with(&consent("2026-12"))
        .await
        .unwrap();
    assert_eq!(renewed.consent_notice.as_deref(), Some("2026-12"));

    // Each change is audited, content-free.
    let changes: Vec<_> = app
        .store
        .list_audit(Some(tenant), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.event.action == AuditAction::SettingsChanged && r.event.details["changed"] == "widget"
        })
        .collect();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1].event.details["notice_version"], "2026-12");
    assert_eq!(changes[1].event.details["prechat_fields"], "2");
}

#[tokio::test]
async fn only_admins_of_the_tenant_change_settings_and_bad_ones_name_the_field() {
    let app = spawn_app().await;
    let acme = desk(&app, "Acme", "acme.example", &["jane@acme.example"]).await;
    let globex = desk(&app, "Globex", "globex.example", &[]).await;
    let admin = admin(&app, &acme).await;
    let (tenant, team) = (acme.tenant.id, acme.team.id);

    // An agent may read them (the console shows them) but not change them.
    let agent = &acme.agents[0].1;
    assert_eq!(
        agent.widget_settings(tenant, team).await.unwrap(),
        InboxWidgetSettings::default()
    );
    assert_eq!(
        error_of(
            agent
                .set_widget_settings(tenant, team, &settings("1"))
                .await
        )
        .1,
        ErrorCode::Forbidden
    );
    // Another tenant's team is not found, through either tenant's path.
    assert_eq!(
        error_of(
            admin
                .set_widget_settings(tenant, globex.team.id, &settings("1"))
                .await
        )
        .1,
        ErrorCode::NotFound
    );
    assert_eq!(
        error_of(
            admin
                .set_widget_settings(globex.tenant.id, globex.team.id, &settings("1"))
                .await
        )
        .0,
        404
    );

    let mut bad = settings("1");
    bad.privacy_notice.as_mut().unwrap().url = Some("javascript:alert(1)".to_owned());
    assert_eq!(
        error_of(admin.set_widget_settings(tenant, team, &bad).await),
        (
            400,
            ErrorCode::InvalidInput,
            Some("privacy_notice.url".to_owned())
        )
    );
    let mut twice = settings("1");
    twice.prechat_fields[1].name = "email".to_owned();
    assert_eq!(
        error_of(admin.set_widget_settings(tenant, team, &twice).await).2,
        Some("prechat_fields.name".to_owned())
    );
    // Nothing was stored by the refused requests.
    assert_eq!(
        admin.widget_settings(tenant, team).await.unwrap(),
        InboxWidgetSettings::default()
    );
}

/// "Delete this conversation" from the widget: the conversation closes, staff see the
/// request, and the next retention sweep deletes it although the tenant keeps conversations
/// for 30 days; nobody else can ask for it.
#[tokio::test]
async fn a_visitor_can_have_their_conversation_deleted() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &["jane@acme.example"]).await;
    let tenant = desk.tenant.id;
    let v = visitor(&app, &desk).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    let kept = v.http.open_conversation(None).await.unwrap().id;
    v.http.visitor_close(kept).await.unwrap();
    let stranger = visitor(&app, &desk).await;
    assert_eq!(
        error_of(stranger.http.visitor_request_erasure(c).await).1,
        ErrorCode::NotFound
    );

    let requested = v.http.visitor_request_erasure(c).await.unwrap();
    assert_eq!(requested.state, "closed");
    assert!(requested.erasure_requested_at.is_some());
    // Asking again changes nothing.
    let again = v.http.visitor_request_erasure(c).await.unwrap();
    assert_eq!(again.erasure_requested_at, requested.erasure_requested_at);
    assert_eq!(
        app.store
            .get_conversation(tenant, c)
            .await
            .unwrap()
            .erasure_requested_at
            .map(time::OffsetDateTime::unix_timestamp),
        requested
            .erasure_requested_at
            .map(time::OffsetDateTime::unix_timestamp)
    );

    let report = sealdesk_server::app::retention::sweep(&app.state)
        .await
        .unwrap();
    assert_eq!(report.conversations, 1);
    assert!(matches!(
        app.store.get_conversation(tenant, c).await,
        Err(sealdesk_store::StoreError::NotFound)
    ));
    // The other closed conversation waits for its retention period.
    app.store.get_conversation(tenant, kept).await.unwrap();
    let audit = app.store.list_audit(Some(tenant), 0, 100).await.unwrap();
    let actions: Vec<AuditAction> = audit.iter().map(|r| r.event.action).collect();
    assert!(actions.contains(&AuditAction::ErasureRequested));
    assert!(actions.contains(&AuditAction::Erased));
    assert!(!actions.contains(&AuditAction::RetentionDeleted));
}

/// The origins allowed to embed the widget: admins replace them (normalised, audited), the
/// ticket endpoint follows at once, bad origins name the field, agents cannot.
#[tokio::test]
async fn admins_choose_the_pages_that_may_embed_the_widget() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &["jane@acme.example"]).await;
    let admin = admin(&app, &desk).await;
    let tenant = desk.tenant.id;
    let ticket_from = |origin: &'static str| {
        let url = format!("{}/api/widget/{}/{}/tickets", app.url, tenant, desk.team.id);
        async move {
            reqwest::Client::new()
                .post(url)
                .header("origin", origin)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(ticket_from("https://shop.acme.example").await, 403);
    let stored = admin
        .set_widget_origins(
            tenant,
            &["https://SHOP.acme.example", "https://shop.acme.example"],
        )
        .await
        .unwrap();
    assert_eq!(stored.origins, ["https://shop.acme.example"]);
    assert_eq!(ticket_from("https://shop.acme.example").await, 200);
    assert_eq!(ticket_from("https://evil.example").await, 403);

    for bad in [
        "https://*.acme.example",
        "https://shop.acme.example/page",
        "ftp:/x",
    ] {
        assert_eq!(
            error_of(admin.set_widget_origins(tenant, &[bad]).await).1,
            ErrorCode::InvalidInput,
            "{bad}"
        );
    }
    assert_eq!(
        error_of(
            desk.agents[0]
                .1
                .set_widget_origins(tenant, &["https://x.example"])
                .await
        )
        .1,
        ErrorCode::Forbidden
    );
    // Emptied: no browser page may embed it any more.
    admin.set_widget_origins(tenant, &[]).await.unwrap();
    assert_eq!(ticket_from("https://shop.acme.example").await, 403);
    let changes = app
        .store
        .list_audit(Some(tenant), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.event
                .details
                .get("changed")
                .is_some_and(|c| c == "widget_origins")
        })
        .count();
    assert_eq!(changes, 2);
}
