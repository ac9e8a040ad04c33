//! The site's addresses for machines, parsed back with roxmltree: the OPML
//! subscription list, the sitemap and robots.txt; nothing unpublished in
//! any of them, up to the second a scheduled episode goes live.

use crate::running::wait_for;
use crate::server::Server;
use crate::support::*;

/// (name, attributes in document order) of each element named `tag`.
fn elements(xml: &str, tag: &str) -> Vec<Vec<(String, String)>> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .map(|n| n.attributes().map(|a| (a.name().to_owned(), a.value().to_owned())).collect())
        .collect()
}

/// `(loc, lastmod)` of every `<url>` of a sitemap, checked against its namespace.
fn sitemap_entries(xml: &str) -> Vec<(String, Option<String>)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let ns = "http://www.sitemaps.org/schemas/sitemap/0.9";
    assert!(doc.root_element().has_tag_name((ns, "urlset")), "{xml}");
    let child = |url: roxmltree::Node<'_, '_>, name: &str| {
        url.children().find(|c| c.has_tag_name((ns, name))).and_then(|c| c.text()).map(str::to_owned)
    };
    doc.root_element()
        .children()
        .filter(|n| n.has_tag_name((ns, "url")))
        .map(|url| (child(url, "loc").unwrap(), child(url, "lastmod")))
        .collect()
}

fn two_languages() -> Fixture {
    let f = Fixture::new();
    let ko = "language = \"ko\"\ndescription = \"새벽 & <밤>\"\n";
    f.write("night/series.toml", &series_toml("새벽 세 시", ko));
    f.write(
        "night/1.md",
        &episode("하나", "2026-11-02T10:00:00", "updated = 2026-11-20T09:15:00+09:00\n", "x"),
    );
    f.write("night/2.md", &episode("둘", "2026-11-09T10:00:00", "", "x"));
    f.write("night/3.md", &episode("초안", "2026-11-10T10:00:00", "draft = true\n", "x"));
    f.write("night/4.md", &episode("예약", "2026-11-25T09:00:02+09:00", "", "x"));
    f.write("harbor/series.toml", &series_toml("Harbor", "language = \"en-US\"\n"));
    f.write("harbor/1.md", &episode("Fog", "2026-11-16T07:30:00", "", "x"));
    f.write("empty/series.toml", &series_toml("Nothing yet", ""));
    f.write("empty/1.md", &episode("Later", "2026-12-30T10:00:00", "", "x"));
    f
}

#[test]
fn opml_lists_every_series_feed_in_its_language() {
    let f = two_languages();
    f.build_ok();
    let opml = f.out_text("subscriptions.opml");
    let doc = roxmltree::Document::parse(&opml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "opml");
    assert_eq!(doc.root_element().attribute("version"), Some("2.0"));
    let head: Vec<(&str, &str)> = doc
        .descendants()
        .find(|n| n.has_tag_name("head"))
        .unwrap()
        .children()
        .filter(|n| n.is_element())
        .map(|n| (n.tag_name().name(), n.text().unwrap_or_default()))
        .collect();
    assert_eq!(
        head,
        [
            ("title", "Test site"),
            ("ownerName", "Site Author"),
            ("ownerEmail", "site@example.com"),
            ("docs", "https://opml.org/spec2.opml")
        ]
    );
    let outline = |title: &str, slug: &str, language: &str, description: &str| {
        let mut attributes = vec![
            ("type", "rss".to_owned()),
            ("text", title.to_owned()),
            ("title", title.to_owned()),
            ("xmlUrl", format!("https://example.com/{slug}/rss.xml")),
            ("htmlUrl", format!("https://example.com/{slug}/")),
            ("language", language.to_owned()),
            ("description", description.to_owned()),
        ];
        attributes.retain(|(_, value)| !value.is_empty());
        attributes.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Vec<_>>()
    };
    assert_eq!(
        elements(&opml, "outline"),
        [
            outline("Nothing yet", "empty", "en", "Fixtures"),
            outline("Harbor", "harbor", "en-US", "Fixtures"),
            outline("새벽 세 시", "night", "ko", "새벽 & <밤>"),
        ]
    );
}

#[test]
fn the_sitemap_lists_published_pages_with_their_newest_update() {
    let f = two_languages();
    f.build_ok();
    let entries = sitemap_entries(&f.out_text("sitemap.xml"));
    let entry =
        |loc: &str, lastmod: Option<&str>| (format!("https://example.com/{loc}"), lastmod.map(str::to_owned));
    assert_eq!(
        entries,
        [
            entry("", Some("2026-11-20T09:15:00+09:00")),
            entry("empty/", None),
            entry("harbor/", Some("2026-11-16T07:30:00+09:00")),
            entry("harbor/1/", Some("2026-11-16T07:30:00+09:00")),
            entry("night/", Some("2026-11-20T09:15:00+09:00")),
            entry("night/1/", Some("2026-11-20T09:15:00+09:00")),
            entry("night/2/", Some("2026-11-09T10:00:00+09:00")),
        ]
    );
    assert_eq!(
        f.out_text("robots.txt"),
        "# Every page may be crawled; the sitemap lists them.\nUser-agent: *\nAllow: /\n\nSitemap: https://example.com/sitemap.xml\n"
    );
}

