//! Full history (RFC 5005): a client walking from the current feed through
//! `prev-archive` recovers every published episode exactly once, in every
//! format, and caches may keep full archive blocks for a day.

use crate::server::Server;
use crate::support::{Fixture, NOW, SITE_TOML, episode, parse_feed, series_toml};

/// Ten published episodes, a draft and a scheduled one; feeds of three.
fn long_serial() -> Fixture {
    let f = Fixture::new();
    f.write("site.toml", &SITE_TOML.replace("timezone", "feed_limit = 3\ntimezone"));
    f.write("s/series.toml", &series_toml("Long", ""));
    for n in 1..=10 {
        f.write(
            &format!("s/{n:02}.md"),
            &episode(&format!("E{n}"), &format!("2026-10-{n:02}T10:00:00"), "", "Body.\n"),
        );
    }
    f.write("s/11.md", &episode("Draft", "2026-10-11T10:00:00", "draft = true\n", "Body.\n"));
    f.write("s/12.md", &episode("Later", "2026-12-12T10:00:00", "", "Body.\n"));
    f
}

fn permalinks(numbers: impl IntoIterator<Item = u32>) -> Vec<String> {
    numbers.into_iter().map(|n| format!("https://example.com/s/{n}/")).collect()
}

fn local(url: &str) -> &str {
    url.strip_prefix("https://example.com").unwrap()
}

/// The `rel` link of an RSS channel's atom:links or an Atom feed's links.
fn xml_link(body: &[u8], rel: &str) -> Option<String> {
    let text = std::str::from_utf8(body).unwrap();
    let doc = roxmltree::Document::parse(text).unwrap();
    doc.descendants()
        .filter(|n| n.tag_name().name() == "link" && n.attribute("rel") == Some(rel))
        .find(|n| n.parent().is_some_and(|p| matches!(p.tag_name().name(), "channel" | "feed")))
        .and_then(|n| n.attribute("href").map(str::to_owned))
}

fn has_history_marker(body: &[u8], marker: &str) -> bool {
    let doc = roxmltree::Document::parse(std::str::from_utf8(body).unwrap()).unwrap();
    doc.descendants().any(|n| {
        n.tag_name().namespace() == Some("http://purl.org/syndication/history/1.0")
            && n.tag_name().name() == marker
    })
}

#[test]
fn walking_the_archives_recovers_every_episode_once_in_order() {
    let f = long_serial();
    let server = Server::start(&f, NOW, &[]);
    for name in ["rss.xml", "atom.xml", "feed.json"] {
        let mut url = format!("https://example.com/s/{name}");
        let mut ids = Vec::new();
        let mut documents = 0;
        loop {
            let reply = server.get(local(&url), &[]);
            assert_eq!(reply.status, 200, "{url}");
            let feed = parse_feed(name, &reply.body);
            ids.extend(feed.entries.iter().map(|e| e.id.clone()));
            let older = if name == "feed.json" {
                let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                json["next_url"].as_str().map(str::to_owned)
            } else {
                if documents > 0 {
                    assert!(has_history_marker(&reply.body, "archive"), "{url}");
                    assert_eq!(
                        xml_link(&reply.body, "current").unwrap(),
                        format!("https://example.com/s/{name}")
                    );
                } else {
                    assert!(!has_history_marker(&reply.body, "complete"), "{url}");
                }
                xml_link(&reply.body, "prev-archive")
            };
            documents += 1;
            match older {
                Some(next) => url = next,
                None => break,
            }
            assert!(documents < 10, "the chain loops");
        }
        // Current: 10, 9, 8; archives 7–9 (7), 4–6, 1–3.
        assert_eq!(documents, 4, "{name}");
        assert_eq!(ids, permalinks((1..=10).rev()), "{name}");
    }
    // Archives link both ways.
    let middle = server.get("/s/archive/4-6/atom.xml", &[]);
    assert_eq!(xml_link(&middle.body, "next-archive").unwrap(), "https://example.com/s/archive/7-9/atom.xml");
    assert_eq!(xml_link(&middle.body, "prev-archive").unwrap(), "https://example.com/s/archive/1-3/atom.xml");
    assert_eq!(xml_link(&middle.body, "self").unwrap(), "https://example.com/s/archive/4-6/atom.xml");
}

#[test]
fn full_archive_blocks_are_cached_for_a_day_and_the_newest_block_briefly() {
    let f = long_serial();
    let server = Server::start(&f, NOW, &[]);
    for path in ["/s/archive/1-3/rss.xml", "/s/archive/4-6/feed.json"] {
        assert_eq!(
            server.get(path, &[]).header("cache-control"),
            "public, max-age=86400, stale-while-revalidate=60, stale-if-error=86400",
            "{path}"
        );
    }
    // The newest block grows when episode 11 or 12 pushes 8 out of the feed.
    assert_eq!(
        server.get("/s/archive/7-9/atom.xml", &[]).header("cache-control"),
        "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"
    );
    // Archives are not announced to WebSub hubs and carry no Link header.
    assert_eq!(server.get("/s/archive/1-3/rss.xml", &[]).header("link"), "");
}

#[test]
fn everything_fits_so_the_feed_says_complete() {
    let f = long_serial();
    f.write("site.toml", SITE_TOML);
    f.build_ok();
    for name in ["s/rss.xml", "s/atom.xml"] {
        let body = f.read_out(name);
        assert!(has_history_marker(&body, "complete"), "{name}");
        assert_eq!(xml_link(&body, "prev-archive"), None);
    }
    assert!(!f.out().join("s/archive").exists());
    assert_eq!(parse_feed("atom.xml", &f.read_out("s/atom.xml")).entries.len(), 10);
}

#[test]
fn an_edit_to_an_old_episode_changes_only_its_archive_block() {
    let f = long_serial();
    f.build_ok();
    let before: Vec<Vec<u8>> = ["s/archive/1-3/atom.xml", "s/archive/4-6/atom.xml", "s/atom.xml"]
        .iter()
        .map(|p| f.read_out(p))
        .collect();
    f.write("s/05.md", &episode("E5, corrected", "2026-10-05T10:00:00", "", "Body.\n"));
    f.build_ok();
    assert_eq!(f.read_out("s/archive/1-3/atom.xml"), before[0]);
    assert_ne!(f.read_out("s/archive/4-6/atom.xml"), before[1]);
    assert_eq!(f.read_out("s/atom.xml"), before[2]);
    let titles: Vec<String> = parse_feed("atom.xml", &f.read_out("s/archive/4-6/atom.xml"))
        .entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect();
    assert_eq!(titles, ["E6", "E5, corrected", "E4"]);
}
