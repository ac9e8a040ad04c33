//! Subscribers and reads, counted by the real server from real requests
//! and read back from `/_episodic/status`, `/_episodic/stats` and the
//! SQLite file itself. Clients are told apart by `X-Forwarded-For` from a
//! trusted proxy (127.0.0.1), as behind nginx.

use crate::running::{status, wait_for};
use crate::server::{Reply, Server};
use crate::support::{Fixture, SITE_TOML, episode, series_toml};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

const NOW: &str = "2026-11-25T00:00:00Z";
const NETNEWSWIRE: &str = "NetNewsWire (RSS Reader; https://netnewswire.com/)";
const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const KAKAOTALK: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.4.5";

fn site(extra: &str) -> Fixture {
    let f = Fixture::empty();
    f.write("site.toml", &format!("trusted_proxies = [\"127.0.0.1/32\"]\n{extra}{SITE_TOML}"));
    f.write("s/series.toml", &series_toml("Serial", ""));
    f.write("s/01.md", &episode("One", "2026-11-02T10:00:00", "", "One.\n"));
    f.write("s/02.md", &episode("Two", "2026-11-09T10:00:00", "", "Two.\n"));
    f.write("s/03.md", &episode("Three", "2027-01-04T10:00:00", "", "Not yet.\n"));
    // Read by the tests' marker reader only.
    f.write("s/04.md", &episode("Four", "2026-11-16T10:00:00", "", "Four.\n"));
    f
}

/// A request from `client` (through the trusted proxy) with `user_agent`.
fn from(server: &Server, path: &str, client: &str, user_agent: &str) -> Reply {
    let reply = server.get(path, &[("x-forwarded-for", client), ("user-agent", user_agent)]);
    assert!(reply.status == 200 || reply.status == 404, "{path}: {}", reply.status);
    reply
}

fn audience(server: &Server) -> Value {
    status(server)["audience"].clone()
}

/// Waits until the recorder has committed everything sent so far: a read
/// of the marker episode by a new reader, sent last, is counted.
fn settled(server: &Server) -> Value {
    static READERS: AtomicU32 = AtomicU32::new(1);
    let reads = |audience: &Value| audience["episodes"]["s/4"]["reads"].as_u64().unwrap_or(0);
    let before = reads(&audience(server));
    let reader = format!("192.0.2.{}", READERS.fetch_add(1, Ordering::Relaxed));
    from(server, "/s/4/", &reader, "Mozilla/5.0 (marker) Firefox/133.0");
    let audience = wait_for("the recorder's commit", || {
        let audience = audience(server);
        (reads(&audience) > before).then_some(audience)
    });
    assert_eq!(reads(&audience), before + 1);
    audience
}

fn state_files(f: &Fixture) -> Vec<PathBuf> {
    let dir = f.content().parent().unwrap().join(".episodic");
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

#[test]
fn subscribers_are_reported_counts_plus_distinct_direct_readers() {
    let f = site("");
    let log = f.content().parent().unwrap().join("serve.log");
    let server = Server::start_with_default_log(&f, NOW, &log);
    for n in [10, 11, 12] {
        let ua = format!("Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; )");
        from(&server, "/s/rss.xml", "192.0.2.1", &ua);
    }
    // One reader polling RSS and Atom 20 times counts once.
    for _ in 0..20 {
        from(&server, "/s/rss.xml", "198.51.100.1", NETNEWSWIRE);
        from(&server, "/s/atom.xml", "198.51.100.1", NETNEWSWIRE);
    }
    // Two readers behind one address count twice.
    from(
        &server,
        "/s/rss.xml",
        "198.51.100.2",
        "Mozilla/5.0 (compatible; Miniflux/2.2.3; +https://miniflux.app)",
    );
    from(&server, "/s/rss.xml", "198.51.100.2", "FreshRSS/1.27.0 (Linux; https://freshrss.org)");
    // One IPv6 /64 is one household.
    let feedparser = "UniversalFeedParser/6.0.11 +https://github.com/kurtmckee/feedparser/";
    from(&server, "/s/feed.json", "2001:db8:1:2::1", feedparser);
    from(&server, "/s/feed.json", "2001:db8:1:2:ffff::9", feedparser);
    // Silent services, bots, and the author count nothing.
    from(&server, "/s/rss.xml", "17.0.0.1", "iTMS");
    from(
        &server,
        "/s/rss.xml",
        "66.249.66.1",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    );
    server.get("/s/rss.xml", &[("user-agent", NETNEWSWIRE)]);
    // Archives and the site-wide feed are not a series' feeds.
    from(&server, "/rss.xml", "198.51.100.7", NETNEWSWIRE);

    let audience = settled(&server);
    assert_eq!(
        audience["series"]["s"],
        json!({
            "subscribers": 16,
            "reported": {"Feedly": 12},
            "direct": 4,
            "silent": ["Apple Podcasts"],
            "feeds": {"rss.xml": 15, "atom.xml": 1, "feed.json": 1},
        })
    );
    assert_eq!(audience["recorder"]["dropped"], 0);
    let last_commit = audience["recorder"]["last_commit"].as_str().unwrap();
    assert!(last_commit.starts_with("2026-11-25T00:00:") && last_commit.ends_with('Z'), "{last_commit}");
    // Nothing in the state directory (its write-ahead log included, while
    // it runs and after) or the log names a reader: no address as text or
    // as bytes, no direct reader's User-Agent.
    let anonymous = || {
        let mut files = state_files(&f);
        files.push(log.clone());
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
            for needle in [
                &b"198.51.100.1"[..],
                &[198, 51, 100, 1],
                b"2001:db8",
                &[0x20, 0x01, 0x0d, 0xb8],
                b"NetNewsWire",
                b"Miniflux",
            ] {
                assert!(!contains(needle), "{} holds {needle:?}", file.display());
            }
        }
    };
    assert!(state_files(&f).iter().any(|p| p.to_string_lossy().ends_with("-wal")));
    anonymous();
    assert_eq!(server.terminate(), Some(0));
    assert!(
        std::fs::read_to_string(&log).unwrap().contains("serving http://127.0.0.1:"),
        "the log is written"
    );
    anonymous();
}

