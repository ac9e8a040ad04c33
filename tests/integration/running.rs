//! What the tests of a running server share: waiting with a deadline, the
//! status endpoint, feed titles, and a small serial to edit.

use crate::server::Server;
use crate::support::{Fixture, NOW, episode, parse_feed, series_toml, titles};
use std::time::{Duration, Instant};

pub const DEADLINE: Duration = Duration::from_secs(10);

/// Polls `check` until it returns `Some`, or fails after `DEADLINE`.
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn status(server: &Server) -> serde_json::Value {
    let reply = server.get("/_episodic/status", &[]);
    assert_eq!(reply.status, 200);
    serde_json::from_slice(&reply.body).unwrap()
}

pub fn publishes(server: &Server) -> u64 {
    status(server)["publishes"].as_u64().unwrap()
}

pub fn feed_titles(server: &Server, path: &str) -> Vec<String> {
    let reply = server.get(path, &[]);
    assert_eq!(reply.status, 200, "{path}");
    titles(&parse_feed(path, &reply.body))
}

pub fn serial() -> Fixture {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("Serial", "title_format = \"{number}화. {title}\"\n"));
    f.write("s/01-a.md", &episode("First", "2026-11-02T10:00:00", "", "One.\n"));
    f.write("s/02-b.md", &episode("Second", "2026-11-09T10:00:00", "", "Two.\n"));
    f
}

pub fn start(f: &Fixture) -> Server {
    let server = Server::start(f, NOW, &[]);
    assert_eq!(status(&server)["watching"], "events");
    server
}
