//! Typed HTTP calls of the key-package directory (E2EE.md §9.1). Key packages are public MLS
//! material, base64 on the wire.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_proto::keys::{
    DeviceStockList, DeviceStockView, HistoryGenerationView, HistoryMemberView, HistoryPoolEntry,
    HistoryPoolStock, HistoryPoolUpload, KeyPackageList, KeyPackageUpload, SealingKeyList,
    SealingKeyUpload, SealingKeyView, TakeKeyPackages,
};
use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId};

use crate::{Client, ClientError};

impl Client {
    /// `POST /api/account/key-packages`: one device's single-use key packages and,
    /// optionally, its last-resort one.
    pub async fn publish_key_packages(
        &self,
        packages: &[Vec<u8>],
        last_resort: Option<&[u8]>,
    ) -> Result<DeviceStockView, ClientError> {
        let body = KeyPackageUpload {
            key_packages: packages.iter().map(|p| STANDARD.encode(p)).collect(),
            last_resort: last_resort.map(|p| STANDARD.encode(p)),
        };
        self.post("/api/account/key-packages", &body).await
    }

    /// `GET /api/account/key-packages`.
    pub async fn key_package_stock(&self) -> Result<DeviceStockList, ClientError> {
        self.get("/api/account/key-packages").await
    }

    /// `POST /api/visitor/conversations/{id}/key-packages` (visitor ticket): the assignee's.
    pub async fn visitor_take_key_packages(
        &self,
        id: ConversationId,
    ) -> Result<KeyPackageList, ClientError> {
        self.post(
            &format!("/api/visitor/conversations/{id}/key-packages"),
            &TakeKeyPackages::default(),
        )
        .await
    }

    /// `POST /api/tenants/{tenant}/conversations/{id}/key-packages` (staff).
    pub async fn take_key_packages(
        &self,
        tenant: TenantId,
        id: ConversationId,
        staff: Option<StaffId>,
    ) -> Result<KeyPackageList, ClientError> {
        self.post(
            &format!("/api/tenants/{tenant}/conversations/{id}/key-packages"),
            &TakeKeyPackages { staff },
        )
        .await
    }

    /// `POST /api/tenants/{tenant}/teams/{team}/history-pool`: (key package, sealed bundle)
    /// pairs.
    pub async fn publish_history_pool(
        &self,
        tenant: TenantId,
        team: TeamId,
        entries: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<HistoryPoolStock, ClientError> {
        let body = HistoryPoolUpload {
            entries: entries
                .iter()
                .map(|(kp, bundle)| HistoryPoolEntry {
                    key_package: STANDARD.encode(kp),
                    sealed_bundle: STANDARD.encode(bundle),
                })
                .collect(),
        };
        self.post(
            &format!("/api/tenants/{tenant}/teams/{team}/history-pool"),
            &body,
        )
        .await
    }

    /// `GET /api/tenants/{tenant}/teams/{team}/history-pool`.
    pub async fn history_pool_stock(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> Result<HistoryPoolStock, ClientError> {
        self.get(&format!("/api/tenants/{tenant}/teams/{team}/history-pool"))
            .await
    }

    /// `POST /api/visitor/conversations/{id}/history-member` (visitor ticket).
    pub async fn visitor_history_member(
        &self,
        id: ConversationId,
    ) -> Result<HistoryMemberView, ClientError> {
        self.post(
            &format!("/api/visitor/conversations/{id}/history-member"),
            &serde_json::json!({}),
        )
        .await
    }

    /// `GET /api/tenants/{tenant}/conversations/{id}/history-member` (staff): the current
    /// History Member with its bundle, and every generation in `members`.
    pub async fn history_member(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> Result<HistoryMemberView, ClientError> {
        self.get(&format!(
            "/api/tenants/{tenant}/conversations/{id}/history-member"
        ))
        .await
    }

    /// `POST /api/tenants/{tenant}/conversations/{id}/history-member/rotation` (staff in the
    /// conversation): the History Member a re-key adds after a team key rotation, pending
    /// until the commit `Remove(current) + Add(it)` is sequenced (E2EE.md §3).
    pub async fn rotation_member(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> Result<HistoryGenerationView, ClientError> {
        self.post(
            &format!("/api/tenants/{tenant}/conversations/{id}/history-member/rotation"),
            &serde_json::json!({}),
        )
        .await
    }

    /// `POST /api/tenants/{tenant}/sealing-keys`: the next version of a team or archive key.
    pub async fn publish_sealing_key(
        &self,
        tenant: TenantId,
        announcement: &[u8],
    ) -> Result<SealingKeyView, ClientError> {
        self.post(
            &format!("/api/tenants/{tenant}/sealing-keys"),
            &SealingKeyUpload {
                announcement: STANDARD.encode(announcement),
            },
        )
        .await
    }

    /// `GET /api/tenants/{tenant}/sealing-keys`.
    pub async fn sealing_keys(&self, tenant: TenantId) -> Result<SealingKeyList, ClientError> {
        self.get(&format!("/api/tenants/{tenant}/sealing-keys"))
            .await
    }
}
