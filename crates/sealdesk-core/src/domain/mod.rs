//! Validated domain types and the entities built from them.

mod cidr;
mod conversation;
mod domain_name;
mod email;
mod names;
mod origin;
mod role;
mod staff;
mod team;
mod tenant;
mod visitor;

pub use cidr::Cidr;
pub use conversation::{
    AppendOutcome, ClientMsgId, Conversation, ConversationChange, ConversationState, EntryKind,
    LogEntry, NewConversation, NewEntry, Party,
};
pub use domain_name::DomainName;
pub use email::Email;
pub use names::{DisplayName, TeamName, TenantName};
pub use origin::WidgetOrigin;
pub use role::Role;
pub use staff::{NewStaff, Staff};
pub use team::{NewTeam, Team};
pub use tenant::{NewTenant, Tenant, TenantSettings, VisitorChallenge};
pub use visitor::{ExternalId, NewVisitor, Visitor, VisitorTicket};
