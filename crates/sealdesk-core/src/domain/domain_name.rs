//! Brand domain names, stored in their ASCII (punycode) form so that look-alike Unicode
//! spellings compare as what they are (RFC 5890, UTS #46).

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A fully-qualified DNS name with at least two labels, lower-case, ASCII (IDNA) form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

const FIELD: &str = "domain";

impl DomainName {
    /// Parses a domain, converting Unicode labels to punycode and folding case.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let raw = raw.strip_suffix('.').unwrap_or(raw);
        if raw.is_empty() {
            return Err(ValidationError::new(FIELD, "must not be empty"));
        }
        if raw.contains(['/', ':', '@', '*', ' ']) {
            return Err(ValidationError::new(
                FIELD,
                "must be a bare domain such as example.com (no scheme, port, path or wildcard)",
            ));
        }
        let ascii = idna::domain_to_ascii_strict(raw).map_err(|_| {
            ValidationError::new(FIELD, "is not a valid internationalised domain name")
        })?;
        if ascii.len() > 253 {
            return Err(ValidationError::new(
                FIELD,
                "must be at most 253 characters",
            ));
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        if labels.len() < 2 {
            return Err(ValidationError::new(
                FIELD,
                "must have at least two labels, such as example.com",
            ));
        }
        for label in &labels {
            let valid = !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                return Err(ValidationError::new(
                    FIELD,
                    format!("label {label:?} must be 1-63 letters, digits or inner hyphens"),
                ));
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ValidationError::new(
                FIELD,
                "must be a name, not an IP address",
            ));
        }
        Ok(Self(ascii))
    }

    /// The ASCII form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DomainName {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DomainName> for String {
    fn from(d: DomainName) -> String {
        d.0
    }
}

impl std::fmt::Display for DomainName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_case_and_trailing_dot() {
        assert_eq!(
            DomainName::parse("Shop.ACME.com.").unwrap().as_str(),
            "shop.acme.com"
        );
    }

    #[test]
    fn unicode_becomes_punycode() {
        assert_eq!(
            DomainName::parse("bücher.example").unwrap().as_str(),
            "xn--bcher-kva.example"
        );
        // Cyrillic "а" in "аcme.com" must not equal the Latin spelling.
        assert_ne!(
            DomainName::parse("\u{430}cme.com").unwrap().as_str(),
            "acme.com"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "acme",
            "https://acme.com",
            "acme.com/path",
            "*.acme.com",
            "-acme.com",
            "acme-.com",
            "a..com",
            "10.0.0.1",
            "acme.com:8080",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(
                DomainName::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in "\\PC{0,80}") {
            if let Ok(d) = DomainName::parse(&s) {
                prop_assert_eq!(DomainName::parse(d.as_str()).unwrap(), d);
            }
        }
    }
}
