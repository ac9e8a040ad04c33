//! What strict validators and readers ask of the feeds: one author per
//! element, plain text that every reader shows literally, poll hints that
//! agree with Cache-Control, icons at every place readers look, and JSON
//! Feed's required members. benches/validate.sh runs the W3C validator on
//! the same fixtures; CI cannot reach it, so these assert the behaviours.

use crate::server::Server;
use crate::support::*;

const HTML_LOOKING: &str = "Tom & Jerry <b>bold</b> 1 < 2";

fn hostile() -> Fixture {
    Fixture::copy_of("tests/fixtures/hostile")
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn rss_names_each_person_once_by_email_or_else_by_name() {
    let f = Fixture::new();
    f.write("with/series.toml", &series_toml("With e-mail", ""));
    f.write("with/1.md", &episode("One", "2026-11-02T10:00:00", "", "x"));
    let guest = "[author]\nname = \"Guest\"\n";
    f.write("with/2.md", &episode("Two", "2026-11-03T10:00:00", guest, "x"));
    f.write("without/series.toml", &series_toml("No e-mail", "[author]\nname = \"Name Only\"\n"));
    f.write("without/1.md", &episode("One", "2026-11-02T10:00:00", "", "x"));
    f.build_ok();
    let rss = f.out_text("with/rss.xml");
    assert_eq!(count(&rss, "<managingEditor>site@example.com (Site Author)</managingEditor>"), 1, "{rss}");
    assert_eq!(count(&rss, "<author>site@example.com (Site Author)</author>"), 1, "{rss}");
    // The guest has no e-mail: named once, by dc:creator, and nowhere else.
    assert_eq!(count(&rss, "<dc:creator>Guest</dc:creator>"), 1, "{rss}");
    assert_eq!(count(&rss, "<dc:creator>"), 1, "{rss}");
    assert_eq!(count(&rss, "<author>"), 1, "{rss}");
    let rss = f.out_text("without/rss.xml");
    assert_eq!(count(&rss, "<dc:creator>Name Only</dc:creator>"), 2, "channel and item: {rss}");
    assert_eq!(count(&rss, "<managingEditor>") + count(&rss, "<author>"), 0, "{rss}");
    let feed = f.feed("without/rss.xml");
    assert_eq!(feed.entries[0].authors[0].name.as_deref(), Some("Name Only"));
}

#[test]
fn a_plain_text_summary_is_html_escaped_for_rss_only() {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("S", ""));
    let summary = format!("summary = \"{}\"\n", HTML_LOOKING.replace('"', "\\\""));
    f.write("s/1.md", &episode("One", "2026-11-02T10:00:00", &summary, "Body."));
    f.build_ok();
    let rss = f.out_text("s/rss.xml");
    assert!(
        rss.contains("<description><![CDATA[Tom &#x26; Jerry &#x3C;b&#x3E;bold&#x3C;/b&#x3E; 1 &#x3C; 2]]></description>"),
        "{rss}"
    );
    let atom = f.out_text("s/atom.xml");
    assert!(
        atom.contains("<summary type=\"html\">Tom &amp;amp; Jerry &amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; 1 &amp;lt; 2</summary>"),
        "{atom}"
    );
    let json: serde_json::Value = serde_json::from_slice(&f.read_out("s/feed.json")).unwrap();
    assert_eq!(json["items"][0]["summary"], HTML_LOOKING);
    for name in ["s/rss.xml", "s/atom.xml", "s/feed.json"] {
        let summary = f.feed(name).entries[0].summary.clone().unwrap();
        assert_eq!(shown_text(&summary), HTML_LOOKING, "{name}");
    }
    // Text without `<` or `&` stays type="text" in Atom.
    f.write("s/1.md", &episode("One", "2026-11-02T10:00:00", "summary = \"Quiet\"\n", "Body."));
    f.build_ok();
    assert!(f.out_text("s/atom.xml").contains("<summary>Quiet</summary>"));
}

#[test]
fn the_generator_names_no_made_up_address() {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("S", ""));
    f.write("s/1.md", &episode("One", "2026-11-02T10:00:00", "", "x"));
    f.build_ok();
    let version = env!("CARGO_PKG_VERSION");
    let atom = f.out_text("s/atom.xml");
    assert!(atom.contains(&format!("<generator version=\"{version}\">episodic</generator>")), "{atom}");
    assert!(!atom.contains("github.com"), "{atom}");
    assert!(f.out_text("s/rss.xml").contains(&format!("<generator>episodic {version}</generator>")));
}

