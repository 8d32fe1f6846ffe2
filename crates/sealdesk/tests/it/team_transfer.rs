//! A conversation moved to another team, end to end through the terminal agent (docs/e2ee.md,
//! "Transfer to another team"): Ann (Support) chats with a visitor and sends the conversation
//! to Billing's queue; the visitor's widget goes on chatting and adds Bob (Billing) once he
//! takes it; Bob's terminal removes Ann's device and re-keys the History Member to one of
//! Billing's pool, although both teams' keys are at version 1. Billing's key opens the new
//! member and reads what follows the rotation; Support's key does not. Ann's transfer carried
//! the first generation's bundle and her note over, re-sealed for Billing: Bob's history shows
//! the whole conversation and his notes show Ann's, carried over by her; altered copies are
//! refused.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_mls::certs::ChainCheck;
use sealdesk_proto::ws::WireKind;
use sealdesk_proto::{TeamId, TenantId};
use sealdesk_store::{
    CarryRepo as _, HistoryMemberState, HistoryPoolRepo as _, LogRepo as _, StoreAdmin as _,
};

use super::admin_stdin;
use super::agent::{
    DEVICE_PASS, PASSWORD, agent_in, enrol_terminal_with, staff_commit, stdout, text,
};
use super::owner::Owner;
use super::rekey::{anchor_of, now, open_with, replayed};
use super::serve::{start, terminate};
use super::widget_visitor::{WidgetVisitor, add_member};

const SUPPORT: [&str; 2] = ["support: my invoice is wrong", "support: Billing will help"];
const WAITING: &str = "waiting: hello, billing?";
const BILLING: [&str; 2] = ["billing: corrected", "billing: thank you"];
const NOTE: &str = "refund approved by Support";

