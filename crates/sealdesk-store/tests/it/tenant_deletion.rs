//! Deleting a tenant row behind the store's back (the store has no tenant deletion yet; an
//! operator or a future erase command would do this) removes everything of its conversations
//! on both backends, including rows whose staff references deliberately do not cascade, and
//! leaves the other tenant's as they were. The backends' test files run the raw DELETE.

use bytes::Bytes;
use sealdesk_core::auth::Digest;
use sealdesk_core::domain::{
    ConversationChange, EntryKind, NewConversation, NewEntry, NewVisitor, Party, Role,
    VisitorTicket,
};
use sealdesk_core::routing::Availability;
use sealdesk_proto::{CannedResponseId, ConversationId, TeamId, TenantId, VisitorId};
use sealdesk_store::contract::TestData;
use sealdesk_store::{Attachment, CannedResponse, Store, StoreError, Uploader};

/// What one tenant's conversation world consists of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct World {
    pub(crate) tenant: TenantId,
    team: TeamId,
    conversation: ConversationId,
    ticket: Digest,
    blob: Digest,
}

/// A tenant with a team, an agent (member, available, assignee of a conversation with log
/// entries, a note, a participant row, an attachment), a canned response and a visitor ticket.
pub(crate) async fn world(store: &dyn Store, data: &TestData, name: &str) -> World {
    let domain = format!("{}.example", name.to_lowercase());
    let tenant = data.tenant(name, &[&domain], &[]);
    store.create_tenant(&tenant).await.unwrap();
    let team = data.team(tenant.id, "Support");
    store.create_team(&team).await.unwrap();
    let agent = data.staff(tenant.id, &format!("agent@{domain}"), Role::Agent, None);
    store.create_staff(&agent).await.unwrap();
    let visitor = store
        .create_visitor(&NewVisitor {
            id: VisitorId::from_uuid(data.uuid()),
            tenant_id: tenant.id,
            team_id: team.id,
            key_hash: data.digest(),
            external_id: None,
            created_at: data.now(),
        })
        .await
        .unwrap();
    let ticket = VisitorTicket {
        token_hash: data.digest(),
        visitor_id: visitor.id,
        tenant_id: tenant.id,
        team_id: team.id,
        created_at: data.now(),
        expires_at: data.now() + time::Duration::hours(1),
    };
    store.create_ticket(&ticket).await.unwrap();
    let conversation = store
        .create_conversation(&NewConversation {
            id: ConversationId::from_uuid(data.uuid()),
            tenant_id: tenant.id,
            team_id: team.id,
            visitor_id: visitor.id,
            reopened_from: None,
            consent_notice: None,
            created_at: data.now(),
        })
        .await
        .unwrap();
    let (t, c) = (tenant.id, conversation.id);
    store.add_team_member(t, team.id, agent.id).await.unwrap();
    store
        .set_availability(t, agent.id, Availability::Online, 3, data.now())
        .await
        .unwrap();
    let claim = ConversationChange::claim(agent.id, data.now());
    store.change_conversation(t, c, &claim, None).await.unwrap();
    let entries: Vec<NewEntry> = (0..3)
        .map(|i| NewEntry {
            tenant_id: t,
            conversation_id: c,
            sender: Party::Staff(agent.id),
            kind: EntryKind::Application,
            client_msg_id: None,
            payload: Bytes::from(vec![i; 16]),
            at: data.now(),
        })
        .collect();
    store.append_batch(&entries).await.unwrap();
    store
        .add_note(t, c, agent.id, b"note", data.now())
        .await
        .unwrap();
    store
        .add_participant(t, c, agent.id, data.now())
        .await
        .unwrap();
    let blob = data.digest();
    store
        .add_attachment(&Attachment {
            tenant_id: t,
            conversation_id: c,
            sha256: blob,
            size: 1,
            uploaded_by: Uploader::Staff(agent.id),
            created_at: data.now(),
        })
        .await
        .unwrap();
    store
        .create_canned_response(&CannedResponse {
            id: CannedResponseId::from_uuid(data.uuid()),
            tenant_id: t,
            team_id: team.id,
            payload: Bytes::from_static(b"hi"),
            created_by: agent.id,
            created_at: data.now(),
        })
        .await
        .unwrap();
    World {
        tenant: t,
        team: team.id,
        conversation: c,
        ticket: ticket.token_hash,
        blob,
    }
}

/// After `gone`'s tenant row was deleted: nothing of it is left; `kept` is whole.
pub(crate) async fn check(store: &dyn Store, gone: World, kept: World) {
    assert!(matches!(
        store.get_conversation(gone.tenant, gone.conversation).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.find_ticket(&gone.ticket).await.unwrap().is_none());
    assert!(!store.blob_referenced(&gone.blob).await.unwrap());
    assert!(
        store
            .team_members(gone.tenant, gone.team)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_canned_responses(gone.tenant, gone.team)
            .await
            .unwrap()
            .is_empty()
    );

    let log = store
        .read_log(kept.tenant, kept.conversation, 0, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(
        store
            .list_notes(kept.tenant, kept.conversation)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.find_ticket(&kept.ticket).await.unwrap().is_some());
    assert!(store.blob_referenced(&kept.blob).await.unwrap());
    assert_eq!(
        store.team_loads(kept.tenant, kept.team).await.unwrap()[0].active,
        1
    );
    assert_eq!(
        store
            .list_canned_responses(kept.tenant, kept.team)
            .await
            .unwrap()
            .len(),
        1
    );
}
