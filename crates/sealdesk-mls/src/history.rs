//! Replaying a conversation as its History Member (E2EE.md §6): whoever opened the member's
//! bundle (a team member with the team key, an owner with the archive key) joins from the
//! Welcome in the log, follows every commit and decrypts every message after it. This is the
//! queue preview, the history later agents see, and the archive.
//!
//! Certificates are checked at each entry's own time, since an archive is read long after
//! the devices' certificates expired; everything else (signatures, the tree, epochs) is
//! checked as MLS always does.
//!
//! A conversation re-keyed after a team key rotation (E2EE.md §3 "Rotation") had several
//! History Members in turn: the commit `Remove(old) + Add(new)` removes generation n (RFC
//! 9420 §12.1.3: a removed member learns nothing of later epochs) and the Welcome after it
//! brings generation n+1 in at that commit's epoch. A replay given every generation it can
//! open follows the log with each in turn; one given only the old ones reads up to the
//! rotation and reports what follows as [`Replayed::Unreadable`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::certs::{ChainCheck, TrustAnchor};
use crate::{Client, KeyPackageSecrets, MlsError, Processed};

/// One log entry, as the replay needs it.
#[derive(Debug, Clone, Copy)]
pub enum LogItem<'a> {
    /// A Welcome (the History Member's own comes first).
    Welcome(&'a [u8]),
    /// A commit (`PublicMessage`) or the creator's `GroupInfo`.
    Handshake(&'a [u8]),
    /// An application message (`PrivateMessage`).
    Application(&'a [u8]),
}

/// What an entry gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    /// Joined the group from our Welcome.
    Joined {
        /// The epoch joined at.
        epoch: u64,
    },
    /// A commit moved the group to `epoch`.
    Commit {
        /// The new epoch.
        epoch: u64,
    },
    /// A decrypted message.
    Message {
        /// The plaintext (an application payload, `crate::payload`).
        plaintext: Vec<u8>,
        /// The sender's credential identity.
        sender: Vec<u8>,
    },
    /// Nothing for us: a Welcome for someone else, anything before our Welcome, the
    /// creator's `GroupInfo`, a commit after our last member was removed.
    Skipped,
    /// An application message after a rotation removed the last History Member this replay
    /// holds: sealed to a team key version it was not given.
    Unreadable,
}

/// One History Member of the replay.
struct Generation {
    client: Client,
    /// Its key package's reference (RFC 9420 §5.2): the Welcome that names it is ours.
    own_ref: Vec<u8>,
    /// A rotation commit removed it.
    removed: bool,
}

impl Generation {
    fn active(&self) -> bool {
        !self.removed && self.client.is_member()
    }
}

/// A History Member replaying one conversation's log in order (each of its generations in
/// turn, when it was re-keyed).
pub struct Replay {
    generations: Vec<Generation>,
    at: Arc<AtomicU64>,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("generations", &self.generations.len())
            .field("joined", &self.joined())
            .finish_non_exhaustive()
    }
}

impl Replay {
    /// A replay of the member whose private parts are `secrets`, checking every member's
    /// certificate chain against `anchor`.
    pub fn new(secrets: &KeyPackageSecrets, anchor: &TrustAnchor) -> Result<Self, MlsError> {
        Self::generations(std::slice::from_ref(secrets), anchor)
    }

    /// A replay of a conversation's History Members, `secrets` in generation order (those
    /// the reader could open; a missing one only leaves its part of the log unread).
    pub fn generations(
        secrets: &[KeyPackageSecrets],
        anchor: &TrustAnchor,
    ) -> Result<Self, MlsError> {
        if secrets.is_empty() {
            return Err(MlsError::Rejected("no History Member to replay".into()));
        }
        let at = Arc::new(AtomicU64::new(0));
        let mut generations = Vec::with_capacity(secrets.len());
        for s in secrets {
            let clock = Arc::clone(&at);
            let check = ChainCheck::new(anchor.clone(), move || clock.load(Ordering::Relaxed));
            let mut client = Client::new(b"history replay", Arc::new(check))?;
            let own_ref = client.import_key_package(s)?;
            generations.push(Generation {
                client,
                own_ref,
                removed: false,
            });
        }
        Ok(Self { generations, at })
    }

