//! WebSub: feeds name the hub, and the hub is pinged once per changed feed,
//! by the real server, at a local endpoint that records every ping.

use crate::running::{feed_titles, serial, status, wait_for};
use crate::server::Server;
use crate::support::{NOW, SITE_TOML, episode, parse_feed, series_toml};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A hub on 127.0.0.1 that records each ping's `hub.url` and answers 500 to
/// the first `failures` requests, 202 after.
struct Hub {
    url: String,
    pings: Arc<Mutex<Vec<String>>>,
}

impl Hub {
    fn start(failures: usize) -> Hub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hub", listener.local_addr().unwrap());
        let pings = Arc::new(Mutex::new(Vec::new()));
        let recorded = pings.clone();
        std::thread::spawn(move || {
            let mut answered = 0;
            // Ends with the test process; each connection is one request.
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (first, body) = read_request(&stream);
                assert!(first.starts_with("POST /hub "), "{first}");
                let form: BTreeMap<String, String> =
                    url::form_urlencoded::parse(&body).into_owned().collect();
                assert_eq!(form.get("hub.mode").map(String::as_str), Some("publish"), "{form:?}");
                recorded.lock().unwrap().push(form["hub.url"].clone());
                let status = if answered < failures { "500 Internal Server Error" } else { "202 Accepted" };
                answered += 1;
                let _ = stream.write_all(
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes(),
                );
            }
        });
        Hub { url, pings }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.pings.lock().unwrap())
    }

    fn count(&self) -> usize {
        self.pings.lock().unwrap().len()
    }
}

/// The test site.toml, naming `hub` (before its `[author]` table).
fn with_hub(hub: &Hub) -> String {
    SITE_TOML.replace("[author]", &format!("websub_hub = \"{}\"\n[author]", hub.url))
}

fn sorted(mut urls: Vec<String>) -> Vec<String> {
    urls.sort();
    urls
}

fn feeds_of(prefix: &str) -> Vec<String> {
    ["atom.xml", "feed.json", "rss.xml"]
        .iter()
        .map(|name| format!("https://example.com/{prefix}{name}"))
        .collect()
}

#[test]
fn the_hub_is_named_and_pinged_once_per_changed_feed() {
    let hub = Hub::start(0);
    let f = serial();
    f.write("site.toml", &with_hub(&hub));
    f.write("t/series.toml", &series_toml("Other", ""));
    f.write("t/01-x.md", &episode("Other one", "2026-11-03T10:00:00", "", "X.\n"));
    // Two seconds after start: a scheduled episode is a change too.
    f.write("t/02-y.md", &episode("Other two", "2026-11-25T09:00:02+09:00", "", "Y.\n"));
    let server = Server::start(&f, NOW, &[]);

    // A first start writes every feed: each is announced once.
    let everything: Vec<String> = sorted([feeds_of(""), feeds_of("s/"), feeds_of("t/")].concat());
    wait_for("the first pings", || (hub.count() >= 9).then_some(()));
    assert_eq!(sorted(hub.take()), everything);
    // The outcome reaches the status endpoint once the hub has answered.
    wait_for("the outcome", || (status(&server)["websub"]["result"] == "ok").then_some(()));
    assert_eq!(status(&server)["websub"]["hub"], hub.url.as_str());

    // Every feed names the hub, in its body and in a Link header.
    let reply = server.get("/s/atom.xml", &[]);
    assert_eq!(
        reply.header("link"),
        format!("<{}>; rel=\"hub\", <https://example.com/s/atom.xml>; rel=\"self\"", hub.url)
    );
    let atom = parse_feed("atom.xml", &reply.body);
    let rels: Vec<(&str, &str)> =
        atom.links.iter().map(|l| (l.rel.as_deref().unwrap_or(""), l.href.as_str())).collect();
    assert!(rels.contains(&("hub", hub.url.as_str())), "{rels:?}");
    assert!(rels.contains(&("self", "https://example.com/s/atom.xml")), "{rels:?}");
    let rss = String::from_utf8(server.get("/s/rss.xml", &[]).body).unwrap();
    assert!(rss.contains(&format!("<atom:link href=\"{}\" rel=\"hub\"/>", hub.url)), "{rss}");
    let json: serde_json::Value = serde_json::from_slice(&server.get("/feed.json", &[]).body).unwrap();
    assert_eq!(json["hubs"], serde_json::json!([{"type": "WebSub", "url": hub.url}]));

    // The scheduled episode: its series' feeds and the site's, once each.
    wait_for("the scheduled pings", || (hub.count() >= 6).then_some(()));
    assert_eq!(feed_titles(&server, "/t/rss.xml").len(), 2);
    assert_eq!(sorted(hub.take()), sorted([feeds_of(""), feeds_of("t/")].concat()));

    // An edit in one series: its feeds and the site's, not the other's.
    f.write("s/02-b.md", &episode("Second, revised", "2026-11-09T10:00:00", "", "Two.\n"));
    wait_for("the edit's pings", || (hub.count() >= 6).then_some(()));
    // A later edit's pings come after any extra ones for the first.
    f.write("t/01-x.md", &episode("Other one, revised", "2026-11-03T10:00:00", "", "X.\n"));
    wait_for("the second edit's pings", || (hub.count() >= 12).then_some(()));
    let pings = hub.take();
    assert_eq!(sorted(pings[..6].to_vec()), sorted([feeds_of(""), feeds_of("s/")].concat()));
    assert_eq!(sorted(pings[6..].to_vec()), sorted([feeds_of(""), feeds_of("t/")].concat()));

    // A touch changes no feed: no ping.
    f.write("t/01-x.md", &episode("Other one, revised", "2026-11-03T10:00:00", "", "X.\n"));
    f.write("s/01-a.md", &episode("First, revised", "2026-11-02T10:00:00", "", "One.\n"));
    wait_for("the last edit's pings", || (hub.count() >= 6).then_some(()));
    assert_eq!(sorted(hub.take()), sorted([feeds_of(""), feeds_of("s/")].concat()));
}

