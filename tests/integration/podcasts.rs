//! Podcasts: an episode's audio as the enclosure in RSS, Atom and JSON Feed
//! with the file's exact size, its type read from its content and its
//! duration read from its headers (or the front matter); media hosted
//! elsewhere; a replaced recording measured again; the episode page's
//! player; a `[podcast]` series' iTunes channel tags; and errors that name
//! file and line.

use crate::running::wait_for;
use crate::server::Server;
use crate::support::{Fixture, NOW, episode, series_toml};

/// A real WAV file: 8 kHz, 16-bit mono PCM, `seconds` long.
fn wav(seconds: u32) -> Vec<u8> {
    let (rate, data_len) = (8000u32, 8000 * 2 * seconds);
    let mut wav = b"RIFF".to_vec();
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.extend((0..data_len).map(|i| (i % 64) as u8));
    wav
}

/// A real MPEG-1 Layer III stream: `frames` frames at 128 kbit/s, 44.1 kHz
/// (417 bytes and 1152 samples each).
fn mp3(frames: usize) -> Vec<u8> {
    let mut frame = vec![0u8; 417];
    frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
    frame.repeat(frames)
}

/// The least series.toml that makes a podcast (its `[podcast]` table last).
const SMALL_PODCAST_TOML: &str =
    "title = \"Serial\"\n\n[podcast]\nexplicit = false\ncategories = [\"Fiction\"]\n";

fn podcast() -> Fixture {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("Serial", ""));
    let trailer = "media = \"audio/01.wav\"\nseason = 2\nepisode_type = \"trailer\"\n";
    f.write("s/01.md", &episode("Trailer", "2026-10-01T10:00:00", trailer, "Soon.\n"));
    f.write_bytes("s/audio/01.wav", &wav(3));
    // Named .mp3, but WAV inside: typed by what it is.
    f.write("s/02.md", &episode("Two", "2026-10-08T10:00:00", "media = \"02.mp3\"\n", "Two.\n"));
    f.write_bytes("s/02.mp3", &wav(2));
    let given = "media = \"03.mp3\"\nduration = \"1:02:03\"\n";
    f.write("s/03.md", &episode("Three", "2026-10-15T10:00:00", given, "Three.\n"));
    f.write_bytes("s/03.mp3", &mp3(300));
    let elsewhere =
        "media = \"https://cdn.example.net/ep/04.m4a?src=feed\"\nmedia_length = 123456\nduration = 1830\n";
    f.write("s/04.md", &episode("Four", "2026-10-22T10:00:00", elsewhere, "Four.\n"));
    f
}

/// (url, type, length, duration) of each item, newest first, as JSON Feed
/// says it.
fn attachments(f: &Fixture) -> Vec<(String, String, u64, Option<u64>)> {
    let json: serde_json::Value = serde_json::from_slice(&f.read_out("s/feed.json")).unwrap();
    json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let a = &item["attachments"][0];
            let text = |key: &str| a[key].as_str().unwrap().to_owned();
            (
                text("url"),
                text("mime_type"),
                a["size_in_bytes"].as_u64().unwrap(),
                a["duration_in_seconds"].as_u64(),
            )
        })
        .collect()
}

