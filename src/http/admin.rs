//! Who may see `/_episodic/`: it names files and unpublished work
//! (`/_episodic/health` says only `ok`, to anyone).
//!
//! A loopback client whose request carries no `Forwarded` or
//! `X-Forwarded-For` (a reverse proxy on this machine adds those for remote
//! clients), or anyone presenting `Authorization: Bearer <token>` with the
//! token from `EPISODIC_ADMIN_TOKEN`. Everyone else is told 404, as if there
//! were nothing here.

use hyper::header::{AUTHORIZATION, FORWARDED, HeaderMap};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

pub const TOKEN_VARIABLE: &str = "EPISODIC_ADMIN_TOKEN";

pub fn is_allowed(peer: SocketAddr, headers: &HeaderMap, token: Option<&str>) -> bool {
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if let (Some(token), Some(presented)) = (token, presented)
        && bool::from(token.as_bytes().ct_eq(presented.as_bytes()))
    {
        return true;
    }
    let proxied = headers.contains_key(FORWARDED) || headers.contains_key("x-forwarded-for");
    peer.ip().to_canonical().is_loopback() && !proxied
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn loopback_without_proxy_headers_or_a_token() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let mut headers = HeaderMap::new();
        assert!(is_allowed(local, &headers, None));
        assert!(!is_allowed(remote, &headers, None));
        assert!(is_allowed("[::ffff:127.0.0.1]:1".parse().unwrap(), &headers, None));
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        assert!(!is_allowed(local, &headers, None));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert!(is_allowed(local, &headers, Some("s3cret")));
        assert!(is_allowed(remote, &headers, Some("s3cret")));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer s3cret"));
        assert!(is_allowed(remote, &headers, Some("s3cret")));
        assert!(!is_allowed(remote, &headers, Some("other")));
        assert!(!is_allowed(remote, &headers, None));
    }
}