#[test]
fn a_failed_ping_is_retried() {
    let hub = Hub::start(1);
    let f = serial();
    f.write("site.toml", &with_hub(&hub));
    let server = Server::start(&f, NOW, &[]);
    let pings = wait_for("the retry", || {
        let pings = hub.pings.lock().unwrap().clone();
        (pings.len() >= 7).then_some(pings)
    });
    // Six feeds; the first answer was a 500, so that feed was pinged again.
    assert_eq!(pings.len(), 7);
    assert_eq!(pings.iter().filter(|p| **p == pings[0]).count(), 2, "{pings:?}");
    wait_for("the ok", || (status(&server)["websub"]["result"] == "ok").then_some(()));
    assert_eq!(status(&server)["websub"]["detail"], "HTTP 202");
}

/// One HTTP/1.1 request from `stream`: its request line and its body (by
/// Content-Length).
fn read_request(stream: &std::net::TcpStream) -> (String, Vec<u8>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (first, body)
}

/// An endpoint on 127.0.0.1 that records the target of each GET and
/// answers 200.
fn ping_endpoint() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = seen.clone();
    std::thread::spawn(move || {
        // Ends with the test process; each connection is one request.
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (first, _) = read_request(&stream);
            recorded.lock().unwrap().push(first.trim().to_owned());
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (base, seen)
}

#[test]
fn pings_get_each_address_with_the_changed_feed_encoded() {
    let (base, seen) = ping_endpoint();
    let f = serial();
    let pings = format!("pings = [\"{base}/pubnotify?url={{feed}}\"]\n[author]");
    f.write("site.toml", &SITE_TOML.replace("[author]", &pings));
    let server = Server::start(&f, NOW, &[]);
    let first = wait_for("the first pings", || {
        let seen = seen.lock().unwrap().clone();
        (seen.len() >= 6).then_some(seen)
    });
    // Every current feed once, as a GET with the feed's URL encoded.
    let expected: Vec<String> =
        ["atom.xml", "feed.json", "rss.xml", "s/atom.xml", "s/feed.json", "s/rss.xml"]
            .iter()
            .map(|feed| {
                let url: String =
                    url::form_urlencoded::byte_serialize(format!("https://example.com/{feed}").as_bytes())
                        .collect();
                format!("GET /pubnotify?url={url} HTTP/1.1")
            })
            .collect();
    assert_eq!(sorted(first), expected);
    seen.lock().unwrap().clear();
    f.write("s/03-c.md", &episode("Third", "2026-11-16T10:00:00", "", "Three.\n"));
    let again = wait_for("pings after an edit", || {
        let seen = seen.lock().unwrap().clone();
        (seen.len() >= 6).then_some(seen)
    });
    assert_eq!(sorted(again), expected);
    assert_eq!(feed_titles(&server, "/s/rss.xml").len(), 3);

    f.write("site.toml", &SITE_TOML.replace("[author]", "pings = [\"https://example.com/ping\"]\n[author]"));
    let run = f.check();
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("`pings`: `https://example.com/ping` must be a full http(s) address with {feed}"),
        "{}",
        run.stderr
    );
}
