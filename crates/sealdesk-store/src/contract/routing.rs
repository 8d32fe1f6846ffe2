//! Contract cases for routing: team membership, availability and the loads automatic
//! assignment reads, and each team's assignment mode.

use sealdesk_core::domain::ConversationChange;
use sealdesk_core::routing::{AgentLoad, AssignmentMode, Availability, DEFAULT_CAPACITY};
use sealdesk_proto::{StaffId, TeamId};

use super::assert_not_found;
use super::data::ms;
use super::desk::Desk;
use crate::Store;

/// Membership is idempotent, listed both ways, scoped to the tenant, and removable once.
pub async fn team_membership_is_idempotent_and_scoped(store: &dyn Store) {
    let desk = Desk::new(store).await;
    store
        .add_team_member(desk.acme, desk.sales, desk.omar)
        .await
        .unwrap();
    store
        .add_team_member(desk.acme, desk.sales, desk.omar)
        .await
        .unwrap();
    store
        .add_team_member(desk.acme, desk.sales, desk.ana)
        .await
        .unwrap();
    store
        .add_team_member(desk.acme, desk.support, desk.omar)
        .await
        .unwrap();
    let mut sales = vec![desk.omar, desk.ana];
    sales.sort();
    assert_eq!(
        store.team_members(desk.acme, desk.sales).await.unwrap(),
        sales
    );
    let mut omars = vec![desk.sales, desk.support];
    omars.sort();
    assert_eq!(
        store.teams_of_staff(desk.acme, desk.omar).await.unwrap(),
        omars
    );

    // Another tenant's team or staff member: NotFound, and nothing is listed across tenants.
    assert_not_found(store.add_team_member(desk.acme, desk.help, desk.omar).await);
    assert_not_found(store.add_team_member(desk.acme, desk.sales, desk.zoe).await);
    assert_not_found(
        store
            .add_team_member(desk.globex, desk.sales, desk.omar)
            .await,
    );
    let unknown_team = TeamId::from_uuid(uuid::Uuid::from_u128(5));
    assert_not_found(
        store
            .add_team_member(desk.acme, unknown_team, desk.omar)
            .await,
    );
    assert!(
        store
            .team_members(desk.globex, desk.sales)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .teams_of_staff(desk.globex, desk.omar)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .remove_team_member(desk.globex, desk.sales, desk.omar)
            .await
            .unwrap()
    );

    assert!(
        store
            .remove_team_member(desk.acme, desk.sales, desk.omar)
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_team_member(desk.acme, desk.sales, desk.omar)
            .await
            .unwrap()
    );
    assert_eq!(
        store.team_members(desk.acme, desk.sales).await.unwrap(),
        [desk.ana]
    );
    assert_eq!(
        store.teams_of_staff(desk.acme, desk.omar).await.unwrap(),
        [desk.support]
    );
}

/// Availability reads back as last set, per tenant; never set reads as nothing.
pub async fn availability_reads_back(store: &dyn Store) {
    let desk = Desk::new(store).await;
    assert_eq!(
        store.availability(desk.acme, desk.omar).await.unwrap(),
        None
    );
    for (availability, capacity) in [(Availability::Online, 3), (Availability::Away, 7)] {
        store
            .set_availability(desk.acme, desk.omar, availability, capacity, desk.tick())
            .await
            .unwrap();
        assert_eq!(
            store.availability(desk.acme, desk.omar).await.unwrap(),
            Some((availability, capacity))
        );
    }
    assert_eq!(
        store.availability(desk.globex, desk.omar).await.unwrap(),
        None
    );
}

