//! The tenant key hierarchy: certificates, chains, and the MLS credential check over them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

mod common;

use common::{DAY, Hierarchy, NOW, TENANT, anchor, body, device_chain, hierarchy, key, signer};
use sealdesk_mls::certs::{
    CertBody, CertError, Certificate, ChainCheck, Role, VISITOR_MAGIC, Verified, encode_chain,
    verify_identity,
};
use sealdesk_mls::{Client, MlsError, profile};

#[test]
fn the_layout_is_the_documented_one() {
    let h = hierarchy();
    let device = signer(3);
    let cert = body(Role::Agent, &device, "Jane D.", 30)
        .sign(&h.issuing)
        .unwrap();
    assert_eq!(&cert[..4], b"SDC1");
    assert_eq!(cert[4], 2, "role agent");
    assert_eq!(&cert[5..21], &TENANT);
    assert_eq!(&cert[21..37], &[0; 16], "no team");
    assert_eq!(&cert[37..69], &key(&device));
    assert_eq!(&cert[69..77], &(NOW - DAY).to_be_bytes());
    assert_eq!(&cert[77..85], &(NOW + 30 * DAY).to_be_bytes());
    assert_eq!(cert[85], 7);
    assert_eq!(&cert[86..93], b"Jane D.");
    assert_eq!(&cert[93..125], &key(&h.issuing));
    assert_eq!(cert.len(), 125 + 64);
    let decoded = Certificate::decode(&cert).unwrap();
    assert_eq!(decoded.body.label, "Jane D.");
    assert_eq!(decoded.issuer, key(&h.issuing));
}

#[test]
fn a_chain_to_the_pinned_root_verifies_for_its_own_key_only() {
    let h = hierarchy();
    let device = signer(3);
    let chain = device_chain(&h, &device, Role::Agent, "Jane D.");
    match verify_identity(&chain, &key(&device), &anchor(&h), NOW).unwrap() {
        Verified::Device(body) => {
            assert_eq!((body.role, body.label.as_str()), (Role::Agent, "Jane D."));
        }
        other @ Verified::Visitor(_) => panic!("{other:?}"),
    }
    // A copied credential on another key.
    assert_eq!(
        verify_identity(&chain, &key(&signer(9)), &anchor(&h), NOW),
        Err(CertError::Mismatch("the credential belongs to another key"))
    );
}

#[test]
fn forged_expired_and_foreign_chains_are_refused() {
    let h = hierarchy();
    let device = signer(3);
    let dk = key(&device);
    // Another tenant's root (an impostor with its own hierarchy).
    let other = Hierarchy {
        root: signer(11),
        ..hierarchy()
    };
    let forged_issuing = body(Role::Issuing, &h.issuing, "Admin console", 365)
        .sign(&other.root)
        .unwrap();
    let cert = body(Role::Agent, &device, "Jane D.", 30)
        .sign(&h.issuing)
        .unwrap();
    let forged = encode_chain(&cert, &forged_issuing).unwrap();
    assert_eq!(
        verify_identity(&forged, &dk, &anchor(&h), NOW),
        Err(CertError::Untrusted)
    );
    // A device certificate signed by the root directly skips the issuing key.
    let direct = body(Role::Agent, &device, "Jane D.", 30)
        .sign(&h.root)
        .unwrap();
    let chain = encode_chain(&direct, &h.issuing_cert).unwrap();
    assert_eq!(
        verify_identity(&chain, &dk, &anchor(&h), NOW),
        Err(CertError::Untrusted)
    );
    // Expired, and not yet valid.
    let chain = device_chain(&h, &device, Role::Agent, "Jane D.");
    assert_eq!(
        verify_identity(&chain, &dk, &anchor(&h), NOW + 31 * DAY),
        Err(CertError::Expired)
    );
    assert_eq!(
        verify_identity(&chain, &dk, &anchor(&h), NOW - 2 * DAY),
        Err(CertError::Expired)
    );
    // Outliving its issuing key.
    let long = body(Role::Agent, &device, "Jane D.", 400)
        .sign(&h.issuing)
        .unwrap();
    let chain = encode_chain(&long, &h.issuing_cert).unwrap();
    assert!(matches!(
        verify_identity(&chain, &dk, &anchor(&h), NOW),
        Err(CertError::Mismatch(_))
    ));
    // Another tenant.
    let mut foreign = anchor(&h);
    foreign.tenant = [8; 16];
    let chain = device_chain(&h, &device, Role::Agent, "Jane D.");
    assert!(matches!(
        verify_identity(&chain, &dk, &foreign, NOW),
        Err(CertError::Mismatch(_))
    ));
    // An issuing certificate presented as a device.
    let chain = encode_chain(&h.issuing_cert, &h.issuing_cert).unwrap();
    assert!(verify_identity(&chain, &key(&h.issuing), &anchor(&h), NOW).is_err());
}

