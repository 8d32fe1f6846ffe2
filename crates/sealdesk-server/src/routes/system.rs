//! Liveness, readiness and version.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use sealdesk_proto::system::{HealthStatus, VersionInfo};

use crate::error::ApiError;
use crate::state::AppState;

/// How long readiness waits for the database before answering 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The protocol versions this build speaks.
pub const PROTOCOL_VERSIONS: &[u32] = &[1];

/// Liveness: the process is up and serving requests. Touches nothing else.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "The process is alive", body = HealthStatus)))]
pub async fn healthz() -> Json<HealthStatus> {
    Json(HealthStatus {
        status: "ok".into(),
    })
}

/// Readiness: the database answers. Load balancers send traffic only while this is 200.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses(
        (status = 200, description = "Ready for traffic", body = HealthStatus),
        (status = 503, description = "The database is unavailable", body = sealdesk_proto::ErrorBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<HealthStatus>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, state.store().ping()).await {
        Ok(Ok(())) => Ok(Json(HealthStatus {
            status: "ok".into(),
        })),
        Ok(Err(e)) => Err(ApiError::Unavailable(e.into())),
        Err(_) => Err(ApiError::Unavailable(anyhow::anyhow!(
            "database ping timed out"
        ))),
    }
}

/// The server's version, protocol versions and storage backend.
#[utoipa::path(get, path = "/api/version", tag = "system",
    responses((status = 200, description = "Version information", body = VersionInfo)))]
pub async fn version(State(state): State<AppState>) -> Json<VersionInfo> {
    Json(VersionInfo {
        name: "sealdesk".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol_versions: PROTOCOL_VERSIONS.to_vec(),
        storage: state.store().backend().as_str().into(),
    })
}
