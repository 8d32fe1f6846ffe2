//! A typed Rust client for the Sealdesk server. The terminal agent, the admin tools, the
//! tests and the load generator all speak to the server through it, so they exercise the
//! same paths real clients do. HTTP today; WebSocket and MLS join as their issues land.
//!
//! Depends only on the wire types (`sealdesk-proto`), never on server internals.

use reqwest::StatusCode;
use sealdesk_proto::ErrorBody;
use sealdesk_proto::system::{HealthStatus, VersionInfo};
use serde::de::DeserializeOwned;
use url::Url;

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL is not usable.
    #[error("invalid server URL {0:?}")]
    Url(String),
    /// The connection failed or timed out.
    #[error("cannot reach the server: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered with a Sealdesk error body.
    #[error("server answered {status}: {} ({})", body.message, body.code)]
    Api {
        /// HTTP status.
        status: u16,
        /// The error body, with its stable code.
        body: ErrorBody,
    },
    /// The server answered something that is not a Sealdesk response.
    #[error("unexpected response {status}: {snippet}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        snippet: String,
    },
}

/// A client bound to one server.
#[derive(Debug, Clone)]
pub struct Client {
    base: Url,
    http: reqwest::Client,
}

impl Client {
    /// A client for the server at `base` (`http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("sealdesk-client/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Self::with_http(base, http)
    }

    /// A client using a preconfigured HTTP client (custom roots, timeouts).
    pub fn with_http(base: &str, http: reqwest::Client) -> Result<Self, ClientError> {
        let base = Url::parse(base).map_err(|_| ClientError::Url(base.to_owned()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(ClientError::Url(base.to_string()));
        }
        Ok(Self { base, http })
    }

    /// The server's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<Url, ClientError> {
        self.base
            .join(path)
            .map_err(|_| ClientError::Url(path.to_owned()))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self.http.get(self.url(path)?).send().await?;
        decode(response).await
    }

    /// `GET /healthz`.
    pub async fn healthz(&self) -> Result<HealthStatus, ClientError> {
        self.get("/healthz").await
    }

    /// `GET /readyz`: fails with `ClientError::Api` (code `unavailable`) when not ready.
    pub async fn readyz(&self) -> Result<HealthStatus, ClientError> {
        self.get("/readyz").await
    }

    /// `GET /api/version`.
    pub async fn version(&self) -> Result<VersionInfo, ClientError> {
        self.get("/api/version").await
    }
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
    let status = response.status();
    let bytes = response.bytes().await?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|_| unexpected(status, &bytes));
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Err(ClientError::Api {
            status: status.as_u16(),
            body,
        }),
        Err(_) => Err(unexpected(status, &bytes)),
    }
}

fn unexpected(status: StatusCode, bytes: &[u8]) -> ClientError {
    let text = String::from_utf8_lossy(bytes);
    ClientError::Unexpected {
        status: status.as_u16(),
        snippet: text.chars().take(200).collect(),
    }
}
