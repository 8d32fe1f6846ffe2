//! The tenant archive, end to end: a tenant with its own key hierarchy announces its team and
//! archive keys; a team member's device seals a History Member bundle to both; a visitor and
//! an agent hold an encrypted conversation through the real server; the export from the
//! server's store is decrypted with the archive key alone into the very messages sent.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::ws::Cursors;
use sealdesk_core::clock::Clock as _;
use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::{KeyKind, Recipient, seal_bundle};
use sealdesk_mls::certs::{CertBody, ChainCheck, Role, TrustAnchor, VISITOR_MAGIC, encode_chain};
use sealdesk_mls::payload::{Body, Payload};
use sealdesk_mls::seal::derive_keys;
use sealdesk_mls::{Client as Mls, DeviceSigner, Processed, profile};
use sealdesk_proto::ErrorCode;
use sealdesk_proto::ws::{ServerFrame, WireKind};
use sealdesk_testkit::spawn_app;

use crate::conversations::{connect_staff, connect_visitor, desk, entries, visitor};

fn public(s: &DeviceSigner) -> [u8; 32] {
    s.public().try_into().unwrap()
}

fn text(n: u8, body: &str) -> Vec<u8> {
    Payload {
        msg_id: [n; 16],
        sent_at_ms: 1_800_000_000_000 + u64::from(n),
        body: Body::Text(body.into()),
    }
    .encode()
    .unwrap()
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one archive's story: keys, pool, conversation, export, decrypt
async fn the_archive_decrypts_with_the_archive_key_alone() {
    let app = spawn_app().await;
    let desk = desk(
        &app,
        "Ledger Shop",
        "ledger.example",
        &["lea@ledger.example"],
    )
    .await;
    let (_, lea_http) = &desk.agents[0];
    app.staff(&desk.tenant, "own@ledger.example", "owner").await;
    let owner_http = app.login(&desk.tenant, "own@ledger.example").await;
    let tenant = *desk.tenant.id.as_uuid().as_bytes();
    let team = *desk.team.id.as_uuid().as_bytes();
    let now = u64::try_from(app.clock.now().unix_timestamp()).unwrap();

    // The owner's hierarchy: root (offline), issuing key, Lea's device, a History Member.
    let root = DeviceSigner::from_seed(&[1; 32]).unwrap();
    let issuing = DeviceSigner::from_seed(&[2; 32]).unwrap();
    let lea_device = DeviceSigner::from_seed(&[3; 32]).unwrap();
    app.store
        .add_root_key(desk.tenant.id, public(&root), app.clock.now())
        .await
        .unwrap();
    let anchor = TrustAnchor {
        tenant,
        roots: vec![public(&root)],
    };
    let cert = |role, subject, team, label: &str| CertBody {
        role,
        tenant,
        team,
        subject,
        not_before: now - 3 * 86_400,
        not_after: now + 86_400,
        label: label.into(),
    };
    let issuing_cert = cert(Role::Issuing, public(&issuing), [0; 16], "Admin")
        .sign(&root)
        .unwrap();
    let lea_chain = encode_chain(
        &cert(Role::Agent, public(&lea_device), [0; 16], "Lea L.")
            .sign(&issuing)
            .unwrap(),
        &issuing_cert,
    )
    .unwrap();

    // Team key (announced by the issuing key) and archive key (by the root).
    let team_key = derive_keys(&[21; 32]).unwrap();
    let archive_key = derive_keys(&[22; 32]).unwrap();
    let tk = Announcement {
        kind: KeyKind::Team,
        tenant,
        team,
        version: 1,
        public: team_key.public,
        created: now,
    }
    .sign(&issuing_cert, &issuing)
    .unwrap();
    let ak = Announcement {
        kind: KeyKind::Archive,
        tenant,
        team: [0; 16],
        version: 1,
        public: archive_key.public,
        created: now,
    }
    .sign(&[], &root)
    .unwrap();
    // An agent may not announce keys; a key the root does not vouch for is refused.
    let refused = lea_http.publish_sealing_key(desk.tenant.id, &tk).await;
    assert!(
        matches!(refused, Err(ref e) if e.code() == Some(ErrorCode::Forbidden)),
        "{refused:?}"
    );
    let rogue = DeviceSigner::from_seed(&[9; 32]).unwrap();
    let forged = Announcement::verify(&ak, &anchor)
        .unwrap()
        .sign(&[], &rogue)
        .unwrap();
    let refused = owner_http
        .publish_sealing_key(desk.tenant.id, &forged)
        .await;
    assert!(
        matches!(refused, Err(ref e) if e.code() == Some(ErrorCode::MlsRejected)),
        "{refused:?}"
    );
    // A backdated announcement (into an issuing key's past validity) is refused.
    let backdated = Announcement {
        created: now - 2 * 86_400,
        ..Announcement::verify(&tk, &anchor).unwrap()
    }
    .sign(&issuing_cert, &issuing)
    .unwrap();
    let refused = owner_http
        .publish_sealing_key(desk.tenant.id, &backdated)
        .await;
    assert!(
        matches!(refused, Err(ref e) if e.code() == Some(ErrorCode::MlsRejected)),
        "{refused:?}"
    );
    owner_http
        .publish_sealing_key(desk.tenant.id, &tk)
        .await
        .unwrap();
    owner_http
        .publish_sealing_key(desk.tenant.id, &ak)
        .await
        .unwrap();
    let again = owner_http.publish_sealing_key(desk.tenant.id, &ak).await;
    assert!(
        matches!(again, Err(ref e) if e.code() == Some(ErrorCode::Conflict)),
        "{again:?}"
    );
    // Lea's console lists the keys and verifies them against the root it pins.
    let listed = lea_http.sealing_keys(desk.tenant.id).await.unwrap();
    assert_eq!(listed.keys.len(), 2);
    let mut recipients = Vec::new();
    for key in &listed.keys {
        let bytes = STANDARD.decode(&key.announcement).unwrap();
        let verified = Announcement::verify(&bytes, &anchor).unwrap();
        recipients.push(Recipient {
            kind: verified.kind,
            key_version: verified.version,
            public: verified.public,
        });
    }

    // Lea's device makes a History Member and seals its bundle to both keys.
    let mut maker = Mls::new(
        b"uncertified",
        Arc::new(ChainCheck::new(anchor.clone(), move || now)),
    )
    .unwrap();
    let hm_cert = cert(
        Role::History,
        maker.signature_key().try_into().unwrap(),
        team,
        "Ledger Shop archive",
    )
    .sign(&issuing)
    .unwrap();
    maker.set_identity(&encode_chain(&hm_cert, &issuing_cert).unwrap());
    let hm_kp = maker
        .key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let secrets = maker.export_last_key_package().unwrap();
    let bundle = seal_bundle(&secrets, tenant, team, &lea_chain, &recipients, &lea_device).unwrap();
    lea_http
        .publish_history_pool(desk.tenant.id, desk.team.id, &[(hm_kp, bundle)])
        .await
        .unwrap();

    // The conversation: the visitor starts the group with the History Member and Lea.
    let v = visitor(&app, &desk).await;
    let c = v.http.open_conversation(None).await.unwrap().id;
    let mut vconn = connect_visitor(&app, &v).await;
    let mut aconn = connect_staff(&app, lea_http).await;
    let check = || Arc::new(ChainCheck::new(anchor.clone(), move || now));
    let mut visitor_id = VISITOR_MAGIC.to_vec();
    visitor_id.extend_from_slice(&[7; 16]);
    let mut visitor_mls = Mls::new(&visitor_id, check()).unwrap();
    let mut lea_mls = Mls::with_signer(&lea_chain, lea_device, check());
    visitor_mls.create_group(c.to_string().as_bytes()).unwrap();
    vconn
        .send(
            c,
            "gi",
            WireKind::Handshake,
            &visitor_mls.group_info().unwrap(),
        )
        .await
        .unwrap();
    let hm = v.http.visitor_history_member(c).await.unwrap();
    let hm_kp = STANDARD.decode(&hm.key_package).unwrap();
    let lea_kp = lea_mls
        .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let add = visitor_mls.commit(&[hm_kp, lea_kp], &[]).unwrap();
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
    let said = [
        (1, "Hello, my invoice shows <b>twice</b> the amount & more"),
        (2, "Sorry about that! I am refunding the difference now."),
        (3, "Thank you, Lea"),
    ];
    let m1 = visitor_mls.send(&text(said[0].0, said[0].1)).unwrap();
    vconn
        .send(c, "m1", WireKind::Application, &m1)
        .await
        .unwrap();

    // Lea joins from the Welcome and answers.
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
    let mut cursors = Cursors::default();
    loop {
        let entry = entries(&mut aconn, &mut cursors, c, 1).await.remove(0);
        match entry.kind {
            WireKind::Welcome => {
                lea_mls.join(&entry.payload).unwrap();
            }
            WireKind::Application if lea_mls.is_member() => {
                let Processed::Application { plaintext, .. } =
                    lea_mls.process(&entry.payload).unwrap()
                else {
                    panic!("expected the visitor's message");
                };
                assert_eq!(plaintext, text(said[0].0, said[0].1));
                break;
            }
            _ => {}
        }
    }
    let m2 = lea_mls.send(&text(said[1].0, said[1].1)).unwrap();
    aconn
        .send(c, "m2", WireKind::Application, &m2)
        .await
        .unwrap();
    let m3 = visitor_mls.send(&text(said[2].0, said[2].1)).unwrap();
    vconn
        .send(c, "m3", WireKind::Application, &m3)
        .await
        .unwrap();
    // A typing indicator is content too, but not a line of the transcript.
    let typing = Payload {
        msg_id: [4; 16],
        sent_at_ms: 0,
        body: Body::Typing(true),
    }
    .encode()
    .unwrap();
    let m4 = visitor_mls.send(&typing).unwrap();
    vconn
        .send(c, "m4", WireKind::Application, &m4)
        .await
        .unwrap();

    // Export from the server's store, then decrypt with the archive key and the root alone.
    let mut file = Vec::new();
    let mut seen = Vec::new();
    let summary = sealdesk_archive::export(
        app.store.as_ref(),
        desk.tenant.id,
        app.clock.now(),
        &mut file,
        |done, total| seen.push((done, total)),
    )
    .await
    .unwrap();
    assert_eq!(summary.conversations, 1);
    assert_eq!(seen, vec![(1, 1)]);
    for (_, secret) in said {
        assert!(
            !file.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the export holds ciphertext only"
        );
    }
    let keys = [sealdesk_archive::ArchiveKey {
        version: 1,
        public: archive_key.public,
        private: archive_key.private.clone(),
    }];
    let (mut jsonl, mut html) = (Vec::new(), Vec::new());
    let report = sealdesk_archive::decrypt(
        file.as_slice(),
        &keys,
        &anchor,
        &mut jsonl,
        &mut html,
        |_| {},
    )
    .unwrap();
    assert_eq!(report.messages, 3, "{report:?}");
    assert_eq!(report.decrypted_conversations, 1);
    assert!(report.unreadable.is_empty());
    let lines: Vec<serde_json::Value> = String::from_utf8(jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["sender"]["label"].as_str().unwrap(),
                l["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("Visitor", said[0].1),
            ("Lea L.", said[1].1),
            ("Visitor", said[2].1)
        ]
    );
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("twice&lt;/b&gt; the amount &amp; more"));
    assert!(html.contains("Lea L. (agent)"));
    // An archive in format 1 (one History Member per conversation, no list) still decrypts.
    let old = as_format_1(&file);
    let report = sealdesk_archive::decrypt(
        old.as_slice(),
        &keys,
        &anchor,
        Vec::new(),
        Vec::new(),
        |_| {},
    )
    .unwrap();
    assert_eq!(
        (report.messages, report.unreadable.len()),
        (3, 0),
        "{report:?}"
    );

    // The team key alone does not open the archive; an altered file is refused whole.
    let wrong = [sealdesk_archive::ArchiveKey {
        version: 1,
        public: team_key.public,
        private: team_key.private.clone(),
    }];
    let report = sealdesk_archive::decrypt(
        file.as_slice(),
        &wrong,
        &anchor,
        Vec::new(),
        Vec::new(),
        |_| {},
    )
    .unwrap();
    assert_eq!((report.messages, report.unreadable.len()), (0, 1));
    let mut altered = file.clone();
    let at = altered.len() / 2;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    assert!(
        sealdesk_archive::decrypt(
            altered.as_slice(),
            &keys,
            &anchor,
            Vec::new(),
            Vec::new(),
            |_| {}
        )
        .is_err()
    );
    let truncated = &file[..file.len() - 10];
    assert!(
        sealdesk_archive::decrypt(truncated, &keys, &anchor, Vec::new(), Vec::new(), |_| {})
            .is_err()
    );
}

/// The same archive as format 1 wrote it: the header's format, no `history_members`, and the
/// trailer's digest over the rewritten lines.
fn as_format_1(file: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let text = String::from_utf8(file.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (trailer, body) = lines.split_last().unwrap();
    let mut out = Vec::new();
    for (i, line) in body.iter().enumerate() {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        if i == 0 {
            assert_eq!(value["format"], "sealdesk-archive/2");
            value["format"] = "sealdesk-archive/1".into();
        } else {
            assert!(
                value["history_members"]
                    .as_array()
                    .is_some_and(|m| !m.is_empty()),
                "format 2 lists the History Members"
            );
            value.as_object_mut().unwrap().remove("history_members");
        }
        out.extend(serde_json::to_vec(&value).unwrap());
        out.push(b'\n');
    }
    let mut trailer: serde_json::Value = serde_json::from_str(trailer).unwrap();
    trailer["sha256"] = hex::encode(sha2::Sha256::digest(&out)).into();
    out.extend(serde_json::to_vec(&trailer).unwrap());
    out.push(b'\n');
    out
}
