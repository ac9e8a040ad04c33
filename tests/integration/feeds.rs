//! What the feeds say: read back with feed-rs, checked to the second.

use crate::support::*;

/// A small Korean serial in Seoul time plus tricky content.
fn korean_serial() -> Fixture {
    let f = Fixture::new();
    f.write(
        "night/series.toml",
        &series_toml(
            "새벽 배포",
            "title_format = \"{number}화. {title}\"\ntags = [\"웹소설\"]\nimage = \"cover.png\"\n",
        ),
    );
    f.write_bytes("night/cover.png", b"\x89PNG cover");
    f.write_bytes("night/images/a.png", b"\x89PNG a");
    f.write_bytes("night/unused.png", b"\x89PNG never referenced");
    f.write(
        "night/01-first.md",
        &episode("첫 배포", "2026-11-02T10:00:00", "", "첫 문단입니다 🌙.\n\n![서버실](images/a.png)\n"),
    );
    f.write(
        "night/02-second.md",
        "---\ntitle: \"두 번째: 알림\"\ndate: 2026-11-09 10:00\ntags: [장애, 새벽]\n---\n[1화](01-first.md)와 [주석](#note), [밖](https://other.test/x?a=1&b=2).\n\n```\nif a < b && c ]]> d\n```\n",
    );
    f.write(
        "night/10-where.md",
        &episode(
            "어디서부터 잘못된걸까",
            "2026-11-16T10:00:00",
            "updated = 2026-11-17T08:30:00+09:00\nsummary = \"A & B <c> ]]> 요약\"\n",
            "본문 ]]> 그리고 <b>굵게</b> & 끝[^n].\n\n[^n]: 각주.\n",
        ),
    );
    f.write("night/11-draft.md", &episode("초안", "2026-11-20T10:00:00", "draft = true\n", "draft body"));
    f.write("night/12-later.md", &episode("예약", "2026-11-30T10:00:00", "", "scheduled body"));
    f
}

#[test]
fn series_feeds_carry_titles_ids_links_and_instants() {
    let f = korean_serial();
    f.build_ok();
    for name in ["rss.xml", "atom.xml", "feed.json"] {
        let feed = f.feed(&format!("night/{name}"));
        assert_eq!(
            titles(&feed),
            ["10화. 어디서부터 잘못된걸까", "2화. 두 번째: 알림", "1화. 첫 배포"],
            "{name}"
        );
        let newest = &feed.entries[0];
        assert_eq!(newest.id, "https://example.com/night/10/", "{name}");
        assert_eq!(newest.links[0].href, "https://example.com/night/10/", "{name}");
        assert_eq!(newest.published.unwrap().to_rfc3339(), "2026-11-16T01:00:00+00:00", "{name}");
        if name != "rss.xml" {
            assert_eq!(newest.updated.unwrap().to_rfc3339(), "2026-11-16T23:30:00+00:00", "{name}");
        }
        assert_eq!(feed.entries[1].published.unwrap().to_rfc3339(), "2026-11-09T01:00:00+00:00");
        assert_eq!(feed.title.as_ref().unwrap().content, "새벽 배포");
        let cats: Vec<&str> = feed.entries[1].categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(cats, ["장애", "새벽"], "{name}");
    }
}

#[test]
fn instants_are_written_in_the_series_offset() {
    let f = korean_serial();
    f.build_ok();
    let rss = f.out_text("night/rss.xml");
    assert!(rss.contains("<pubDate>Mon, 16 Nov 2026 10:00:00 +0900</pubDate>"), "{rss}");
    assert!(rss.contains("<lastBuildDate>Tue, 17 Nov 2026 08:30:00 +0900</lastBuildDate>"), "{rss}");
    let atom = f.out_text("night/atom.xml");
    assert!(atom.contains("<published>2026-11-16T10:00:00+09:00</published>"), "{atom}");
    assert!(atom.contains("<updated>2026-11-17T08:30:00+09:00</updated>"), "{atom}");
    let json: serde_json::Value = serde_json::from_slice(&f.read_out("night/feed.json")).unwrap();
    assert_eq!(json["items"][0]["date_published"], "2026-11-16T10:00:00+09:00");
    assert_eq!(json["items"][0]["date_modified"], "2026-11-17T08:30:00+09:00");
    assert_eq!(json["items"][2]["date_modified"], "2026-11-02T10:00:00+09:00");
}

