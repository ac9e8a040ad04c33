//! Scheduled episodes go live on time with no file event, and the plan
//! follows edits: drafts published, dates moved, time zones with DST.

use crate::running::{feed_titles, serial, start, status, wait_for};
use crate::server::Server;
use crate::support::{NOW, episode, parse_feed, series_toml};
use std::time::{Duration, Instant};

#[test]
fn a_scheduled_episode_goes_live_on_time_without_any_event() {
    let f = serial();
    // Two seconds after the server's clock starts (NOW is midnight UTC).
    f.write("s/03-c.md", &episode("Third", "2026-11-25T09:00:02+09:00", "", "Three.\n"));
    let started = Instant::now();
    let server = Server::start_with_args(&f, NOW, &[], &["--watch", "off"]);
    assert_eq!(status(&server)["watching"], "off");
    assert_eq!(status(&server)["next_scheduled"], "2026-11-25T00:00:02Z");
    assert_eq!(feed_titles(&server, "/s/rss.xml").len(), 2);
    let cache = server.get("/s/rss.xml", &[]);
    let max_age: u64 = cache
        .header("cache-control")
        .split("max-age=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(max_age <= 2, "{}", cache.header("cache-control"));

    wait_for("the scheduled episode", || (feed_titles(&server, "/s/rss.xml").len() == 3).then_some(()));
    let live_after = started.elapsed();
    assert!(live_after >= Duration::from_millis(1900), "went live early: {live_after:?}");
    assert!(live_after < Duration::from_millis(3500), "went live late: {live_after:?}");
    let feed = parse_feed("rss.xml", &server.get("/s/rss.xml", &[]).body);
    assert_eq!(feed.entries[0].published.unwrap().to_rfc3339(), "2026-11-25T00:00:02+00:00");
    assert_eq!(status(&server)["next_scheduled"], serde_json::Value::Null);
}

#[test]
fn moving_a_date_earlier_and_publishing_a_draft_replan_the_schedule() {
    let f = serial();
    f.write("ny/series.toml", &series_toml("New York", "timezone = \"America/New_York\"\n"));
    f.write("ny/01-a.md", &episode("Early", "2026-11-01T10:00:00", "", "A.\n"));
    f.write("ny/02-b.md", &episode("Later", "2026-12-07T10:00:00", "", "B.\n"));
    f.write("s/03-c.md", &episode("Third", "2026-11-25T09:00:01+09:00", "draft = true\n", "Three.\n"));
    let server = start(&f);
    assert_eq!(status(&server)["next_scheduled"], "2026-12-07T15:00:00Z");
    // Moved earlier, to local New York time after the November DST change:
    // 19:00:03 EST is 00:00:03 UTC the next day (not 23:00:03, as EDT).
    f.write("ny/02-b.md", &episode("Later", "2026-11-24T19:00:03", "", "B.\n"));
    wait_for("the re-plan", || (status(&server)["next_scheduled"] == "2026-11-25T00:00:03Z").then_some(()));
    // A draft whose time has come goes live as soon as it is published.
    f.write("s/03-c.md", &episode("Third", "2026-11-25T09:00:01+09:00", "", "Three.\n"));
    wait_for("the draft, published", || (feed_titles(&server, "/s/rss.xml").len() == 3).then_some(()));
    wait_for("the moved episode", || (feed_titles(&server, "/ny/rss.xml").len() == 2).then_some(()));
    let feed = parse_feed("atom.xml", &server.get("/ny/atom.xml", &[]).body);
    assert_eq!(feed.entries[0].published.unwrap().to_rfc3339(), "2026-11-25T00:00:03+00:00");
    // And later again: it leaves the feed.
    f.write("ny/02-b.md", &episode("Later", "2026-12-07T10:00:00", "", "B.\n"));
    wait_for("the episode, unpublished", || (feed_titles(&server, "/ny/rss.xml").len() == 1).then_some(()));
    assert_eq!(status(&server)["next_scheduled"], "2026-12-07T15:00:00Z");
}
