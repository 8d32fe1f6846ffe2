//! The delivery service's view of a conversation's group (E2EE.md §9): an openmls
//! `PublicGroup` that holds no secret and reads no content, yet validates every commit before
//! the server sequences it (signatures, membership tag, proposal rules, update-path and
//! parent-hash validity; RFC 9420 §12.4.2), so a bug in one client library cannot fork a
//! conversation for everyone. Application messages are checked only in their framing: group,
//! wire format, content type, epoch window.
//!
//! A conversation's group starts with the creator's `GroupInfo` for epoch 0 carrying the
//! `ratchet_tree` extension (RFC 9420 §12.4.3.3); every later handshake entry is a commit.
//! ts-mls's `external_pub` extension is not parseable by openmls (E2EE.md, pitfalls), so the
//! server never asks for one.

use openmls::prelude::ContentType;
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    Extension, LeafNodeIndex, MlsMessageBodyIn, MlsMessageIn, ProcessedMessageContent, Proposal,
    ProposalStore, ProtocolMessage, PublicGroup, Sender, StagedCommit, WireFormat,
};
use openmls_rust_crypto::{MemoryStorage, RustCrypto};
use openmls_traits::OpenMlsProvider as _;

use crate::{Member, profile};

/// Why the delivery service refuses a handshake, Welcome or application message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsError {
    /// Not a well-formed `MLSMessage`, or not in its canonical encoding.
    #[error("malformed MLS message: {0}")]
    Malformed(String),
    /// A commit built on another epoch: the sender must process the log and retry.
    #[error("the group is at epoch {current}; process the log and build the commit again")]
    StaleEpoch {
        /// The group's epoch.
        current: u64,
    },
    /// The message is well formed but breaks a protocol or profile rule.
    #[error("rejected: {0}")]
    Rejected(String),
}

fn rejected(e: impl std::fmt::Display) -> DsError {
    DsError::Rejected(e.to_string())
}

/// Decodes an `MLSMessage` and requires it to re-encode to the same bytes, so no two
/// encodings of one message can travel (E2EE.md §9.3, strict mode; RFC 9420 §6).
fn decode(bytes: &[u8]) -> Result<MlsMessageBodyIn, DsError> {
    let message = MlsMessageIn::tls_deserialize_exact(bytes)
        .map_err(|e| DsError::Malformed(e.to_string()))?;
    let again = message
        .tls_serialize_detached()
        .map_err(|e| DsError::Malformed(e.to_string()))?;
    if again != bytes {
        return Err(DsError::Malformed("not in canonical encoding".into()));
    }
    Ok(message.extract())
}

/// Checks a Welcome's framing: an `MLSMessage` Welcome of our ciphersuite. Its content is
/// encrypted to the new members; they check the rest.
pub fn check_welcome(bytes: &[u8]) -> Result<(), DsError> {
    match decode(bytes)? {
        MlsMessageBodyIn::Welcome(w) if w.ciphersuite() == profile::CIPHERSUITE => Ok(()),
        MlsMessageBodyIn::Welcome(_) => {
            Err(DsError::Rejected("Welcome for another ciphersuite".into()))
        }
        _ => Err(DsError::Rejected("not a Welcome".into())),
    }
}

/// A leaf as the server sees it: credential identity and signature key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// Leaf index (for added members: not known until merged, so 0).
    pub leaf: u32,
    /// The Basic credential's content.
    pub identity: Vec<u8>,
    /// The leaf's signature key.
    pub signature_key: Vec<u8>,
    /// For a member being added: its key package reference (RFC 9420 §5.2).
    pub key_package_ref: Option<Vec<u8>>,
}

/// What a commit changes, for the server's membership policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSummary {
    /// The epoch the commit creates.
    pub epoch: u64,
    /// The committer.
    pub committer: Leaf,
    /// The members added.
    pub added: Vec<Leaf>,
    /// The members removed.
    pub removed: Vec<Leaf>,
}

/// A validated commit, not yet merged: merge it once it is durably in the log.
#[derive(Debug)]
pub struct StagedView {
    staged: StagedCommit,
    /// What it changes.
    pub summary: CommitSummary,
}

/// The server's content-free view of one group.
pub struct GroupView {
    crypto: RustCrypto,
    storage: MemoryStorage,
    group: PublicGroup,
}

impl std::fmt::Debug for GroupView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupView")
            .field("epoch", &self.epoch())
            .finish_non_exhaustive()
    }
}

