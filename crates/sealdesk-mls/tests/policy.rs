//! The delivery service's membership policy over real openmls commits and certified members.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Hierarchy, NOW, anchor, certified, chain_check, hierarchy, visitor_identity};
use sealdesk_mls::certs::Role;
use sealdesk_mls::ds::{DsError, GroupView};
use sealdesk_mls::{Client, policy, profile};

fn kp(c: &mut Client) -> Vec<u8> {
    c.key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME).unwrap()
}

/// The server's verdict on `commit` for the group `view` follows.
fn verdict(view: &GroupView, h: &Hierarchy, commit: &[u8]) -> Result<(), DsError> {
    let staged = view.stage_commit(commit)?;
    policy::check_commit(&staged.summary, &view.leaves(), &anchor(h), NOW)
}

/// Applies an accepted commit to the server's view and the committer.
fn accept(view: &mut GroupView, committer: &mut Client, commit: &[u8]) {
    view.merge(view.stage_commit(commit).unwrap()).unwrap();
    committer.merge().unwrap();
}

struct Scene {
    h: Hierarchy,
    view: GroupView,
    visitor: Client,
    agent: Client,
    history: Client,
}

/// A visitor's group with a History Member and an agent, accepted by the policy.
fn scene() -> Scene {
    let h = hierarchy();
    let mut visitor = Client::new(&visitor_identity(1), chain_check(&h)).unwrap();
    visitor.create_group(b"g-policy").unwrap();
    let mut view = GroupView::from_group_info(&visitor.group_info().unwrap()).unwrap();
    policy::check_creator(&view.leaves()[0], &anchor(&h), NOW).unwrap();
    let mut history = certified(&h, Role::History, "Support archive");
    let mut agent = certified(&h, Role::Agent, "Jane D.");
    let out = visitor
        .commit(&[kp(&mut history), kp(&mut agent)], &[])
        .unwrap();
    verdict(&view, &h, &out.commit).unwrap();
    accept(&mut view, &mut visitor, &out.commit);
    let welcome = out.welcome.unwrap();
    history.join(&welcome).unwrap();
    agent.join(&welcome).unwrap();
    Scene {
        h,
        view,
        visitor,
        agent,
        history,
    }
}

fn rejected(result: Result<(), DsError>, why: &str) {
    match result {
        Err(DsError::Rejected(reason)) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected a rejection ({why}), got {other:?}"),
    }
}

#[test]
fn certified_members_are_added_and_impostors_are_not() {
    let mut s = scene();
    // An impostor with an uncertified credential (its client trusts nobody's check).
    let mut impostor = Client::new(b"ACME support", chain_check(&s.h)).unwrap();
    // The visitor's own client would refuse it; a buggy client might not, so the server
    // checks again: here the commit is built by a client without the check.
    let mut lenient = Client::new(&visitor_identity(1), std::sync::Arc::new(AnyOne)).unwrap();
    lenient.create_group(b"g-lenient").unwrap();
    let lenient_view = GroupView::from_group_info(&lenient.group_info().unwrap()).unwrap();
    let out = lenient.commit(&[kp(&mut impostor)], &[]).unwrap();
    rejected(
        verdict(&lenient_view, &s.h, &out.commit),
        "member credential",
    );

    // A supervisor joins (the agent commits it).
    let mut supervisor = certified(&s.h, Role::Supervisor, "Sam S.");
    let out = s.agent.commit(&[kp(&mut supervisor)], &[]).unwrap();
    verdict(&s.view, &s.h, &out.commit).unwrap();
    accept(&mut s.view, &mut s.agent, &out.commit);
}

struct AnyOne;

