//! The OpenAPI document: served, complete, and identical to the committed copy.

use sealdesk_server::routes::api_routes;
use sealdesk_testkit::spawn_app;

const COMMITTED: &str = include_str!("../../../../docs/openapi.json");

#[tokio::test]
async fn every_route_is_documented_and_the_committed_copy_is_current() {
    let app = spawn_app().await;
    let doc: serde_json::Value = reqwest::get(format!("{}/api/openapi.json", app.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "OpenAPI 3.1 expected"
    );
    let paths = doc["paths"].as_object().unwrap();
    for (path, _) in api_routes() {
        assert!(
            paths.contains_key(path),
            "{path} is routed but not in the OpenAPI document"
        );
    }
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("SEALDESK_BLESS").is_some() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json"),
            &pretty,
        )
        .unwrap();
    } else {
        assert_eq!(
            COMMITTED, pretty,
            "docs/openapi.json is stale: rerun this test with SEALDESK_BLESS=1"
        );
    }
}
