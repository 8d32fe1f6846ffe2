//! The Sealdesk server as a library: configuration, start-up, the axum application and the
//! accept loop. `build()` assembles the application for a given state; `startup::bind()` and
//! `Bound::run()` serve it. Tests use the same path through `sealdesk-testkit`.
//!
//! Only this crate uses axum. It must not choose a storage backend by itself beyond what the
//! configuration names, and handlers stay thin: rules live in `sealdesk-core`.

pub mod abuse;
pub mod app;
pub mod auth;
pub mod blobs;
pub mod config;
pub mod datadir;
pub mod delivery;
pub mod demo_page;
pub mod error;
pub mod groups;
pub(crate) mod history_members;
pub mod hub;
pub mod metrics;
pub mod middleware;
pub mod routed;
pub mod routes;
pub mod serve;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod web;
pub mod ws;

pub use config::Config;
pub use error::ApiError;
pub use middleware::EdgeSettings;
pub use state::AppState;

/// The complete application: routes, fallback and every edge layer.
pub fn build(state: AppState, edge: EdgeSettings) -> axum::Router {
    middleware::apply(routes::router(state), edge)
}
