//! Passkey (WebAuthn) payloads: registration, the account's list, and login. The WebAuthn
//! options and credentials travel as the JSON that `navigator.credentials.create()` /
//! `get()` take and produce (W3C WebAuthn Level 3 §5.1), so this crate needs no WebAuthn
//! library; the server parses and verifies them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{ClientKind, Secret};
use crate::ids::TenantId;

/// A started WebAuthn ceremony: its id (send it back with the result) and the options for
/// the browser (`publicKey` inside, as `navigator.credentials.create/get` expect).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyChallenge {
    /// The ceremony; single use, valid for five minutes.
    pub ceremony_id: Uuid,
    /// `CredentialCreationOptions` (registration) or `CredentialRequestOptions` (login).
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// `POST /api/account/passkeys/register/finish`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyRegisterFinish {
    /// From [`PasskeyChallenge`].
    pub ceremony_id: Uuid,
    /// A name to recognise the passkey by (1 to 64 characters).
    pub name: String,
    /// The `PublicKeyCredential` the browser returned from `create()`, as JSON.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// One of the caller's passkeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasskeyView {
    /// Public id (for removal).
    pub id: Uuid,
    /// The name given at registration.
    pub name: String,
    /// Registered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last used to log in.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// A signed passkey challenge: the ceremony and the authenticator's answer. Used by
/// re-authentication (`POST /api/auth/reauth`, field `passkey`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyAssertion {
    /// From [`PasskeyChallenge`].
    pub ceremony_id: Uuid,
    /// The `PublicKeyCredential` the browser returned from `get()`, as JSON.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// `POST /api/auth/passkey/start`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyLoginStart {
    /// The tenant to log in to.
    pub tenant_id: TenantId,
    /// The account's e-mail; leave it out for a discoverable-credential (username-less)
    /// login, where the passkey names the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub email: Option<String>,
}

/// `POST /api/auth/passkey/finish`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyLoginFinish {
    /// From [`PasskeyChallenge`].
    pub ceremony_id: Uuid,
    /// The `PublicKeyCredential` the browser returned from `get()`, as JSON.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    /// The password, to use the passkey as a second factor; without it the passkey (which
    /// verified the user) is the whole login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub password: Option<Secret>,
    /// Browser or CLI (default CLI).
    #[serde(default = "default_client")]
    pub client: ClientKind,
}

fn default_client() -> ClientKind {
    ClientKind::Cli
}
