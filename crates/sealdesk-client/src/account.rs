//! The caller's own account beyond login: sessions, password, recovery codes, passkey
//! re-authentication, and accepting an invitation.

use sealdesk_proto::auth::{AcceptInvitation, ChangePassword, LoginResponse, RecoveryCodes};
use sealdesk_proto::passkeys::PasskeyChallenge;
use uuid::Uuid;

use crate::{Client, ClientError};

impl Client {
    /// `POST /api/auth/reauth/passkey`: a challenge for the caller's passkeys; sign it and
    /// send the assertion with [`reauth`](Self::reauth).
    pub async fn reauth_passkey_start(&self) -> Result<PasskeyChallenge, ClientError> {
        self.post("/api/auth/reauth/passkey", &serde_json::json!({}))
            .await
    }

    /// `DELETE /api/account/sessions/{id}`: revokes one of the caller's sessions or API
    /// tokens.
    pub async fn revoke_session(&self, id: Uuid) -> Result<(), ClientError> {
        self.send_no_content(
            reqwest::Method::DELETE,
            &format!("/api/account/sessions/{id}"),
            None,
        )
        .await
    }

    /// `POST /api/account/sessions/revoke-others`: revokes every session and API token of
    /// the caller except this one; returns how many.
    pub async fn revoke_other_sessions(&self) -> Result<u64, ClientError> {
        self.post(
            "/api/account/sessions/revoke-others",
            &serde_json::json!({}),
        )
        .await
    }

    /// `POST /api/account/password`: changes the password; every other session ends.
    pub async fn change_password(&self, request: &ChangePassword) -> Result<(), ClientError> {
        let body = serde_json::to_value(request).map_err(|e| ClientError::Unexpected {
            status: 0,
            snippet: e.to_string(),
        })?;
        self.send_no_content(reqwest::Method::POST, "/api/account/password", Some(&body))
            .await
    }

    /// `POST /api/account/recovery-codes`: ten new codes (the old ones stop working). Needs
    /// a second factor and a recent re-authentication.
    pub async fn regenerate_recovery_codes(&self) -> Result<RecoveryCodes, ClientError> {
        self.post("/api/account/recovery-codes", &serde_json::json!({}))
            .await
    }

    /// `POST /api/invitations/accept`: sets the password of an invited account and logs in.
    pub async fn accept_invitation(
        &self,
        request: &AcceptInvitation,
    ) -> Result<LoginResponse, ClientError> {
        self.post("/api/invitations/accept", request).await
    }
}
