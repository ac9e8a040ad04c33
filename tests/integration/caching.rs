//! HTTP caching over real TCP: validators, conditional requests, encodings,
//! Cache-Control, methods, paths, and the author's status endpoint.

use crate::server::*;
use crate::support::*;
use std::io::Read;

/// A series with a published episode, one scheduled 100 s after NOW, an
/// image; and a second series with nothing scheduled.
fn site() -> Fixture {
    let f = Fixture::new();
    f.write("night/series.toml", &series_toml("Night", "title_format = \"{number}화. {title}\"\n"));
    f.write("night/01.md", &episode("First", "2026-11-20T10:00:00", "", &"Long text. ".repeat(200)));
    // NOW is 2026-11-25T00:00:00Z = 09:00:00 in Seoul: due in 100 s.
    f.write("night/02.md", &episode("Second", "2026-11-25T09:01:40", "", "Soon."));
    f.write_bytes("night/a.png", &[0x89, b'P', b'N', b'G', 0, 1, 2, 3]);
    f.write("night/03.md", &episode("Third", "2026-11-21T10:00:00", "", "![a](a.png)"));
    f.write("day/series.toml", &series_toml("Day", ""));
    f.write("day/01.md", &episode("Morning", "2026-11-01T08:00:00", "", &"Sun. ".repeat(300)));
    f
}

const FEED: &str = "/night/rss.xml";
const LONG_CACHE: &str = "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400";

#[test]
fn a_feed_is_served_with_exact_headers() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let reply = server.get(FEED, &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, f.read_out("night/rss.xml"));
    assert_eq!(reply.header("content-type"), "application/rss+xml; charset=utf-8");
    assert_eq!(reply.header("content-length"), reply.body.len().to_string());
    assert_eq!(reply.header("vary"), "Accept-Encoding");
    assert_eq!(reply.header("content-encoding"), "");
    let hash = blake3::hash(&reply.body).to_hex();
    assert_eq!(reply.header("etag"), format!("\"{}\"", &hash[..32]));
    let mtime = std::fs::metadata(f.out().join("night/rss.xml")).unwrap().modified().unwrap();
    assert_eq!(reply.header("last-modified"), httpdate::fmt_http_date(mtime));
    let date = httpdate::parse_http_date(reply.header("date")).unwrap();
    assert!(httpdate::parse_http_date(reply.header("last-modified")).unwrap() <= date);
    assert_eq!(
        server.get("/night/atom.xml", &[]).header("content-type"),
        "application/atom+xml; charset=utf-8"
    );
    assert_eq!(
        server.get("/night/feed.json", &[]).header("content-type"),
        "application/feed+json; charset=utf-8"
    );
    let image = server.get("/night/a.png", &[("accept-encoding", "gzip, br")]);
    assert_eq!((image.status, image.header("content-type")), (200, "image/png"));
    assert_eq!((image.header("vary"), image.header("content-encoding")), ("", ""));
}

#[test]
fn if_none_match_in_every_form_gives_304_with_validators_and_no_body() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let first = server.get("/day/rss.xml", &[]);
    let etag = first.header("etag").to_owned();
    for value in [etag.clone(), format!("\"nope\", {etag}"), "*".to_owned(), format!("W/{etag}")] {
        let reply = server.get("/day/rss.xml", &[("if-none-match", &value)]);
        assert_eq!(reply.status, 304, "If-None-Match: {value}");
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("etag"), etag);
        assert_eq!(reply.header("last-modified"), first.header("last-modified"));
        assert_eq!(reply.header("cache-control"), LONG_CACHE);
        assert_eq!(reply.header("vary"), "Accept-Encoding");
    }
    let head = server.head("/day/rss.xml", &[("if-none-match", &etag)]);
    assert_eq!(head.status, 304);
    assert_eq!(server.get("/day/rss.xml", &[("if-none-match", "\"other\"")]).status, 200);
}

#[test]
fn if_none_match_takes_precedence_over_if_modified_since() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let first = server.get("/day/rss.xml", &[]);
    let (etag, modified) = (first.header("etag").to_owned(), first.header("last-modified").to_owned());
    let stale = "Thu, 01 Jan 2015 00:00:00 GMT";
    let mismatch_fresh =
        server.get("/day/rss.xml", &[("if-none-match", "\"other\""), ("if-modified-since", &modified)]);
    assert_eq!(mismatch_fresh.status, 200);
    let match_stale = server.get("/day/rss.xml", &[("if-none-match", &etag), ("if-modified-since", stale)]);
    assert_eq!(match_stale.status, 304);
    assert_eq!(server.get("/day/rss.xml", &[("if-modified-since", &modified)]).status, 304);
    assert_eq!(server.get("/day/rss.xml", &[("if-modified-since", stale)]).status, 200);
    for garbage in ["yesterday", "Thu, 99 Foo 2015 25:00:00 GMT", ""] {
        assert_eq!(server.get("/day/rss.xml", &[("if-modified-since", garbage)]).status, 200, "{garbage:?}");
    }
}

