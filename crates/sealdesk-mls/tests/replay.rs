//! History Member replay (`Replay`): it joins from its own Welcome only, skips Welcomes for
//! later members, follows commits and names each message's sender; certificates are checked
//! at each entry's time, so an expired chain no longer verifies later but the log still does.

#![allow(clippy::unwrap_used)]

mod common;

use common::{DAY, NOW, anchor, certified, hierarchy, visitor_identity};
use sealdesk_mls::certs::Role;
use sealdesk_mls::{Client, LogItem, Replay, Replayed, profile};

#[test]
fn the_history_member_replays_only_from_its_own_welcome() {
    let h = hierarchy();
    let mut visitor = Client::new(&visitor_identity(1), common::chain_check(&h)).unwrap();
    let mut agent = certified(&h, Role::Agent, "Jane D.");
    let mut later = certified(&h, Role::Agent, "Omar B.");
    let mut maker = certified(&h, Role::History, "Support archive");
    let hm_kp = maker
        .key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let secrets = maker.export_last_key_package().unwrap();

    visitor.create_group(b"g-replay").unwrap();
    let first = visitor
        .commit(
            &[
                hm_kp,
                agent
                    .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
                    .unwrap(),
            ],
            &[],
        )
        .unwrap();
    visitor.merge().unwrap();
    agent.join(first.welcome.as_ref().unwrap()).unwrap();
    let m1 = visitor.send(b"my order is late").unwrap();
    let second = agent
        .commit(
            &[later
                .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
                .unwrap()],
            &[],
        )
        .unwrap();
    agent.merge().unwrap();
    visitor.process(&second.commit).unwrap();
    let m2 = agent.send(b"Omar will take it from here").unwrap();

    let mut replay = Replay::new(&secrets, &anchor(&h)).unwrap();
    let log = [
        LogItem::Handshake(&visitor.group_info().unwrap()[..]),
        LogItem::Handshake(&first.commit),
        // A Welcome for someone else before ours: skipped, not an error.
        LogItem::Welcome(second.welcome.as_ref().unwrap()),
    ];
    for item in log {
        assert_eq!(replay.feed(item, NOW).unwrap(), Replayed::Skipped);
    }
    assert!(!replay.joined());
    assert_eq!(
        replay
            .feed(LogItem::Welcome(first.welcome.as_ref().unwrap()), NOW)
            .unwrap(),
        Replayed::Joined { epoch: 1 }
    );
    let Replayed::Message { plaintext, sender } =
        replay.feed(LogItem::Application(&m1), NOW).unwrap()
    else {
        panic!("expected the visitor's message");
    };
    assert_eq!(plaintext, b"my order is late");
    assert_eq!(sender, visitor_identity(1));
    // The commit adding Omar is checked at its own time: long after, the chains have expired.
    assert!(
        replay
            .feed(LogItem::Handshake(&second.commit), NOW + 400 * DAY)
            .is_err()
    );
    let mut replay = Replay::new(&secrets, &anchor(&h)).unwrap();
    replay
        .feed(LogItem::Welcome(first.welcome.as_ref().unwrap()), NOW)
        .unwrap();
    replay.feed(LogItem::Application(&m1), NOW).unwrap();
    assert_eq!(
        replay
            .feed(LogItem::Handshake(&second.commit), NOW)
            .unwrap(),
        Replayed::Commit { epoch: 2 }
    );
    let Replayed::Message { plaintext, sender } =
        replay.feed(LogItem::Application(&m2), NOW).unwrap()
    else {
        panic!("expected the agent's message");
    };
    assert_eq!(plaintext, b"Omar will take it from here");
    assert_eq!(sender, agent.identity());
    // A Welcome that is ours but altered is an error, not silently skipped.
    let mut broken = first.welcome.clone().unwrap();
    let last = broken.len() - 1;
    broken[last] ^= 1;
    let mut replay = Replay::new(&secrets, &anchor(&h)).unwrap();
    assert!(replay.feed(LogItem::Welcome(&broken), NOW).is_err());
}

/// A conversation re-keyed after a team key rotation (E2EE.md §3): the agent commits
/// Remove(History Member 1) + Add(History Member 2). Both generations together read every
/// message; generation 1 alone reads only what came before the rotation; generation 2 alone
/// only what came after.
#[test]
fn a_rotated_history_member_hands_over_to_the_next_generation() {
    let h = hierarchy();
    let mut visitor = Client::new(&visitor_identity(1), common::chain_check(&h)).unwrap();
    let mut agent = certified(&h, Role::Agent, "Jane D.");
    let mut first_hm = certified(&h, Role::History, "Support archive");
    let mut second_hm = certified(&h, Role::History, "Support archive");
    let kp1 = first_hm
        .key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let gen1 = first_hm.export_last_key_package().unwrap();
    let kp2 = second_hm
        .key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)
        .unwrap();
    let gen2 = second_hm.export_last_key_package().unwrap();

    visitor.create_group(b"g-rotation").unwrap();
    let info = visitor.group_info().unwrap();
    let add = visitor
        .commit(
            &[
                kp1,
                agent
                    .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
                    .unwrap(),
            ],
            &[],
        )
        .unwrap();
    visitor.merge().unwrap();
    agent.join(add.welcome.as_ref().unwrap()).unwrap();
    let before = visitor.send(b"before the rotation").unwrap();
    let history_leaf = 1;
    let rotation = agent.commit(&[kp2], &[history_leaf]).unwrap();
    agent.merge().unwrap();
    visitor.process(&rotation.commit).unwrap();
    let after = visitor.send(b"after the rotation").unwrap();
    let answer = agent.send(b"the removed agent cannot read this").unwrap();
    let log = [
        LogItem::Handshake(&info),
        LogItem::Handshake(&add.commit),
        LogItem::Welcome(add.welcome.as_ref().unwrap()),
        LogItem::Application(&before),
        LogItem::Handshake(&rotation.commit),
        LogItem::Welcome(rotation.welcome.as_ref().unwrap()),
        LogItem::Application(&after),
        LogItem::Application(&answer),
    ];
    let read = |secrets: &[sealdesk_mls::KeyPackageSecrets]| {
        let mut replay = Replay::generations(secrets, &anchor(&h)).unwrap();
        log.iter()
            .map(|item| match replay.feed(*item, NOW).unwrap() {
                Replayed::Message { plaintext, .. } => String::from_utf8(plaintext).unwrap(),
                Replayed::Unreadable => "?".into(),
                _ => String::new(),
            })
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        read(&[gen1.clone(), gen2.clone()]),
        [
            "before the rotation",
            "after the rotation",
            "the removed agent cannot read this"
        ]
    );
    assert_eq!(read(&[gen1]), ["before the rotation", "?", "?"]);
    assert_eq!(
        read(&[gen2]),
        ["after the rotation", "the removed agent cannot read this"]
    );
}
