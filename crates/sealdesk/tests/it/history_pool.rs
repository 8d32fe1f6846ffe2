//! `sealdesk admin keys history-pool` as an owner runs it: History Members certified as the
//! team's archive land in the team's pool, and the bundle of the one a conversation takes
//! opens with the team key and with the archive key, never with another team's key.

use sealdesk_core::clock::{Clock as _, SystemClock};
use sealdesk_core::domain::{NewConversation, NewVisitor};
use sealdesk_mls::bundle::{KeyKind, OpeningKey, Recipient, open_bundle};
use sealdesk_mls::certs::TrustAnchor;
use sealdesk_mls::seal::derive_keys;
use sealdesk_proto::{ConversationId, TeamId, TenantId, VisitorId};
use sealdesk_store::{
    ConversationRepo as _, HistoryPoolRepo as _, TenantRepo as _, VisitorRepo as _,
};

use super::owner::Owner;
use super::{admin_stdin, assert_fails, json};

/// The X25519 private key a key file holds, for the test to play the key's holder.
pub(crate) fn keys_of(
    dir: &std::path::Path,
    file: &str,
    pass: &str,
) -> sealdesk_mls::seal::HpkeKeys {
    let text: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
    let sealed = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        text["sealed_seed"].as_str().unwrap(),
    )
    .unwrap();
    let ikm =
        sealdesk_crypto::passphrase::open(&sealed, &secrecy::SecretString::from(pass.to_owned()))
            .unwrap();
    derive_keys(&ikm).unwrap()
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one pool's story: keys, fill, take, open, refuse
async fn history_members_filled_offline_open_with_the_team_and_archive_keys() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Owner::new(dir.path(), "Pool Shop", "pool.example", false);
    let p = |name: &str| owner.path(name);
    let (tenant, team) = (owner.tenant.clone(), owner.team.clone());
    let other_team = owner.new_team("Sales");
    owner.root_and_issuing();
    owner.team_key(&team, "team.key", "team pass");
    owner.team_key(&other_team, "sales.key", "sales pass");
    owner.archive_key("archive.key", "archive pass");

    let fill = |team_key: &str, stdin: &str| {
        admin_stdin(
            dir.path(),
            &[
                "keys",
                "history-pool",
                "--tenant",
                &tenant,
                "--team",
                &team,
                "--issuing",
                &p("issuing.key"),
                "--team-key",
                &p(team_key),
                "--archive-key",
                &p("archive.key"),
                "--count",
                "3",
                "--passphrase-stdin",
                "--json",
            ],
            stdin,
        )
    };
    // Another team's key is refused: its members must not read this team's conversations.
    assert_fails(
        &fill("sales.key", "issuing pass\nsales pass\narchive pass\n"),
        65,
        "not this team's key",
    );
    let filled = json(&fill("team.key", "issuing pass\nteam pass\narchive pass\n"));
    assert_eq!(
        (filled["added"].as_u64(), filled["available"].as_u64()),
        (Some(3), Some(3))
    );

    // A conversation takes one; its bundle opens with the team key and the archive key.
    let store = sealdesk_store::sqlite::open(&dir.path().join("data/sealdesk.db"))
        .await
        .unwrap();
    let tenant_id: TenantId = tenant.parse().unwrap();
    let team_id: TeamId = team.parse().unwrap();
    let now = SystemClock.now();
    let visitor = VisitorId::from_uuid(uuid::Uuid::now_v7());
    store
        .create_visitor(&NewVisitor {
            id: visitor,
            tenant_id,
            team_id,
            key_hash: [7; 32],
            external_id: None,
            created_at: now,
        })
        .await
        .unwrap();
    let conversation = ConversationId::from_uuid(uuid::Uuid::now_v7());
    store
        .create_conversation(&NewConversation {
            id: conversation,
            tenant_id,
            team_id,
            visitor_id: visitor,
            reopened_from: None,
            consent_notice: None,
            created_at: now,
        })
        .await
        .unwrap();
    let member = store
        .take_history_package(tenant_id, team_id, conversation, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .history_pool_size(tenant_id, team_id, now)
            .await
            .unwrap(),
        2
    );

    let anchor = TrustAnchor {
        tenant: *tenant_id.as_uuid().as_bytes(),
        roots: store.root_keys(tenant_id).await.unwrap(),
    };
    let at = u64::try_from(now.unix_timestamp()).unwrap();
    let team_keys = keys_of(dir.path(), "team.key", "team pass");
    let archive_keys = keys_of(dir.path(), "archive.key", "archive pass");
    for (kind, keys) in [
        (KeyKind::Team, &team_keys),
        (KeyKind::Archive, &archive_keys),
    ] {
        let opening = OpeningKey {
            recipient: Recipient {
                kind,
                key_version: 1,
                public: keys.public,
            },
            private: &keys.private,
        };
        let secrets = open_bundle(&member.sealed_bundle, &opening, &anchor, at).unwrap();
        assert_eq!(secrets.key_package, member.key_package.to_vec());
    }
    // The History Member is certified as this team's archive.
    let kp = sealdesk_mls::ds::check_key_package(&member.key_package, &anchor, at, 100 * 86_400)
        .unwrap();
    assert_eq!(kp.team, *team_id.as_uuid().as_bytes());
    assert_eq!(kp.role, sealdesk_mls::certs::Role::History);
    // Sales' key opens nothing.
    let sales = keys_of(dir.path(), "sales.key", "sales pass");
    let wrong = OpeningKey {
        recipient: Recipient {
            kind: KeyKind::Team,
            key_version: 1,
            public: sales.public,
        },
        private: &sales.private,
    };
    assert!(open_bundle(&member.sealed_bundle, &wrong, &anchor, at).is_err());
}
