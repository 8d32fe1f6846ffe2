//! The delivery service's MLS validation through a real server: openmls clients
//! (`sealdesk-mls`) as visitor and agent on `sealdesk-client` connections.

use std::sync::Arc;

use sealdesk_client::ws::{Connection, Cursors, Received, WsClientError};
use sealdesk_mls::{Client as Mls, CredentialCheck, Processed, profile};
use sealdesk_proto::ws::{ServerFrame, WireKind};
use sealdesk_proto::{ConversationId, ErrorCode};
use sealdesk_testkit::spawn_app;

use crate::conversations::{connect_staff, connect_visitor, desk, entries, visitor};

struct Anyone;

impl CredentialCheck for Anyone {
    fn check(&self, _: &[u8], _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

fn mls(identity: &str) -> Mls {
    Mls::new(identity.as_bytes(), Arc::new(Anyone)).unwrap()
}

async fn refused(
    conn: &mut Connection,
    c: ConversationId,
    id: &str,
    kind: WireKind,
    payload: &[u8],
) -> ErrorCode {
    match conn.send(c, id, kind, payload).await {
        Err(WsClientError::Server(e)) => e.code,
        other => panic!("{id} must be refused, got {other:?}"),
    }
}

fn plaintext(p: Processed) -> Vec<u8> {
    match p {
        Processed::Application { plaintext, .. } => plaintext,
        other @ Processed::Commit { .. } => panic!("expected application data, got {other:?}"),
    }
}

/// Reads the agent's stream until an MLS entry arrives (skipping system events).
async fn next_mls(conn: &mut Connection, cursors: &mut Cursors, c: ConversationId) -> Received {
    loop {
        let entry = entries(conn, cursors, c, 1).await.remove(0);
        if entry.kind != WireKind::System {
            return entry;
        }
    }
}

/// The visitor starts the group (`GroupInfo`, a commit adding the agent, the Welcome) and
/// sends a first message, while the server refuses what does not fit.
async fn visitor_starts(
    vconn: &mut Connection,
    c: ConversationId,
    visitor_mls: &mut Mls,
    agent_mls: &mut Mls,
) {
    // Before the group exists a Welcome has nothing to belong to.
    assert_eq!(
        refused(vconn, c, "w0", WireKind::Welcome, b"\x00\x01\x00\x03").await,
        ErrorCode::MlsRejected
    );
    // The group starts with its GroupInfo; the first commit adds the agent.
    visitor_mls.create_group(c.to_string().as_bytes()).unwrap();
    let info = visitor_mls.group_info().unwrap();
    vconn
        .send(c, "gi", WireKind::Handshake, &info)
        .await
        .unwrap();
    let add = visitor_mls
        .commit(
            &[agent_mls
                .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
                .unwrap()],
            &[],
        )
        .unwrap();
    vconn
        .send(c, "add", WireKind::Handshake, &add.commit)
        .await
        .unwrap();
    visitor_mls.merge().unwrap();
    vconn
        .send(
            c,
            "welcome",
            WireKind::Welcome,
            add.welcome.as_ref().unwrap(),
        )
        .await
        .unwrap();
    // A retry of the accepted commit is a duplicate, not a stale epoch.
    assert!(
        vconn
            .send(c, "add", WireKind::Handshake, &add.commit)
            .await
            .unwrap()
            .duplicate
    );
    // The same commit under a new id is a replay of epoch 0.
    assert_eq!(
        refused(vconn, c, "add-again", WireKind::Handshake, &add.commit).await,
        ErrorCode::StaleEpoch
    );
    // Inside a group, application entries must be its ciphertext.
    assert_eq!(
        refused(
            vconn,
            c,
            "plain",
            WireKind::Application,
            b"hello in the clear"
        )
        .await,
        ErrorCode::MlsRejected
    );
    let hello = visitor_mls.send(b"my parcel never arrived").unwrap();
    vconn
        .send(c, "m1", WireKind::Application, &hello)
        .await
        .unwrap();
}

#[tokio::test]
async fn commits_are_validated_sequenced_once_per_epoch_and_rebuilt_from_the_log() {
    let app = spawn_app().await;
    let desk = desk(
        &app,
        "Cipher Shop",
        "cipher.example",
        &["ann@cipher.example"],
    )
    .await;
    let v = visitor(&app, &desk).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    let mut vconn = connect_visitor(&app, &v).await;
    let (_, agent_http) = &desk.agents[0];
    let mut aconn = connect_staff(&app, agent_http).await;
    let mut visitor_mls = mls("visitor");
    let mut agent_mls = mls("agent:ann");

    visitor_starts(&mut vconn, c, &mut visitor_mls, &mut agent_mls).await;

    // The agent (assigned automatically) reads the log: it joins from the Welcome and
    // decrypts what follows.
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), aconn.next())
            .await
            .unwrap()
            .unwrap();
        if matches!(frame, ServerFrame::Notice(n) if n.c == c && n.assignee.is_some()) {
            break;
        }
    }
    aconn.subscribe(c, 0).await.unwrap();
    let mut acur = Cursors::default();
    let mut welcome_seen = false;
    loop {
        let entry = next_mls(&mut aconn, &mut acur, c).await;
        match entry.kind {
            WireKind::Welcome => {
                agent_mls.join(&entry.payload).unwrap();
                welcome_seen = true;
            }
            WireKind::Application if welcome_seen => {
                assert_eq!(
                    plaintext(agent_mls.process(&entry.payload).unwrap()),
                    b"my parcel never arrived"
                );
                break;
            }
            _ => assert!(
                !welcome_seen,
                "nothing but application data follows the Welcome here"
            ),
        }
    }
    assert_eq!(
        agent_mls.epoch_info().unwrap(),
        visitor_mls.epoch_info().unwrap()
    );

    // Both commit in epoch 1: the server sequences one; the other learns the epoch moved.
    let winner = visitor_mls.self_update().unwrap();
    let loser = agent_mls.self_update().unwrap();
    vconn
        .send(c, "upd-v", WireKind::Handshake, &winner)
        .await
        .unwrap();
    visitor_mls.merge().unwrap();
    assert_eq!(
        refused(&mut aconn, c, "upd-a", WireKind::Handshake, &loser).await,
        ErrorCode::StaleEpoch
    );
    agent_mls.discard().unwrap();
    let entry = next_mls(&mut aconn, &mut acur, c).await;
    assert!(matches!(
        agent_mls.process(&entry.payload).unwrap(),
        Processed::Commit { epoch: 2, .. }
    ));

    // After a restart (the view dropped) the log alone rebuilds the group at epoch 2: the
    // agent's fresh commit is accepted, an old one is not.
    assert_eq!(app.state.groups().live_views(), 1);
    app.state.groups().forget(c);
    assert_eq!(app.state.groups().live_views(), 0);
    let retry = agent_mls.self_update().unwrap();
    aconn
        .send(c, "upd-a2", WireKind::Handshake, &retry)
        .await
        .unwrap();
    agent_mls.merge().unwrap();
    app.state.groups().forget(c);
    assert_eq!(
        refused(&mut vconn, c, "replay", WireKind::Handshake, &winner).await,
        ErrorCode::StaleEpoch
    );
    assert_eq!(
        app.state.groups().live_views(),
        1,
        "rebuilt once, counted once"
    );
    let reply = agent_mls.send(b"a new parcel is on its way").unwrap();
    aconn
        .send(c, "r1", WireKind::Application, &reply)
        .await
        .unwrap();

    // The visitor processes everything after its own last commit.
    vconn.subscribe(c, 0).await.unwrap();
    let mut vcur = Cursors::default();
    let mut after_own = false;
    loop {
        let entry = next_mls(&mut vconn, &mut vcur, c).await;
        if entry.id.as_deref() == Some("upd-v") {
            after_own = true;
        } else if after_own && entry.kind == WireKind::Handshake {
            visitor_mls.process(&entry.payload).unwrap();
        } else if after_own && entry.kind == WireKind::Application {
            assert_eq!(
                plaintext(visitor_mls.process(&entry.payload).unwrap()),
                b"a new parcel is on its way"
            );
            break;
        }
    }
    assert_eq!(
        agent_mls.epoch_info().unwrap(),
        visitor_mls.epoch_info().unwrap()
    );
    assert_eq!(visitor_mls.epoch_info().unwrap().epoch, 3);

    aconn.close().await.unwrap();
    vconn.close().await.unwrap();
    assert_no_plaintext(&app);
}

