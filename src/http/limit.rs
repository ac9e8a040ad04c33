//! An optional brake on a client that polls one feed far more often than
//! the max-age it was sent (site.toml `poll_limit = true`; off by default).
//!
//! A window lasts the max-age sent when it began, and ends sooner if a
//! shorter one is sent meanwhile (before a scheduled episode max-age
//! shrinks to the seconds left, and a reader that follows it must never be
//! braked). A client that fetched one feed more than [`LIMIT`] times in
//! each of two windows running, and does again in a third, gets 429 with
//! `Retry-After` = the seconds to that window's end. A reader polling at
//! max-age fetches about once a window. Feeds only: never pages, media,
//! archives or WebSub hubs. Readers are told apart by a keyed hash of their
//! address and User-Agent, kept in memory only.
//!
//! Miniflux stops polling a feed after 3 errors, 429 included, and FreshRSS
//! 1.27 slowed every feed of a host that answered 429: hence the slack.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Fetches a window allows.
pub const LIMIT: u32 = 10;
/// Windows over the limit, in a row, before the brake.
const WINDOWS_OVER: u8 = 2;
/// Clients remembered; past this, expired ones are forgotten first, then all.
const CLIENTS: usize = 65_536;
/// User-Agents of WebSub hubs, which fetch a feed when told it changed.
const HUBS: &[&str] = &["PubSubHubbub", "pubsubhubbub", "Superfeedr", "WebSub", "websub"];

struct Polls {
    end: Instant,
    /// How long the window was when it began.
    length: Duration,
    count: u32,
    over: u8,
}

pub struct Limiter {
    key: [u8; 32],
    clients: Mutex<HashMap<[u8; 16], Polls>>,
}

impl Default for Limiter {
    fn default() -> Self {
        let mut key = [0u8; 32];
        // Without randomness the hash is still one-way; only less private.
        let _ = getrandom::fill(&mut key);
        Limiter { key, clients: Mutex::new(HashMap::new()) }
    }
}

impl Limiter {
    /// Notes a fetch of `feed` by (`client`, `user_agent`), answered with
    /// `max_age`; `Some(seconds)` to tell it to come back then (429).
    pub fn fetch(
        &self,
        feed: &str,
        client: IpAddr,
        user_agent: &[u8],
        max_age: u32,
        now: Instant,
    ) -> Option<u64> {
        if std::str::from_utf8(user_agent).is_ok_and(|ua| HUBS.iter().any(|hub| ua.contains(hub))) {
            return None;
        }
        let reader = crate::audience::reader(&self.key, client, user_agent);
        let mut hasher = blake3::Hasher::new();
        hasher.update(&reader).update(feed.as_bytes());
        let key: [u8; 16] = hasher.finalize().as_bytes()[..16].try_into().unwrap_or_default();
        let sent = Duration::from_secs(u64::from(max_age.max(1)));
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() >= CLIENTS && !clients.contains_key(&key) {
            clients.retain(|_, polls| polls.end > now);
            if clients.len() >= CLIENTS {
                clients.clear();
            }
        }
        let polls = clients.entry(key).or_insert(Polls { end: now + sent, length: sent, count: 0, over: 0 });
        if now >= polls.end {
            // A window right after a window over the limit keeps the run.
            let running = now < polls.end + polls.length;
            polls.over = if polls.count > LIMIT && running { polls.over.saturating_add(1) } else { 0 };
            *polls = Polls { end: now + sent, length: sent, count: 0, over: polls.over };
        } else {
            polls.end = polls.end.min(now + sent);
        }
        polls.count += 1;
        (polls.over >= WINDOWS_OVER && polls.count > LIMIT)
            .then(|| polls.end.saturating_duration_since(now).as_secs_f64().ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::{LIMIT, Limiter};
    use std::net::IpAddr;
    use std::time::{Duration, Instant};

    const READER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1));

    #[test]
    fn braked_in_the_third_window_running_over_the_limit_and_released_by_backing_off() {
        let limiter = Limiter::default();
        let start = Instant::now();
        let at = |s: f64| start + Duration::from_secs_f64(s);
        for window in 0..2 {
            for n in 0..=LIMIT {
                let t = f64::from(window) * 10.0 + f64::from(n) * 0.1;
                assert_eq!(
                    limiter.fetch("s/rss.xml", READER, b"x", 10, at(t)),
                    None,
                    "window {window} fetch {n}"
                );
            }
        }
        for n in 0..LIMIT {
            assert_eq!(limiter.fetch("s/rss.xml", READER, b"x", 10, at(20.0 + f64::from(n) * 0.1)), None);
        }
        assert_eq!(
            limiter.fetch("s/rss.xml", READER, b"x", 10, at(21.5)),
            Some(9),
            "seconds to the window's end"
        );
        // Another feed, another client, a hub: not braked.
        assert_eq!(limiter.fetch("s/atom.xml", READER, b"x", 10, at(21.6)), None);
        assert_eq!(limiter.fetch("s/rss.xml", READER, b"y", 10, at(21.6)), None);
        assert_eq!(limiter.fetch("s/rss.xml", READER, b"Superfeedr bot/2.0", 10, at(21.6)), None);
        // Backing off for a window releases it.
        assert_eq!(limiter.fetch("s/rss.xml", READER, b"x", 10, at(40.5)), None);
    }

    #[test]
    fn a_reader_at_max_age_is_never_braked_even_as_max_age_shrinks_before_a_release() {
        let limiter = Limiter::default();
        let start = Instant::now();
        let mut t: f64 = 250.0;
        // max-age 300, then the seconds left before a release at 600 s,
        // then 300 again: the reader comes back when each runs out.
        for _ in 0..200 {
            let left = 600.0 - t;
            let max_age = if left > 0.0 && left < 360.0 { left.ceil().min(300.0) as u32 } else { 300 };
            let now = start + Duration::from_secs_f64(t);
            assert_eq!(limiter.fetch("s/rss.xml", READER, b"x", max_age, now), None, "at {t} s");
            t += f64::from(max_age);
        }
    }
}