impl sealdesk_mls::CredentialCheck for AnyOne {
    fn check(&self, _: &[u8], _: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn a_visitor_cannot_evict_the_agent_but_the_agent_can_transfer() {
    let mut s = scene();
    let agent_leaf = 2;
    let out = s.visitor.commit(&[], &[agent_leaf]).unwrap();
    rejected(verdict(&s.view, &s.h, &out.commit), "only tenant members");
    s.visitor.discard().unwrap();
    // Transfer: a second agent in, the first one out, committed by a tenant member. (MLS
    // does not let the agent remove itself, so the History Member's holder or a colleague's
    // console commits it; here a supervisor.)
    let mut supervisor = certified(&s.h, Role::Supervisor, "Sam S.");
    let out = s.agent.commit(&[kp(&mut supervisor)], &[]).unwrap();
    accept(&mut s.view, &mut s.agent, &out.commit);
    supervisor.join(&out.welcome.unwrap()).unwrap();
    let mut second = certified(&s.h, Role::Agent, "Bob B.");
    let out = supervisor
        .commit(&[kp(&mut second)], &[agent_leaf])
        .unwrap();
    verdict(&s.view, &s.h, &out.commit).unwrap();
}

#[test]
fn the_history_member_never_commits_and_is_only_rotated() {
    let mut s = scene();
    let update = s.history.self_update().unwrap();
    rejected(verdict(&s.view, &s.h, &update), "never commits");
    let history_leaf = 1;
    let out = s.agent.commit(&[], &[history_leaf]).unwrap();
    rejected(
        verdict(&s.view, &s.h, &out.commit),
        "only removed when another one is added",
    );
    s.agent.discard().unwrap();
    let mut rotated = certified(&s.h, Role::History, "Support archive v2");
    let out = s
        .agent
        .commit(&[kp(&mut rotated)], &[history_leaf])
        .unwrap();
    verdict(&s.view, &s.h, &out.commit).unwrap();
}

/// E2EE.md §3 "Rotation": agent consoles re-key; a visitor's client may not swap the History
/// Member (it could pick one its team cannot open), and a rotation is one for one.
#[test]
fn only_staff_rotate_the_history_member_one_for_one() {
    let mut s = scene();
    let history_leaf = 1;
    let mut rotated = certified(&s.h, Role::History, "Support archive v2");
    let out = s
        .visitor
        .commit(&[kp(&mut rotated)], &[history_leaf])
        .unwrap();
    rejected(
        verdict(&s.view, &s.h, &out.commit),
        "only an agent or a supervisor rotates",
    );
    s.visitor.discard().unwrap();
    let mut another = certified(&s.h, Role::History, "Support archive v2b");
    let out = s
        .agent
        .commit(&[kp(&mut rotated), kp(&mut another)], &[history_leaf])
        .unwrap();
    rejected(
        verdict(&s.view, &s.h, &out.commit),
        "at most one History Member",
    );
    s.agent.discard().unwrap();
    // A supervisor may rotate too.
    let mut supervisor = certified(&s.h, Role::Supervisor, "Sam S.");
    let out = s.agent.commit(&[kp(&mut supervisor)], &[]).unwrap();
    accept(&mut s.view, &mut s.agent, &out.commit);
    supervisor.join(&out.welcome.unwrap()).unwrap();
    let out = supervisor
        .commit(&[kp(&mut another)], &[history_leaf])
        .unwrap();
    verdict(&s.view, &s.h, &out.commit).unwrap();
}

#[test]
fn one_visitor_per_conversation_and_only_people_create_groups() {
    let s = scene();
    let mut agent = s.agent;
    let mut second_visitor = Client::new(&visitor_identity(2), chain_check(&s.h)).unwrap();
    let out = agent.commit(&[kp(&mut second_visitor)], &[]).unwrap();
    rejected(verdict(&s.view, &s.h, &out.commit), "at most one visitor");

    let mut history = certified(&s.h, Role::History, "Support archive");
    history.create_group(b"g-by-history").unwrap();
    let view = GroupView::from_group_info(&history.group_info().unwrap()).unwrap();
    rejected(
        policy::check_creator(&view.leaves()[0], &anchor(&s.h), NOW),
        "created by",
    );
}
