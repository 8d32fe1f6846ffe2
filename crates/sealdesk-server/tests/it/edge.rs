//! The HTTP edge: security headers, request ids, the error envelope, body limits.

use reqwest::StatusCode;
use sealdesk_proto::{ErrorBody, ErrorCode};
use sealdesk_testkit::{spawn_app, spawn_app_with};

#[tokio::test]
async fn security_headers_on_every_response() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/version", "/no-such-path"] {
        let r = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
        let h = r.headers();
        let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(
            h.get("x-content-type-options").unwrap(),
            "nosniff",
            "{path}"
        );
        assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer", "{path}");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{path}");
        assert_eq!(h.get("cache-control").unwrap(), "no-store", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS without TLS ({path})"
        );
        assert!(h.get("x-request-id").is_some(), "{path}");
    }
}

#[tokio::test]
async fn unknown_path_gets_the_json_envelope_with_request_id() {
    let app = spawn_app().await;
    let r = reqwest::get(format!("{}/api/nothing-here", app.url))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let rid = r
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(r.headers().get("content-type").unwrap(), "application/json");
    let body: ErrorBody = r.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::NotFound);
    assert_eq!(body.request_id.as_deref(), Some(rid.as_str()));
}

#[tokio::test]
async fn wrong_method_is_405_with_a_stable_code() {
    let app = spawn_app().await;
    let r = reqwest::Client::new()
        .delete(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().code,
        ErrorCode::MethodNotAllowed
    );
}

#[tokio::test]
async fn oversized_body_is_413_before_routing() {
    let app = spawn_app_with(|c| c.server.body_limit_bytes = 2048).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/version", app.url))
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().code,
        ErrorCode::PayloadTooLarge
    );
}

#[tokio::test]
async fn an_undeclared_body_is_cut_at_the_limit_while_read() {
    let app = spawn_app_with(|c| c.server.body_limit_bytes = 2048).await;
    // Chunked, no Content-Length: only reading finds it too long.
    let chunks: Vec<Result<String, std::io::Error>> = vec![
        Ok(r#"{"email":""#.to_owned()),
        Ok("x".repeat(4096)),
        Ok(r#"","password":"p"}"#.to_owned()),
    ];
    let r = reqwest::Client::new()
        .post(format!("{}/api/auth/login", app.url))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.json::<ErrorBody>().await.unwrap().code,
        ErrorCode::PayloadTooLarge
    );
}

#[tokio::test]
async fn client_request_ids_are_kept_only_when_plain() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let kept = client
        .get(format!("{}/healthz", app.url))
        .header("x-request-id", "lb-1234_abc")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers().get("x-request-id").unwrap(), "lb-1234_abc");
    let forged = client
        .get(format!("{}/healthz", app.url))
        .header("x-request-id", "evil\" injected=\"1")
        .send()
        .await
        .unwrap();
    let id = forged
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(!id.contains("evil"), "unsafe ids are replaced: {id}");
    assert_eq!(id.len(), 36, "a fresh UUID: {id}");
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app =
        spawn_app_with(|c| c.server.header_read_timeout = std::time::Duration::from_secs(1)).await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Never finish the headers: the server must close the connection by itself.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut buf),
    )
    .await;
    assert!(read.is_ok(), "the server kept a half-open request alive");
}