#[test]
fn reads_count_people_once_per_episode_and_day() {
    let f = site("");
    let server = Server::start(&f, NOW, &[("EPISODIC_ADMIN_TOKEN", "s3cret")]);
    from(&server, "/s/1/", "198.51.100.1", CHROME);
    for _ in 0..5 {
        from(&server, "/s/1/", "198.51.100.2", FIREFOX);
    }
    from(&server, "/s/1/", "198.51.100.3", KAKAOTALK);
    // None of these is a read.
    for robot in [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; kakaotalk-scrap/1.0; +https://devtalk.kakao.com/)",
        "Mozilla/5.0 (compatible; Yeti/1.1; +http://naver.me/spd)",
        "Mozilla/5.0 (compatible; Daumoa/4.0)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "NewsBlur Page Fetcher - 3 subscribers - https://www.newsblur.com/site/1/x",
    ] {
        from(&server, "/s/2/", "198.51.100.9", robot);
    }
    server.get(
        "/s/2/",
        &[("x-forwarded-for", "198.51.100.10"), ("user-agent", CHROME), ("sec-purpose", "prefetch")],
    );
    server.head("/s/2/", &[("x-forwarded-for", "198.51.100.11"), ("user-agent", CHROME)]);
    server.get("/s/2/", &[("x-forwarded-for", "198.51.100.12")]);
    server.get("/s/2/", &[("user-agent", CHROME)]);
    let token =
        [("x-forwarded-for", "198.51.100.13"), ("user-agent", CHROME), ("authorization", "Bearer s3cret")];
    server.get("/s/2/", &token);
    assert_eq!(from(&server, "/s/3/", "198.51.100.1", CHROME).status, 404, "not published yet");

    let audience = settled(&server);
    assert_eq!(audience["episodes"]["s/1"], json!({"reads": 3, "reads_7d": 3}));
    assert!(audience["episodes"].get("s/2").is_none(), "{audience}");
    assert!(audience["episodes"].get("s/3").is_none(), "{audience}");
}

