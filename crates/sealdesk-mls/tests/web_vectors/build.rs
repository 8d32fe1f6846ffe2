//! The Rust-made vector file (`tests/vectors/sealed.json`): the same layout as the TypeScript
//! builder (`web/shared/seal/vectors.ts`), from other seeds (1..4) and labels.

use sealdesk_mls::DeviceSigner;
use sealdesk_mls::KeyPackageSecrets;
use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::{KeyKind, Recipient, seal_bundle};
use sealdesk_mls::certs::{CertBody, Role, VISITOR_MAGIC, encode_chain};
use sealdesk_mls::seal::{SealContext, derive_keys, seal};
use serde_json::{Value, json};

pub(crate) const DAY: u64 = 86_400;
const NOW: u64 = 1_800_000_000;
const TENANT: [u8; 16] = [7; 16];
const TEAM: [u8; 16] = [5; 16];

fn pattern(len: usize, step: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i * step % 256).unwrap())
        .collect()
}

struct Hierarchy {
    root: DeviceSigner,
    issuing: DeviceSigner,
    agent: DeviceSigner,
    history: DeviceSigner,
}

fn key(s: &DeviceSigner) -> [u8; 32] {
    s.public().try_into().unwrap()
}

fn certificate(name: &str, issuer: (&str, &DeviceSigner), body: &CertBody) -> (Vec<u8>, Value) {
    let encoded = body.sign(issuer.1).unwrap();
    let role = match body.role {
        Role::Issuing => "issuing",
        Role::Agent => "agent",
        Role::Supervisor => "supervisor",
        Role::History => "history",
    };
    let entry = json!({
        "name": name, "issuer": issuer.0, "role": role, "tenant": hex::encode(body.tenant),
        "team": hex::encode(body.team), "subject": hex::encode(body.subject),
        "not_before": body.not_before, "not_after": body.not_after, "label": body.label,
        "encoded": hex::encode(&encoded),
    });
    (encoded, entry)
}

fn body(role: Role, subject: &DeviceSigner, team: [u8; 16], days: u64, label: &str) -> CertBody {
    CertBody {
        role,
        tenant: TENANT,
        team,
        subject: key(subject),
        not_before: NOW - DAY,
        not_after: NOW + days * DAY,
        label: label.into(),
    }
}

fn seal_entry(
    name: &str,
    ctx: &SealContext,
    private: &[u8],
    plaintext: &[u8],
    h: &Hierarchy,
) -> Value {
    let sealed = seal(&ctx.recipient, ctx, plaintext, &h.issuing).unwrap();
    json!({
        "name": name, "purpose": ctx.purpose, "tenant": hex::encode(ctx.tenant),
        "team": hex::encode(ctx.team), "key_version": ctx.key_version,
        "recipient_public": hex::encode(ctx.recipient), "recipient_private": hex::encode(private),
        "signer": hex::encode(key(&h.issuing)), "plaintext": hex::encode(plaintext),
        "sealed": hex::encode(sealed),
    })
}

fn announcement(name: &str, a: &Announcement, signer: (&str, &DeviceSigner), cert: &[u8]) -> Value {
    let encoded = a.sign(cert, signer.1).unwrap();
    json!({
        "name": name, "kind": if a.kind == KeyKind::Team { "team" } else { "archive" },
        "tenant": hex::encode(a.tenant), "team": hex::encode(a.team), "version": a.version,
        "public": hex::encode(a.public), "created": a.created, "signer": signer.0,
        "issuing_cert": hex::encode(cert), "encoded": hex::encode(encoded),
    })
}

/// Certificates, chains and identities of the hierarchy; returns the issuing certificate and
/// the agent's chain too.
fn hierarchy_entries(h: &Hierarchy) -> (Vec<u8>, Vec<u8>, Value, Value) {
    let (issuing_cert, c1) = certificate(
        "issuing key",
        ("root", &h.root),
        &body(Role::Issuing, &h.issuing, [0; 16], 365, "Admin console"),
    );
    let (agent_cert, c2) = certificate(
        "agent device",
        ("issuing", &h.issuing),
        &body(Role::Agent, &h.agent, [0; 16], 30, "Jürgen S. (Rust)"),
    );
    let (history_cert, c3) = certificate(
        "History Member device",
        ("issuing", &h.issuing),
        &body(Role::History, &h.history, TEAM, 90, "Billing"),
    );
    let agent_chain = encode_chain(&agent_cert, &issuing_cert).unwrap();
    let history_chain = encode_chain(&history_cert, &issuing_cert).unwrap();
    let mut visitor = VISITOR_MAGIC.to_vec();
    visitor.extend_from_slice(&[9; 16]);
    let identities = json!([
        {"name": "agent chain", "identity": hex::encode(&agent_chain), "leaf": hex::encode(key(&h.agent)),
         "at": NOW, "expected": {"kind": "device", "role": "agent", "label": "Jürgen S. (Rust)", "team": hex::encode([0; 16])}},
        {"name": "History Member chain", "identity": hex::encode(&history_chain), "leaf": hex::encode(key(&h.history)),
         "at": NOW + 29 * DAY, "expected": {"kind": "device", "role": "history", "label": "Billing", "team": hex::encode(TEAM)}},
        {"name": "visitor", "identity": hex::encode(&visitor), "leaf": hex::encode([1; 32]), "at": NOW,
         "expected": {"kind": "visitor", "id": hex::encode([9; 16])}},
    ]);
    (issuing_cert, agent_chain, json!([c1, c2, c3]), identities)
}