#[test]
fn rss_ttl_is_the_max_age_the_document_is_served_with() {
    let f = Fixture::new();
    f.write("site.toml", &SITE_TOML.replace("[author]", "feed_limit = 2\ncache_max_age = 90\n[author]"));
    f.write("s/series.toml", &series_toml("S", ""));
    for n in 1..=5 {
        f.write(&format!("s/{n}.md"), &episode(&format!("E{n}"), &format!("2026-11-0{n}T10:00:00"), "", "x"));
    }
    f.build_ok();
    // 90 s is 1.5 minutes: rounded up, so readers never poll before max-age ends.
    let server = Server::start(&f, NOW, &[]);
    for (path, ttl, max_age) in [
        ("s/rss.xml", 2, "max-age=90,"),
        ("rss.xml", 2, "max-age=90,"),
        ("s/archive/3-4/rss.xml", 2, "max-age=90,"),
        ("s/archive/1-2/rss.xml", 1440, "max-age=86400,"),
    ] {
        assert_eq!(count(&f.out_text(path), &format!("<ttl>{ttl}</ttl>")), 1, "{path}");
        let reply = server.get(&format!("/{path}"), &[]);
        assert!(reply.header("cache-control").starts_with(&format!("public, {max_age}")), "{path}");
    }
}

#[test]
fn icons_are_where_each_reader_looks_and_the_favicon_is_the_icon() {
    let f = Fixture::new();
    let icon = png(64, 64);
    f.write("site.toml", &format!("icon = \"icon.png\"\n{SITE_TOML}"));
    f.write_bytes("icon.png", &icon);
    f.write("s/series.toml", &series_toml("S", "image = \"cover.png\"\n"));
    f.write_bytes("s/cover.png", &png(1400, 1400));
    f.write("bare/series.toml", &series_toml("Bare", ""));
    for slug in ["s", "bare"] {
        f.write(&format!("{slug}/1.md"), &episode("One", "2026-11-02T10:00:00", "", "x"));
    }
    let run = f.build();
    assert!(run.success && run.stderr.is_empty(), "{}", run.stderr);
    let icon_url = "https://example.com/icon.png";
    let cover_url = "https://example.com/s/cover.png";
    for (dir, image) in [("s/", cover_url), ("bare/", icon_url), ("", icon_url)] {
        let atom = f.feed(&format!("{dir}atom.xml"));
        assert_eq!(atom.icon.unwrap().uri, icon_url, "{dir}");
        let logo = atom.logo.map(|l| l.uri);
        assert_eq!(logo.as_deref(), (dir == "s/").then_some(cover_url), "{dir}");
        assert_eq!(f.feed(&format!("{dir}rss.xml")).logo.unwrap().uri, image, "{dir}");
        let json: serde_json::Value =
            serde_json::from_slice(&f.read_out(&format!("{dir}feed.json"))).unwrap();
        assert_eq!((json["icon"].as_str(), json["favicon"].as_str()), (Some(image), Some(icon_url)), "{dir}");
    }
    assert_eq!(f.read_out("icon.png"), icon);
    let favicon = f.read_out("favicon.ico");
    assert_eq!(favicon[..6], [0, 0, 1, 0, 1, 0], "an ICO holding one image");
    assert_eq!(favicon[6..8], [64, 64]);
    assert_eq!(favicon[22..], icon[..], "the PNG itself, not re-encoded");

    let server = Server::start(&f, NOW, &[]);
    let reply = server.get("/favicon.ico", &[]);
    assert_eq!((reply.status, reply.header("content-type")), (200, "image/x-icon"));
    assert_eq!(reply.body, favicon);
    for path in ["/", "/s/", "/s/1/"] {
        let html = String::from_utf8(server.get(path, &[]).body).unwrap();
        let page = scraper::Html::parse_document(&html);
        let links: Vec<(String, String)> = page
            .select(&scraper::Selector::parse("link[rel=icon]").unwrap())
            .map(|e| (e.attr("href").unwrap().to_owned(), e.attr("type").unwrap().to_owned()))
            .collect();
        assert_eq!(links, [("/icon.png".to_owned(), "image/png".to_owned())], "{path}");
    }
}

