//! Typed HTTP calls of device enrolment and team-key wraps (E2EE.md §3).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_proto::devices::{
    CertifyDevice, DeviceList, DeviceRequest, DeviceView, KeyWrapItem, KeyWrapList, KeyWrapUpload,
};
use sealdesk_proto::{DeviceId, TenantId};

use crate::{Client, ClientError};

fn to_value<T: serde::Serialize>(body: &T) -> Result<serde_json::Value, ClientError> {
    serde_json::to_value(body).map_err(|e| ClientError::Unexpected {
        status: 0,
        snippet: e.to_string(),
    })
}

impl Client {
    /// `POST /api/account/devices`: registers this device's public keys (pending).
    pub async fn request_device(
        &self,
        label: &str,
        signature_key: &[u8; 32],
        wrap_key: &[u8; 32],
    ) -> Result<DeviceView, ClientError> {
        let body = DeviceRequest {
            label: label.to_owned(),
            signature_key: STANDARD.encode(signature_key),
            wrap_key: STANDARD.encode(wrap_key),
        };
        self.post("/api/account/devices", &body).await
    }

    /// `GET /api/account/devices`.
    pub async fn my_devices(&self) -> Result<DeviceList, ClientError> {
        self.get("/api/account/devices").await
    }

    /// `DELETE /api/account/devices/{id}`.
    pub async fn revoke_my_device(&self, id: DeviceId) -> Result<DeviceView, ClientError> {
        self.delete(&format!("/api/account/devices/{id}")).await
    }

    /// `GET /api/account/devices/{id}/key-wraps`.
    pub async fn my_key_wraps(&self, id: DeviceId) -> Result<KeyWrapList, ClientError> {
        self.get(&format!("/api/account/devices/{id}/key-wraps"))
            .await
    }

    /// `GET /api/tenants/{tenant}/devices[?status=…]`.
    pub async fn tenant_devices(
        &self,
        tenant: TenantId,
        status: Option<&str>,
    ) -> Result<DeviceList, ClientError> {
        match status {
            Some(s) => {
                self.get(&format!("/api/tenants/{tenant}/devices?status={s}"))
                    .await
            }
            None => self.get(&format!("/api/tenants/{tenant}/devices")).await,
        }
    }

    /// `POST /api/tenants/{tenant}/devices/{id}/certificate`.
    pub async fn certify_device(
        &self,
        tenant: TenantId,
        id: DeviceId,
        fingerprint: &str,
        chain: &[u8],
    ) -> Result<DeviceView, ClientError> {
        let body = CertifyDevice {
            fingerprint: fingerprint.to_owned(),
            credential: STANDARD.encode(chain),
        };
        self.post(
            &format!("/api/tenants/{tenant}/devices/{id}/certificate"),
            &body,
        )
        .await
    }

    /// `DELETE /api/tenants/{tenant}/devices/{id}`.
    pub async fn revoke_device(
        &self,
        tenant: TenantId,
        id: DeviceId,
    ) -> Result<DeviceView, ClientError> {
        self.delete(&format!("/api/tenants/{tenant}/devices/{id}"))
            .await
    }

    /// `POST /api/tenants/{tenant}/key-wraps`.
    pub async fn add_key_wraps(
        &self,
        tenant: TenantId,
        wraps: Vec<KeyWrapItem>,
    ) -> Result<(), ClientError> {
        let body = to_value(&KeyWrapUpload { wraps })?;
        self.send_no_content(
            reqwest::Method::POST,
            &format!("/api/tenants/{tenant}/key-wraps"),
            Some(&body),
        )
        .await
    }
}