    /// Whether one of our members is in the group now (joined, not removed since).
    pub fn joined(&self) -> bool {
        self.generations.iter().any(Generation::active)
    }

    /// Feeds the next entry, appended at `at` (Unix seconds).
    pub fn feed(&mut self, item: LogItem<'_>, at: u64) -> Result<Replayed, MlsError> {
        self.at.store(at, Ordering::Relaxed);
        match item {
            LogItem::Welcome(bytes) => self.welcome(bytes),
            LogItem::Handshake(bytes) => self.handshake(bytes),
            LogItem::Application(bytes) => self.application(bytes),
        }
    }

    /// A Welcome for other members (a later agent) is not ours to join; ours must join, and
    /// any failure of it is reported.
    fn welcome(&mut self, bytes: &[u8]) -> Result<Replayed, MlsError> {
        for g in &mut self.generations {
            if g.removed || g.client.is_member() {
                continue;
            }
            if addressed_to(bytes, &g.own_ref)? {
                return g.client.join(bytes).map(|epoch| Replayed::Joined { epoch });
            }
        }
        Ok(Replayed::Skipped)
    }

    /// Every member in the group follows a commit; the one it removes (a rotation) stops.
    fn handshake(&mut self, bytes: &[u8]) -> Result<Replayed, MlsError> {
        let mut result = Replayed::Skipped;
        for g in self.generations.iter_mut().filter(|g| g.active()) {
            match g.client.process(bytes) {
                Ok(Processed::Commit {
                    epoch,
                    removed_self,
                }) => {
                    g.removed = removed_self;
                    result = Replayed::Commit { epoch };
                }
                Ok(Processed::Application { .. }) => {
                    return Err(MlsError::Rejected(
                        "application data among the handshakes".into(),
                    ));
                }
                // The creator's GroupInfo sits in the log as a handshake (the server's
                // epoch-0 view); it is not a group message.
                Err(MlsError::Malformed(_)) if is_group_info(bytes) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(result)
    }

    fn application(&mut self, bytes: &[u8]) -> Result<Replayed, MlsError> {
        let Some(g) = self.generations.iter_mut().rev().find(|g| g.active()) else {
            // Before our first Welcome: nothing yet. After a rotation to a member we do not
            // hold: the message is for a team key we were not given.
            let rotated_away = self.generations.iter().any(|g| g.removed);
            return Ok(if rotated_away {
                Replayed::Unreadable
            } else {
                Replayed::Skipped
            });
        };
        match g.client.process(bytes)? {
            Processed::Application { plaintext, sender } => Ok(Replayed::Message {
                plaintext,
                sender: g.client.member_identity(sender).unwrap_or_default(),
            }),
            Processed::Commit { .. } => Err(MlsError::Rejected(
                "a commit among the application messages".into(),
            )),
        }
    }
}

/// Whether the Welcome carries group secrets for the key package `own_ref` (the reference of
/// RFC 9420 §5.2): a device holding several key packages joins with the one it names.
pub fn addressed_to(welcome: &[u8], own_ref: &[u8]) -> Result<bool, MlsError> {
    use openmls::prelude::tls_codec::Deserialize as _;
    use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn};
    let message = MlsMessageIn::tls_deserialize_exact(welcome)
        .map_err(|e| MlsError::Malformed(format!("welcome: {e}")))?;
    let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
        return Err(MlsError::Malformed("not a Welcome".into()));
    };
    Ok(welcome
        .secrets()
        .iter()
        .any(|s| s.new_member().as_slice() == own_ref))
}

fn is_group_info(bytes: &[u8]) -> bool {
    use openmls::prelude::tls_codec::Deserialize as _;
    use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn};
    MlsMessageIn::tls_deserialize_exact(bytes)
        .is_ok_and(|m| matches!(m.extract(), MlsMessageBodyIn::GroupInfo(_)))
}
