//! An inbox's widget settings (privacy notice, pre-chat fields) and the consent check when a
//! visitor opens a conversation.
//!
//! Consent is recorded content-free: the conversation keeps the notice version the visitor
//! accepted, and its creation time is the time of consent (GDPR art. 7(1): the controller
//! must be able to show consent was given; OWASP ASVS 4.0 V8.3.3: users are told how their
//! data is used). The pre-chat answers are not stored here: the widget sends them
//! end-to-end encrypted in the conversation.

use sealdesk_core::ValidationError;
use sealdesk_proto::widget::{Consent, InboxWidgetSettings, PrechatField, PrivacyNotice};
use sealdesk_proto::{TeamId, TenantId};
use sealdesk_store::InboxWidget;

use crate::error::ApiError;
use crate::state::AppState;

/// At most this many pre-chat fields: collect only what the team needs.
pub const MAX_PRECHAT_FIELDS: usize = 10;
/// Longest notice text, in characters.
pub const MAX_NOTICE_CHARS: usize = 8_000;
const MAX_VERSION_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 32;
const MAX_LABEL_CHARS: usize = 80;
const MAX_URL_CHARS: usize = 2_000;

fn invalid(field: &'static str, reason: impl Into<String>) -> ApiError {
    ValidationError::new(field, reason).into()
}

/// Control characters other than line breaks and tabs have no place in text a widget shows.
fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

fn check_notice(notice: &PrivacyNotice) -> Result<(), ApiError> {
    let version = &notice.version;
    if version.is_empty()
        || version.chars().count() > MAX_VERSION_CHARS
        || !version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(invalid(
            "privacy_notice.version",
            "use 1 to 64 letters, digits, '.', '-' or '_'",
        ));
    }
    if notice.text.trim().is_empty() || notice.text.chars().count() > MAX_NOTICE_CHARS {
        return Err(invalid(
            "privacy_notice.text",
            format!("write the notice in 1 to {MAX_NOTICE_CHARS} characters"),
        ));
    }
    if has_control(&notice.text) {
        return Err(invalid(
            "privacy_notice.text",
            "the notice contains control characters",
        ));
    }
    if let Some(url) = &notice.url {
        let parsed = url::Url::parse(url).ok();
        // https only: the link opens from the customer's page (OWASP ASVS 4.0 V9.1.1).
        if url.len() > MAX_URL_CHARS
            || parsed.is_none_or(|u| u.scheme() != "https" || u.host_str().is_none())
        {
            return Err(invalid(
                "privacy_notice.url",
                "give the policy's https address",
            ));
        }
    }
    Ok(())
}

