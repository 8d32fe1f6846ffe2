//! Thin HTTP handlers, one module per resource. Each route is listed in [`api_routes`], which
//! builds the router and is checked against the OpenAPI document by a test.

pub mod openapi;
pub mod system;

use axum::Router;
use axum::routing::{MethodRouter, get};

use crate::state::AppState;

/// Every route of the public listener: (path, handlers).
pub fn api_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/healthz", get(system::healthz)),
        ("/readyz", get(system::readyz)),
        ("/api/version", get(system::version)),
        ("/api/openapi.json", get(openapi::openapi_json)),
    ]
}

/// The router with every route and the JSON 404 fallback, before edge layers.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (path, handler) in api_routes() {
        router = router.route(path, handler);
    }
    router
        .fallback(|| async { crate::error::ApiError::NotFound })
        .with_state(state)
}
