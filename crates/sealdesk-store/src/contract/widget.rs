//! Contract cases for an inbox's widget settings (privacy notice, pre-chat fields) and the
//! consent a conversation records.

use sealdesk_proto::widget::{InboxWidgetSettings, PrechatField, PrechatKind, PrivacyNotice};

use super::assert_not_found;
use super::desk::Desk;
use crate::{InboxWidget, Store};

fn widget(desk: &Desk, version: Option<&str>, fields: usize) -> InboxWidget {
    InboxWidget {
        tenant_id: desk.acme,
        team_id: desk.support,
        settings: InboxWidgetSettings {
            privacy_notice: version.map(|v| PrivacyNotice {
                version: v.to_owned(),
                text: format!("We keep chats for 30 days ({v})."),
                url: (v == "2").then(|| "https://acme.example/privacy".to_owned()),
            }),
            prechat_fields: (0..fields)
                .map(|i| PrechatField {
                    name: format!("field_{i}"),
                    label: format!("Field {i}"),
                    kind: if i % 2 == 0 {
                        PrechatKind::Email
                    } else {
                        PrechatKind::Textarea
                    },
                    required: i == 0,
                })
                .collect(),
        },
        // Stored to the millisecond.
        updated_at: sealdesk_core::clock::from_unix_ms(sealdesk_core::clock::to_unix_ms(
            desk.now(),
        )),
    }
}

/// Set, read back, replace; other tenants' teams are out of reach; consent is kept on the
/// conversation; the settings go with the tenant.
pub async fn inbox_widget_round_trips_and_records_consent(store: &dyn Store) {
    let desk = Desk::new(store).await;
    assert_eq!(
        store
            .get_inbox_widget(desk.acme, desk.support)
            .await
            .unwrap(),
        None
    );
    let first = widget(&desk, Some("1"), 2);
    store.set_inbox_widget(&first).await.unwrap();
    assert_eq!(
        store
            .get_inbox_widget(desk.acme, desk.support)
            .await
            .unwrap(),
        Some(first)
    );
    let second = widget(&desk, Some("2"), 0);
    store.set_inbox_widget(&second).await.unwrap();
    assert_eq!(
        store
            .get_inbox_widget(desk.acme, desk.support)
            .await
            .unwrap(),
        Some(second.clone())
    );
    let without_notice = widget(&desk, None, 1);
    store.set_inbox_widget(&without_notice).await.unwrap();
    assert_eq!(
        store
            .get_inbox_widget(desk.acme, desk.support)
            .await
            .unwrap(),
        Some(without_notice)
    );

    // Another tenant can neither write nor read the team's settings.
    let mut stolen = second.clone();
    stolen.tenant_id = desk.globex;
    assert_not_found(store.set_inbox_widget(&stolen).await);
    assert_eq!(
        store
            .get_inbox_widget(desk.globex, desk.support)
            .await
            .unwrap(),
        None
    );

    // The accepted version is stored with the conversation and read back.
    let mut new = desk.new_conversation(desk.acme, desk.support, desk.alice, None);
    new.consent_notice = Some("2".to_owned());
    let created = store.create_conversation(&new).await.unwrap();
    assert_eq!(created.consent_notice.as_deref(), Some("2"));
    let read = store.get_conversation(desk.acme, new.id).await.unwrap();
    assert_eq!(read, created);

    store.delete_tenant(desk.acme).await.unwrap();
    assert_eq!(
        store
            .get_inbox_widget(desk.acme, desk.support)
            .await
            .unwrap(),
        None
    );
}