#[test]
fn every_encoding_decodes_to_the_identical_bytes_with_its_own_etag() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let identity = server.get(FEED, &[]);
    let mut etags = vec![identity.header("etag").to_owned()];
    for (token, accept) in [("br", "gzip, deflate, br, zstd"), ("zstd", "gzip, zstd"), ("gzip", "gzip")] {
        let reply = server.get(FEED, &[("accept-encoding", accept)]);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-encoding"), token, "{accept}");
        assert_eq!(reply.header("vary"), "Accept-Encoding");
        assert_eq!(reply.header("content-length"), reply.body.len().to_string());
        assert_eq!(decode(token, &reply.body), identity.body, "{token}");
        etags.push(reply.header("etag").to_owned());
        // The validator matches only the representation it came with.
        let same = server.get(FEED, &[("accept-encoding", accept), ("if-none-match", reply.header("etag"))]);
        assert_eq!(same.status, 304, "{token}");
        let other = server.get(FEED, &[("if-none-match", reply.header("etag"))]);
        assert_eq!(other.status, 200, "{token} tag must not validate identity");
    }
    etags.sort();
    etags.dedup();
    assert_eq!(etags.len(), 4, "one ETag per encoding");
}

fn decode(token: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match token {
        "gzip" => {
            flate2::read::GzDecoder::new(body).read_to_end(&mut out).unwrap();
        }
        "br" => brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap(),
        "zstd" => out = zstd::decode_all(body).unwrap(),
        other => panic!("{other}"),
    }
    out
}

#[test]
fn q_values_refuse_and_406_when_nothing_is_acceptable() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    assert_eq!(server.get(FEED, &[("accept-encoding", "br;q=0, gzip")]).header("content-encoding"), "gzip");
    assert_eq!(
        server.get(FEED, &[("accept-encoding", "br;q=0.5, zstd;q=0.9")]).header("content-encoding"),
        "zstd"
    );
    assert_eq!(server.get(FEED, &[("accept-encoding", "gzip;q=0")]).header("content-encoding"), "");
    assert_eq!(
        server.get(FEED, &[("accept-encoding", "identity;q=0, gzip")]).header("content-encoding"),
        "gzip"
    );
    let refused = server.get("/night/a.png", &[("accept-encoding", "identity;q=0, br")]);
    assert_eq!(refused.status, 406);
    assert_eq!(server.get(FEED, &[("accept-encoding", "*;q=0")]).status, 406);
}

#[test]
fn head_answers_the_same_headers_without_a_body() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    for accept in ["", "br"] {
        let get = server.get(FEED, &[("accept-encoding", accept)]);
        let head = server.head(FEED, &[("accept-encoding", accept)]);
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        for name in [
            "content-type",
            "content-length",
            "etag",
            "last-modified",
            "cache-control",
            "vary",
            "content-encoding",
        ] {
            assert_eq!(head.header(name), get.header(name), "{name}");
        }
    }
}

#[test]
fn other_methods_unknown_paths_and_folders() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let reply = crate::server::request(server.addr, method.parse().unwrap(), FEED, &[]);
        assert_eq!((reply.status, reply.header("allow")), (405, "GET, HEAD"), "{method}");
    }
    let missing = server.get("/night/nope.xml", &[]);
    assert_eq!((missing.status, missing.body.as_slice()), (404, &b"not found\n"[..]));
    assert_eq!(server.get("/night/01.md", &[]).status, 404, "sources are never served");
    assert_eq!(server.get("/night/series.toml", &[]).status, 404);
    let folder = server.get("/night", &[]);
    assert_eq!((folder.status, folder.header("location")), (301, "/night/"));
    let page = server.get("/night/", &[]);
    assert_eq!((page.status, page.header("content-type")), (200, "text/html; charset=utf-8"));
    assert_eq!(server.get("/night/99/", &[]).status, 404, "no such episode");
}

