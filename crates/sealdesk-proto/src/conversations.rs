//! REST payloads of the widget (visitor tickets, conversations) and of the staff console
//! (queues, routing, history).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::ids::{ConversationId, StaffId, TeamId, TenantId, VisitorId};
use crate::widget::{Consent, PrechatField, PrivacyNotice};
use crate::ws::{WireKind, WireParty};

/// The public configuration a widget loads for one team (inbox). Content-free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WidgetConfig {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The tenant's display name.
    pub tenant_name: String,
    /// The team (inbox).
    pub team_id: TeamId,
    /// The team's name.
    pub team_name: String,
    /// WebSocket protocol version the server speaks.
    pub protocol: u32,
    /// Largest payload of one message, in bytes.
    pub max_payload: u32,
    /// Largest attachment, in bytes.
    pub attachment_max: u64,
    /// The tenant's registered root public keys, written as in the snippet
    /// (`ed25519:<base64url>`). Informational: the widget trusts only the keys pinned in its
    /// snippet, and warns when these differ.
    pub root_keys: Vec<String>,
    /// The privacy notice to accept before the first message, if the inbox has one.
    pub privacy_notice: Option<PrivacyNotice>,
    /// The pre-chat fields, in order.
    pub prechat_fields: Vec<PrechatField>,
}

/// Asks for a visitor ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    /// The visitor key the widget received earlier (`sd_vk_…`), to come back as the same
    /// visitor. Omit it to become a new visitor.
    #[serde(default)]
    pub visitor_key: Option<String>,
    /// A JWT from the tenant's website naming its logged-in customer (`sub`), signed with the
    /// inbox's identity key, `aud` = the team id. The visitor key is then ignored: the ticket
    /// is for the visitor verified as that customer.
    #[serde(default)]
    pub identity_token: Option<String>,
    /// A solved proof-of-work challenge, when the server asked for one
    /// (`challenge_required`).
    #[serde(default)]
    pub pow: Option<PowSolution>,
}

/// A solved proof-of-work challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowSolution {
    /// The challenge from `GET …/challenge`.
    pub challenge: String,
    /// A number n such that SHA-256(challenge ":" n) starts with `bits` zero bits.
    pub solution: u64,
}

/// A proof-of-work challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChallengeResponse {
    /// The challenge text.
    pub challenge: String,
    /// Leading zero bits required.
    pub bits: u8,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Sets an inbox's identity-token key (`PUT …/teams/{team}/identity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxIdentityRequest {
    /// `hs256` (the server generates a secret, shown once), `ed25519` (give `public_key`), or
    /// `off`.
    pub kind: String,
    /// The tenant's Ed25519 public key, 32 bytes in base64url (for `ed25519`).
    #[serde(default)]
    pub public_key: Option<String>,
    /// Refuse tickets without a valid identity token.
    #[serde(default)]
    pub required: bool,
}

/// An inbox's identity-token settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InboxIdentityView {
    /// `hs256`, `ed25519` or `off`.
    pub kind: String,
    /// Tickets need a valid identity token.
    pub required: bool,
    /// The Ed25519 public key (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub public_key: Option<String>,
    /// The new HS256 secret (base64url), returned once when it is generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub secret: Option<String>,
    /// The audience identity tokens must carry (`aud`).
    pub audience: String,
}

/// A visitor as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VisitorView {
    /// Id.
    pub id: VisitorId,
    /// The team whose widget created it.
    pub team_id: TeamId,
    /// Whether the tenant's website vouched for it with an identity token.
    pub verified: bool,
    /// The tenant's customer id, when verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub external_id: Option<String>,
    /// First seen.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last ticket.
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
}

/// A visitor ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketResponse {
    /// The ticket (`sd_vt_…`): send it in the WebSocket `auth` frame or as a bearer token.
    pub ticket: String,
    /// When it expires; ask for a new one before.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The visitor.
    pub visitor_id: VisitorId,
    /// A new visitor's key (`sd_vk_…`), returned once: keep it to come back as the same
    /// visitor. Absent when the request carried a valid key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub visitor_key: Option<String>,
}

