//! One MLS client: a signature key, a credential, at most one group (one conversation).
//! Used by the terminal agent, the History Member replay of the archive tools and the interop
//! test agent. Commits of ours stay pending until the server acknowledges them (E2EE.md §7,
//! "Commit journal"): `merge` after the ack, `discard` after a rejection.

use std::sync::Arc;
use std::time::Duration;

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::{
    BasicCredential, ContentType, CredentialWithKey, GroupId, KeyPackage, KeyPackageBundle,
    LeafNodeIndex, Lifetime, MlsGroup, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut,
    ProcessedMessageContent, ProtocolMessage, StagedWelcome, WireFormat,
};
use openmls_traits::OpenMlsProvider;
use openmls_traits::random::OpenMlsRand as _;

use crate::import::{self, KeyPackageSecrets, Lifetimes};
use crate::signer::DeviceSigner;
use crate::{MlsError, Provider, profile};

/// The caller's check of a member's credential identity (our device certificates, in
/// production). Called for every member a commit adds and every member of a group we join,
/// because neither MLS library authenticates credentials itself (RFC 9420 §5.3.1: the
/// application must).
pub trait CredentialCheck: Send + Sync {
    /// `Err(reason)` refuses the commit or Welcome that brings this member in: `identity` is
    /// the Basic credential's content, `signature_key` the leaf's (a credential must be bound
    /// to the key that signs with it).
    fn check(&self, identity: &[u8], signature_key: &[u8]) -> Result<(), String>;
}

/// Messages to send for a commit of ours.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The commit, a `PublicMessage`.
    pub commit: Vec<u8>,
    /// The Welcome for added members, if any.
    pub welcome: Option<Vec<u8>>,
}

/// The result of processing an incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// Decrypted application data from a member.
    Application {
        /// The plaintext.
        plaintext: Vec<u8>,
        /// The sender's leaf.
        sender: u32,
    },
    /// Another member's commit, merged: the group moved to `epoch`.
    Commit {
        /// The new epoch.
        epoch: u64,
        /// This client was removed by the commit.
        removed_self: bool,
    },
}

/// One member of the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Leaf index.
    pub leaf: u32,
    /// Credential identity bytes.
    pub identity: Vec<u8>,
}

/// What every member of a healthy group agrees on at an epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochInfo {
    /// The epoch number.
    pub epoch: u64,
    /// RFC 9420 §8.7 epoch authenticator.
    pub authenticator: Vec<u8>,
    /// `MLS-Exporter("lc-test", "", 32)` (RFC 9420 §8.5).
    pub exporter: Vec<u8>,
    /// The roster, by leaf.
    pub members: Vec<Member>,
}

/// An MLS client with at most one group.
pub struct Client {
    provider: Provider,
    signer: DeviceSigner,
    credential: CredentialWithKey,
    identity: Vec<u8>,
    group: Option<MlsGroup>,
    last_bundle: Option<KeyPackageBundle>,
    check: Arc<dyn CredentialCheck>,
    /// Made by `import_key_package` to replay a History Member: joins skip lifetime checks.
    replay: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("epoch", &self.group.as_ref().map(|g| g.epoch().as_u64()))
            .finish_non_exhaustive()
    }
}

fn credential_for(identity: &[u8], signer: &DeviceSigner) -> CredentialWithKey {
    CredentialWithKey {
        credential: BasicCredential::new(identity.to_vec()).into(),
        signature_key: signer.public().into(),
    }
}

fn lifetime(duration: Duration) -> Lifetime {
    Lifetime::new(duration.as_secs())
}

fn encode(message: &MlsMessageOut) -> Result<Vec<u8>, MlsError> {
    message.tls_serialize_detached().map_err(MlsError::library)
}

impl Client {
    /// A client with a fresh Ed25519 signature key and a Basic credential carrying `identity`.
    pub fn new(identity: &[u8], check: Arc<dyn CredentialCheck>) -> Result<Self, MlsError> {
        let provider = Provider::default();
        let seed = zeroize::Zeroizing::new(
            provider
                .rand()
                .random_array::<32>()
                .map_err(MlsError::library)?,
        );
        Ok(Self::with_signer(
            identity,
            DeviceSigner::from_seed(seed.as_slice())?,
            check,
        ))
    }

    /// A client signing with the device's own key (the one its certificate names and that
    /// also signs the objects the device seals).
    pub fn with_signer(
        identity: &[u8],
        signer: DeviceSigner,
        check: Arc<dyn CredentialCheck>,
    ) -> Self {
        let provider = Provider::default();
        let credential = credential_for(identity, &signer);
        Self {
            provider,
            signer,
            credential,
            identity: identity.to_vec(),
            group: None,
            last_bundle: None,
            check,
            replay: false,
        }
    }

