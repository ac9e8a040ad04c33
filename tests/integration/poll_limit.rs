//! `poll_limit = true`: a client polling a feed far faster than the
//! max-age it is sent gets 429 with an integer Retry-After; one polling at
//! max-age never does, even as max-age shrinks before a release; pages
//! are never braked. Clients are told apart through a trusted proxy.

use crate::server::Server;
use crate::support::{Fixture, SITE_TOML, episode, series_toml};
use std::time::{Duration, Instant};

const NOW: &str = "2026-11-25T00:00:00Z";

fn site(max_age: u32) -> Fixture {
    let f = Fixture::empty();
    let settings =
        format!("poll_limit = true\ncache_max_age = {max_age}\ntrusted_proxies = [\"127.0.0.1/32\"]\n");
    f.write("site.toml", &format!("{settings}{SITE_TOML}"));
    f.write("s/series.toml", &series_toml("Serial", ""));
    f.write("s/01.md", &episode("One", "2026-11-02T10:00:00", "", "One.\n"));
    // Released 5 s after the server's start (09:00:05 in Seoul).
    f.write("s/02.md", &episode("Two", "2026-11-25T09:00:05", "", "Two.\n"));
    f
}

fn poll(server: &Server, path: &str, client: &str, user_agent: &str) -> crate::server::Reply {
    server.get(path, &[("x-forwarded-for", client), ("user-agent", user_agent)])
}

#[test]
fn a_client_polling_far_faster_than_max_age_gets_429_with_retry_after() {
    let f = site(2);
    let server = Server::start(&f, NOW, &[]);
    let started = Instant::now();
    let braked = loop {
        assert!(started.elapsed() < Duration::from_secs(20), "never braked");
        let reply = poll(&server, "/s/rss.xml", "198.51.100.66", "Hammer/1.0");
        if reply.status == 429 {
            break reply;
        }
        assert_eq!(reply.status, 200);
    };
    // Two windows of 2 s over the limit came first.
    assert!(started.elapsed() >= Duration::from_secs(4), "braked after {:?}", started.elapsed());
    let retry: u64 = braked.header("retry-after").parse().expect("an integer Retry-After");
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    assert_eq!(braked.header("cache-control"), "no-store");
    // Only that client and that feed: another client, another feed, pages.
    assert_eq!(poll(&server, "/s/rss.xml", "198.51.100.67", "Hammer/1.0").status, 200);
    assert_eq!(poll(&server, "/s/atom.xml", "198.51.100.66", "Hammer/1.0").status, 200);
    for _ in 0..50 {
        assert_eq!(poll(&server, "/s/1/", "198.51.100.66", "Hammer/1.0").status, 200);
    }
    // A WebSub hub fetching the feed is never braked.
    for _ in 0..50 {
        assert_eq!(poll(&server, "/s/rss.xml", "198.51.100.68", "Superfeedr bot/2.0").status, 200);
    }
}

#[test]
fn a_reader_polling_at_max_age_is_never_braked_even_across_a_release() {
    // max-age 10, the release 5 s after start: every max-age sent before
    // it is shortened to the seconds left.
    let f = site(10);
    let server = Server::start(&f, NOW, &[]);
    let started = Instant::now();
    let mut max_ages = Vec::new();
    let mut released = false;
    while started.elapsed() < Duration::from_secs(12) {
        let reply = poll(
            &server,
            "/s/rss.xml",
            "198.51.100.70",
            "NetNewsWire (RSS Reader; https://netnewswire.com/)",
        );
        assert_eq!(reply.status, 200, "after {:?}", started.elapsed());
        released |= String::from_utf8(reply.body.clone()).unwrap().contains("<title>Two</title>");
        let cache_control = reply.header("cache-control").to_owned();
        let max_age: u64 = cache_control
            .split(", ")
            .find_map(|d| d.strip_prefix("max-age="))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{cache_control}"));
        max_ages.push(max_age);
        // The reader's own schedule: back when max-age runs out.
        std::thread::sleep(Duration::from_secs(max_age));
    }
    assert!(released, "the scheduled episode went live meanwhile");
    assert!(max_ages.iter().any(|&m| m < 10), "max-age shrank before the release: {max_ages:?}");
}
