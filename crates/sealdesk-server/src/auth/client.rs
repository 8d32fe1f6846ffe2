//! Who is on the other end: the client address (honouring `X-Forwarded-For` only from
//! configured trusted proxies; OWASP ASVS v5.0.0-4.1.3) and a shortened user agent.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use ipnet::IpNet;

/// The client's address. Without a trusted proxy this is the TCP peer. Behind trusted
/// proxies, the right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(parts: &Parts, trusted: &[IpNet]) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    if !trusted.iter().any(|n| n.contains(&peer)) {
        return peer;
    }
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.iter().any(|n| n.contains(ip)))
        .unwrap_or(peer)
}

/// The user agent, cut to 200 characters, for the session list.
pub fn user_agent(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(peer: &str, xff: Option<&str>) -> Parts {
        let mut b = Request::builder();
        if let Some(x) = xff {
            b = b.header("x-forwarded-for", x);
        }
        let (mut parts, ()) = b.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_trusted() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_ip(&parts("203.0.113.9:1", Some("1.2.3.4")), &trusted).to_string(),
            "203.0.113.9"
        );
        assert_eq!(
            client_ip(
                &parts("10.1.1.1:1", Some("1.2.3.4, 198.51.100.2")),
                &trusted
            )
            .to_string(),
            "198.51.100.2"
        );
        assert_eq!(
            client_ip(
                &parts("10.1.1.1:1", Some("198.51.100.2, 10.2.2.2")),
                &trusted
            )
            .to_string(),
            "198.51.100.2"
        );
        assert_eq!(
            client_ip(&parts("10.1.1.1:1", None), &trusted).to_string(),
            "10.1.1.1"
        );
    }
}
