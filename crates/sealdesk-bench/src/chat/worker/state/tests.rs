use super::*;

const C: &str = "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f70";

fn state() -> State {
    let mut s = State::new(&[C.parse().unwrap()]).unwrap();
    s.convs[0].conns = [Some(0), Some(1), Some(2)];
    s.begin_phase(1_000, 1_000, 1_000_000_000).unwrap();
    s
}

fn entry(s: &State, seq: u64, from: Role, sender_seq: u64, msg_id: u64) -> String {
    let m = Message {
        msg_id,
        conv_id: s.convs[0].id,
        conv: 0,
        from,
        seq: sender_seq,
        intended_ns: 2_000,
        actual_ns: 3_000,
    };
    let mut p = String::new();
    m.encode_b64(&mut p);
    format!(
        r#"{{"t":"entry","c":"{C}","seq":{seq},"k":"application","from":{{"kind":"system"}},"id":"{msg_id}","at":1,"p":"{p}"}}"#
    )
}

#[test]
fn a_message_delivered_everywhere_drains_the_state() {
    let mut s = state();
    assert_eq!(s.on_send(0, Role::Visitor, 7, 2_000, 3_000), 1);
    assert!(!s.drained());
    let e = entry(&s, 1, Role::Visitor, 1, 7);
    for seat in [Seat::Visitor, Seat::Agent, Seat::Dashboard] {
        let conv = (seat != Seat::Dashboard).then_some(0);
        assert_eq!(s.on_text(seat, conv, e.as_bytes(), 10_000), After::Nothing);
    }
    let ack = format!(r#"{{"t":"ack","c":"{C}","id":"7","seq":1}}"#);
    s.on_text(Seat::Visitor, Some(0), ack.as_bytes(), 11_000);
    assert!(s.drained());
    let c = &s.counters;
    assert_eq!(
        (
            c.sent,
            c.acked,
            c.delivered,
            c.echoed,
            c.dashboard_delivered
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(s.hists.delivery.len(), 1);
    assert_eq!(
        s.hists.delivery.max(),
        8,
        "10 µs after intended, in µs: {}",
        s.hists.delivery.max()
    );
    assert_eq!(s.undelivered(), 0);
    assert_eq!(s.subscriber_missing(), 0);
    let subscribed = format!(r#"{{"t":"subscribed","c":"{C}","last_seq":0,"state":"assigned"}}"#);
    assert_eq!(
        s.on_text(Seat::Agent, Some(0), subscribed.as_bytes(), 1),
        After::Subscribed
    );
}

#[test]
fn duplicates_gaps_reordering_and_loss_are_counted() {
    let mut s = state();
    for id in 1..=3 {
        s.on_send(0, Role::Agent, id, 2_000, 3_000);
    }
    let e1 = entry(&s, 1, Role::Agent, 1, 1);
    let e2 = entry(&s, 2, Role::Agent, 2, 2);
    let e3 = entry(&s, 3, Role::Agent, 3, 3);
    // The visitor gets 2 before 1 (a gap, then reordering), then 2 again.
    s.on_text(Seat::Visitor, Some(0), e2.as_bytes(), 5_000);
    s.on_text(Seat::Visitor, Some(0), e1.as_bytes(), 5_000);
    s.on_text(Seat::Visitor, Some(0), e2.as_bytes(), 5_000);
    let c = &s.counters;
    assert_eq!(c.seq_gaps, 1);
    assert_eq!(c.seq_repeats, 2);
    assert_eq!(c.reordered, 1);
    assert_eq!(c.duplicates, 1);
    assert_eq!(c.delivered, 2);
    // Message 3 never reaches the visitor.
    assert_eq!(s.undelivered(), 1);
    for id in 1..=3 {
        let ack = format!(r#"{{"t":"ack","c":"{C}","id":"{id}","seq":{id}}}"#);
        s.on_text(Seat::Agent, Some(0), ack.as_bytes(), 6_000);
    }
    // A second ack for one message.
    let again = format!(r#"{{"t":"ack","c":"{C}","id":"3","seq":3}}"#);
    s.on_text(Seat::Agent, Some(0), again.as_bytes(), 6_000);
    assert_eq!(s.counters.ack_unknown, 1);
    // Visitor at 2, agent and dashboard at 0 of 3 acknowledged entries.
    assert_eq!(s.subscriber_missing(), 1 + 3 + 3);
    s.on_text(Seat::Visitor, Some(0), e3.as_bytes(), 7_000);
    assert_eq!(s.undelivered(), 0);
}

#[test]
fn foreign_corrupt_and_error_frames() {
    let mut s = state();
    s.on_send(0, Role::Visitor, 9, 2_000, 3_000);
    let hello = format!(
        r#"{{"t":"entry","c":"{C}","seq":1,"k":"application","from":{{"kind":"system"}},"at":1,"p":"aGVsbG8="}}"#
    );
    s.on_text(Seat::Agent, Some(0), hello.as_bytes(), 1);
    assert_eq!(s.counters.foreign_entries, 1);
    let mut bad = entry(&s, 2, Role::Visitor, 1, 9);
    bad = bad.replacen("\"p\":\"U0RC", "\"p\":\"U0RD", 1);
    s.on_text(Seat::Agent, Some(0), bad.as_bytes(), 1);
    assert_eq!(s.counters.corrupt, 1);
    let other =
        entry(&s, 3, Role::Visitor, 1, 9).replace(C, "0190c2d6-7b1e-7cc3-9a5e-2f3c4d5e6f71");
    s.on_text(Seat::Agent, Some(0), other.as_bytes(), 1);
    assert_eq!(s.counters.corrupt, 2, "an entry for another conversation");
    let err = format!(r#"{{"t":"error","code":"forbidden","message":"no","c":"{C}","id":"9"}}"#);
    s.on_text(Seat::Visitor, Some(0), err.as_bytes(), 1);
    assert_eq!(s.counters.send_errors, 1);
    assert_eq!(s.counters.errors["forbidden"], 1);
    assert_eq!(s.unacked(), 0);
    s.on_text(Seat::Visitor, Some(0), b"not json", 1);
    assert_eq!(s.counters.errors["undecodable frame"], 1);
}

#[test]
fn seq_sets_tell_order_from_duplicates() {
    let mut set = SeqSet::default();
    assert_eq!(set.insert(1), Arrival::InOrder);
    assert_eq!(set.insert(200), Arrival::InOrder);
    assert_eq!(set.insert(100), Arrival::Reordered);
    assert_eq!(set.insert(100), Arrival::Duplicate);
    assert_eq!(set.count(), 3);
}
