//! The delivery service's membership policy (E2EE.md §9.3), applied to a commit after
//! `PublicGroup` accepted it, for a tenant that set up its key hierarchy:
//!
//! - every member a commit adds is either a visitor's pseudonymous leaf or a device whose
//!   certificate chain leads to one of the tenant's root keys, bound to the leaf's key;
//! - there is at most one visitor leaf;
//! - the History Member never commits, and is removed only when another one is added in the
//!   same commit (a rotation), one for one, by an agent or a supervisor (E2EE.md §3
//!   "Rotation": agent consoles re-key open conversations; a visitor never does);
//! - only tenant devices remove tenant devices (a visitor cannot evict the agent);
//! - a new group's creator is a visitor or a certified agent or supervisor.
//!
//! Clients check the same chains and are authoritative (E2EE.md §4); the server's check is
//! defence in depth, so a buggy or malicious client cannot slip an impostor past the others.

use crate::certs::{Role, TrustAnchor, Verified, verify_identity};
use crate::ds::{CommitSummary, DsError, Leaf};

fn verified(leaf: &Leaf, anchor: &TrustAnchor, now: u64) -> Result<Verified, DsError> {
    verify_identity(&leaf.identity, &leaf.signature_key, anchor, now)
        .map_err(|e| DsError::Rejected(format!("member credential: {e}")))
}

fn role(v: &Verified) -> Option<Role> {
    match v {
        Verified::Device(body) => Some(body.role),
        Verified::Visitor(_) => None,
    }
}

/// Checks a group's creator (the signer of its first `GroupInfo`).
pub fn check_creator(creator: &Leaf, anchor: &TrustAnchor, now: u64) -> Result<(), DsError> {
    match role(&verified(creator, anchor, now)?) {
        None | Some(Role::Agent | Role::Supervisor) => Ok(()),
        Some(_) => Err(DsError::Rejected(
            "a group is created by a visitor, an agent or a supervisor".into(),
        )),
    }
}

/// Checks a validated commit against the policy; `roster` is the group before the commit.
/// Existing members are not re-verified (their certificates were checked when they joined).
pub fn check_commit(
    summary: &CommitSummary,
    roster: &[Leaf],
    anchor: &TrustAnchor,
    now: u64,
) -> Result<(), DsError> {
    let committer = role(&verified(&summary.committer, anchor, now)?);
    if committer == Some(Role::History) {
        return Err(DsError::Rejected("the History Member never commits".into()));
    }
    let mut histories_added = 0;
    let mut visitors_added = 0;
    for added in &summary.added {
        match role(&verified(added, anchor, now)?) {
            None => visitors_added += 1,
            Some(Role::History) => histories_added += 1,
            Some(Role::Issuing) => {
                return Err(DsError::Rejected("an issuing key is not a member".into()));
            }
            Some(Role::Agent | Role::Supervisor) => {}
        }
    }
    if histories_added > 1 {
        return Err(DsError::Rejected(
            "a commit adds at most one History Member".into(),
        ));
    }
    let adds_history = histories_added == 1;
    let removed_leaves: Vec<u32> = summary.removed.iter().map(|l| l.leaf).collect();
    let histories_removed = summary
        .removed
        .iter()
        .filter(|l| is_history(&l.identity))
        .count();
    if histories_removed > 0 && !matches!(committer, Some(Role::Agent | Role::Supervisor)) {
        // E2EE.md §3: the re-key after a team key rotation is an agent console's commit.
        return Err(DsError::Rejected(
            "only an agent or a supervisor rotates the History Member".into(),
        ));
    }
    if histories_removed > 1 {
        return Err(DsError::Rejected(
            "a rotation replaces one History Member".into(),
        ));
    }
    for removed in &summary.removed {
        // A member whose certificate has expired since it joined is still a tenant device.
        let was_device = !removed
            .identity
            .starts_with(crate::certs::VISITOR_MAGIC.as_slice());
        if was_device && committer.is_none() {
            return Err(DsError::Rejected(
                "only tenant members remove tenant members".into(),
            ));
        }
        if is_history(&removed.identity) && !adds_history {
            return Err(DsError::Rejected(
                "the History Member is only removed when another one is added".into(),
            ));
        }
    }
    let visitors_left = roster
        .iter()
        .filter(|l| !removed_leaves.contains(&l.leaf))
        .filter(|l| {
            l.identity
                .starts_with(crate::certs::VISITOR_MAGIC.as_slice())
        })
        .count();
    if visitors_left + visitors_added > 1 {
        return Err(DsError::Rejected(
            "a conversation has at most one visitor".into(),
        ));
    }
    Ok(())
}

/// Whether an identity is a History Member's chain (read from the device certificate's role
/// byte without checking validity: removal rules apply to expired members too).
fn is_history(identity: &[u8]) -> bool {
    crate::certs::device_role(identity) == Some(Role::History)
}
