//! Generation of new ids: UUID version 7 (time-ordered, so indexes stay compact), built from
//! the injected clock and randomness.

use sealdesk_proto::{CannedResponseId, ConversationId, StaffId, TeamId, TenantId, VisitorId};
use uuid::Uuid;

use crate::clock::{Clock, to_unix_ms};
use crate::random::Random;

/// Makes new ids from an injected clock and random source.
#[derive(Debug, Clone, Copy)]
pub struct IdGenerator<'a> {
    clock: &'a dyn Clock,
    random: &'a dyn Random,
}

impl<'a> IdGenerator<'a> {
    /// An id generator over `clock` and `random`.
    pub fn new(clock: &'a dyn Clock, random: &'a dyn Random) -> Self {
        Self { clock, random }
    }

    fn uuid(&self) -> Uuid {
        let ms = u64::try_from(to_unix_ms(self.clock.now())).unwrap_or(0);
        let mut rand = [0u8; 10];
        self.random.fill(&mut rand);
        uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
    }

    /// A new tenant id.
    pub fn tenant(&self) -> TenantId {
        TenantId::from_uuid(self.uuid())
    }

    /// A new team id.
    pub fn team(&self) -> TeamId {
        TeamId::from_uuid(self.uuid())
    }

    /// A new staff id.
    pub fn staff(&self) -> StaffId {
        StaffId::from_uuid(self.uuid())
    }

    /// A new visitor id.
    pub fn visitor(&self) -> VisitorId {
        VisitorId::from_uuid(self.uuid())
    }

    /// A new conversation id.
    pub fn conversation(&self) -> ConversationId {
        ConversationId::from_uuid(self.uuid())
    }

    /// A new canned-response id.
    pub fn canned_response(&self) -> CannedResponseId {
        CannedResponseId::from_uuid(self.uuid())
    }

    /// A new device id.
    pub fn device(&self) -> sealdesk_proto::DeviceId {
        sealdesk_proto::DeviceId::from_uuid(self.uuid())
    }

    /// A new opaque id (sessions, tickets, attachments).
    pub fn opaque(&self) -> Uuid {
        self.uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::random::SeededRandom;
    use time::macros::datetime;

    #[test]
    fn ids_are_version_7_and_ordered_by_time() {
        let clock = ManualClock::new(datetime!(2026-01-01 0:00 UTC));
        let random = SeededRandom::new(1);
        let ids = IdGenerator::new(&clock, &random);
        let first = ids.tenant();
        clock.advance(std::time::Duration::from_millis(5));
        let second = ids.tenant();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert!(first < second);
    }
}
