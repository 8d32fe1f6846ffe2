//! Human-facing names: tenant, team and display names. Any Unicode letter is welcome; control
//! and formatting characters (which can hide or reorder text, as in "Trojan Source") are not.

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Trims `raw`, then checks length (in characters) and forbidden characters.
fn parse_name(raw: &str, field: &'static str, max_chars: usize) -> Result<String, ValidationError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    let count = trimmed.chars().count();
    if count > max_chars {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max_chars} characters (got {count})"),
        ));
    }
    if let Some(c) = trimmed.chars().find(|c| is_forbidden(*c)) {
        return Err(ValidationError::new(
            field,
            format!(
                "must not contain control or invisible formatting characters (found U+{:04X})",
                u32::from(c)
            ),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Control characters, and the bidirectional and zero-width formatting characters that make
/// a name display differently from what it is (Unicode TR #36, CVE-2021-42574).
fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The longest accepted name, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Validates and normalises (trims) a name.
            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                parse_name(raw, $field, $max).map(Self)
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A tenant's display name, 1 to 100 characters.
    TenantName, "name", 100
);
name_type!(
    /// A team's display name, 1 to 80 characters.
    TeamName, "name", 80
);
name_type!(
    /// A person's display name, 1 to 100 characters.
    DisplayName, "display_name", 100
);

impl TeamName {
    /// The key under which team names are unique within a tenant (case-insensitive).
    pub fn unique_key(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_accepts_unicode() {
        assert_eq!(
            TenantName::parse("  Café Zürich 東京 ").unwrap().as_str(),
            "Café Zürich 東京"
        );
    }

    #[test]
    fn rejects_empty_long_and_invisible() {
        assert_eq!(
            TenantName::parse("   ").unwrap_err().reason,
            "must not be empty"
        );
        let long = "x".repeat(101);
        assert!(
            TenantName::parse(&long)
                .unwrap_err()
                .reason
                .contains("at most 100")
        );
        assert!(TenantName::parse("Acme\u{202E}moc.evil").is_err());
        assert!(TeamName::parse("Billing\nTeam").is_err());
        assert!(TeamName::parse("zero\u{200B}width").is_err());
    }

    #[test]
    fn counts_characters_not_bytes() {
        let hundred_e_acute = "é".repeat(100);
        assert!(TenantName::parse(&hundred_e_acute).is_ok());
    }

    #[test]
    fn team_key_is_case_insensitive() {
        assert_eq!(
            TeamName::parse("Billing").unwrap().unique_key(),
            TeamName::parse("BILLING").unwrap().unique_key()
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepted_names_reparse(s in "\\PC{0,120}") {
            if let Ok(name) = TenantName::parse(&s) {
                prop_assert_eq!(TenantName::parse(name.as_str()).unwrap(), name.clone());
                prop_assert!(name.as_str().chars().count() <= TenantName::MAX_CHARS);
            }
        }
    }
}
