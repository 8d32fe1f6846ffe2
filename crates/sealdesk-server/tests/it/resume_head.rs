//! Subscribing with a cursor already at the log's head (the usual reconnect of a client that
//! has seen everything): the server skips the log read (`ws/connection.rs` `subscribe`), and
//! must still deliver every later entry exactly once, in order.

use sealdesk_client::ws::Cursors;
use sealdesk_proto::ws::{ClientFrame, ServerFrame, WireKind};
use sealdesk_testkit::spawn_app;

use crate::conversations::{connect_staff, connect_visitor, desk, entries, visitor};

#[tokio::test]
async fn a_client_at_the_head_gets_no_replay_and_then_each_new_entry_once() {
    let app = spawn_app().await;
    let desk = desk(&app, "Acme", "acme.example", &["ann@acme.example"]).await;
    let (_, ann_http) = &desk.agents[0];
    let visitor = visitor(&app, &desk).await;
    let c = visitor.http.open_conversation(None).await.unwrap().id;
    let mut cursors = Cursors::default();
    let mut v = connect_visitor(&app, &visitor).await;
    v.subscribe(c, 0).await.unwrap();
    v.send(c, "v-1", WireKind::Application, b"hello")
        .await
        .unwrap();
    // seq 1 (own message), 2 queued, 3 assigned
    entries(&mut v, &mut cursors, c, 3).await;
    v.close().await.unwrap();

    // Reconnect at the head: `subscribed` names it, and nothing is replayed.
    let mut v = connect_visitor(&app, &visitor).await;
    let head = cursors.after(c);
    assert_eq!(v.subscribe(c, head).await.unwrap(), head);
    v.send_frame(&ClientFrame::Ping { n: 1 }).await.unwrap();
    assert_eq!(v.next().await.unwrap(), ServerFrame::Pong { n: 1 });

    // Entries written after the subscribe arrive live, once each and in order.
    let mut agent = connect_staff(&app, ann_http).await;
    agent.subscribe(c, 0).await.unwrap();
    for i in 0..3 {
        let text = format!("answer {i}");
        agent
            .send(c, &format!("a-{i}"), WireKind::Application, text.as_bytes())
            .await
            .unwrap();
    }
    let live = entries(&mut v, &mut cursors, c, 3).await;
    let seqs: Vec<u64> = live.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [head + 1, head + 2, head + 3]);
    v.send_frame(&ClientFrame::Ping { n: 2 }).await.unwrap();
    assert_eq!(v.next().await.unwrap(), ServerFrame::Pong { n: 2 });

    // A cursor past the head (a client's bad state) replays nothing either: `subscribed`
    // tells the real head, from which the client can resubscribe.
    let mut w = connect_visitor(&app, &visitor).await;
    let last = w.subscribe(c, head + 10).await.unwrap();
    assert_eq!(last, head + 3);
    w.send_frame(&ClientFrame::Ping { n: 3 }).await.unwrap();
    assert_eq!(w.next().await.unwrap(), ServerFrame::Pong { n: 3 });
}
