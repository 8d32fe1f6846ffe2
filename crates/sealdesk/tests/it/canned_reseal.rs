//! Canned responses after a team key rotation through the terminal agent against a real
//! server: `sealdesk agent rekey` on a supervisor's device re-seals the team's canned
//! responses to the new team key version (the same title and text, read back verified by an
//! agent), once; on an agent's device it leaves them alone.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::Client;

use super::agent::{DEVICE_PASS, PASSWORD, agent_in, enrol_terminal, stdout};
use super::owner::Owner;
use super::serve::{start, terminate};
use super::{admin_stdin, json};

const TITLE: &str = "Refund policy";
const TEXT: &str = "Refunds arrive within 3 days.";

/// The team key versions the team's canned responses are sealed to, as the server lists them.
async fn versions(http: &Client, tenant: &str, team: &str) -> Vec<u32> {
    let listed = http
        .canned_responses(tenant.parse().unwrap(), team.parse().unwrap())
        .await
        .unwrap();
    listed
        .canned_responses
        .iter()
        .map(|c| {
            let bytes = STANDARD.decode(&c.p).unwrap();
            let envelope = sealdesk_mls::teamseal::parse(&bytes).unwrap();
            envelope
                .seals
                .iter()
                .map(|(r, _)| r.key_version)
                .max()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_supervisors_rekey_reseals_canned_responses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let owner = Owner::new(d, "Canned Shop", "canned.example", true);
    let (tenant, team) = (owner.tenant.clone(), owner.team.clone());
    owner.agent("kim@canned.example", PASSWORD, &team);
    owner.member("sue@canned.example", PASSWORD, "supervisor", &team);
    let pinned = owner.root_and_issuing();
    owner.team_key(&team, "team.key", "team pass");
    let (mut server, url) = start(d, &[]);
    enrol_terminal(
        d,
        &url,
        &tenant,
        "kim",
        "kim@canned.example",
        &pinned,
        "agent",
    );
    enrol_terminal(
        d,
        &url,
        &tenant,
        "sue",
        "sue@canned.example",
        &pinned,
        "supervisor",
    );
    let as_staff = |profile: &str, args: &[&str], stdin: &str| {
        agent_in(d, profile, args, &format!("{DEVICE_PASS}\n{stdin}"))
    };
    let created = stdout(&as_staff(
        "sue",
        &["canned", "add", "--team", &team, "--stdin"],
        &format!("{TITLE}\n{TEXT}\n"),
    ));
    assert!(
        created.contains("sealed to team key version 1"),
        "{created}"
    );
    let session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("sue").join("session.json")).unwrap())
            .unwrap();
    let http = Client::new(&url)
        .unwrap()
        .with_token(session["token"].as_str().unwrap().to_owned());
    assert_eq!(versions(&http, &tenant, &team).await, [1]);

    // The owner rotates the team key and rewraps it to both devices.
    assert_eq!(
        owner.team_key(&team, "team2.key", "team2 pass")["version"],
        2
    );
    let p = |name: &str| owner.path(name);
    let rewrapped = json(&admin_stdin(
        d,
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
        "issuing pass\nteam2 pass\n",
    ));
    assert_eq!(rewrapped["devices"], 2);

    // An agent's rekey leaves canned responses alone.
    let rekey = |profile: &str| stdout(&as_staff(profile, &["rekey", "--passphrase-stdin"], ""));
    let by_kim = rekey("kim");
    assert!(!by_kim.contains("canned"), "{by_kim}");
    assert_eq!(versions(&http, &tenant, &team).await, [1]);

    // The supervisor's re-seals it to version 2, once.
    let by_sue = rekey("sue");
    assert!(
        by_sue.contains("1 canned response(s) re-sealed to team key version 2"),
        "{by_sue}"
    );
    assert_eq!(versions(&http, &tenant, &team).await, [2]);
    let again = rekey("sue");
    assert!(!again.contains("re-sealed"), "{again}");

    // The agent reads it unchanged, the re-sealer verified.
    let listed = stdout(&as_staff(
        "kim",
        &["canned", "list", "--team", &team, "--passphrase-stdin"],
        "",
    ));
    assert!(listed.contains(TITLE) && listed.contains(TEXT), "{listed}");
    assert!(listed.contains("(supervisor, verified)"), "{listed}");
    assert!(terminate(&mut server).success());
}