#[test]
fn tampered_and_malformed_bytes_are_refused() {
    let h = hierarchy();
    let device = signer(3);
    let chain = device_chain(&h, &device, Role::Agent, "Jane D.");
    let dk = key(&device);
    // Flip a label byte of the device certificate (after "SDCH" and its u16 length).
    let mut tampered = chain.clone();
    tampered[6 + 86] ^= 0x20;
    assert_eq!(
        verify_identity(&tampered, &dk, &anchor(&h), NOW),
        Err(CertError::Untrusted)
    );
    for cut in [0, 3, 5, 40, chain.len() - 1] {
        assert!(matches!(
            verify_identity(&chain[..cut], &dk, &anchor(&h), NOW),
            Err(CertError::Malformed(_))
        ));
    }
    let mut trailing = chain.clone();
    trailing.push(0);
    assert!(matches!(
        verify_identity(&trailing, &dk, &anchor(&h), NOW),
        Err(CertError::Malformed(_))
    ));
    assert!(body(Role::Agent, &device, "", 30).sign(&h.issuing).is_err());
    assert!(
        body(Role::Agent, &device, &"x".repeat(65), 30)
            .sign(&h.issuing)
            .is_err()
    );
    // Visitors: the magic and 16 bytes, nothing else.
    let mut visitor = VISITOR_MAGIC.to_vec();
    visitor.extend_from_slice(&[5; 16]);
    assert_eq!(
        verify_identity(&visitor, &dk, &anchor(&h), NOW),
        Ok(Verified::Visitor([5; 16]))
    );
    visitor.push(1);
    assert!(matches!(
        verify_identity(&visitor, &dk, &anchor(&h), NOW),
        Err(CertError::Malformed(_))
    ));
}

/// MLS members whose credentials carry chains: a genuine agent is added, an impostor (valid
/// chain from another root, or a genuine chain on the impostor's key) is refused.
#[test]
fn mls_clients_refuse_members_outside_the_tenant_hierarchy() {
    let h = hierarchy();
    let check = || Arc::new(ChainCheck::new(anchor(&hierarchy()), || NOW));
    let mut visitor_identity = VISITOR_MAGIC.to_vec();
    visitor_identity.extend_from_slice(&[5; 16]);
    let mut visitor = Client::new(&visitor_identity, check()).unwrap();
    visitor.create_group(b"g-certs").unwrap();

    // The agent's device key is its MLS signature key: certify the key the client made.
    let mut agent = Client::new(b"placeholder", check()).unwrap();
    let agent_key: [u8; 32] = agent.signature_key().try_into().unwrap();
    let cert = CertBody {
        subject: agent_key,
        ..body(Role::Agent, &signer(3), "Jane D.", 30)
    }
    .sign(&h.issuing)
    .unwrap();
    agent.set_identity(&encode_chain(&cert, &h.issuing_cert).unwrap());
    let out = visitor
        .commit(
            &[agent
                .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
                .unwrap()],
            &[],
        )
        .unwrap();
    visitor.merge().unwrap();
    agent.join(&out.welcome.unwrap()).unwrap();

    // The impostor copies Jane's chain onto its own key.
    let mut impostor = Client::new(b"placeholder", check()).unwrap();
    impostor.set_identity(&encode_chain(&cert, &h.issuing_cert).unwrap());
    let kp = impostor
        .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
        .unwrap();
    assert!(matches!(
        visitor.commit(&[kp], &[]),
        Err(MlsError::Credential(_))
    ));
}
