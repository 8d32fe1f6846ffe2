//! Health, readiness and version through the typed client.

use sealdesk_client::ClientError;
use sealdesk_proto::ErrorCode;
use sealdesk_testkit::spawn_app;

#[tokio::test]
async fn healthz_and_version_answer() {
    let app = spawn_app().await;
    assert_eq!(app.client.healthz().await.unwrap().status, "ok");
    let v = app.client.version().await.unwrap();
    assert_eq!(v.name, "sealdesk");
    assert_eq!(v.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(v.storage, "sqlite");
    assert_eq!(v.protocol_versions, vec![1]);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn readyz_follows_the_database() {
    let app = spawn_app().await;
    assert_eq!(app.client.readyz().await.unwrap().status, "ok");
    app.store.close().await;
    match app.client.readyz().await {
        Err(ClientError::Api { status, body }) => {
            assert_eq!(status, 503);
            assert_eq!(body.code, ErrorCode::Unavailable);
            assert!(body.request_id.is_some());
            assert!(
                !body.message.to_lowercase().contains("sqlx"),
                "5xx bodies stay generic: {}",
                body.message
            );
        }
        other => panic!("expected 503, got {other:?}"),
    }
    // Liveness does not depend on the database.
    assert_eq!(app.client.healthz().await.unwrap().status, "ok");
}

#[tokio::test]
async fn graceful_shutdown_finishes_and_stops_accepting() {
    let app = spawn_app().await;
    let url = app.url.clone();
    app.client.healthz().await.unwrap();
    app.shutdown().await.unwrap();
    let err = reqwest::get(format!("{url}/healthz")).await;
    assert!(err.is_err(), "the listener must be closed after shutdown");
}
