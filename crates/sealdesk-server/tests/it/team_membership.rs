//! Team membership changes reach open staff connections: an agent an admin adds to a team
//! hears that team's queue at once, without reconnecting; removed, they stop hearing it and
//! lose the queued conversations of the team they followed. Another tenant's events never
//! arrive.

use std::time::Duration;

use sealdesk_client::ws::Connection;
use sealdesk_proto::ws::{NoticeKind, ServerFrame, WireKind};
use sealdesk_proto::{ConversationId, TeamId};
use sealdesk_testkit::{TestApp, spawn_app};

use crate::conversations::{Desk, connect_staff, connect_visitor, desk, team, visitor};

/// How long a connection must stay silent to count as not told.
const QUIET: Duration = Duration::from_millis(800);
const WAIT: Duration = Duration::from_secs(10);

/// A visitor of the desk's team writes a first message: the conversation is queued.
async fn queue_one(app: &TestApp, desk: &Desk) -> ConversationId {
    let v = visitor(app, desk).await;
    let conversation = v.http.open_conversation(None).await.unwrap();
    let mut ws = connect_visitor(app, &v).await;
    ws.subscribe(conversation.id, 0).await.unwrap();
    ws.send(conversation.id, "v-1", WireKind::Application, b"hello")
        .await
        .unwrap();
    conversation.id
}

/// The next `notice`, `teams` or `unsubscribed` frame (entries and pongs skipped), or `None`
/// when none comes within `wait`.
async fn next_routing(conn: &mut Connection, wait: Duration) -> Option<ServerFrame> {
    loop {
        let frame = tokio::time::timeout(wait, conn.next()).await.ok()?.unwrap();
        if matches!(
            frame,
            ServerFrame::Notice(_) | ServerFrame::Teams { .. } | ServerFrame::Unsubscribed { .. }
        ) {
            return Some(frame);
        }
    }
}

fn sorted(mut teams: Vec<TeamId>) -> Vec<TeamId> {
    teams.sort_by_key(ToString::to_string);
    teams
}

#[tokio::test]
async fn membership_changes_move_an_open_connection_between_team_queues() {
    let app = spawn_app().await;
    let acme = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let (ann, ann_http) = &acme.agents[0];
    app.staff(&acme.tenant, "boss@acme.example", "admin").await;
    let admin = app.login(&acme.tenant, "boss@acme.example").await;
    let billing = Desk {
        tenant: acme.tenant.clone(),
        team: team(&app, &acme.tenant, "Billing").await,
        agents: Vec::new(),
    };
    // Billing's conversations stay in its queue (nobody is assigned automatically).
    admin
        .set_routing(acme.tenant.id, billing.team.id, "manual")
        .await
        .unwrap();
    let globex = desk(&app, "Globex", "globex.example", &["gus@globex.example"]).await;
    app.staff(&globex.tenant, "boss@globex.example", "admin")
        .await;
    let globex_admin = app.login(&globex.tenant, "boss@globex.example").await;

    let mut conn = connect_staff(&app, ann_http).await;

    // Not in Billing: its queue is silent for Ann, and its conversations are not hers to read.
    let before = queue_one(&app, &billing).await;
    assert_eq!(next_routing(&mut conn, QUIET).await, None);
    assert!(conn.subscribe(before, 0).await.is_err());

    // Added: her open connection is told, and Billing's next queued conversation reaches it.
    admin
        .add_team_member(acme.tenant.id, billing.team.id, *ann)
        .await
        .unwrap();
    match next_routing(&mut conn, WAIT).await {
        Some(ServerFrame::Teams { teams }) => {
            assert_eq!(sorted(teams), sorted(vec![acme.team.id, billing.team.id]));
        }
        other => panic!("expected a teams frame, got {other:?}"),
    }
    // Adding her again changes nothing and says nothing: the next frame is Billing's notice.
    admin
        .add_team_member(acme.tenant.id, billing.team.id, *ann)
        .await
        .unwrap();
    let queued = queue_one(&app, &billing).await;
    match next_routing(&mut conn, WAIT).await {
        Some(ServerFrame::Notice(n)) => {
            assert_eq!(
                (n.what, n.c, n.team),
                (NoticeKind::Queued, queued, billing.team.id)
            );
        }
        other => panic!("expected Billing's queued notice, got {other:?}"),
    }
    // The team's queue is hers to read now, on the same connection.
    conn.subscribe(queued, 0).await.unwrap();

    // Another tenant: its admin cannot add her to its team, and its queue never reaches her.
    assert!(
        globex_admin
            .add_team_member(globex.tenant.id, globex.team.id, *ann)
            .await
            .is_err()
    );
    queue_one(&app, &globex).await;
    assert_eq!(next_routing(&mut conn, QUIET).await, None);

    // Removed: told, the queued Billing conversation she followed ends, Billing goes silent.
    admin
        .remove_team_member(acme.tenant.id, billing.team.id, *ann)
        .await
        .unwrap();
    let mut told = Vec::new();
    while told.len() < 2 {
        told.push(
            next_routing(&mut conn, WAIT)
                .await
                .expect("told within 10 s"),
        );
    }
    assert_eq!(
        told,
        vec![
            ServerFrame::Unsubscribed { c: queued },
            ServerFrame::Teams {
                teams: vec![acme.team.id]
            },
        ]
    );
    let after = queue_one(&app, &billing).await;
    assert_eq!(next_routing(&mut conn, QUIET).await, None);
    assert!(conn.subscribe(after, 0).await.is_err());
    // Removing her again is a 404, and tells nobody anything.
    assert!(
        admin
            .remove_team_member(acme.tenant.id, billing.team.id, *ann)
            .await
            .is_err()
    );
    assert_eq!(next_routing(&mut conn, QUIET).await, None);

    // Her own team's queue still reaches her.
    let own = queue_one(&app, &acme).await;
    match next_routing(&mut conn, WAIT).await {
        Some(ServerFrame::Notice(n)) => assert_eq!((n.c, n.team), (own, acme.team.id)),
        other => panic!("expected her own team's notice, got {other:?}"),
    }
}
