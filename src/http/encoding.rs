//! Accept-Encoding → the stored variant to send (RFC 9110 §12.5.3).
//!
//! Highest q-value wins; at equal q, br > zstd > gzip > identity. `q=0`
//! refuses a coding. Identity is acceptable unless refused by
//! `identity;q=0`, or by `*;q=0` without an identity entry; it is the least
//! preferred of what is acceptable when not named. `None` means nothing
//! acceptable is stored: 406.

use crate::compress::Encoding;
use hyper::header::{ACCEPT_ENCODING, HeaderMap};

/// Weights in thousandths, as q-values have at most three decimals.
type Weight = u16;

pub fn choose(headers: &HeaderMap, available: impl Iterator<Item = Encoding>) -> Option<Encoding> {
    let mut values = headers.get_all(ACCEPT_ENCODING).iter().peekable();
    if values.peek().is_none() {
        return Some(Encoding::Identity);
    }
    let mut listed: Vec<(String, Weight)> = Vec::new();
    for value in values {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            if coding.is_empty() {
                continue;
            }
            let weight = parts.find_map(|p| {
                let (name, value) = p.split_once('=')?;
                name.trim().eq_ignore_ascii_case("q").then(|| parse_q(value.trim()))
            });
            match weight {
                Some(None) => continue, // a malformed q-value: ignore the entry
                Some(Some(q)) => listed.push((coding, q)),
                None => listed.push((coding, 1000)),
            }
        }
    }
    let find = |name: &str| listed.iter().find(|(c, _)| c == name).map(|(_, q)| *q);
    let any = find("*");
    let weight_of = |encoding: Encoding| -> Weight {
        match encoding {
            Encoding::Identity => find("identity").or(any.filter(|q| *q == 0)).unwrap_or(1),
            Encoding::Gzip => find("gzip").or(find("x-gzip")).or(any).unwrap_or(0),
            other => find(other.token()).or(any).unwrap_or(0),
        }
    };
    available
        .map(|encoding| (weight_of(encoding), encoding))
        .filter(|(weight, _)| *weight > 0)
        // Highest weight; at equal weight the earlier Encoding (br first).
        .min_by_key(|(weight, encoding)| (std::cmp::Reverse(*weight), *encoding))
        .map(|(_, encoding)| encoding)
}

/// `0`, `0.5`, `1.000` → thousandths; anything else → `None`.
fn parse_q(text: &str) -> Option<Weight> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: Weight = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    const ALL: [Encoding; 4] = [Encoding::Identity, Encoding::Brotli, Encoding::Zstd, Encoding::Gzip];

    fn pick(accept: Option<&str>) -> Option<Encoding> {
        let mut headers = HeaderMap::new();
        if let Some(value) = accept {
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        }
        choose(&headers, ALL.into_iter())
    }

    #[test]
    fn negotiates_by_q_then_preference() {
        assert_eq!(pick(None), Some(Encoding::Identity));
        assert_eq!(pick(Some("")), Some(Encoding::Identity));
        assert_eq!(pick(Some("gzip")), Some(Encoding::Gzip));
        assert_eq!(pick(Some("gzip, deflate, br, zstd")), Some(Encoding::Brotli));
        assert_eq!(pick(Some("gzip, zstd")), Some(Encoding::Zstd));
        assert_eq!(pick(Some("br;q=0.5, gzip")), Some(Encoding::Gzip));
        assert_eq!(pick(Some("br;q=0, gzip;q=0.1")), Some(Encoding::Gzip));
        assert_eq!(pick(Some("*")), Some(Encoding::Brotli));
        assert_eq!(pick(Some("*;q=0.5, identity")), Some(Encoding::Identity));
        assert_eq!(pick(Some("x-gzip")), Some(Encoding::Gzip));
        assert_eq!(pick(Some("GZIP;Q=1.0")), Some(Encoding::Gzip));
        assert_eq!(pick(Some("deflate")), Some(Encoding::Identity));
    }

    #[test]
    fn refusals_and_406() {
        assert_eq!(pick(Some("gzip;q=0")), Some(Encoding::Identity));
        assert_eq!(pick(Some("identity;q=0")), None);
        assert_eq!(pick(Some("*;q=0")), None);
        assert_eq!(pick(Some("identity;q=0, gzip")), Some(Encoding::Gzip));
        assert_eq!(pick(Some("*;q=0, identity")), Some(Encoding::Identity));
        let headers = {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity;q=0, br"));
            h
        };
        assert_eq!(choose(&headers, [Encoding::Identity].into_iter()), None);
    }

    #[test]
    fn malformed_q_values_are_ignored() {
        assert_eq!(pick(Some("br;q=2, gzip")), Some(Encoding::Gzip));
        assert_eq!(pick(Some("br;q=0.1234, gzip;q=0.5")), Some(Encoding::Gzip));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.001"), None);
    }
}
