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

    let mut replay = Replay::new(&secrets, anchor(&h)).unwrap();
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
    let mut replay = Replay::new(&secrets, anchor(&h)).unwrap();
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
    let mut replay = Replay::new(&secrets, anchor(&h)).unwrap();
    assert!(replay.feed(LogItem::Welcome(&broken), NOW).is_err());
}
