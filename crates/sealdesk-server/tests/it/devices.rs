//! Device enrolment through a real server: an agent's device registers, an admin certifies it
//! only with the fingerprint the device shows and a chain for exactly its key, team keys reach
//! it as wraps, and a revocation removes its key packages and wraps at once.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::ws::WsClientError;
use sealdesk_client::{Client, ClientError};
use sealdesk_core::audit::AuditAction;
use sealdesk_core::clock::Clock as _;
use sealdesk_mls::certs::{ChainCheck, Role, TrustAnchor};
use sealdesk_mls::{Client as Mls, DeviceSigner, profile};
use sealdesk_proto::ErrorCode;
use sealdesk_proto::devices::{DeviceView, KeyWrapItem};
use sealdesk_proto::ws::WireKind;
use sealdesk_store::{KeyScope, SealingKey};
use sealdesk_testkit::{TestApp, spawn_app};

use crate::conversations::{Desk, desk};
use crate::hierarchy::{Hierarchy, public};

fn error_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode, Option<String>) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body.code, body.field),
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn admin(app: &TestApp, desk: &Desk, email: &str) -> Client {
    app.staff(&desk.tenant, email, "admin").await;
    app.login(&desk.tenant, email).await
}

/// A certified device's MLS client, and one key package of it.
fn key_package(h: &Hierarchy, seed: u8, chain: &[u8]) -> Vec<u8> {
    let anchor = TrustAnchor {
        tenant: [0; 16],
        roots: vec![public(&h.root)],
    };
    let check = Arc::new(ChainCheck::new(anchor, || 0));
    let mut mls = Mls::with_signer(chain, DeviceSigner::from_seed(&[seed; 32]).unwrap(), check);
    mls.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
        .unwrap()
}

#[tokio::test]
async fn a_device_is_certified_only_with_its_fingerprint_and_a_chain_for_its_key() {
    let app = spawn_app().await;
    let acme = desk(&app, "Acme", "acme.example", &["jane@acme.example"]).await;
    let globex = desk(&app, "Globex", "globex.example", &[]).await;
    let admin = admin(&app, &acme, "root@acme.example").await;
    let other_admin = admin_of(&app, &globex).await;
    let h = Hierarchy::register(&app, acme.tenant.id).await;
    let (jane_id, jane) = (&acme.agents[0].0, &acme.agents[0].1);
    let tenant = acme.tenant.id;

    let signer = DeviceSigner::from_seed(&[3; 32]).unwrap();
    let wrap_key = [5u8; 32];
    let pending = jane
        .request_device("Jane's laptop", &public(&signer), &wrap_key)
        .await
        .unwrap();
    assert_eq!(pending.status, "pending");
    assert_eq!(pending.staff_id, *jane_id);
    assert_eq!(pending.credential, None);
    // Not a usable key, or the same key again: refused.
    assert_eq!(
        error_of(jane.request_device("Bad", &[0; 32], &wrap_key).await).2,
        Some("signature_key".into())
    );
    assert_eq!(
        error_of(
            jane.request_device("Again", &public(&signer), &[6; 32])
                .await
        )
        .1,
        ErrorCode::Conflict
    );

    // Agents neither list nor certify; other tenants do not see the device.
    assert_eq!(
        error_of(jane.tenant_devices(tenant, None).await).1,
        ErrorCode::Forbidden
    );
    assert_eq!(
        error_of(other_admin.tenant_devices(tenant, None).await).0,
        404
    );
    let listed = admin.tenant_devices(tenant, Some("pending")).await.unwrap();
    assert_eq!(listed.devices, vec![pending.clone()]);
    assert!(
        admin
            .tenant_devices(tenant, Some("certified"))
            .await
            .unwrap()
            .devices
            .is_empty()
    );

    let chain = h.chain(Role::Agent, public(&signer), "Jane D.");
    // A fingerprint that is not the device's: the admin compared the wrong screen.
    let wrong = pending
        .fingerprint
        .replace(&pending.fingerprint[..4], "0000");
    assert_eq!(
        error_of(
            admin
                .certify_device(tenant, pending.id, &wrong, &chain)
                .await
        ),
        (400, ErrorCode::InvalidInput, Some("fingerprint".into()))
    );
    // A chain for another key, or from an issuing key the root never certified.
    let other_key = h.chain(Role::Agent, [7; 32], "Jane D.");
    assert_eq!(
        error_of(
            admin
                .certify_device(tenant, pending.id, &pending.fingerprint, &other_key)
                .await
        )
        .1,
        ErrorCode::MlsRejected
    );
    let rogue = Hierarchy::rogue(&h);
    let forged = rogue.chain(Role::Agent, public(&signer), "Jane D.");
    assert_eq!(
        error_of(
            admin
                .certify_device(tenant, pending.id, &pending.fingerprint, &forged)
                .await
        )
        .1,
        ErrorCode::MlsRejected
    );
    // Upper case and dashes are the same fingerprint.
    let typed = pending.fingerprint.to_uppercase().replace(' ', "-");
    let certified = admin
        .certify_device(tenant, pending.id, &typed, &chain)
        .await
        .unwrap();
    assert_eq!(certified.status, "certified");
    assert_eq!(certified.credential, Some(STANDARD.encode(&chain)));
    assert_eq!(
        error_of(
            admin
                .certify_device(tenant, pending.id, &pending.fingerprint, &chain)
                .await
        )
        .1,
        ErrorCode::Conflict
    );
    assert_eq!(jane.my_devices().await.unwrap().devices, vec![certified]);
}