#[test]
fn an_icon_that_is_not_square_or_not_there_is_named_in_site_toml() {
    let f = Fixture::new();
    f.write("site.toml", &SITE_TOML.replace("[author]", "icon = \"wide.png\"\n[author]"));
    f.write_bytes("wide.png", &png(400, 200));
    f.write("s/series.toml", &series_toml("S", ""));
    f.write("s/1.md", &episode("One", "2026-11-02T10:00:00", "", "x"));
    let run = f.check();
    let expected = "site.toml:6: warning: icon `wide.png`: the icon is 400×200 pixels; readers show it in a square, so make it square (512×512 is a good size)";
    assert!(run.success && run.stderr.contains(expected), "{}", run.stderr);
    f.write("site.toml", &SITE_TOML.replace("[author]", "icon = \"gone.png\"\n[author]"));
    let run = f.build();
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("site.toml:6: warning: icon `gone.png` is not a file in the content folder"),
        "{}",
        run.stderr
    );
    assert!(!f.out_text("s/atom.xml").contains("<icon>"));
    assert!(!f.out().join("favicon.ico").exists());
}

#[test]
fn json_feed_has_every_required_member_with_its_type() {
    let f = hostile();
    f.build_ok();
    for path in ["feed.json", "night/feed.json", "night/archive/1-2/feed.json"] {
        let json: serde_json::Value = serde_json::from_slice(&f.read_out(path)).unwrap();
        assert_eq!(json["version"], "https://jsonfeed.org/version/1.1", "{path}");
        assert!(json["title"].is_string(), "{path}");
        for key in ["home_page_url", "feed_url", "icon", "favicon", "language"] {
            assert!(json[key].as_str().is_some_and(|s| !s.is_empty()), "{path}: {key}");
        }
        let items = json["items"].as_array().unwrap_or_else(|| panic!("{path}: items"));
        assert!(!items.is_empty(), "{path}");
        for item in items {
            assert!(item["id"].as_str().is_some_and(|id| !id.is_empty()), "{path}: {item}");
            assert!(item["content_html"].is_string() || item["content_text"].is_string(), "{path}");
            for key in ["url", "title", "summary", "date_published", "date_modified"] {
                assert!(item[key].is_string(), "{path}: {key}");
            }
            for date in ["date_published", "date_modified"] {
                item[date].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
            }
            for author in item["authors"].as_array().unwrap() {
                assert!(author["name"].is_string(), "{path}: authors need a name, url or avatar");
            }
        }
    }
}

#[test]
fn hostile_text_reaches_every_reader_as_written() {
    let f = hostile();
    let run = f.build();
    assert!(run.success, "{}", run.stderr);
    for path in ["night/rss.xml", "night/atom.xml", "night/feed.json", "rss.xml"] {
        let feed = f.feed(path);
        let title = if path.starts_with("night/") {
            "새벽 & <Night> ]]> شبكة"
        } else {
            "Tom & Jerry's <Site> ]]> 🌙"
        };
        assert_eq!(shown_text(feed.title.as_ref().unwrap()), title, "{path}");
        let titles: Vec<String> =
            feed.entries.iter().map(|e| shown_text(e.title.as_ref().unwrap())).collect();
        assert_eq!(titles, ["3화. مرحبا — RTL title ]]>", "2화. Controlcharacters gone"], "{path}");
        let summary = shown_text(feed.entries[1].summary.as_ref().unwrap());
        assert_eq!(summary, "<p>Looks like a paragraph</p> & <a href=\"x\">a link</a>", "{path}");
    }
    let archive = f.feed("night/archive/1-2/atom.xml");
    let first = &archive.entries[0];
    assert_eq!(shown_text(first.title.as_ref().unwrap()), "1화. Tom & Jerry <3 ]]> 1 < 2");
    assert_eq!(shown_text(first.summary.as_ref().unwrap()), HTML_LOOKING);
    let body = first.content.as_ref().unwrap().body.clone().unwrap();
    assert!(body.contains("<code>if a &lt; b &amp;&amp; c ]]&gt; d\n</code>"), "{body}");
    assert!(body.contains("emoji 👩‍💻"), "{body}");
    for path in f.out_files().iter().filter(|p| p.ends_with("rss.xml") || p.ends_with("atom.xml")) {
        let text = f.out_text(path);
        assert!(!text.contains("Scheduled") && !text.contains("Draft"), "{path}");
    }
}
