//! The HTTP edge: request ids, security headers and request metrics, and the order in which
//! every layer wraps the router.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The request-id header, set on every request and echoed on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Edge settings taken from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct EdgeSettings {
    /// Per-request time limit.
    pub request_timeout: Duration,
    /// Request body limit.
    pub body_limit_bytes: usize,
    /// Send `Strict-Transport-Security` (only when TLS is on).
    pub hsts: bool,
}

/// Content-Security-Policy for everything the server serves itself. Pages that need more
/// (the console, the widget) set their own header, which this default does not override.
/// (OWASP ASVS v5.0.0-3.4.3; `frame-ancestors 'none'` also replaces X-Frame-Options.)
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// HSTS: two years, as recommended by OWASP ASVS v5.0.0-3.4.1.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Wraps `router` with every layer, outermost first:
///
/// 1. incoming `x-request-id` sanitised, then set if absent (so the id exists for everything
///    below), and propagated to the response;
/// 2. sensitive request headers (`Authorization`, `Cookie`) marked before tracing sees them
///    (STYLE.md lists tracing first; marking must come first or a debug trace would print them);
/// 3. the trace span (request id, matched path);
/// 4. security response headers and request metrics;
/// 5. the error envelope, outside the layers that produce bare errors (timeout, body limit,
///    panic), so their responses get the JSON body too;
/// 6. timeout, then body limit, then panic catcher, innermost. The body limit skips the
///    attachment uploads, which stream their bodies under their own, larger limit
///    (`chat.attachment_max_bytes`, enforced while reading: see `app::attachments`).
pub fn apply(router: Router, edge: EdgeSettings) -> Router {
    let hsts = edge.hsts.then(|| HeaderValue::from_static(HSTS));
    // `Router::layer` wraps outside what is already there, so this reads innermost first.
    let body_limit = edge.body_limit_bytes;
    let inner = ServiceBuilder::new()
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            limit_body(body_limit, request, next)
        }))
        .layer(DefaultBodyLimit::max(edge.body_limit_bytes))
        .layer(CatchPanicLayer::new());
    let headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            hsts,
        ));
    let outer = ServiceBuilder::new()
        .layer(tower::util::MapRequestLayer::new(sanitize_request_id))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(TraceLayer::new_for_http().make_span_with(make_span));
    router
        .layer(inner)
        // Separate call: the timeout needs a `Default` response body, which axum's Body is.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            edge.request_timeout,
        ))
        .layer(middleware::from_fn(crate::error::envelope))
        .layer(middleware::from_fn(record_metrics))
        .layer(headers)
        .layer(outer)
}

/// `server.body_limit_bytes` for every request except the streamed attachment uploads
/// (which `Router::layer` lets this see by their matched path). The limit answers 413 for a
/// declared length above it and cuts a longer body while it is read (OWASP ASVS
/// v5.0.0-5.2.1: only sizes the server can process).
async fn limit_body(limit: usize, request: Request, next: Next) -> Response {
    let streamed = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| crate::routes::attachments::UPLOAD_PATHS.contains(&p.as_str()));
    if streamed {
        return next.run(request).await;
    }
    let declared = crate::routes::attachments::declared_len(request.headers());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    // A body that turns out longer fails while it is read; axum's extractors answer 413.
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

/// Keeps a client-supplied request id only if it is short and plain (so it cannot forge log
/// lines); otherwise drops it and a fresh one is generated.
fn sanitize_request_id(mut request: Request) -> Request {
    let valid = request.headers().get(&REQUEST_ID).is_some_and(|v| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
    });
    if !valid {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

fn make_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("<unmatched>", MatchedPath::as_str);
    tracing::info_span!("http", method = %request.method(), path, request_id)
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().to_string();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("path", path), ("status", status)];
    metrics::counter!("sealdesk_http_requests_total", &labels).increment(1);
    metrics::histogram!("sealdesk_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}