impl GroupView {
    /// Starts tracking a group from its creator's epoch-0 `GroupInfo` (with the ratchet tree
    /// extension): verifies the tree, the signature and our ciphersuite, and that the creator
    /// is alone in it.
    pub fn from_group_info(bytes: &[u8]) -> Result<Self, DsError> {
        let MlsMessageBodyIn::GroupInfo(info) = decode(bytes)? else {
            return Err(DsError::Rejected(
                "a new group starts with its GroupInfo".into(),
            ));
        };
        if info.ciphersuite() != profile::CIPHERSUITE {
            return Err(DsError::Rejected(
                "GroupInfo for another ciphersuite".into(),
            ));
        }
        let tree = info
            .extensions()
            .iter()
            .find_map(|e| match e {
                Extension::RatchetTree(t) => Some(t.ratchet_tree().clone()),
                _ => None,
            })
            .ok_or_else(|| {
                DsError::Rejected("the GroupInfo lacks the ratchet_tree extension".into())
            })?;
        let crypto = RustCrypto::default();
        let storage = MemoryStorage::default();
        let (group, _) =
            PublicGroup::from_external(&crypto, &storage, tree, info, ProposalStore::new())
                .map_err(rejected)?;
        let view = Self {
            crypto,
            storage,
            group,
        };
        if view.epoch() != 0 || view.group.members().count() != 1 {
            return Err(DsError::Rejected(
                "a new group starts at epoch 0 with its creator alone".into(),
            ));
        }
        Ok(view)
    }

    /// The group's current epoch.
    pub fn epoch(&self) -> u64 {
        self.group.group_context().epoch().as_u64()
    }

    /// The group id.
    pub fn group_id(&self) -> &[u8] {
        self.group.group_id().as_slice()
    }

    /// The roster.
    pub fn members(&self) -> Vec<Member> {
        self.group
            .members()
            .map(|m| Member {
                leaf: m.index.u32(),
                identity: m.credential.serialized_content().to_vec(),
            })
            .collect()
    }

    fn leaf_info(&self, index: LeafNodeIndex) -> Result<Leaf, DsError> {
        let node = self
            .group
            .leaf(index)
            .ok_or_else(|| DsError::Rejected("refers to an empty leaf".into()))?;
        Ok(Leaf {
            leaf: index.u32(),
            identity: node.credential().serialized_content().to_vec(),
            signature_key: node.signature_key().as_slice().to_vec(),
            key_package_ref: None,
        })
    }

    /// Every member's leaf.
    pub fn leaves(&self) -> Vec<Leaf> {
        self.group
            .members()
            .map(|m| Leaf {
                leaf: m.index.u32(),
                identity: m.credential.serialized_content().to_vec(),
                signature_key: m.signature_key.clone(),
                key_package_ref: None,
            })
            .collect()
    }

    fn protocol_message(&self, bytes: &[u8]) -> Result<ProtocolMessage, DsError> {
        let message: ProtocolMessage = match decode(bytes)? {
            MlsMessageBodyIn::PublicMessage(m) => m.into(),
            MlsMessageBodyIn::PrivateMessage(m) => m.into(),
            _ => return Err(DsError::Rejected("not a group message".into())),
        };
        if message.group_id().as_slice() != self.group_id() {
            return Err(DsError::Rejected("message for another group".into()));
        }
        Ok(message)
    }