fn check_field(field: &PrechatField) -> Result<(), ApiError> {
    let name = &field.name;
    let mut chars = name.chars();
    let starts_lower = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    if !starts_lower
        || name.len() > MAX_NAME_CHARS
        || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(invalid(
            "prechat_fields.name",
            format!(
                "{name:?}: use a-z, digits and '_', starting with a letter, at most {MAX_NAME_CHARS}"
            ),
        ));
    }
    let label = field.label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS || has_control(label) {
        return Err(invalid(
            "prechat_fields.label",
            format!("{name:?}: give a label of 1 to {MAX_LABEL_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Checks settings an admin submits.
pub fn check(settings: &InboxWidgetSettings) -> Result<(), ApiError> {
    if let Some(notice) = &settings.privacy_notice {
        check_notice(notice)?;
    }
    if settings.prechat_fields.len() > MAX_PRECHAT_FIELDS {
        return Err(invalid(
            "prechat_fields",
            format!("at most {MAX_PRECHAT_FIELDS} fields"),
        ));
    }
    let mut names = std::collections::HashSet::new();
    for field in &settings.prechat_fields {
        check_field(field)?;
        if !names.insert(field.name.as_str()) {
            return Err(invalid(
                "prechat_fields.name",
                format!("{:?} appears twice", field.name),
            ));
        }
    }
    Ok(())
}

/// The inbox's settings (none set: no notice, no fields).
pub async fn settings(
    state: &AppState,
    tenant: TenantId,
    team: TeamId,
) -> Result<InboxWidgetSettings, ApiError> {
    Ok(state
        .store()
        .get_inbox_widget(tenant, team)
        .await?
        .map(|w| w.settings)
        .unwrap_or_default())
}

/// Replaces the inbox's settings after checking them.
pub async fn set(
    state: &AppState,
    tenant: TenantId,
    team: TeamId,
    settings: InboxWidgetSettings,
) -> Result<(), ApiError> {
    check(&settings)?;
    state
        .store()
        .set_inbox_widget(&InboxWidget {
            tenant_id: tenant,
            team_id: team,
            settings,
            updated_at: state.clock().now(),
        })
        .await?;
    Ok(())
}

/// The notice version to record for a new conversation: the inbox's current version, which
/// the visitor must have accepted; `None` when the inbox has no notice.
pub async fn consent(
    state: &AppState,
    tenant: TenantId,
    team: TeamId,
    given: Option<&Consent>,
) -> Result<Option<String>, ApiError> {
    let Some(notice) = settings(state, tenant, team).await?.privacy_notice else {
        return Ok(None);
    };
    match given {
        Some(c) if c.notice_version == notice.version => Ok(Some(notice.version)),
        _ => Err(ApiError::ConsentRequired),
    }
}

#[cfg(test)]
mod tests {
    use sealdesk_proto::widget::PrechatKind;

    use super::*;

    fn notice(version: &str, text: &str, url: Option<&str>) -> InboxWidgetSettings {
        InboxWidgetSettings {
            privacy_notice: Some(PrivacyNotice {
                version: version.into(),
                text: text.into(),
                url: url.map(Into::into),
            }),
            prechat_fields: Vec::new(),
        }
    }

    fn fields(names: &[&str]) -> InboxWidgetSettings {
        InboxWidgetSettings {
            privacy_notice: None,
            prechat_fields: names
                .iter()
                .map(|n| PrechatField {
                    name: (*n).into(),
                    label: "Your email".into(),
                    kind: PrechatKind::Email,
                    required: true,
                })
                .collect(),
        }
    }

    fn field_of(result: Result<(), ApiError>) -> String {
        match result {
            Err(ApiError::Invalid(v)) => v.field.to_owned(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn good_settings_pass() {
        check(&notice(
            "2026-11.1",
            "We keep chats 30 days.\nAsk us to delete yours.",
            Some("https://shop.example/privacy"),
        ))
        .unwrap();
        check(&fields(&["email", "order_no2"])).unwrap();
        check(&InboxWidgetSettings::default()).unwrap();
    }

    #[test]
    fn bad_notices_name_their_field() {
        assert_eq!(
            field_of(check(&notice("", "x", None))),
            "privacy_notice.version"
        );
        assert_eq!(
            field_of(check(&notice("v 1", "x", None))),
            "privacy_notice.version"
        );
        assert_eq!(
            field_of(check(&notice(&"9".repeat(65), "x", None))),
            "privacy_notice.version"
        );
        assert_eq!(
            field_of(check(&notice("1", "  ", None))),
            "privacy_notice.text"
        );
        assert_eq!(
            field_of(check(&notice("1", &"a".repeat(MAX_NOTICE_CHARS + 1), None))),
            "privacy_notice.text"
        );
        assert_eq!(
            field_of(check(&notice("1", "a\u{0}b", None))),
            "privacy_notice.text"
        );
        for url in [
            "javascript:alert(1)",
            "http://shop.example/p",
            "https://",
            "no url",
        ] {
            assert_eq!(
                field_of(check(&notice("1", "x", Some(url)))),
                "privacy_notice.url",
                "{url}"
            );
        }
    }

    #[test]
    fn bad_fields_name_their_field() {
        for name in ["", "Email", "1st", "e-mail", &"a".repeat(33)] {
            assert_eq!(
                field_of(check(&fields(&[name]))),
                "prechat_fields.name",
                "{name}"
            );
        }
        assert_eq!(
            field_of(check(&fields(&["email", "email"]))),
            "prechat_fields.name"
        );
        let too_many: Vec<String> = (0..=MAX_PRECHAT_FIELDS).map(|i| format!("f{i}")).collect();
        let names: Vec<&str> = too_many.iter().map(String::as_str).collect();
        assert_eq!(field_of(check(&fields(&names))), "prechat_fields");
        let mut unlabelled = fields(&["email"]);
        unlabelled.prechat_fields[0].label = " ".into();
        assert_eq!(field_of(check(&unlabelled)), "prechat_fields.label");
    }
}
