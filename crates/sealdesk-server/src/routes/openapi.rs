//! The OpenAPI 3.1 description of the HTTP API, generated from the handlers' annotations.

use axum::Json;
use sealdesk_proto::ws;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Sealdesk", description = "Self-hosted, end-to-end encrypted customer-support chat."),
    paths(
        super::system::healthz, super::system::readyz, super::system::version, openapi_json,
        super::auth::login, super::auth::logout, super::auth::session, super::auth::reauth,
        super::auth::reauth_passkey_start,
        super::account::list_sessions, super::account::revoke_session,
        super::account::revoke_other_sessions, super::account::totp_enroll,
        super::account::totp_confirm, super::account::totp_remove, super::account::regenerate_recovery_codes,
        super::account::change_password,
        super::passkeys::register_start, super::passkeys::register_finish, super::passkeys::list,
        super::passkeys::remove, super::passkeys::login_start, super::passkeys::login_finish,
        super::staff::accept, super::staff::list, super::staff::invite, super::staff::set_role,
        super::staff::disable, super::staff::enable, super::staff::revoke_sessions,
        super::admin::audit_log, super::admin::get_settings, super::admin::put_settings, super::admin::teams, super::admin::create_team,
        super::admin::create_api_token, super::admin::revoke_api_token,
        crate::ws::upgrade, super::visitors::widget_config, super::visitors::ticket, super::visitors::open,
        super::visitors::list, super::visitors::close, super::visitors::request_erasure,
        super::conversations::list, super::conversations::get, super::conversations::entries,
        super::conversations::claim, super::conversations::transfer, super::conversations::join,
        super::conversations::close, super::conversations::availability,
        super::conversations::set_availability,
        super::conversations::members, super::conversations::add_member,
        super::conversations::remove_member, super::conversations::set_routing,
        super::visitors::challenge, super::conversations::get_identity,
        super::conversations::set_identity, super::conversations::visitor,
        super::attachments::visitor_upload, super::attachments::visitor_download,
        super::attachments::staff_upload, super::attachments::staff_download,
        super::notes::list_notes, super::notes::add_note, super::notes::list_canned,
        super::notes::create_canned, super::notes::replace_canned,
        super::notes::delete_canned,
        super::key_packages::publish, super::key_packages::stock,
        super::key_packages::visitor_take, super::key_packages::staff_take,
        super::key_packages::publish_history, super::key_packages::history_stock,
        super::key_packages::visitor_history_member, super::key_packages::staff_history_member,
        super::key_packages::rotation_member,
        super::sealing_keys::publish, super::sealing_keys::list,
        super::widget::get_widget, super::widget::set_widget, super::widget::get_origins,
        super::widget::set_origins,
        super::devices::request, super::devices::own_list, super::devices::own_revoke,
        super::devices::own_wraps, super::devices::list, super::devices::certify,
        super::devices::revoke, super::devices::add_wraps,
    ),
    // The WebSocket frames are not HTTP bodies: they are listed here so that the document
    // describes the whole wire protocol and the web clients' types can be generated from it
    // (web/shared/protocol/generated.ts). Their dependencies (ReadyInfo, WireParty, …) follow.
    components(schemas(
        sealdesk_proto::ErrorBody, sealdesk_proto::ErrorCode,
        ws::ClientFrame, ws::ServerFrame, ws::SystemEvent, ws::CloseCode, ws::Subprotocol,
        ws::ProtocolVersion,
    )),
    modifiers(&Security),
    tags(
        (name = "system", description = "Health, readiness, version and this document"),
        (name = "auth", description = "Login (password, passkey), logout, session, re-authentication"),
        (name = "account", description = "The caller's sessions, second factors, passkeys and password"),
        (name = "staff", description = "Staff administration and invitations"),
        (name = "admin", description = "Audit log, teams, API tokens, team and archive keys"),
        (name = "widget", description = "The widget's public configuration, visitor tickets, the visitor's conversations and their attachments"),
        (name = "conversations", description = "Queues, history, claim, transfer, join, close; attachments, internal notes, canned responses; availability; team membership and routing"),
    )
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
