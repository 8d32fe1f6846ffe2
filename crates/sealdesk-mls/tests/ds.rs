//! The delivery service's validation (`sealdesk_mls::ds`) against real openmls clients.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use sealdesk_mls::ds::{DsError, GroupView, check_welcome};
use sealdesk_mls::{Client, CredentialCheck, profile};

struct Anyone;

impl CredentialCheck for Anyone {
    fn check(&self, _: &[u8], _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

fn client(identity: &str) -> Client {
    Client::new(identity.as_bytes(), Arc::new(Anyone)).unwrap()
}

fn kp(c: &mut Client) -> Vec<u8> {
    c.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME).unwrap()
}

/// Visitor alone in a new group, and the server's view of it.
fn started(group_id: &[u8]) -> (Client, GroupView) {
    let mut visitor = client("visitor");
    visitor.create_group(group_id).unwrap();
    let view = GroupView::from_group_info(&visitor.group_info().unwrap()).unwrap();
    (visitor, view)
}

/// Visitor and agent in a group the server follows, at epoch 1.
fn with_agent() -> (Client, Client, GroupView) {
    let (mut visitor, mut view) = started(b"g-ds");
    let mut agent = client("agent");
    let out = visitor.commit(&[kp(&mut agent)], &[]).unwrap();
    check_welcome(out.welcome.as_ref().unwrap()).unwrap();
    let staged = view.stage_commit(&out.commit).unwrap();
    assert_eq!(staged.summary.added.len(), 1);
    assert_eq!(staged.summary.added[0].identity, b"agent");
    assert_eq!(staged.summary.added[0].signature_key, agent.signature_key());
    assert_eq!(staged.summary.epoch, 1);
    view.merge(staged).unwrap();
    visitor.merge().unwrap();
    agent.join(&out.welcome.unwrap()).unwrap();
    (visitor, agent, view)
}

#[test]
fn the_view_follows_the_group_through_adds_and_removes() {
    let (mut visitor, mut agent, mut view) = with_agent();
    assert_eq!(view.members(), visitor.epoch_info().unwrap().members);
    let mut second = client("agent-2");
    let agent_leaf = 1;
    let out = visitor.commit(&[kp(&mut second)], &[agent_leaf]).unwrap();
    let staged = view.stage_commit(&out.commit).unwrap();
    assert_eq!(staged.summary.committer.leaf, 0);
    assert_eq!(staged.summary.committer.identity, b"visitor");
    assert_eq!(staged.summary.removed.len(), 1);
    assert_eq!(staged.summary.removed[0].identity, b"agent");
    view.merge(staged).unwrap();
    visitor.merge().unwrap();
    agent.process(&out.commit).unwrap();
    assert_eq!(view.epoch(), 2);
    assert_eq!(view.members(), visitor.epoch_info().unwrap().members);
    view.check_application(&visitor.send(b"hi").unwrap())
        .unwrap();
}

#[test]
fn the_loser_of_two_commits_in_one_epoch_is_told_the_epoch() {
    let (mut visitor, mut agent, mut view) = with_agent();
    let first = visitor.self_update().unwrap();
    let second = agent.self_update().unwrap();
    let staged = view.stage_commit(&first).unwrap();
    view.merge(staged).unwrap();
    assert_eq!(
        view.stage_commit(&second).unwrap_err(),
        DsError::StaleEpoch { current: 2 }
    );
    // A replay of the accepted commit is stale too.
    assert_eq!(
        view.stage_commit(&first).unwrap_err(),
        DsError::StaleEpoch { current: 2 }
    );
}

#[test]
fn application_messages_are_accepted_for_four_epochs_only() {
    let (mut visitor, mut agent, mut view) = with_agent();
    let at_epoch_1 = agent.send(b"typed at epoch 1").unwrap();
    for _ in 0..3 {
        let commit = visitor.self_update().unwrap();
        view.merge(view.stage_commit(&commit).unwrap()).unwrap();
        visitor.merge().unwrap();
    }
    assert_eq!(view.epoch(), 4);
    view.check_application(&at_epoch_1).unwrap();
    let commit = visitor.self_update().unwrap();
    view.merge(view.stage_commit(&commit).unwrap()).unwrap();
    assert_eq!(
        view.check_application(&at_epoch_1).unwrap_err(),
        DsError::StaleEpoch { current: 5 }
    );
}

#[test]
fn out_of_profile_and_malformed_input_is_refused() {
    let (mut visitor, mut agent, view) = with_agent();
    let app = agent.send(b"x").unwrap();
    assert!(matches!(view.stage_commit(&app), Err(DsError::Rejected(_))));
    let commit = visitor.self_update().unwrap();
    assert!(matches!(
        view.check_application(&commit),
        Err(DsError::Rejected(_))
    ));
    assert!(matches!(view.stage_commit(b""), Err(DsError::Malformed(_))));
    let mut trailing = commit.clone();
    trailing.push(0);
    assert!(matches!(
        view.stage_commit(&trailing),
        Err(DsError::Malformed(_))
    ));
    // A commit ends with signature<V>, confirmation_tag<V> and membership_tag<V> (RFC 9420
    // §6.2): flip a byte in the middle of the 64-byte signature. (The membership tag is keyed
    // with a group secret the server does not hold: only members can check it.)
    let mut flipped = commit.clone();
    let in_signature = flipped.len() - 33 - 33 - 32;
    flipped[in_signature] ^= 1;
    assert!(matches!(
        view.stage_commit(&flipped),
        Err(DsError::Rejected(_) | DsError::Malformed(_))
    ));
    assert!(matches!(check_welcome(&commit), Err(DsError::Rejected(_))));
    assert!(matches!(
        GroupView::from_group_info(&commit),
        Err(DsError::Rejected(_))
    ));

    // Messages of another group.
    let (mut other, _) = started(b"g-other");
    assert!(matches!(
        view.check_application(&other.send(b"y").unwrap()),
        Err(DsError::Rejected(_))
    ));
}

#[test]
fn a_group_starts_at_epoch_0_with_its_creator_alone() {
    let (visitor, _, _) = with_agent();
    assert!(matches!(
        GroupView::from_group_info(&visitor.group_info().unwrap()),
        Err(DsError::Rejected(_))
    ));
}
