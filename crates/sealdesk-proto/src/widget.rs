//! An inbox's widget settings: the privacy notice a visitor accepts before the first message
//! and the pre-chat fields the widget asks for. The server keeps the notice and the field
//! definitions (the tenant's own words, not visitor data); the answers to the fields travel
//! end-to-end encrypted in the conversation, and only the accepted notice version is recorded.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The privacy notice shown before the first message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivacyNotice {
    /// The version a visitor accepts (letters, digits, `.`, `-`, `_`; at most 64). Change
    /// it whenever the text changes: conversations record the version they started under.
    pub version: String,
    /// The notice as plain text (at most 8,000 characters), rendered as text.
    pub text: String,
    /// The full policy's address (https), shown as a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub url: Option<String>,
}

/// What a pre-chat field holds (the widget picks its input from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrechatKind {
    /// One line of text.
    Text,
    /// An email address.
    Email,
    /// A telephone number.
    Tel,
    /// Several lines of text.
    Textarea,
}

/// One field the widget asks for before the chat starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrechatField {
    /// Key of the answer in the encrypted pre-chat form (`[a-z][a-z0-9_]*`, at most 32).
    pub name: String,
    /// What the visitor reads (at most 80 characters).
    pub label: String,
    /// Input kind.
    pub kind: PrechatKind,
    /// Whether the widget insists on an answer.
    #[serde(default)]
    pub required: bool,
}

/// `GET`/`PUT /api/tenants/{tenant}/teams/{team}/widget`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxWidgetSettings {
    /// The notice visitors must accept; none: the widget asks for no consent.
    #[serde(default)]
    pub privacy_notice: Option<PrivacyNotice>,
    /// The pre-chat fields, in order (at most 10). Collect only what the team needs.
    #[serde(default)]
    pub prechat_fields: Vec<PrechatField>,
}

/// A visitor's acceptance of the inbox's privacy notice, sent when opening a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    /// The version accepted: must be the inbox's current one.
    pub notice_version: String,
}

/// `GET`/`PUT /api/tenants/{tenant}/widget-origins`: the pages allowed to embed the widget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetOrigins {
    /// Origins such as `https://shop.example.com` (no path, no wildcard; at most 50). A
    /// browser page elsewhere gets no visitor ticket and no connection.
    pub origins: Vec<String>,
}