/// Promise 1: a dump of the data directory (database, WAL, blobs) reveals no content.
fn assert_no_plaintext(app: &sealdesk_testkit::TestApp) {
    for secret in [
        &b"my parcel never arrived"[..],
        b"a new parcel is on its way",
        b"hello in the clear",
    ] {
        assert_eq!(
            files_containing(app.data_dir.path(), secret),
            Vec::<String>::new()
        );
    }
    // (The refused cleartext attempt was never stored either.) The scan can fail: the
    // tenant's name, stored in the clear by design, is found.
    assert!(!files_containing(app.data_dir.path(), b"Cipher Shop").is_empty());
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[tokio::test]
async fn a_conversation_without_a_group_carries_opaque_entries_and_no_forged_group() {
    let app = spawn_app().await;
    let desk = desk(&app, "Plain Shop", "plain.example", &["bob@plain.example"]).await;
    let v = visitor(&app, &desk).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    let mut vconn = connect_visitor(&app, &v).await;
    // Pre-E2EE clients (the self-test, the load generator) still work.
    vconn
        .send(c, "m1", WireKind::Application, b"opaque bytes")
        .await
        .unwrap();
    // A handshake that is not a GroupInfo cannot start a group.
    assert_eq!(
        refused(&mut vconn, c, "h1", WireKind::Handshake, b"not mls").await,
        ErrorCode::MlsRejected
    );
    let mut a = mls("visitor");
    a.create_group(b"g").unwrap();
    let mut b = mls("agent");
    let out = a
        .commit(
            &[b.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME).unwrap()],
            &[],
        )
        .unwrap();
    assert_eq!(
        refused(&mut vconn, c, "h2", WireKind::Handshake, &out.commit).await,
        ErrorCode::MlsRejected
    );
    // A GroupInfo of a group that already has two members is not a new group.
    a.merge().unwrap();
    let info = a.group_info().unwrap();
    assert_eq!(
        refused(&mut vconn, c, "h3", WireKind::Handshake, &info).await,
        ErrorCode::MlsRejected
    );
}
