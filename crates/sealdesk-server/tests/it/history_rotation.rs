//! Re-keying a conversation's History Member after a team key rotation (E2EE.md §3
//! "Rotation") through a real server with openmls clients: the assigned agent takes the
//! pending member sealed to the new team key version and commits Remove(old) + Add(new); the
//! delivery service accepts that commit only from a tenant agent or supervisor and only with
//! the conversation's pending member, then lists both generations.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::ws::{Connection, WsClientError};
use sealdesk_core::clock::Clock as _;
use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::{KeyKind, Recipient, seal_bundle};
use sealdesk_mls::certs::{ChainCheck, Role, TrustAnchor, encode_chain};
use sealdesk_mls::seal::derive_keys;
use sealdesk_mls::{Client as Mls, DeviceSigner, profile};
use sealdesk_proto::keys::HistoryMemberState;
use sealdesk_proto::ws::WireKind;
use sealdesk_proto::{ConversationId, ErrorCode};
use sealdesk_store::{KeyScope, SealingKey};
use sealdesk_testkit::{TestApp, spawn_app};

use crate::conversations::{connect_staff, connect_visitor, desk};
use crate::e2ee_policy::start_group;
use crate::hierarchy::{Hierarchy, public};

/// The team's key `version`, announced by the issuing key (the server keeps only versions).
pub(crate) async fn announce(
    app: &TestApp,
    h: &Hierarchy,
    tenant: sealdesk_proto::TenantId,
    team: [u8; 16],
    version: u32,
) {
    let key = derive_keys(&[20 + u8::try_from(version).unwrap(); 32]).unwrap();
    let now = u64::try_from(app.clock.now().unix_timestamp()).unwrap();
    let signed = Announcement {
        kind: KeyKind::Team,
        tenant: *tenant.as_uuid().as_bytes(),
        team,
        version,
        public: key.public,
        created: now,
    }
    .sign(&h.issuing_cert, &h.issuing)
    .unwrap();
    app.store
        .add_sealing_key(
            tenant,
            &SealingKey {
                scope: KeyScope::Team(sealdesk_proto::TeamId::from_uuid(uuid::Uuid::from_bytes(
                    team,
                ))),
                version,
                public_key: key.public,
                announcement: signed.into(),
                created_at: app.clock.now(),
            },
        )
        .await
        .unwrap();
}

/// A History Member of `team` whose bundle is sealed (by Max's device) to team key `version`.
pub(crate) fn history_member(
    h: &Hierarchy,
    anchor: &TrustAnchor,
    team: [u8; 16],
    version: u32,
    sealer: &DeviceSigner,
    sealer_chain: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let check = Arc::new(ChainCheck::new(anchor.clone(), || 0));
    let mut hm = Mls::new(b"history member", check).unwrap();
    let cert = h
        .body(
            Role::History,
            hm.signature_key().try_into().unwrap(),
            team,
            "Support",
        )
        .sign(&h.issuing)
        .unwrap();
    hm.set_identity(&encode_chain(&cert, &h.issuing_cert).unwrap());
    let kp = hm
        .key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let key = derive_keys(&[20 + u8::try_from(version).unwrap(); 32]).unwrap();
    let recipient = Recipient {
        kind: KeyKind::Team,
        key_version: version,
        public: key.public,
    };
    let bundle = seal_bundle(
        &hm.export_last_key_package().unwrap(),
        anchor.tenant,
        team,
        sealer_chain,
        &[recipient],
        sealer,
    )
    .unwrap();
    (kp, bundle)
}

