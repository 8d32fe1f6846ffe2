//! The self-test's tenant keys and History Member, made the way a tenant does (E2EE.md §3):
//! a root key (registered with the server, private half dropped after signing), an issuing
//! key certifying device keys, and a team key announced under the root. The agent's device
//! seals the History Member's bundle (`SDB1`) to the announced team key after verifying the
//! announcement; the replay opens the bundle fetched back from the server with the team key,
//! as a team member's console does.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::Client;
use sealdesk_core::clock::Clock;
use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::{KeyKind, OpeningKey, Recipient, open_bundle, seal_bundle};
use sealdesk_mls::certs::{CertBody, ChainCheck, Role, TrustAnchor, VISITOR_MAGIC, encode_chain};
use sealdesk_mls::seal::{self, HpkeKeys};
use sealdesk_mls::{Client as Mls, DeviceSigner, profile};
use sealdesk_proto::{ConversationId, TeamId, TenantId};
use sealdesk_server::app::tenancy::Deps;
use sealdesk_store::{KeyScope, SealingKey};

use super::{Fixture, step};

/// Validity of the self-test's certificates.
const VALIDITY_SECS: u64 = 3600;

/// The throwaway tenant's key hierarchy and team key.
pub(super) struct Keys {
    clock: Arc<dyn Clock>,
    pub(super) anchor: TrustAnchor,
    issuing: DeviceSigner,
    issuing_cert: Vec<u8>,
    /// The team key, as a team member's device holds it once wrapped to it.
    team_key: HpkeKeys,
}

/// A certified device: its MLS client, its signer (the same key) and its chain.
pub(super) struct Device {
    pub(super) mls: Mls,
    signer: DeviceSigner,
    chain: Vec<u8>,
}

fn public(signer: &DeviceSigner) -> anyhow::Result<[u8; 32]> {
    signer
        .public()
        .try_into()
        .map_err(|_| anyhow::anyhow!("an Ed25519 key is 32 bytes"))
}

fn unix_now(clock: &dyn Clock) -> u64 {
    u64::try_from(clock.now().unix_timestamp()).unwrap_or(0)
}

impl Keys {
    /// Root and issuing keys, the root registered, and the team's key announced.
    pub(super) async fn generate(
        deps: &Deps,
        tenant: TenantId,
        team: TeamId,
    ) -> anyhow::Result<Self> {
        let root = DeviceSigner::generate(|seed| deps.random.fill(seed))?;
        let issuing = DeviceSigner::generate(|seed| deps.random.fill(seed))?;
        let now = unix_now(deps.clock.as_ref());
        let tenant_bytes = *tenant.as_uuid().as_bytes();
        let issuing_cert = CertBody {
            role: Role::Issuing,
            tenant: tenant_bytes,
            team: [0; 16],
            subject: public(&issuing)?,
            not_before: now.saturating_sub(60),
            not_after: now + VALIDITY_SECS,
            label: "Self-test issuing key".into(),
        }
        .sign(&root)?;
        let root_public = public(&root)?;
        deps.store
            .add_root_key(tenant, root_public, deps.clock.now())
            .await?;
        let mut ikm = zeroize::Zeroizing::new([0u8; 32]);
        deps.random.fill(ikm.as_mut_slice());
        let team_key = seal::derive_keys(ikm.as_slice())?;
        let announcement = Announcement {
            kind: KeyKind::Team,
            tenant: tenant_bytes,
            team: *team.as_uuid().as_bytes(),
            version: 1,
            public: team_key.public,
            created: now,
        }
        .sign(&[], &root)?;
        deps.store
            .add_sealing_key(
                tenant,
                &SealingKey {
                    scope: KeyScope::Team(team),
                    version: 1,
                    public_key: team_key.public,
                    announcement: announcement.into(),
                    created_at: deps.clock.now(),
                },
            )
            .await?;
        Ok(Self {
            clock: deps.clock.clone(),
            anchor: TrustAnchor {
                tenant: tenant_bytes,
                roots: vec![root_public],
            },
            issuing,
            issuing_cert,
            team_key,
        })
    }

