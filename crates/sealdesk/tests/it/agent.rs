//! `sealdesk agent enrol|status` as an agent runs them against a real server: the device's
//! keys stay sealed in the profile, the admin certifies it with the fingerprint the terminal
//! printed, and the terminal then trusts only the root key it pinned and opens its team key.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sealdesk_client::ws::{Connection, Cursors};
use sealdesk_core::clock::{Clock as _, SystemClock};
use sealdesk_mls::certs::{ChainCheck, TrustAnchor};
use sealdesk_mls::payload::{Body, Payload};
use sealdesk_mls::{Client as Mls, Processed};
use sealdesk_proto::ws::{WireKind, WireParty};

use super::owner::Owner;
use super::serve::{start, terminate};
use super::widget_visitor::{WidgetVisitor, add_member};
use super::{admin, admin_stdin, assert_fails, json, run, sealdesk};

pub(crate) const PASSWORD: &str = "an agent's long password 42";
pub(crate) const DEVICE_PASS: &str = "device passphrase, long";

fn agent(dir: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    agent_in(dir, "profile", args, stdin)
}

pub(crate) fn agent_in(
    dir: &std::path::Path,
    profile: &str,
    args: &[&str],
    stdin: &str,
) -> std::process::Output {
    let mut cmd = sealdesk(dir);
    cmd.arg("agent")
        .args(args)
        .arg("--profile")
        .arg(dir.join(profile));
    run(cmd, stdin)
}

/// A staff member's terminal, logged in, enrolled, confirmed by the admin with the printed
/// fingerprint, certified and stocked with key packages.
pub(crate) fn enrol_terminal(
    dir: &std::path::Path,
    url: &str,
    tenant: &str,
    profile: &str,
    email: &str,
    pinned: &str,
    role: &str,
) {
    enrol_terminal_with(
        dir,
        url,
        tenant,
        profile,
        (email, role),
        pinned,
        ("team.key", "team pass"),
    );
}

