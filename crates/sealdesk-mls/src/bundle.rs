//! History Member bundles (E2EE.md §2, §6): the private half of a History Member's key
//! package, sealed by the team member's device that made it to the team key (queue preview,
//! history for later agents) and to the tenant's archive key (the business's archive). The
//! server stores the bundle and hands it out with the conversation, and can open none of it.
//!
//! Encoding (TypeScript twin: `web/shared/seal/bundle.ts`):
//!
//! ```text
//! "SDB1" ‖ tenant (16) ‖ team (16) ‖ chain<V>       the sealing device's SDCH credential chain
//! ‖ count (u8, 1..=4) ‖ count × {
//!     kind (u8: 1 team, 2 archive) ‖ key_version (u32) ‖ recipient (32) ‖ sealed<V> }
//! ```
//!
//! Each `sealed` is a [`crate::seal`] object (`history-bundle` to a team key,
//! `history-archive` to an archive key) over [`KeyPackageSecrets::to_bytes`], signed by the
//! device the chain certifies. The opener checks the chain against the tenant root it pins, at
//! the time the bundle was used (archives are opened long after certificates expire), so a
//! server cannot slip in a History Member of its own.

use crate::certs::{Role, TrustAnchor, Verified, verify_identity};
use crate::seal::{self, SealContext};
use crate::wire::{array, put_vec, take, take_vec};
use crate::{DeviceSigner, KeyPackageSecrets, MlsError};

const MAGIC: &[u8; 4] = b"SDB1";
const MAX_RECIPIENTS: usize = 4;

/// Which tenant key a seal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A team key (TK): the team's members.
    Team,
    /// The archive key (AK): owners and compliance staff.
    Archive,
}

impl KeyKind {
    /// The wire byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::Team => 1,
            Self::Archive => 2,
        }
    }

    /// The kind of a wire byte.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Team),
            2 => Some(Self::Archive),
            _ => None,
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            Self::Team => "history-bundle",
            Self::Archive => "history-archive",
        }
    }
}

/// A public key a bundle is sealed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    /// Team or archive key.
    pub kind: KeyKind,
    /// Its version.
    pub key_version: u32,
    /// The X25519 public key.
    pub public: [u8; 32],
}

/// The private key an opener holds.
#[derive(Debug, Clone, Copy)]
pub struct OpeningKey<'a> {
    /// Which key this is.
    pub recipient: Recipient,
    /// Its X25519 private key.
    pub private: &'a [u8],
}

fn context(tenant: [u8; 16], team: [u8; 16], recipient: &Recipient) -> SealContext {
    SealContext {
        purpose: recipient.kind.purpose(),
        tenant,
        team,
        key_version: recipient.key_version,
        recipient: recipient.public,
    }
}

/// Seals `secrets` for a team's pool: `chain` is the credential of `signer`'s device.
pub fn seal_bundle(
    secrets: &KeyPackageSecrets,
    tenant: [u8; 16],
    team: [u8; 16],
    chain: &[u8],
    recipients: &[Recipient],
    signer: &DeviceSigner,
) -> Result<Vec<u8>, MlsError> {
    let plaintext = secrets.to_bytes()?;
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&tenant);
    out.extend_from_slice(&team);
    put_seals(&mut out, chain, recipients, signer, &plaintext, |r| {
        context(tenant, team, r)
    })?;
    Ok(out)
}

