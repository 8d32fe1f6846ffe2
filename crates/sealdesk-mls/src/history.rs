//! Replaying a conversation as its History Member (E2EE.md §6): whoever opened the member's
//! bundle (a team member with the team key, an owner with the archive key) joins from the
//! Welcome in the log, follows every commit and decrypts every message after it. This is the
//! queue preview, the history later agents see, and the archive.
//!
//! Certificates are checked at each entry's own time, since an archive is read long after
//! the devices' certificates expired; everything else (signatures, the tree, epochs) is
//! checked as MLS always does.

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
    /// creator's `GroupInfo`.
    Skipped,
}

/// A History Member replaying one conversation's log in order.
pub struct Replay {
    client: Client,
    at: Arc<AtomicU64>,
    /// Our key package's reference (RFC 9420 §5.2): the Welcome that names it is ours.
    own_ref: Vec<u8>,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("joined", &self.client.is_member())
            .finish_non_exhaustive()
    }
}

impl Replay {
    /// A replay of the member whose private parts are `secrets`, checking every member's
    /// certificate chain against `anchor`.
    pub fn new(secrets: &KeyPackageSecrets, anchor: TrustAnchor) -> Result<Self, MlsError> {
        let at = Arc::new(AtomicU64::new(0));
        let clock = Arc::clone(&at);
        let check = ChainCheck::new(anchor, move || clock.load(Ordering::Relaxed));
        let mut client = Client::new(b"history replay", Arc::new(check))?;
        let own_ref = client.import_key_package(secrets)?;
        Ok(Self {
            client,
            at,
            own_ref,
        })
    }

    /// Whether our Welcome has been processed.
    pub fn joined(&self) -> bool {
        self.client.is_member()
    }

    /// Feeds the next entry, appended at `at` (Unix seconds).
    pub fn feed(&mut self, item: LogItem<'_>, at: u64) -> Result<Replayed, MlsError> {
        self.at.store(at, Ordering::Relaxed);
        if !self.client.is_member() {
            return match item {
                // A Welcome for other members (a later agent) is not ours to join; ours
                // must join, and any failure of it is reported.
                LogItem::Welcome(bytes) if addressed_to(bytes, &self.own_ref)? => self
                    .client
                    .join(bytes)
                    .map(|epoch| Replayed::Joined { epoch }),
                _ => Ok(Replayed::Skipped),
            };
        }
        match item {
            LogItem::Welcome(_) => Ok(Replayed::Skipped),
            LogItem::Handshake(bytes) => match self.client.process(bytes) {
                Ok(Processed::Commit { epoch, .. }) => Ok(Replayed::Commit { epoch }),
                Ok(Processed::Application { .. }) => Err(MlsError::Rejected(
                    "application data among the handshakes".into(),
                )),
                // The creator's GroupInfo sits in the log as a handshake (the server's
                // epoch-0 view); it is not a group message.
                Err(MlsError::Malformed(_)) if is_group_info(bytes) => Ok(Replayed::Skipped),
                Err(e) => Err(e),
            },
            LogItem::Application(bytes) => match self.client.process(bytes)? {
                Processed::Application { plaintext, sender } => Ok(Replayed::Message {
                    plaintext,
                    sender: self.client.member_identity(sender).unwrap_or_default(),
                }),
                Processed::Commit { .. } => Err(MlsError::Rejected(
                    "a commit among the application messages".into(),
                )),
            },
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
