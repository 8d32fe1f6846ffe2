//! Staff authentication: checking credentials (password, TOTP, recovery codes, passkeys) under
//! throttling, issuing and validating sessions, and the request extractor that turns a cookie
//! or bearer token into an authorised [`Auth`].

pub mod client;
pub mod credentials;
pub mod extract;
pub mod hashing;
pub mod passkeys;
pub mod sessions;

use std::time::Duration;

pub use extract::Auth;

/// A sensitive action needs a proof of identity at most this old (NIST SP 800-63B §4.2.3
/// reauthentication; OWASP ASVS v5.0.0-7.5.1).
pub const REAUTH_WINDOW: Duration = Duration::from_mins(5);

/// Terminal sessions may idle this many times longer than browser sessions.
pub const CLI_IDLE_FACTOR: u32 = 8;

/// Sessions touch the store at most this often, to keep authenticated requests cheap.
pub const TOUCH_INTERVAL: Duration = Duration::from_mins(1);

/// Name of the browser session cookie. The `__Host-` prefix pins it to this host, path `/`,
/// and `Secure` (RFC 6265bis §4.1.3.2).
pub const SESSION_COOKIE: &str = "__Host-sealdesk_session";

/// Header carrying the CSRF token on state-changing browser requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
