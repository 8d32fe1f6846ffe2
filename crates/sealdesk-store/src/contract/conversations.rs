//! Contract cases for conversations: creation, listing and tenant scoping; guarded changes
//! (claim, transfer, close) with their events; concurrent claims; participants.

use sealdesk_core::domain::{
    AppendOutcome, Conversation, ConversationChange, ConversationState, EntryKind, Party,
};
use sealdesk_proto::{ConversationId, StaffId};

use super::data::ms;
use super::desk::{Desk, visitor};
use super::{assert_conflict, assert_not_found};
use crate::{Constraint, ConversationFilter, DynStore, Store};

/// A new conversation is open, unassigned, with an empty log, and reads back as created.
/// Reopening must name a closed conversation of the same visitor.
pub async fn conversation_create_get_and_reopen(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let new = desk.new_conversation(desk.acme, desk.sales, desk.alice, None);
    let created = store.create_conversation(&new).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(
        (created.tenant_id, created.team_id, created.visitor_id),
        (desk.acme, desk.sales, desk.alice)
    );
    assert_eq!(created.state, ConversationState::Open);
    assert_eq!(created.assignee, None);
    assert_eq!(created.last_seq, 0);
    assert_eq!(created.created_at, ms(new.created_at));
    assert_eq!(created.updated_at, ms(new.created_at));
    assert_eq!(created.closed_at, None);
    assert_eq!(created.reopened_from, None);
    assert_eq!(
        store.get_conversation(desk.acme, new.id).await.unwrap(),
        created
    );
    assert_conflict(
        store.create_conversation(&new).await,
        &Constraint::PrimaryKey,
    );

    // Not closed yet: cannot be reopened.
    let early = desk.new_conversation(desk.acme, desk.sales, desk.alice, Some(new.id));
    assert_not_found(store.create_conversation(&early).await);
    store
        .change_conversation(
            desk.acme,
            new.id,
            &ConversationChange::close(desk.tick()),
            None,
        )
        .await
        .unwrap();
    // Another visitor cannot reopen it.
    let stranger = desk.new_conversation(desk.acme, desk.support, desk.bob, Some(new.id));
    assert_not_found(store.create_conversation(&stranger).await);
    let again = desk.new_conversation(desk.acme, desk.support, desk.alice, Some(new.id));
    let reopened = store.create_conversation(&again).await.unwrap();
    assert_eq!(reopened.reopened_from, Some(new.id));
    assert_eq!(reopened.state, ConversationState::Open);
    assert_eq!(
        store.get_conversation(desk.acme, again.id).await.unwrap(),
        reopened
    );
}

/// Team, visitor and conversation ids of another tenant are `NotFound` everywhere.
pub async fn conversation_is_scoped_to_tenant(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let theirs = desk.open(store, desk.globex, desk.help, desk.gus).await;
    let foreign_team = desk.new_conversation(desk.acme, desk.help, desk.alice, None);
    assert_not_found(store.create_conversation(&foreign_team).await);
    let foreign_visitor = desk.new_conversation(desk.acme, desk.sales, desk.gus, None);
    assert_not_found(store.create_conversation(&foreign_visitor).await);
    let reopen_foreign = desk.new_conversation(desk.acme, desk.sales, desk.alice, Some(theirs.id));
    assert_not_found(store.create_conversation(&reopen_foreign).await);

    let at = desk.tick();
    assert_not_found(store.get_conversation(desk.acme, theirs.id).await);
    assert_not_found(
        store
            .change_conversation(desk.acme, theirs.id, &ConversationChange::close(at), None)
            .await,
    );
    assert_not_found(
        store
            .add_participant(desk.acme, theirs.id, desk.jane, at)
            .await,
    );
    assert_not_found(store.is_participant(desk.acme, theirs.id, desk.jane).await);
    assert_not_found(store.read_log(desk.acme, theirs.id, 0, 10).await);
    assert_not_found(store.list_notes(desk.acme, theirs.id).await);
    let all = ConversationFilter {
        limit: 100,
        ..ConversationFilter::default()
    };
    assert!(
        store
            .list_conversations(desk.acme, &all)
            .await
            .unwrap()
            .is_empty()
    );
    let listed = store.list_conversations(desk.globex, &all).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&theirs));
    // Their conversation is untouched.
    assert_eq!(
        store
            .get_conversation(desk.globex, theirs.id)
            .await
            .unwrap(),
        theirs
    );
}

