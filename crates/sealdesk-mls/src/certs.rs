//! The tenant key hierarchy's certificates (E2EE.md §3–§4): the tenant root key (TRK, pinned
//! in the widget snippet) certifies issuing keys; an issuing key certifies device keys of
//! agents, supervisors and History Members. A device's MLS Basic credential carries its chain,
//! so every client (and the server, as defence in depth) can tell a genuine ACME agent from
//! an impostor without trusting the server.
//!
//! Encoding (big-endian, fixed layout, so the TypeScript verifier is a few lines):
//!
//! ```text
//! Certificate v1:
//!   "SDC1"                4 bytes
//!   role                  u8   1 issuing, 2 agent, 3 supervisor, 4 history
//!   tenant                16 bytes (the tenant's UUID)
//!   team                  16 bytes (a History Member's team; zero otherwise)
//!   subject               32 bytes (the Ed25519 public key certified)
//!   not_before, not_after u64, u64 (Unix seconds)
//!   label_len, label      u8, 1–64 bytes of UTF-8 (display name, team name)
//!   issuer                32 bytes (the signer's Ed25519 public key)
//!   signature             64 bytes: Ed25519 (RFC 8032) over CONTEXT || every byte above
//! Chain (the credential identity of a certified device):
//!   "SDCH"                4 bytes
//!   device cert, issuing cert, each as u16 length || bytes
//! Visitor identity:
//!   "SDV1" || 16 random bytes (pseudonymous; no certificate)
//! ```
//!
//! A chain is valid for a tenant root key at time `now` when: the issuing certificate has role
//! issuing, the root as issuer and the tenant; the device certificate has a device role, the
//! issuing key as issuer, the same tenant, a validity inside the issuing key's; both
//! signatures verify and both certificates are valid at `now`; and the device certificate's
//! subject is the MLS leaf's signature key (else a copied credential would pass).

use ed25519_dalek::{Signature, VerifyingKey};
use openmls_traits::signatures::Signer as _;

use crate::{DeviceSigner, MlsError};

/// Prefixed to every signed certificate body (domain separation from MLS's own labels).
const CONTEXT: &[u8] = b"sealdesk certificate v1\0";
const MAGIC: &[u8; 4] = b"SDC1";
const CHAIN_MAGIC: &[u8; 4] = b"SDCH";
/// The prefix of a visitor's pseudonymous credential identity.
pub const VISITOR_MAGIC: &[u8; 4] = b"SDV1";
const MAX_LABEL: usize = 64;

/// What a certificate entitles its subject to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Signs device certificates (held by admin consoles).
    Issuing,
    /// An agent device.
    Agent,
    /// A supervisor device.
    Supervisor,
    /// A History Member (never sends).
    History,
}

impl Role {
    fn byte(self) -> u8 {
        match self {
            Self::Issuing => 1,
            Self::Agent => 2,
            Self::Supervisor => 3,
            Self::History => 4,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Issuing),
            2 => Some(Self::Agent),
            3 => Some(Self::Supervisor),
            4 => Some(Self::History),
            _ => None,
        }
    }
}

/// Why a certificate or chain is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// Not a well-formed certificate, chain or identity.
    #[error("malformed certificate: {0}")]
    Malformed(&'static str),
    /// A signature does not verify, or an issuer does not chain to the pinned root.
    #[error("the certificate chain does not lead to this tenant's root key")]
    Untrusted,
    /// Outside its validity period.
    #[error("a certificate in the chain has expired or is not yet valid")]
    Expired,
    /// Well formed and signed, but not for this tenant, role or key.
    #[error("certificate mismatch: {0}")]
    Mismatch(&'static str),
}

/// The fields of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertBody {
    /// What the subject may do.
    pub role: Role,
    /// The tenant.
    pub tenant: [u8; 16],
    /// A History Member's team (zero for other roles).
    pub team: [u8; 16],
    /// The certified Ed25519 public key.
    pub subject: [u8; 32],
    /// Valid from (Unix seconds).
    pub not_before: u64,
    /// Valid until (Unix seconds, exclusive).
    pub not_after: u64,
    /// Display name or team name, 1–64 bytes of UTF-8.
    pub label: String,
}

