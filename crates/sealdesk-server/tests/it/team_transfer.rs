//! A conversation transferred to another team (docs/e2ee.md, "Transfer to another team"):
//! its History Member stays the first team's until a writer of the conversation rotates it to
//! one from the pool of the conversation's current team. Through a real server with openmls
//! clients: the rotation is offered although both teams' keys are at version 1, the new
//! team's member is accepted and listed, one of the previous team taken before the transfer
//! is refused and then abandoned for one of the new team's, and neither the previous team's
//! agent nor another tenant's staff gets anything. A transfer carries the earlier bundles and
//! notes re-sealed for the new team, checked and stored with it.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::Client;
use sealdesk_client::ws::Connection;
use sealdesk_core::clock::Clock as _;
use sealdesk_core::domain::Team;
use sealdesk_mls::bundle::{KeyKind, OpeningKey, Recipient, open_bundle, seal_bundle};
use sealdesk_mls::certs::{ChainCheck, Role, TrustAnchor};
use sealdesk_mls::seal::derive_keys;
use sealdesk_mls::teamseal;
use sealdesk_mls::{Client as Mls, DeviceSigner, profile};
use sealdesk_proto::conversations::{
    CarriedBundleUpload, CarriedNoteUpload, CarryOverUpload, TransferRequest,
};
use sealdesk_proto::keys::HistoryMemberState;
use sealdesk_proto::ws::WireKind;
use sealdesk_proto::{ConversationId, ErrorCode, StaffId};
use sealdesk_testkit::{TestApp, spawn_app};

use crate::conversations::{Desk, Visitor, connect_staff, connect_visitor, desk, team, visitor};
use crate::e2ee_policy::start_group;
use crate::hierarchy::{Hierarchy, public};
use crate::history_rotation::{announce, history_member, refused};

/// Team A ("Support", Max) and team B ("Billing", Ola), both keyed at version 1, their
/// pools filled.
struct World {
    app: TestApp,
    desk: Desk,
    billing: Team,
    ola: (StaffId, Client),
    h: Hierarchy,
    anchor: TrustAnchor,
    /// Team B's pool: (key package, bundle) pairs.
    billing_pool: Vec<(Vec<u8>, Vec<u8>)>,
}

impl World {
    async fn new() -> Self {
        let app = spawn_app().await;
        let desk = desk(&app, "Move Shop", "move.example", &["max@move.example"]).await;
        let tenant = desk.tenant.id;
        let billing = team(&app, &desk.tenant, "Billing").await;
        let ola = app.staff(&desk.tenant, "ola@move.example", "agent").await;
        app.store
            .add_team_member(tenant, billing.id, ola.id)
            .await
            .unwrap();
        let ola_http = app.login(&desk.tenant, "ola@move.example").await;
        let h = Hierarchy::register(&app, tenant).await;
        let anchor = TrustAnchor {
            tenant: *tenant.as_uuid().as_bytes(),
            roots: vec![public(&h.root)],
        };
        let sealer = DeviceSigner::from_seed(&[3; 32]).unwrap();
        let sealer_chain = h.chain(Role::Agent, public(&sealer), "Max M.");
        let (support, billing_id) = (
            *desk.team.id.as_uuid().as_bytes(),
            *billing.id.as_uuid().as_bytes(),
        );
        announce(&app, &h, tenant, support, 1).await;
        announce(&app, &h, tenant, billing_id, 1).await;
        let support_pool: Vec<_> = (0..2)
            .map(|_| history_member(&h, &anchor, support, 1, &sealer, &sealer_chain))
            .collect();
        desk.agents[0]
            .1
            .publish_history_pool(tenant, desk.team.id, &support_pool)
            .await
            .unwrap();
        let billing_pool: Vec<_> = (0..2)
            .map(|_| history_member(&h, &anchor, billing_id, 1, &sealer, &sealer_chain))
            .collect();
        ola_http
            .publish_history_pool(tenant, billing.id, &billing_pool)
            .await
            .unwrap();
        Self {
            app,
            desk,
            billing,
            ola: (ola.id, ola_http),
            h,
            anchor,
            billing_pool,
        }
    }

