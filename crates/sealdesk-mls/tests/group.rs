//! Multi-party scenarios between openmls clients with our profile: the Rust half of the
//! interop matrix (the ts-mls half is `web/interop`).

// Clippy's test allowances cover #[test] functions, not the shared helpers; failing loudly is
// what a test helper is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use sealdesk_mls::{Client, CredentialCheck, MlsError, Processed, profile};

struct AllowPrefix(&'static [u8]);

impl CredentialCheck for AllowPrefix {
    fn check(&self, identity: &[u8], _: &[u8]) -> Result<(), String> {
        if identity.starts_with(self.0) {
            Ok(())
        } else {
            Err("not ours".into())
        }
    }
}

fn client(identity: &str) -> Client {
    Client::new(identity.as_bytes(), Arc::new(AllowPrefix(b""))).unwrap()
}

fn kp(c: &mut Client) -> Vec<u8> {
    c.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME).unwrap()
}

fn text(p: Processed) -> (Vec<u8>, u32) {
    match p {
        Processed::Application { plaintext, sender } => (plaintext, sender),
        other @ Processed::Commit { .. } => panic!("expected application data, got {other:?}"),
    }
}

/// Everyone agrees on epoch, authenticator, exporter and roster.
fn assert_agree(clients: &[&Client]) {
    let first = clients[0].epoch_info().unwrap();
    for c in &clients[1..] {
        assert_eq!(c.epoch_info().unwrap(), first);
    }
}

/// A visitor, a History Member (made by the visitor, replayed by someone else) and an agent.
#[test]
fn visitor_history_member_and_agent_converse() {
    let mut visitor = client("visitor");
    let mut agent = client("agent:jane");
    let mut history = client("history:support");
    visitor.create_group(b"conversation-0001").unwrap();
    let hm_kp = history
        .key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let hm_secrets = history.export_last_key_package().unwrap();
    let out = visitor.commit(&[hm_kp, kp(&mut agent)], &[]).unwrap();
    assert_eq!(visitor.merge().unwrap(), 1);
    let welcome = out.welcome.unwrap();
    agent.join(&welcome).unwrap();
    history.join(&welcome).unwrap();
    assert_agree(&[&visitor, &agent, &history]);

    let m1 = visitor.send(b"hello, my card was charged twice").unwrap();
    assert_eq!(
        text(agent.process(&m1).unwrap()).0,
        b"hello, my card was charged twice"
    );
    let m2 = agent.send(b"let me check").unwrap();
    let (plain, sender) = text(visitor.process(&m2).unwrap());
    assert_eq!(plain, b"let me check");
    assert_eq!(sender, 2);

    // A replayer holding only the History Member's private key package reads everything.
    let mut replay = client("replayer");
    replay.import_key_package(&hm_secrets).unwrap();
    replay.join(&welcome).unwrap();
    assert_eq!(
        text(replay.process(&m1).unwrap()).0,
        b"hello, my card was charged twice"
    );
    assert_eq!(text(replay.process(&m2).unwrap()).0, b"let me check");
    assert_agree(&[&visitor, &replay]);
    assert_eq!(replay.identity(), b"history:support");
}

#[test]
fn transfer_in_one_commit_and_removed_agent_cannot_read() {
    let mut visitor = client("visitor");
    let mut a = client("agent:a");
    let mut b = client("agent:b");
    visitor.create_group(b"g-transfer").unwrap();
    let out = visitor.commit(&[kp(&mut a)], &[]).unwrap();
    visitor.merge().unwrap();
    a.join(&out.welcome.unwrap()).unwrap();
    // A transfers to B: Add(B) + Remove(A) is not possible for A (no self-removal in a commit
    // it sends), so the visitor commits it here; the agents' consoles do it in the product.
    let leaf_a = a
        .epoch_info()
        .unwrap()
        .members
        .iter()
        .find(|m| m.identity == b"agent:a")
        .unwrap()
        .leaf;
    let out = visitor.commit(&[kp(&mut b)], &[leaf_a]).unwrap();
    visitor.merge().unwrap();
    b.join(&out.welcome.unwrap()).unwrap();
    match a.process(&out.commit).unwrap() {
        Processed::Commit { removed_self, .. } => assert!(removed_self),
        other @ Processed::Application { .. } => panic!("{other:?}"),
    }
    assert!(!a.is_member());
    let secret = visitor.send(b"after the transfer").unwrap();
    assert_eq!(text(b.process(&secret).unwrap()).0, b"after the transfer");
    assert!(matches!(a.process(&secret), Err(MlsError::NoGroup)));
    assert_agree(&[&visitor, &b]);
}

