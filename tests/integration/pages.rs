//! Pages for people, read back with a real HTML parser from the real
//! server: autodiscovery links, reading order, dates in the series' time
//! zone, previous/next, and nothing unpublished before its time.

use crate::running::{status, wait_for};
use crate::server::Server;
use crate::support::{Fixture, NOW, episode, parse_feed, series_toml};
use scraper::{Html, Selector};

fn page(server: &Server, path: &str) -> Html {
    let reply = server.get(path, &[]);
    assert_eq!((reply.status, reply.header("content-type")), (200, "text/html; charset=utf-8"), "{path}");
    Html::parse_document(std::str::from_utf8(&reply.body).unwrap())
}

fn all(html: &Html, selector: &str, attr: &str) -> Vec<String> {
    let selector = Selector::parse(selector).unwrap();
    html.select(&selector)
        .map(|e| match attr {
            "text" => e.text().collect::<String>().trim().to_owned(),
            _ => e.value().attr(attr).unwrap_or_default().to_owned(),
        })
        .collect()
}

fn one(html: &Html, selector: &str, attr: &str) -> String {
    let found = all(html, selector, attr);
    assert_eq!(found.len(), 1, "{selector}: {found:?}");
    found[0].clone()
}

/// Two published episodes, a draft, and one scheduled `seconds` after NOW
/// whose picture nothing published shows.
fn serial_with_secrets(seconds: u32) -> Fixture {
    let f = Fixture::new();
    let extra =
        "title_format = \"{number}화. {title}\"\nschedule = \"Mondays at 10:00\"\nimage = \"cover.png\"\n";
    f.write("s/series.toml", &series_toml("Serial", extra));
    f.write_bytes("s/cover.png", b"\x89PNG cover");
    f.write_bytes("s/secret.png", b"\x89PNG secret");
    f.write("s/01-a.md", &episode("First", "2026-11-02T10:00:00", "", "One.\n"));
    f.write("s/02-b.md", &episode("Second", "2026-11-09T10:00:00", "tags = [\"night\"]\n", "Two.\n"));
    f.write("s/03-c.md", &episode("Draft", "2026-11-10T10:00:00", "draft = true\n", "![x](secret.png)\n"));
    let due = format!("2026-11-25T09:00:{seconds:02}+09:00");
    f.write("s/04-d.md", &episode("Soon", &due, "", "Four. ![x](secret.png)\n"));
    f
}

#[test]
fn series_and_episode_pages_name_their_feeds_and_list_what_is_published() {
    let f = serial_with_secrets(59);
    let server = Server::start(&f, NOW, &[]);

    let series = page(&server, "/s/");
    assert_eq!(one(&series, "html", "lang"), "en");
    assert_eq!(one(&series, "link[rel=canonical]", "href"), "https://example.com/s/");
    assert_eq!(
        all(&series, "link[rel=alternate]", "type"),
        ["application/rss+xml", "application/atom+xml", "application/feed+json"]
    );
    let feeds = [
        "https://example.com/s/rss.xml",
        "https://example.com/s/atom.xml",
        "https://example.com/s/feed.json",
    ];
    assert_eq!(all(&series, "link[rel=alternate]", "href"), feeds);
    assert_eq!(
        all(&series, "link[rel=alternate]", "title"),
        ["Serial (RSS)", "Serial (Atom)", "Serial (JSON Feed)"]
    );
    // The addresses to copy, in fields.
    assert_eq!(all(&series, "input[readonly]", "value"), feeds);
    assert_eq!(one(&series, "meta[property='og:title']", "content"), "Serial");
    assert_eq!(one(&series, "meta[property='og:image']", "content"), "https://example.com/s/cover.png");
    // On the page, the cover is a path: it shows wherever the site is served.
    assert_eq!(one(&series, "img.cover", "src"), "/s/cover.png");
    assert_eq!(one(&series, "h1", "text"), "Serial");
    assert!(one(&series, "header p.meta:last-of-type", "text").contains("Mondays at 10:00"));
    // Reading order, 1 → latest; dates in the series' zone (Asia/Seoul).
    assert_eq!(all(&series, "ol.episodes a", "text"), ["1화. First", "2화. Second"]);
    assert_eq!(all(&series, "ol.episodes a", "href"), ["/s/1/", "/s/2/"]);
    assert_eq!(
        all(&series, "ol.episodes time", "datetime"),
        ["2026-11-02T10:00:00+09:00", "2026-11-09T10:00:00+09:00"]
    );
    assert_eq!(all(&series, "ol.episodes time", "text"), ["2026-11-02 10:00 KST", "2026-11-09 10:00 KST"]);
    assert!(all(&series, "main, header, footer, nav, section", "text").len() >= 4, "landmarks");

    let second = page(&server, "/s/2/");
    assert_eq!(one(&second, "h1", "text"), "2화. Second");
    assert_eq!(one(&second, "link[rel=canonical]", "href"), "https://example.com/s/2/");
    assert_eq!(one(&second, "meta[property='og:type']", "content"), "article");
    assert_eq!(one(&second, "meta[property='og:description']", "content"), "Two.");
    assert_eq!(all(&second, "link[rel=alternate]", "href"), feeds);
    assert_eq!(one(&second, ".content", "text"), "Two.");
    assert_eq!(one(&second, "a[rel=prev]", "href"), "/s/1/");
    assert!(all(&second, "a[rel=next]", "href").is_empty(), "the latest has no next");
    assert_eq!(one(&page(&server, "/s/1/"), "a[rel=next]", "href"), "/s/2/");

    let index = page(&server, "/");
    assert_eq!(all(&index, "ul.series a strong", "text"), ["Serial"]);
    assert_eq!(
        all(&index, "link[rel=alternate]", "href"),
        [
            "https://example.com/rss.xml",
            "https://example.com/atom.xml",
            "https://example.com/feed.json",
            "https://example.com/subscriptions.opml"
        ]
    );
    assert_eq!(one(&index, "link[type='text/x-opml']", "title"), "Test site (OPML)");
    assert_eq!(one(&index, "a[type='text/x-opml']", "href"), "/subscriptions.opml");

    // Every item link of every feed is a page.
    for feed in ["/s/rss.xml", "/s/atom.xml", "/s/feed.json", "/rss.xml"] {
        let parsed = parse_feed(feed, &server.get(feed, &[]).body);
        for entry in &parsed.entries {
            let link = entry.links[0].href.strip_prefix("https://example.com").unwrap();
            assert_eq!(server.get(link, &[]).status, 200, "{feed}: {link}");
        }
    }
    // Nothing unpublished: no page for the draft or the scheduled episode,
    // and not the picture only they show.
    for hidden in ["/s/3/", "/s/4/", "/s/secret.png"] {
        assert_eq!(server.get(hidden, &[]).status, 404, "{hidden}");
    }
    assert_eq!(server.get("/s/cover.png", &[]).status, 200);
}

