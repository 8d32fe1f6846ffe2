//! Payloads of the system endpoints: health, readiness and version.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Answer of `GET /healthz` and `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthStatus {
    /// `"ok"` when healthy (ready); otherwise the endpoint answers with an error body.
    pub status: String,
}

/// Answer of `GET /api/version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VersionInfo {
    /// Always `"sealdesk"`.
    pub name: String,
    /// The server's semantic version.
    pub version: String,
    /// The WebSocket protocol versions this server speaks.
    pub protocol_versions: Vec<u32>,
    /// The storage backend in use: `"sqlite"` or `"postgres"`.
    pub storage: String,
}