    fn check(&self) -> Arc<ChainCheck> {
        let now = u64::try_from(self.app.clock.now().unix_timestamp()).unwrap();
        Arc::new(ChainCheck::new(self.anchor.clone(), move || now))
    }

    /// A conversation Max claimed, whose group (the visitor's) holds the Support team's
    /// History Member and Max's device.
    async fn conversation(&self, seed: u8) -> (Visitor, ConversationId, Connection, Mls) {
        let v = visitor(&self.app, &self.desk).await;
        let c = v.http.open_conversation(None).await.unwrap().id;
        self.desk.agents[0]
            .1
            .claim(self.desk.tenant.id, c)
            .await
            .unwrap();
        let mut vconn = connect_visitor(&self.app, &v).await;
        let mut visitor_mls = start_group(&mut vconn, c, seed, &[b'g', seed]).await;
        let hm = STANDARD
            .decode(v.http.visitor_history_member(c).await.unwrap().key_package)
            .unwrap();
        let max_device = DeviceSigner::from_seed(&[seed; 32]).unwrap();
        let max_chain = self.h.chain(Role::Agent, public(&max_device), "Max M.");
        let mut max_mls = Mls::with_signer(&max_chain, max_device, self.check());
        let max_kp = max_mls
            .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
            .unwrap();
        let add = visitor_mls.commit(&[hm, max_kp], &[]).unwrap();
        vconn
            .send(c, "add", WireKind::Handshake, &add.commit)
            .await
            .unwrap();
        visitor_mls.merge().unwrap();
        (v, c, vconn, visitor_mls)
    }

    /// Max moves `c` to Billing; Ola takes it; the visitor's widget adds Ola's device (as it
    /// does for any new assignee). Returns Ola's group member.
    async fn move_to_billing(
        &self,
        c: ConversationId,
        vconn: &mut Connection,
        visitor_mls: &mut Mls,
        seed: u8,
    ) -> Mls {
        let tenant = self.desk.tenant.id;
        let moved = self.desk.agents[0]
            .1
            .transfer(
                tenant,
                c,
                &TransferRequest {
                    agent: None,
                    team: Some(self.billing.id),
                    carry: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(moved.team_id, self.billing.id);
        self.ola.1.claim(tenant, c).await.unwrap();
        let device = DeviceSigner::from_seed(&[seed.wrapping_add(100); 32]).unwrap();
        let chain = self.h.chain(Role::Agent, public(&device), "Ola O.");
        let mut ola_mls = Mls::with_signer(&chain, device, self.check());
        let kp = ola_mls
            .key_package(profile::DEVICE_KEY_PACKAGE_LIFETIME)
            .unwrap();
        let add = visitor_mls.commit(&[kp], &[]).unwrap();
        vconn
            .send(c, "add-ola", WireKind::Handshake, &add.commit)
            .await
            .unwrap();
        visitor_mls.merge().unwrap();
        ola_mls.join(add.welcome.as_ref().unwrap()).unwrap();
        ola_mls
    }
}

/// The leaf of the group's History Member (the visitor's group: visitor 0, History Member 1).
const HISTORY_LEAF: u32 = 1;

#[tokio::test]
async fn the_new_team_rotates_the_history_member_to_its_own() {
    let w = World::new().await;
    let tenant = w.desk.tenant.id;
    let max_http = &w.desk.agents[0].1;
    let (_, ola_http) = &w.ola;
    let (_v, c, mut vconn, mut visitor_mls) = w.conversation(7).await;
    // Nothing to rotate while the conversation is the Support team's.
    let err = max_http.rotation_member(tenant, c).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Conflict), "{err:?}");

