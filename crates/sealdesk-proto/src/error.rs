//! Stable, machine-readable error codes and the JSON error body every API error uses.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stable error code. Clients switch on this value, never on the message text.
///
/// Codes are only ever added, never renamed or removed: a renamed code breaks every deployed
/// widget. The HTTP status of each code is fixed by the server's error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request was malformed or a field failed validation (400).
    InvalidInput,
    /// The request needs credentials that were missing or wrong (401).
    Unauthenticated,
    /// Login failed. Deliberately says neither whether the account exists nor which factor
    /// was wrong (401).
    InvalidCredentials,
    /// The action is sensitive and the session's last proof of identity is too old:
    /// re-authenticate with `POST /api/auth/reauth`, then retry (401).
    ReauthenticationRequired,
    /// The caller is known but may not do this (403).
    Forbidden,
    /// The tenant requires a second factor and this session may only enrol one (403).
    SecondFactorRequired,
    /// No such resource, or it belongs to someone the caller cannot see (404).
    NotFound,
    /// The HTTP method is not supported on this path (405).
    MethodNotAllowed,
    /// The request took longer than the server allows (408).
    Timeout,
    /// The resource already exists or the change conflicts with current state (409).
    Conflict,
    /// The conversation is closed: nothing more can be sent to it (409).
    ConversationClosed,
    /// An MLS commit or message was built on an epoch the conversation's group has left:
    /// process the log, build it again and retry (409; E2EE.md §9.2).
    StaleEpoch,
    /// The payload is not a valid MLS message for this conversation's group, or breaks the
    /// Sealdesk MLS profile (400).
    MlsRejected,
    /// A proof-of-work challenge must be solved first: the server is under attack (429).
    ChallengeRequired,
    /// The inbox has a privacy notice: accept its current version (`consent`) to open a
    /// conversation (400).
    ConsentRequired,
    /// The request body is larger than the configured limit (413).
    PayloadTooLarge,
    /// The request's media type is not supported (415).
    UnsupportedMediaType,
    /// Too many requests; retry later (429).
    RateLimited,
    /// The server failed unexpectedly; the body carries no detail (500).
    Internal,
    /// A dependency (the database) is unavailable; retry later (503).
    Unavailable,
}

impl ErrorCode {
    /// The code as it appears on the wire (`"not_found"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::Forbidden => "forbidden",
            Self::SecondFactorRequired => "second_factor_required",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Timeout => "timeout",
            Self::Conflict => "conflict",
            Self::ConversationClosed => "conversation_closed",
            Self::StaleEpoch => "stale_epoch",
            Self::MlsRejected => "mls_rejected",
            Self::ChallengeRequired => "challenge_required",
            Self::ConsentRequired => "consent_required",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error response: `{"code": …, "message": …, "request_id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The stable error code.
    pub code: ErrorCode,
    /// Human-readable text that is safe to show; never contains internal details.
    pub message: String,
    /// The request id, also sent as the `x-request-id` header; quote it in support requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub request_id: Option<String>,
    /// For `invalid_input`: the field that failed, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_as_str() {
        let all = [
            ErrorCode::InvalidInput,
            ErrorCode::Unauthenticated,
            ErrorCode::InvalidCredentials,
            ErrorCode::ReauthenticationRequired,
            ErrorCode::Forbidden,
            ErrorCode::SecondFactorRequired,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Timeout,
            ErrorCode::Conflict,
            ErrorCode::ConversationClosed,
            ErrorCode::StaleEpoch,
            ErrorCode::MlsRejected,
            ErrorCode::ChallengeRequired,
            ErrorCode::ConsentRequired,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::RateLimited,
            ErrorCode::Internal,
            ErrorCode::Unavailable,
        ];
        for code in all {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn error_body_omits_empty_optionals() {
        let body = ErrorBody {
            code: ErrorCode::NotFound,
            message: "no such tenant".into(),
            request_id: None,
            field: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"code":"not_found","message":"no such tenant"}"#
        );
    }
}