#[test]
fn drafts_and_future_episodes_are_left_out_until_due() {
    let f = korean_serial();
    f.build_ok();
    for path in ["night/rss.xml", "night/atom.xml", "night/feed.json", "rss.xml", "feed.json"] {
        let text = f.out_text(path);
        assert!(!text.contains("초안") && !text.contains("예약"), "{path} leaks unpublished work");
    }
    let run = f.build_at("2026-11-30T01:00:00Z");
    assert!(run.success, "{}", run.stderr);
    let feed = f.feed("night/atom.xml");
    assert_eq!(titles(&feed)[0], "12화. 예약");
    assert!(!titles(&feed).iter().any(|t| t.contains("초안")));
}

#[test]
fn every_url_in_the_content_is_absolute() {
    let f = korean_serial();
    f.build_ok();
    let feed = f.feed("night/feed.json");
    let second = &feed.entries[1];
    let html = second.content.as_ref().unwrap().body.clone().unwrap();
    assert!(html.contains("href=\"https://example.com/night/1/\""), "{html}");
    assert!(html.contains("href=\"https://example.com/night/2/#note\""), "{html}");
    assert!(html.contains("href=\"https://other.test/x?a=1&amp;b=2\""), "{html}");
    let first = feed.entries[2].content.as_ref().unwrap().body.clone().unwrap();
    assert!(first.contains("src=\"https://example.com/night/images/a.png\""), "{first}");
    let tenth = feed.entries[0].content.as_ref().unwrap().body.clone().unwrap();
    assert!(tenth.contains("<a href=\"https://example.com/night/10/#n\">1</a>"), "{tenth}");
}

#[test]
fn referenced_assets_are_copied_and_nothing_else() {
    let f = korean_serial();
    f.write_bytes("night/audio/01.mp3", b"ID3 audio");
    f.write(
        "night/01-first.md",
        &episode(
            "첫 배포",
            "2026-11-02T10:00:00",
            "",
            "<audio controls src=\"audio/01.mp3\"></audio>\n\n![서버실](images/a.png)\n",
        ),
    );
    f.build_ok();
    assert_eq!(f.read_out("night/audio/01.mp3"), b"ID3 audio");
    let html = f.feed("night/feed.json").entries[2].content.clone().unwrap().body.unwrap();
    assert!(
        html.contains("<audio controls src=\"https://example.com/night/audio/01.mp3\"></audio>"),
        "{html}"
    );
    assert_eq!(f.read_out("night/images/a.png"), b"\x89PNG a");
    assert_eq!(f.read_out("night/cover.png"), b"\x89PNG cover");
    let files = f.out_files();
    assert!(
        !files.iter().any(|p| p.contains("unused") || p.ends_with(".md") || p.ends_with(".toml")),
        "{files:?}"
    );
}

#[test]
fn markup_in_text_and_code_is_escaped_not_interpreted() {
    let f = korean_serial();
    f.build_ok();
    for name in ["night/rss.xml", "night/atom.xml", "night/feed.json"] {
        let feed = f.feed(name);
        let newest = &feed.entries[0];
        assert_eq!(shown_text(newest.summary.as_ref().unwrap()), "A & B <c> ]]> 요약", "{name}");
        // RSS writes `&`, `<` and `>` as hex references (the RSS Profile's
        // advice): the same HTML.
        let unhex = |html: String| {
            html.replace("&#x26;", "&amp;").replace("&#x3C;", "&lt;").replace("&#x3E;", "&gt;")
        };
        let html = unhex(newest.content.as_ref().unwrap().body.clone().unwrap());
        assert!(html.contains("본문 ]]&gt; 그리고 <b>굵게</b> &amp; 끝"), "{name}: {html}");
        let code = unhex(feed.entries[1].content.as_ref().unwrap().body.clone().unwrap());
        assert!(code.contains("<code>if a &lt; b &amp;&amp; c ]]&gt; d\n</code>"), "{name}: {code}");
    }
}

