//! Thin HTTP handlers, one module per resource. Each route is listed in [`api_routes`], which
//! builds the router and is checked against the OpenAPI document by a test.

pub mod account;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod conversations;
pub mod devices;
pub mod key_packages;
pub mod notes;
pub mod openapi;
pub mod passkeys;
pub mod sealing_keys;
pub mod staff;
pub mod system;
pub mod visitors;
pub mod widget;

use axum::Router;
use axum::routing::{MethodRouter, delete, get, post, put};

use crate::state::AppState;

/// Every route of the public listener: (path, handlers).
pub fn api_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    let mut routes = vec![
        ("/healthz", get(system::healthz)),
        ("/readyz", get(system::readyz)),
        ("/api/version", get(system::version)),
        ("/api/openapi.json", get(openapi::openapi_json)),
        ("/api/auth/login", post(auth::login)),
        ("/api/auth/logout", post(auth::logout)),
        ("/api/auth/session", get(auth::session)),
        ("/api/auth/reauth", post(auth::reauth)),
        ("/api/auth/reauth/passkey", post(auth::reauth_passkey_start)),
        ("/api/auth/passkey/start", post(passkeys::login_start)),
        ("/api/auth/passkey/finish", post(passkeys::login_finish)),
        ("/api/account/sessions", get(account::list_sessions)),
        (
            "/api/account/sessions/revoke-others",
            post(account::revoke_other_sessions),
        ),
        (
            "/api/account/sessions/{id}",
            delete(account::revoke_session),
        ),
        (
            "/api/account/totp",
            post(account::totp_enroll).delete(account::totp_remove),
        ),
        ("/api/account/totp/confirm", post(account::totp_confirm)),
        (
            "/api/account/recovery-codes",
            post(account::regenerate_recovery_codes),
        ),
        ("/api/account/password", post(account::change_password)),
        ("/api/account/passkeys", get(passkeys::list)),
        (
            "/api/account/passkeys/register/start",
            post(passkeys::register_start),
        ),
        (
            "/api/account/passkeys/register/finish",
            post(passkeys::register_finish),
        ),
        ("/api/account/passkeys/{id}", delete(passkeys::remove)),
        ("/api/invitations/accept", post(staff::accept)),
        ("/api/tenants/{tenant}/staff", get(staff::list)),
        ("/api/tenants/{tenant}/invitations", post(staff::invite)),
        (
            "/api/tenants/{tenant}/staff/{staff}/role",
            put(staff::set_role),
        ),
        (
            "/api/tenants/{tenant}/staff/{staff}/disable",
            post(staff::disable),
        ),
        (
            "/api/tenants/{tenant}/staff/{staff}/enable",
            post(staff::enable),
        ),
        (
            "/api/tenants/{tenant}/staff/{staff}/revoke-sessions",
            post(staff::revoke_sessions),
        ),
        ("/api/tenants/{tenant}/audit", get(admin::audit_log)),
        (
            "/api/tenants/{tenant}/settings",
            get(admin::get_settings).put(admin::put_settings),
        ),
        (
            "/api/tenants/{tenant}/teams",
            get(admin::teams).post(admin::create_team),
        ),
        (
            "/api/tenants/{tenant}/api-tokens",
            post(admin::create_api_token),
        ),
        (
            "/api/tenants/{tenant}/api-tokens/{id}",
            delete(admin::revoke_api_token),
        ),
    ];
    routes.extend(chat_routes());
    routes.extend(content_routes());
    routes
}