/// Appends the part every sealed envelope ends with (SDB1 here, SDT1 in `teamseal`):
/// `chain<V> ‖ count (u8, 1..=4) ‖ count × { kind ‖ key_version ‖ recipient ‖ sealed<V> }`,
/// each seal an SDS1 object over `plaintext` with `context(recipient)` (RFC 9180 §5.1.1).
/// Refuses an empty or over-long or repeated recipient list, and a chain that does not
/// certify `signer`'s key.
pub(crate) fn put_seals(
    out: &mut Vec<u8>,
    chain: &[u8],
    recipients: &[Recipient],
    signer: &DeviceSigner,
    plaintext: &[u8],
    context: impl Fn(&Recipient) -> SealContext,
) -> Result<(), MlsError> {
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(MlsError::Rejected("1 to 4 recipient keys".into()));
    }
    for (i, r) in recipients.iter().enumerate() {
        if recipients[..i]
            .iter()
            .any(|o| o.kind == r.kind && o.key_version == r.key_version)
        {
            return Err(MlsError::Rejected("a key appears twice".into()));
        }
    }
    if crate::certs::chain_subject(chain).is_none_or(|subject| subject[..] != signer.public()[..]) {
        return Err(MlsError::Rejected(
            "the chain must certify the sealing device's key".into(),
        ));
    }
    put_vec(out, chain)?;
    #[allow(clippy::cast_possible_truncation)] // at most 4, checked above
    out.push(recipients.len() as u8);
    for r in recipients {
        out.push(r.kind.byte());
        out.extend_from_slice(&r.key_version.to_be_bytes());
        out.extend_from_slice(&r.public);
        let sealed = seal::seal(&r.public, &context(r), plaintext, signer)?;
        put_vec(out, &sealed)?;
    }
    Ok(())
}

/// A sealed envelope's chain and seals: the counterpart of [`put_seals`], which must end
/// the envelope (`what` names it in errors).
pub(crate) type Seals<'a> = (&'a [u8], Vec<(Recipient, &'a [u8])>);

/// Reads [`put_seals`]' part from `rest`, which must hold nothing after it.
pub(crate) fn take_seals<'a>(rest: &mut &'a [u8], what: &str) -> Result<Seals<'a>, MlsError> {
    let chain = take_vec(rest)?;
    let count = usize::from(array::<1>(rest, what)?[0]);
    if count == 0 || count > MAX_RECIPIENTS {
        return Err(MlsError::Malformed(format!(
            "{what}: 1 to 4 recipient keys"
        )));
    }
    let mut seals: Vec<(Recipient, &[u8])> = Vec::with_capacity(count);
    for _ in 0..count {
        let kind = KeyKind::from_byte(array::<1>(rest, what)?[0])
            .ok_or_else(|| MlsError::Malformed("unknown key kind".into()))?;
        let recipient = Recipient {
            kind,
            key_version: u32::from_be_bytes(array(rest, what)?),
            public: array(rest, what)?,
        };
        let sealed = take_vec(rest)?;
        if seals
            .iter()
            .any(|(o, _)| o.kind == recipient.kind && o.key_version == recipient.key_version)
        {
            return Err(MlsError::Malformed("a key appears twice".into()));
        }
        seals.push((recipient, sealed));
    }
    if !rest.is_empty() {
        return Err(MlsError::Malformed(format!("{what}: trailing bytes")));
    }
    Ok((chain, seals))
}

/// A bundle's parts, before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The tenant.
    pub tenant: [u8; 16],
    /// The team whose pool it was made for.
    pub team: [u8; 16],
    /// The sealing device's credential chain.
    pub chain: &'a [u8],
    /// The keys it is sealed to, each with its sealed object.
    pub seals: Vec<(Recipient, &'a [u8])>,
}

/// Parses a bundle (no cryptography).
pub fn parse(bytes: &[u8]) -> Result<Envelope<'_>, MlsError> {
    let what = "history bundle";
    let mut rest = bytes;
    if take(&mut rest, 4, what)? != MAGIC {
        return Err(MlsError::Malformed("not a history bundle".into()));
    }
    let tenant = array(&mut rest, what)?;
    let team = array(&mut rest, what)?;
    let (chain, seals) = take_seals(&mut rest, what)?;
    Ok(Envelope {
        tenant,
        team,
        chain,
        seals,
    })
}

