//! `sealdesk admin keys devices|enrol` as an admin runs them: a device that asked to be
//! enrolled is certified only with the fingerprint it shows, and the team key reaches it as a
//! wrap that its own wrap key opens (signed by the issuing key), never in the clear.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_core::clock::{Clock as _, SystemClock};
use sealdesk_mls::DeviceSigner;
use sealdesk_mls::certs::{self, TrustAnchor, Verified};
use sealdesk_mls::seal::{self, SealContext};
use sealdesk_proto::{StaffId, TeamId, TenantId};
use sealdesk_store::{DeviceRepo as _, DeviceStatus, NewDevice, TenantRepo as _};

use super::owner::Owner;
use super::{admin, admin_stdin, assert_fails, json};

#[tokio::test]
#[allow(clippy::too_many_lines)] // one device's story: request, wrong fingerprint, enrol, open
async fn a_device_is_enrolled_only_with_its_fingerprint_and_gets_its_team_key() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Owner::new(dir.path(), "Enrol Shop", "enrol.example", false);
    let p = |name: &str| owner.path(name);
    let (tenant, team) = (owner.tenant.clone(), owner.team.clone());
    let staff = owner.agent("kim@enrol.example", "a long enough passphrase", &team);
    owner.root_and_issuing();
    owner.team_key(&team, "team.key", "team pass");

    // The device's side (its REST request is tested in sealdesk-server): both keys made on
    // the device, only the public halves registered.
    let tenant_id: TenantId = tenant.parse().unwrap();
    let signer = DeviceSigner::from_seed(&[5; 32]).unwrap();
    let signature_key: [u8; 32] = signer.public().try_into().unwrap();
    let wrap = seal::derive_keys(&[6; 32]).unwrap();
    let store = sealdesk_store::sqlite::open(&dir.path().join("data/sealdesk.db"))
        .await
        .unwrap();
    let device = store
        .add_device(
            &NewDevice {
                id: uuid::Uuid::now_v7(),
                tenant_id,
                staff_id: staff.parse::<StaffId>().unwrap(),
                label: "Kim's laptop".into(),
                signature_key,
                wrap_key: wrap.public,
                requested_at: SystemClock.now(),
            },
            10,
        )
        .await
        .unwrap();
    let listed = json(&admin(
        dir.path(),
        &[
            "keys", "devices", "--tenant", &tenant, "--status", "pending", "--json",
        ],
    ));
    let shown = &listed["devices"][0];
    assert_eq!(shown["id"], device.id.to_string());
    let fingerprint = shown["fingerprint"].as_str().unwrap().to_owned();
    let enrol = |fp: &str| {
        admin_stdin(
            dir.path(),
            &[
                "keys",
                "enrol",
                "--tenant",
                &tenant,
                "--device",
                &device.id.to_string(),
                "--fingerprint",
                fp,
                "--issuing",
                &p("issuing.key"),
                "--team-key",
                &p("team.key"),
                "--passphrase-stdin",
                "--json",
            ],
            "issuing pass\nteam pass\n",
        )
    };

    // The admin read another screen: nothing is certified or wrapped.
    let mut wrong = fingerprint.clone();
    wrong.replace_range(
        0..4,
        if wrong.starts_with("ffff") {
            "0000"
        } else {
            "ffff"
        },
    );
    assert_fails(&enrol(&wrong), 65, "does not match");
    let still = store.get_device(tenant_id, device.id).await.unwrap();
    assert_eq!(still.status, DeviceStatus::Pending);
    assert!(
        store
            .key_wraps(tenant_id, device.id)
            .await
            .unwrap()
            .is_empty()
    );

    // As read aloud: upper case, no spaces.
    let done = json(&enrol(&fingerprint.replace(' ', "").to_uppercase()));
    assert_eq!(done["status"], "certified");
    assert_eq!(done["wraps"], 1);

    let certified = store.get_device(tenant_id, device.id).await.unwrap();
    assert_eq!(certified.status, DeviceStatus::Certified);
    let chain = certified.credential.unwrap();
    assert_eq!(done["credential"], STANDARD.encode(&chain));
    let anchor = TrustAnchor {
        tenant: *tenant_id.as_uuid().as_bytes(),
        roots: store.root_keys(tenant_id).await.unwrap(),
    };
    let now = u64::try_from(SystemClock.now().unix_timestamp()).unwrap();
    match certs::verify_identity(&chain, &signature_key, &anchor, now).unwrap() {
        Verified::Device(body) => {
            assert_eq!(body.role, certs::Role::Agent);
            assert_eq!(body.subject, signature_key);
        }
        Verified::Visitor(_) => panic!("a device chain was expected"),
    }

    // The device opens its wrap with its own wrap key; the seal is the issuing key's.
    let wraps = store.key_wraps(tenant_id, device.id).await.unwrap();
    assert_eq!(wraps.len(), 1);
    let team_id: TeamId = team.parse().unwrap();
    assert_eq!((wraps[0].team_id, wraps[0].version), (team_id, 1));
    let issuing_file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("issuing.key")).unwrap()).unwrap();
    let issuing_public: [u8; 32] = STANDARD
        .decode(issuing_file["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let context = SealContext {
        purpose: "team-key-wrap",
        tenant: *tenant_id.as_uuid().as_bytes(),
        team: *team_id.as_uuid().as_bytes(),
        key_version: 1,
        recipient: wrap.public,
    };
    let ikm = seal::open(&wraps[0].sealed, &context, &wrap.private, &issuing_public).unwrap();
    let team_file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("team.key")).unwrap()).unwrap();
    assert_eq!(
        STANDARD.encode(seal::derive_keys(&ikm).unwrap().public),
        team_file["public_key"].as_str().unwrap()
    );
    // Another key cannot open it.
    let other = seal::derive_keys(&[7; 32]).unwrap();
    assert!(seal::open(&wraps[0].sealed, &context, &other.private, &issuing_public).is_err());

    // Once certified, a second enrolment is refused.
    assert_fails(&enrol(&fingerprint), 65, "not pending");
}