/// A team's loads list its enabled members: availability (offline with the default capacity
/// until set), the number of conversations assigned to them in any team, and when they were
/// last given one.
pub async fn team_loads_count_assigned_conversations(store: &dyn Store) {
    let desk = Desk::new(store).await;
    for staff in [desk.omar, desk.ana, desk.ivan] {
        store
            .add_team_member(desk.acme, desk.sales, staff)
            .await
            .unwrap();
    }
    store
        .add_team_member(desk.acme, desk.support, desk.omar)
        .await
        .unwrap();
    let load = |staff: StaffId| async move {
        let loads = store.team_loads(desk.acme, desk.sales).await.unwrap();
        assert!(
            loads.iter().all(|l| l.staff_id != desk.ivan),
            "disabled members are left out"
        );
        loads.into_iter().find(|l| l.staff_id == staff).unwrap()
    };
    assert_eq!(
        load(desk.omar).await,
        AgentLoad {
            staff_id: desk.omar,
            availability: Availability::Offline,
            capacity: DEFAULT_CAPACITY,
            active: 0,
            last_assigned_at: None,
        }
    );
    let set_at = desk.tick();
    store
        .set_availability(desk.acme, desk.omar, Availability::Online, 3, set_at)
        .await
        .unwrap();
    store
        .set_availability(desk.acme, desk.ana, Availability::Away, 7, desk.tick())
        .await
        .unwrap();
    assert_not_found(
        store
            .set_availability(desk.acme, desk.zoe, Availability::Online, 3, desk.tick())
            .await,
    );

    // Omar gets one conversation in sales and one in support, then loses one to a close and
    // one to a transfer; Ana gets the transferred one.
    let claim = |c, agent| {
        let change = ConversationChange::claim(agent, desk.tick());
        async move {
            store
                .change_conversation(desk.acme, c, &change, None)
                .await
                .unwrap();
        }
    };
    let a = desk.open(store, desk.acme, desk.sales, desk.alice).await.id;
    let b = desk.open(store, desk.acme, desk.support, desk.bob).await.id;
    let c = desk.open(store, desk.acme, desk.sales, desk.bob).await.id;
    claim(a, desk.omar).await;
    claim(b, desk.omar).await;
    let last_claim = desk.now();
    claim(c, desk.omar).await;
    let omar = load(desk.omar).await;
    assert_eq!(omar.availability, Availability::Online);
    assert_eq!((omar.capacity, omar.active), (3, 3));
    assert_eq!(omar.last_assigned_at, Some(ms(last_claim)));
    assert!(!omar.has_room());

    let close = ConversationChange::close(desk.tick());
    store
        .change_conversation(desk.acme, a, &close, None)
        .await
        .unwrap();
    let handover_at = desk.tick();
    let handover = ConversationChange::transfer_to_agent(desk.omar, desk.ana, handover_at);
    store
        .change_conversation(desk.acme, b, &handover, None)
        .await
        .unwrap();
    let omar = load(desk.omar).await;
    assert_eq!(omar.active, 1);
    assert_eq!(omar.last_assigned_at, Some(ms(last_claim)));
    let ana = load(desk.ana).await;
    assert_eq!(
        ana,
        AgentLoad {
            staff_id: desk.ana,
            availability: Availability::Away,
            capacity: 7,
            active: 1,
            last_assigned_at: Some(ms(handover_at)),
        }
    );
    // Availability changes keep the assignment history.
    store
        .set_availability(desk.acme, desk.ana, Availability::Online, 2, desk.tick())
        .await
        .unwrap();
    let ana = load(desk.ana).await;
    assert_eq!((ana.availability, ana.capacity), (Availability::Online, 2));
    assert_eq!(ana.last_assigned_at, Some(ms(handover_at)));

    assert!(
        store
            .team_loads(desk.globex, desk.sales)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .team_loads(desk.acme, desk.help)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A team's assignment mode is the default until set; only the tenant's teams have one.
pub async fn assignment_mode_defaults_and_round_trips(store: &dyn Store) {
    let desk = Desk::new(store).await;
    assert_eq!(
        store.assignment_mode(desk.acme, desk.sales).await.unwrap(),
        AssignmentMode::default()
    );
    for mode in AssignmentMode::ALL {
        store
            .set_assignment_mode(desk.acme, desk.sales, mode)
            .await
            .unwrap();
        assert_eq!(
            store.assignment_mode(desk.acme, desk.sales).await.unwrap(),
            mode
        );
    }
    store
        .set_assignment_mode(desk.acme, desk.support, AssignmentMode::Manual)
        .await
        .unwrap();
    assert_eq!(
        store.assignment_mode(desk.acme, desk.sales).await.unwrap(),
        AssignmentMode::RoundRobin
    );
    assert_not_found(store.assignment_mode(desk.acme, desk.help).await);
    assert_not_found(
        store
            .set_assignment_mode(desk.acme, desk.help, AssignmentMode::Manual)
            .await,
    );
    assert_eq!(
        store.assignment_mode(desk.globex, desk.help).await.unwrap(),
        AssignmentMode::default()
    );
}
