//! The MLS working group's passive-client test vectors (mlswg/mls-implementations,
//! `test-vectors/passive-client-*.json`, copies in `shared/data/mls-test-vectors`) run through
//! openmls with our key-package import: a passive member joins from the Welcome with the
//! vector's private keys and must reach every epoch authenticator the vector lists
//! (RFC 9420 §8.7). Only ciphersuite 0x0001 (ours) runs; the external PSKs some vectors need are
//! stored first (the v1 profile itself uses none, E2EE.md §2).

use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::{
    MIXED_PLAINTEXT_WIRE_FORMAT_POLICY, MlsGroup, MlsGroupJoinConfig, MlsMessageBodyIn,
    MlsMessageIn, ProcessedMessageContent, ProtocolMessage, RatchetTreeIn, StagedWelcome,
};
use openmls::schedule::PreSharedKeyId;
use serde::Deserialize;

use crate::import::{KeyPackageSecrets, store_bundle};
use crate::{Provider, profile};

#[derive(Deserialize)]
#[allow(clippy::struct_field_names)] // the vector file's field names
struct Epoch {
    proposals: Vec<String>,
    commit: String,
    epoch_authenticator: String,
}

#[derive(Deserialize)]
struct Psk {
    psk_id: String,
    psk: String,
}

#[derive(Deserialize)]
struct Vector {
    cipher_suite: u16,
    external_psks: Vec<Psk>,
    key_package: String,
    signature_priv: String,
    encryption_priv: String,
    init_priv: String,
    welcome: String,
    ratchet_tree: Option<String>,
    initial_epoch_authenticator: String,
    epochs: Vec<Epoch>,
}

fn load(name: &str) -> Vec<Vector> {
    let path = format!(
        "{}/../../../shared/data/mls-test-vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn message(hex_text: &str) -> MlsMessageBodyIn {
    MlsMessageIn::tls_deserialize_exact(hex::decode(hex_text).unwrap())
        .unwrap()
        .extract()
}

fn protocol(hex_text: &str) -> ProtocolMessage {
    match message(hex_text) {
        MlsMessageBodyIn::PublicMessage(m) => m.into(),
        MlsMessageBodyIn::PrivateMessage(m) => m.into(),
        _ => panic!("not a group message"),
    }
}

/// Our profile's join configuration, plus the resumption PSKs some vectors' commits use.
fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .max_past_epochs(profile::MAX_PAST_EPOCHS)
        .number_of_resumption_psks(16)
        .build()
}

/// Runs one vector; returns how many epochs were checked.
fn run(v: &Vector) -> usize {
    let provider = Provider::default();
    store_bundle(
        &provider,
        &KeyPackageSecrets {
            key_package: hex::decode(&v.key_package).unwrap(),
            init_private: hex::decode(&v.init_priv).unwrap(),
            encryption_private: hex::decode(&v.encryption_priv).unwrap(),
            signature_private: hex::decode(&v.signature_priv).unwrap(),
        },
    )
    .unwrap();
    for psk in &v.external_psks {
        PreSharedKeyId::external(hex::decode(&psk.psk_id).unwrap(), Vec::new())
            .store(&provider, &hex::decode(&psk.psk).unwrap())
            .unwrap();
    }
    let MlsMessageBodyIn::Welcome(welcome) = message(&v.welcome) else {
        panic!("not a Welcome")
    };
    let mut join = StagedWelcome::build_from_welcome(&provider, &join_config(), welcome)
        .unwrap()
        .skip_lifetime_validation();
    if let Some(tree) = &v.ratchet_tree {
        join = join.with_ratchet_tree(
            RatchetTreeIn::tls_deserialize_exact(hex::decode(tree).unwrap()).unwrap(),
        );
    }
    let mut group: MlsGroup = join.build().unwrap().into_group(&provider).unwrap();
    assert_eq!(
        hex::encode(group.epoch_authenticator().as_slice()),
        v.initial_epoch_authenticator
    );
    for (n, epoch) in v.epochs.iter().enumerate() {
        for proposal in &epoch.proposals {
            let processed = group
                .process_message(&provider, protocol(proposal))
                .unwrap();
            let ProcessedMessageContent::ProposalMessage(p) = processed.into_content() else {
                panic!("epoch {n}: not a proposal")
            };
            group
                .store_pending_proposal(openmls_traits::OpenMlsProvider::storage(&provider), *p)
                .unwrap();
        }
        let processed = group
            .process_message(&provider, protocol(&epoch.commit))
            .unwrap();
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
            panic!("epoch {n}: not a commit")
        };
        group.merge_staged_commit(&provider, *staged).unwrap();
        assert_eq!(
            hex::encode(group.epoch_authenticator().as_slice()),
            epoch.epoch_authenticator,
            "epoch {n}"
        );
    }
    v.epochs.len()
}

/// Runs every suite-1 vector of a file; returns (vectors, epochs checked).
fn run_file(name: &str) -> (usize, usize) {
    let ours: Vec<Vector> = load(name)
        .into_iter()
        .filter(|v| v.cipher_suite == 1)
        .collect();
    (ours.len(), ours.iter().map(run).sum())
}

#[test]
fn passive_client_welcome() {
    assert_eq!(run_file("passive-client-welcome.json"), (8, 0));
}

#[test]
fn passive_client_handling_commit() {
    let (vectors, epochs) = run_file("passive-client-handling-commit.json");
    assert_eq!(vectors, 13);
    assert!(epochs >= vectors, "{epochs} epochs");
}

#[test]
fn passive_client_random() {
    assert_eq!(run_file("passive-client-random.json"), (1, 200));
}
