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
    assert_builds_the_committed_feeds(Some(SAMPLE_NOW));
}

/// README's first command builds the sample as of now into feeds/: today,
/// and on any day until its scheduled episode (2099-12-07 10:00 Seoul), that
/// is byte for byte what is committed, so it leaves the working tree clean,
/// and there is always an episode waiting to go live.
#[test]
fn the_first_command_leaves_the_committed_feeds_as_they_are_on_any_date() {
    for now in [None, Some("2031-06-01T00:00:00Z"), Some("2099-12-07T00:59:59Z")] {
        let out = assert_builds_the_committed_feeds(now);
        assert!(!out.path().join("feeds/night-shift/12/index.html").exists(), "{now:?}: episode 12 waits");
    }
    let out = tempfile::tempdir().unwrap();
    let late = run(&[
        "build",
        "--content",
        &repo("content"),
        "--out",
        out.path().to_str().unwrap(),
        "--now",
        "2099-12-07T01:00:00Z",
    ]);
    assert!(late.success, "{}", late.stderr);
    assert!(out.path().join("night-shift/12/index.html").exists(), "episode 12 goes live on time");
}

/// Builds the sample (as of `now`, or the real clock) into a temp folder
/// and checks it is exactly the committed feeds/.
fn assert_builds_the_committed_feeds(now: Option<&str>) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("feeds");
    let content = repo("content");
    let mut args = vec!["build", "--content", &content, "--out", out_dir.to_str().unwrap()];
    args.extend(now.iter().flat_map(|now| ["--now", now]));
    let run = run(&args);
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
    out
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
    assert_eq!(feed.entries[1].id, "http://127.0.0.1:8080/night-shift/10/");
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
        let url = format!("http://127.0.0.1:8080/lighthouse-log/audio/{file}");
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
    assert!(text.contains("<podcast:guid>cdc0cf28-8957-5fc1-9af5-f80ebd8e3338</podcast:guid>"));
}
