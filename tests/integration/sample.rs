//! The sample content shipped in content/ and its committed build in feeds/.

use crate::support::*;
use std::path::Path;

/// The clock feeds/ was built at. To rebuild after changing content/ or the
/// renderers or compression: `rm -rf feeds && cargo run -- build --now 2026-11-25T00:00:00Z`
/// (from scratch: a build reuses variants whose source bytes did not change).
const SAMPLE_NOW: &str = "2026-11-25T00:00:00Z";

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path).to_string_lossy().into_owned()
}

#[test]
fn committed_feeds_are_the_build_of_the_sample_content() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("feeds");
    let run = run(&[
        "build",
        "--content",
        &repo("content"),
        "--out",
        out_dir.to_str().unwrap(),
        "--now",
        SAMPLE_NOW,
    ]);
    assert!(run.success, "{}", run.stderr);
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds");
    let mut built = Vec::new();
    for entry in walk(&out_dir) {
        let relative = entry.strip_prefix(&out_dir).unwrap().to_path_buf();
        let fresh = std::fs::read(&entry).unwrap();
        let old = std::fs::read(committed.join(&relative)).unwrap_or_default();
        assert!(
            fresh == old,
            "feeds/{} differs from a fresh build; rebuild with `rm -rf feeds && cargo run -- build --now {SAMPLE_NOW}`",
            relative.display()
        );
        built.push(relative);
    }
    assert_eq!(walk(&committed).len(), built.len(), "feeds/ holds files a fresh build does not make");
}

#[test]
fn the_sample_content_is_clean_and_publishes_what_it_should() {
    let run = run(&["check", "--content", &repo("content"), "--now", SAMPLE_NOW]);
    assert!(run.success, "{}", run.stderr);
    assert_eq!(run.stderr.trim(), "", "the sample content should have no warnings");
    let feeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds");
    let feed = parse_feed("rss.xml", &std::fs::read(feeds.join("night-shift/rss.xml")).unwrap());
    let titles = titles(&feed);
    // site.toml's feed_limit is 5: the rest of the 11 are archived.
    assert_eq!(titles.len(), 5, "{titles:?}");
    assert_eq!(titles[1], "10화. 어디서부터 잘못된걸까");
    assert_eq!(feed.entries[1].id, "https://example.com/night-shift/10/");
    assert_eq!(feed.entries[1].published.unwrap().to_rfc3339(), "2026-11-09T01:00:00+00:00");
    let is_feed =
        |p: &Path| p.file_name().is_some_and(|n| n == "rss.xml" || n == "atom.xml" || n == "feed.json");
    for path in walk(&feeds).iter().filter(|p| is_feed(p)) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let feed = parse_feed(&name, &std::fs::read(path).unwrap());
        assert!(!feed.entries.is_empty(), "{}", path.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn the_sample_podcast_carries_its_recordings() {
    let feeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds");
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("content/lighthouse-log");
    let feed = parse_feed("rss.xml", &std::fs::read(feeds.join("lighthouse-log/rss.xml")).unwrap());
    // (title, file, seconds, episode type): a serial, newest first.
    let expected = [
        ("The Last Entry", "03-the-last-entry.mp3", 8, "full"),
        ("The Horn", "02-the-horn.mp3", 8, "full"),
        ("The Lamp", "01-the-lamp.mp3", 9, "full"),
        ("Trailer", "00-trailer.mp3", 11, "trailer"),
    ];
    assert_eq!(titles(&feed), expected.map(|e| e.0));
    let text = std::fs::read_to_string(feeds.join("lighthouse-log/rss.xml")).unwrap();
    for (entry, (title, file, seconds, kind)) in feed.entries.iter().zip(expected) {
        let content_item = entry.media.iter().flat_map(|m| &m.content).next().expect(title);
        let url = format!("https://example.com/lighthouse-log/audio/{file}");
        assert_eq!(content_item.url.as_ref().map(|u| u.as_str()), Some(url.as_str()), "{title}");
        let size = std::fs::metadata(content.join("audio").join(file)).unwrap().len();
        assert_eq!(content_item.size, Some(size), "{title}: the enclosure's length is the file's size");
        assert_eq!(content_item.content_type.as_ref().map(|t| t.to_string()).as_deref(), Some("audio/mpeg"));
        // feed-rs keeps iTunes' numbers and duration apart from the enclosure.
        let duration = entry.media.iter().find_map(|m| m.duration);
        assert_eq!(duration, Some(std::time::Duration::from_secs(seconds)), "{title}");
        // Published byte for byte.
        assert_eq!(
            std::fs::read(feeds.join("lighthouse-log/audio").join(file)).unwrap(),
            std::fs::read(content.join("audio").join(file)).unwrap()
        );
        assert!(text.contains(&format!("<itunes:episodeType>{kind}</itunes:episodeType>")));
    }
    assert!(text.contains("<itunes:type>serial</itunes:type>"));
    assert!(text.contains(
        "<itunes:category text=\"Fiction\"><itunes:category text=\"Drama\"></itunes:category></itunes:category>"
    ));
    assert!(text.contains("<podcast:guid>e39273b8-a19f-5d1e-81d7-fce1e0f97efa</podcast:guid>"));
}
