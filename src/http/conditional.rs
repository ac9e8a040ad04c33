//! Conditional requests, evaluated in the order of RFC 9110 §13.2.2:
//!
//! 1. If-Match: fails unless a listed tag matches strongly (or `*`) → 412.
//! 2. Otherwise If-Unmodified-Since: fails if modified after it → 412.
//! 3. If-None-Match: a weak match (or `*`) → 304 for GET/HEAD, else 412.
//!    When present it decides; If-Modified-Since is not looked at.
//! 4. Otherwise, for GET/HEAD, If-Modified-Since: not modified since → 304.
//!    An unparseable date is ignored, as the RFC requires.
//!
//! Dates are ignored altogether (steps 2 and 4) for a resource whose bytes
//! changed twice within the second of its Last-Modified: a date cannot tell
//! those versions apart, and a resource with no usable modification date is
//! exactly the case the RFC says to ignore them for (§13.1.3, §13.1.4).
//!
//! Tags are compared against the representation actually chosen, so a
//! gzip validator never matches the brotli body.

use hyper::Method;
use hyper::header::{
    HeaderMap, HeaderValue, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE,
};
use std::time::SystemTime;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Proceed,
    NotModified,
    PreconditionFailed,
}

pub fn evaluate(
    method: &Method,
    headers: &HeaderMap,
    etag: &HeaderValue,
    last_modified: Option<SystemTime>,
) -> Outcome {
    let etag = etag.as_bytes();
    if let Some(value) = joined(headers, IF_MATCH) {
        if !matches(&value, etag, Comparison::Strong) {
            return Outcome::PreconditionFailed;
        }
    } else if let Some(last_modified) = last_modified
        && let Some(since) = date(headers, IF_UNMODIFIED_SINCE)
        && last_modified > since
    {
        return Outcome::PreconditionFailed;
    }
    let safe = method == Method::GET || method == Method::HEAD;
    if let Some(value) = joined(headers, IF_NONE_MATCH) {
        return match (matches(&value, etag, Comparison::Weak), safe) {
            (false, _) => Outcome::Proceed,
            (true, true) => Outcome::NotModified,
            (true, false) => Outcome::PreconditionFailed,
        };
    }
    if safe
        && let Some(last_modified) = last_modified
        && let Some(since) = date(headers, IF_MODIFIED_SINCE)
        && last_modified <= since
    {
        return Outcome::NotModified;
    }
    Outcome::Proceed
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

/// All values of a list header, joined with commas (RFC 9110 §5.3).
fn joined(headers: &HeaderMap, name: hyper::header::HeaderName) -> Option<Vec<u8>> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    let mut joined = first.as_bytes().to_vec();
    for value in values {
        joined.push(b',');
        joined.extend_from_slice(value.as_bytes());
    }
    Some(joined)
}

/// Whether the entity-tag list `list` (or `*`) matches our strong `etag`.
/// Parsed tag by tag: an entity-tag may itself contain commas.
fn matches(list: &[u8], etag: &[u8], comparison: Comparison) -> bool {
    if list.iter().all(|b| b.is_ascii_whitespace() || *b == b'*') && list.contains(&b'*') {
        return true;
    }
    let mut rest = list;
    loop {
        rest = trim_start(rest, |b| b.is_ascii_whitespace() || b == b',');
        if rest.is_empty() {
            return false;
        }
        let weak = rest.starts_with(b"W/");
        if weak {
            rest = &rest[2..];
        }
        if rest.first() != Some(&b'"') {
            return false; // malformed: stop rather than guess
        }
        let Some(end) = rest[1..].iter().position(|b| *b == b'"') else { return false };
        let tag = &rest[..end + 2];
        if tag == etag && (comparison == Comparison::Weak || !weak) {
            return true;
        }
        rest = &rest[end + 2..];
    }
}

fn trim_start(bytes: &[u8], skip: impl Fn(u8) -> bool) -> &[u8] {
    let start = bytes.iter().position(|b| !skip(*b)).unwrap_or(bytes.len());
    &bytes[start..]
}

