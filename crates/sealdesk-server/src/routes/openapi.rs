//! The OpenAPI 3.1 description of the HTTP API, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Sealdesk", description = "Self-hosted, end-to-end encrypted customer-support chat."),
    paths(super::system::healthz, super::system::readyz, super::system::version, openapi_json),
    components(schemas(sealdesk_proto::ErrorBody, sealdesk_proto::ErrorCode)),
    tags((name = "system", description = "Health, readiness, version and this document"))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
