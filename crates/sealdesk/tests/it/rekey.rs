//! `sealdesk agent rekey` end to end (E2EE.md §3 "Rotation"): agents Ann and Bob in a team,
//! a visitor's conversation assigned to Bob; Ann leaves the team; the owner rotates the team
//! key, rewraps it to the remaining devices and refills the pool under the new version; Bob's
//! terminal re-keys the conversation's History Member. What is said afterwards does not open
//! with the old team key's History Member and does with the new one; Bob's `agent history`
//! and the archive show every message.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sealdesk_core::clock::{Clock as _, SystemClock};
use sealdesk_core::domain::EntryKind;
use sealdesk_mls::bundle::{KeyKind, OpeningKey, Recipient, open_bundle};
use sealdesk_mls::certs::{ChainCheck, TrustAnchor};
use sealdesk_mls::payload::{Body, Payload};
use sealdesk_mls::{KeyPackageSecrets, LogItem, Replay, Replayed};
use sealdesk_proto::TenantId;
use sealdesk_proto::ws::WireKind;
use sealdesk_store::{
    HistoryMemberState, HistoryPoolRepo as _, LogRepo as _, RoutingRepo as _, StoreAdmin as _,
};

use super::agent::{DEVICE_PASS, PASSWORD, agent_in, enrol_terminal, staff_commit, stdout, text};
use super::history_pool::keys_of;
use super::owner::Owner;
use super::serve::{start, terminate};
use super::widget_visitor::{WidgetVisitor, add_member};
use super::{admin_stdin, json, run, sealdesk};

const BEFORE: [&str; 3] = [
    "before: my parcel is late",
    "before: are you there?",
    "before: I am on it",
];
const AFTER: [&str; 2] = ["after: the new key", "after: Ann cannot read this"];

pub(crate) fn now() -> u64 {
    u64::try_from(SystemClock.now().unix_timestamp()).unwrap()
}

pub(crate) fn anchor_of(pinned: &str, tenant: TenantId) -> TrustAnchor {
    let root: [u8; 32] = URL_SAFE_NO_PAD
        .decode(
            pinned
                .trim_start_matches("data-sealdesk-tenant-key=")
                .trim_matches('"')
                .trim_start_matches("ed25519:"),
        )
        .unwrap()
        .try_into()
        .unwrap();
    TrustAnchor {
        tenant: *tenant.as_uuid().as_bytes(),
        roots: vec![root],
    }
}

/// A History Member bundle opened with a team key file's key `version`.
pub(crate) fn open_with(
    dir: &std::path::Path,
    file: &str,
    pass: &str,
    version: u32,
    sealed: &[u8],
    anchor: &TrustAnchor,
) -> Result<KeyPackageSecrets, sealdesk_mls::MlsError> {
    let keys = keys_of(dir, file, pass);
    let opening = OpeningKey {
        recipient: Recipient {
            kind: KeyKind::Team,
            key_version: version,
            public: keys.public,
        },
        private: &keys.private,
    };
    open_bundle(sealed, &opening, anchor, now())
}