/// A date header with exactly one valid value; anything else is ignored,
/// as RFC 9110 §13.1.3 and §13.1.4 require.
fn date(headers: &HeaderMap, name: hyper::header::HeaderName) -> Option<SystemTime> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    httpdate::parse_http_date(value.to_str().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const TAG: &str = "\"abc\"";

    fn outcome(method: Method, pairs: &[(&str, &str)]) -> Outcome {
        outcome_dated(method, pairs, true)
    }

    fn outcome_dated(method: Method, pairs: &[(&str, &str)], dated: bool) -> Outcome {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let modified = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // Tue, 14 Nov 2023 22:13:20 GMT
        evaluate(&method, &headers, &HeaderValue::from_static(TAG), dated.then_some(modified))
    }

    #[test]
    fn dates_are_ignored_when_they_cannot_tell_versions_apart() {
        use Outcome::*;
        let later = "Wed, 15 Nov 2023 00:00:00 GMT";
        let earlier = "Mon, 13 Nov 2023 00:00:00 GMT";
        assert_eq!(outcome_dated(Method::GET, &[("if-modified-since", later)], false), Proceed);
        assert_eq!(outcome_dated(Method::GET, &[("if-unmodified-since", earlier)], false), Proceed);
        assert_eq!(outcome_dated(Method::GET, &[("if-none-match", TAG)], false), NotModified);
    }

    #[test]
    fn if_none_match_forms() {
        use Outcome::*;
        assert_eq!(outcome(Method::GET, &[("if-none-match", TAG)]), NotModified);
        assert_eq!(outcome(Method::GET, &[("if-none-match", "W/\"abc\"")]), NotModified);
        assert_eq!(outcome(Method::GET, &[("if-none-match", "\"x\", W/\"abc\"")]), NotModified);
        assert_eq!(outcome(Method::GET, &[("if-none-match", "\"x\""), ("if-none-match", TAG)]), NotModified);
        assert_eq!(outcome(Method::GET, &[("if-none-match", "*")]), NotModified);
        assert_eq!(outcome(Method::HEAD, &[("if-none-match", TAG)]), NotModified);
        assert_eq!(outcome(Method::GET, &[("if-none-match", "\"a,b\", \"abcd\"")]), Proceed);
        assert_eq!(outcome(Method::GET, &[("if-none-match", "abc")]), Proceed);
        assert_eq!(outcome(Method::POST, &[("if-none-match", TAG)]), PreconditionFailed);
    }

    #[test]
    fn if_none_match_beats_if_modified_since() {
        use Outcome::*;
        let later = "Wed, 15 Nov 2023 00:00:00 GMT";
        let earlier = "Mon, 13 Nov 2023 00:00:00 GMT";
        assert_eq!(
            outcome(Method::GET, &[("if-none-match", "\"other\""), ("if-modified-since", later)]),
            Proceed
        );
        assert_eq!(
            outcome(Method::GET, &[("if-none-match", TAG), ("if-modified-since", earlier)]),
            NotModified
        );
        assert_eq!(outcome(Method::GET, &[("if-modified-since", later)]), NotModified);
        assert_eq!(
            outcome(Method::GET, &[("if-modified-since", "Tue, 14 Nov 2023 22:13:20 GMT")]),
            NotModified
        );
        assert_eq!(outcome(Method::GET, &[("if-modified-since", earlier)]), Proceed);
        assert_eq!(outcome(Method::GET, &[("if-modified-since", "yesterday")]), Proceed);
        assert_eq!(
            outcome(Method::GET, &[("if-modified-since", later), ("if-modified-since", later)]),
            Proceed
        );
    }

    #[test]
    fn if_match_and_if_unmodified_since() {
        use Outcome::*;
        assert_eq!(outcome(Method::GET, &[("if-match", TAG)]), Proceed);
        assert_eq!(outcome(Method::GET, &[("if-match", "W/\"abc\"")]), PreconditionFailed);
        assert_eq!(outcome(Method::GET, &[("if-match", "*")]), Proceed);
        assert_eq!(
            outcome(Method::GET, &[("if-unmodified-since", "Mon, 13 Nov 2023 00:00:00 GMT")]),
            PreconditionFailed
        );
        assert_eq!(
            outcome(Method::GET, &[("if-unmodified-since", "Wed, 15 Nov 2023 00:00:00 GMT")]),
            Proceed
        );
    }
}