#[test]
fn a_scheduled_episode_gets_its_page_links_and_picture_when_it_goes_live() {
    let f = serial_with_secrets(3);
    let server = Server::start_with_args(&f, NOW, &[], &["--watch", "off"]);
    assert_eq!(server.get("/s/4/", &[]).status, 404);
    assert_eq!(server.get("/s/secret.png", &[]).status, 404);
    let reply = server.get("/s/", &[]);
    assert!(
        reply.header("cache-control").starts_with("public, max-age="),
        "{}",
        reply.header("cache-control")
    );
    let max_age: u32 =
        reply.header("cache-control")["public, max-age=".len()..].split(',').next().unwrap().parse().unwrap();
    assert!(max_age <= 3, "the series page changes when the episode goes live: {max_age}");

    wait_for("the scheduled page", || (server.get("/s/4/", &[]).status == 200).then_some(()));
    let fourth = page(&server, "/s/4/");
    assert_eq!(one(&fourth, "h1", "text"), "4화. Soon");
    assert_eq!(one(&fourth, "a[rel=prev]", "href"), "/s/2/", "the draft is skipped");
    assert_eq!(one(&page(&server, "/s/2/"), "a[rel=next]", "href"), "/s/4/");
    assert_eq!(all(&page(&server, "/s/"), "ol.episodes a", "href"), ["/s/1/", "/s/2/", "/s/4/"]);
    assert_eq!(server.get("/s/secret.png", &[]).status, 200);
    assert_eq!(server.get("/s/3/", &[]).status, 404, "a draft stays hidden");
}