#[test]
fn a_kill_loses_no_committed_count_and_a_restart_recounts_nobody() {
    let f = site("");
    let server = Server::start(&f, NOW, &[]);
    from(&server, "/s/1/", "198.51.100.1", CHROME);
    from(&server, "/s/rss.xml", "198.51.100.1", NETNEWSWIRE);
    let before = settled(&server);
    assert_eq!(before["episodes"]["s/1"]["reads"], 1);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.pid() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    drop(server);

    let server = Server::start(&f, NOW, &[]);
    // The same readers again, the same day: nobody is counted twice.
    from(&server, "/s/1/", "198.51.100.1", CHROME);
    from(&server, "/s/rss.xml", "198.51.100.1", NETNEWSWIRE);
    let after = settled(&server);
    assert_eq!(after["episodes"]["s/1"], before["episodes"]["s/1"]);
    assert_eq!(after["series"], before["series"]);
    assert_eq!(after["series"]["s"]["direct"], 1);
    // A stop (SIGTERM) commits what came in its last second.
    from(&server, "/s/1/", "198.51.100.2", FIREFOX);
    assert_eq!(server.terminate(), Some(0));
    let server = Server::start(&f, NOW, &[]);
    let last = settled(&server);
    assert_eq!(last["episodes"]["s/1"]["reads"], 2);
    assert_eq!(server.terminate(), Some(0));
    let db =
        rusqlite::Connection::open(f.content().parent().unwrap().join(".episodic/episodic.sqlite")).unwrap();
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn at_midnight_the_salt_and_hashes_go_and_new_feed_ids_count_from_their_second_day() {
    let f = site("");
    // 23:59:50 in Seoul, the site's zone: the day ends 10 s after start,
    // well after the first day's requests even on a loaded machine.
    let server = Server::start(&f, "2026-11-24T14:59:50Z", &[]);
    from(&server, "/s/rss.xml", "192.0.2.1", "Feedbin feed-id:1697787 - 3 subscribers");
    from(&server, "/s/rss.xml", "192.0.2.2", "Feedbin feed-id:1697788 - 4 subscribers");
    from(&server, "/s/1/", "198.51.100.1", CHROME);
    let first = settled(&server);
    assert_eq!(first["series"]["s"]["reported"], json!({}), "a new feed id is a claim until its second day");
    let database = f.content().parent().unwrap().join(".episodic/episodic.sqlite");
    let db = rusqlite::Connection::open(&database).unwrap();
    let days = |table: &str| -> Vec<String> {
        let mut query = db.prepare(&format!("SELECT DISTINCT day FROM {table} ORDER BY day")).unwrap();
        query.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(days("salt"), ["2026-11-24"]);
    assert_eq!(days("seen"), ["2026-11-24"]);

    // Midnight is up to 10 s away: a longer deadline than wait_for's.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let gone = |table: &str| !days(table).contains(&"2026-11-24".to_owned());
    while !(gone("salt") && gone("seen")) {
        assert!(std::time::Instant::now() < deadline, "the day did not end");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    from(&server, "/s/rss.xml", "192.0.2.1", "Feedbin feed-id:1697787 - 3 subscribers");
    from(&server, "/s/rss.xml", "192.0.2.2", "Feedbin feed-id:1697788 - 4 subscribers");
    from(&server, "/s/1/", "198.51.100.1", CHROME);
    let second = settled(&server);
    assert_eq!(second["series"]["s"]["reported"], json!({"Feedbin": 7}));
    // The reader of yesterday, again today: one read a day.
    assert_eq!(second["episodes"]["s/1"]["reads"], 2);
    assert_eq!(days("salt"), ["2026-11-25"]);
    assert_eq!(days("seen"), ["2026-11-25"]);
}

#[test]
fn the_stats_page_is_for_the_author_only_and_draws_without_script() {
    let f = site("");
    let server = Server::start(&f, NOW, &[("EPISODIC_ADMIN_TOKEN", "s3cret")]);
    from(
        &server,
        "/s/rss.xml",
        "192.0.2.1",
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 5 subscribers; )",
    );
    from(&server, "/s/rss.xml", "198.51.100.1", NETNEWSWIRE);
    from(&server, "/s/1/", "198.51.100.1", CHROME);
    settled(&server);
    assert_eq!(server.get("/_episodic/stats", &[("x-forwarded-for", "203.0.113.9")]).status, 404);
    let page = server
        .get("/_episodic/stats", &[("x-forwarded-for", "203.0.113.9"), ("authorization", "Bearer s3cret")]);
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    let html = String::from_utf8(page.body).unwrap();
    assert!(!html.contains("<script"), "{html}");
    let document = scraper::Html::parse_document(&html);
    let cells: Vec<String> = document
        .select(&scraper::Selector::parse("table td").unwrap())
        .map(|td| td.text().collect::<String>())
        .collect();
    assert!(cells.windows(2).any(|w| w[0] == "Feedly (reported)" && w[1] == "5"), "{cells:?}");
    assert!(cells.windows(2).any(|w| w[0] == "Direct (feed readers)" && w[1] == "1"), "{cells:?}");
    let svgs: Vec<&str> = html
        .match_indices("<svg")
        .map(|(at, _)| &html[at..at + html[at..].find("</svg>").unwrap() + 6])
        .collect();
    assert_eq!(svgs.len(), 2, "a subscriber chart for the series and the reads chart");
    for svg in &svgs {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
        assert!(doc.descendants().all(|n| n.tag_name().name() != "script"));
    }
    let bars: Vec<String> = roxmltree::Document::parse(svgs[0])
        .unwrap()
        .descendants()
        .filter(|n| {
            n.tag_name().name() == "title" && n.parent().is_some_and(|p| p.tag_name().name() == "rect")
        })
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(bars, ["2026-11-25 Feedly: 5", "2026-11-25 direct: 1"]);

    let Some(browser) = crate::browser::chromium() else {
        assert!(std::env::var_os("CI").is_none(), "chromium is missing; .ci/run installs it");
        return;
    };
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("stats-page.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().unwrap();
    let url = format!("http://{}/_episodic/stats", server.addr);
    let screenshot = format!("--screenshot={}", shot.display());
    let taken =
        crate::browser::headless(&browser, profile.path(), &[&screenshot, "--window-size=900,1200"], &url);
    assert!(taken.status.success(), "{}", String::from_utf8_lossy(&taken.stderr));
    assert_eq!(&std::fs::read(&shot).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn audience_false_counts_nothing() {
    let f = site("audience = false\n");
    let server = Server::start(&f, NOW, &[]);
    from(&server, "/s/rss.xml", "198.51.100.1", NETNEWSWIRE);
    from(&server, "/s/1/", "198.51.100.1", CHROME);
    // Turned on again: what came before was never counted.
    f.write("site.toml", &format!("trusted_proxies = [\"127.0.0.1/32\"]\n{SITE_TOML}"));
    let audience = wait_for("counting turned on", || {
        from(&server, "/s/2/", "192.0.2.250", FIREFOX);
        let audience = self::audience(&server);
        audience["episodes"]["s/2"]["reads"].as_u64().is_some().then_some(audience)
    });
    let nobody = json!({
        "subscribers": 0, "reported": {}, "direct": 0, "silent": [],
        "feeds": {"rss.xml": 0, "atom.xml": 0, "feed.json": 0},
    });
    assert_eq!(audience["series"], json!({"s": nobody}));
    assert_eq!(audience["episodes"], json!({"s/2": {"reads": 1, "reads_7d": 1}}));
}

#[test]
fn past_ten_thousand_readers_a_day_an_episode_is_counted_by_sketch() {
    use std::io::{Read, Write};
    let f = site("");
    let server = Server::start(&f, NOW, &[]);
    let etag = server.get("/s/1/", &[]).header("etag").to_owned();
    // 10,050 readers, each its own address, asking again (304), pipelined
    // on one connection.
    const READERS: u32 = 10_050;
    let mut requests = Vec::new();
    for n in 0..READERS {
        let address = format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255);
        write!(
            requests,
            "GET /s/1/ HTTP/1.1\r\nHost: x\r\nUser-Agent: {FIREFOX}\r\nX-Forwarded-For: {address}\r\nIf-None-Match: {etag}\r\n\r\n"
        )
        .unwrap();
    }
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || writer.write_all(&requests).unwrap());
    let (mut answered, mut seen, mut buffer) = (0, Vec::new(), [0u8; 65536]);
    while answered < READERS {
        let n = stream.read(&mut buffer).unwrap();
        assert!(n > 0, "closed after {answered} answers");
        seen.extend_from_slice(&buffer[..n]);
        let marker = b"HTTP/1.1 304 ";
        let complete = seen.len().saturating_sub(marker.len() - 1);
        answered += seen[..complete].windows(marker.len()).filter(|w| *w == marker).count() as u32;
        seen.drain(..complete);
    }
    sending.join().unwrap();

    let audience = settled(&server);
    let reads = audience["episodes"]["s/1"]["reads"].as_u64().unwrap();
    eprintln!("{reads} reads estimated for {READERS} readers");
    assert!((9_750..=10_350).contains(&reads), "{reads} reads estimated for {READERS} readers");
    assert_eq!(audience["recorder"]["dropped"], 0);
    let db =
        rusqlite::Connection::open(f.content().parent().unwrap().join(".episodic/episodic.sqlite")).unwrap();
    let rows = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        rows("SELECT count(*) FROM seen WHERE subject = 'r:s/1'"),
        0,
        "one sketch instead of a row each"
    );
    assert_eq!(rows("SELECT count(*) FROM sketch WHERE subject = 'r:s/1'"), 1);
}
