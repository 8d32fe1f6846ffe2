//! Shared helpers of the certificate and policy tests: a tenant hierarchy with fixed keys.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;

use sealdesk_mls::certs::{CertBody, ChainCheck, Role, TrustAnchor, VISITOR_MAGIC, encode_chain};
use sealdesk_mls::{Client, DeviceSigner};

pub(crate) const TENANT: [u8; 16] = [7; 16];
pub(crate) const NOW: u64 = 1_800_000_000;
pub(crate) const DAY: u64 = 86_400;

pub(crate) fn signer(seed: u8) -> DeviceSigner {
    DeviceSigner::from_seed(&[seed; 32]).unwrap()
}

pub(crate) fn key(s: &DeviceSigner) -> [u8; 32] {
    s.public().try_into().unwrap()
}

pub(crate) fn body(role: Role, subject: &DeviceSigner, label: &str, days: u64) -> CertBody {
    CertBody {
        role,
        tenant: TENANT,
        team: [0; 16],
        subject: key(subject),
        not_before: NOW - DAY,
        not_after: NOW + days * DAY,
        label: label.into(),
    }
}

pub(crate) struct Hierarchy {
    pub(crate) root: DeviceSigner,
    pub(crate) issuing: DeviceSigner,
    pub(crate) issuing_cert: Vec<u8>,
}

pub(crate) fn hierarchy() -> Hierarchy {
    let root = signer(1);
    let issuing = signer(2);
    let issuing_cert = body(Role::Issuing, &issuing, "Admin console", 365)
        .sign(&root)
        .unwrap();
    Hierarchy {
        root,
        issuing,
        issuing_cert,
    }
}

pub(crate) fn anchor(h: &Hierarchy) -> TrustAnchor {
    TrustAnchor {
        tenant: TENANT,
        roots: vec![key(&h.root)],
    }
}

pub(crate) fn device_chain(
    h: &Hierarchy,
    device: &DeviceSigner,
    role: Role,
    label: &str,
) -> Vec<u8> {
    let cert = body(role, device, label, 30).sign(&h.issuing).unwrap();
    encode_chain(&cert, &h.issuing_cert).unwrap()
}

/// A visitor's pseudonymous identity.
pub(crate) fn visitor_identity(n: u8) -> Vec<u8> {
    let mut id = VISITOR_MAGIC.to_vec();
    id.extend_from_slice(&[n; 16]);
    id
}

/// Clients check chains against the hierarchy's root at `NOW`.
pub(crate) fn chain_check(h: &Hierarchy) -> Arc<ChainCheck> {
    Arc::new(ChainCheck::new(anchor(h), || NOW))
}

/// A client whose signature key the issuing key certified for `role`.
pub(crate) fn certified(h: &Hierarchy, role: Role, label: &str) -> Client {
    let mut client = Client::new(b"uncertified", chain_check(h)).unwrap();
    let subject: [u8; 32] = client.signature_key().try_into().unwrap();
    let cert = CertBody {
        subject,
        ..body(role, &signer(3), label, 30)
    }
    .sign(&h.issuing)
    .unwrap();
    client.set_identity(&encode_chain(&cert, &h.issuing_cert).unwrap());
    client
}