#[tokio::test]
#[allow(clippy::too_many_lines)] // one transfer's story: two teams, widget, handover, proofs
async fn the_new_team_reads_a_transferred_conversation_through_its_own_history_member() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let owner = Owner::new(d, "Move Shop", "move.example", true);
    let p = |name: &str| owner.path(name);
    let (tenant, support) = (owner.tenant.clone(), owner.team.clone());
    let billing = owner.new_team("Billing");
    owner.agent("ann@move.example", PASSWORD, &support);
    owner.agent("bob@move.example", PASSWORD, &billing);
    let pinned = owner.root_and_issuing();
    assert_eq!(
        owner.team_key(&support, "team.key", "team pass")["version"],
        1
    );
    assert_eq!(
        owner.team_key(&billing, "billing.key", "billing pass")["version"],
        1
    );
    owner.archive_key("archive.key", "archive pass");
    for (team, key, pass) in [
        (&support, "team.key", "team pass"),
        (&billing, "billing.key", "billing pass"),
    ] {
        admin_stdin(
            d,
            &[
                "keys",
                "history-pool",
                "--tenant",
                &tenant,
                "--team",
                team,
                "--issuing",
                &p("issuing.key"),
                "--team-key",
                &p(key),
                "--archive-key",
                &p("archive.key"),
                "--count",
                "2",
                "--passphrase-stdin",
                "--json",
            ],
            &format!("issuing pass\n{pass}\narchive pass\n"),
        );
    }
    let (mut server, url) = start(d, &[]);
    let ann_who = ("ann@move.example", "agent");
    let support_key = ("team.key", "team pass");
    enrol_terminal_with(d, &url, &tenant, "ann", ann_who, &pinned, support_key);
    let bob_who = ("bob@move.example", "agent");
    let billing_key = ("billing.key", "billing pass");
    enrol_terminal_with(d, &url, &tenant, "bob", bob_who, &pinned, billing_key);
    let tenant_id: TenantId = tenant.parse().unwrap();
    let anchor = anchor_of(&pinned, tenant_id);

    // Support: the visitor's widget and Ann.
    let check = std::sync::Arc::new(ChainCheck::new(anchor.clone(), now));
    let WidgetVisitor {
        http: visitor,
        mut conn,
        mut cursors,
        mut mls,
        c,
    } = WidgetVisitor::start(&url, tenant_id, support.parse().unwrap(), check, 6).await;
    let id = c.to_string();
    let pass = format!("{DEVICE_PASS}\n");
    let ann = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--conversation", id.as_str()]);
        agent_in(d, "ann", &all, stdin)
    };
    let bob = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--conversation", id.as_str()]);
        agent_in(d, "bob", &all, stdin)
    };
    let say = |t: &str| format!("{DEVICE_PASS}\n{t}\n");
    conn.send(
        c,
        "v1",
        WireKind::Application,
        &mls.send(&text(SUPPORT[0])).unwrap(),
    )
    .await
    .unwrap();
    stdout(&ann(&["accept", "--passphrase-stdin"], &pass));
    let kps = visitor.visitor_take_key_packages(c).await.unwrap();
    let kp = STANDARD.decode(&kps.key_packages[0].key_package).unwrap();
    add_member(&mut conn, &mut mls, c, &kp, "ann").await;
    assert!(
        stdout(&ann(&["read", "--passphrase-stdin"], &pass)).contains("(joined the conversation)")
    );
    stdout(&ann(&["send", "--stdin"], &say(SUPPORT[1])));
    stdout(&ann(&["note", "--stdin"], &say(NOTE)));

    // Ann sends it to Billing's queue; the visitor still writes to it.
    let moved = stdout(&ann(
        &["transfer", "--team", &billing, "--passphrase-stdin"],
        &pass,
    ));
    assert!(
        moved.contains("with 1 History Member bundle(s) and 1 note(s) carried over"),
        "{moved}"
    );
    conn.send(
        c,
        "v2",
        WireKind::Application,
        &mls.send(&text(WAITING)).unwrap(),
    )
    .await
    .unwrap();

    // Bob takes it; the widget adds his device; his terminal removes Ann's.
    stdout(&bob(&["accept", "--passphrase-stdin"], &pass));
    let kps = visitor.visitor_take_key_packages(c).await.unwrap();
    let kp = STANDARD.decode(&kps.key_packages[0].key_package).unwrap();
    add_member(&mut conn, &mut mls, c, &kp, "bob").await;
    let read = stdout(&bob(&["read", "--passphrase-stdin"], &pass));
    assert!(read.contains("(joined the conversation)"), "{read}");
    assert!(
        read.contains("removed the previous agent's 1 device"),
        "{read}"
    );
    staff_commit(&mut conn, &mut cursors, &mut mls).await;

    // Both teams are at key version 1: only the team tells that a rotation is due.
    let rekey = stdout(&bob(&["rekey", "--passphrase-stdin"], &pass));
    assert!(
        rekey.contains(&format!(
            "{id}: History Member rotated to generation 2, of this conversation's new team"
        )),
        "{rekey}"
    );
    staff_commit(&mut conn, &mut cursors, &mut mls).await;
    let again = stdout(&bob(&["rekey", "--passphrase-stdin"], &pass));
    assert!(
        again.contains("already sealed to team key version 1"),
        "{again}"
    );
    conn.send(
        c,
        "v3",
        WireKind::Application,
        &mls.send(&text(BILLING[0])).unwrap(),
    )
    .await
    .unwrap();
    stdout(&bob(&["send", "--stdin"], &say(BILLING[1])));

    // The proof, from what the server stores.
    let store = sealdesk_store::sqlite::open(&d.join("data/sealdesk.db"))
        .await
        .unwrap();
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
            (2, HistoryMemberState::Active, Some(1))
        ]
    );
    let (g1, g2) = (
        &members[0].package.sealed_bundle,
        &members[1].package.sealed_bundle,
    );
    let header_team = |b: &[u8]| {
        TeamId::from_uuid(uuid::Uuid::from_bytes(
            sealdesk_mls::bundle::parse(b).unwrap().team,
        ))
    };
    assert_eq!(header_team(g1).to_string(), support);
    assert_eq!(header_team(g2).to_string(), billing);
    // Billing's key opens only Billing's member; Support's key only Support's.
    assert!(open_with(d, "billing.key", "billing pass", 1, g1, &anchor).is_err());
    assert!(open_with(d, "team.key", "team pass", 1, g2, &anchor).is_err());
    let billing_member = open_with(d, "billing.key", "billing pass", 1, g2, &anchor).unwrap();
    let support_member = open_with(d, "team.key", "team pass", 1, g1, &anchor).unwrap();
    let log = store.read_log(tenant_id, c, 0, 1000).await.unwrap();
    let billing_reads = replayed(std::slice::from_ref(&billing_member), &anchor, &log);
    // Generation 2 joins from the rotation's Welcome: it reads what follows, nothing before.
    assert_eq!(billing_reads, BILLING);
    let support_reads = replayed(std::slice::from_ref(&support_member), &anchor, &log);
    assert_eq!(support_reads, [SUPPORT[0], SUPPORT[1], WAITING, "?", "?"]);
    for secret in BILLING {
        assert!(!support_reads.iter().any(|t| t == secret));
    }

    // Bob's history shows the whole conversation: the first generation through the copy
    // Ann carried over, then Billing's own member.
    let shown = stdout(&bob(&["history", "--passphrase-stdin"], &pass));
    for line in SUPPORT.iter().chain([WAITING].iter()).chain(BILLING.iter()) {
        assert!(shown.contains(line), "{line} in {shown}");
    }
    assert!(!shown.contains("does not hold"), "{shown}");
    let notes = stdout(&bob(&["notes", "--passphrase-stdin"], &pass));
    assert!(notes.contains(NOTE), "{notes}");
    assert!(
        notes.contains("ann (agent) · carried over by ann (verified)"),
        "{notes}"
    );
    carried_copies_altered(&store, &d.join("data/sealdesk.db"), tenant_id, c).await;
    let shown = stdout(&bob(&["history", "--passphrase-stdin"], &pass));
    assert!(!shown.contains(SUPPORT[0]), "{shown}");
    assert!(shown.contains(BILLING[0]), "{shown}");
    let notes = stdout(&bob(&["notes", "--passphrase-stdin"], &pass));
    assert!(!notes.contains(NOTE), "{notes}");
    assert!(notes.contains("does not verify"), "{notes}");
    // Ann's terminal no longer gets the conversation.
    let gone = stdout(&ann(&["read", "--passphrase-stdin"], &pass));
    assert!(gone.contains("no longer yours"), "{gone}");
    store.close().await;
    assert!(terminate(&mut server).success());
}

