//! Internal notes and canned responses through the terminal agent against a real server
//! (`sealdesk agent note|notes|canned`): what is stored is SDT1 ciphertext (no plaintext
//! anywhere in the data directory), a visitor cannot list notes, a second agent of the team
//! reads them with the author verified, a note moved to another conversation is refused, and
//! canned responses need the permission to add and read back verified.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::{Client, ClientError};
use sealdesk_proto::ConversationId;

use super::agent::{DEVICE_PASS, PASSWORD, agent_in, enrol_terminal, stdout};
use super::owner::Owner;
use super::serve::{start, terminate};
use super::{assert_fails, run, sealdesk};

const NOTE: &str = "VIP customer, refund approved <script>alert('note')</script>";
const CANNED_TITLE: &str = "Refund <b>policy</b>";
const CANNED_TEXT: &str = "Refunds arrive within 3 days <img src=x onerror=alert(1)>";

/// Every file under `dir` (the server's data directory: database, WAL, blobs).
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A staff member's session token, as `sealdesk login` saved it in the profile.
fn token(dir: &std::path::Path, profile: &str) -> String {
    let session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(profile).join("session.json")).unwrap())
            .unwrap();
    session["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one story: note, read back, refusals, canned responses
async fn notes_and_canned_responses_are_sealed_to_the_team() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let owner = Owner::new(d, "Note Shop", "notes.example", true);
    let (tenant, team) = (owner.tenant.clone(), owner.team.clone());
    owner.agent("kim@notes.example", PASSWORD, &team);
    owner.agent("lee@notes.example", PASSWORD, &team);
    owner.member("sue@notes.example", PASSWORD, "supervisor", &team);
    let pinned = owner.root_and_issuing();
    owner.team_key(&team, "team.key", "team pass");
    owner.archive_key("archive.key", "archive pass");
    let (mut server, url) = start(d, &[]);
    for (profile, email, role) in [
        ("kim", "kim@notes.example", "agent"),
        ("lee", "lee@notes.example", "agent"),
        ("sue", "sue@notes.example", "supervisor"),
    ] {
        enrol_terminal(d, &url, &tenant, profile, email, &pinned, role);
    }

    // A visitor's conversation, and a second one.
    let tenant_id: sealdesk_proto::TenantId = tenant.parse().unwrap();
    let http = Client::new(&url).unwrap();
    let ticket = http
        .visitor_ticket(tenant_id, team.parse().unwrap(), None)
        .await
        .unwrap();
    let visitor = http.clone().with_token(ticket.ticket.clone());
    let c: ConversationId = visitor.open_conversation(None).await.unwrap().id;
    let other: ConversationId = visitor.open_conversation(None).await.unwrap().id;
    let id = c.to_string();
    let as_staff = |profile: &str, args: &[&str], stdin: &str| {
        agent_in(d, profile, args, &format!("{DEVICE_PASS}\n{stdin}"))
    };

    // Kim writes a note; it is sealed to the team key and the archive key.
    let added = stdout(&as_staff(
        "kim",
        &["note", "--conversation", &id, "--stdin"],
        &format!("{NOTE}\n"),
    ));
    assert!(added.contains("note 1 added"), "{added}");
    assert!(added.contains("and the archive key"), "{added}");

    // The server holds ciphertext only: SDT1 over REST, and no plaintext in any file.
    let kim = http.clone().with_token(token(d, "kim"));
    let stored = kim.notes(tenant_id, c).await.unwrap();
    assert_eq!(stored.notes.len(), 1);
    let sealed = STANDARD.decode(&stored.notes[0].p).unwrap();
    assert_eq!(&sealed[..4], b"SDT1");
    assert!(!contains(&sealed, b"VIP customer"));
    let data = files(&d.join("data"));
    assert!(!data.is_empty());
    for file in &data {
        let bytes = std::fs::read(file).unwrap();
        for needle in [b"VIP customer".as_slice(), b"refund approved"] {
            assert!(!contains(&bytes, needle), "plaintext in {}", file.display());
        }
    }

    // The visitor cannot list notes (staff-only endpoints).
    match visitor.notes(tenant_id, c).await {
        Err(ClientError::Api { status, .. }) => {
            assert!([401, 403, 404].contains(&status), "{status}");
        }
        other => panic!("a visitor read notes: {other:?}"),
    }

    // Lee, another agent of the team, reads it with Kim's certified device as the author.
    let lee = stdout(&as_staff(
        "lee",
        &["notes", "--conversation", &id, "--passphrase-stdin"],
        "",
    ));
    assert!(lee.contains(NOTE), "{lee}");
    assert!(lee.contains("(agent, verified)"), "{lee}");
    let sue = stdout(&as_staff(
        "sue",
        &["notes", "--conversation", &id, "--passphrase-stdin"],
        "",
    ));
    assert!(sue.contains(NOTE), "{sue}");

    // The same bytes stored under another conversation (what a server could do) and a
    // repeated note are not shown as notes.
    kim.add_note(tenant_id, other, &sealed).await.unwrap();
    kim.add_note(tenant_id, c, &sealed).await.unwrap();
    let moved = stdout(&as_staff(
        "lee",
        &[
            "notes",
            "--conversation",
            &other.to_string(),
            "--passphrase-stdin",
        ],
        "",
    ));
    assert!(moved.contains("does not verify"), "{moved}");
    assert!(!moved.contains("VIP"), "{moved}");
    let repeated = stdout(&as_staff(
        "lee",
        &["notes", "--conversation", &id, "--passphrase-stdin"],
        "",
    ));
    assert!(
        repeated.contains("a repeat of an earlier note"),
        "{repeated}"
    );
    assert_eq!(repeated.matches("VIP customer").count(), 1, "{repeated}");

    // Canned responses: an agent may not add one (the server enforces the permission).
    let add = |profile: &str| {
        as_staff(
            profile,
            &["canned", "add", "--team", &team, "--stdin"],
            &format!("{CANNED_TITLE}\n{CANNED_TEXT}\n"),
        )
    };
    assert_fails(&add("kim"), 65, "forbidden");
    let created = stdout(&add("sue"));
    assert!(
        created.contains("sealed to team key version 1"),
        "{created}"
    );
    let list = |profile: &str| {
        stdout(&as_staff(
            profile,
            &["canned", "list", "--team", &team, "--passphrase-stdin"],
            "",
        ))
    };
    let listed = list("kim");
    assert!(listed.contains(CANNED_TITLE), "{listed}");
    assert!(listed.contains(CANNED_TEXT), "{listed}");
    assert!(listed.contains("(supervisor, verified)"), "{listed}");
    for file in files(&d.join("data")) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!contains(&bytes, b"Refunds arrive"), "{}", file.display());
    }
    let canned_id = listed.split_whitespace().next().unwrap().to_owned();
    let mut delete = sealdesk(d);
    delete
        .args([
            "agent", "canned", "delete", "--team", &team, "--id", &canned_id,
        ])
        .arg("--profile")
        .arg(d.join("kim"));
    assert_fails(&run(delete, ""), 65, "forbidden");
    let mut delete = sealdesk(d);
    delete
        .args([
            "agent", "canned", "delete", "--team", &team, "--id", &canned_id,
        ])
        .arg("--profile")
        .arg(d.join("sue"));
    stdout(&run(delete, ""));
    assert!(list("lee").contains("no canned responses"));

    archive(d, &tenant, &c.to_string());
    assert!(terminate(&mut server).success());
}