impl CertBody {
    fn encode_unsigned(&self, issuer: &[u8; 32]) -> Result<Vec<u8>, CertError> {
        let label = self.label.as_bytes();
        if label.is_empty() || label.len() > MAX_LABEL {
            return Err(CertError::Malformed("the label must be 1 to 64 bytes"));
        }
        let mut out = Vec::with_capacity(4 + 1 + 16 + 16 + 32 + 16 + 1 + label.len() + 32 + 64);
        out.extend_from_slice(MAGIC);
        out.push(self.role.byte());
        out.extend_from_slice(&self.tenant);
        out.extend_from_slice(&self.team);
        out.extend_from_slice(&self.subject);
        out.extend_from_slice(&self.not_before.to_be_bytes());
        out.extend_from_slice(&self.not_after.to_be_bytes());
        #[allow(clippy::cast_possible_truncation)] // checked above: at most 64
        out.push(label.len() as u8);
        out.extend_from_slice(label);
        out.extend_from_slice(issuer);
        Ok(out)
    }

    /// Signs this body with `issuer`, returning the encoded certificate.
    pub fn sign(&self, issuer: &DeviceSigner) -> Result<Vec<u8>, MlsError> {
        let issuer_key: [u8; 32] = issuer
            .public()
            .try_into()
            .map_err(|_| MlsError::Library("Ed25519 public keys are 32 bytes".into()))?;
        let mut out = self
            .encode_unsigned(&issuer_key)
            .map_err(|e| MlsError::Rejected(e.to_string()))?;
        let mut signed = CONTEXT.to_vec();
        signed.extend_from_slice(&out);
        let signature = issuer
            .sign(&signed)
            .map_err(|e| MlsError::Library(format!("{e:?}")))?;
        out.extend_from_slice(&signature);
        Ok(out)
    }
}

