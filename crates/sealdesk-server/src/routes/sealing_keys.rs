//! Team and archive keys over REST: key managers announce the next version; every staff
//! member's console lists them to seal History Member bundles.

use axum::Json;
use axum::extract::{Path, State};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_core::access::Action;
use sealdesk_proto::TenantId;
use sealdesk_proto::keys::{SealingKeyList, SealingKeyUpload, SealingKeyView};
use sealdesk_store::{KeyScope, SealingKey};

use crate::app::sealing_keys;
use crate::auth::Auth;
use crate::auth::extract::TenantScope;
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;

fn view(key: &SealingKey) -> SealingKeyView {
    SealingKeyView {
        scope: match key.scope {
            KeyScope::Team(team) => team.to_string(),
            KeyScope::Archive => "archive".into(),
        },
        version: key.version,
        public_key: STANDARD.encode(key.public_key),
        announcement: STANDARD.encode(&key.announcement),
    }
}

/// Announces the next version of a team key or of the archive key.
#[utoipa::path(post, path = "/api/tenants/{tenant}/sealing-keys", tag = "admin",
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    request_body = SealingKeyUpload,
    responses((status = 200, description = "Stored", body = SealingKeyView),
        (status = 400, description = "Not base64, or an announcement the tenant's root does not vouch for (`mls_rejected`)", body = sealdesk_proto::ErrorBody),
        (status = 403, description = "The caller may not manage keys", body = sealdesk_proto::ErrorBody),
        (status = 404, description = "No such team", body = sealdesk_proto::ErrorBody),
        (status = 409, description = "No root key yet, or not the next version", body = sealdesk_proto::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
    ApiJson(req): ApiJson<SealingKeyUpload>,
) -> Result<Json<SealingKeyView>, ApiError> {
    auth.require(Action::ManageKeys, tenant)?;
    let key = sealing_keys::publish(&state, auth.principal, &req.announcement).await?;
    Ok(Json(view(&key)))
}

/// The tenant's team and archive keys, every version.
#[utoipa::path(get, path = "/api/tenants/{tenant}/sealing-keys", tag = "admin",
    params(("tenant" = TenantId, Path, description = "Tenant id")),
    responses((status = 200, description = "By scope, then version", body = SealingKeyList)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    _scope: TenantScope,
    Path(tenant): Path<TenantId>,
) -> Result<Json<SealingKeyList>, ApiError> {
    auth.require(Action::ViewQueue, tenant)?;
    let keys = state.store().sealing_keys(tenant).await?;
    Ok(Json(SealingKeyList {
        keys: keys.iter().map(view).collect(),
    }))
}
