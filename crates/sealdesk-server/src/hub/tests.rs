use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use sealdesk_core::domain::{EntryKind, LogEntry, Party};
use sealdesk_proto::{ConversationId, StaffId, TenantId};
use time::macros::datetime;
use uuid::Uuid;

use super::*;

fn conv(n: u128) -> ConversationId {
    ConversationId::from_uuid(Uuid::from_u128(n))
}

fn entry(c: ConversationId, seq: u64) -> Event {
    Event::Entry(Arc::new(CommittedEntry::new(LogEntry {
        tenant_id: TenantId::from_uuid(Uuid::from_u128(1)),
        conversation_id: c,
        seq,
        sender: Party::System,
        kind: EntryKind::System,
        client_msg_id: None,
        payload: Bytes::from_static(b"{}"),
        created_at: datetime!(2026-01-01 0:00 UTC),
    })))
}

fn seq_of(event: &Event) -> u64 {
    match event {
        Event::Entry(e) => e.entry.seq,
        other => panic!("not an entry: {other:?}"),
    }
}

#[test]
fn dispatch_reaches_every_subscriber_of_the_topic_only() {
    let hub = Hub::new();
    let (a, mut a_box) = hub.mailbox(8);
    let (b, mut b_box) = hub.mailbox(8);
    let (c, mut c_box) = hub.mailbox(8);
    hub.subscribe(Topic::Conversation(conv(1)), &a);
    hub.subscribe(Topic::Conversation(conv(1)), &b);
    hub.subscribe(Topic::Conversation(conv(1)), &b);
    hub.subscribe(Topic::Conversation(conv(2)), &c);
    assert_eq!(hub.subscribers(Topic::Conversation(conv(1))), 2);
    assert_eq!(
        hub.dispatch(Topic::Conversation(conv(1)), &entry(conv(1), 1)),
        2
    );
    assert_eq!(seq_of(&a_box.rx.try_recv().unwrap()), 1);
    assert_eq!(seq_of(&b_box.rx.try_recv().unwrap()), 1);
    assert!(
        b_box.rx.try_recv().is_err(),
        "subscribing twice must not deliver twice"
    );
    assert!(c_box.rx.try_recv().is_err());
    assert_eq!(
        hub.dispatch(
            Topic::Staff(StaffId::from_uuid(Uuid::nil())),
            &entry(conv(1), 2)
        ),
        0
    );
}

#[test]
fn unsubscribe_stops_delivery_and_forgets_empty_topics() {
    let hub = Hub::new();
    let (a, mut a_box) = hub.mailbox(8);
    let topic = Topic::Conversation(conv(1));
    hub.subscribe(topic, &a);
    hub.unsubscribe(topic, a.id());
    assert_eq!(hub.subscribers(topic), 0);
    assert_eq!(hub.dispatch(topic, &entry(conv(1), 1)), 0);
    assert!(a_box.rx.try_recv().is_err());
}

#[test]
fn a_full_mailbox_marks_the_connection_lagged_for_entries_only() {
    let hub = Hub::new();
    let (a, mut a_box) = hub.mailbox(1);
    let topic = Topic::Conversation(conv(1));
    hub.subscribe(topic, &a);
    assert_eq!(hub.dispatch(topic, &entry(conv(1), 1)), 1);
    let typing = Event::Ephemeral {
        origin: 999,
        frame: Utf8Bytes::from_static("{}"),
    };
    assert_eq!(hub.dispatch(topic, &typing), 0);
    assert!(!a_box.take_lagged(), "a lost ephemeral frame is not a lag");
    assert_eq!(hub.dispatch(topic, &entry(conv(1), 2)), 0);
    assert!(a_box.take_lagged());
    assert!(!a_box.take_lagged(), "the flag clears once read");
    assert_eq!(seq_of(&a_box.rx.try_recv().unwrap()), 1);
    assert_eq!(hub.stats().lagged.load(Ordering::Relaxed), 1);
}

#[test]
fn ephemeral_frames_are_not_echoed_to_their_sender() {
    let hub = Hub::new();
    let (a, mut a_box) = hub.mailbox(8);
    let (b, mut b_box) = hub.mailbox(8);
    let topic = Topic::Conversation(conv(1));
    hub.subscribe(topic, &a);
    hub.subscribe(topic, &b);
    let typing = Event::Ephemeral {
        origin: a.id(),
        frame: Utf8Bytes::from_static(r#"{"t":"typing"}"#),
    };
    assert_eq!(hub.dispatch(topic, &typing), 1);
    assert!(a_box.rx.try_recv().is_err());
    assert!(matches!(
        b_box.rx.try_recv().unwrap(),
        Event::Ephemeral { .. }
    ));
}

#[test]
fn committed_entries_encode_their_frame_once() {
    let Event::Entry(committed) = entry(conv(7), 3) else {
        unreachable!()
    };
    let first = committed.frame();
    let second = committed.frame();
    assert_eq!(first, second);
    assert_eq!(first.as_str().as_ptr(), second.as_str().as_ptr());
    assert!(first.as_str().contains(r#""seq":3"#));
}
