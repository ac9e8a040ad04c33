//! A content folder in a temp dir, the `episodic` binary run on it, and
//! readers for what it wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const NOW: &str = "2026-11-25T00:00:00Z";

pub const SITE_TOML: &str = r#"title = "Test site"
base_url = "https://example.com/"
description = "Fixtures"
language = "en"
timezone = "Asia/Seoul"
[author]
name = "Site Author"
email = "site@example.com"
"#;

/// A temp folder holding `content/` and, once built, `feeds/`.
pub struct Fixture {
    dir: tempfile::TempDir,
}

/// What one run of the binary did.
pub struct Run {
    pub success: bool,
    pub code: Option<i32>,
    pub stderr: String,
}

impl Fixture {
    /// An empty content folder.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("content")).expect("content dir");
        Fixture { dir }
    }

    /// A copy of the repository's folder `dir` (`content`, a fixture) as content/.
    pub fn copy_of(dir: &str) -> Self {
        let fixture = Self::empty();
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &fixture.content());
        fixture
    }

    /// A content folder with the standard site.toml.
    pub fn new() -> Self {
        let fixture = Self::empty();
        fixture.write("site.toml", SITE_TOML);
        fixture
    }

    /// Writes `text` at `path` inside content/, creating folders.
    pub fn write(&self, path: &str, text: &str) {
        self.write_bytes(path, text.as_bytes());
    }

    pub fn write_bytes(&self, path: &str, bytes: &[u8]) {
        let path = self.content().join(path);
        std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }

    /// Writes the writer's template `name` into templates/ beside content/.
    pub fn write_template(&self, name: &str, text: &str) {
        let dir = self.dir.path().join("templates");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(name), text).expect("write");
    }

    pub fn rename(&self, from: &str, to: &str) {
        std::fs::rename(self.content().join(from), self.content().join(to)).expect("rename");
    }

    pub fn content(&self) -> PathBuf {
        self.dir.path().join("content")
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("feeds")
    }

    pub fn build(&self) -> Run {
        self.build_at(NOW)
    }

    pub fn build_at(&self, now: &str) -> Run {
        let (content, out) = (self.content(), self.out());
        run(&["build", "--content", path_str(&content), "--out", path_str(&out), "--now", now])
    }

    pub fn check(&self) -> Run {
        run(&["check", "--content", path_str(&self.content()), "--now", NOW])
    }

    /// Builds, fails the test with the tool's own words if it failed, and
    /// checks that every feed written is well-formed and readable.
    pub fn build_ok(&self) {
        let run = self.build();
        assert!(run.success, "build failed:\n{}", run.stderr);
        for path in self.out_files() {
            if ["rss.xml", "atom.xml", "feed.json"].iter().any(|name| path.ends_with(name)) {
                parse_feed(&path, &self.read_out(&path));
            } else if path.ends_with(".xml") || path.ends_with(".opml") {
                let text = self.out_text(&path);
                roxmltree::Document::parse(&text)
                    .unwrap_or_else(|e| panic!("{path} is not well-formed XML: {e}"));
            }
        }
    }

    pub fn read_out(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.out().join(path)).unwrap_or_else(|e| panic!("reading feeds/{path}: {e}"))
    }

    pub fn out_text(&self, path: &str) -> String {
        String::from_utf8(self.read_out(path)).expect("output is UTF-8")
    }

    /// A feed from feeds/, checked well-formed (XML) or valid JSON first, then
    /// read with feed-rs.
    pub fn feed(&self, path: &str) -> feed_rs::model::Feed {
        parse_feed(path, &self.read_out(path))
    }

    /// Every file under feeds/, relative, sorted.
    pub fn out_files(&self) -> Vec<String> {
        let mut files = Vec::new();
        collect(&self.out(), &self.out(), &mut files);
        files.sort();
        files
    }
}

/// Checks syntax strictly (roxmltree for XML: feed-rs and the writers'
/// parsers accept malformed XML), then parses with feed-rs.
pub fn parse_feed(name: &str, bytes: &[u8]) -> feed_rs::model::Feed {
    let text = std::str::from_utf8(bytes).expect("feed is UTF-8");
    if name.ends_with(".json") {
        serde_json::from_str::<serde_json::Value>(text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
    } else {
        roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{name} is not well-formed XML: {e}"));
    }
    feed_rs::parser::parse(bytes).unwrap_or_else(|e| panic!("feed-rs cannot read {name}: {e}"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("under root");
            files.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// Runs the real binary.
pub fn run(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_episodic"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run episodic");
    Run {
        success: output.status.success(),
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A minimal series.toml with a title and any extra lines.
pub fn series_toml(title: &str, extra: &str) -> String {
    format!("title = \"{title}\"\n{extra}")
}

/// A TOML-fronted episode.
pub fn episode(title: &str, date: &str, extra: &str, body: &str) -> String {
    format!("+++\ntitle = \"{title}\"\ndate = \"{date}\"\n{extra}+++\n{body}")
}

/// Entry titles of a feed, in order.
pub fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default()).collect()
}

/// What a reader shows for a text construct: HTML (an RSS description, an
/// Atom `type="html"` text) decoded by a real HTML parser, plain text as it is.
pub fn shown_text(text: &feed_rs::model::Text) -> String {
    if text.content_type.essence().to_string() == "text/html" {
        scraper::Html::parse_fragment(&text.content).root_element().text().collect()
    } else {
        text.content.clone()
    }
}

/// The start of a PNG of `width`×`height` (all a build reads of a picture).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    png.extend_from_slice(b"rest of the picture");
    png
}
