//! A tenant key hierarchy for tests: a root key registered with the server, an issuing key
//! it certifies, and chains for devices under them (what an owner does with
//! `sealdesk admin keys`).

use sealdesk_core::clock::Clock as _;
use sealdesk_mls::DeviceSigner;
use sealdesk_mls::certs::{CertBody, Role, encode_chain};
use sealdesk_proto::TenantId;
use sealdesk_testkit::TestApp;

/// The public key of a signer.
pub(crate) fn public(s: &DeviceSigner) -> [u8; 32] {
    s.public().try_into().unwrap()
}

pub(crate) struct Hierarchy {
    pub(crate) root: DeviceSigner,
    pub(crate) issuing: DeviceSigner,
    pub(crate) issuing_cert: Vec<u8>,
    tenant: [u8; 16],
    now: u64,
}

impl Hierarchy {
    /// Root (seed 1) registered for `tenant`, issuing key (seed 2) valid for a year.
    pub(crate) async fn register(app: &TestApp, tenant: TenantId) -> Self {
        let root = DeviceSigner::from_seed(&[1; 32]).unwrap();
        let issuing = DeviceSigner::from_seed(&[2; 32]).unwrap();
        let now = u64::try_from(app.clock.now().unix_timestamp()).unwrap();
        let mut h = Self {
            root,
            issuing,
            issuing_cert: Vec::new(),
            tenant: *tenant.as_uuid().as_bytes(),
            now,
        };
        h.issuing_cert = h
            .body(Role::Issuing, public(&h.issuing), [0; 16], "Admin")
            .sign(&h.root)
            .unwrap();
        app.store
            .add_root_key(tenant, public(&h.root), app.clock.now())
            .await
            .unwrap();
        h
    }

    /// A certificate body valid from a minute ago for a day.
    pub(crate) fn body(
        &self,
        role: Role,
        subject: [u8; 32],
        team: [u8; 16],
        label: &str,
    ) -> CertBody {
        CertBody {
            role,
            tenant: self.tenant,
            team,
            subject,
            not_before: self.now - 60,
            not_after: self.now + 86_400,
            label: label.into(),
        }
    }

    /// The chain (device certificate ‖ issuing certificate) for a device key.
    pub(crate) fn chain(&self, role: Role, subject: [u8; 32], label: &str) -> Vec<u8> {
        let cert = self
            .body(role, subject, [0; 16], label)
            .sign(&self.issuing)
            .unwrap();
        encode_chain(&cert, &self.issuing_cert).unwrap()
    }
}

impl Hierarchy {
    /// A look-alike hierarchy for the same tenant whose root was never registered.
    pub(crate) fn rogue(real: &Hierarchy) -> Hierarchy {
        let root = DeviceSigner::from_seed(&[91; 32]).unwrap();
        let issuing = DeviceSigner::from_seed(&[92; 32]).unwrap();
        let mut h = Hierarchy {
            root,
            issuing,
            issuing_cert: Vec::new(),
            tenant: real.tenant,
            now: real.now,
        };
        h.issuing_cert = h
            .body(Role::Issuing, public(&h.issuing), [0; 16], "Admin")
            .sign(&h.root)
            .unwrap();
        h
    }
}