    /// Replaces the credential identity, for example with the device's certificate chain once
    /// an admin certified its signature key; key packages and groups made afterwards use it.
    pub fn set_identity(&mut self, identity: &[u8]) {
        self.identity = identity.to_vec();
        self.credential = credential_for(identity, &self.signer);
    }

    /// The public signature key.
    pub fn signature_key(&self) -> Vec<u8> {
        self.signer.public()
    }

    fn group(&self) -> Result<&MlsGroup, MlsError> {
        self.group
            .as_ref()
            .filter(|g| g.is_active())
            .ok_or(MlsError::NoGroup)
    }

    /// Provider, signer and the active group without a pending commit: what a new message or
    /// commit needs (one pending commit at a time, E2EE.md §7).
    fn ready(&mut self) -> Result<(&Provider, &DeviceSigner, &mut MlsGroup), MlsError> {
        let group = self
            .group
            .as_mut()
            .filter(|g| g.is_active())
            .ok_or(MlsError::NoGroup)?;
        if group.pending_commit().is_some() {
            return Err(MlsError::PendingCommit);
        }
        Ok((&self.provider, &self.signer, group))
    }

    /// A fresh key package valid for `valid_for`, `MLSMessage`-encoded; its private part stays
    /// in this client's store for a later `join`.
    pub fn key_package(&mut self, valid_for: Duration) -> Result<Vec<u8>, MlsError> {
        let bundle = KeyPackage::builder()
            .key_package_lifetime(lifetime(valid_for))
            .build(
                profile::CIPHERSUITE,
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )
            .map_err(MlsError::library)?;
        let out = MlsMessageOut::from(bundle.key_package().clone());
        self.last_bundle = Some(bundle);
        encode(&out)
    }

    /// The private parts of the last key package, for a History Member made here and replayed
    /// elsewhere.
    pub fn export_last_key_package(&self) -> Result<KeyPackageSecrets, MlsError> {
        let bundle = self
            .last_bundle
            .as_ref()
            .ok_or_else(|| MlsError::State("no key package yet".into()))?;
        let (init_private, encryption_private) = import::bundle_private_keys(bundle)?;
        Ok(KeyPackageSecrets {
            key_package: encode(&MlsMessageOut::from(bundle.key_package().clone()))?,
            init_private,
            encryption_private,
            signature_private: self.signer.seed().to_vec(),
        })
    }

    /// Makes a key package generated elsewhere joinable here (History Member replay). The
    /// signature key becomes this client's, so the roster shows the imported leaf as ours.
    /// Returns the key package's reference (RFC 9420 §5.2).
    pub fn import_key_package(&mut self, secrets: &KeyPackageSecrets) -> Result<Vec<u8>, MlsError> {
        let key_package = import::store_bundle(&self.provider, secrets)?;
        let leaf = key_package.leaf_node();
        let public = leaf.signature_key().as_slice().to_vec();
        let signer = DeviceSigner::from_seed(&secrets.signature_private)?;
        if signer.public() != public {
            return Err(MlsError::Rejected(
                "the signature key does not match the key package".into(),
            ));
        }
        self.identity = leaf.credential().serialized_content().to_vec();
        self.credential = credential_for(&self.identity, &signer);
        self.signer = signer;
        self.replay = true;
        key_package
            .hash_ref(self.provider.crypto())
            .map(|r| r.as_slice().to_vec())
            .map_err(MlsError::library)
    }

    /// Creates the conversation's group with us as its only member.
    pub fn create_group(&mut self, group_id: &[u8]) -> Result<u64, MlsError> {
        if self.group.is_some() {
            return Err(MlsError::Rejected("this client already has a group".into()));
        }
        let group = MlsGroup::new_with_group_id(
            &self.provider,
            &self.signer,
            &profile::create_config(),
            GroupId::from_slice(group_id),
            self.credential.clone(),
        )
        .map_err(MlsError::library)?;
        let epoch = group.epoch().as_u64();
        self.group = Some(group);
        Ok(epoch)
    }