/// The texts a replay with `secrets` reads from the log, `?` for each unreadable message.
pub(crate) fn replayed(
    secrets: &[KeyPackageSecrets],
    anchor: &TrustAnchor,
    log: &[sealdesk_core::domain::LogEntry],
) -> Vec<String> {
    let mut replay = Replay::generations(secrets, anchor).unwrap();
    let mut texts = Vec::new();
    for e in log {
        let item = match e.kind {
            EntryKind::Welcome => LogItem::Welcome(&e.payload),
            EntryKind::Handshake => LogItem::Handshake(&e.payload),
            EntryKind::Application => LogItem::Application(&e.payload),
            EntryKind::System => continue,
        };
        match replay.feed(item, now()).unwrap() {
            Replayed::Message { plaintext, .. } => {
                if let Body::Text(t) = Payload::decode(&plaintext).unwrap().body {
                    texts.push(t);
                }
            }
            Replayed::Unreadable => texts.push("?".into()),
            _ => {}
        }
    }
    texts
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one rotation's story: team, leaver, new key, rekey, proofs
async fn a_removed_agent_cannot_read_a_rekeyed_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let owner = Owner::new(d, "Rekey Shop", "rekey.example", true);
    let p = |name: &str| owner.path(name);
    let (tenant, team) = (owner.tenant.clone(), owner.team.clone());
    let ann = owner.agent("ann@rekey.example", PASSWORD, &team);
    owner.agent("bob@rekey.example", PASSWORD, &team);
    let pinned = owner.root_and_issuing();
    owner.team_key(&team, "team.key", "team pass");
    owner.archive_key("archive.key", "archive pass");
    let fill = |team_key: &str, pass: &str| {
        admin_stdin(
            d,
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
                "2",
                "--passphrase-stdin",
                "--json",
            ],
            &format!("issuing pass\n{pass}\narchive pass\n"),
        )
    };
    fill("team.key", "team pass");
    let (mut server, url) = start(d, &[]);
    enrol_terminal(
        d,
        &url,
        &tenant,
        "ann",
        "ann@rekey.example",
        &pinned,
        "agent",
    );
    enrol_terminal(
        d,
        &url,
        &tenant,
        "bob",
        "bob@rekey.example",
        &pinned,
        "agent",
    );
    let tenant_id: TenantId = tenant.parse().unwrap();
    let anchor = anchor_of(&pinned, tenant_id);

    // The visitor's widget (a Rust MLS client): group, History Member, first message.
    let check = std::sync::Arc::new(ChainCheck::new(anchor.clone(), now));
    let WidgetVisitor {
        http: visitor,
        mut conn,
        mut cursors,
        mut mls,
        c,
    } = WidgetVisitor::start(&url, tenant_id, team.parse().unwrap(), check, 5).await;
    conn.send(
        c,
        "v1",
        WireKind::Application,
        &mls.send(&text(BEFORE[0])).unwrap(),
    )
    .await
    .unwrap();

    // Bob accepts; the widget adds his device; he joins and answers.
    let id = c.to_string();
    let bob = |args: &[&str], stdin: &str| agent_in(d, "bob", args, stdin);
    let pass = format!("{DEVICE_PASS}\n");
    let with_id = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--conversation", id.as_str()]);
        all.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let args = with_id(&["accept", "--passphrase-stdin"]);
    stdout(&bob(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &pass,
    ));
    let kps = visitor.visitor_take_key_packages(c).await.unwrap();
    let kp = STANDARD.decode(&kps.key_packages[0].key_package).unwrap();
    add_member(&mut conn, &mut mls, c, &kp, "bob").await;
    conn.send(
        c,
        "v2",
        WireKind::Application,
        &mls.send(&text(BEFORE[1])).unwrap(),
    )
    .await
    .unwrap();
    let read = with_id(&["read", "--passphrase-stdin"]);
    let read: Vec<&str> = read.iter().map(String::as_str).collect();
    assert!(stdout(&bob(&read, &pass)).contains("(joined the conversation)"));
    let send = with_id(&["send", "--stdin"]);
    let send: Vec<&str> = send.iter().map(String::as_str).collect();
    stdout(&bob(&send, &format!("{DEVICE_PASS}\n{}\n", BEFORE[2])));

    // Nothing to re-key yet: the History Member is sealed to the team's only key.
    let rekey = ["rekey", "--passphrase-stdin"];
    let nothing = stdout(&bob(&rekey, &pass));
    assert!(
        nothing.contains("already sealed to team key version 1"),
        "{nothing}"
    );

    // Ann leaves the team; the owner rotates its key, rewraps it, refills the pool.
    let store = sealdesk_store::sqlite::open(&d.join("data/sealdesk.db"))
        .await
        .unwrap();
    store
        .remove_team_member(tenant_id, team.parse().unwrap(), ann.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        owner.team_key(&team, "team2.key", "team2 pass")["version"],
        2
    );
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
    assert_eq!(rewrapped["devices"], 1, "Bob's device only");

    // Before the pool holds a History Member sealed to version 2, the server has nothing to
    // rotate to (409): the terminal says so, exits non-zero and commits nothing.
    let log_len = |store: &sealdesk_store::sqlite::SqliteStore| {
        let store = store.clone();
        let conversation = id.parse().unwrap();
        async move {
            store
                .read_log(tenant_id, conversation, 0, 1000)
                .await
                .unwrap()
                .len()
        }
    };
    let before = log_len(&store).await;
    let early = bob(&rekey, &pass);
    assert!(
        !early.status.success(),
        "a re-key without a rotation member must fail"
    );
    let early_out = String::from_utf8_lossy(&early.stdout).into_owned();
    assert!(
        early_out.contains(&format!("{id}: not re-keyed")),
        "{early_out}"
    );
    assert_eq!(log_len(&store).await, before, "nothing was committed");
    fill("team2.key", "team2 pass");

    // Bob's terminal re-keys the conversation.
    let done = stdout(&bob(&rekey, &pass));
    assert!(
        done.contains(&format!(
            "{id}: History Member rotated to generation 2 (team key version 2, was 1)"
        )),
        "{done}"
    );
    staff_commit(&mut conn, &mut cursors, &mut mls).await;
    conn.send(
        c,
        "v3",
        WireKind::Application,
        &mls.send(&text(AFTER[0])).unwrap(),
    )
    .await
    .unwrap();
    stdout(&bob(&send, &format!("{DEVICE_PASS}\n{}\n", AFTER[1])));
    let again = stdout(&bob(&rekey, &pass));
    assert!(
        again.contains("already sealed to team key version 2"),
        "{again}"
    );

    // The proof, from what the server stores: generation 1 opens with the old team key and
    // reads only what came before the rotation; generation 2 does not open with it.
    let members = store
        .conversation_history_members(tenant_id, c)
        .await
        .unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| (m.generation, m.state, m.team_key_version))
            .collect::<Vec<_>>(),
        [
            (1, HistoryMemberState::Retired, Some(1)),
            (2, HistoryMemberState::Active, Some(2))
        ]
    );
    let (g1, g2) = (
        &members[0].package.sealed_bundle,
        &members[1].package.sealed_bundle,
    );
    let old = open_with(d, "team.key", "team pass", 1, g1, &anchor).unwrap();
    assert!(open_with(d, "team.key", "team pass", 1, g2, &anchor).is_err());
    let new = open_with(d, "team2.key", "team2 pass", 2, g2, &anchor).unwrap();
    let log = store.read_log(tenant_id, c, 0, 1000).await.unwrap();
    let with_old_key = replayed(std::slice::from_ref(&old), &anchor, &log);
    assert_eq!(with_old_key, [BEFORE[0], BEFORE[1], BEFORE[2], "?", "?"]);
    for secret in AFTER {
        assert!(!with_old_key.iter().any(|t| t == secret));
    }
    let with_both = replayed(&[old, new], &anchor, &log);
    assert_eq!(
        with_both,
        [BEFORE[0], BEFORE[1], BEFORE[2], AFTER[0], AFTER[1]]
    );

    // Bob's history shows every message; Ann's device holds only the old team key.
    let history = with_id(&["history", "--passphrase-stdin"]);
    let history: Vec<&str> = history.iter().map(String::as_str).collect();
    let shown = stdout(&bob(&history, &pass));
    for line in BEFORE.iter().chain(&AFTER) {
        assert!(shown.contains(line), "{line} in {shown}");
    }
    let ann_status = json(&agent_in(
        d,
        "ann",
        &["status", "--passphrase-stdin", "--json"],
        &pass,
    ));
    assert_eq!(ann_status["team_keys"], 1);

    // The archive: exported with both History Members, decrypted with the archive key.
    let mut export = sealdesk(d);
    export
        .args([
            "archive",
            "export",
            "--tenant",
            &tenant,
            "--out",
            &p("shop.sda"),
        ])
        .arg("--data-dir")
        .arg(d.join("data"));
    stdout(&run(export, ""));
    let mut decrypt = sealdesk(d);
    decrypt
        .args([
            "archive",
            "decrypt",
            "--in",
            &p("shop.sda"),
            "--key",
            &p("archive.key"),
        ])
        .args([
            "--out",
            &p("transcripts"),
            "--passphrase-stdin",
            "--data-dir",
        ])
        .arg(d.join("data"));
    stdout(&run(decrypt, "archive pass\n"));
    let transcript = std::fs::read_to_string(d.join("transcripts/transcripts.jsonl")).unwrap();
    let texts: Vec<String> = transcript
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(texts, [BEFORE[0], BEFORE[1], BEFORE[2], AFTER[0], AFTER[1]]);
    store.close().await;
    assert!(terminate(&mut server).success());
}
