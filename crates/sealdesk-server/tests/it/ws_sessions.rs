//! A staff WebSocket connection ends when its session is revoked: the node's session watch
//! checks every registered session once per heartbeat period (OWASP ASVS v5.0.0-7.4.1).

use std::time::Duration;

use sealdesk_client::ws::WsClientError;
use sealdesk_proto::ws::close;
use sealdesk_testkit::spawn_app_with;

use crate::conversations::{connect_staff, desk};

/// Reads frames until the connection closes, or gives up after `within`.
async fn closed_within(
    conn: &mut sealdesk_client::ws::Connection,
    within: Duration,
) -> Option<WsClientError> {
    tokio::time::timeout(within, async {
        loop {
            if let Err(e) = conn.next().await {
                return e;
            }
        }
    })
    .await
    .ok()
}

#[tokio::test]
async fn revoked_session_closes_its_connections_and_spares_others() {
    let app = spawn_app_with(|c| c.chat.heartbeat = Duration::from_secs(1)).await;
    let desk = desk(
        &app,
        "Acme",
        "acme.example",
        &["ann@acme.example", "bob@acme.example"],
    )
    .await;
    let (_, ann) = &desk.agents[0];
    let (_, bob) = &desk.agents[1];
    // Two connections of Ann's session (two tabs), one of Bob's.
    let mut ann_1 = connect_staff(&app, ann).await;
    let mut ann_2 = connect_staff(&app, ann).await;
    let mut bob_1 = connect_staff(&app, bob).await;
    assert_eq!(app.state.sessions().len(), 2);

    // Several sweeps pass: everyone stays connected (and answers the heartbeats).
    assert!(
        closed_within(&mut ann_1, Duration::from_millis(1500))
            .await
            .is_none()
    );

    ann.logout().await.unwrap();
    // Both tabs are read meanwhile (a client that stops reading fails on its pending pongs
    // instead of seeing the close).
    let (first, second) = tokio::join!(
        closed_within(&mut ann_1, Duration::from_secs(5)),
        closed_within(&mut ann_2, Duration::from_secs(5)),
    );
    for err in [first, second] {
        let err = err.expect("the revoked session's connection is closed");
        assert!(
            matches!(&err, WsClientError::Closed { code, .. } if *code == close::SESSION_ENDED),
            "{err:?}"
        );
    }
    assert!(
        closed_within(&mut bob_1, Duration::from_millis(1500))
            .await
            .is_none(),
        "another session's connection stays open"
    );
    // The closed connections unregistered their session; Bob's is still watched.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while app.state.sessions().len() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Ann's session is still watched"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(bob_1);
}