/// `list_conversations` narrows by every filter field, newest first, with keyset paging.
pub async fn list_conversations_filters_and_pages(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let s1 = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let s2 = desk.open(store, desk.acme, desk.sales, desk.bob).await;
    let p1 = desk.open(store, desk.acme, desk.support, desk.bob).await;
    let s3 = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    desk.open(store, desk.globex, desk.help, desk.gus).await;
    let claim = ConversationChange::claim(desk.omar, desk.tick());
    store
        .change_conversation(desk.acme, s2.id, &claim, None)
        .await
        .unwrap();
    let claim = ConversationChange::claim(desk.ana, desk.tick());
    store
        .change_conversation(desk.acme, p1.id, &claim, None)
        .await
        .unwrap();
    store
        .change_conversation(
            desk.acme,
            s3.id,
            &ConversationChange::queue(desk.tick()),
            None,
        )
        .await
        .unwrap();

    let list = |filter: ConversationFilter| async move {
        let found = store.list_conversations(desk.acme, &filter).await.unwrap();
        found.iter().map(|c| c.id).collect::<Vec<ConversationId>>()
    };
    let all = ConversationFilter {
        limit: 100,
        ..ConversationFilter::default()
    };
    assert_eq!(list(all.clone()).await, [s3.id, p1.id, s2.id, s1.id]);
    let sales = ConversationFilter {
        teams: Some(vec![desk.sales]),
        ..all.clone()
    };
    assert_eq!(list(sales.clone()).await, [s3.id, s2.id, s1.id]);
    let waiting = ConversationFilter {
        states: Some(vec![ConversationState::Open, ConversationState::Queued]),
        ..sales.clone()
    };
    assert_eq!(list(waiting).await, [s3.id, s1.id]);
    let queued = ConversationFilter {
        states: Some(vec![ConversationState::Queued]),
        ..all.clone()
    };
    assert_eq!(list(queued).await, [s3.id]);
    let both_teams = ConversationFilter {
        teams: Some(vec![desk.sales, desk.support]),
        states: Some(vec![ConversationState::Assigned]),
        ..all.clone()
    };
    assert_eq!(list(both_teams).await, [p1.id, s2.id]);
    let omars = ConversationFilter {
        assignee: Some(desk.omar),
        ..all.clone()
    };
    assert_eq!(list(omars).await, [s2.id]);
    let bobs = ConversationFilter {
        visitor: Some(desk.bob),
        ..all.clone()
    };
    assert_eq!(list(bobs).await, [p1.id, s2.id]);
    let no_team = ConversationFilter {
        teams: Some(vec![]),
        ..all.clone()
    };
    assert!(list(no_team).await.is_empty());

    // Keyset paging: two at a time.
    let page = ConversationFilter {
        limit: 2,
        ..all.clone()
    };
    assert_eq!(list(page.clone()).await, [s3.id, p1.id]);
    let next = ConversationFilter {
        before: Some(p1.id),
        ..page
    };
    assert_eq!(list(next.clone()).await, [s2.id, s1.id]);
    let beyond = ConversationFilter {
        before: Some(s1.id),
        ..next
    };
    assert!(list(beyond).await.is_empty());
}