    let mut ola_mls = w.move_to_billing(c, &mut vconn, &mut visitor_mls, 7).await;
    // The previous team's agent no longer reads it, so gets no member either.
    let err = max_http.rotation_member(tenant, c).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotFound), "{err:?}");
    // Another tenant's staff get nothing, not even whether it exists.
    let other = desk(
        &w.app,
        "Other Shop",
        "other.example",
        &["eve@other.example"],
    )
    .await;
    let eve = &other.agents[0].1;
    for err in [
        eve.rotation_member(tenant, c).await.unwrap_err(),
        eve.rotation_member(other.tenant.id, c).await.unwrap_err(),
        eve.history_member(other.tenant.id, c).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), Some(ErrorCode::NotFound), "{err:?}");
    }

    // Both teams' keys are at version 1, yet the member is Support's: Billing's is offered.
    let pending = ola_http.rotation_member(tenant, c).await.unwrap();
    assert_eq!(
        (pending.generation, pending.state, pending.team_key_version),
        (2, HistoryMemberState::Pending, Some(1))
    );
    let pending_kp = STANDARD.decode(&pending.key_package).unwrap();
    assert!(w.billing_pool.iter().any(|(kp, _)| *kp == pending_kp));

    // Ola's rotation to Billing's member is accepted and listed.
    let mut oconn = connect_staff(&w.app, ola_http).await;
    let out = ola_mls
        .commit(std::slice::from_ref(&pending_kp), &[HISTORY_LEAF])
        .unwrap();
    oconn
        .send(c, "o-rotate", WireKind::Handshake, &out.commit)
        .await
        .unwrap();
    ola_mls.merge().unwrap();
    oconn
        .send(
            c,
            "o-rotate-w",
            WireKind::Welcome,
            out.welcome.as_ref().unwrap(),
        )
        .await
        .unwrap();
    let after = ola_http.history_member(tenant, c).await.unwrap();
    assert_eq!(STANDARD.decode(&after.key_package).unwrap(), pending_kp);
    assert_eq!(
        after
            .members
            .iter()
            .map(|m| (m.generation, m.state))
            .collect::<Vec<_>>(),
        [
            (1, HistoryMemberState::Retired),
            (2, HistoryMemberState::Active)
        ]
    );
    // Billing's member at Billing's current version: nothing more to rotate.
    let err = ola_http.rotation_member(tenant, c).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Conflict), "{err:?}");
    assert!(matches!(
        visitor_mls.process(&out.commit).unwrap(),
        sealdesk_mls::Processed::Commit { .. }
    ));
}

#[tokio::test]
async fn a_member_of_the_previous_team_is_refused_and_abandoned_after_a_transfer() {
    let w = World::new().await;
    let tenant = w.desk.tenant.id;
    let support = *w.desk.team.id.as_uuid().as_bytes();
    let max_http = &w.desk.agents[0].1;
    let (_v, c, mut vconn, mut visitor_mls) = w.conversation(9).await;
    // A Support key rotation is under way when Max moves the conversation: Support's
    // member sealed to version 2 is pending.
    announce(&w.app, &w.h, tenant, support, 2).await;
    let sealer = DeviceSigner::from_seed(&[3; 32]).unwrap();
    let sealer_chain = w.h.chain(Role::Agent, public(&sealer), "Max M.");
    let support_v2 = history_member(&w.h, &w.anchor, support, 2, &sealer, &sealer_chain);
    max_http
        .publish_history_pool(tenant, w.desk.team.id, std::slice::from_ref(&support_v2))
        .await
        .unwrap();
    let stale = max_http.rotation_member(tenant, c).await.unwrap();
    assert_eq!(STANDARD.decode(&stale.key_package).unwrap(), support_v2.0);

    let mut ola_mls = w.move_to_billing(c, &mut vconn, &mut visitor_mls, 9).await;
    let ola_http = &w.ola.1;
    // Billing's key cannot open it: the delivery service refuses adding it, though it is
    // still the pending one.
    let mut oconn = connect_staff(&w.app, ola_http).await;
    let out = ola_mls.commit(&[support_v2.0], &[HISTORY_LEAF]).unwrap();
    refused(&mut oconn, c, "o-stale", &out.commit, "current team").await;
    ola_mls.discard().unwrap();
    // The rotation request abandons it and offers Billing's.
    let fresh = ola_http.rotation_member(tenant, c).await.unwrap();
    let fresh_kp = STANDARD.decode(&fresh.key_package).unwrap();
    assert!(w.billing_pool.iter().any(|(kp, _)| *kp == fresh_kp));
    let out = ola_mls
        .commit(std::slice::from_ref(&fresh_kp), &[HISTORY_LEAF])
        .unwrap();
    oconn
        .send(c, "o-rotate", WireKind::Handshake, &out.commit)
        .await
        .unwrap();
    ola_mls.merge().unwrap();
    let listed = ola_http.history_member(tenant, c).await.unwrap();
    assert_eq!(
        listed
            .members
            .iter()
            .map(|m| (m.generation, m.state))
            .collect::<Vec<_>>(),
        [
            (1, HistoryMemberState::Retired),
            (2, HistoryMemberState::Abandoned),
            (3, HistoryMemberState::Active)
        ]
    );
}