#[test]
fn each_format_carries_the_files_exact_size_type_and_duration() {
    let f = podcast();
    f.write("s/series.toml", SMALL_PODCAST_TOML);
    f.build_ok();
    let run = f.build();
    let misnamed = format!(
        "{}:4: warning: `media` `02.mp3` holds audio/wav, though its name says audio/mpeg: it is announced and served as what it holds",
        f.content().join("s/02.md").display()
    );
    assert!(run.stderr.contains(&misnamed), "{}", run.stderr);
    let expected = [
        ("https://cdn.example.net/ep/04.m4a?src=feed", "audio/x-m4a", 123_456, Some(1830)),
        ("https://example.com/s/03.mp3", "audio/mpeg", 125_100, Some(3723)),
        ("https://example.com/s/02.mp3", "audio/wav", 32_044, Some(2)),
        ("https://example.com/s/audio/01.wav", "audio/wav", 48_044, Some(3)),
    ];
    let expected: Vec<(String, String, u64, Option<u64>)> =
        expected.iter().map(|&(u, t, l, d)| (u.to_owned(), t.to_owned(), l, d)).collect();
    assert_eq!(attachments(&f), expected);
    assert_eq!(std::fs::read(f.out().join("s/audio/01.wav")).unwrap(), wav(3), "the file is published");

    // RSS, read by feed-rs as a podcast app would, and its exact attributes.
    let rss = f.feed("s/rss.xml");
    for (entry, (url, mime, len, seconds)) in rss.entries.iter().zip(&expected) {
        // feed-rs keeps the enclosure and iTunes' tags in separate objects.
        let content = entry.media.iter().flat_map(|m| &m.content).next().expect(url);
        assert_eq!(content.url.as_ref().map(|u| u.as_str()), Some(url.as_str()));
        assert_eq!(content.content_type.as_ref().map(|t| t.to_string()), Some(mime.clone()));
        assert_eq!(content.size, Some(*len));
        let duration = entry.media.iter().find_map(|m| m.duration);
        assert_eq!(duration, seconds.map(std::time::Duration::from_secs), "{url}");
    }
    let text = f.out_text("s/rss.xml");
    assert!(
        text.contains(
            r#"<enclosure url="https://example.com/s/audio/01.wav" length="48044" type="audio/wav"/>"#
        ),
        "{text}"
    );
    // Apple's tags: whole seconds, the type, a season when given; a trailer
    // goes unnumbered.
    let doc = roxmltree::Document::parse(&text).unwrap();
    let itunes = "http://www.itunes.com/dtds/podcast-1.0.dtd";
    let tags: Vec<Vec<(String, String)>> = doc
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .map(|item| {
            item.children()
                .filter(|n| n.tag_name().namespace() == Some(itunes))
                .map(|n| (n.tag_name().name().to_owned(), n.text().unwrap_or_default().to_owned()))
                .collect()
        })
        .collect();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let title = |title: &str| ("title".to_owned(), title.to_owned());
    let with_title = |title_: &str, list: &[(&str, &str)]| [vec![title(title_)], pairs(list)].concat();
    assert_eq!(
        tags[0],
        with_title("Four", &[("duration", "1830"), ("episode", "4"), ("episodeType", "full")])
    );
    assert_eq!(
        tags[3],
        with_title("Trailer", &[("duration", "3"), ("season", "2"), ("episodeType", "trailer")])
    );
    // The site-wide feed is no podcast: its items have the enclosure only.
    let site = f.out_text("rss.xml");
    assert!(site.contains("<enclosure url=\"https://example.com/s/audio/01.wav\""), "{site}");
    assert!(!site.contains("<itunes:"), "{site}");
    // Atom: a link rel="enclosure" with type and length.
    let atom = f.out_text("s/atom.xml");
    let doc = roxmltree::Document::parse(&atom).unwrap();
    let enclosures: Vec<(&str, &str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("link") && n.attribute("rel") == Some("enclosure"))
        .map(|n| (n.attribute("href").unwrap(), n.attribute("type").unwrap(), n.attribute("length").unwrap()))
        .collect();
    assert_eq!(enclosures[3], ("https://example.com/s/audio/01.wav", "audio/wav", "48044"));
    assert_eq!(enclosures[0], ("https://cdn.example.net/ep/04.m4a?src=feed", "audio/x-m4a", "123456"));
    assert_eq!(enclosures.len(), 4);
}