    fn check(&self) -> Arc<ChainCheck> {
        let clock = Arc::clone(&self.clock);
        Arc::new(ChainCheck::new(self.anchor.clone(), move || {
            unix_now(clock.as_ref())
        }))
    }

    /// A device whose signature key this hierarchy certified for `role`.
    pub(super) fn device(&self, role: Role, label: &str, team: [u8; 16]) -> anyhow::Result<Device> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        sealdesk_core::random::Random::fill(&sealdesk_crypto::OsRandom, seed.as_mut_slice());
        let signer = DeviceSigner::from_seed(seed.as_slice())?;
        let now = unix_now(self.clock.as_ref());
        let cert = CertBody {
            role,
            tenant: self.anchor.tenant,
            team,
            subject: public(&signer)?,
            not_before: now.saturating_sub(60),
            not_after: now + VALIDITY_SECS - 120,
            label: label.into(),
        }
        .sign(&self.issuing)?;
        let chain = encode_chain(&cert, &self.issuing_cert)?;
        let mls = Mls::with_signer(
            &chain,
            DeviceSigner::from_seed(seed.as_slice())?,
            self.check(),
        );
        Ok(Device { mls, signer, chain })
    }

    /// The visitor: a pseudonymous leaf.
    pub(super) fn visitor(&self, random: &[u8; 16]) -> anyhow::Result<Mls> {
        let mut identity = VISITOR_MAGIC.to_vec();
        identity.extend_from_slice(random);
        Ok(Mls::new(&identity, self.check())?)
    }
}

/// The agent's device adds a History Member to the team's pool: a certified key package, its
/// private half sealed (`SDB1`, signed by the agent's device) to every team key the server
/// lists whose announcement verifies under the pinned root.
pub(super) async fn fill_history_pool(
    fixture: &Fixture,
    agent_http: &Client,
    agent: &Device,
) -> anyhow::Result<()> {
    let team = *fixture.team.as_uuid().as_bytes();
    let listed = step("sealing keys", agent_http.sealing_keys(fixture.tenant)).await?;
    let mut recipients = Vec::new();
    for key in &listed.keys {
        let bytes = STANDARD
            .decode(&key.announcement)
            .map_err(|_| anyhow::anyhow!("an announcement is not base64"))?;
        let verified = Announcement::verify(&bytes, &fixture.keys.anchor)?;
        if verified.kind == KeyKind::Team && verified.team == team {
            recipients.push(Recipient {
                kind: verified.kind,
                key_version: verified.version,
                public: verified.public,
            });
        }
    }
    let mut maker = fixture.keys.device(Role::History, "Selftest", team)?;
    let key_package = maker
        .mls
        .key_package(profile::HISTORY_KEY_PACKAGE_LIFETIME)?;
    let secrets = maker.mls.export_last_key_package()?;
    let bundle = seal_bundle(
        &secrets,
        fixture.keys.anchor.tenant,
        team,
        &agent.chain,
        &recipients,
        &agent.signer,
    )?;
    step(
        "history pool",
        agent_http.publish_history_pool(fixture.tenant, fixture.team, &[(key_package, bundle)]),
    )
    .await?;
    Ok(())
}

/// The conversation's History Member rebuilt from its bundle (fetched from the server, its
/// sealer's chain checked, opened with the team key).
pub(super) async fn open_history(
    agent_http: &Client,
    fixture: &Fixture,
    conversation: ConversationId,
) -> anyhow::Result<Mls> {
    let member = step(
        "history bundle",
        agent_http.history_member(fixture.tenant, conversation),
    )
    .await?;
    let sealed = STANDARD
        .decode(member.sealed_bundle.unwrap_or_default())
        .map_err(|_| anyhow::anyhow!("the sealed bundle is not base64"))?;
    let keys = &fixture.keys;
    let opening = OpeningKey {
        recipient: Recipient {
            kind: KeyKind::Team,
            key_version: 1,
            public: keys.team_key.public,
        },
        private: &keys.team_key.private,
    };
    let secrets = open_bundle(
        &sealed,
        &opening,
        &keys.anchor,
        unix_now(keys.clock.as_ref()),
    )?;
    let mut history = Mls::new(b"history replay", keys.check())?;
    history.import_key_package(&secrets)?;
    Ok(history)
}
