//! Range requests (RFC 9110 §14), for what is served without compressed
//! variants (images, audio, video): players seek with them, and Apple
//! Podcasts refuses a host without them.
//!
//! Asked after the preconditions (§13.2.2: a 304 or 412 comes first), and
//! only for GET. One range is answered 206 with exactly that span. Several
//! ranges get the whole file (200), which the RFC allows and every player
//! copes with: a multipart body would serve no client we know of. A range
//! that starts past the end is 416. A Range header we cannot parse is
//! ignored (200), as the RFC requires. `If-Range` lets the range through
//! only when its validator names the current version: our strong ETag, or
//! exactly our Last-Modified when that date tells versions apart.

use http_range_header::{RangeUnsatisfiableError, parse_range_header};
use hyper::Method;
use hyper::header::{HeaderMap, HeaderValue, IF_RANGE, RANGE};
use std::ops::RangeInclusive;
use std::time::SystemTime;

#[derive(Debug, PartialEq, Eq)]
pub enum Ranged {
    /// Send the whole representation, 200.
    Whole,
    /// Send these bytes (first and last, inclusive), 206.
    Part(RangeInclusive<u64>),
    /// 416: no asked range overlaps the `len` bytes there are.
    Unsatisfiable,
}

/// What to send of a representation of `len` bytes with validators `etag`
/// and `last_modified` (`None`: the date cannot tell versions apart).
pub fn evaluate(
    method: &Method,
    headers: &HeaderMap,
    len: u64,
    etag: &HeaderValue,
    last_modified: Option<SystemTime>,
) -> Ranged {
    if method != Method::GET {
        return Ranged::Whole;
    }
    let Some(range) = headers.get(RANGE).and_then(|v| v.to_str().ok()) else { return Ranged::Whole };
    if let Some(validator) = headers.get(IF_RANGE)
        && !names_current(validator, etag, last_modified)
    {
        return Ranged::Whole;
    }
    let parsed = match parse_range_header(range) {
        Ok(parsed) => parsed,
        Err(RangeUnsatisfiableError::Unsatisfiable) => return Ranged::Unsatisfiable,
        Err(_) => return Ranged::Whole,
    };
    match parsed.validate(len) {
        Ok(ranges) if ranges.len() == 1 => Ranged::Part(ranges[0].clone()),
        Err(RangeUnsatisfiableError::Unsatisfiable) => Ranged::Unsatisfiable,
        // Several ranges, or none to send (a suffix of an empty file), or
        // ranges that overlap too much.
        _ => Ranged::Whole,
    }
}

/// `Content-Range` of a 206: `bytes FIRST-LAST/LEN`.
pub fn content_range(part: &RangeInclusive<u64>, len: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("bytes {}-{}/{len}", part.start(), part.end()))
        .expect("digits are a valid header value")
}

/// `Content-Range` of a 416: `bytes */LEN`.
pub fn unsatisfied_range(len: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("bytes */{len}")).expect("digits are a valid header value")
}

/// Whether an `If-Range` value is our strong ETag (a weak tag never is), or
/// an HTTP date exactly our Last-Modified.
fn names_current(validator: &HeaderValue, etag: &HeaderValue, last_modified: Option<SystemTime>) -> bool {
    let bytes = validator.as_bytes();
    if bytes.starts_with(b"\"") || bytes.starts_with(b"W/") {
        return bytes == etag.as_bytes() && !bytes.starts_with(b"W/");
    }
    let date = validator.to_str().ok().and_then(|v| httpdate::parse_http_date(v).ok());
    date.is_some_and(|date| Some(date) == last_modified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn ranged(pairs: &[(&str, &str)]) -> Ranged {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            let name = hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
            headers.append(name, HeaderValue::from_str(value).unwrap());
        }
        let modified = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
        evaluate(&Method::GET, &headers, 1000, &HeaderValue::from_static("\"abc\""), Some(modified))
    }

    #[test]
    fn the_three_forms_and_the_edges() {
        assert_eq!(ranged(&[("range", "bytes=0-99")]), Ranged::Part(0..=99));
        assert_eq!(ranged(&[("range", "bytes=900-")]), Ranged::Part(900..=999));
        assert_eq!(ranged(&[("range", "bytes=-100")]), Ranged::Part(900..=999));
        assert_eq!(ranged(&[("range", "bytes=990-5000")]), Ranged::Part(990..=999));
        assert_eq!(ranged(&[("range", "bytes=-5000")]), Ranged::Part(0..=999));
        assert_eq!(ranged(&[("range", "bytes=1000-")]), Ranged::Unsatisfiable);
        assert_eq!(ranged(&[("range", "bytes=0-1,5-9")]), Ranged::Whole);
        assert_eq!(ranged(&[("range", "bytes=9-1")]), Ranged::Whole, "unparseable is ignored");
        assert_eq!(ranged(&[("range", "lines=1-2")]), Ranged::Whole);
        assert_eq!(ranged(&[]), Ranged::Whole);
    }

    #[test]
    fn if_range_needs_the_current_strong_validator() {
        let range = ("range", "bytes=0-9");
        assert_eq!(ranged(&[range, ("if-range", "\"abc\"")]), Ranged::Part(0..=9));
        assert_eq!(ranged(&[range, ("if-range", "W/\"abc\"")]), Ranged::Whole);
        assert_eq!(ranged(&[range, ("if-range", "\"old\"")]), Ranged::Whole);
        let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(1_764_000_000));
        assert_eq!(ranged(&[range, ("if-range", &date)]), Ranged::Part(0..=9));
        let earlier = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(1_763_999_999));
        assert_eq!(ranged(&[range, ("if-range", &earlier)]), Ranged::Whole);
    }
}
