//! `ApiError` and the one table that maps every error to an HTTP status and a stable code.
//!
//! Handlers return `ApiError`; its `IntoResponse` records the code, a safe message and the
//! source error in the response's extensions. The `envelope` middleware then writes the JSON
//! body with the request id and logs the source once, inside the request span. Responses
//! produced by layers (404 fallback, 405, 408 timeout, 413 body limit, panics) get the same
//! envelope from their status, so every error a client sees has one shape.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sealdesk_core::ValidationError;
use sealdesk_proto::{ErrorBody, ErrorCode};
use sealdesk_store::StoreError;

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Invalid input; the message and field are shown to the client.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// Bad request with a safe message.
    #[error("{0}")]
    BadRequest(String),
    /// No valid session.
    #[error("authentication required")]
    Unauthenticated,
    /// Login failed; says nothing about which part was wrong.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A sensitive action needs a fresh proof of identity.
    #[error("re-authenticate to do this")]
    ReauthenticationRequired,
    /// Not allowed.
    #[error("forbidden")]
    Forbidden,
    /// The session may only enrol a second factor.
    #[error("enrol a second factor first")]
    SecondFactorRequired,
    /// Missing, or outside the caller's tenant (never told apart).
    #[error("not found")]
    NotFound,
    /// Passkeys are off because `server.public_url` is not set (404 with this message).
    #[error(
        "passkeys are not available on this server: the operator has not set server.public_url"
    )]
    PasskeysUnavailable,
    /// Already exists or conflicts; the message says what.
    #[error("{0}")]
    Conflict(String),
    /// Rate limited; retry after the given time when known.
    #[error("too many requests")]
    RateLimited {
        /// When to retry.
        retry_after: Option<std::time::Duration>,
    },
    /// The conversation is closed.
    #[error("the conversation is closed")]
    ConversationClosed,
    /// An MLS handshake or message for an epoch the group has left; the message says which.
    #[error("{0}")]
    StaleEpoch(String),
    /// The delivery service's MLS validation refused the payload; the message says why.
    #[error("{0}")]
    MlsRejected(String),
    /// A proof-of-work challenge must be solved first (`GET …/challenge`).
    #[error("this server is under heavy load: solve a proof-of-work challenge first")]
    ChallengeRequired,
    /// The inbox's privacy notice was not accepted (or an older version was).
    #[error("accept the current privacy notice first")]
    ConsentRequired,
    /// A body or payload is larger than allowed; the message says the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body's declared media type is not the one this endpoint takes.
    #[error("send the body as {0}")]
    UnsupportedMediaType(&'static str),
    /// A dependency is down.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else; the client sees only a generic message.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The error table: one status per code. Keep it the only place statuses are chosen.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput | ErrorCode::MlsRejected | ErrorCode::ConsentRequired => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::Unauthenticated
        | ErrorCode::InvalidCredentials
        | ErrorCode::ReauthenticationRequired => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::SecondFactorRequired => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Timeout => StatusCode::REQUEST_TIMEOUT,
        ErrorCode::Conflict | ErrorCode::ConversationClosed | ErrorCode::StaleEpoch => {
            StatusCode::CONFLICT
        }
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::RateLimited | ErrorCode::ChallengeRequired => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The code for an error response that did not come from an `ApiError` (layers, fallbacks).
fn code_for_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidInput,
    }
}

/// The message shown for a code when the error carries none of its own.
fn generic_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidInput => "the request is malformed",
        ErrorCode::Unauthenticated => "authentication required",
        ErrorCode::InvalidCredentials => "invalid credentials",
        ErrorCode::ReauthenticationRequired => "confirm your identity again to do this",
        ErrorCode::Forbidden => "you are not allowed to do this",
        ErrorCode::SecondFactorRequired => "enrol a second factor before doing anything else",
        ErrorCode::NotFound => "not found",
        ErrorCode::MethodNotAllowed => "method not allowed on this path",
        ErrorCode::Timeout => "the request took too long",
        ErrorCode::Conflict => "conflict with the current state",
        ErrorCode::ConversationClosed => "the conversation is closed",
        ErrorCode::StaleEpoch => "the group has moved to a later epoch",
        ErrorCode::MlsRejected => "the MLS message was refused",
        ErrorCode::ChallengeRequired => "solve the proof-of-work challenge first",
        ErrorCode::ConsentRequired => "accept the current privacy notice first",
        ErrorCode::PayloadTooLarge => "the request body is too large",
        ErrorCode::UnsupportedMediaType => "unsupported content type",
        ErrorCode::RateLimited => "too many requests; try again later",
        ErrorCode::Internal => "internal error",
        ErrorCode::Unavailable => "service temporarily unavailable; try again later",
    }
}