#[test]
fn a_site_under_a_path_has_a_sitemap_there_and_no_robots_txt() {
    let f = two_languages();
    f.write("site.toml", &SITE_TOML.replace("https://example.com/", "https://example.com/serials/"));
    f.build_ok();
    let entries = sitemap_entries(&f.out_text("sitemap.xml"));
    assert_eq!(entries[0].0, "https://example.com/serials/");
    assert_eq!(entries.len(), 7);
    assert!(!f.out().join("robots.txt").exists(), "crawlers read only the host's /robots.txt");
    assert_eq!(
        elements(&f.out_text("subscriptions.opml"), "outline")[0][3].1,
        "https://example.com/serials/empty/rss.xml"
    );
}

#[test]
fn served_listings_have_page_caching_and_gain_an_episode_when_it_goes_live() {
    let f = two_languages();
    let server = Server::start(&f, NOW, &[]);
    for (path, content_type) in [
        ("/subscriptions.opml", "text/x-opml; charset=utf-8"),
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/sitemap.xml", "text/xml; charset=utf-8"),
    ] {
        let reply = server.get(path, &[("accept-encoding", "gzip")]);
        assert_eq!((reply.status, reply.header("content-type")), (200, content_type), "{path}");
        assert_eq!(reply.header("vary"), "Accept-Encoding", "{path}");
        let etag = reply.header("etag").to_owned();
        let again = server.get(path, &[("accept-encoding", "gzip"), ("if-none-match", &etag)]);
        assert_eq!(again.status, 304, "{path}");
    }
    let page = server.get("/night/", &[]).header("cache-control").to_owned();
    let sitemap = server.get("/sitemap.xml", &[]);
    // Episode 4 is due two seconds after NOW: caches keep neither longer.
    assert_eq!(sitemap.header("cache-control"), page);
    assert!(page.starts_with("public, max-age=") && !page.contains("stale-while-revalidate"), "{page}");
    let locations = |reply: &crate::server::Reply| {
        sitemap_entries(std::str::from_utf8(&reply.body).unwrap())
            .into_iter()
            .map(|(loc, _)| loc)
            .collect::<Vec<_>>()
    };
    assert!(!locations(&sitemap).contains(&"https://example.com/night/4/".to_owned()));
    let live = wait_for("episode 4 in the sitemap", || {
        let reply = server.get("/sitemap.xml", &[]);
        locations(&reply).contains(&"https://example.com/night/4/".to_owned()).then_some(reply)
    });
    let entries = sitemap_entries(std::str::from_utf8(&live.body).unwrap());
    assert!(entries.contains(&(
        "https://example.com/night/4/".to_owned(),
        Some("2026-11-25T09:00:02+09:00".to_owned())
    )));
    assert!(!locations(&live).contains(&"https://example.com/night/3/".to_owned()), "the draft");
    assert!(!locations(&live).contains(&"https://example.com/empty/1/".to_owned()), "still scheduled");
}

#[test]
fn the_served_sitemap_follows_updates_and_time_zones() {
    let f = two_languages();
    let server = Server::start(&f, NOW, &[]);
    let lastmod = |loc: &str| {
        let reply = server.get("/sitemap.xml", &[]);
        let entries = sitemap_entries(std::str::from_utf8(&reply.body).unwrap());
        entries.into_iter().find(|(l, _)| l == loc).and_then(|(_, lastmod)| lastmod)
    };
    assert_eq!(lastmod("https://example.com/night/2/").as_deref(), Some("2026-11-09T10:00:00+09:00"));
    // An edit that changes only the text leaves the sitemap as it was.
    let before = server.get("/sitemap.xml", &[]).header("etag").to_owned();
    f.write("night/2.md", &episode("둘", "2026-11-09T10:00:00", "", "new text"));
    wait_for("the edit", || {
        String::from_utf8(server.get("/night/2/", &[]).body).unwrap().contains("new text").then_some(())
    });
    assert_eq!(server.get("/sitemap.xml", &[]).header("etag"), before);
    f.write(
        "night/2.md",
        &episode("둘", "2026-11-09T10:00:00", "updated = 2026-11-21T08:00:00+09:00\n", "x"),
    );
    wait_for("the new lastmod", || {
        (lastmod("https://example.com/night/2/").as_deref() == Some("2026-11-21T08:00:00+09:00"))
            .then_some(())
    });
    // Its local 07:30 is now read in UTC.
    f.write("harbor/series.toml", &series_toml("Harbor", "language = \"en-US\"\ntimezone = \"UTC\"\n"));
    wait_for("the harbor in UTC", || {
        (lastmod("https://example.com/harbor/1/").as_deref() == Some("2026-11-16T07:30:00+00:00"))
            .then_some(())
    });
}