/// Flips a byte inside the team seal of each copy carried over (what a server could do).
async fn carried_copies_altered(
    store: &sealdesk_store::sqlite::SqliteStore,
    path: &std::path::Path,
    tenant: TenantId,
    c: sealdesk_proto::ConversationId,
) {
    let team_seal_flipped = |bytes: &[u8], seals: &[(sealdesk_mls::bundle::Recipient, &[u8])]| {
        let at = seals[0].1.as_ptr() as usize - bytes.as_ptr() as usize + seals[0].1.len() / 2;
        let mut out = bytes.to_vec();
        out[at] ^= 1;
        out
    };
    let bundles = store.carried_bundles(tenant, c).await.unwrap();
    let notes = store.carried_notes(tenant, c).await.unwrap();
    assert_eq!((bundles.len(), notes.len()), (1, 1));
    let b = &bundles[0].copy.sealed_bundle;
    let altered_bundle = team_seal_flipped(b, &sealdesk_mls::bundle::parse(b).unwrap().seals);
    let n = &notes[0].copy.payload;
    let altered_note = team_seal_flipped(n, &sealdesk_mls::teamseal::parse(n).unwrap().seals);
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE carried_history SET sealed_bundle = ?1")
        .bind(altered_bundle)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE carried_notes SET payload = ?1")
        .bind(altered_note)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
}