#[test]
fn missing_media_is_an_error_at_its_line_and_elsewhere_needs_its_size() {
    let f = podcast();
    let missing = "media = \"gone.mp3\"\n";
    f.write("s/05.md", &episode("Five", "2026-10-29T10:00:00", missing, "Five.\n"));
    let run = f.build();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let line = format!(
        "{}:4: error: `media` `gone.mp3` is not a file in the content folder",
        f.content().join("s/05.md").display()
    );
    assert!(run.stderr.contains(&line), "{}", run.stderr);

    f.write("s/05.md", &episode("Five", "2026-10-29T10:00:00", "media = \"notes.txt\"\n", "Five.\n"));
    f.write("s/notes.txt", "not a recording");
    let run = f.build();
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("`media` `notes.txt`: it is not audio or video"), "{}", run.stderr);

    let bare = "media = \"https://cdn.example.net/05.mp3\"\n";
    f.write("s/05.md", &episode("Five", "2026-10-29T10:00:00", bare, "Five.\n"));
    let run = f.build();
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stderr.contains("s/05.md:4: warning: `media` is hosted elsewhere: add `media_length`"),
        "{}",
        run.stderr
    );
    assert_eq!(attachments(&f)[0], ("https://cdn.example.net/05.mp3".into(), "audio/mpeg".into(), 0, None));
}

#[test]
fn a_replaced_recording_is_measured_again() {
    let f = podcast();
    let server = Server::start(&f, NOW, &[]);
    let length = |server: &Server| -> String {
        let feed = server.get("/s/feed.json", &[]);
        let json: serde_json::Value = serde_json::from_slice(&feed.body).unwrap();
        let trailer = &json["items"][3]["attachments"][0];
        format!("{} {}", trailer["size_in_bytes"], trailer["duration_in_seconds"])
    };
    assert_eq!(length(&server), "48044 3");
    f.write_bytes("s/audio/.01.wav.part", &wav(5));
    f.rename("s/audio/.01.wav.part", "s/audio/01.wav");
    wait_for("the new recording's size in the feed", || (length(&server) == "80044 5").then_some(()));
    let served = server.get("/s/audio/01.wav", &[]);
    assert_eq!((served.status, served.body.len()), (200, 80_044));
    // Served as what it holds, like its enclosure says, whatever its name.
    let misnamed = server.head("/s/02.mp3", &[]);
    assert_eq!((misnamed.status, misnamed.header("content-type")), (200, "audio/wav"));
}

#[test]
fn an_episode_page_plays_its_media_and_shows_its_duration() {
    let f = podcast();
    f.build_ok();
    for (page, src, mime, iso, text) in [
        ("s/1/index.html", "https://example.com/s/audio/01.wav", "audio/wav", "PT0H0M3S", "0:03"),
        (
            "s/4/index.html",
            "https://cdn.example.net/ep/04.m4a?src=feed",
            "audio/x-m4a",
            "PT0H30M30S",
            "30:30",
        ),
        ("s/3/index.html", "https://example.com/s/03.mp3", "audio/mpeg", "PT1H2M3S", "1:02:03"),
    ] {
        let html = scraper::Html::parse_document(&f.out_text(page));
        let select = |css: &str| scraper::Selector::parse(css).unwrap();
        let audio = html.select(&select("figure.media audio")).next().expect(page);
        assert_eq!((audio.attr("controls"), audio.attr("preload")), (Some(""), Some("metadata")), "{page}");
        let source = html.select(&select("figure.media audio source")).next().expect(page);
        assert_eq!((source.attr("src"), source.attr("type")), (Some(src), Some(mime)), "{page}");
        let time = html.select(&select("figure.media figcaption time")).next().expect(page);
        assert_eq!(time.attr("datetime"), Some(iso), "{page}");
        assert_eq!(time.text().collect::<String>(), text, "{page}");
    }
    f.write("s/06.md", &episode("Six", "2026-11-05T10:00:00", "", "No audio.\n"));
    f.build_ok();
    assert!(!f.out_text("s/6/index.html").contains("<figure class=\"media\">"));
    // Episodes with media do not make a podcast: only `[podcast]` does.
    assert!(!f.out_text("s/index.html").contains("feed-podcast"));
}

