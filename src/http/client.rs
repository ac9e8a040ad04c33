//! Who a request came from, for the access log. Behind a reverse proxy the
//! peer is the proxy; the client is then named in `Forwarded` (RFC 7239)
//! or `X-Forwarded-For`, which anyone can send. So those headers count only
//! when the peer is one of site.toml's `trusted_proxies`, and then the
//! client is the rightmost hop that is not itself a trusted proxy: what a
//! client wrote further left is its own claim.

use forwarded_header_value::ForwardedHeaderValue;
use hyper::header::{FORWARDED, HeaderMap};
use ipnet::IpNet;
use std::net::IpAddr;

/// The client's address: `peer`'s, unless `peer` is a trusted proxy that
/// says who it forwarded for.
pub fn address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&ip.to_canonical()));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = hops(headers);
    // From the nearest hop outwards: the first one we do not run is the client.
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if is_trusted(ip) => client = ip.to_canonical(),
            Some(ip) => return ip.to_canonical(),
            // An obfuscated or unknown hop: nothing further left can be told.
            None => return client,
        }
    }
    client
}

/// The `for` hops of every `Forwarded` header, in order, else of every
/// `X-Forwarded-For`; an unreadable header gives none.
fn hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let read = |name: &str, parse: fn(&str) -> Option<ForwardedHeaderValue>| -> Vec<Option<IpAddr>> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(parse)
            .flat_map(|value| value.iter().map(|stanza| stanza.forwarded_for_ip()).collect::<Vec<_>>())
            .collect()
    };
    let forwarded = read(FORWARDED.as_str(), |v| ForwardedHeaderValue::from_forwarded(v).ok());
    if !forwarded.is_empty() {
        return forwarded;
    }
    read("x-forwarded-for", |v| ForwardedHeaderValue::from_x_forwarded_for(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.1/32".parse().unwrap()];
        let forged = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(address(ip("198.51.100.7"), &forged, &trusted), ip("198.51.100.7"), "an untrusted peer");
        assert_eq!(address(ip("127.0.0.1"), &forged, &[]), ip("127.0.0.1"), "no proxy is trusted");
        assert_eq!(address(ip("127.0.0.1"), &forged, &trusted), ip("203.0.113.9"));
        // The client wrote the leftmost entry itself; our proxies added the rest.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.1.1.1")]);
        assert_eq!(address(ip("10.0.0.2"), &chain, &trusted), ip("203.0.113.9"));
        let split = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(address(ip("127.0.0.1"), &split, &trusted), ip("203.0.113.9"));
        // RFC 7239 first, IPv6 in brackets; an IPv4-mapped peer is IPv4.
        let rfc = headers(&[
            ("forwarded", "for=\"[2001:db8::1]:4711\";proto=https"),
            ("x-forwarded-for", "9.9.9.9"),
        ]);
        assert_eq!(address(ip("::ffff:127.0.0.1"), &rfc, &trusted), ip("2001:db8::1"));
        // Everyone on the way is ours: the farthest of them.
        let inside = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(address(ip("127.0.0.1"), &inside, &trusted), ip("10.9.9.9"));
        // Nothing readable: the proxy itself.
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(address(ip("127.0.0.1"), &unknown, &trusted), ip("127.0.0.1"));
    }
}
