//! Identity-token keys and widget settings per inbox (team). Re-exported from the crate root; part of
//! [`Store`](crate::Store).

use async_trait::async_trait;
use sealdesk_proto::widget::InboxWidgetSettings;
use sealdesk_proto::{TeamId, TenantId};
use time::OffsetDateTime;

use crate::StoreResult;

/// Which kind of key an inbox verifies identity tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKeyKind {
    /// A server-generated HMAC secret; `key` holds it sealed by the master key.
    Hs256,
    /// The tenant's Ed25519 public key; `key` holds its 32 bytes.
    Ed25519,
}

impl IdentityKeyKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKeyKind::Hs256 => "hs256",
            IdentityKeyKind::Ed25519 => "ed25519",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "hs256" => Some(IdentityKeyKind::Hs256),
            "ed25519" => Some(IdentityKeyKind::Ed25519),
            _ => None,
        }
    }
}

/// An inbox's identity-token settings.
#[derive(Clone, PartialEq, Eq)]
pub struct InboxIdentity {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The inbox.
    pub team_id: TeamId,
    /// Key kind.
    pub kind: IdentityKeyKind,
    /// Sealed secret (HS256) or public key (Ed25519).
    pub key: Vec<u8>,
    /// Whether tickets need a valid identity token.
    pub required: bool,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

impl std::fmt::Debug for InboxIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxIdentity")
            .field("tenant_id", &self.tenant_id)
            .field("team_id", &self.team_id)
            .field("kind", &self.kind)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

/// An inbox's widget settings: privacy notice and pre-chat field definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxWidget {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The inbox.
    pub team_id: TeamId,
    /// The notice and the fields.
    pub settings: InboxWidgetSettings,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// Inbox identity and widget settings. Every call is scoped to a tenant.
#[async_trait]
pub trait InboxRepo: Send + Sync {
    /// The inbox's settings, if any.
    async fn get_inbox_identity(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> StoreResult<Option<InboxIdentity>>;
    /// Creates or replaces the inbox's settings. `NotFound` if the team is not the tenant's.
    async fn set_inbox_identity(&self, identity: &InboxIdentity) -> StoreResult<()>;
    /// The inbox's widget settings, if any were set.
    async fn get_inbox_widget(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> StoreResult<Option<InboxWidget>>;
    /// Creates or replaces them. `NotFound` if the team is not the tenant's.
    async fn set_inbox_widget(&self, widget: &InboxWidget) -> StoreResult<()>;
    /// Removes the identity settings; `true` if there were any.
    async fn clear_inbox_identity(&self, tenant: TenantId, team: TeamId) -> StoreResult<bool>;
    /// Every sealed HS256 secret (tenant, team, sealed), for master-key rotation.
    async fn list_inbox_secrets(&self) -> StoreResult<Vec<(TenantId, TeamId, Vec<u8>)>>;
    /// Replaces a sealed secret if it is still `old` (compare-and-swap); `false` if it changed
    /// meanwhile.
    async fn replace_inbox_secret(
        &self,
        tenant: TenantId,
        team: TeamId,
        old: &[u8],
        new: &[u8],
    ) -> StoreResult<bool>;
}

/// The stored columns of an `inbox_widget` row, as both backends read them.
pub(crate) struct InboxWidgetRow {
    pub(crate) notice_version: Option<String>,
    pub(crate) notice_text: Option<String>,
    pub(crate) notice_url: Option<String>,
    pub(crate) prechat_fields: String,
    pub(crate) updated_at_ms: i64,
}

impl InboxWidgetRow {
    /// The row of `widget`.
    pub(crate) fn of(widget: &InboxWidget) -> StoreResult<Self> {
        let notice = widget.settings.privacy_notice.as_ref();
        Ok(Self {
            notice_version: notice.map(|n| n.version.clone()),
            notice_text: notice.map(|n| n.text.clone()),
            notice_url: notice.and_then(|n| n.url.clone()),
            prechat_fields: serde_json::to_string(&widget.settings.prechat_fields)
                .map_err(|e| crate::StoreError::Corrupt(format!("pre-chat fields: {e}")))?,
            updated_at_ms: sealdesk_core::clock::to_unix_ms(widget.updated_at),
        })
    }

    /// Back into the domain value; a row that does not parse is `Corrupt`.
    pub(crate) fn into_widget(self, tenant: TenantId, team: TeamId) -> StoreResult<InboxWidget> {
        let corrupt =
            |what: String| crate::StoreError::Corrupt(format!("inbox widget {team}: {what}"));
        let privacy_notice = match (self.notice_version, self.notice_text) {
            (Some(version), Some(text)) => Some(sealdesk_proto::widget::PrivacyNotice {
                version,
                text,
                url: self.notice_url,
            }),
            (None, None) => None,
            _ => return Err(corrupt("a notice version without text".into())),
        };
        let prechat_fields = serde_json::from_str(&self.prechat_fields)
            .map_err(|e| corrupt(format!("pre-chat fields: {e}")))?;
        Ok(InboxWidget {
            tenant_id: tenant,
            team_id: team,
            settings: InboxWidgetSettings {
                privacy_notice,
                prechat_fields,
            },
            updated_at: sealdesk_core::clock::from_unix_ms(self.updated_at_ms),
        })
    }
}