const PODCAST_TOML: &str = r#"title = "Serial"
author = "Kim"
title_format = "{number}. {title}"
[podcast]
type = "serial"
categories = ["Fiction", "Drama", "Arts", "Books"]
explicit = false
owner = { name = "Kim Writer", email = "kim@example.com" }
image = "art.png"
locked = true
funding = { url = "https://example.com/support", text = "Support the show" }
"#;

#[test]
fn a_podcast_series_has_apples_channel_tags() {
    let f = podcast();
    f.write("s/series.toml", PODCAST_TOML);
    f.write_bytes("s/art.png", &crate::support::png(1400, 1400));
    let given = "media = \"03.mp3\"\nduration = \"1:02:03\"\ntranscript = \"03.vtt\"\nimage = \"art.png\"\n";
    f.write("s/03.md", &episode("Three", "2026-10-15T10:00:00", given, "Three.\n"));
    f.write("s/03.vtt", "WEBVTT\n\n00:00.000 --> 00:02.000\nThree.\n");
    f.build_ok();
    let text = f.out_text("s/rss.xml");
    let doc = roxmltree::Document::parse(&text).unwrap();
    let itunes = "http://www.itunes.com/dtds/podcast-1.0.dtd";
    let channel = doc.descendants().find(|n| n.has_tag_name("channel")).unwrap();
    let tag = |name: &'static str| {
        channel
            .children()
            .filter(move |n| n.tag_name().namespace() == Some(itunes) && n.tag_name().name() == name)
    };
    let text_of = |name: &'static str| tag(name).next().and_then(|n| n.text()).unwrap_or_default().to_owned();
    assert_eq!(
        (text_of("type"), text_of("explicit"), text_of("author")),
        ("serial".into(), "false".into(), "Kim".into())
    );
    let categories: Vec<(String, Vec<String>)> = tag("category")
        .map(|c| {
            let subs =
                c.children().filter(|n| n.is_element()).map(|n| n.attribute("text").unwrap().to_owned());
            (c.attribute("text").unwrap().to_owned(), subs.collect())
        })
        .collect();
    assert_eq!(
        categories,
        [("Fiction".to_owned(), vec!["Drama".to_owned()]), ("Arts".into(), vec!["Books".into()])]
    );
    let owner = tag("owner").next().unwrap();
    let owner: Vec<(&str, &str)> = owner
        .children()
        .filter(|n| n.is_element())
        .map(|n| (n.tag_name().name(), n.text().unwrap()))
        .collect();
    assert_eq!(owner, [("name", "Kim Writer"), ("email", "kim@example.com")]);
    assert_eq!(tag("image").next().unwrap().attribute("href"), Some("https://example.com/s/art.png"));
    assert!(f.out().join("s/art.png").exists(), "the artwork is published");

    // The Podcast Index namespace: the show's GUID (UUIDv5 of the feed URL
    // without its scheme), locked with the owner's e-mail, funding.
    let namespace = "https://podcastindex.org/namespace/1.0";
    let show = |name: &'static str| {
        channel
            .children()
            .find(|n| n.tag_name().namespace() == Some(namespace) && n.tag_name().name() == name)
    };
    let guid_namespace = uuid::Uuid::parse_str("ead4c236-bf58-58c6-a2c6-a6b28d128cb6").unwrap();
    let guid = uuid::Uuid::new_v5(&guid_namespace, b"example.com/s/rss.xml").to_string();
    assert_eq!(show("guid").unwrap().text(), Some(guid.as_str()));
    let locked = show("locked").unwrap();
    assert_eq!((locked.text(), locked.attribute("owner")), (Some("yes"), Some("kim@example.com")));
    let funding = show("funding").unwrap();
    assert_eq!(
        (funding.text(), funding.attribute("url")),
        (Some("Support the show"), Some("https://example.com/support"))
    );
    let items: Vec<Vec<(String, String)>> = doc
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .map(|item| {
            item.children()
                .filter(|n| n.tag_name().namespace() == Some(namespace))
                .map(|n| {
                    let shown = n.text().map(str::to_owned).unwrap_or_else(|| {
                        format!("{} {}", n.attribute("url").unwrap_or(""), n.attribute("type").unwrap_or(""))
                    });
                    (n.tag_name().name().to_owned(), shown)
                })
                .collect()
        })
        .collect();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    // Apple numbers episodes itself: its title is the one written.
    assert!(text.contains("<title>3. Three</title>"), "{text}");
    assert!(text.contains("<itunes:title>Three</itunes:title>"), "{text}");
    // An episode's own picture, as Apple's item image.
    assert!(
        text.contains(
            "<itunes:image href=\"https://example.com/s/art.png\"></itunes:image><itunes:duration>3723</itunes:duration>"
        ),
        "{text}"
    );
    assert_eq!(items[0], pairs(&[("episode", "4")]));
    assert_eq!(items[1], pairs(&[("episode", "3"), ("transcript", "https://example.com/s/03.vtt text/vtt")]));
    assert_eq!(items[3], pairs(&[("season", "2")]), "a trailer goes unnumbered");
    let page = scraper::Html::parse_document(&f.out_text("s/3/index.html"));
    let link = page.select(&scraper::Selector::parse("p.meta a[href$=\".vtt\"]").unwrap()).next().unwrap();
    assert_eq!(
        (link.attr("href"), link.text().collect::<String>()),
        (Some("https://example.com/s/03.vtt"), "Transcript".to_owned())
    );
    // Its pages tell listeners what to paste into a podcast app.
    let podcast_input =
        scraper::Selector::parse("section[aria-labelledby=subscribe] input#feed-podcast").unwrap();
    for path in ["s/index.html", "s/3/index.html"] {
        let page = scraper::Html::parse_document(&f.out_text(path));
        let input = page.select(&podcast_input).next().unwrap_or_else(|| panic!("{path}"));
        assert_eq!(input.attr("value"), Some("https://example.com/s/rss.xml"), "{path}");
        let label =
            page.select(&scraper::Selector::parse("label[for=feed-podcast]").unwrap()).next().unwrap();
        assert!(label.text().collect::<String>().starts_with("Listen in a podcast app: paste this address"));
    }
    // A series without [podcast] has no channel tags.
    assert!(!f.out_text("rss.xml").contains("<itunes:type>"), "the site-wide feed is not a podcast");
    assert!(!f.build().stderr.contains("podcast artwork"));

    f.write_bytes("s/art.png", &crate::support::png(1000, 800));
    let run = f.build();
    assert!(run.success, "{}", run.stderr);
    let expected = format!(
        "{}: warning: podcast artwork: it is 1000×800 px; Apple Podcasts wants a square of 1400 to 3000 px",
        f.content().join("s/art.png").display()
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
}