/// A copy of `bundle` (sealed to Support's key version 1) re-sealed by `signer` for `team`'s
/// key at `version` (the test keys derive from the version only).
fn resealed_bundle(
    w: &World,
    bundle: &[u8],
    team: [u8; 16],
    version: u32,
    (signer, chain): (&DeviceSigner, &[u8]),
) -> Vec<u8> {
    let support_key = team_key(1);
    let opening = OpeningKey {
        recipient: team_recipient(1),
        private: &support_key.private,
    };
    let now = u64::try_from(w.app.clock.now().unix_timestamp()).unwrap();
    let secrets = open_bundle(bundle, &opening, &w.anchor, now).unwrap();
    let tenant = *w.desk.tenant.id.as_uuid().as_bytes();
    seal_bundle(
        &secrets,
        tenant,
        team,
        chain,
        &[team_recipient(version)],
        signer,
    )
    .unwrap()
}

fn team_key(version: u32) -> sealdesk_mls::seal::HpkeKeys {
    derive_keys(&[20 + u8::try_from(version).unwrap(); 32]).unwrap()
}

fn team_recipient(version: u32) -> Recipient {
    Recipient {
        kind: KeyKind::Team,
        key_version: version,
        public: team_key(version).public,
    }
}

fn carry_of(bundles: Vec<(u32, &[u8])>, notes: Vec<(u64, &[u8])>) -> CarryOverUpload {
    CarryOverUpload {
        bundles: bundles
            .into_iter()
            .map(|(generation, b)| CarriedBundleUpload {
                generation,
                sealed_bundle: STANDARD.encode(b),
            })
            .collect(),
        notes: notes
            .into_iter()
            .map(|(seq, p)| CarriedNoteUpload {
                seq,
                p: STANDARD.encode(p),
            })
            .collect(),
    }
}

/// Carries the server refuses, with the code it answers.
fn refusals(
    w: &World,
    bundle: &[u8],
    copy: &[u8],
    (original, note_copy): (&[u8], &[u8]),
    signer: (&DeviceSigner, &[u8]),
) -> Vec<(CarryOverUpload, ErrorCode)> {
    let tenant_bytes = *w.desk.tenant.id.as_uuid().as_bytes();
    let (support, billing) = (
        *w.desk.team.id.as_uuid().as_bytes(),
        *w.billing.id.as_uuid().as_bytes(),
    );
    let (device, chain) = signer;
    let to_support = resealed_bundle(w, bundle, support, 1, signer);
    let to_v2 = resealed_bundle(w, bundle, billing, 2, signer);
    let canned = teamseal::seal_canned(
        &teamseal::CannedResponse {
            team: billing,
            written_ms: 1,
            title: "t".into(),
            text: "x".into(),
        },
        tenant_bytes,
        chain,
        &[team_recipient(1)],
        device,
    )
    .unwrap();
    vec![
        (
            carry_of(vec![(1, &to_support)], vec![]),
            ErrorCode::InvalidInput,
        ),
        (carry_of(vec![(1, &to_v2)], vec![]), ErrorCode::Conflict),
        (carry_of(vec![(2, copy)], vec![]), ErrorCode::InvalidInput),
        (
            carry_of(vec![(1, copy), (1, copy)], vec![]),
            ErrorCode::InvalidInput,
        ),
        (
            carry_of(vec![], vec![(2, note_copy)]),
            ErrorCode::InvalidInput,
        ),
        (
            carry_of(vec![], vec![(1, &canned)]),
            ErrorCode::InvalidInput,
        ),
        (
            carry_of(vec![], vec![(1, original)]),
            ErrorCode::InvalidInput,
        ),
        (
            carry_of(vec![(1, b"SDB1 garbage")], vec![]),
            ErrorCode::InvalidInput,
        ),
    ]
}