#[test]
fn korean_and_emoji_survive_and_summaries_default_to_the_first_paragraph() {
    let f = korean_serial();
    f.build_ok();
    let feed = f.feed("night/rss.xml");
    assert_eq!(feed.entries[2].summary.as_ref().unwrap().content, "첫 문단입니다 🌙.");
    assert!(f.out_text("night/rss.xml").contains("첫 문단입니다 🌙."));
}

#[test]
fn forbidden_characters_are_dropped_with_a_warning() {
    let f = korean_serial();
    f.write(
        "night/03-ctrl.md",
        &episode("Bad\u{b}chars\u{1b}", "2026-11-10T10:00:00", "", "x\u{fffe}y and \u{0}z\n"),
    );
    let run = f.build();
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("03-ctrl.md:2: warning: removed 4 invisible control character(s)"),
        "{}",
        run.stderr
    );
    for name in ["night/rss.xml", "night/atom.xml", "night/feed.json", "rss.xml", "atom.xml"] {
        let feed = f.feed(name);
        let entry = feed.entries.iter().find(|e| e.id == "https://example.com/night/3/").expect("episode 3");
        assert_eq!(entry.title.as_ref().unwrap().content, "3화. Badchars", "{name}");
        assert!(entry.content.as_ref().unwrap().body.as_deref().unwrap().contains("xy and z"), "{name}");
    }
}

#[test]
fn forbidden_characters_written_as_escapes_are_dropped_too() {
    let f = korean_serial();
    f.write("night/series.toml", "title = \"새벽\\u000B배포\"\ntitle_format = \"{number}화. {title}\"\n");
    f.write(
        "night/03-toml.md",
        "+++\ntitle = \"T\\u001Boml\"\ndate = 2026-11-10T10:00:00\n+++\nref&#11;erence &#xFFFE;here\n",
    );
    f.write(
        "night/04-yaml.md",
        "---\ntitle: \"Y\\x1baml\"\ndate: 2026-11-11 10:00\ntags: [\"a\\x0bb\"]\n---\nbody\n",
    );
    let run = f.build();
    assert!(run.success, "{}", run.stderr);
    let warnings =
        |file: &str| run.stderr.lines().filter(|l| l.contains(file) && l.contains("warning: ")).count();
    assert_eq!(warnings("night/series.toml:1"), 1, "{}", run.stderr);
    assert_eq!(warnings("night/03-toml.md"), 2, "{}", run.stderr);
    assert_eq!(warnings("night/04-yaml.md"), 2, "{}", run.stderr);
    for name in ["night/rss.xml", "night/atom.xml", "night/feed.json", "rss.xml"] {
        let feed = f.feed(name);
        let entry =
            |id: &str| feed.entries.iter().find(|e| e.id == id).unwrap_or_else(|| panic!("{id} in {name}"));
        let toml = entry("https://example.com/night/3/");
        assert_eq!(toml.title.as_ref().unwrap().content, "3화. Toml", "{name}");
        assert_eq!(toml.summary.as_ref().unwrap().content, "reference here", "{name}");
        let yaml = entry("https://example.com/night/4/");
        assert_eq!(yaml.title.as_ref().unwrap().content, "4화. Yaml", "{name}");
        assert_eq!(yaml.categories[0].term, "ab", "{name}");
    }
    assert_eq!(f.feed("night/atom.xml").title.unwrap().content, "새벽배포");
}

#[test]
fn ids_survive_edits_to_title_body_tags_date_and_file_name() {
    let f = korean_serial();
    f.build_ok();
    let before: Vec<String> = f.feed("night/atom.xml").entries.iter().map(|e| e.id.clone()).collect();
    f.write(
        "night/10-where.md",
        &episode("완전히 새 제목", "2026-11-16T11:00:00", "tags = [\"new\"]\n", "다른 본문\n"),
    );
    f.rename("night/10-where.md", "night/010-renamed.md");
    f.build_ok();
    let after: Vec<String> = f.feed("night/atom.xml").entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(before, after);
    assert_eq!(titles(&f.feed("night/atom.xml"))[0], "10화. 완전히 새 제목");
}