    /// Validates a commit against the current epoch (the compare-and-swap of E2EE.md §9.2)
    /// and the v1 profile: a `PublicMessage` from a member, carrying only by-value Add and
    /// Remove proposals (or none: a self-update).
    pub fn stage_commit(&self, bytes: &[u8]) -> Result<StagedView, DsError> {
        let message = self.protocol_message(bytes)?;
        if message.wire_format() != WireFormat::PublicMessage
            || message.content_type() != ContentType::Commit
        {
            return Err(DsError::Rejected(
                "a handshake entry must be a commit as PublicMessage".into(),
            ));
        }
        if message.epoch().as_u64() != self.epoch() {
            return Err(DsError::StaleEpoch {
                current: self.epoch(),
            });
        }
        let processed = self
            .group
            .process_message(&self.crypto, message)
            .map_err(rejected)?;
        let Sender::Member(committer) = *processed.sender() else {
            return Err(DsError::Rejected(
                "only members commit (no external commits in v1)".into(),
            ));
        };
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
            return Err(DsError::Rejected(
                "standalone proposals are outside the v1 profile".into(),
            ));
        };
        let mut added = Vec::new();
        let mut removed = Vec::new();
        for queued in staged.queued_proposals() {
            match queued.proposal() {
                Proposal::Add(add) => {
                    let node = add.key_package().leaf_node();
                    let reference = add
                        .key_package()
                        .hash_ref(&self.crypto)
                        .map_err(|e| DsError::Rejected(e.to_string()))?;
                    added.push(Leaf {
                        leaf: 0,
                        identity: node.credential().serialized_content().to_vec(),
                        signature_key: node.signature_key().as_slice().to_vec(),
                        key_package_ref: Some(reference.as_slice().to_vec()),
                    });
                }
                Proposal::Remove(remove) => {
                    removed.push(self.leaf_info(remove.removed())?);
                }
                other => {
                    return Err(DsError::Rejected(format!(
                        "{:?} proposals are outside the v1 profile",
                        other.proposal_type()
                    )));
                }
            }
        }
        Ok(StagedView {
            staged: *staged,
            summary: CommitSummary {
                epoch: self.epoch() + 1,
                committer: self.leaf_info(committer)?,
                added,
                removed,
            },
        })
    }

    /// Applies a validated commit (after it is durably in the log).
    pub fn merge(&mut self, staged: StagedView) -> Result<(), DsError> {
        self.group
            .merge_commit(&self.storage, staged.staged)
            .map_err(rejected)
    }

    /// Checks an application message's framing: a `PrivateMessage` of this group with
    /// application content, for the current epoch or one of the three before it (E2EE.md
    /// §9.4; members keep keys for `profile::MAX_PAST_EPOCHS`).
    pub fn check_application(&self, bytes: &[u8]) -> Result<(), DsError> {
        let message = self.protocol_message(bytes)?;
        if message.wire_format() != WireFormat::PrivateMessage
            || message.content_type() != ContentType::Application
        {
            return Err(DsError::Rejected(
                "an application entry must be a PrivateMessage".into(),
            ));
        }
        let epoch = message.epoch().as_u64();
        let current = self.epoch();
        if epoch > current || current - epoch >= APPLICATION_EPOCH_WINDOW {
            return Err(DsError::StaleEpoch { current });
        }
        Ok(())
    }
}

/// Application messages are accepted for the current epoch and the three before it.
pub const APPLICATION_EPOCH_WINDOW: u64 = 4;

/// A key package the directory accepted (E2EE.md §9.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The key package reference (RFC 9420 §5.2): the directory's unique key.
    pub hash_ref: Vec<u8>,
    /// The device's signature key (the certified subject).
    pub device_key: [u8; 32],
    /// The certificate's role.
    pub role: crate::certs::Role,
    /// A History Member's team (zero for other roles).
    pub team: [u8; 16],
    /// Unix seconds after which the key package may not be used.
    pub not_after: u64,
}

/// Validates a key package uploaded to the directory: canonical encoding, our ciphersuite,
/// signatures and a lifetime that covers now (openmls, RFC 9420 §10.1), a lifetime no longer
/// than `max_lifetime_secs` (neither library enforces one), and a credential chaining to the
/// tenant's root, bound to the leaf key, for a device role.
pub fn check_key_package(
    bytes: &[u8],
    anchor: &crate::certs::TrustAnchor,
    now: u64,
    max_lifetime_secs: u64,
) -> Result<DirectoryEntry, DsError> {
    decode(bytes)?;
    let provider = crate::Provider::default();
    let kp = crate::import::parse_key_package(&provider, bytes, crate::import::Lifetimes::Check)
        .map_err(|e| DsError::Rejected(e.to_string()))?;
    if kp.ciphersuite() != profile::CIPHERSUITE {
        return Err(DsError::Rejected(
            "key package for another ciphersuite".into(),
        ));
    }
    let lifetime = kp.life_time();
    if lifetime.not_after().saturating_sub(lifetime.not_before()) > max_lifetime_secs {
        return Err(DsError::Rejected(
            "the key package's lifetime is too long".into(),
        ));
    }
    let leaf = kp.leaf_node();
    let key = leaf.signature_key().as_slice();
    let verified =
        crate::certs::verify_identity(leaf.credential().serialized_content(), key, anchor, now)
            .map_err(|e| DsError::Rejected(format!("key package credential: {e}")))?;
    let crate::certs::Verified::Device(body) = verified else {
        return Err(DsError::Rejected(
            "visitors do not publish key packages".into(),
        ));
    };
    if body.role == crate::certs::Role::Issuing {
        return Err(DsError::Rejected("an issuing key is not a device".into()));
    }
    let hash_ref = kp
        .hash_ref(provider.crypto())
        .map_err(|e| DsError::Rejected(e.to_string()))?
        .as_slice()
        .to_vec();
    Ok(DirectoryEntry {
        hash_ref,
        device_key: body.subject,
        role: body.role,
        team: body.team,
        not_after: lifetime.not_after(),
    })
}
