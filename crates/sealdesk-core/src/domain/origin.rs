//! Widget origins: the web origins allowed to embed a tenant's widget and open its
//! WebSocket. Checked on every upgrade to stop cross-site WebSocket hijacking.

use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::domain::DomainName;

/// A serialised web origin (RFC 6454): `https://host[:port]`. Plain `http` is accepted only
/// for `localhost` and loopback addresses, for development. Wildcards are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WidgetOrigin(String);

const FIELD: &str = "origin";

impl WidgetOrigin {
    /// Parses and normalises an origin.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.contains('*') {
            return Err(ValidationError::new(
                FIELD,
                "wildcards are not allowed; list each origin",
            ));
        }
        let url = url::Url::parse(raw)
            .map_err(|_| ValidationError::new(FIELD, "must look like https://shop.example.com"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ValidationError::new(FIELD, "must not contain credentials"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(ValidationError::new(
                FIELD,
                "must be scheme://host[:port] with no path",
            ));
        }
        let Some(host) = url.host() else {
            return Err(ValidationError::new(FIELD, "must have a host"));
        };
        let loopback = match &host {
            url::Host::Domain(d) => *d == "localhost" || d.ends_with(".localhost"),
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(ValidationError::new(
                    FIELD,
                    "must use https (http only for localhost)",
                ));
            }
            _ => return Err(ValidationError::new(FIELD, "scheme must be https")),
        }
        if let (url::Host::Domain(d), false) = (&host, loopback) {
            DomainName::parse(d).map_err(|e| ValidationError::new(FIELD, e.reason))?;
        }
        Ok(Self(url.origin().ascii_serialization()))
    }

    /// The serialised origin, as browsers send it in the `Origin` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WidgetOrigin {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<WidgetOrigin> for String {
    fn from(o: WidgetOrigin) -> String {
        o.0
    }
}

impl std::fmt::Display for WidgetOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_a_browser() {
        assert_eq!(
            WidgetOrigin::parse("https://Shop.Example.com/")
                .unwrap()
                .as_str(),
            "https://shop.example.com"
        );
        assert_eq!(
            WidgetOrigin::parse("https://shop.example.com:443")
                .unwrap()
                .as_str(),
            "https://shop.example.com"
        );
        assert_eq!(
            WidgetOrigin::parse("https://shop.example.com:8443")
                .unwrap()
                .as_str(),
            "https://shop.example.com:8443"
        );
        assert_eq!(
            WidgetOrigin::parse("http://localhost:5173")
                .unwrap()
                .as_str(),
            "http://localhost:5173"
        );
        assert_eq!(
            WidgetOrigin::parse("http://127.0.0.1:8080")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn refuses_what_would_weaken_the_origin_check() {
        for bad in [
            "*",
            "https://*.example.com",
            "http://shop.example.com",
            "ftp://example.com",
            "https://example.com/widget",
            "https://u:p@example.com",
            "example.com",
            "null",
            "https://localhost:99999",
        ] {
            assert!(
                WidgetOrigin::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }
}