#[test]
fn hostile_paths_get_400_or_404_and_never_a_redirect() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    for path in [
        "/../site.toml",
        "/night/../../content/site.toml",
        "/%2e%2e/content/site.toml",
        "/night/%2E%2E/%2E%2E/etc/passwd",
        "/night%2frss.xml",
        "/night%2Frss.xml",
        "//night/rss.xml",
        "/night//rss.xml",
        "/night\\rss.xml",
        "/night%5crss.xml",
        "/night/rss.xml%00",
        "/%c0%ae%c0%ae/etc/passwd",
        "/%e0%80%ae%e0%80%ae/x",
        "/night/%ff",
        "/night/%zz",
        "/.%2e/night/rss.xml",
        "/./night/rss.xml",
        "/night/.",
    ] {
        let response = raw(
            server.addr,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let status = raw_status(&response);
        assert!(status == 400 || status == 404, "{path} → {status}: {response}");
    }
    let nul = raw(server.addr, b"GET /night/rss.xml\0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(raw_status(&nul), 400);
}

#[test]
fn max_age_counts_down_to_a_scheduled_episode() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    for path in [FEED, "/night/atom.xml", "/rss.xml"] {
        let value = server.get(path, &[]).header("cache-control").to_owned();
        let seconds: u32 = value
            .strip_prefix("public, max-age=")
            .and_then(|rest| rest.strip_suffix(", stale-if-error=86400"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{path}: {value}"));
        assert!((95..=100).contains(&seconds), "{path}: {value}");
    }
    assert_eq!(server.get("/day/rss.xml", &[]).header("cache-control"), LONG_CACHE);
}

#[test]
fn validators_survive_restarts_and_move_only_when_bytes_change() {
    let f = site();
    let (before_night, before_day) = {
        let server = Server::start(&f, NOW, &[]);
        (server.get(FEED, &[]), server.get("/day/rss.xml", &[]))
    };
    // Age the files so a rewrite would show as a later Last-Modified.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for path in ["night/rss.xml", "day/rss.xml"] {
        std::fs::File::options().write(true).open(f.out().join(path)).unwrap().set_modified(old).unwrap();
    }
    let aged = httpdate::fmt_http_date(old);
    // A typo fixed in an old episode of `day` only.
    f.write("day/01.md", &episode("Morning", "2026-11-01T08:00:00", "", &"Sun! ".repeat(300)));
    let server = Server::start(&f, NOW, &[]);
    let night = server.get(FEED, &[]);
    assert_eq!(night.header("etag"), before_night.header("etag"));
    assert_eq!(night.header("last-modified"), aged, "unchanged bytes keep their Last-Modified");
    let day = server.get("/day/rss.xml", &[]);
    assert_ne!(day.header("etag"), before_day.header("etag"));
    let moved = httpdate::parse_http_date(day.header("last-modified")).unwrap();
    assert!(moved > old && moved <= httpdate::parse_http_date(day.header("date")).unwrap());
}

#[test]
fn the_status_endpoint_is_for_the_author_only() {
    let f = site();
    f.write("night/04.md", "+++\ntitle = \"Broken\"\ndate = \"2026-02-30\"\n+++\n");
    let server = Server::start(&f, NOW, &[("EPISODIC_ADMIN_TOKEN", "s3cret")]);
    let reply = server.get("/_episodic/status", &[]);
    assert_eq!((reply.status, reply.header("content-type")), (200, "application/json"));
    let status: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(status["built_at"], "2026-11-25T00:00:00Z");
    assert_eq!(status["episodes"], 3);
    assert_eq!(status["feeds"], 9);
    let errors = status["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["file"], f.content().join("night/04.md").display().to_string());
    assert_eq!(errors[0]["line"], 3);
    assert!(errors[0]["message"].as_str().unwrap().contains("`2026-02-30` is not a real date"));
    // The broken episode is left out; the rest is served.
    assert_eq!(server.get(FEED, &[]).status, 200);
    assert_eq!(server.get("/_episodic/status", &[("x-forwarded-for", "203.0.113.7")]).status, 404);
    assert_eq!(server.get("/_episodic/status", &[("forwarded", "for=203.0.113.7")]).status, 404);
    let with_token = server
        .get("/_episodic/status", &[("x-forwarded-for", "203.0.113.7"), ("authorization", "Bearer s3cret")]);
    assert_eq!(with_token.status, 200);
    let wrong = server
        .get("/_episodic/status", &[("x-forwarded-for", "203.0.113.7"), ("authorization", "Bearer nope")]);
    assert_eq!(wrong.status, 404);
    assert_eq!(server.get("/_episodic/other", &[]).status, 404);
}

#[test]
fn http2_with_prior_knowledge_serves_the_same_representation() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let h1 = server.get(FEED, &[("accept-encoding", "br")]);
    let h2 = request_h2(server.addr, FEED, &[("accept-encoding", "br")]);
    assert_eq!(h2.status, 200);
    assert_eq!(h2.body, h1.body);
    assert_eq!(h2.header("etag"), h1.header("etag"));
    let again =
        request_h2(server.addr, FEED, &[("accept-encoding", "br"), ("if-none-match", h1.header("etag"))]);
    assert_eq!(again.status, 304);
}