/// Sends `commit` and expects `mls_rejected` naming `why`.
pub(crate) async fn refused(
    conn: &mut Connection,
    c: ConversationId,
    id: &str,
    commit: &[u8],
    why: &str,
) {
    match conn.send(c, id, WireKind::Handshake, commit).await {
        Err(WsClientError::Server(e)) => {
            assert_eq!(e.code, ErrorCode::MlsRejected, "{}", e.message);
            assert!(e.message.contains(why), "{why:?} in {:?}", e.message);
        }
        other => panic!("expected mls_rejected ({why}), got {other:?}"),
    }
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one rotation's story: keys, pool, group, refusals, commit
async fn only_the_agent_rotates_to_the_pending_history_member() {
    let app = spawn_app().await;
    let desk = desk(
        &app,
        "Rekey Shop",
        "rekey.example",
        &["max@rekey.example", "ola@rekey.example"],
    )
    .await;
    let (_, max_http) = &desk.agents[0];
    let (_, ola_http) = &desk.agents[1];
    let tenant = desk.tenant.id;
    let team = *desk.team.id.as_uuid().as_bytes();
    let h = Hierarchy::register(&app, tenant).await;
    let anchor = TrustAnchor {
        tenant: *tenant.as_uuid().as_bytes(),
        roots: vec![public(&h.root)],
    };
    let max_device = DeviceSigner::from_seed(&[3; 32]).unwrap();
    let max_chain = h.chain(Role::Agent, public(&max_device), "Max M.");
    let sealer = DeviceSigner::from_seed(&[3; 32]).unwrap();

    // Version 1 of the team key, and a pool sealed to it.
    announce(&app, &h, tenant, team, 1).await;
    let first = history_member(&h, &anchor, team, 1, &sealer, &max_chain);
    max_http
        .publish_history_pool(tenant, desk.team.id, &[first])
        .await
        .unwrap();

    // The visitor's group: the History Member and Max's device (Max claimed it).
    let v = crate::conversations::visitor(&app, &desk).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    max_http.claim(tenant, c).await.unwrap();
    let mut vconn = connect_visitor(&app, &v).await;
    let mut mconn = connect_staff(&app, max_http).await;
    let mut visitor_mls = start_group(&mut vconn, c, 7, b"g-rekey").await;
    let now = u64::try_from(app.clock.now().unix_timestamp()).unwrap();
    let check = Arc::new(ChainCheck::new(anchor.clone(), move || now));
    let mut max_mls = Mls::with_signer(&max_chain, max_device, check);
    let hm1 = STANDARD
        .decode(v.http.visitor_history_member(c).await.unwrap().key_package)
        .unwrap();
    let max_kp = max_mls
        .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let add = visitor_mls.commit(&[hm1.clone(), max_kp], &[]).unwrap();
    vconn
        .send(c, "add", WireKind::Handshake, &add.commit)
        .await
        .unwrap();
    visitor_mls.merge().unwrap();
    max_mls.join(add.welcome.as_ref().unwrap()).unwrap();
    let history_leaf = 1;

    // Nothing to rotate while the member is sealed to the current version.
    let err = max_http.rotation_member(tenant, c).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Conflict), "{err:?}");
    // Version 2: the pool has nothing sealed to it yet.
    announce(&app, &h, tenant, team, 2).await;
    let err = max_http.rotation_member(tenant, c).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Conflict), "{err:?}");
    let second = history_member(&h, &anchor, team, 2, &sealer, &max_chain);
    let third = history_member(&h, &anchor, team, 2, &sealer, &max_chain);
    max_http
        .publish_history_pool(tenant, desk.team.id, &[second.clone(), third.clone()])
        .await
        .unwrap();
    // A colleague outside the conversation gets nothing.
    let err = ola_http.rotation_member(tenant, c).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound), "{err:?}");

    let pending = max_http.rotation_member(tenant, c).await.unwrap();
    assert_eq!(
        (pending.generation, pending.state),
        (2, HistoryMemberState::Pending)
    );
    assert_eq!(pending.team_key_version, Some(2));
    assert_eq!(max_http.rotation_member(tenant, c).await.unwrap(), pending);
    let pending_kp = STANDARD.decode(&pending.key_package).unwrap();
    let other_kp = if pending_kp == second.0 {
        third.0
    } else {
        second.0
    };

    // The visitor may not rotate, even to the pending member.
    let out = visitor_mls
        .commit(std::slice::from_ref(&pending_kp), &[history_leaf])
        .unwrap();
    refused(
        &mut vconn,
        c,
        "v-rotate",
        &out.commit,
        "only an agent or a supervisor",
    )
    .await;
    visitor_mls.discard().unwrap();
    // A pool member that is not the conversation's pending one is refused.
    let out = max_mls.commit(&[other_kp], &[history_leaf]).unwrap();
    refused(
        &mut mconn,
        c,
        "m-other",
        &out.commit,
        "pending History Member",
    )
    .await;
    max_mls.discard().unwrap();
    // Until the commit, the first generation stays current.
    let before = max_http.history_member(tenant, c).await.unwrap();
    assert_eq!(
        before
            .members
            .iter()
            .map(|m| (m.generation, m.state))
            .collect::<Vec<_>>(),
        [
            (1, HistoryMemberState::Active),
            (2, HistoryMemberState::Pending)
        ]
    );
    assert_eq!(STANDARD.decode(&before.key_package).unwrap(), hm1);

    // The agent's rotation: accepted; the pending member becomes current.
    let out = max_mls
        .commit(std::slice::from_ref(&pending_kp), &[history_leaf])
        .unwrap();
    mconn
        .send(c, "m-rotate", WireKind::Handshake, &out.commit)
        .await
        .unwrap();
    max_mls.merge().unwrap();
    mconn
        .send(
            c,
            "m-rotate-w",
            WireKind::Welcome,
            out.welcome.as_ref().unwrap(),
        )
        .await
        .unwrap();
    let after = max_http.history_member(tenant, c).await.unwrap();
    assert_eq!(STANDARD.decode(&after.key_package).unwrap(), pending_kp);
    assert_eq!(
        after
            .members
            .iter()
            .map(|m| (m.generation, m.state))
            .collect::<Vec<_>>(),
        [
            (1, HistoryMemberState::Retired),
            (2, HistoryMemberState::Active)
        ]
    );
    assert_eq!(after.members[1].sealed_bundle, pending.sealed_bundle);
    // Sealed to the current version now: nothing more to rotate.
    let err = max_http.rotation_member(tenant, c).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Conflict), "{err:?}");
    // The visitor's client follows the rotation.
    assert!(matches!(
        visitor_mls.process(&out.commit).unwrap(),
        sealdesk_mls::Processed::Commit {
            removed_self: false,
            ..
        }
    ));
    // The visitor never sees bundles.
    let visitor_view = v.http.visitor_history_member(c).await.unwrap();
    assert!(visitor_view.sealed_bundle.is_none() && visitor_view.members.is_empty());
}