/// Opens a bundle with `key`: the chain must verify against `anchor` at `at` (Unix seconds;
/// when the bundle was taken) for an agent or supervisor device, and the seal must be that
/// device's.
pub fn open_bundle(
    bytes: &[u8],
    key: &OpeningKey<'_>,
    anchor: &TrustAnchor,
    at: u64,
) -> Result<KeyPackageSecrets, MlsError> {
    let envelope = parse(bytes)?;
    if envelope.tenant != anchor.tenant {
        return Err(MlsError::Rejected("another tenant's bundle".into()));
    }
    let signer = sealing_device(envelope.chain, anchor, at)?;
    let (_, sealed) = envelope
        .seals
        .iter()
        .find(|(r, _)| *r == key.recipient)
        .ok_or_else(|| MlsError::Rejected("the bundle is not sealed to this key".into()))?;
    let plaintext = seal::open(
        sealed,
        &context(envelope.tenant, envelope.team, &key.recipient),
        key.private,
        &signer,
    )?;
    KeyPackageSecrets::from_bytes(&plaintext)
}

/// The device key a chain certifies, if it may make History Members.
fn sealing_device(chain: &[u8], anchor: &TrustAnchor, at: u64) -> Result<[u8; 32], MlsError> {
    // The chain names its own subject; verify_identity then binds the chain to that key.
    let subject = crate::certs::chain_subject(chain)
        .ok_or_else(|| MlsError::Credential("the bundle's chain is malformed".into()))?;
    match verify_identity(chain, &subject, anchor, at) {
        Ok(Verified::Device(body)) if matches!(body.role, Role::Agent | Role::Supervisor) => {
            Ok(subject)
        }
        Ok(_) => Err(MlsError::Credential(
            "only agent and supervisor devices make History Members".into(),
        )),
        Err(e) => Err(MlsError::Credential(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::{CertBody, encode_chain};
    use crate::seal::derive_keys;

    struct Fixture {
        anchor: TrustAnchor,
        chain: Vec<u8>,
        device: DeviceSigner,
    }

    fn fixture(role: Role) -> Fixture {
        let root = DeviceSigner::from_seed(&[1; 32]).unwrap();
        let issuing = DeviceSigner::from_seed(&[2; 32]).unwrap();
        let device = DeviceSigner::from_seed(&[3; 32]).unwrap();
        let body = |role, subject: &DeviceSigner| CertBody {
            role,
            tenant: [4; 16],
            team: [0; 16],
            subject: subject.public().try_into().unwrap(),
            not_before: 1_000,
            not_after: 2_000,
            label: "Jane D.".into(),
        };
        let issuing_cert = body(Role::Issuing, &issuing).sign(&root).unwrap();
        let device_cert = body(role, &device).sign(&issuing).unwrap();
        Fixture {
            anchor: TrustAnchor {
                tenant: [4; 16],
                roots: vec![root.public().try_into().unwrap()],
            },
            chain: encode_chain(&device_cert, &issuing_cert).unwrap(),
            device,
        }
    }

    fn secrets() -> KeyPackageSecrets {
        KeyPackageSecrets {
            key_package: vec![9; 300],
            init_private: vec![1; 32],
            encryption_private: vec![2; 32],
            signature_private: vec![3; 32],
        }
    }

    #[test]
    fn team_and_archive_holders_open_the_same_secrets() {
        let f = fixture(Role::Agent);
        let team = derive_keys(&[10; 32]).unwrap();
        let archive = derive_keys(&[11; 32]).unwrap();
        let recipients = [
            Recipient {
                kind: KeyKind::Team,
                key_version: 3,
                public: team.public,
            },
            Recipient {
                kind: KeyKind::Archive,
                key_version: 1,
                public: archive.public,
            },
        ];
        let bundle = seal_bundle(
            &secrets(),
            [4; 16],
            [5; 16],
            &f.chain,
            &recipients,
            &f.device,
        )
        .unwrap();
        for (recipient, keys) in recipients.iter().zip([&team, &archive]) {
            let key = OpeningKey {
                recipient: *recipient,
                private: &keys.private,
            };
            assert_eq!(
                open_bundle(&bundle, &key, &f.anchor, 1_500).unwrap(),
                secrets()
            );
        }
        // Another version, the other key's private half, a stranger's anchor, a time the
        // chain was not valid: refused.
        let wrong_version = OpeningKey {
            recipient: Recipient {
                key_version: 4,
                ..recipients[0]
            },
            private: &team.private,
        };
        assert!(open_bundle(&bundle, &wrong_version, &f.anchor, 1_500).is_err());
        let crossed = OpeningKey {
            recipient: recipients[0],
            private: &archive.private,
        };
        assert!(open_bundle(&bundle, &crossed, &f.anchor, 1_500).is_err());
        let team_key = OpeningKey {
            recipient: recipients[0],
            private: &team.private,
        };
        let stranger = TrustAnchor {
            roots: vec![[7; 32]],
            ..f.anchor.clone()
        };
        assert!(open_bundle(&bundle, &team_key, &stranger, 1_500).is_err());
        assert!(open_bundle(&bundle, &team_key, &f.anchor, 2_500).is_err());
        // Any altered byte is caught: header, chain, the team seal (first) for the team key,
        // the archive seal (last) for the archive key.
        let archive_key = OpeningKey {
            recipient: recipients[1],
            private: &archive.private,
        };
        let team_seal_end = bundle.len() / 2;
        for i in [4, 20, 40, 100, 300, team_seal_end, bundle.len() - 1] {
            let mut altered = bundle.clone();
            altered[i] ^= 1;
            let key = if i > team_seal_end {
                &archive_key
            } else {
                &team_key
            };
            assert!(
                open_bundle(&altered, key, &f.anchor, 1_500).is_err(),
                "byte {i}"
            );
        }
        let mut longer = bundle.clone();
        longer.push(0);
        assert!(parse(&longer).is_err());
    }

    #[test]
    fn only_agents_and_supervisors_make_history_members() {
        let f = fixture(Role::History);
        let team = derive_keys(&[10; 32]).unwrap();
        let recipient = Recipient {
            kind: KeyKind::Team,
            key_version: 1,
            public: team.public,
        };
        let bundle = seal_bundle(
            &secrets(),
            [4; 16],
            [5; 16],
            &f.chain,
            &[recipient],
            &f.device,
        )
        .unwrap();
        let key = OpeningKey {
            recipient,
            private: &team.private,
        };
        assert!(matches!(
            open_bundle(&bundle, &key, &f.anchor, 1_500),
            Err(MlsError::Credential(_))
        ));
    }

    #[test]
    fn recipients_are_one_to_four_distinct_keys() {
        let f = fixture(Role::Agent);
        let r = Recipient {
            kind: KeyKind::Team,
            key_version: 1,
            public: [1; 32],
        };
        // A device sealing under someone else's chain would make a bundle nobody opens.
        let other = DeviceSigner::from_seed(&[8; 32]).unwrap();
        assert!(seal_bundle(&secrets(), [4; 16], [5; 16], &f.chain, &[r], &other).is_err());
        for recipients in [vec![], vec![r, r], vec![r; 5]] {
            assert!(
                seal_bundle(
                    &secrets(),
                    [4; 16],
                    [5; 16],
                    &f.chain,
                    &recipients,
                    &f.device
                )
                .is_err()
            );
        }
    }

    #[test]
    fn secrets_encoding_round_trips_and_is_strict() {
        let bytes = secrets().to_bytes().unwrap();
        assert_eq!(KeyPackageSecrets::from_bytes(&bytes).unwrap(), secrets());
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(KeyPackageSecrets::from_bytes(&longer).is_err());
        let short_key = KeyPackageSecrets {
            init_private: vec![1; 31],
            ..secrets()
        };
        assert!(short_key.to_bytes().is_err());
    }
}