/// Opens a conversation (as a visitor).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenConversation {
    /// A closed conversation of this visitor to continue; the new one links to it.
    #[serde(default)]
    pub reopen: Option<ConversationId>,
    /// The privacy notice the visitor accepted: required (and must be the current version)
    /// when the inbox has one, else `consent_required`.
    #[serde(default)]
    pub consent: Option<Consent>,
}

/// A conversation's routing metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    /// Id.
    pub id: ConversationId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Team whose queue it is in.
    pub team_id: TeamId,
    /// Visitor.
    pub visitor_id: VisitorId,
    /// `open`, `queued`, `assigned` or `closed`.
    pub state: String,
    /// The agent answering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub assignee: Option<StaffId>,
    /// The conversation it continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reopened_from: Option<ConversationId>,
    /// Last sequence number of its log.
    pub last_seq: u64,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When it was closed.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    /// The privacy-notice version the visitor accepted when opening it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub consent_notice: Option<String>,
    /// When the visitor asked for it to be deleted (the next retention sweep deletes it).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub erasure_requested_at: Option<OffsetDateTime>,
}

/// A page of conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConversationList {
    /// Newest first.
    pub conversations: Vec<ConversationView>,
}

/// One log entry as the REST history returns it (the same fields as the `entry` frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    /// Sequence number.
    pub seq: u64,
    /// Kind.
    pub k: WireKind,
    /// Writer.
    pub from: WireParty,
    /// The writer's client message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub id: Option<String>,
    /// Unix milliseconds.
    pub at: i64,
    /// Payload, standard base64.
    pub p: String,
}

/// A page of a conversation's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryPage {
    /// Oldest first.
    pub entries: Vec<EntryView>,
}

/// Where to transfer a conversation: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// To this agent.
    #[serde(default)]
    pub agent: Option<StaffId>,
    /// Back to this team's queue.
    #[serde(default)]
    pub team: Option<TeamId>,
    /// With `team` only: earlier History Member bundles and notes, re-sealed by the caller's
    /// client to that team's newest key and the archive key (docs/e2ee.md, "Transfer to
    /// another team"), stored with the transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub carry: Option<CarryOverUpload>,
}

/// Copies a transfer to another team carries over.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarryOverUpload {
    /// At most one per History Member generation.
    #[serde(default)]
    pub bundles: Vec<CarriedBundleUpload>,
    /// At most one per note.
    #[serde(default)]
    pub notes: Vec<CarriedNoteUpload>,
}

/// A generation's bundle, re-sealed (`SDB1`, its header naming the new team).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarriedBundleUpload {
    /// The History Member generation it re-seals.
    pub generation: u32,
    /// The new envelope, standard base64.
    pub sealed_bundle: String,
}

/// A note, re-sealed (`SDT1`, kind note, to the new team).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarriedNoteUpload {
    /// The note's number in the conversation.
    pub seq: u64,
    /// The new envelope, standard base64.
    pub p: String,
}

/// One's own availability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityRequest {
    /// `online`, `away` or `offline`.
    pub availability: String,
    /// How many conversations at once (1 to 100); left out, the current one stays (5 until
    /// first set).
    #[serde(default)]
    pub capacity: Option<u16>,
}

/// One's own availability as the server routes by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AvailabilityView {
    /// `online`, `away` or `offline` (`offline` until first set).
    pub availability: String,
    /// How many conversations at once.
    pub capacity: u16,
    /// Conversations assigned to one now, across every team.
    pub active: u32,
}

/// A team's routing settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    /// `manual`, `least_busy` or `round_robin`.
    pub assignment: String,
}

/// A team's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TeamMembers {
    /// Staff ids.
    pub members: Vec<StaffId>,
}
