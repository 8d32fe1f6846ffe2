//! Key announcements (E2EE.md §3): the public half of a team key (TK) or of the tenant's
//! archive key (AK), signed by the tenant root key or by an issuing key it certified. Clients
//! fetch announcements from the server and verify them against the root they pin before they
//! seal a History Member bundle to the key, so a server that announced a key of its own would
//! be caught.
//!
//! Encoding (TypeScript twin: `web/shared/seal/announcement.ts`):
//!
//! ```text
//! "SDK1" ‖ kind (u8: 1 team, 2 archive) ‖ tenant (16) ‖ team (16; zero for the archive key)
//! ‖ version (u32) ‖ public (32, X25519) ‖ created (u64, Unix seconds)
//! ‖ issuing_cert_len (u16) ‖ issuing_cert (SDC1, role issuing; empty when the root signs)
//! ‖ signer (32) ‖ signature (64): Ed25519 over CONTEXT ‖ every byte before it
//! ```

use ed25519_dalek::{Signature, VerifyingKey};
use openmls_traits::signatures::Signer as _;

use crate::bundle::KeyKind;
use crate::certs::{Certificate, Role, TrustAnchor};
use crate::wire::{array, take};
use crate::{DeviceSigner, MlsError};

const MAGIC: &[u8; 4] = b"SDK1";
const CONTEXT: &[u8] = b"sealdesk key announcement v1\0";

/// A verified (or to be signed) announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Team or archive key.
    pub kind: KeyKind,
    /// The tenant.
    pub tenant: [u8; 16],
    /// The team (zero for the archive key).
    pub team: [u8; 16],
    /// The key's version (1, 2, … per team or for the archive).
    pub version: u32,
    /// The X25519 public key.
    pub public: [u8; 32],
    /// When it was made (Unix seconds); certificates are checked at this time.
    pub created: u64,
}

impl Announcement {
    fn check_team(&self) -> Result<(), MlsError> {
        let zero = self.team == [0; 16];
        match (self.kind, zero) {
            (KeyKind::Archive, false) => Err(MlsError::Malformed(
                "an archive key belongs to no team".into(),
            )),
            (KeyKind::Team, true) => Err(MlsError::Malformed("a team key names its team".into())),
            _ => Ok(()),
        }
    }

