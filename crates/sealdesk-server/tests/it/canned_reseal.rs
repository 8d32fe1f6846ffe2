//! Replacing a canned response's sealed payload (`PUT …/canned-responses/{id}`) through a real
//! server: after a team key rotation a supervisor re-seals it to the newest version; the
//! server swaps the payload only if it is still the one the client read (compare-and-swap),
//! only to the team's newest key, only for supervisors and above, and only inside the tenant
//! and team; each replacement is audited without content.

use sealdesk_client::ClientError;
use sealdesk_core::audit::AuditAction;
use sealdesk_mls::DeviceSigner;
use sealdesk_mls::bundle::{KeyKind, Recipient};
use sealdesk_mls::certs::Role;
use sealdesk_mls::seal::derive_keys;
use sealdesk_mls::teamseal::{CannedResponse, seal_canned};
use sealdesk_proto::{CannedResponseId, ErrorCode, TeamId, TenantId};
use sealdesk_testkit::spawn_app;

use crate::conversations::desk;
use crate::hierarchy::{Hierarchy, public};
use crate::history_rotation::announce;

fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, ErrorCode) {
    match r {
        Err(ClientError::Api { status, body }) => (status, body.code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Team key `version` as `history_rotation::announce` derives it.
fn team_key(version: u32) -> Recipient {
    Recipient {
        kind: KeyKind::Team,
        key_version: version,
        public: derive_keys(&[20 + u8::try_from(version).unwrap(); 32])
            .unwrap()
            .public,
    }
}

struct Sealer {
    tenant: TenantId,
    device: DeviceSigner,
    chain: Vec<u8>,
}

impl Sealer {
    fn seal(&self, team: TeamId, title: &str, to: &[Recipient]) -> Vec<u8> {
        let canned = CannedResponse {
            team: *team.as_uuid().as_bytes(),
            written_ms: 1_700_000_000_000,
            title: title.into(),
            text: format!("{title}, how can I help?"),
        };
        seal_canned(
            &canned,
            *self.tenant.as_uuid().as_bytes(),
            &self.chain,
            to,
            &self.device,
        )
        .unwrap()
    }
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one rotation's story: refusals, the swap, the race
async fn a_supervisor_reseals_canned_responses_to_the_newest_team_key() {
    let app = spawn_app().await;
    let acme = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let (tenant, team) = (acme.tenant.id, acme.team.id);
    let team_bytes = *team.as_uuid().as_bytes();
    let (_, ann) = &acme.agents[0];
    let sue_staff = app
        .staff(&acme.tenant, "sue@acme.example", "supervisor")
        .await;
    let sue = app.login(&acme.tenant, "sue@acme.example").await;
    let h = Hierarchy::register(&app, tenant).await;
    let device = DeviceSigner::from_seed(&[5; 32]).unwrap();
    let chain = h.chain(Role::Supervisor, public(&device), "Sue");
    let s = Sealer {
        tenant,
        device,
        chain,
    };

    announce(&app, &h, tenant, team_bytes, 1).await;
    let hello_v1 = s.seal(team, "Hello", &[team_key(1)]);
    let bye_v1 = s.seal(team, "Bye", &[team_key(1)]);
    let hello = sue
        .create_canned_response(tenant, team, &hello_v1)
        .await
        .unwrap();
    let bye = sue
        .create_canned_response(tenant, team, &bye_v1)
        .await
        .unwrap();
    // A member leaves; the owner rotates the team key.
    announce(&app, &h, tenant, team_bytes, 2).await;
    let hello_v2 = s.seal(team, "Hello", &[team_key(2)]);

    // Agents read canned responses but do not replace them.
    assert_eq!(
        code_of(
            ann.replace_canned_response(tenant, team, hello.id, (1, &hello_v1), &hello_v2)
                .await
        ),
        (403, ErrorCode::Forbidden)
    );
    // Only to the newest version, with its announced key, and to nothing else.
    let stale_target = s.seal(team, "Hello", &[team_key(1)]);
    let forged_key = Recipient {
        public: [7; 32],
        ..team_key(2)
    };
    let with_archive = Recipient {
        kind: KeyKind::Archive,
        ..team_key(1)
    };
    for wrong in [
        s.seal(team, "Hello", &[forged_key]),
        stale_target,
        s.seal(team, "Hello", &[team_key(2), with_archive]),
    ] {
        assert_eq!(
            code_of(
                sue.replace_canned_response(tenant, team, hello.id, (1, &hello_v1), &wrong)
                    .await
            ),
            (409, ErrorCode::Conflict)
        );
    }
    // Not a canned response of this team (nor an SDT1 object at all).
    let billing = crate::conversations::team(&app, &acme.tenant, "Billing").await;
    for wrong in [
        s.seal(billing.id, "Hello", &[team_key(2)]),
        b"opaque".to_vec(),
    ] {
        assert_eq!(
            code_of(
                sue.replace_canned_response(tenant, team, hello.id, (1, &hello_v1), &wrong)
                    .await
            ),
            (400, ErrorCode::InvalidInput)
        );
    }
    // The client must name the version the stored payload is sealed to.
    assert_eq!(
        code_of(
            sue.replace_canned_response(tenant, team, hello.id, (2, &hello_v1), &hello_v2)
                .await
        ),
        (409, ErrorCode::Conflict)
    );
    let listed = ann.canned_responses(tenant, team).await.unwrap();
    assert_eq!(listed.canned_responses, vec![hello.clone(), bye.clone()]);

    // The re-seal: the payload is swapped, the re-sealer and the time are recorded.
    let resealed = sue
        .replace_canned_response(tenant, team, hello.id, (1, &hello_v1), &hello_v2)
        .await
        .unwrap();
    assert_eq!(resealed.id, hello.id);
    assert_eq!(resealed.created_by, sue_staff.id);
    let listed = ann.canned_responses(tenant, team).await.unwrap();
    assert_eq!(listed.canned_responses.len(), 2);
    let got = listed
        .canned_responses
        .iter()
        .find(|c| c.id == hello.id)
        .unwrap();
    assert_eq!(got, &resealed);
    assert_eq!(
        base64_of(&hello_v2),
        got.p,
        "the stored payload is the re-sealed one"
    );
    // Reading the old version again loses: the payload changed since.
    assert_eq!(
        code_of(
            sue.replace_canned_response(tenant, team, hello.id, (1, &hello_v1), &hello_v2)
                .await
        ),
        (409, ErrorCode::Conflict)
    );
    // An edit under the newest version is a replacement too.
    let edited = s.seal(team, "Hello again", &[team_key(2)]);
    sue.replace_canned_response(tenant, team, hello.id, (2, &hello_v2), &edited)
        .await
        .unwrap();
    // A second editor who read the same version before that edit does not overwrite it.
    let other_edit = s.seal(team, "Hi", &[team_key(2)]);
    assert_eq!(
        code_of(
            sue.replace_canned_response(tenant, team, hello.id, (2, &hello_v2), &other_edit)
                .await
        ),
        (409, ErrorCode::Conflict)
    );
    let listed = ann.canned_responses(tenant, team).await.unwrap();
    let got = listed
        .canned_responses
        .iter()
        .find(|c| c.id == hello.id)
        .unwrap();
    assert_eq!(got.p, base64_of(&edited), "the first edit stands");

    // Two consoles re-seal the same response at once: one wins, the other gets `conflict`.
    let bye_a = s.seal(team, "Bye", &[team_key(2)]);
    let bye_b = s.seal(team, "Bye!", &[team_key(2)]);
    let (a, b) = tokio::join!(
        sue.replace_canned_response(tenant, team, bye.id, (1, &bye_v1), &bye_a),
        sue.replace_canned_response(tenant, team, bye.id, (1, &bye_v1), &bye_b),
    );
    let (winner, loser) = match (a, b) {
        (Ok(_), lost) => (bye_a, lost),
        (lost, Ok(_)) => (bye_b, lost),
        other => panic!("one of two must win: {other:?}"),
    };
    assert_eq!(code_of(loser), (409, ErrorCode::Conflict));
    let listed = ann.canned_responses(tenant, team).await.unwrap();
    let got = listed
        .canned_responses
        .iter()
        .find(|c| c.id == bye.id)
        .unwrap();
    assert_eq!(got.p, base64_of(&winner));

    // Scoping: another team's path, an unknown id, another tenant.
    let bye_again = s.seal(team, "Bye", &[team_key(2)]);
    assert_eq!(
        code_of(
            sue.replace_canned_response(tenant, billing.id, bye.id, (2, &winner), &bye_again)
                .await
        ),
        (404, ErrorCode::NotFound)
    );
    let unknown = CannedResponseId::from_uuid(uuid::Uuid::from_u128(404));
    assert_eq!(
        code_of(
            sue.replace_canned_response(tenant, team, unknown, (2, &bye_v1), &bye_again)
                .await
        ),
        (404, ErrorCode::NotFound)
    );
    let globex = desk(&app, "Globex", "globex.example", &[]).await;
    app.staff(&globex.tenant, "gus@globex.example", "supervisor")
        .await;
    let gus = app.login(&globex.tenant, "gus@globex.example").await;
    let (status, _) = code_of(
        gus.replace_canned_response(tenant, team, bye.id, (2, &winner), &bye_again)
            .await,
    );
    assert!(
        matches!(status, 403 | 404),
        "another tenant's path: {status}"
    );
    assert_eq!(
        code_of(
            gus.replace_canned_response(globex.tenant.id, team, bye.id, (2, &winner), &bye_again)
                .await
        ),
        (404, ErrorCode::NotFound)
    );

    // Audited with ids and versions, never content.
    let audit = app.store.list_audit(Some(tenant), 0, 1000).await.unwrap();
    let replaced: Vec<_> = audit
        .iter()
        .filter(|r| {
            r.event.action == AuditAction::KeyOperation
                && r.event.details.get("operation").map(String::as_str)
                    == Some("canned_response_replaced")
        })
        .collect();
    assert_eq!(
        replaced.len(),
        3,
        "the re-seal, the edit, the race's winner"
    );
    let first = &replaced[0].event;
    assert_eq!(
        first.target.as_deref(),
        Some(format!("canned_response:{}", hello.id).as_str())
    );
    assert_eq!(
        first.details.get("from_version").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        first.details.get("to_version").map(String::as_str),
        Some("2")
    );
    assert_eq!(first.details.len(), 4, "{:?}", first.details);
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
