//! Routing rules: staff availability and capacity, and which agent automatic assignment
//! picks. Pure functions over data the store gathered; the store makes the choice atomic.

use time::OffsetDateTime;

use sealdesk_proto::StaffId;

/// Whether a staff member takes new conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Availability {
    /// Takes new conversations up to their capacity.
    Online,
    /// Keeps their conversations but gets no new ones.
    Away,
    /// Not working.
    Offline,
}

impl Availability {
    /// Every value.
    pub const ALL: [Availability; 3] = [
        Availability::Online,
        Availability::Away,
        Availability::Offline,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Away => "away",
            Availability::Offline => "offline",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// How a team's queue hands out conversations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AssignmentMode {
    /// Agents claim conversations themselves.
    Manual,
    /// The online agent with the fewest open conversations (ties: the one who waited longest).
    #[default]
    LeastBusy,
    /// Online agents in turn (the one assigned longest ago first), skipping full ones.
    RoundRobin,
}

impl AssignmentMode {
    /// Every mode.
    pub const ALL: [AssignmentMode; 3] = [
        AssignmentMode::Manual,
        AssignmentMode::LeastBusy,
        AssignmentMode::RoundRobin,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentMode::Manual => "manual",
            AssignmentMode::LeastBusy => "least_busy",
            AssignmentMode::RoundRobin => "round_robin",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw)
    }
}

/// The default number of conversations an agent handles at once.
pub const DEFAULT_CAPACITY: u16 = 5;
/// The largest capacity one may set.
pub const MAX_CAPACITY: u16 = 100;

/// One team member as automatic assignment sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentLoad {
    /// The staff member.
    pub staff_id: StaffId,
    /// Their availability.
    pub availability: Availability,
    /// How many conversations they take at once.
    pub capacity: u16,
    /// How many assigned conversations they have now.
    pub active: u32,
    /// When they were last given a conversation (never: `None`).
    pub last_assigned_at: Option<OffsetDateTime>,
}

impl AgentLoad {
    /// Whether the agent can take one more conversation.
    pub fn has_room(&self) -> bool {
        self.availability == Availability::Online && self.active < u32::from(self.capacity)
    }
}

/// The agent automatic assignment gives the next conversation to, or `None` (manual mode,
/// or nobody online with room). Deterministic: ties go to the agent assigned longest ago
/// (never assigned first), then to the smallest id.
pub fn pick_agent(mode: AssignmentMode, agents: &[AgentLoad]) -> Option<StaffId> {
    let candidates = agents.iter().filter(|a| a.has_room());
    let waited = |a: &AgentLoad| (a.last_assigned_at, a.staff_id);
    match mode {
        AssignmentMode::Manual => None,
        AssignmentMode::LeastBusy => candidates
            .min_by(|a, b| a.active.cmp(&b.active).then(waited(a).cmp(&waited(b))))
            .map(|a| a.staff_id),
        AssignmentMode::RoundRobin => candidates
            .min_by(|a, b| waited(a).cmp(&waited(b)))
            .map(|a| a.staff_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;
    use uuid::Uuid;

    fn agent(n: u128, availability: Availability, active: u32, last: Option<i64>) -> AgentLoad {
        AgentLoad {
            staff_id: StaffId::from_uuid(Uuid::from_u128(n)),
            availability,
            capacity: 3,
            active,
            last_assigned_at: last
                .map(|s| datetime!(2026-01-01 0:00 UTC) + time::Duration::seconds(s)),
        }
    }

    #[test]
    fn least_busy_takes_the_emptiest_online_agent_with_room() {
        let agents = [
            agent(1, Availability::Online, 2, Some(0)),
            agent(2, Availability::Online, 1, Some(5)),
            agent(3, Availability::Away, 0, None),
            agent(4, Availability::Online, 3, None),
        ];
        let picked = pick_agent(AssignmentMode::LeastBusy, &agents);
        assert_eq!(picked, Some(agents[1].staff_id));
    }

    #[test]
    fn round_robin_takes_whoever_waited_longest() {
        let agents = [
            agent(1, Availability::Online, 0, Some(10)),
            agent(2, Availability::Online, 2, Some(5)),
            agent(3, Availability::Online, 1, None),
        ];
        assert_eq!(
            pick_agent(AssignmentMode::RoundRobin, &agents),
            Some(agents[2].staff_id)
        );
        assert_eq!(pick_agent(AssignmentMode::Manual, &agents), None);
    }

    #[test]
    fn nobody_with_room_means_nobody() {
        let agents = [
            agent(1, Availability::Online, 3, None),
            agent(2, Availability::Offline, 0, None),
        ];
        assert_eq!(pick_agent(AssignmentMode::LeastBusy, &agents), None);
        assert_eq!(pick_agent(AssignmentMode::RoundRobin, &agents), None);
    }

    proptest! {
        #[test]
        fn the_pick_always_has_room(
            loads in proptest::collection::vec((0u8..3, 0u32..5, proptest::option::of(0i64..100)), 0..12),
            round_robin in any::<bool>(),
        ) {
            let agents: Vec<AgentLoad> = loads.iter().enumerate().map(|(i, (a, active, last))| {
                agent(i as u128, Availability::ALL[usize::from(*a)], *active, *last)
            }).collect();
            let mode = if round_robin { AssignmentMode::RoundRobin } else { AssignmentMode::LeastBusy };
            match pick_agent(mode, &agents) {
                Some(id) => {
                    let a = agents.iter().find(|a| a.staff_id == id).unwrap();
                    prop_assert!(a.has_room());
                }
                None => prop_assert!(agents.iter().all(|a| !a.has_room())),
            }
        }
    }
}
