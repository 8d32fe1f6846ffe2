//! The built web clients served by the real server: the widget module cross-origin with
//! CORS, console pages under a strict CSP, API paths untouched, everything else a JSON 404.

use sealdesk_testkit::spawn_app_with;

#[tokio::test]
async fn the_widget_and_console_are_served_from_web_dir() {
    let web = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(web.path().join("widget")).unwrap();
    std::fs::create_dir_all(web.path().join("console")).unwrap();
    std::fs::write(
        web.path().join("widget/sealdesk-widget.js"),
        b"export const sealdesk = 1;",
    )
    .unwrap();
    std::fs::write(
        web.path().join("console/index.html"),
        b"<!doctype html><title>Console</title>",
    )
    .unwrap();
    std::fs::write(web.path().join("secret.txt"), b"not served").unwrap();
    let dir = web.path().to_owned();
    let app = spawn_app_with(move |c| c.web_dir = Some(dir)).await;
    let http = reqwest::Client::new();

    let widget = http
        .get(format!("{}/widget/sealdesk-widget.js", app.url))
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(widget.status(), 200);
    let h = widget.headers().clone();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["cross-origin-resource-policy"], "cross-origin");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(widget.text().await.unwrap(), "export const sealdesk = 1;");

    let page = http
        .get(format!("{}/console/", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));

    // Outside the served folders, traversal, or a write: the API's JSON 404 / 405.
    for path in [
        "/secret.txt",
        "/console/../secret.txt",
        "/widget/%2e%2e/secret.txt",
    ] {
        let missing = http.get(format!("{}{path}", app.url)).send().await.unwrap();
        assert_eq!(missing.status(), 404, "{path}");
        let body: serde_json::Value = missing.json().await.unwrap();
        assert_eq!(body["code"], "not_found");
    }
    let post = http
        .post(format!("{}/widget/sealdesk-widget.js", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
    // The API is unchanged.
    let health = http
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
