//! Erasing a tenant, and inbox identity settings.

use bytes::Bytes;
use sealdesk_core::domain::{ConversationChange, EntryKind, NewEntry, Party};

use super::desk::Desk;
use crate::{
    Attachment, ConversationFilter, IdentityKeyKind, InboxIdentity, Store, StoreError, Uploader,
};

/// `delete_tenant` removes everything the tenant owns and nothing of another tenant; the
/// blobs it alone referenced are reported, shared ones are not; the audit chain still
/// verifies.
pub async fn delete_tenant_erases_only_that_tenant(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let mine = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let theirs = desk.open(store, desk.globex, desk.help, desk.gus).await;
    for (tenant, c, who) in [
        (desk.acme, mine.id, Party::Visitor(desk.alice)),
        (desk.globex, theirs.id, Party::Visitor(desk.gus)),
    ] {
        let outcomes = store
            .append_batch(&[NewEntry {
                tenant_id: tenant,
                conversation_id: c,
                sender: who,
                kind: EntryKind::Application,
                client_msg_id: None,
                payload: Bytes::from_static(b"ciphertext"),
                at: desk.tick(),
            }])
            .await
            .unwrap();
        assert_eq!(outcomes.len(), 1);
    }
    store
        .change_conversation(
            desk.acme,
            mine.id,
            &ConversationChange::claim(desk.omar, desk.tick()),
            None,
        )
        .await
        .unwrap();
    let only_mine = desk.digest();
    let shared = desk.digest();
    for (tenant, c, blob, uploader) in [
        (desk.acme, mine.id, only_mine, Uploader::Visitor(desk.alice)),
        (desk.acme, mine.id, shared, Uploader::Visitor(desk.alice)),
        (desk.globex, theirs.id, shared, Uploader::Visitor(desk.gus)),
    ] {
        store
            .add_attachment(&Attachment {
                tenant_id: tenant,
                conversation_id: c,
                sha256: blob,
                size: 3,
                uploaded_by: uploader,
                created_at: desk.tick(),
            })
            .await
            .unwrap();
    }
    let deleted = store.delete_tenant(desk.acme).await.unwrap();
    assert_eq!(deleted.entries, 1);
    assert_eq!(deleted.orphaned_blobs, vec![only_mine]);
    assert!(matches!(
        store.get_tenant(desk.acme).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.list_staff(desk.acme).await.unwrap().is_empty());
    assert!(store.list_teams(desk.acme).await.unwrap().is_empty());
    assert!(
        store
            .list_conversations(
                desk.acme,
                &ConversationFilter {
                    limit: 10,
                    ..ConversationFilter::default()
                }
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.read_log(desk.acme, mine.id, 0, 10).await,
        Err(StoreError::NotFound)
    ));
    // The other tenant is untouched.
    assert_eq!(
        store
            .read_log(desk.globex, theirs.id, 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.blob_referenced(&shared).await.unwrap());
    assert!(store.get_tenant(desk.globex).await.is_ok());
    assert!(matches!(
        store.delete_tenant(desk.acme).await,
        Err(StoreError::NotFound)
    ));
}

/// Inbox identity settings: set, replace, scoped to the tenant, secrets listed for rotation
/// and replaced only if unchanged.
pub async fn inbox_identity_round_trip(store: &dyn Store) {
    let desk = Desk::new(store).await;
    assert!(
        store
            .get_inbox_identity(desk.acme, desk.sales)
            .await
            .unwrap()
            .is_none()
    );
    let hs = InboxIdentity {
        tenant_id: desk.acme,
        team_id: desk.sales,
        kind: IdentityKeyKind::Hs256,
        key: b"sealed-secret".to_vec(),
        required: true,
        updated_at: super::data::ms(desk.tick()),
    };
    store.set_inbox_identity(&hs).await.unwrap();
    assert_eq!(
        store
            .get_inbox_identity(desk.acme, desk.sales)
            .await
            .unwrap(),
        Some(hs.clone())
    );
    // Another tenant can neither see nor overwrite it, nor attach settings to a foreign team.
    assert!(
        store
            .get_inbox_identity(desk.globex, desk.sales)
            .await
            .unwrap()
            .is_none()
    );
    let foreign = InboxIdentity {
        tenant_id: desk.globex,
        ..hs.clone()
    };
    assert!(matches!(
        store.set_inbox_identity(&foreign).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .get_inbox_identity(desk.acme, desk.sales)
            .await
            .unwrap(),
        Some(hs.clone())
    );
    let secrets = store.list_inbox_secrets().await.unwrap();
    assert_eq!(
        secrets,
        vec![(desk.acme, desk.sales, b"sealed-secret".to_vec())]
    );
    assert!(
        !store
            .replace_inbox_secret(desk.acme, desk.sales, b"stale", b"x")
            .await
            .unwrap()
    );
    assert!(
        store
            .replace_inbox_secret(desk.acme, desk.sales, b"sealed-secret", b"resealed")
            .await
            .unwrap()
    );
    let ed = InboxIdentity {
        kind: IdentityKeyKind::Ed25519,
        key: vec![1; 32],
        required: false,
        updated_at: super::data::ms(desk.tick()),
        ..hs
    };
    store.set_inbox_identity(&ed).await.unwrap();
    assert_eq!(
        store
            .get_inbox_identity(desk.acme, desk.sales)
            .await
            .unwrap(),
        Some(ed)
    );
    assert!(
        store.list_inbox_secrets().await.unwrap().is_empty(),
        "public keys are not secrets"
    );
    assert!(
        !store
            .clear_inbox_identity(desk.globex, desk.sales)
            .await
            .unwrap()
    );
    assert!(
        store
            .clear_inbox_identity(desk.acme, desk.sales)
            .await
            .unwrap()
    );
    assert!(
        store
            .get_inbox_identity(desk.acme, desk.sales)
            .await
            .unwrap()
            .is_none()
    );
}
