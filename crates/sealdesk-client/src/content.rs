//! Typed HTTP calls for the content kept beside the logs: attachments (opaque bytes), internal
//! notes and canned responses (opaque payloads, base64 on the wire). The caller encrypts
//! every payload before it reaches these calls.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_proto::content::{
    AttachmentRef, CannedResponseList, CannedResponseView, NewPayload, NoteList, NoteView,
    ReplaceCannedResponse,
};
use sealdesk_proto::{CannedResponseId, ConversationId, TeamId, TenantId};
use sha2::{Digest as _, Sha256};

use crate::{Client, ClientError, decode, unexpected};

impl Client {
    /// `POST /api/visitor/conversations/{id}/attachments` (visitor ticket).
    pub async fn visitor_upload(
        &self,
        id: ConversationId,
        blob: Vec<u8>,
    ) -> Result<AttachmentRef, ClientError> {
        self.upload(
            &format!("/api/visitor/conversations/{id}/attachments"),
            blob,
        )
        .await
    }

    /// `GET /api/visitor/conversations/{id}/attachments/{sha256}` (visitor ticket).
    pub async fn visitor_download(
        &self,
        id: ConversationId,
        sha256: &str,
    ) -> Result<Vec<u8>, ClientError> {
        self.download(&format!(
            "/api/visitor/conversations/{id}/attachments/{sha256}"
        ))
        .await
    }

    /// `POST /api/tenants/{tenant}/conversations/{id}/attachments` (staff).
    pub async fn upload_attachment(
        &self,
        tenant: TenantId,
        id: ConversationId,
        blob: Vec<u8>,
    ) -> Result<AttachmentRef, ClientError> {
        self.upload(
            &format!("/api/tenants/{tenant}/conversations/{id}/attachments"),
            blob,
        )
        .await
    }

    /// `GET /api/tenants/{tenant}/conversations/{id}/attachments/{sha256}` (staff).
    pub async fn download_attachment(
        &self,
        tenant: TenantId,
        id: ConversationId,
        sha256: &str,
    ) -> Result<Vec<u8>, ClientError> {
        self.download(&format!(
            "/api/tenants/{tenant}/conversations/{id}/attachments/{sha256}"
        ))
        .await
    }

    async fn upload(&self, path: &str, blob: Vec<u8>) -> Result<AttachmentRef, ClientError> {
        let response = self
            .request(reqwest::Method::POST, path)?
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(blob)
            .send()
            .await?;
        decode(response).await
    }

    async fn download(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        let response = self.request(reqwest::Method::GET, path)?.send().await?;
        if response.status().is_success() {
            return Ok(response.bytes().await?.to_vec());
        }
        // An error status: `decode` turns the body into the API error.
        let status = response.status();
        match decode::<serde_json::Value>(response).await {
            Err(e) => Err(e),
            Ok(_) => Err(unexpected(status, b"")),
        }
    }

    /// `GET /api/tenants/{tenant}/conversations/{id}/notes`.
    pub async fn notes(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> Result<NoteList, ClientError> {
        self.get(&format!("/api/tenants/{tenant}/conversations/{id}/notes"))
            .await
    }

    /// `POST /api/tenants/{tenant}/conversations/{id}/notes` with an opaque payload.
    pub async fn add_note(
        &self,
        tenant: TenantId,
        id: ConversationId,
        payload: &[u8],
    ) -> Result<NoteView, ClientError> {
        self.post(
            &format!("/api/tenants/{tenant}/conversations/{id}/notes"),
            &NewPayload {
                p: STANDARD.encode(payload),
            },
        )
        .await
    }

    /// `GET /api/tenants/{tenant}/teams/{team}/canned-responses`.
    pub async fn canned_responses(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> Result<CannedResponseList, ClientError> {
        self.get(&format!(
            "/api/tenants/{tenant}/teams/{team}/canned-responses"
        ))
        .await
    }

    /// `POST /api/tenants/{tenant}/teams/{team}/canned-responses` with an opaque payload.
    pub async fn create_canned_response(
        &self,
        tenant: TenantId,
        team: TeamId,
        payload: &[u8],
    ) -> Result<CannedResponseView, ClientError> {
        self.post(
            &format!("/api/tenants/{tenant}/teams/{team}/canned-responses"),
            &NewPayload {
                p: STANDARD.encode(payload),
            },
        )
        .await
    }

    /// `PUT /api/tenants/{tenant}/teams/{team}/canned-responses/{id}`: replaces the payload
    /// if the stored one is still `read` (the payload as listed), sealed to `read_version`
    /// (else `conflict`).
    pub async fn replace_canned_response(
        &self,
        tenant: TenantId,
        team: TeamId,
        id: CannedResponseId,
        (read_version, read): (u32, &[u8]),
        payload: &[u8],
    ) -> Result<CannedResponseView, ClientError> {
        let response = self
            .request(
                reqwest::Method::PUT,
                &format!("/api/tenants/{tenant}/teams/{team}/canned-responses/{id}"),
            )?
            .json(&ReplaceCannedResponse {
                key_version: read_version,
                read_sha256: STANDARD.encode(Sha256::digest(read)),
                p: STANDARD.encode(payload),
            })
            .send()
            .await?;
        decode(response).await
    }

    /// `DELETE /api/tenants/{tenant}/teams/{team}/canned-responses/{id}`.
    pub async fn delete_canned_response(
        &self,
        tenant: TenantId,
        team: TeamId,
        id: CannedResponseId,
    ) -> Result<(), ClientError> {
        self.send_no_content(
            reqwest::Method::DELETE,
            &format!("/api/tenants/{tenant}/teams/{team}/canned-responses/{id}"),
            None,
        )
        .await
    }
}