#[test]
fn a_custom_id_replaces_the_permalink_guid() {
    let f = korean_serial();
    f.write(
        "night/01-first.md",
        &episode(
            "첫 배포",
            "2026-11-02T10:00:00",
            "id = \"urn:uuid:2f1c6a8e-0c4b-4d7e-9d1e-3f0b8c1a2b3c\"\n",
            "body",
        ),
    );
    f.build_ok();
    let rss = f.out_text("night/rss.xml");
    assert!(
        rss.contains("<guid isPermaLink=\"false\">urn:uuid:2f1c6a8e-0c4b-4d7e-9d1e-3f0b8c1a2b3c</guid>"),
        "{rss}"
    );
    assert!(rss.contains("<guid>https://example.com/night/10/</guid>"), "{rss}");
    let feed = f.feed("night/feed.json");
    assert_eq!(feed.entries[2].id, "urn:uuid:2f1c6a8e-0c4b-4d7e-9d1e-3f0b8c1a2b3c");
    assert_eq!(feed.entries[2].links[0].href, "https://example.com/night/1/");
}

#[test]
fn authors_with_an_email_go_to_rss_author_and_atom_person() {
    let f = korean_serial();
    f.build_ok();
    let rss = f.out_text("night/rss.xml");
    assert!(rss.contains("<author>site@example.com (Site Author)</author>"), "{rss}");
    let feed = f.feed("night/atom.xml");
    assert_eq!(feed.entries[0].authors[0].name.as_deref(), Some("Site Author"));
    assert_eq!(feed.entries[0].authors[0].email.as_deref(), Some("site@example.com"));
}

#[test]
fn feed_level_metadata_is_complete() {
    let f = korean_serial();
    f.build_ok();
    let atom = f.feed("night/atom.xml");
    assert_eq!(atom.id, "https://example.com/night/");
    assert_eq!(atom.language.as_deref(), Some("en"));
    assert_eq!(atom.updated.unwrap().to_rfc3339(), "2026-11-16T23:30:00+00:00");
    assert_eq!(atom.logo.as_ref().unwrap().uri, "https://example.com/night/cover.png");
    assert_eq!(atom.categories[0].term, "웹소설");
    let links: Vec<(&str, Option<&str>)> =
        atom.links.iter().map(|l| (l.href.as_str(), l.rel.as_deref())).collect();
    assert!(links.contains(&("https://example.com/night/atom.xml", Some("self"))), "{links:?}");
    let rss = f.out_text("night/rss.xml");
    assert!(rss.contains("<atom:link href=\"https://example.com/night/rss.xml\" rel=\"self\" type=\"application/rss+xml\"/>"), "{rss}");
    assert!(rss.contains("<language>en</language>"));
    assert!(rss.contains("<generator>episodic "));
    let json: serde_json::Value = serde_json::from_slice(&f.read_out("night/feed.json")).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["feed_url"], "https://example.com/night/feed.json");
    assert_eq!(json["home_page_url"], "https://example.com/night/");
}

#[test]
fn the_site_feed_merges_series_newest_first_within_the_limit() {
    let f = korean_serial();
    f.write(
        "harbor/series.toml",
        &series_toml("Harbor", "timezone = \"America/New_York\"\nlanguage = \"en-US\"\n"),
    );
    // 2026-11-16 07:30 in New York is 21:30 in Seoul: after night's episode 10.
    f.write("harbor/1.md", &episode("Fog", "2026-11-16 07:30", "", "Fog."));
    f.write("site.toml", &SITE_TOML.replace("[author]", "feed_limit = 3\n[author]"));
    f.build_ok();
    let site = f.feed("atom.xml");
    assert_eq!(titles(&site), ["Fog", "10화. 어디서부터 잘못된걸까", "2화. 두 번째: 알림"]);
    assert_eq!(site.entries[0].published.unwrap().to_rfc3339(), "2026-11-16T12:30:00+00:00");
    assert!(f.out_text("atom.xml").contains("<published>2026-11-16T07:30:00-05:00</published>"));
    assert!(f.out_text("harbor/rss.xml").contains("<language>en-US</language>"));
    assert_eq!(titles(&f.feed("night/rss.xml")).len(), 3);
}