async fn admin_of(app: &TestApp, desk: &Desk) -> Client {
    admin(app, desk, "root@globex.example").await
}

/// Registers and certifies Jane's laptop (seed 3), as the first test shows step by step.
async fn enrolled(acme: &Desk, admin: &Client, h: &Hierarchy) -> (DeviceView, Vec<u8>) {
    let signer = DeviceSigner::from_seed(&[3; 32]).unwrap();
    let jane = &acme.agents[0].1;
    let pending = jane
        .request_device("Jane's laptop", &public(&signer), &[5; 32])
        .await
        .unwrap();
    let chain = h.chain(Role::Agent, public(&signer), "Jane D.");
    admin
        .certify_device(acme.tenant.id, pending.id, &pending.fingerprint, &chain)
        .await
        .unwrap();
    (pending, chain)
}

#[tokio::test]
async fn wraps_reach_certified_devices_and_a_revocation_removes_them() {
    let app = spawn_app().await;
    let acme = desk(&app, "Acme", "acme.example", &["jane@acme.example"]).await;
    let admin = admin(&app, &acme, "root@acme.example").await;
    let h = Hierarchy::register(&app, acme.tenant.id).await;
    let jane = &acme.agents[0].1;
    let tenant = acme.tenant.id;
    let (pending, chain) = enrolled(&acme, &admin, &h).await;

    // The certified device publishes key packages.
    let kp = key_package(&h, 3, &chain);
    jane.publish_key_packages(std::slice::from_ref(&kp), None)
        .await
        .unwrap();

    // A team key version the tenant announced can be wrapped to the device; others cannot.
    app.store
        .add_sealing_key(
            tenant,
            &SealingKey {
                scope: KeyScope::Team(acme.team.id),
                version: 1,
                public_key: [8; 32],
                announcement: bytes::Bytes::from_static(b"announcement"),
                created_at: app.clock.now(),
            },
        )
        .await
        .unwrap();
    let wrap = |version| KeyWrapItem {
        device_id: pending.id,
        team_id: acme.team.id,
        version,
        sealed: STANDARD.encode([u8::try_from(version).unwrap(); 180]),
    };
    assert_eq!(
        error_of(admin.add_key_wraps(tenant, vec![wrap(2)]).await).1,
        ErrorCode::Conflict
    );
    assert_eq!(
        error_of(jane.add_key_wraps(tenant, vec![wrap(1)]).await).1,
        ErrorCode::Forbidden
    );
    admin.add_key_wraps(tenant, vec![wrap(1)]).await.unwrap();
    assert_eq!(
        jane.my_key_wraps(pending.id).await.unwrap().wraps,
        vec![wrap(1)]
    );

    // Someone else's device is not theirs to revoke or read.
    let omar = app.staff(&acme.tenant, "omar@acme.example", "agent").await;
    let omar_client = app.login(&acme.tenant, "omar@acme.example").await;
    let _ = omar;
    assert_eq!(
        error_of(omar_client.revoke_my_device(pending.id).await).0,
        404
    );
    assert_eq!(error_of(omar_client.my_key_wraps(pending.id).await).0, 404);

    // Jane loses her laptop: revoked at once, with its key packages and wraps.
    let revoked = jane.revoke_my_device(pending.id).await.unwrap();
    assert_eq!(revoked.status, "revoked");
    assert!(
        jane.my_key_wraps(pending.id)
            .await
            .unwrap()
            .wraps
            .is_empty()
    );
    let stock = jane.key_package_stock().await.unwrap();
    assert!(
        stock
            .devices
            .iter()
            .all(|d| d.available == 0 && !d.last_resort)
    );
    // A key package fetched before the revocation no longer gets the device into a group.
    let v = crate::conversations::visitor(&app, &acme).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    let mut vconn = crate::conversations::connect_visitor(&app, &v).await;
    let mut group = crate::e2ee_policy::start_group(&mut vconn, c, 3, b"g-revoked").await;
    let add = group.commit(&[kp], &[]).unwrap();
    match vconn.send(c, "add", WireKind::Handshake, &add.commit).await {
        Err(WsClientError::Server(e)) => {
            assert_eq!(e.code, ErrorCode::MlsRejected);
            assert!(e.message.contains("revoked"), "{}", e.message);
        }
        other => panic!("adding a revoked device must be refused: {other:?}"),
    }
    let again = key_package(&h, 3, &chain);
    assert_eq!(
        error_of(jane.publish_key_packages(&[again], None).await).1,
        ErrorCode::Forbidden
    );
    assert_eq!(
        error_of(admin.revoke_device(tenant, pending.id).await).1,
        ErrorCode::Conflict
    );

    let operations: Vec<String> = app
        .store
        .list_audit(Some(tenant), 0, 200)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.action == AuditAction::KeyOperation)
        .map(|r| r.event.details["operation"].clone())
        .collect();
    assert_eq!(
        operations,
        [
            "device_requested",
            "device_certified",
            "team_key_wrapped",
            "device_revoked"
        ]
    );
}