#[tokio::test]
async fn a_transfer_carries_the_history_and_notes_to_the_new_team() {
    let w = World::new().await;
    let tenant = w.desk.tenant.id;
    let (tenant_bytes, support, billing) = (
        *tenant.as_uuid().as_bytes(),
        *w.desk.team.id.as_uuid().as_bytes(),
        *w.billing.id.as_uuid().as_bytes(),
    );
    let (max_id, max_http) = (&w.desk.agents[0].0, &w.desk.agents[0].1);
    let (_v, c, _vconn, _visitor_mls) = w.conversation(11).await;
    let device = DeviceSigner::from_seed(&[11; 32]).unwrap();
    let chain = w.h.chain(Role::Agent, public(&device), "Max M.");
    let note = teamseal::Note {
        conversation: *c.as_uuid().as_bytes(),
        id: [4; 16],
        written_ms: 1,
        text: "refund approved".into(),
        carried_from: None,
    };
    let original = teamseal::seal_note(
        &note,
        tenant_bytes,
        support,
        &chain,
        &[team_recipient(1)],
        &device,
    )
    .unwrap();
    max_http.add_note(tenant, c, &original).await.unwrap();
    let members = max_http.history_member(tenant, c).await.unwrap().members;
    let bundle = STANDARD.decode(&members[0].sealed_bundle).unwrap();
    let signer = (&device, chain.as_slice());
    let copy = resealed_bundle(&w, &bundle, billing, 1, signer);
    let note_copy = teamseal::seal_note(
        &note,
        tenant_bytes,
        billing,
        &chain,
        &[team_recipient(1)],
        &device,
    )
    .unwrap();
    let transfer = |carry| TransferRequest {
        agent: None,
        team: Some(w.billing.id),
        carry,
    };

    // Refused, and the conversation stays Support's: a copy naming another team, one sealed
    // to a key version Billing has not announced, an unknown generation or note, a canned
    // response for a note, garbage, and a carry with a transfer to an agent.
    let refusals = refusals(&w, &bundle, &copy, (&original, &note_copy), signer);
    for (carry, code) in refusals {
        let err = max_http
            .transfer(tenant, c, &transfer(Some(carry)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(code), "{err:?}");
    }
    let to_agent = TransferRequest {
        agent: Some(w.ola.0),
        team: None,
        carry: Some(carry_of(vec![(1, &copy)], vec![])),
    };
    let err = max_http.transfer(tenant, c, &to_agent).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidInput), "{err:?}");
    let (_, ola_http) = &w.ola;
    let err = ola_http.notes(tenant, c).await.unwrap_err();
    assert_eq!(
        err.code(),
        Some(ErrorCode::NotFound),
        "still Support's: {err:?}"
    );

    let carry = carry_of(vec![(1, &copy)], vec![(1, &note_copy)]);
    max_http
        .transfer(tenant, c, &transfer(Some(carry)))
        .await
        .unwrap();

    // Billing's agent reads the copies beside the originals, and Billing's key opens them.
    let members = ola_http.history_member(tenant, c).await.unwrap().members;
    assert_eq!(members[0].carried.len(), 1);
    let carried = &members[0].carried[0];
    assert_eq!(
        (
            carried.team_id,
            carried.team_key_version,
            carried.resealed_by
        ),
        (w.billing.id, 1, *max_id)
    );
    assert_eq!(STANDARD.decode(&carried.sealed_bundle).unwrap(), copy);
    assert_eq!(STANDARD.decode(&members[0].sealed_bundle).unwrap(), bundle);
    let notes = ola_http.notes(tenant, c).await.unwrap().notes;
    assert_eq!(STANDARD.decode(&notes[0].p).unwrap(), original);
    let carried_note = &notes[0].carried[0];
    assert_eq!(
        (carried_note.team_id, carried_note.resealed_by),
        (w.billing.id, *max_id)
    );
    let billing_key = team_key(1);
    let opening = OpeningKey {
        recipient: team_recipient(1),
        private: &billing_key.private,
    };
    let opened = teamseal::open_note(
        &STANDARD.decode(&carried_note.p).unwrap(),
        *c.as_uuid().as_bytes(),
        &opening,
        &w.anchor,
        u64::try_from(w.app.clock.now().unix_timestamp()).unwrap(),
    )
    .unwrap();
    assert_eq!((opened.content, opened.team), (note, billing));
}
