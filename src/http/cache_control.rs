//! `Cache-Control` for a resource at a given instant.
//!
//! `public, max-age=N` lets readers, proxies and CDNs keep a feed N seconds;
//! `stale-if-error` lets a CDN serve through our restarts. A feed whose next
//! scheduled episode is due sooner than N gets exactly the seconds left
//! (rounded up, at least 1): aggregators wait max-age before polling again,
//! and Monday's 10:00 episode must reach them at 10:00, not an hour late.
//! `stale-while-revalidate` is then left out too, since the stale copy is
//! exactly what must not be served past that instant.

use hyper::header::HeaderValue;
use jiff::Timestamp;

pub use crate::render::history::ARCHIVE_MAX_AGE;
/// How long a cache may serve stale content while it revalidates.
const STALE_WHILE_REVALIDATE: u32 = 60;
/// How long a cache may serve stale content while the origin fails.
const STALE_IF_ERROR: u32 = 86_400;
/// The shortest max-age we ever give: a second.
const FLOOR: u32 = 1;

pub fn header(max_age: u32, changes_at: Option<Timestamp>, now: Timestamp) -> HeaderValue {
    match shortened(max_age, changes_at, now) {
        Some(seconds) => {
            let value = format!("public, max-age={seconds}, stale-if-error={STALE_IF_ERROR}");
            HeaderValue::from_str(&value).expect("ASCII digits and words")
        }
        None => long(max_age),
    }
}

/// The max-age `header` sends.
pub fn seconds(max_age: u32, changes_at: Option<Timestamp>, now: Timestamp) -> u32 {
    shortened(max_age, changes_at, now).unwrap_or(max_age)
}

/// The max-age before a scheduled change, when it must be shorter.
fn shortened(max_age: u32, changes_at: Option<Timestamp>, now: Timestamp) -> Option<u32> {
    let until_change = changes_at.map(|at| {
        let nanos = at.as_nanosecond() - now.as_nanosecond();
        let seconds = (nanos + 999_999_999).div_euclid(1_000_000_000);
        u32::try_from(seconds.max(i128::from(FLOOR))).unwrap_or(u32::MAX)
    })?;
    // A cache may serve a stale copy for max-age + stale-while-revalidate:
    // that whole span must end before the scheduled change.
    (until_change < max_age.saturating_add(STALE_WHILE_REVALIDATE)).then(|| until_change.min(max_age))
}

/// The usual value, made once per thread rather than per response.
fn long(max_age: u32) -> HeaderValue {
    thread_local! {
        static CACHED: std::cell::RefCell<Option<(u32, HeaderValue)>> = const { std::cell::RefCell::new(None) };
    }
    CACHED.with_borrow_mut(|cached| match cached {
        Some((age, value)) if *age == max_age => value.clone(),
        _ => {
            let value = format!(
                "public, max-age={max_age}, stale-while-revalidate={STALE_WHILE_REVALIDATE}, stale-if-error={STALE_IF_ERROR}"
            );
            let value = HeaderValue::from_str(&value).expect("ASCII digits and words");
            *cached = Some((max_age, value.clone()));
            value
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn shortens_max_age_before_a_scheduled_episode() {
        let now = at("2026-11-30T00:59:50.200Z");
        let long = "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400";
        assert_eq!(header(300, None, now), long);
        assert_eq!(header(300, Some(at("2026-11-30T02:00:00Z")), now), long);
        // Due in 330 s: max-age 300 would do, but not with 60 s more of stale.
        assert_eq!(
            header(300, Some(at("2026-11-30T01:05:20.2Z")), now),
            "public, max-age=300, stale-if-error=86400"
        );
        assert_eq!(
            header(300, Some(at("2026-11-30T01:00:00Z")), now),
            "public, max-age=10, stale-if-error=86400"
        );
        assert_eq!(
            header(300, Some(at("2026-11-30T00:59:50.2Z")), now),
            "public, max-age=1, stale-if-error=86400"
        );
        assert_eq!(
            header(300, Some(at("2026-11-29T00:00:00Z")), now),
            "public, max-age=1, stale-if-error=86400"
        );
    }
}
