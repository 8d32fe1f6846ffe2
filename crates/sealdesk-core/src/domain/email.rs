//! E-mail addresses of staff accounts, normalised to lower case so that one person cannot
//! hold two accounts in a tenant by changing case.

use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::domain::DomainName;

/// A syntactically plausible address: `local@domain` with a valid domain (RFC 5321 sizes:
/// local part ≤ 64 octets, whole address ≤ 254). Deliverability is proven by the invitation,
/// not by parsing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

const FIELD: &str = "email";

impl Email {
    /// Parses and normalises an address.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let Some((local, domain)) = raw.rsplit_once('@') else {
            return Err(ValidationError::new(
                FIELD,
                "must look like name@example.com",
            ));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(ValidationError::new(
                FIELD,
                "the part before @ must be 1-64 characters",
            ));
        }
        if local.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(c, '@' | '<' | '>' | '"' | ',' | ';' | '\\')
        }) {
            return Err(ValidationError::new(
                FIELD,
                "the part before @ contains a character that is not allowed",
            ));
        }
        let domain =
            DomainName::parse(domain).map_err(|e| ValidationError::new(FIELD, e.reason))?;
        let address = format!("{}@{}", local.to_lowercase(), domain.as_str());
        if address.len() > 254 {
            return Err(ValidationError::new(
                FIELD,
                "must be at most 254 characters",
            ));
        }
        Ok(Self(address))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_case() {
        assert_eq!(
            Email::parse(" Jane.Doe@ACME.com ").unwrap().as_str(),
            "jane.doe@acme.com"
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "jane",
            "@acme.com",
            "jane@",
            "jane@acme",
            "ja ne@acme.com",
            "jane@acme.com>",
            "a\"b@acme.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in "\\PC{0,80}@\\PC{0,40}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
            }
        }
    }
}