/// The routes of conversations: the WebSocket, the widget's endpoints and the staff's.
fn chat_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/api/ws", get(crate::ws::upgrade)),
        (
            "/api/widget/{tenant}/{team}/config",
            widget(get(visitors::widget_config)),
        ),
        (
            "/api/widget/{tenant}/{team}/tickets",
            widget(post(visitors::ticket)),
        ),
        (
            "/api/widget/{tenant}/{team}/challenge",
            widget(get(visitors::challenge)),
        ),
        (
            "/api/visitor/conversations",
            widget(get(visitors::list).post(visitors::open)),
        ),
        (
            "/api/visitor/conversations/{id}/close",
            widget(post(visitors::close)),
        ),
        (
            "/api/visitor/conversations/{id}/erasure",
            widget(post(visitors::request_erasure)),
        ),
        (
            "/api/tenants/{tenant}/conversations",
            get(conversations::list),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}",
            get(conversations::get),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}/entries",
            get(conversations::entries),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}/claim",
            post(conversations::claim),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}/transfer",
            post(conversations::transfer),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}/join",
            post(conversations::join),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}/close",
            post(conversations::close),
        ),
        (
            "/api/account/availability",
            get(conversations::availability).put(conversations::set_availability),
        ),
        (
            "/api/tenants/{tenant}/teams/{team}/members",
            get(conversations::members),
        ),
        (
            "/api/tenants/{tenant}/teams/{team}/members/{staff}",
            put(conversations::add_member).delete(conversations::remove_member),
        ),
        (
            "/api/tenants/{tenant}/teams/{team}/routing",
            put(conversations::set_routing),
        ),
        (
            "/api/tenants/{tenant}/teams/{team}/identity",
            get(conversations::get_identity).put(conversations::set_identity),
        ),
        (
            "/api/tenants/{tenant}/teams/{team}/widget",
            get(widget::get_widget).put(widget::set_widget),
        ),
        (
            "/api/tenants/{tenant}/widget-origins",
            get(widget::get_origins).put(widget::set_origins),
        ),
        (
            "/api/tenants/{tenant}/visitors/{id}",
            get(conversations::visitor),
        ),
    ]
}

/// Attachments, internal notes and canned responses.
fn content_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    let [visitor_upload, staff_upload] = attachments::UPLOAD_PATHS;
    vec![
        (visitor_upload, widget(post(attachments::visitor_upload))),
        (
            "/api/visitor/conversations/{id}/attachments/{sha256}",
            widget(get(attachments::visitor_download)),
        ),
        (staff_upload, post(attachments::staff_upload)),
        (
            "/api/tenants/{tenant}/conversations/{id}/attachments/{sha256}",
            get(attachments::staff_download),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}/notes",
            get(notes::list_notes).post(notes::add_note),
        ),
        (
            "/api/tenants/{tenant}/teams/{team}/canned-responses",
            get(notes::list_canned).post(notes::create_canned),
        ),
        (
            "/api/tenants/{tenant}/teams/{team}/canned-responses/{id}",
            put(notes::replace_canned).delete(notes::delete_canned),
        ),
        (
            "/api/account/key-packages",
            get(key_packages::stock).post(key_packages::publish),
        ),
        (
            "/api/visitor/conversations/{id}/key-packages",
            widget(post(key_packages::visitor_take)),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}/key-packages",
            post(key_packages::staff_take),
        ),
        (
            "/api/tenants/{tenant}/teams/{team}/history-pool",
            get(key_packages::history_stock).post(key_packages::publish_history),
        ),
        (
            "/api/visitor/conversations/{id}/history-member",
            widget(post(key_packages::visitor_history_member)),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}/history-member",
            get(key_packages::staff_history_member),
        ),
        (
            "/api/tenants/{tenant}/conversations/{id}/history-member/rotation",
            post(key_packages::rotation_member),
        ),
        (
            "/api/account/devices",
            get(devices::own_list).post(devices::request),
        ),
        ("/api/account/devices/{id}", delete(devices::own_revoke)),
        (
            "/api/account/devices/{id}/key-wraps",
            get(devices::own_wraps),
        ),
        ("/api/tenants/{tenant}/devices", get(devices::list)),
        (
            "/api/tenants/{tenant}/devices/{id}",
            delete(devices::revoke),
        ),
        (
            "/api/tenants/{tenant}/devices/{id}/certificate",
            post(devices::certify),
        ),
        ("/api/tenants/{tenant}/key-wraps", post(devices::add_wraps)),
        (
            "/api/tenants/{tenant}/sealing-keys",
            get(sealing_keys::list).post(sealing_keys::publish),
        ),
    ]
}

/// A widget endpoint: reachable cross-origin (CORS preflight answered, responses readable).
fn widget(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route
        .options(|| async { axum::http::StatusCode::NO_CONTENT })
        .layer(axum::middleware::from_fn(visitors::cors))
}

/// The router with every route and the JSON 404 fallback, before edge layers.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (path, handler) in api_routes() {
        router = router.route(path, handler);
    }
    router.fallback(fallback).with_state(state)
}

/// Files of the built web clients when served, else the JSON 404.
async fn fallback(
    axum::extract::State(state): axum::extract::State<AppState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let web = state.web();
    let demo = web
        .zip(state.demo())
        .and_then(|(web, demo)| crate::web::respond_demo(web, demo, &method, uri.path()));
    demo.or_else(|| web.and_then(|web| crate::web::respond(web, &method, uri.path(), &headers)))
        .unwrap_or_else(|| crate::error::ApiError::NotFound.into_response())
}