/// [`enrol_terminal`] with the team key file (and its passphrase) wrapped to the device.
pub(crate) fn enrol_terminal_with(
    dir: &std::path::Path,
    url: &str,
    tenant: &str,
    profile: &str,
    (email, role): (&str, &str),
    pinned: &str,
    (team_key_file, team_pass): (&str, &str),
) {
    let mut login = sealdesk(dir);
    login
        .args([
            "login", "--server", url, "--tenant", tenant, "--email", email,
        ])
        .args(["--password-stdin", "--profile"])
        .arg(dir.join(profile));
    stdout(&run(login, &format!("{PASSWORD}\n")));
    let enrolled = stdout(&agent_in(
        dir,
        profile,
        &[
            "enrol",
            "--label",
            email,
            "--tenant-key",
            pinned,
            "--passphrase-stdin",
        ],
        &format!("{DEVICE_PASS}\n"),
    ));
    let fingerprint = enrolled
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint: "))
        .unwrap()
        .to_owned();
    let devices = json(&admin(
        dir,
        &[
            "keys", "devices", "--tenant", tenant, "--status", "pending", "--json",
        ],
    ));
    let device = devices["devices"][0]["id"].as_str().unwrap().to_owned();
    let issuing = dir.join("issuing.key");
    let team_key = dir.join(team_key_file);
    admin_stdin(
        dir,
        &[
            "keys",
            "enrol",
            "--tenant",
            tenant,
            "--device",
            &device,
            "--fingerprint",
            &fingerprint,
            "--issuing",
            issuing.to_str().unwrap(),
            "--team-key",
            team_key.to_str().unwrap(),
            "--role",
            role,
            "--passphrase-stdin",
            "--json",
        ],
        &format!("issuing pass\n{team_pass}\n"),
    );
    let status = json(&agent_in(
        dir,
        profile,
        &["status", "--passphrase-stdin", "--json"],
        &format!("{DEVICE_PASS}\n"),
    ));
    assert_eq!(status["status"], "certified");
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one terminal's story: login, enrol, confirm, status, refusals
async fn a_terminal_agent_enrols_chats_brings_in_a_supervisor_and_hands_over() {
    let dir = tempfile::tempdir().unwrap();
    let owner = Owner::new(dir.path(), "Term Shop", "term.example", true);
    let p = |name: &str| owner.path(name);
    let (tenant, team) = (owner.tenant.clone(), owner.team.clone());
    owner.agent("kim@term.example", PASSWORD, &team);
    owner.member("sue@term.example", PASSWORD, "supervisor", &team);
    let lee = owner.agent("lee@term.example", PASSWORD, &team);
    let pinned = owner.root_and_issuing();
    owner.team_key(&team, "team.key", "team pass");
    let (mut server, url) = start(dir.path(), &[]);
    let mut login = sealdesk(dir.path());
    login
        .args([
            "login",
            "--server",
            &url,
            "--tenant",
            &tenant,
            "--email",
            "kim@term.example",
        ])
        .args(["--password-stdin", "--profile"])
        .arg(dir.path().join("profile"));
    let out = run(login, &format!("{PASSWORD}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Enrol: the keys are made here; only the fingerprint leaves with the person.
    let enrolled = agent(
        dir.path(),
        &[
            "enrol",
            "--label",
            "Kim's terminal",
            "--tenant-key",
            &pinned,
            "--passphrase-stdin",
        ],
        &format!("{DEVICE_PASS}\n"),
    );
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    let printed = String::from_utf8_lossy(&enrolled.stdout).into_owned();
    let fingerprint = printed
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint: "))
        .unwrap()
        .to_owned();
    let device_file = std::fs::read_to_string(dir.path().join("profile/device.json")).unwrap();
    assert!(
        !device_file.contains("signature_seed"),
        "the secrets are sealed"
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("profile/device.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let status = |stdin: &str| {
        agent(
            dir.path(),
            &["status", "--passphrase-stdin", "--json"],
            stdin,
        )
    };
    let pending = json(&status(&format!("{DEVICE_PASS}\n")));
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["fingerprint"], fingerprint);
    assert_fails(&status("wrong passphrase\n"), 65, "");

    // The admin reads the fingerprint from the terminal and certifies.
    let devices = json(&admin(
        dir.path(),
        &[
            "keys", "devices", "--tenant", &tenant, "--status", "pending", "--json",
        ],
    ));
    let device = devices["devices"][0]["id"].as_str().unwrap().to_owned();
    admin_stdin(
        dir.path(),
        &[
            "keys",
            "enrol",
            "--tenant",
            &tenant,
            "--device",
            &device,
            "--fingerprint",
            &fingerprint,
            "--issuing",
            &p("issuing.key"),
            "--team-key",
            &p("team.key"),
            "--passphrase-stdin",
            "--json",
        ],
        "issuing pass\nteam pass\n",
    );
    let certified = json(&status(&format!("{DEVICE_PASS}\n")));
    assert_eq!(certified["status"], "certified");
    assert_eq!(certified["team_keys"], 1);
    // The team key is kept sealed in the profile too.
    let after = std::fs::read_to_string(dir.path().join("profile/device.json")).unwrap();
    assert!(!after.contains("team_keys"));
    assert_ne!(after, device_file);

    conversation(dir.path(), &url, &tenant, &team, &pinned, &p, &lee).await;

    // A terminal that pinned another root refuses the same certificate.
    let mut file: serde_json::Value = serde_json::from_str(&after).unwrap();
    file["roots"] = serde_json::json!(["ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]);
    std::fs::write(
        dir.path().join("profile/device.json"),
        serde_json::to_vec(&file).unwrap(),
    )
    .unwrap();
    assert_fails(&status(&format!("{DEVICE_PASS}\n")), 65, "pinned root");
    assert!(terminate(&mut server).success());
}

pub(crate) fn text(t: &str) -> Vec<u8> {
    Payload {
        msg_id: [7; 16],
        sent_at_ms: 0,
        body: Body::Text(t.into()),
    }
    .encode()
    .unwrap()
}

pub(crate) fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A visitor (Rust MLS client, as the widget does it) and the terminal agent: the queue's
/// preview through the History Member, accept, the widget adding the device, messages both
/// ways, each decrypted on the other side.
#[allow(clippy::too_many_lines)]
async fn conversation(
    dir: &std::path::Path,
    url: &str,
    tenant: &str,
    team: &str,
    pinned: &str,
    p: &dyn Fn(&str) -> String,
    lee: &str,
) {
    admin_stdin(
        dir,
        &[
            "keys",
            "history-pool",
            "--tenant",
            tenant,
            "--team",
            team,
            "--issuing",
            &p("issuing.key"),
            "--team-key",
            &p("team.key"),
            "--count",
            "2",
            "--passphrase-stdin",
            "--json",
        ],
        "issuing pass\nteam pass\n",
    );
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
    let tenant_id: sealdesk_proto::TenantId = tenant.parse().unwrap();
    let anchor = TrustAnchor {
        tenant: *tenant_id.as_uuid().as_bytes(),
        roots: vec![root],
    };
    let check = std::sync::Arc::new(ChainCheck::new(anchor, || {
        u64::try_from(SystemClock.now().unix_timestamp()).unwrap()
    }));
    let WidgetVisitor {
        http: visitor,
        mut conn,
        mut cursors,
        mut mls,
        c,
    } = WidgetVisitor::start(url, tenant_id, team.parse().unwrap(), check, 9).await;
    conn.send(
        c,
        "v1",
        WireKind::Application,
        &mls.send(&text("Hello, my parcel is late")).unwrap(),
    )
    .await
    .unwrap();

    let id = c.to_string();
    let agent_cmd = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--conversation", id.as_str()]);
        agent(dir, &all, stdin)
    };
    let queue = stdout(&agent(
        dir,
        &["queue", "--passphrase-stdin"],
        &format!("{DEVICE_PASS}\n"),
    ));
    assert!(queue.contains(&c.to_string()), "{queue}");
    assert!(
        queue.contains("visitor: Hello, my parcel is late"),
        "{queue}"
    );
    stdout(&agent_cmd(
        &["accept", "--passphrase-stdin"],
        &format!("{DEVICE_PASS}\n"),
    ));
    let before = stdout(&agent_cmd(
        &["read", "--passphrase-stdin"],
        &format!("{DEVICE_PASS}\n"),
    ));
    assert!(before.contains("not a member yet"), "{before}");

    // The widget's side: the assignee's device is added.
    let kps = visitor.visitor_take_key_packages(c).await.unwrap();
    assert_eq!(kps.key_packages.len(), 1);
    let kp = STANDARD.decode(&kps.key_packages[0].key_package).unwrap();
    add_member(&mut conn, &mut mls, c, &kp, "agent").await;
    conn.send(
        c,
        "v2",
        WireKind::Application,
        &mls.send(&text("Are you there? <b>hi</b>")).unwrap(),
    )
    .await
    .unwrap();
    let joined = stdout(&agent_cmd(
        &["read", "--passphrase-stdin"],
        &format!("{DEVICE_PASS}\n"),
    ));
    assert!(joined.contains("(joined the conversation)"), "{joined}");
    assert!(
        joined.contains("visitor: Are you there? <b>hi</b>"),
        "{joined}"
    );
    assert!(
        !joined.contains("parcel"),
        "messages before the device joined stay unreadable to it"
    );

    stdout(&agent_cmd(
        &["send", "--stdin"],
        &format!("{DEVICE_PASS}\nHi, I am on it\n"),
    ));
    let mut got = None;
    while got.is_none() {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), conn.next())
            .await
            .unwrap()
            .unwrap();
        let Some(entry) = cursors.accept(&frame).unwrap() else {
            continue;
        };
        if matches!(entry.from, WireParty::Visitor(_)) {
            continue;
        }
        match (entry.kind, mls.process(&entry.payload)) {
            (WireKind::Application, Ok(Processed::Application { plaintext, .. })) => {
                got = Some(Payload::decode(&plaintext).unwrap().body);
            }
            (WireKind::Application, Err(e)) => panic!("the visitor could not decrypt: {e}"),
            _ => {}
        }
    }
    assert_eq!(got, Some(Body::Text("Hi, I am on it".into())));
    let after = stdout(&agent_cmd(
        &["read", "--passphrase-stdin"],
        &format!("{DEVICE_PASS}\n"),
    ));
    assert!(after.contains("you: Hi, I am on it"), "{after}");

    // A supervisor joins from a terminal; the assignee's terminal adds the supervisor's device.
    enrol_terminal(
        dir,
        url,
        tenant,
        "sup",
        "sue@term.example",
        pinned,
        "supervisor",
    );
    let sup = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--passphrase-stdin", "--conversation", id.as_str()]);
        agent_in(dir, "sup", &all, &format!("{DEVICE_PASS}\n"))
    };
    stdout(&sup(&["supervise"]));
    let added = stdout(&agent_cmd(
        &["read", "--passphrase-stdin"],
        &format!("{DEVICE_PASS}\n"),
    ));
    assert!(
        added.contains("(added the supervisor's devices)"),
        "{added}"
    );
    // The visitor's widget processes the commit, then writes at the new epoch.
    staff_commit(&mut conn, &mut cursors, &mut mls).await;
    conn.send(
        c,
        "v3",
        WireKind::Application,
        &mls.send(&text("Supervisor, hello")).unwrap(),
    )
    .await
    .unwrap();
    let seen = stdout(&sup(&["read"]));
    assert!(seen.contains("(joined the conversation)"), "{seen}");
    assert!(seen.contains("visitor: Supervisor, hello"), "{seen}");

    // Kim hands the conversation to Lee: Kim's terminal adds Lee's device, Lee's removes Kim's.
    enrol_terminal(dir, url, tenant, "lee", "lee@term.example", pinned, "agent");
    let moved = stdout(&agent_cmd(
        &["transfer", "--to", lee, "--passphrase-stdin"],
        &format!("{DEVICE_PASS}\n"),
    ));
    assert!(moved.contains("transferred"), "{moved}");
    staff_commit(&mut conn, &mut cursors, &mut mls).await;
    let lee_read = || {
        agent_in(
            dir,
            "lee",
            &["read", "--passphrase-stdin", "--conversation", id.as_str()],
            &format!("{DEVICE_PASS}\n"),
        )
    };
    let took = stdout(&lee_read());
    assert!(took.contains("(joined the conversation)"), "{took}");
    assert!(
        took.contains("(removed the previous agent's 1 device(s))"),
        "{took}"
    );
    staff_commit(&mut conn, &mut cursors, &mut mls).await;
    conn.send(
        c,
        "v4",
        WireKind::Application,
        &mls.send(&text("Thanks, Lee")).unwrap(),
    )
    .await
    .unwrap();
    assert!(stdout(&lee_read()).contains("visitor: Thanks, Lee"));
    let gone = stdout(&agent_cmd(
        &["read", "--passphrase-stdin"],
        &format!("{DEVICE_PASS}\n"),
    ));
    assert!(gone.contains("no longer yours"), "{gone}");
    // Lee reads the whole history through the History Member, from before Lee joined.
    let history = stdout(&agent_in(
        dir,
        "lee",
        &[
            "history",
            "--passphrase-stdin",
            "--conversation",
            id.as_str(),
        ],
        &format!("{DEVICE_PASS}\n"),
    ));
    for line in [
        "visitor: Hello, my parcel is late",
        "Hi, I am on it",
        "visitor: Thanks, Lee",
    ] {
        assert!(history.contains(line), "{line} in {history}");
    }
    assert!(!gone.contains("Thanks, Lee"), "{gone}");
}

/// The visitor's client processes the next commit written by staff.
pub(crate) async fn staff_commit(conn: &mut Connection, cursors: &mut Cursors, mls: &mut Mls) {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), conn.next())
            .await
            .unwrap()
            .unwrap();
        let Some(entry) = cursors.accept(&frame).unwrap() else {
            continue;
        };
        if entry.kind == WireKind::Handshake && !matches!(entry.from, WireParty::Visitor(_)) {
            mls.process(&entry.payload).unwrap();
            return;
        }
    }
}