#[test]
fn podcast_settings_are_checked_with_the_line_and_a_suggestion() {
    let f = podcast();
    let cases = [
        (
            "categories = [\"Drama\"]",
            5,
            "`Drama` is a subcategory of \"Fiction\": write \"Fiction\" right before it",
        ),
        (
            "categories = [\"Fictoin\"]",
            5,
            "`Fictoin` is not one of Apple Podcasts' categories; did you mean \"Fiction\"?",
        ),
        ("type = \"seriel\"", 5, "`type` is `seriel`; it is \"serial\" or \"episodic\""),
        ("guid = \"nope\"", 5, "`guid` `nope` is not a UUID (like 9b024349-ccf0-5f69-a609-6b82873eab3c)"),
    ];
    for (line, at, message) in cases {
        f.write("s/series.toml", &format!("title = \"Serial\"\n\n[podcast]\nexplicit = true\n{line}\n"));
        let run = f.build();
        assert_eq!(run.code, Some(1), "{line}: {}", run.stderr);
        let expected = format!("{}:{at}: error: {message}", f.content().join("s/series.toml").display());
        assert!(run.stderr.contains(&expected), "{line}: {}", run.stderr);
    }
    f.write("s/series.toml", "title = \"Serial\"\n\n[podcast]\ncategories = [\"Fiction\"]\n");
    let run = f.build();
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("series.toml:3: error: `[podcast]` needs `explicit = true` or `explicit = false`"),
        "{}",
        run.stderr
    );
}

