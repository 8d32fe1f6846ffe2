//! Staff authentication and account payloads: login, sessions, second factors, invitations,
//! roles, API tokens and the audit log view.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ids::TenantId;
use crate::tenancy::StaffView;

/// A password or one-time code in a request. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = Password)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which kind of client is logging in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// The web console: the session travels in an `HttpOnly` cookie, with a CSRF token.
    Browser,
    /// The terminal client or a script: the session is a bearer token.
    Cli,
}

/// `POST /api/auth/login` and `POST /api/auth/reauth`. Give every factor the account has in
/// one request: a failure never says which one was wrong.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The tenant whose staff account this is (ignored by reauth).
    pub tenant_id: TenantId,
    /// Login e-mail (ignored by reauth).
    pub email: String,
    /// Password.
    pub password: Secret,
    /// A current TOTP code, when the account has TOTP.
    #[serde(default)]
    pub totp: Option<Secret>,
    /// A recovery code, instead of the TOTP code.
    #[serde(default)]
    pub recovery_code: Option<Secret>,
    /// Browser or CLI (default CLI).
    #[serde(default = "default_client")]
    pub client: ClientKind,
}

fn default_client() -> ClientKind {
    ClientKind::Cli
}

/// `POST /api/auth/reauth`: prove identity again before a sensitive action, with the password
/// (and the second factor the account has) or with a passkey. The answer is a new session
/// that replaces the current one, as after a login.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ReauthRequest {
    /// Password; leave it out when proving identity with `passkey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub password: Option<Secret>,
    /// A current TOTP code, with the password, when the account has TOTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub totp: Option<Secret>,
    /// A recovery code, instead of the TOTP code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub recovery_code: Option<Secret>,
    /// A passkey assertion, instead of the password: start the ceremony with
    /// `POST /api/auth/reauth/passkey`, pass its options to `navigator.credentials.get()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub passkey: Option<crate::passkeys::PasskeyAssertion>,
}

impl ReauthRequest {
    /// Re-authentication with the password and, when the account has one, a TOTP code.
    pub fn password(password: &str, totp: Option<&str>) -> Self {
        Self {
            password: Some(Secret(password.to_owned())),
            totp: totp.map(|t| Secret(t.to_owned())),
            ..Self::default()
        }
    }
}

/// The current session, as `GET /api/auth/session` and login return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionInfo {
    /// The session's public id (for listing and revoking; not a credential).
    pub session_id: Uuid,
    /// The staff account.
    pub staff: StaffView,
    /// `browser`, `cli` or `api_token`.
    pub kind: String,
    /// The tenant requires a second factor and the account has none: only enrolment and
    /// logout are allowed until one is confirmed.
    pub restricted: bool,
    /// Whether the account has a confirmed second factor.
    pub second_factor: bool,
    /// Absolute expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When the session lapses without activity, if it has an idle limit.
    #[serde(with = "time::serde::rfc3339::option")]
    pub idle_expires_at: Option<OffsetDateTime>,
    /// Last proof of identity (login or reauth).
    #[serde(with = "time::serde::rfc3339")]
    pub authenticated_at: OffsetDateTime,
    /// For a browser session asking `GET /api/auth/session`: its CSRF token again, so a new
    /// tab of the console can work without signing in again (same-origin script only: the
    /// cookie is `SameSite=Strict` and the API sends no CORS headers to other origins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub csrf_token: Option<String>,
}

/// Answer of a successful login.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// The new session.
    pub session: SessionInfo,
    /// For CLI logins: the bearer token, shown once. Browsers get a cookie instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub token: Option<String>,
    /// For browser logins: send it as `X-CSRF-Token` on every state-changing request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub csrf_token: Option<String>,
}

/// One of the caller's sessions or API tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// Public id.
    pub id: Uuid,
    /// `browser`, `cli` or `api_token`.
    pub kind: String,
    /// API-token label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last activity.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// Absolute expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Client address (truncated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub ip: Option<String>,
    /// Client software.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub user_agent: Option<String>,
    /// This is the session making the request.
    pub current: bool,
}

/// A started TOTP enrolment: show the QR code or the secret to the authenticator app, then
/// confirm with a first code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrollment {
    /// Base32 secret, for typing into the app.
    pub secret: String,
    /// `otpauth://` URI.
    pub uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

/// `POST /api/account/totp/confirm`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpConfirm {
    /// The first code from the authenticator app.
    pub code: Secret,
}

/// Fresh recovery codes, shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes.
    pub recovery_codes: Vec<String>,
}

/// `POST /api/account/password`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePassword {
    /// The current password.
    pub current_password: Secret,
    /// The new password.
    pub new_password: Secret,
}

/// `POST /api/tenants/{tenant}/invitations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteRequest {
    /// The invitee's e-mail.
    pub email: String,
    /// Their role.
    pub role: String,
    /// Their display name.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// An issued invitation: deliver the token to the invitee out of band; it is shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteResponse {
    /// The new (password-less) account.
    pub staff: StaffView,
    /// Single-use token.
    pub invitation_token: String,
    /// Expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `POST /api/invitations/accept`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptInvitation {
    /// The invitation token.
    pub token: Secret,
    /// The password to set.
    pub password: Secret,
    /// Browser or CLI session afterwards.
    #[serde(default = "default_client")]
    pub client: ClientKind,
}

/// `PUT /api/tenants/{tenant}/staff/{staff}/role`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleChange {
    /// `owner`, `admin`, `supervisor` or `agent`.
    pub role: String,
}

/// `POST /api/tenants/{tenant}/api-tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiTokenRequest {
    /// A label.
    pub name: String,
    /// Days until it expires (1 to 365).
    pub expires_in_days: u32,
}

/// A created API token, shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiTokenCreated {
    /// Public id, to revoke it.
    pub id: Uuid,
    /// The bearer token.
    pub token: String,
    /// Expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// An audit log entry (content-free).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    /// Position in the chain.
    pub seq: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who: `staff:<id>`, `operator`, `system` or `anonymous`.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub target: Option<String>,
    /// Details (reason codes, counts; never content or secrets).
    pub details: BTreeMap<String, String>,
    /// Source address (truncated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub ip: Option<String>,
    /// The entry's chain hash.
    pub hash: String,
}