#[test]
fn self_update_and_save_restore_keep_the_group() {
    let mut visitor = client("visitor");
    let mut agent = client("agent");
    visitor.create_group(b"g-update").unwrap();
    let out = visitor.commit(&[kp(&mut agent)], &[]).unwrap();
    visitor.merge().unwrap();
    agent.join(&out.welcome.unwrap()).unwrap();
    let update = agent.self_update().unwrap();
    agent.merge().unwrap();
    visitor.process(&update).unwrap();
    assert_agree(&[&visitor, &agent]);

    let saved = agent.save().unwrap();
    drop(agent);
    let mut agent = Client::restore(&saved, Arc::new(AllowPrefix(b""))).unwrap();
    assert_agree(&[&visitor, &agent]);
    let m = visitor.send(b"still there?").unwrap();
    assert_eq!(text(agent.process(&m).unwrap()).0, b"still there?");
    let update = visitor.self_update().unwrap();
    visitor.merge().unwrap();
    agent.process(&update).unwrap();
    assert_agree(&[&visitor, &agent]);
}

#[test]
fn pending_commit_blocks_sending_until_merged_or_discarded() {
    let mut visitor = client("visitor");
    let mut agent = client("agent");
    visitor.create_group(b"g-pending").unwrap();
    let _ = visitor.commit(&[kp(&mut agent)], &[]).unwrap();
    assert!(matches!(visitor.send(b"x"), Err(MlsError::PendingCommit)));
    assert!(matches!(
        visitor.self_update(),
        Err(MlsError::PendingCommit)
    ));
    visitor.discard().unwrap();
    assert_eq!(visitor.epoch_info().unwrap().epoch, 0);
    // After a refusal the client rebuilds the commit from fresh state.
    let out = visitor.commit(&[kp(&mut agent)], &[]).unwrap();
    visitor.merge().unwrap();
    agent.join(&out.welcome.unwrap()).unwrap();
    assert_agree(&[&visitor, &agent]);
}

#[test]
fn a_commit_from_a_stale_epoch_is_refused() {
    let mut visitor = client("visitor");
    let mut agent = client("agent");
    visitor.create_group(b"g-race").unwrap();
    let out = visitor.commit(&[kp(&mut agent)], &[]).unwrap();
    visitor.merge().unwrap();
    agent.join(&out.welcome.unwrap()).unwrap();
    // Both commit in epoch 1; the server sequences the visitor's; the agent's loses.
    let winner = visitor.self_update().unwrap();
    visitor.merge().unwrap();
    let loser = agent.self_update().unwrap();
    agent.discard().unwrap();
    agent.process(&winner).unwrap();
    assert!(matches!(
        visitor.process(&loser),
        Err(MlsError::Rejected(_))
    ));
    assert_agree(&[&visitor, &agent]);
}

#[test]
fn untrusted_credentials_are_refused_on_add_and_on_join() {
    let strict = Arc::new(AllowPrefix(b"acme:"));
    let mut visitor = Client::new(b"acme:visitor", strict.clone()).unwrap();
    let mut impostor = client("evil:agent");
    visitor.create_group(b"g-cred").unwrap();
    assert!(matches!(
        visitor.commit(&[kp(&mut impostor)], &[]),
        Err(MlsError::Credential(_))
    ));

    // A lenient member adds the impostor; the strict member refuses that commit...
    let mut lenient = client("acme:lenient");
    let out = visitor.commit(&[kp(&mut lenient)], &[]).unwrap();
    visitor.merge().unwrap();
    lenient.join(&out.welcome.unwrap()).unwrap();
    let bad = lenient.commit(&[kp(&mut impostor)], &[]).unwrap();
    assert!(matches!(
        visitor.process(&bad.commit),
        Err(MlsError::Credential(_))
    ));
    // ...and a strict newcomer refuses a Welcome into a group holding the impostor.
    lenient.merge().unwrap();
    let mut newcomer = Client::new(b"acme:new", strict).unwrap();
    let out = lenient.commit(&[kp(&mut newcomer)], &[]).unwrap();
    assert!(matches!(
        newcomer.join(&out.welcome.unwrap()),
        Err(MlsError::Credential(_))
    ));
}

#[test]
fn garbage_and_out_of_profile_messages_are_errors_not_panics() {
    let mut visitor = client("visitor");
    visitor.create_group(b"g-bad").unwrap();
    assert!(matches!(visitor.process(b""), Err(MlsError::Malformed(_))));
    assert!(matches!(
        visitor.process(&[0, 1, 0, 1, 0xff]),
        Err(MlsError::Malformed(_))
    ));
    assert!(matches!(
        visitor.join(b"\x00\x01\x00\x03"),
        Err(MlsError::Malformed(_))
    ));
    let mut other = client("other");
    let kp_bytes = kp(&mut other);
    // A key package is not a group message.
    assert!(matches!(
        visitor.process(&kp_bytes),
        Err(MlsError::Malformed(_))
    ));
}

#[test]
fn padding_hides_message_lengths_in_buckets() {
    let mut visitor = client("visitor");
    let mut agent = client("agent");
    visitor.create_group(b"g-pad").unwrap();
    let out = visitor.commit(&[kp(&mut agent)], &[]).unwrap();
    visitor.merge().unwrap();
    agent.join(&out.welcome.unwrap()).unwrap();
    let short = visitor.send(b"hi").unwrap();
    let longer = visitor.send(&[b'x'; 150]).unwrap();
    assert_eq!(
        short.len(),
        longer.len(),
        "both fit the first 256-byte bucket"
    );
    let long = visitor.send(&[b'x'; 300]).unwrap();
    assert!(long.len() > short.len());
}
