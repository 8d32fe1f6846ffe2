//! Delivery of a connection's mailbox: committed entries in order and exactly once (a gap is
//! filled from the log), ephemeral frames and notices as they come, access re-checks after a
//! routing change, and the resync after events were lost to a full mailbox.

use axum::extract::ws::Message;
use sealdesk_core::domain::{ConversationState, LogEntry};
use sealdesk_proto::ConversationId;
use sealdesk_proto::ws::{ServerFrame, close};

use super::{CATCH_UP_PAGE, Closing, Conn, EVENT_BATCH, Step, codec};
use crate::app::conversations::{self, Access};
use crate::hub::{Event, Mailbox, Topic};

impl Conn {
    /// Handles `first` and up to [`EVENT_BATCH`] queued events, then flushes once.
    pub(super) async fn on_events(&mut self, first: Event, mailbox: &mut Mailbox) -> Step {
        self.on_event(first).await?;
        let mut batch = 1;
        while batch < EVENT_BATCH {
            let Ok(event) = mailbox.rx.try_recv() else {
                break;
            };
            self.on_event(event).await?;
            batch += 1;
        }
        self.flush().await
    }

    async fn on_event(&mut self, event: Event) -> Step {
        match event {
            Event::Entry(committed) => {
                let c = committed.entry.conversation_id;
                let Some(sub) = self.subs.get(&c) else {
                    return Ok(());
                };
                let seq = committed.entry.seq;
                if seq <= sub.cursor {
                    return Ok(());
                }
                if seq > sub.cursor + 1 {
                    // A gap: fill it from the log (which includes this entry).
                    return self.catch_up(c).await;
                }
                self.write(Message::Text(committed.frame())).await?;
                if let Some(sub) = self.subs.get_mut(&c) {
                    sub.cursor = seq;
                }
                Ok(())
            }
            Event::Ephemeral { frame, .. } | Event::Notice(frame) => {
                self.write(Message::Text(frame)).await
            }
            Event::Access(c) => self.recheck(c).await,
            Event::Membership(tenant) => self.on_membership(tenant).await,
        }
    }

    /// Re-reads who may do what with `c` after an assignment change.
    pub(super) async fn recheck(&mut self, c: ConversationId) -> Step {
        if !self.subs.contains_key(&c) {
            return Ok(());
        }
        let access = match conversations::readable(&self.state, &self.identity.caller, c).await {
            Ok((conversation, access))
                if conversation.state != ConversationState::Closed || access.read =>
            {
                access
            }
            _ => Access::default(),
        };
        if access.read {
            if let Some(sub) = self.subs.get_mut(&c) {
                sub.access = access;
            }
            return Ok(());
        }
        self.subs.remove(&c);
        self.state
            .hub()
            .unsubscribe(Topic::Conversation(c), self.inbox.id());
        self.write_frame(&ServerFrame::Unsubscribed { c }).await
    }

    /// Sends every entry after the cursor from the log.
    pub(super) async fn catch_up(&mut self, c: ConversationId) -> Step {
        let tenant = self.identity.caller.tenant();
        loop {
            let Some(cursor) = self.subs.get(&c).map(|s| s.cursor) else {
                return Ok(());
            };
            let page: Vec<LogEntry> = match self
                .state
                .store()
                .read_log(tenant, c, cursor, CATCH_UP_PAGE)
                .await
            {
                Ok(page) => page,
                Err(sealdesk_store::StoreError::NotFound) => {
                    // Deleted (retention or erasure) while subscribed.
                    self.subs.remove(&c);
                    self.state
                        .hub()
                        .unsubscribe(Topic::Conversation(c), self.inbox.id());
                    return self.write_frame(&ServerFrame::Unsubscribed { c }).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "catch-up read failed");
                    return Err(Closing {
                        code: close::INTERNAL,
                        reason: "storage unavailable; reconnect and resume",
                    });
                }
            };
            let Some(last) = page.last().map(|e| e.seq) else {
                return Ok(());
            };
            let full = page.len() == CATCH_UP_PAGE as usize;
            for entry in &page {
                self.write(Message::Text(codec::entry_frame(entry))).await?;
            }
            if let Some(sub) = self.subs.get_mut(&c) {
                sub.cursor = last;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// After events were lost to a full mailbox: tell the client and catch every
    /// subscription up from the log.
    pub(super) async fn resync_all(&mut self) -> Step {
        // A lost event may have been a membership change: read the teams again first.
        self.on_membership(self.identity.caller.tenant()).await?;
        let conversations: Vec<(ConversationId, u64)> =
            self.subs.iter().map(|(c, s)| (*c, s.cursor)).collect();
        for (c, after) in conversations {
            self.write_frame(&ServerFrame::Resync { c, after }).await?;
            self.recheck(c).await?;
            self.catch_up(c).await?;
        }
        self.flush().await
    }
}