/// A member leaves: the next team key version is wrapped to the remaining members' devices
/// only, the leaver's device keeps just the old version.
#[tokio::test]
#[allow(clippy::too_many_lines)] // one rotation: two devices, a leaver, v2, rewrap
async fn a_rotated_team_key_reaches_only_the_remaining_members() {
    use sealdesk_store::RoutingRepo as _;
    let dir = tempfile::tempdir().unwrap();
    let owner = Owner::new(dir.path(), "Rot Shop", "rot.example", false);
    let p = |name: &str| owner.path(name);
    let (tenant, team) = (owner.tenant.clone(), owner.team.clone());
    let staff: Vec<String> = ["kim@rot.example", "lee@rot.example"]
        .iter()
        .map(|email| owner.agent(email, "a long enough passphrase", &team))
        .collect();
    owner.root_and_issuing();
    let team_key = |out: &str| owner.team_key(&team, out, "team pass");
    team_key("team1.key");
    let tenant_id: TenantId = tenant.parse().unwrap();
    let store = sealdesk_store::sqlite::open(&dir.path().join("data/sealdesk.db"))
        .await
        .unwrap();
    let mut devices = Vec::new();
    for (i, who) in staff.iter().enumerate() {
        let seed = u8::try_from(i).unwrap() + 1;
        let signer = DeviceSigner::from_seed(&[seed; 32]).unwrap();
        let wrap = seal::derive_keys(&[seed + 10; 32]).unwrap();
        let device = store
            .add_device(
                &NewDevice {
                    id: uuid::Uuid::now_v7(),
                    tenant_id,
                    staff_id: who.parse::<StaffId>().unwrap(),
                    label: format!("Laptop {i}"),
                    signature_key: signer.public().try_into().unwrap(),
                    wrap_key: wrap.public,
                    requested_at: SystemClock.now(),
                },
                10,
            )
            .await
            .unwrap();
        let fingerprint =
            sealdesk_server::app::devices::fingerprint(&device.signature_key, &device.wrap_key);
        admin_stdin(
            dir.path(),
            &[
                "keys",
                "enrol",
                "--tenant",
                &tenant,
                "--device",
                &device.id.to_string(),
                "--fingerprint",
                &fingerprint,
                "--issuing",
                &p("issuing.key"),
                "--team-key",
                &p("team1.key"),
                "--passphrase-stdin",
                "--json",
            ],
            "issuing pass\nteam pass\n",
        );
        devices.push((device, wrap));
    }
    // Lee leaves the team; the owner makes version 2 and wraps it.
    let team_id: TeamId = team.parse().unwrap();
    store
        .remove_team_member(tenant_id, team_id, staff[1].parse().unwrap())
        .await
        .unwrap();
    assert_eq!(team_key("team2.key")["version"], 2);
    let rewrapped = json(&admin_stdin(
        dir.path(),
        &[
            "keys",
            "rewrap",
            "--tenant",
            &tenant,
            "--team",
            &team,
            "--issuing",
            &p("issuing.key"),
            "--team-key",
            &p("team2.key"),
            "--passphrase-stdin",
            "--json",
        ],
        "issuing pass\nteam pass\n",
    ));
    assert_eq!(
        (rewrapped["version"].as_u64(), rewrapped["devices"].as_u64()),
        (Some(2), Some(1))
    );
    let versions = |i: usize| {
        let store = &store;
        let id = devices[i].0.id;
        async move {
            store
                .key_wraps(tenant_id, id)
                .await
                .unwrap()
                .iter()
                .map(|w| w.version)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(versions(0).await, [1, 2]);
    assert_eq!(versions(1).await, [1]);
    // Kim's device opens version 2 with its own key.
    let wraps = store.key_wraps(tenant_id, devices[0].0.id).await.unwrap();
    let issuing: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("issuing.key")).unwrap()).unwrap();
    let issuing_public: [u8; 32] = STANDARD
        .decode(issuing["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let context = SealContext {
        purpose: "team-key-wrap",
        tenant: *tenant_id.as_uuid().as_bytes(),
        team: *team_id.as_uuid().as_bytes(),
        key_version: 2,
        recipient: devices[0].1.public,
    };
    seal::open(
        &wraps[1].sealed,
        &context,
        &devices[0].1.private,
        &issuing_public,
    )
    .unwrap();
}