#[test]
fn an_edit_shows_on_the_series_page_and_on_its_neighbours_pages_only() {
    let f = serial_with_secrets(59);
    f.write("s/05-e.md", &episode("Third", "2026-11-16T10:00:00", "", "Five.\n"));
    f.write("s/06-f.md", &episode("Fourth", "2026-11-23T10:00:00", "", "Six.\n"));
    let server = Server::start(&f, NOW, &[]);
    let listed = ["1화. First", "2화. Second", "5화. Third", "6화. Fourth"];
    assert_eq!(all(&page(&server, "/s/"), "ol.episodes a", "text"), listed);
    let etag = |path: &str| server.get(path, &[]).header("etag").to_owned();
    let (first, third, fourth) = (etag("/s/1/"), etag("/s/5/"), etag("/s/6/"));

    // Retitled and moved a week on: the series page lists it anew, its
    // neighbours' pages show the new title, other pages are kept.
    f.write("s/02-b.md", &episode("Second, retitled", "2026-11-10T11:30:00", "", "Two.\n"));
    wait_for("the retitled episode", || {
        let titles = all(&page(&server, "/s/"), "ol.episodes a", "text");
        (titles == ["1화. First", "2화. Second, retitled", "5화. Third", "6화. Fourth"]).then_some(())
    });
    let series = page(&server, "/s/");
    assert_eq!(all(&series, "ol.episodes a", "href"), ["/s/1/", "/s/2/", "/s/5/", "/s/6/"]);
    assert_eq!(
        all(&series, "ol.episodes time", "datetime"),
        [
            "2026-11-02T10:00:00+09:00",
            "2026-11-10T11:30:00+09:00",
            "2026-11-16T10:00:00+09:00",
            "2026-11-23T10:00:00+09:00"
        ]
    );
    assert_eq!(one(&page(&server, "/s/1/"), "a[rel=next]", "text"), "2화. Second, retitled →");
    assert_eq!(one(&page(&server, "/s/5/"), "a[rel=prev]", "text"), "← 2화. Second, retitled");
    assert_eq!(one(&page(&server, "/s/2/"), "h1", "text"), "2화. Second, retitled");
    assert_ne!(etag("/s/1/"), first);
    assert_ne!(etag("/s/5/"), third);
    assert_eq!(etag("/s/6/"), fourth, "not a neighbour: kept");
    assert_eq!(server.get("/s/6/", &[("if-none-match", &fourth)]).status, 304);

    // A change to the text alone: the episode's page shows it, the series
    // page (titles, dates, addresses) stays byte for byte, validators too.
    let (listing, last_modified) = (etag("/s/"), server.get("/s/", &[]).header("last-modified").to_owned());
    f.write("s/02-b.md", &episode("Second, retitled", "2026-11-10T11:30:00", "", "Two, corrected.\n"));
    wait_for("the corrected text", || {
        (one(&page(&server, "/s/2/"), ".content", "text") == "Two, corrected.").then_some(())
    });
    let series = server.get("/s/", &[]);
    assert_eq!(
        (series.header("etag"), series.header("last-modified")),
        (listing.as_str(), last_modified.as_str())
    );
    assert_eq!(server.get("/s/", &[("if-none-match", &listing)]).status, 304);
}

#[test]
fn a_writers_series_template_sees_every_field_of_each_listed_episode() {
    let f = serial_with_secrets(59);
    f.write_template(
        "series.html",
        "{% for e in episodes %}<p>{{ e.number }}|{{ e.title }}|{{ e.url }}|{{ e.path }}|{{ e.date.iso }}|{{ e.date.text }}|{{ e.missing is undefined }}</p>\n{% endfor %}",
    );
    let server = Server::start(&f, NOW, &[]);
    assert_eq!(
        all(&page(&server, "/s/"), "p", "text"),
        [
            "1|1화. First|https://example.com/s/1/|/s/1/|2026-11-02T10:00:00+09:00|2026-11-02 10:00 KST|True",
            "2|2화. Second|https://example.com/s/2/|/s/2/|2026-11-09T10:00:00+09:00|2026-11-09 10:00 KST|True",
        ]
    );
}

#[test]
fn writers_templates_replace_the_built_in_ones_and_a_broken_one_keeps_the_last_good() {
    let f = serial_with_secrets(59);
    f.write_template("episode.html", "{% extends \"base.html\" %}{% block main %}<p id=\"mine\">{{ episode.title }} / {{ series.title }}</p>{{ content }}{% endblock %}");
    let server = Server::start(&f, NOW, &[]);
    assert_eq!(one(&page(&server, "/s/1/"), "#mine", "text"), "1화. First / Serial");
    // Other pages keep the built-in templates.
    assert_eq!(all(&page(&server, "/s/"), "ol.episodes a", "href"), ["/s/1/", "/s/2/"]);

    // A syntax error on line 2: reported with file and line; pages keep the
    // last good version.
    f.write_template("episode.html", "{% extends \"base.html\" %}\n{% block main %}{% if %}{% endblock %}");
    let error = wait_for("the template error", || {
        let status = status(&server);
        let errors = status["errors"].as_array().unwrap().clone();
        errors.into_iter().find(|e| e["file"].as_str().unwrap().ends_with("templates/episode.html"))
    });
    assert_eq!(error["line"], 2);
    assert_eq!(one(&page(&server, "/s/1/"), "#mine", "text"), "1화. First / Serial");

    // Fixed: published, and the error is gone.
    f.write_template(
        "episode.html",
        "{% extends \"base.html\" %}{% block main %}<p id=\"mine\">{{ episode.number }}</p>{% endblock %}",
    );
    wait_for("the fixed template", || (all(&page(&server, "/s/2/"), "#mine", "text") == ["2"]).then_some(()));
    assert_eq!(status(&server)["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn build_reports_a_template_that_fails_on_a_page_and_falls_back_to_the_built_in() {
    let f = serial_with_secrets(59);
    f.write_template(
        "series.html",
        "{% extends \"base.html\" %}\n{% block main %}\n{% include \"missing.html\" %}{% endblock %}",
    );
    let run = f.build();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("templates/series.html:3"), "{}", run.stderr);
    assert!(run.stderr.contains("missing.html"), "{}", run.stderr);
}