/// The whole file.
pub(crate) fn vectors() -> Value {
    let signer = |n: u8| DeviceSigner::from_seed(&[n; 32]).unwrap();
    let h = Hierarchy {
        root: signer(1),
        issuing: signer(2),
        agent: signer(3),
        history: signer(4),
    };
    let (issuing_cert, agent_chain, certificates, identities) = hierarchy_entries(&h);

    let team_key = derive_keys(&[0x10; 32]).unwrap();
    let archive_key = derive_keys(&[0x11; 32]).unwrap();
    let device = derive_keys(&[0x12; 32]).unwrap();
    let compliance = derive_keys(&[0x13; 32]).unwrap();
    let wrap = SealContext {
        purpose: "team-key-wrap",
        tenant: TENANT,
        team: TEAM,
        key_version: 3,
        recipient: device.public,
    };
    let archive_wrap = SealContext {
        purpose: "archive-key-wrap",
        team: [0; 16],
        key_version: 0xffff_fffe,
        recipient: compliance.public,
        ..wrap.clone()
    };
    let seals = json!([
        seal_entry(
            "team key wrapped to a device",
            &wrap,
            &device.private,
            &team_key.private,
            &h
        ),
        seal_entry(
            "archive key wrapped (two-byte lengths)",
            &archive_wrap,
            &compliance.private,
            &pattern(300, 7),
            &h
        ),
    ]);

    let secrets = KeyPackageSecrets {
        key_package: pattern(300, 13),
        init_private: vec![0x41; 32],
        encryption_private: vec![0x42; 32],
        signature_private: vec![0x43; 32],
    };
    let recipients = [
        Recipient {
            kind: KeyKind::Team,
            key_version: 3,
            public: team_key.public,
        },
        Recipient {
            kind: KeyKind::Archive,
            key_version: 1,
            public: archive_key.public,
        },
    ];
    let bundle = seal_bundle(&secrets, TENANT, TEAM, &agent_chain, &recipients, &h.agent).unwrap();
    let bundles = json!([{
        "name": "History Member for team and archive", "tenant": hex::encode(TENANT),
        "team": hex::encode(TEAM), "at": NOW,
        "keys": [
            {"kind": "team", "key_version": 3, "public": hex::encode(team_key.public), "private": hex::encode(&*team_key.private)},
            {"kind": "archive", "key_version": 1, "public": hex::encode(archive_key.public), "private": hex::encode(&*archive_key.private)},
        ],
        "secrets": {
            "key_package": hex::encode(&secrets.key_package), "init_private": hex::encode(&secrets.init_private),
            "encryption_private": hex::encode(&secrets.encryption_private),
            "signature_private": hex::encode(&secrets.signature_private),
        },
        "bundle": hex::encode(bundle),
    }]);

    let team_announcement = Announcement {
        kind: KeyKind::Team,
        tenant: TENANT,
        team: TEAM,
        version: 3,
        public: team_key.public,
        created: NOW,
    };
    let archive_announcement = Announcement {
        kind: KeyKind::Archive,
        team: [0; 16],
        version: 1,
        public: archive_key.public,
        created: NOW - 400 * DAY,
        ..team_announcement.clone()
    };
    let announcements = json!([
        announcement(
            "team key by the issuing key",
            &team_announcement,
            ("issuing", &h.issuing),
            &issuing_cert
        ),
        announcement(
            "archive key by the root",
            &archive_announcement,
            ("root", &h.root),
            &[]
        ),
    ]);

    let seed = |n: u8| hex::encode([n; 32]);
    json!({
        "producer": "rust", "tenant": hex::encode(TENANT),
        "seeds": {"root": seed(1), "issuing": seed(2), "agent": seed(3), "history": seed(4)},
        "roots": [hex::encode([0xee; 32]), hex::encode(key(&h.root))],
        "certificates": certificates, "identities": identities, "seals": seals,
        "bundles": bundles, "announcements": announcements,
        "team_seals": super::teamseal::entries(
            TENANT, TEAM, NOW, &agent_chain, &h.agent, &team_key, &archive_key),
    })
}
