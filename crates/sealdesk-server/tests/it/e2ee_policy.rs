//! The membership policy through a real server, for a tenant that registered its root key:
//! a commit adding an uncertified "agent" is refused even when the committing client is
//! lenient; a certified agent is accepted.

use std::sync::Arc;

use sealdesk_client::ws::WsClientError;
use sealdesk_core::clock::Clock as _;
use sealdesk_mls::certs::{CertBody, Role, VISITOR_MAGIC, encode_chain};
use sealdesk_mls::{Client as Mls, CredentialCheck, DeviceSigner, profile};
use sealdesk_proto::ErrorCode;
use sealdesk_proto::ws::WireKind;
use sealdesk_testkit::spawn_app;

use crate::conversations::{connect_visitor, desk, visitor};

/// A client that accepts everyone: a buggy or malicious widget.
struct Lenient;

impl CredentialCheck for Lenient {
    fn check(&self, _: &[u8], _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

fn public(s: &DeviceSigner) -> [u8; 32] {
    s.public().try_into().unwrap()
}

#[tokio::test]
async fn the_server_refuses_members_outside_the_tenant_hierarchy() {
    let app = spawn_app().await;
    let desk = desk(&app, "Keyed Shop", "keyed.example", &["kim@keyed.example"]).await;
    let tenant = *desk.tenant.id.as_uuid().as_bytes();
    let now = u64::try_from(app.clock.now().unix_timestamp()).unwrap();
    let root = DeviceSigner::from_seed(&[1; 32]).unwrap();
    let issuing = DeviceSigner::from_seed(&[2; 32]).unwrap();
    let body = |role, subject, label: &str| CertBody {
        role,
        tenant,
        team: [0; 16],
        subject,
        not_before: now - 60,
        not_after: now + 86_400,
        label: label.into(),
    };
    let issuing_cert = body(Role::Issuing, public(&issuing), "Admin")
        .sign(&root)
        .unwrap();
    app.store
        .add_root_key(desk.tenant.id, public(&root), app.clock.now())
        .await
        .unwrap();

    let v = visitor(&app, &desk).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    let mut vconn = connect_visitor(&app, &v).await;
    let mut identity = VISITOR_MAGIC.to_vec();
    identity.extend_from_slice(&[9; 16]);
    let mut visitor_mls = Mls::new(&identity, Arc::new(Lenient)).unwrap();
    visitor_mls.create_group(b"g-keyed").unwrap();
    vconn
        .send(
            c,
            "gi",
            WireKind::Handshake,
            &visitor_mls.group_info().unwrap(),
        )
        .await
        .unwrap();

    // An impostor calling itself the shop's support.
    let mut impostor = Mls::new(b"Keyed Shop support", Arc::new(Lenient)).unwrap();
    let kp = impostor
        .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let out = visitor_mls.commit(&[kp], &[]).unwrap();
    match vconn.send(c, "bad", WireKind::Handshake, &out.commit).await {
        Err(WsClientError::Server(e)) => {
            assert_eq!(e.code, ErrorCode::MlsRejected);
            assert!(e.message.contains("member credential"), "{}", e.message);
        }
        other => panic!("the impostor must be refused: {other:?}"),
    }
    visitor_mls.discard().unwrap();

    // The genuine agent: its signature key certified by the shop's issuing key.
    let mut agent = Mls::new(b"uncertified", Arc::new(Lenient)).unwrap();
    let cert = body(
        Role::Agent,
        agent.signature_key().try_into().unwrap(),
        "Kim K.",
    )
    .sign(&issuing)
    .unwrap();
    agent.set_identity(&encode_chain(&cert, &issuing_cert).unwrap());
    let kp = agent
        .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let out = visitor_mls.commit(&[kp], &[]).unwrap();
    vconn
        .send(c, "good", WireKind::Handshake, &out.commit)
        .await
        .unwrap();
    visitor_mls.merge().unwrap();
    agent.join(&out.welcome.unwrap()).unwrap();
    // The visitor may not evict the agent.
    let evict = visitor_mls.commit(&[], &[1]).unwrap();
    match vconn
        .send(c, "evict", WireKind::Handshake, &evict.commit)
        .await
    {
        Err(WsClientError::Server(e)) => assert_eq!(e.code, ErrorCode::MlsRejected),
        other => panic!("the eviction must be refused: {other:?}"),
    }
}