/// The `<podcast:guid>` of `rss`.
fn show_guid(rss: &str) -> String {
    let start = rss.find("<podcast:guid>").expect("a podcast:guid") + "<podcast:guid>".len();
    rss[start..start + 36].to_owned()
}

fn guid_of(feed: &str) -> String {
    let namespace = uuid::Uuid::parse_str("ead4c236-bf58-58c6-a2c6-a6b28d128cb6").unwrap();
    uuid::Uuid::new_v5(&namespace, feed.as_bytes()).to_string()
}

#[test]
fn a_podcast_keeps_its_guid_when_the_site_moves() {
    let f = podcast();
    f.write("s/series.toml", SMALL_PODCAST_TOML);
    f.build_ok();
    let first = guid_of("example.com/s/rss.xml");
    assert_eq!(show_guid(&f.out_text("s/rss.xml")), first);
    let manifest = f.out_text(".episodic-manifest");
    assert!(
        manifest.starts_with(&format!("# site https://example.com/ 300\n# podcast-guid s {first}\n")),
        "{manifest}"
    );

    // The site moves: the feed's address changes, the show's identity not.
    let moved = crate::support::SITE_TOML.replace("https://example.com/", "https://serials.example.org/");
    f.write("site.toml", &moved);
    let run = f.build();
    assert!(run.success, "{}", run.stderr);
    let rss = f.out_text("s/rss.xml");
    assert!(rss.contains("<atom:link href=\"https://serials.example.org/s/rss.xml\""), "{rss}");
    assert_eq!(show_guid(&rss), first);
    let warning = format!(
        "{}:3: warning: the feed moved to https://serials.example.org/s/rss.xml; podcast apps know the show by the podcast:guid it was published with, so it stays {first}. Add `guid = \"{first}\"` under [podcast]",
        f.content().join("s/series.toml").display()
    );
    assert!(run.stderr.contains(&warning), "{}", run.stderr);
    assert!(f.out_text(".episodic-manifest").contains(&format!("# podcast-guid s {first}\n")));

    // Written down, it needs no manifest: a build into an empty folder.
    f.write("s/series.toml", &format!("{SMALL_PODCAST_TOML}guid = \"{first}\"\n"));
    std::fs::remove_dir_all(f.out()).unwrap();
    let run = f.build();
    assert!(run.success && !run.stderr.contains("the feed moved"), "{}", run.stderr);
    assert_eq!(show_guid(&f.out_text("s/rss.xml")), first);
    // Without it, an empty folder knows only the new address.
    f.write("s/series.toml", SMALL_PODCAST_TOML);
    std::fs::remove_dir_all(f.out()).unwrap();
    f.build_ok();
    assert_eq!(show_guid(&f.out_text("s/rss.xml")), guid_of("serials.example.org/s/rss.xml"));
}

#[test]
fn a_served_podcast_keeps_its_guid_when_site_toml_moves_it() {
    let f = podcast();
    f.write("s/series.toml", SMALL_PODCAST_TOML);
    let server = Server::start(&f, NOW, &[]);
    let rss = |server: &Server| String::from_utf8(server.get("/s/rss.xml", &[]).body).unwrap();
    let first = guid_of("example.com/s/rss.xml");
    assert_eq!(show_guid(&rss(&server)), first);
    let moved = crate::support::SITE_TOML.replace("https://example.com/", "https://serials.example.org/");
    f.write("site.toml", &moved);
    let text = wait_for("the feed at its new address", || {
        Some(rss(&server)).filter(|text| text.contains("https://serials.example.org/s/rss.xml"))
    });
    assert_eq!(show_guid(&text), first);
}

