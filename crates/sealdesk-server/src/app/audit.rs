//! Recording audit events: to the hash-chained log in the store, and to the `audit` tracing
//! target. Content-free by construction: callers pass reason codes, ids and counts only.

use std::collections::BTreeMap;
use std::net::IpAddr;

use sealdesk_core::audit::{Actor, AuditAction, AuditEvent};
use sealdesk_proto::TenantId;

use crate::state::AppState;

/// An event under construction.
#[derive(Debug)]
pub struct Entry {
    event: AuditEvent,
}

/// Starts an event of `action` by `actor` now.
pub fn event(state: &AppState, action: AuditAction, actor: Actor) -> Entry {
    Entry {
        event: AuditEvent {
            at: state.clock().now(),
            tenant: None,
            actor,
            action,
            target: None,
            details: BTreeMap::new(),
            ip: None,
        },
    }
}

impl Entry {
    /// The tenant concerned.
    #[must_use]
    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.event.tenant = Some(tenant);
        self
    }
    /// The object acted on.
    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.event.target = Some(target.into());
        self
    }
    /// A content-free detail.
    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<String>) -> Self {
        self.event.details.insert(key.to_owned(), value.into());
        self
    }
    /// The source address.
    #[must_use]
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.event.ip = Some(ip.to_string());
        self
    }

    /// Appends the event. A failure to audit is logged loudly but does not undo the action
    /// that already happened (the store is the same database, so this is rare).
    pub async fn record(self, state: &AppState) {
        let e = &self.event;
        tracing::info!(
            target: "audit",
            action = %e.action.as_str(),
            actor = %e.actor.encode(),
            tenant = ?e.tenant.map(|t| t.to_string()),
            target_object = ?e.target,
            details = ?e.details,
            "audit event"
        );
        if let Err(err) = state.store().append_audit(&self.event).await {
            tracing::error!(error = %err, action = %e.action.as_str(), "could not append to the audit log");
        }
    }
}
