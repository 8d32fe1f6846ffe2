//! Team membership changes on a live staff connection: an admin added the staff member to a
//! team or removed them (`Event::Membership` on their `Topic::Staff`, from any node through the
//! bus). The connection reads its teams again, follows the queues of exactly those teams,
//! checks each subscription's access under them (`unsubscribed` for what it may no longer
//! read: least privilege applied at once, OWASP ASVS 4.0 V4.1.3) and tells the client with a
//! `teams` frame. A resync (events lost to a full mailbox) reads the teams again too.

use std::sync::Arc;

use sealdesk_proto::ws::{ServerFrame, close};
use sealdesk_proto::{ConversationId, TeamId, TenantId};

use super::{Closing, Conn, Step};
use crate::app::conversations::Caller;
use crate::hub::Topic;

impl Conn {
    /// Applies the staff member's current teams in `tenant` to the connection.
    pub(super) async fn on_membership(&mut self, tenant: TenantId) -> Step {
        let Caller::Staff { principal, teams } = &self.identity.caller else {
            return Ok(());
        };
        // Staff ids are unique across tenants, but the event names its tenant anyway: a change
        // in another tenant is never applied to this connection.
        if principal.tenant != tenant {
            return Ok(());
        }
        let (staff, before) = (principal.staff, Arc::clone(teams));
        let now: Arc<[TeamId]> = match self.state.store().teams_of_staff(tenant, staff).await {
            Ok(now) => now.into(),
            Err(e) => {
                tracing::warn!(error = %e, "reading the teams of a staff member failed");
                return Err(Closing {
                    code: close::INTERNAL,
                    reason: "storage unavailable; reconnect and resume",
                });
            }
        };
        if now.len() == before.len() && now.iter().all(|t| before.contains(t)) {
            // Nothing changed (a repeated add; a resync after a full mailbox): nothing to say.
            return Ok(());
        }
        let hub = self.state.hub();
        for team in before.iter().filter(|t| !now.contains(t)) {
            hub.unsubscribe(Topic::Team(*team), self.inbox.id());
        }
        for team in now.iter().filter(|t| !before.contains(t)) {
            hub.subscribe(Topic::Team(*team), &self.inbox);
        }
        if let Caller::Staff { teams, .. } = &mut self.identity.caller {
            *teams = Arc::clone(&now);
        }
        let subscribed: Vec<ConversationId> = self.subs.keys().copied().collect();
        for c in subscribed {
            self.recheck(c).await?;
        }
        self.write_frame(&ServerFrame::Teams {
            teams: now.to_vec(),
        })
        .await
    }
}