    /// Joins from a Welcome (ratchet tree from its extension) after checking every member's
    /// credential.
    pub fn join(&mut self, welcome: &[u8]) -> Result<u64, MlsError> {
        let message = MlsMessageIn::tls_deserialize_exact(welcome)
            .map_err(|e| MlsError::Malformed(format!("welcome: {e}")))?;
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            return Err(MlsError::Malformed("not a Welcome".into()));
        };
        let mut join =
            StagedWelcome::build_from_welcome(&self.provider, &profile::join_config(), welcome)
                .map_err(MlsError::rejected)?;
        if self.replay {
            // An archive is read long after the leaves' lifetimes ended (E2EE.md §6).
            join = join.skip_lifetime_validation();
        }
        let staged = join.build().map_err(MlsError::rejected)?;
        for member in staged.members() {
            self.check
                .check(
                    member.credential.serialized_content(),
                    &member.signature_key,
                )
                .map_err(MlsError::Credential)?;
        }
        let group = staged
            .into_group(&self.provider)
            .map_err(MlsError::rejected)?;
        let epoch = group.epoch().as_u64();
        self.group = Some(group);
        Ok(epoch)
    }

    /// The group's signed `GroupInfo` with the ratchet tree extension: the first handshake
    /// entry of a conversation, from which the server starts validating (see `ds`).
    pub fn group_info(&self) -> Result<Vec<u8>, MlsError> {
        let group = self.group()?;
        let info = group
            .export_group_info(self.provider.crypto(), &self.signer, true)
            .map_err(MlsError::library)?;
        encode(&info)
    }

    /// A commit adding `add` (key packages) and removing `remove` (leaves), as one commit.
    /// Pending until `merge`.
    pub fn commit(&mut self, add: &[Vec<u8>], remove: &[u32]) -> Result<Outgoing, MlsError> {
        let mut key_packages = Vec::with_capacity(add.len());
        for bytes in add {
            let kp = import::parse_key_package(&self.provider, bytes, Lifetimes::Check)?;
            let leaf = kp.leaf_node();
            self.check
                .check(
                    leaf.credential().serialized_content(),
                    leaf.signature_key().as_slice(),
                )
                .map_err(MlsError::Credential)?;
            key_packages.push(kp);
        }
        let (provider, signer, group) = self.ready()?;
        let bundle = group
            .commit_builder()
            .propose_adds(key_packages)
            .propose_removals(remove.iter().map(|l| LeafNodeIndex::new(*l)))
            .load_psks(provider.storage())
            .map_err(MlsError::library)?
            .build(provider.rand(), provider.crypto(), signer, |_| true)
            .map_err(MlsError::rejected)?
            .stage_commit(provider)
            .map_err(MlsError::rejected)?;
        let (commit, welcome, _) = bundle.into_messages();
        Ok(Outgoing {
            commit: encode(&commit)?,
            welcome: welcome.as_ref().map(encode).transpose()?,
        })
    }

    /// An empty commit with an update path: fresh leaf keys (post-compromise security).
    pub fn self_update(&mut self) -> Result<Vec<u8>, MlsError> {
        let (provider, signer, group) = self.ready()?;
        let bundle = group
            .self_update(
                provider,
                signer,
                openmls::prelude::LeafNodeParameters::default(),
            )
            .map_err(MlsError::rejected)?;
        encode(bundle.commit())
    }

    /// The server accepted our pending commit: move to the next epoch.
    pub fn merge(&mut self) -> Result<u64, MlsError> {
        let provider = &self.provider;
        let group = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        if group.pending_commit().is_none() {
            return Err(MlsError::Rejected("no pending commit".into()));
        }
        group
            .merge_pending_commit(provider)
            .map_err(MlsError::library)?;
        Ok(group.epoch().as_u64())
    }

    /// The server refused our pending commit: forget it.
    pub fn discard(&mut self) -> Result<(), MlsError> {
        let provider = &self.provider;
        let group = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        group
            .clear_pending_commit(provider.storage())
            .map_err(MlsError::library)
    }

    /// Encrypts application data as a `PrivateMessage`.
    pub fn send(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, MlsError> {
        let (provider, signer, group) = self.ready()?;
        let message = group
            .create_message(provider, signer, plaintext)
            .map_err(MlsError::rejected)?;
        encode(&message)
    }

    /// Processes a message from the log: decrypts application data, or checks and merges
    /// another member's commit. Refuses what our profile forbids: encrypted commits (the
    /// server could not have validated them), application data in the clear, standalone
    /// proposals (v1), credentials the caller's check rejects.
    pub fn process(&mut self, bytes: &[u8]) -> Result<Processed, MlsError> {
        let message = MlsMessageIn::tls_deserialize_exact(bytes)
            .map_err(|e| MlsError::Malformed(format!("message: {e}")))?;
        let protocol: ProtocolMessage = match message.extract() {
            MlsMessageBodyIn::PublicMessage(m) => m.into(),
            MlsMessageBodyIn::PrivateMessage(m) => m.into(),
            _ => return Err(MlsError::Malformed("not a group message".into())),
        };
        match (protocol.wire_format(), protocol.content_type()) {
            (WireFormat::PrivateMessage, ContentType::Application)
            | (WireFormat::PublicMessage, ContentType::Commit) => {}
            (wire, content) => {
                return Err(MlsError::Rejected(format!(
                    "{content:?} as {wire:?} is outside our profile"
                )));
            }
        }
        let provider = &self.provider;
        let check = Arc::clone(&self.check);
        let group = self
            .group
            .as_mut()
            .filter(|g| g.is_active())
            .ok_or(MlsError::NoGroup)?;
        let processed = group
            .process_message(provider, protocol)
            .map_err(MlsError::rejected)?;
        let sender = match processed.sender() {
            openmls::prelude::Sender::Member(leaf) => leaf.u32(),
            _ => return Err(MlsError::Rejected("sender is not a member".into())),
        };
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(app) => Ok(Processed::Application {
                plaintext: app.into_bytes(),
                sender,
            }),
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                for add in staged.add_proposals() {
                    let leaf = add.add_proposal().key_package().leaf_node();
                    check
                        .check(
                            leaf.credential().serialized_content(),
                            leaf.signature_key().as_slice(),
                        )
                        .map_err(MlsError::Credential)?;
                }
                let removed_self = staged.self_removed();
                group
                    .merge_staged_commit(provider, *staged)
                    .map_err(MlsError::library)?;
                Ok(Processed::Commit {
                    epoch: group.epoch().as_u64(),
                    removed_self,
                })
            }
            _ => Err(MlsError::Rejected(
                "standalone proposals are outside the v1 profile".into(),
            )),
        }
    }

    /// Epoch, epoch authenticator, `lc-test` exporter and roster.
    pub fn epoch_info(&self) -> Result<EpochInfo, MlsError> {
        let group = self.group()?;
        let exporter = group
            .export_secret(self.provider.crypto(), "lc-test", &[], 32)
            .map_err(MlsError::library)?;
        Ok(EpochInfo {
            epoch: group.epoch().as_u64(),
            authenticator: group.epoch_authenticator().as_slice().to_vec(),
            exporter,
            members: group
                .members()
                .map(|m| Member {
                    leaf: m.index.u32(),
                    identity: m.credential.serialized_content().to_vec(),
                })
                .collect(),
        })
    }

    /// The credential identity of the member at `leaf` in the current epoch (who sent an
    /// application message just processed).
    pub fn member_identity(&self, leaf: u32) -> Option<Vec<u8>> {
        let group = self.group().ok()?;
        group
            .members()
            .find(|m| m.index.u32() == leaf)
            .map(|m| m.credential.serialized_content().to_vec())
    }

    /// Whether this client is (still) an active member of a group.
    pub fn is_member(&self) -> bool {
        self.group().is_ok()
    }

    /// The credential identity this client signs with.
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The whole client state: key store, signature key, identity and group id.
    pub fn save(&self) -> Result<Vec<u8>, MlsError> {
        crate::snapshot::save(self)
    }

    /// Restores a client saved with [`Client::save`].
    pub fn restore(bytes: &[u8], check: Arc<dyn CredentialCheck>) -> Result<Self, MlsError> {
        crate::snapshot::restore(bytes, check)
    }
}

// Internal accessors for the snapshot module.
impl Client {
    pub(crate) fn parts(&self) -> (&Provider, &DeviceSigner, &[u8], Option<&GroupId>) {
        (
            &self.provider,
            &self.signer,
            &self.identity,
            self.group.as_ref().map(MlsGroup::group_id),
        )
    }

    pub(crate) fn from_parts(
        provider: Provider,
        signer: DeviceSigner,
        identity: Vec<u8>,
        group_id: Option<GroupId>,
        check: Arc<dyn CredentialCheck>,
    ) -> Result<Self, MlsError> {
        let group = match group_id {
            Some(id) => Some(
                MlsGroup::load(provider.storage(), &id)
                    .map_err(MlsError::library)?
                    .ok_or_else(|| MlsError::State("the saved group is missing".into()))?,
            ),
            None => None,
        };
        let credential = credential_for(&identity, &signer);
        Ok(Self {
            provider,
            signer,
            credential,
            identity,
            group,
            last_bundle: None,
            check,
            replay: false,
        })
    }
}