    /// Signs the announcement with `signer`: the root key (`issuing_cert` empty) or an issuing
    /// key with its certificate.
    pub fn sign(&self, issuing_cert: &[u8], signer: &DeviceSigner) -> Result<Vec<u8>, MlsError> {
        self.check_team()?;
        let mut out = MAGIC.to_vec();
        out.push(self.kind.byte());
        out.extend_from_slice(&self.tenant);
        out.extend_from_slice(&self.team);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.public);
        out.extend_from_slice(&self.created.to_be_bytes());
        let len = u16::try_from(issuing_cert.len())
            .map_err(|_| MlsError::Rejected("certificate too long".into()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(issuing_cert);
        out.extend_from_slice(&signer.public());
        let mut to_sign = CONTEXT.to_vec();
        to_sign.extend_from_slice(&out);
        let signature = signer
            .sign(&to_sign)
            .map_err(|e| MlsError::Library(format!("{e:?}")))?;
        out.extend_from_slice(&signature);
        Ok(out)
    }

    /// Verifies an announcement against the pinned `anchor`.
    pub fn verify(bytes: &[u8], anchor: &TrustAnchor) -> Result<Self, MlsError> {
        let what = "key announcement";
        let mut rest = bytes;
        if take(&mut rest, 4, what)? != MAGIC {
            return Err(MlsError::Malformed("not a key announcement".into()));
        }
        let kind = KeyKind::from_byte(array::<1>(&mut rest, what)?[0])
            .ok_or_else(|| MlsError::Malformed("unknown key kind".into()))?;
        let announcement = Self {
            kind,
            tenant: array(&mut rest, what)?,
            team: array(&mut rest, what)?,
            version: u32::from_be_bytes(array(&mut rest, what)?),
            public: array(&mut rest, what)?,
            created: u64::from_be_bytes(array(&mut rest, what)?),
        };
        let cert_len = usize::from(u16::from_be_bytes(array(&mut rest, what)?));
        let cert = take(&mut rest, cert_len, what)?;
        let signer: [u8; 32] = array(&mut rest, what)?;
        let signature: [u8; 64] = array(&mut rest, what)?;
        if !rest.is_empty() {
            return Err(MlsError::Malformed(
                "key announcement: trailing bytes".into(),
            ));
        }
        announcement.check_team()?;
        if announcement.tenant != anchor.tenant {
            return Err(MlsError::Rejected("another tenant's key".into()));
        }
        if cert.is_empty() {
            if !anchor.roots.contains(&signer) {
                return Err(MlsError::Credential("not signed by the tenant root".into()));
            }
        } else {
            let issuing =
                Certificate::decode(cert).map_err(|e| MlsError::Credential(e.to_string()))?;
            let body = &issuing.body;
            let trusted = body.role == Role::Issuing
                && anchor.roots.contains(&issuing.issuer)
                && body.tenant == anchor.tenant
                && body.subject == signer
                && body.not_before <= announcement.created
                && announcement.created < body.not_after;
            if !trusted {
                return Err(MlsError::Credential(
                    "the issuing certificate does not vouch for this key".into(),
                ));
            }
        }
        let signed_len = bytes.len() - 64;
        let mut message = CONTEXT.to_vec();
        message.extend_from_slice(&bytes[..signed_len]);
        let key = VerifyingKey::from_bytes(&signer)
            .map_err(|_| MlsError::Credential("bad signer key".into()))?;
        // verify_strict: RFC 8032 §5.1.7 plus no small-order keys or malleable signatures.
        key.verify_strict(&message, &Signature::from_bytes(&signature))
            .map_err(|_| {
                MlsError::Credential("the announcement's signature does not verify".into())
            })?;
        Ok(announcement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::CertBody;

    fn announcement(kind: KeyKind, team: [u8; 16]) -> Announcement {
        Announcement {
            kind,
            tenant: [4; 16],
            team,
            version: 2,
            public: [8; 32],
            created: 1_500,
        }
    }

    #[test]
    fn root_and_certified_issuers_announce_keys() {
        let root = DeviceSigner::from_seed(&[1; 32]).unwrap();
        let issuing = DeviceSigner::from_seed(&[2; 32]).unwrap();
        let anchor = TrustAnchor {
            tenant: [4; 16],
            roots: vec![root.public().try_into().unwrap()],
        };
        let cert = CertBody {
            role: Role::Issuing,
            tenant: [4; 16],
            team: [0; 16],
            subject: issuing.public().try_into().unwrap(),
            not_before: 1_000,
            not_after: 2_000,
            label: "Admin console".into(),
        }
        .sign(&root)
        .unwrap();

        let archive = announcement(KeyKind::Archive, [0; 16]);
        let by_root = archive.sign(&[], &root).unwrap();
        assert_eq!(Announcement::verify(&by_root, &anchor).unwrap(), archive);

        let team = announcement(KeyKind::Team, [5; 16]);
        let by_issuer = team.sign(&cert, &issuing).unwrap();
        assert_eq!(Announcement::verify(&by_issuer, &anchor).unwrap(), team);

        // An uncertified signer, a stranger's anchor, a key made after the issuer expired,
        // any altered byte: refused.
        let rogue = DeviceSigner::from_seed(&[3; 32]).unwrap();
        assert!(Announcement::verify(&team.sign(&[], &rogue).unwrap(), &anchor).is_err());
        assert!(Announcement::verify(&team.sign(&[], &issuing).unwrap(), &anchor).is_err());
        let stranger = TrustAnchor {
            tenant: [9; 16],
            ..anchor.clone()
        };
        assert!(Announcement::verify(&by_root, &stranger).is_err());
        let late = Announcement {
            created: 2_000,
            ..team.clone()
        };
        assert!(Announcement::verify(&late.sign(&cert, &issuing).unwrap(), &anchor).is_err());
        for i in [0, 4, 5, 30, 60, by_issuer.len() - 100, by_issuer.len() - 1] {
            let mut altered = by_issuer.clone();
            altered[i] ^= 1;
            assert!(Announcement::verify(&altered, &anchor).is_err(), "byte {i}");
        }
    }

    #[test]
    fn team_keys_name_a_team_and_archive_keys_none() {
        let root = DeviceSigner::from_seed(&[1; 32]).unwrap();
        assert!(
            announcement(KeyKind::Archive, [5; 16])
                .sign(&[], &root)
                .is_err()
        );
        assert!(
            announcement(KeyKind::Team, [0; 16])
                .sign(&[], &root)
                .is_err()
        );
    }
}
