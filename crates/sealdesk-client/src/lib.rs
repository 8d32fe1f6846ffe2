//! A typed Rust client for the Sealdesk server. The terminal agent, the admin tools, the
//! tests and the load generator all speak to the server through it, so they exercise the
//! same paths real clients do. HTTP today; WebSocket and MLS join as their issues land.
//!
//! Depends only on the wire types (`sealdesk-proto`), never on server internals.

mod account;
mod chat;
mod content;
mod devices;
mod keys;
pub mod ws;

use reqwest::StatusCode;
use sealdesk_proto::ErrorBody;
use sealdesk_proto::auth::{
    LoginRequest, LoginResponse, ReauthRequest, RecoveryCodes, Secret, SessionInfo, SessionView,
    TotpConfirm, TotpEnrollment,
};
use sealdesk_proto::system::{HealthStatus, VersionInfo};
use serde::Serialize;
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

impl ClientError {
    /// The server's stable error code, when it answered with one.
    pub fn code(&self) -> Option<sealdesk_proto::ErrorCode> {
        match self {
            ClientError::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }
}

/// A client bound to one server.
#[derive(Debug, Clone)]
pub struct Client {
    base: Url,
    http: reqwest::Client,
    token: Option<String>,
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
        Ok(Self {
            base,
            http,
            token: None,
        })
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

    /// The same client, sending `token` as a bearer token.
    #[must_use]
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, ClientError> {
        let mut req = self.http.request(method, self.url(path)?);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        Ok(req)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        decode(self.request(reqwest::Method::GET, path)?.send().await?).await
    }

    async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        decode(self.request(reqwest::Method::DELETE, path)?.send().await?).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        decode(
            self.request(reqwest::Method::POST, path)?
                .json(body)
                .send()
                .await?,
        )
        .await
    }

    async fn send_no_content(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(), ClientError> {
        let mut req = self.request(method, path)?;
        if let Some(body) = body {
            req = req.json(body);
        }
        let response = req.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // An error status: decode yields the API error; a success-shaped body here is unexpected.
        match decode::<serde_json::Value>(response).await {
            Err(e) => Err(e),
            Ok(_) => Err(unexpected(status, b"")),
        }
    }

    /// `POST /api/auth/login`.
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, ClientError> {
        self.post("/api/auth/login", request).await
    }

    /// `POST /api/auth/logout`.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.send_no_content(reqwest::Method::POST, "/api/auth/logout", None)
            .await
    }

    /// `GET /api/auth/session`.
    pub async fn session(&self) -> Result<SessionInfo, ClientError> {
        self.get("/api/auth/session").await
    }

    /// `POST /api/auth/reauth`: proves identity again. The answer is a new session that
    /// replaces this one: the old token stops working, so continue with the new one
    /// ([`with_token`](Self::with_token)).
    pub async fn reauth(&self, request: &ReauthRequest) -> Result<LoginResponse, ClientError> {
        self.post("/api/auth/reauth", request).await
    }

    /// `GET /api/account/sessions`.
    pub async fn sessions(&self) -> Result<Vec<SessionView>, ClientError> {
        self.get("/api/account/sessions").await
    }

    /// `POST /api/account/totp`: starts TOTP enrolment.
    pub async fn totp_enroll(&self) -> Result<TotpEnrollment, ClientError> {
        self.post("/api/account/totp", &serde_json::json!({})).await
    }

    /// `POST /api/account/totp/confirm`: returns the recovery codes.
    pub async fn totp_confirm(&self, code: &str) -> Result<RecoveryCodes, ClientError> {
        self.post(
            "/api/account/totp/confirm",
            &TotpConfirm {
                code: Secret(code.to_owned()),
            },
        )
        .await
    }

    /// Any JSON GET, for endpoints without a typed method yet.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        self.get(path).await
    }

    /// Any JSON request with a body, for endpoints without a typed method yet.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ClientError> {
        let response = self.request(method, path)?.json(body).send().await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(serde_json::Value::Null);
        }
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