/// What an `ApiError` leaves in the response for the envelope middleware.
#[derive(Clone, Debug)]
struct ErrorInfo {
    code: ErrorCode,
    message: String,
    field: Option<String>,
    source: Option<Arc<anyhow::Error>>,
}

impl ApiError {
    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Invalid(_) | ApiError::BadRequest(_) => ErrorCode::InvalidInput,
            ApiError::Unauthenticated => ErrorCode::Unauthenticated,
            ApiError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ApiError::ReauthenticationRequired => ErrorCode::ReauthenticationRequired,
            ApiError::Forbidden => ErrorCode::Forbidden,
            ApiError::SecondFactorRequired => ErrorCode::SecondFactorRequired,
            ApiError::NotFound | ApiError::PasskeysUnavailable => ErrorCode::NotFound,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::ConversationClosed => ErrorCode::ConversationClosed,
            ApiError::StaleEpoch(_) => ErrorCode::StaleEpoch,
            ApiError::MlsRejected(_) => ErrorCode::MlsRejected,
            ApiError::ChallengeRequired => ErrorCode::ChallengeRequired,
            ApiError::ConsentRequired => ErrorCode::ConsentRequired,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Unavailable(_) => ErrorCode::Unavailable,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        let retry_after = match &self {
            ApiError::RateLimited { retry_after } => *retry_after,
            _ => None,
        };
        let (message, field, source) = match self {
            ApiError::Invalid(v) => (v.to_string(), Some(v.field.to_owned()), None),
            ApiError::BadRequest(m)
            | ApiError::Conflict(m)
            | ApiError::PayloadTooLarge(m)
            | ApiError::StaleEpoch(m)
            | ApiError::MlsRejected(m) => (m, None, None),
            // 5xx: the client sees a generic message; the source is only logged.
            ApiError::Unavailable(e) | ApiError::Internal(e) => {
                (generic_message(code).to_owned(), None, Some(Arc::new(e)))
            }
            other => (other.to_string(), None, None),
        };
        let mut response = status_of(code).into_response();
        if let Some(wait) = retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
        }
        response.extensions_mut().insert(ErrorInfo {
            code,
            message,
            field,
            source,
        });
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict { constraint } => {
                ApiError::Conflict(format!("already exists ({constraint})"))
            }
            e @ StoreError::Unavailable(_) => ApiError::Unavailable(e.into()),
            e => ApiError::Internal(e.into()),
        }
    }
}

/// JSON body extractor whose rejections (malformed JSON, missing fields, wrong content type)
/// use the error envelope with a useful message instead of axum's plain text.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            // A body cut at the size limit while it was read is 413, like a declared one.
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                ApiError::PayloadTooLarge("the request body is too large".to_owned()),
            ),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// Middleware: gives every error response the JSON envelope with the request id, and logs
/// the source of server errors once.
pub async fn envelope(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(crate::middleware::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let info = response.extensions().get::<ErrorInfo>().cloned();
    let has_json_body = info.is_none()
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if has_json_body {
        return response;
    }
    let info = info.unwrap_or_else(|| {
        let code = code_for_status(status);
        ErrorInfo {
            code,
            message: generic_message(code).to_owned(),
            field: None,
            source: None,
        }
    });
    if let Some(source) = &info.source {
        tracing::error!(error = ?source, code = %info.code, "request failed");
    } else if status.is_server_error() {
        tracing::error!(code = %info.code, %status, "request failed");
    } else {
        tracing::debug!(code = %info.code, %status, "request rejected");
    }
    let body = ErrorBody {
        code: info.code,
        message: info.message,
        request_id,
        field: info.field,
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"code\":\"internal\"}".to_vec());
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_round_trips_for_every_code() {
        for code in [
            ErrorCode::InvalidInput,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Timeout,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::RateLimited,
            ErrorCode::Internal,
            ErrorCode::Unavailable,
        ] {
            assert_eq!(code_for_status(status_of(code)), code, "{code}");
        }
    }

    #[test]
    fn server_errors_hide_their_source() {
        let response =
            ApiError::Internal(anyhow::anyhow!("password=hunter2 in query")).into_response();
        let info = response.extensions().get::<ErrorInfo>().unwrap();
        assert_eq!(info.message, "internal error");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