/// The owner's archive carries the notes as ciphertext and `archive decrypt` opens them with
/// the archive key: once (the repeat is dropped), marked internal, escaped in the HTML; the
/// copy moved to another conversation is listed as not readable.
fn archive(d: &std::path::Path, tenant: &str, conversation: &str) {
    let p = |name: &str| d.join(name).to_str().unwrap().to_owned();
    let mut export = sealdesk(d);
    export
        .args([
            "archive",
            "export",
            "--tenant",
            tenant,
            "--out",
            &p("shop.sda"),
        ])
        .arg("--data-dir")
        .arg(d.join("data"));
    stdout(&run(export, ""));
    let exported = std::fs::read(d.join("shop.sda")).unwrap();
    assert!(contains(&exported, b"\"notes\""));
    assert!(!contains(&exported, b"VIP customer"));
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
    let done = stdout(&run(decrypt, "archive pass\n"));
    assert!(done.contains("1 internal note(s)"), "{done}");
    assert!(done.contains("note not readable"), "{done}");
    assert!(done.contains("a repeat of an earlier note"), "{done}");
    assert!(done.contains("another conversation"), "{done}");
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(d.join("transcripts/transcripts.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let notes: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["type"] == "internal_note")
        .collect();
    assert_eq!(notes.len(), 1, "{lines:?}");
    assert_eq!(notes[0]["text"], NOTE);
    assert_eq!(notes[0]["conversation"], conversation);
    assert_eq!(notes[0]["sender"]["role"], "agent");
    assert_eq!(notes[0]["sender"]["verified"], true);
    let html = std::fs::read_to_string(d.join("transcripts/transcripts.html")).unwrap();
    assert!(html.contains("msg internal"));
    assert!(html.contains("&lt;script&gt;alert(&#x27;note&#x27;)&lt;/script&gt;"));
    assert!(!html.contains("<script>"));
}
