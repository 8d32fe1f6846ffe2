//! The starting point of the conversation cases: two tenants with teams, staff and visitors,
//! and builders for conversations and log entries. Ids come from a manual clock that moves one
//! second per id, so ids (and "newest first") follow creation order.

use std::time::Duration;

use bytes::Bytes;
use sealdesk_core::clock::{Clock, ManualClock};
use sealdesk_core::domain::{
    ClientMsgId, Conversation, DisplayName, Email, EntryKind, ExternalId, NewConversation,
    NewEntry, NewStaff, NewVisitor, Party, Role,
};
use sealdesk_core::ids::IdGenerator;
use sealdesk_core::random::{Random, SeededRandom};
use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId, VisitorId};
use time::OffsetDateTime;

use super::data::TestData;
use super::people::people;
use crate::Store;

/// Two tenants. Acme has two teams, three enabled staff members and a disabled one, and two
/// visitors; Globex has one of each.
#[derive(Debug)]
pub(crate) struct Desk {
    clock: ManualClock,
    random: SeededRandom,
    pub(crate) acme: TenantId,
    pub(crate) globex: TenantId,
    /// Acme's first team.
    pub(crate) sales: TeamId,
    /// Acme's second team.
    pub(crate) support: TeamId,
    /// Globex's team.
    pub(crate) help: TeamId,
    /// Acme's owner.
    pub(crate) jane: StaffId,
    /// Acme's agents.
    pub(crate) omar: StaffId,
    pub(crate) ana: StaffId,
    /// A disabled Acme agent.
    pub(crate) ivan: StaffId,
    /// Globex's owner.
    pub(crate) zoe: StaffId,
    /// An Acme visitor who came through sales.
    pub(crate) alice: VisitorId,
    /// An Acme visitor who came through support.
    pub(crate) bob: VisitorId,
    /// A Globex visitor.
    pub(crate) gus: VisitorId,
}

impl Desk {
    /// Creates the tenants, teams, staff and visitors.
    pub(crate) async fn new(store: &dyn Store) -> Self {
        let data = TestData::new();
        let p = people(store, &data).await;
        let team = |tenant, name| {
            let team = data.team(tenant, name);
            async move { store.create_team(&team).await.unwrap().id }
        };
        let sales = team(p.acme, "Sales").await;
        let support = team(p.acme, "Support").await;
        let help = team(p.globex, "Help").await;
        let ana = data.staff(p.acme, "ana@acme.example", Role::Agent, None);
        let ivan = data.staff(p.acme, "ivan@acme.example", Role::Agent, None);
        store.create_staff(&ana).await.unwrap();
        store.create_staff(&ivan).await.unwrap();
        store
            .set_staff_disabled(p.acme, ivan.id, true)
            .await
            .unwrap();
        let mut desk = Self {
            clock: ManualClock::new(data.now() + time::Duration::days(1)),
            random: SeededRandom::new(0xC0_4E55),
            acme: p.acme,
            globex: p.globex,
            sales,
            support,
            help,
            jane: p.jane,
            omar: p.omar,
            ana: ana.id,
            ivan: ivan.id,
            zoe: p.zoe,
            alice: VisitorId::from_uuid(uuid::Uuid::nil()),
            bob: VisitorId::from_uuid(uuid::Uuid::nil()),
            gus: VisitorId::from_uuid(uuid::Uuid::nil()),
        };
        desk.alice = store
            .create_visitor(&desk.visitor(desk.acme, desk.sales, None))
            .await
            .unwrap()
            .id;
        desk.bob = store
            .create_visitor(&desk.visitor(desk.acme, desk.support, None))
            .await
            .unwrap()
            .id;
        desk.gus = store
            .create_visitor(&desk.visitor(desk.globex, desk.help, None))
            .await
            .unwrap()
            .id;
        desk
    }

    /// The current time, then moves the clock on by a second.
    pub(crate) fn tick(&self) -> OffsetDateTime {
        let now = self.clock.now();
        self.clock.advance(Duration::from_secs(1));
        now
    }

    /// The current time, without moving the clock.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn ids(&self) -> IdGenerator<'_> {
        IdGenerator::new(&self.clock, &self.random)
    }

    /// 32 seeded random bytes (a key, token or blob digest).
    pub(crate) fn digest(&self) -> [u8; 32] {
        let mut digest = [0; 32];
        self.random.fill(&mut digest);
        digest
    }

    /// A new opaque id.
    pub(crate) fn uuid(&self) -> uuid::Uuid {
        self.ids().opaque()
    }

    /// A new conversation id, later than every earlier one.
    pub(crate) fn conversation_id(&self) -> ConversationId {
        let id = self.ids().conversation();
        self.clock.advance(Duration::from_secs(1));
        id
    }

    /// A new agent account of `tenant`.
    pub(crate) fn agent(&self, tenant: TenantId, email: &str) -> NewStaff {
        NewStaff {
            id: self.ids().staff(),
            tenant_id: tenant,
            email: Email::parse(email).unwrap(),
            display_name: DisplayName::parse(&format!("Agent {email}")).unwrap(),
            role: Role::Agent,
            password_hash: None,
            created_at: self.tick(),
        }
    }

    /// A new visitor of `team` with a fresh key.
    pub(crate) fn visitor(
        &self,
        tenant: TenantId,
        team: TeamId,
        external_id: Option<&str>,
    ) -> NewVisitor {
        NewVisitor {
            id: self.ids().visitor(),
            tenant_id: tenant,
            team_id: team,
            key_hash: self.digest(),
            external_id: external_id.map(|e| ExternalId::parse(e).unwrap()),
            created_at: self.tick(),
        }
    }

    /// A new conversation of `visitor` in `team`.
    pub(crate) fn new_conversation(
        &self,
        tenant: TenantId,
        team: TeamId,
        visitor: VisitorId,
        reopened_from: Option<ConversationId>,
    ) -> NewConversation {
        NewConversation {
            id: self.conversation_id(),
            tenant_id: tenant,
            team_id: team,
            visitor_id: visitor,
            reopened_from,
            consent_notice: None,
            created_at: self.tick(),
        }
    }

    /// Creates a conversation of `visitor` in `team`.
    pub(crate) async fn open(
        &self,
        store: &dyn Store,
        tenant: TenantId,
        team: TeamId,
        visitor: VisitorId,
    ) -> Conversation {
        store
            .create_conversation(&self.new_conversation(tenant, team, visitor, None))
            .await
            .unwrap()
    }

    /// An application entry of `conversation` from `sender`, at the current time.
    pub(crate) fn entry(
        &self,
        conversation: &Conversation,
        sender: Party,
        client_msg_id: Option<&str>,
        payload: &[u8],
    ) -> NewEntry {
        NewEntry {
            tenant_id: conversation.tenant_id,
            conversation_id: conversation.id,
            sender,
            kind: EntryKind::Application,
            client_msg_id: client_msg_id.map(|id| ClientMsgId::parse(id).unwrap()),
            payload: Bytes::copy_from_slice(payload),
            at: self.now(),
        }
    }

    /// A system event of `conversation`.
    pub(crate) fn event(&self, conversation: &Conversation, payload: &str) -> NewEntry {
        NewEntry {
            kind: EntryKind::System,
            ..self.entry(conversation, Party::System, None, payload.as_bytes())
        }
    }
}

/// The visitor `id` as a log sender.
pub(crate) fn visitor(id: VisitorId) -> Party {
    Party::Visitor(id)
}

/// The staff member `id` as a log sender.
pub(crate) fn staff(id: StaffId) -> Party {
    Party::Staff(id)
}
