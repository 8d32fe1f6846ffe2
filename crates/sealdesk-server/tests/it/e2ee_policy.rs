//! The membership policy through a real server, for a tenant that registered its root key:
//! a commit adding an uncertified "agent" is refused even when the committing client is
//! lenient; a certified agent is accepted.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
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

/// A (lenient) visitor's group for conversation `c`, announced to the server with its
/// `GroupInfo`.
pub(crate) async fn start_group(
    vconn: &mut sealdesk_client::ws::Connection,
    c: sealdesk_proto::ConversationId,
    seed: u8,
    group_id: &[u8],
) -> Mls {
    let mut identity = VISITOR_MAGIC.to_vec();
    identity.extend_from_slice(&[seed; 16]);
    let mut visitor_mls = Mls::new(&identity, Arc::new(Lenient)).unwrap();
    visitor_mls.create_group(group_id).unwrap();
    let info = visitor_mls.group_info().unwrap();
    vconn
        .send(c, "gi", WireKind::Handshake, &info)
        .await
        .unwrap();
    visitor_mls
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
    let mut visitor_mls = start_group(&mut vconn, c, 9, b"g-keyed").await;

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

/// The directory: an agent publishes key packages of its certified device; the visitor takes
/// one per device of the assignee, adds it, and is given nothing more for a device already in
/// the group; the last-resort package is kept; uncertified packages are refused.
#[tokio::test]
async fn the_key_package_directory_hands_each_package_out_once() {
    let app = spawn_app().await;
    let desk = desk(
        &app,
        "Directory Shop",
        "directory.example",
        &["lee@directory.example"],
    )
    .await;
    let (_, lee_http) = &desk.agents[0];
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

    // Before the tenant has a root key, nothing can be verified: refused.
    let mut lee = Mls::new(b"uncertified", Arc::new(Lenient)).unwrap();
    let kp = |c: &mut Mls| c.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME).unwrap();
    let early = lee_http.publish_key_packages(&[kp(&mut lee)], None).await;
    assert!(
        matches!(early, Err(ref e) if e.code() == Some(ErrorCode::Conflict)),
        "{early:?}"
    );
    app.store
        .add_root_key(desk.tenant.id, public(&root), app.clock.now())
        .await
        .unwrap();
    // An uncertified key package is refused.
    let refused = lee_http.publish_key_packages(&[kp(&mut lee)], None).await;
    assert!(
        matches!(refused, Err(ref e) if e.code() == Some(ErrorCode::MlsRejected)),
        "{refused:?}"
    );
    // Lee's device, certified: two single-use packages and a last-resort one.
    let cert = body(
        Role::Agent,
        lee.signature_key().try_into().unwrap(),
        "Lee L.",
    )
    .sign(&issuing)
    .unwrap();
    lee.set_identity(&encode_chain(&cert, &issuing_cert).unwrap());
    let published = lee_http
        .publish_key_packages(&[kp(&mut lee), kp(&mut lee)], Some(&kp(&mut lee)))
        .await
        .unwrap();
    assert_eq!((published.available, published.last_resort), (2, true));

    // The visitor starts an encrypted conversation; its first message assigns Lee.
    let v = visitor(&app, &desk).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    let mut vconn = connect_visitor(&app, &v).await;
    let mut visitor_mls = start_group(&mut vconn, c, 3, b"g-directory").await;
    let hello = visitor_mls.send(b"hello").unwrap();
    vconn
        .send(c, "m1", WireKind::Application, &hello)
        .await
        .unwrap();
    let taken = loop {
        match v.http.visitor_take_key_packages(c).await {
            Ok(list) => break list,
            // Not assigned yet: routing runs after the acknowledgement.
            Err(e) if e.code() == Some(ErrorCode::Conflict) => tokio::task::yield_now().await,
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(taken.key_packages.len(), 1);
    assert!(!taken.key_packages[0].last_resort);
    let package = STANDARD.decode(&taken.key_packages[0].key_package).unwrap();
    let out = visitor_mls.commit(&[package], &[]).unwrap();
    vconn
        .send(c, "add", WireKind::Handshake, &out.commit)
        .await
        .unwrap();
    visitor_mls.merge().unwrap();
    lee.join(&out.welcome.unwrap()).unwrap();
    // Lee's device is in the group now: nothing more is handed out for it.
    let again = v.http.visitor_take_key_packages(c).await.unwrap();
    assert!(again.key_packages.is_empty());
    let stock = lee_http.key_package_stock().await.unwrap();
    assert_eq!(
        (stock.devices[0].available, stock.devices[0].last_resort),
        (1, true)
    );
}

/// A team's History Member pool: a team member's console uploads certified History Member
/// key packages with their sealed bundles; the widget takes one per conversation (the same on
/// every call); staff get the bundle back; wrong teams and non-members are refused; the group
/// may add only that History Member.
#[tokio::test]
#[allow(clippy::too_many_lines)] // one pool's story: upload, take, bundle, the group's Add
async fn the_history_pool_gives_each_conversation_its_member() {
    // The process's metrics recorder (a server with metrics on installs it at start).
    let metrics = sealdesk_server::metrics::handle();
    let app = spawn_app().await;
    let desk = desk(
        &app,
        "Archive Shop",
        "archive.example",
        &["max@archive.example"],
    )
    .await;
    let (_, max_http) = &desk.agents[0];
    let tenant = *desk.tenant.id.as_uuid().as_bytes();
    let team = *desk.team.id.as_uuid().as_bytes();
    let now = u64::try_from(app.clock.now().unix_timestamp()).unwrap();
    let root = DeviceSigner::from_seed(&[1; 32]).unwrap();
    let issuing = DeviceSigner::from_seed(&[2; 32]).unwrap();
    app.store
        .add_root_key(desk.tenant.id, public(&root), app.clock.now())
        .await
        .unwrap();
    let cert = |role, subject, team| CertBody {
        role,
        tenant,
        team,
        subject,
        not_before: now - 60,
        not_after: now + 86_400,
        label: "Archive".into(),
    };
    let issuing_cert = cert(Role::Issuing, public(&issuing), [0; 16])
        .sign(&root)
        .unwrap();
    let history_member = |team| {
        let mut hm = Mls::new(b"uncertified", Arc::new(Lenient)).unwrap();
        let c = cert(Role::History, hm.signature_key().try_into().unwrap(), team)
            .sign(&issuing)
            .unwrap();
        hm.set_identity(&encode_chain(&c, &issuing_cert).unwrap());
        let kp = hm
            .key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)
            .unwrap();
        (kp, b"sealed to the team key".to_vec())
    };

    // Another team's History Member is refused.
    let wrong = max_http
        .publish_history_pool(desk.tenant.id, desk.team.id, &[history_member([9; 16])])
        .await;
    assert!(
        matches!(wrong, Err(ref e) if e.code() == Some(ErrorCode::MlsRejected)),
        "{wrong:?}"
    );
    // A staff member outside the team cannot fill its pool.
    app.staff(&desk.tenant, "out@archive.example", "agent")
        .await;
    let outsider = app.login(&desk.tenant, "out@archive.example").await;
    let refused = outsider
        .publish_history_pool(desk.tenant.id, desk.team.id, &[history_member(team)])
        .await;
    assert!(
        matches!(refused, Err(ref e) if e.code() == Some(ErrorCode::Forbidden)),
        "{refused:?}"
    );
    let pool = max_http
        .publish_history_pool(
            desk.tenant.id,
            desk.team.id,
            &[history_member(team), history_member(team)],
        )
        .await
        .unwrap();
    assert_eq!(pool.available, 2);

    let v = visitor(&app, &desk).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    let first = v.http.visitor_history_member(c).await.unwrap();
    assert!(
        first.sealed_bundle.is_none(),
        "the visitor never gets the bundle"
    );
    assert_eq!(v.http.visitor_history_member(c).await.unwrap(), first);
    assert_eq!(
        max_http
            .history_pool_stock(desk.tenant.id, desk.team.id)
            .await
            .unwrap()
            .available,
        1
    );
    // The pool's size is a metric operators watch (low water: refill it).
    let metrics = metrics.render();
    let line = format!(
        "sealdesk_history_pool_available{{tenant=\"{}\",team=\"{}\"}} 1",
        desk.tenant.id, desk.team.id
    );
    assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    // Staff who may read the conversation get the bundle (Max sees his team's queue).
    let staff_view = max_http.history_member(desk.tenant.id, c).await.unwrap();
    assert_eq!(staff_view.key_package, first.key_package);
    assert_eq!(
        STANDARD.decode(staff_view.sealed_bundle.unwrap()).unwrap(),
        b"sealed to the team key"
    );

    // The group may add only this conversation's History Member.
    let mut vconn = connect_visitor(&app, &v).await;
    let mut visitor_mls = start_group(&mut vconn, c, 4, b"g-history").await;
    let (stranger, _) = history_member(team);
    let out = visitor_mls.commit(&[stranger], &[]).unwrap();
    match vconn
        .send(c, "hm-stranger", WireKind::Handshake, &out.commit)
        .await
    {
        Err(WsClientError::Server(e)) => {
            assert_eq!(e.code, ErrorCode::MlsRejected);
            assert!(e.message.contains("History Member"), "{}", e.message);
        }
        other => panic!("a History Member from outside the pool must be refused: {other:?}"),
    }
    visitor_mls.discard().unwrap();
    let own = STANDARD.decode(&first.key_package).unwrap();
    let out = visitor_mls.commit(&[own], &[]).unwrap();
    vconn
        .send(c, "hm-own", WireKind::Handshake, &out.commit)
        .await
        .unwrap();
}

/// A tenant that registered its root key carries nothing but MLS: a message before the
/// conversation's group is refused and not stored; once the group exists, its ciphertext is.
/// (A tenant without a root key still carries opaque entries: the load generator's case.)
#[tokio::test]
async fn a_keyed_tenant_refuses_messages_outside_a_group() {
    let app = spawn_app().await;
    let keyed = desk(&app, "Keyed Shop", "keyed.example", &[]).await;
    crate::hierarchy::Hierarchy::register(&app, keyed.tenant.id).await;
    let v = visitor(&app, &keyed).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    let mut vconn = connect_visitor(&app, &v).await;
    match vconn
        .send(
            c,
            "plain",
            WireKind::Application,
            b"my card is 4111 1111 1111 1111",
        )
        .await
    {
        Err(WsClientError::Server(e)) => {
            assert_eq!(e.code, ErrorCode::MlsRejected);
            assert!(e.message.contains("end-to-end encryption"), "{}", e.message);
        }
        other => panic!("a plaintext message must be refused: {other:?}"),
    }
    let log = app.store.read_log(keyed.tenant.id, c, 0, 10).await.unwrap();
    assert!(log.is_empty(), "nothing was stored");
    let mut group = start_group(&mut vconn, c, 4, b"g-keyed-plain").await;
    let ciphertext = group.send(b"hello").unwrap();
    vconn
        .send(c, "sealed", WireKind::Application, &ciphertext)
        .await
        .unwrap();

    // Without a root key, opaque entries are still carried.
    let open = desk(&app, "Open Shop", "open.example", &[]).await;
    let w = visitor(&app, &open).await;
    let d = w.http.open_conversation(None).await.unwrap().id;
    let mut wconn = connect_visitor(&app, &w).await;
    wconn
        .send(d, "opaque", WireKind::Application, b"opaque bytes")
        .await
        .unwrap();
}
