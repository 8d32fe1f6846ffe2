//! The delivery service's moving parts, assembled once per process: the hub of local
//! subscriptions, the bus handlers publish on, and the group committer that appends log
//! entries and hands committed ones to the bus.

use std::sync::Arc;

use sealdesk_store::DynStore;
use sealdesk_store::group_commit::{CommitConfig, GroupCommitter};

use crate::abuse::Abuse;
use crate::groups::GroupViews;
use crate::hub::{Bus, Hub, HubSink, LocalBus};

/// Hub, bus and committer.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// This node's subscriptions.
    pub hub: Arc<Hub>,
    /// Where events are published.
    pub bus: Arc<dyn Bus>,
    /// The write path of the logs.
    pub committer: GroupCommitter,
    /// Abuse-control state (rate limits, connection slots, spent challenges).
    pub abuse: Arc<Abuse>,
    /// The MLS validation views of the conversations' groups.
    pub groups: Arc<GroupViews>,
    /// Conversations known to be routed already.
    pub routed: Arc<crate::routed::Routed>,
}

impl Delivery {
    /// Starts the commit task (on the current tokio runtime) over `store`, publishing on a
    /// single-node bus.
    pub fn start(store: &DynStore, config: CommitConfig) -> Self {
        let hub = Arc::new(Hub::new());
        let bus: Arc<dyn Bus> = Arc::new(LocalBus::new(Arc::clone(&hub)));
        let log: Arc<dyn sealdesk_store::LogRepo> = store.clone();
        let (committer, _task) =
            GroupCommitter::spawn(log, Arc::new(HubSink::new(Arc::clone(&bus))), config);
        crate::metrics::watch_delivery(committer.stats(), &hub);
        Self {
            hub,
            bus,
            committer,
            abuse: Arc::new(Abuse::new()),
            groups: Arc::new(GroupViews::default()),
            routed: Arc::new(crate::routed::Routed::default()),
        }
    }
}