/// `itunes:episode` of each item, newest first (`-` where there is none).
fn itunes_episodes(rss: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(rss).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("item"))
        .map(|item| {
            let number = item.children().find(|n| {
                n.tag_name().namespace() == Some("http://www.itunes.com/dtds/podcast-1.0.dtd")
                    && n.tag_name().name() == "episode"
            });
            number.and_then(|n| n.text()).unwrap_or("-").to_owned()
        })
        .collect()
}

#[test]
fn a_serials_dates_follow_its_order_and_episode_zero_goes_unnumbered() {
    let f = podcast();
    let serial = "title = \"Serial\"\nimage = \"art.png\"\n\n[podcast]\nexplicit = false\ncategories = [\"Fiction\"]\n";
    f.write("s/series.toml", serial);
    f.write_bytes("s/art.png", &crate::support::png(1400, 1400));
    // A prologue numbered 0 is a full episode Apple cannot number.
    f.write("s/00.md", &episode("Prologue", "2026-09-30T10:00:00", "media = \"02.mp3\"\n", "Before.\n"));
    let run = f.build();
    assert!(run.success && !run.stderr.contains("out of order"), "{}", run.stderr);
    assert_eq!(itunes_episodes(&f.out_text("s/rss.xml")), ["4", "3", "2", "-", "-"]);

    // Episode 3 dated before 2: a warning at its date; the trailer (1),
    // dated after them all, stands outside the order.
    f.write("s/03.md", &episode("Three", "2026-10-05T10:00:00", "media = \"03.mp3\"\n", "Three.\n"));
    f.write(
        "s/01.md",
        &episode(
            "Trailer",
            "2026-10-30T10:00:00",
            "media = \"audio/01.wav\"\nepisode_type = \"trailer\"\n",
            "Soon.\n",
        ),
    );
    let run = f.build();
    assert!(run.success, "{}", run.stderr);
    let expected = format!(
        "{}:3: warning: this serial's episode 3 is dated 2026-10-05 10:00, before episode 2 (2026-10-08 10:00): apps that sort by date would play them out of order; date it after episode 2",
        f.content().join("s/03.md").display()
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert_eq!(run.stderr.matches("out of order").count(), 1, "{}", run.stderr);

    // An episodic show has no order to keep.
    f.write("s/series.toml", &serial.replace("[podcast]\n", "[podcast]\ntype = \"episodic\"\n"));
    let run = f.build();
    assert!(run.success && !run.stderr.contains("out of order"), "{}", run.stderr);
}

#[test]
fn a_scheduled_episodes_recording_replaced_before_it_airs_is_measured_again() {
    let f = podcast();
    // Goes live 8 s after the server's clock starts (NOW, running on).
    let soon = "media = \"audio/05.wav\"\n";
    f.write("s/05.md", &episode("Five", "2026-11-25T09:00:08+09:00", soon, "Five.\n"));
    f.write_bytes("s/audio/05.wav", &wav(2));
    let server = Server::start(&f, NOW, &[]);
    let items = |server: &Server| -> serde_json::Value {
        serde_json::from_slice(&server.get("/s/feed.json", &[]).body).unwrap()
    };
    assert_eq!(items(&server)["items"].as_array().unwrap().len(), 4, "not yet");
    f.write_bytes("s/audio/.05.wav.part", &wav(4));
    f.rename("s/audio/.05.wav.part", "s/audio/05.wav");
    let aired = wait_for("episode 5 on the air", || {
        let json = items(&server);
        (json["items"].as_array().unwrap().len() == 5).then_some(json)
    });
    let attachment = &aired["items"][0]["attachments"][0];
    assert_eq!(
        (attachment["size_in_bytes"].as_u64(), attachment["duration_in_seconds"].as_u64()),
        (Some(64_044), Some(4))
    );
    let served = server.get("/s/audio/05.wav", &[]);
    assert_eq!((served.status, served.body.len()), (200, 64_044));
}