/// A decoded certificate whose signature verified against its `issuer` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certified fields.
    pub body: CertBody,
    /// Who signed it.
    pub issuer: [u8; 32],
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CertError> {
        if self.0.len() < n {
            return Err(CertError::Malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CertError> {
        self.take(N)?
            .try_into()
            .map_err(|_| CertError::Malformed("truncated"))
    }

    fn u64(&mut self) -> Result<u64, CertError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
}

impl Certificate {
    /// Decodes a certificate and verifies its signature against the issuer it names (whether
    /// that issuer is trusted is the chain's business).
    pub fn decode(bytes: &[u8]) -> Result<Self, CertError> {
        let mut r = Reader(bytes);
        if r.take(4)? != MAGIC {
            return Err(CertError::Malformed("not a Sealdesk certificate"));
        }
        let role =
            Role::from_byte(r.array::<1>()?[0]).ok_or(CertError::Malformed("unknown role"))?;
        let tenant = r.array()?;
        let team = r.array()?;
        let subject = r.array()?;
        let not_before = r.u64()?;
        let not_after = r.u64()?;
        let label_len = usize::from(r.array::<1>()?[0]);
        if label_len == 0 || label_len > MAX_LABEL {
            return Err(CertError::Malformed("the label must be 1 to 64 bytes"));
        }
        let label = std::str::from_utf8(r.take(label_len)?)
            .map_err(|_| CertError::Malformed("the label is not UTF-8"))?
            .to_owned();
        let issuer: [u8; 32] = r.array()?;
        let signature: [u8; 64] = r.array()?;
        if !r.0.is_empty() {
            return Err(CertError::Malformed("trailing bytes"));
        }
        let signed_len = bytes.len() - 64;
        let mut signed = CONTEXT.to_vec();
        signed.extend_from_slice(&bytes[..signed_len]);
        let key = VerifyingKey::from_bytes(&issuer).map_err(|_| CertError::Untrusted)?;
        // verify_strict: no small-order keys, no malleable signatures (RFC 8032 §5.1.7 and
        // the stricter checks ed25519-dalek documents).
        key.verify_strict(&signed, &Signature::from_bytes(&signature))
            .map_err(|_| CertError::Untrusted)?;
        Ok(Self {
            body: CertBody {
                role,
                tenant,
                team,
                subject,
                not_before,
                not_after,
                label,
            },
            issuer,
        })
    }

    fn valid_at(&self, now: u64) -> bool {
        self.body.not_before <= now && now < self.body.not_after
    }
}

/// Encodes a device certificate and its issuing certificate as a credential identity.
pub fn encode_chain(device: &[u8], issuing: &[u8]) -> Result<Vec<u8>, MlsError> {
    let mut out = CHAIN_MAGIC.to_vec();
    for cert in [device, issuing] {
        let len = u16::try_from(cert.len())
            .map_err(|_| MlsError::Rejected("certificate too long".into()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(cert);
    }
    Ok(out)
}

/// The role in a chain's device certificate, read without checking trust or validity (for
/// rules that also apply to members whose certificates expired after they joined).
pub fn device_role(identity: &[u8]) -> Option<Role> {
    let mut r = Reader(identity);
    if r.take(4).ok()? != CHAIN_MAGIC {
        return None;
    }
    let len = usize::from(u16::from_be_bytes(r.array().ok()?));
    Certificate::decode(r.take(len).ok()?)
        .ok()
        .map(|c| c.body.role)
}

/// The key a chain's device certificate certifies, read without checking trust or
/// validity (so that [`verify_identity`] can then bind the chain to that very key).
pub fn chain_subject(identity: &[u8]) -> Option<[u8; 32]> {
    chain_device(identity).map(|body| body.subject)
}

/// A chain's device certificate, read without checking trust or validity: for display of a
/// member whose chain was verified when it joined.
pub fn chain_device(identity: &[u8]) -> Option<CertBody> {
    let mut r = Reader(identity);
    if r.take(4).ok()? != CHAIN_MAGIC {
        return None;
    }
    let len = usize::from(u16::from_be_bytes(r.array().ok()?));
    Certificate::decode(r.take(len).ok()?).ok().map(|c| c.body)
}

/// The key that signed a chain's device certificate (its issuing key), read without checking
/// trust: a device expects the seals of its own issuer (team-key wraps).
pub fn chain_issuer(identity: &[u8]) -> Option<[u8; 32]> {
    let mut r = Reader(identity);
    if r.take(4).ok()? != CHAIN_MAGIC {
        return None;
    }
    let len = usize::from(u16::from_be_bytes(r.array().ok()?));
    Certificate::decode(r.take(len).ok()?)
        .ok()
        .map(|c| c.issuer)
}

/// Who a verified member is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// A tenant device, certified through the chain.
    Device(CertBody),
    /// A visitor's pseudonymous leaf.
    Visitor([u8; 16]),
}

/// The pinned trust anchor: a tenant and its root key(s) (a rotation keeps the old key
/// listed for a while; E2EE.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The tenant.
    pub tenant: [u8; 16],
    /// Accepted root keys.
    pub roots: Vec<[u8; 32]>,
}

/// Verifies a member's credential identity for the leaf signing with `leaf_key` at `now`.
pub fn verify_identity(
    identity: &[u8],
    leaf_key: &[u8],
    anchor: &TrustAnchor,
    now: u64,
) -> Result<Verified, CertError> {
    if let Some(id) = identity.strip_prefix(VISITOR_MAGIC.as_slice()) {
        let id: [u8; 16] = id
            .try_into()
            .map_err(|_| CertError::Malformed("a visitor id is 16 bytes"))?;
        return Ok(Verified::Visitor(id));
    }
    let mut r = Reader(identity);
    if r.take(4)? != CHAIN_MAGIC {
        return Err(CertError::Malformed(
            "neither a certificate chain nor a visitor identity",
        ));
    }
    let mut certs = Vec::with_capacity(2);
    for _ in 0..2 {
        let len = usize::from(u16::from_be_bytes(r.array()?));
        certs.push(Certificate::decode(r.take(len)?)?);
    }
    if !r.0.is_empty() {
        return Err(CertError::Malformed("trailing bytes"));
    }
    let (device, issuing) = (&certs[0], &certs[1]);
    if issuing.body.role != Role::Issuing || !anchor.roots.contains(&issuing.issuer) {
        return Err(CertError::Untrusted);
    }
    if device.issuer != issuing.body.subject {
        return Err(CertError::Untrusted);
    }
    if device.body.role == Role::Issuing {
        return Err(CertError::Mismatch("an issuing key is not a device"));
    }
    if issuing.body.tenant != anchor.tenant || device.body.tenant != anchor.tenant {
        return Err(CertError::Mismatch("another tenant's certificate"));
    }
    if device.body.not_before < issuing.body.not_before
        || device.body.not_after > issuing.body.not_after
    {
        return Err(CertError::Mismatch(
            "the device certificate outlives its issuing key",
        ));
    }
    if !issuing.valid_at(now) || !device.valid_at(now) {
        return Err(CertError::Expired);
    }
    if device.body.subject.as_slice() != leaf_key {
        return Err(CertError::Mismatch("the credential belongs to another key"));
    }
    Ok(Verified::Device(device.body.clone()))
}

/// The check every client runs on every member (E2EE.md §4): visitors are pseudonymous
/// leaves, everyone else must chain to the pinned tenant root key.
pub struct ChainCheck {
    anchor: TrustAnchor,
    now: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl ChainCheck {
    /// Checks against `anchor`, with `now` giving Unix seconds (the caller's clock).
    pub fn new(anchor: TrustAnchor, now: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Self {
            anchor,
            now: Box::new(now),
        }
    }
}

impl crate::CredentialCheck for ChainCheck {
    fn check(&self, identity: &[u8], signature_key: &[u8]) -> Result<(), String> {
        verify_identity(identity, signature_key, &self.anchor, (self.now)())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