/// Claim, transfers and close each apply only when their guard holds; a refused change writes
/// nothing. Events are appended with the next sequence number in the same transaction.
pub async fn changes_follow_their_guards(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let c = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    let change = |change: ConversationChange, event: bool| {
        let event = event.then(|| desk.event(&c, "{\"event\":\"change\"}"));
        async move {
            store
                .change_conversation(desk.acme, c.id, &change, event.as_ref())
                .await
        }
    };

    let queued_at = desk.tick();
    let (queued, none) = change(ConversationChange::queue(queued_at), false)
        .await
        .unwrap();
    assert_eq!(queued.state, ConversationState::Queued);
    assert_eq!(queued.updated_at, ms(queued_at));
    assert_eq!(none, None);
    assert_conflict(
        change(ConversationChange::queue(desk.tick()), false).await,
        &Constraint::ConversationState,
    );

    // Claims by a disabled agent or another tenant's staff are refused.
    for agent in [desk.ivan, desk.zoe] {
        assert_conflict(
            change(ConversationChange::claim(agent, desk.tick()), true).await,
            &Constraint::ConversationState,
        );
    }
    let claimed_at = desk.tick();
    let (claimed, event) = change(ConversationChange::claim(desk.omar, claimed_at), true)
        .await
        .unwrap();
    assert_eq!(claimed.state, ConversationState::Assigned);
    assert_eq!(claimed.assignee, Some(desk.omar));
    assert_eq!(claimed.last_seq, 1, "the refused claims appended nothing");
    let event = event.unwrap();
    assert_eq!((event.seq, event.kind), (1, EntryKind::System));
    assert_eq!(event.sender, Party::System);
    assert_eq!(
        store.read_log(desk.acme, c.id, 0, 10).await.unwrap(),
        std::slice::from_ref(&event)
    );
    assert_conflict(
        change(ConversationChange::claim(desk.ana, desk.tick()), true).await,
        &Constraint::ConversationState,
    );

    // Only the current assignee's transfer applies.
    let wrong = ConversationChange::transfer_to_agent(desk.ana, desk.jane, desk.tick());
    assert_conflict(change(wrong, true).await, &Constraint::ConversationState);
    let to_disabled = ConversationChange::transfer_to_agent(desk.omar, desk.ivan, desk.tick());
    assert_conflict(
        change(to_disabled, true).await,
        &Constraint::ConversationState,
    );
    let handover = ConversationChange::transfer_to_agent(desk.omar, desk.ana, desk.tick());
    let (moved, event) = change(handover, true).await.unwrap();
    assert_eq!(moved.assignee, Some(desk.ana));
    assert_eq!(moved.state, ConversationState::Assigned);
    assert_eq!(event.unwrap().seq, 2);

    // Back to a queue: only a team of the tenant.
    let foreign = ConversationChange::transfer_to_team(Some(desk.ana), desk.help, desk.tick());
    assert_conflict(change(foreign, true).await, &Constraint::ConversationState);
    let stale = ConversationChange::transfer_to_team(None, desk.support, desk.tick());
    assert_conflict(change(stale, true).await, &Constraint::ConversationState);
    let requeue = ConversationChange::transfer_to_team(Some(desk.ana), desk.support, desk.tick());
    let (requeued, _) = change(requeue, false).await.unwrap();
    assert_eq!(requeued.state, ConversationState::Queued);
    assert_eq!((requeued.team_id, requeued.assignee), (desk.support, None));
    assert_eq!(requeued.last_seq, 2);

    let closed_at = desk.tick();
    let (closed, event) = change(ConversationChange::close(closed_at), true)
        .await
        .unwrap();
    assert_eq!(closed.state, ConversationState::Closed);
    assert_eq!(closed.closed_at, Some(ms(closed_at)));
    assert_eq!(closed.updated_at, ms(closed_at));
    assert_eq!(closed.team_id, desk.support);
    assert_eq!(event.unwrap().seq, 3);
    assert_conflict(
        change(ConversationChange::close(desk.tick()), true).await,
        &Constraint::ConversationState,
    );
    assert_conflict(
        change(ConversationChange::claim(desk.omar, desk.tick()), true).await,
        &Constraint::ConversationState,
    );
    let stored = store.get_conversation(desk.acme, c.id).await.unwrap();
    assert_eq!(stored, closed);
    let log = store.read_log(desk.acme, c.id, 0, 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
}

/// A staff member is a participant once added (idempotently) or while assigned.
pub async fn participants_include_the_assignee(store: &dyn Store) {
    let desk = Desk::new(store).await;
    let c = desk.open(store, desk.acme, desk.sales, desk.alice).await;
    for staff in [desk.jane, desk.omar, desk.ana] {
        assert!(!store.is_participant(desk.acme, c.id, staff).await.unwrap());
    }
    let claim = ConversationChange::claim(desk.omar, desk.tick());
    store
        .change_conversation(desk.acme, c.id, &claim, None)
        .await
        .unwrap();
    assert!(
        store
            .is_participant(desk.acme, c.id, desk.omar)
            .await
            .unwrap()
    );
    store
        .add_participant(desk.acme, c.id, desk.jane, desk.tick())
        .await
        .unwrap();
    store
        .add_participant(desk.acme, c.id, desk.jane, desk.tick())
        .await
        .unwrap();
    assert!(
        store
            .is_participant(desk.acme, c.id, desk.jane)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_participant(desk.acme, c.id, desk.ana)
            .await
            .unwrap()
    );
    assert_not_found(
        store
            .add_participant(desk.acme, c.id, desk.zoe, desk.tick())
            .await,
    );
    assert!(
        !store
            .is_participant(desk.acme, c.id, desk.zoe)
            .await
            .unwrap()
    );
    let other = desk.open(store, desk.acme, desk.sales, desk.bob).await;
    assert!(
        !store
            .is_participant(desk.acme, other.id, desk.jane)
            .await
            .unwrap()
    );
    let unknown = StaffId::from_uuid(uuid::Uuid::from_u128(99));
    assert_not_found(
        store
            .add_participant(desk.acme, c.id, unknown, desk.tick())
            .await,
    );
}

/// Many agents claim the same queued conversations at once, each from its own task: every
/// time exactly one wins, the others get a `ConversationState` conflict, and the log holds
/// exactly the winner's event.
pub async fn concurrent_claims_have_one_winner(store: DynStore) {
    const AGENTS: usize = 12;
    let desk = Desk::new(store.as_ref()).await;
    let mut agents = vec![desk.jane, desk.omar, desk.ana];
    for i in agents.len()..AGENTS {
        let staff = desk.agent(desk.acme, &format!("agent{i}@acme.example"));
        agents.push(store.create_staff(&staff).await.unwrap().id);
    }
    for round in 0..4 {
        let c = desk
            .open(store.as_ref(), desk.acme, desk.sales, desk.alice)
            .await;
        let queue = ConversationChange::queue(desk.tick());
        store
            .change_conversation(desk.acme, c.id, &queue, None)
            .await
            .unwrap();
        let at = desk.tick();
        let tasks: Vec<_> = agents
            .iter()
            .map(|&agent| {
                let store = DynStore::clone(&store);
                let event = desk.event(&c, &format!("{{\"claimed_by\":\"{agent}\"}}"));
                let (tenant, id) = (desk.acme, c.id);
                tokio::spawn(async move {
                    let change = ConversationChange::claim(agent, at);
                    let result = store
                        .change_conversation(tenant, id, &change, Some(&event))
                        .await;
                    (agent, result)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            let (agent, result) = task.await.unwrap();
            match result {
                Ok((conversation, event)) => {
                    assert_eq!(conversation.assignee, Some(agent));
                    assert_eq!(event.unwrap().seq, 1);
                    winners.push(agent);
                }
                Err(e) => assert_conflict::<()>(Err(e), &Constraint::ConversationState),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: one winner, got {winners:?}"
        );
        let stored = store.get_conversation(desk.acme, c.id).await.unwrap();
        assert_eq!(stored.assignee, Some(winners[0]));
        assert_eq!(stored.last_seq, 1);
        let log = store.read_log(desk.acme, c.id, 0, 100).await.unwrap();
        let expected = format!("{{\"claimed_by\":\"{}\"}}", winners[0]);
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].payload, expected.as_bytes());
    }
}

/// Appends and a close racing on one conversation: every append acknowledged as `Appended`
/// is in the log, in order, before the close event; none lands after it.
pub async fn appends_racing_a_close_never_follow_it(store: DynStore) {
    let desk = Desk::new(store.as_ref()).await;
    let c: Conversation = desk
        .open(store.as_ref(), desk.acme, desk.sales, desk.alice)
        .await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = DynStore::clone(&store);
            let entry = desk.entry(&c, visitor(desk.alice), Some(&format!("m{i}")), b"hi");
            tokio::spawn(async move { store.append_batch(&[entry]).await.unwrap() })
        })
        .collect();
    let close = ConversationChange::close(desk.tick());
    let closing = {
        let store = DynStore::clone(&store);
        let event = desk.event(&c, "{\"event\":\"closed\"}");
        let (tenant, id) = (desk.acme, c.id);
        tokio::spawn(async move {
            store
                .change_conversation(tenant, id, &close, Some(&event))
                .await
                .unwrap()
        })
    };
    let mut appended = 0;
    for task in tasks {
        match task.await.unwrap().as_slice() {
            [AppendOutcome::Appended(_)] => appended += 1,
            [AppendOutcome::Closed] => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    let (_, event) = closing.await.unwrap();
    let close_seq = event.unwrap().seq;
    assert_eq!(
        close_seq,
        appended + 1,
        "the close event follows every append"
    );
    let log = store.read_log(desk.acme, c.id, 0, 100).await.unwrap();
    assert_eq!(log.len() as u64, close_seq);
    assert_eq!(log.last().unwrap().kind, EntryKind::System);
}
