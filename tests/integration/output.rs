//! The feeds/ folder: replaced atomically, never half-written, nothing stale
//! left, nothing rewritten that did not change, same bytes every time.

use crate::support::*;
use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, SystemTime};

fn two_series() -> Fixture {
    let f = Fixture::new();
    f.write("a/series.toml", &series_toml("A", ""));
    f.write("a/01.md", &episode("A1", "2026-11-02T10:00:00", "", "![p](p.png)"));
    f.write_bytes("a/p.png", b"png bytes");
    f.write("b/series.toml", &series_toml("B", ""));
    f.write("b/01.md", &episode("B1", "2026-11-03T10:00:00", "", "B body"));
    f
}

/// Every file under feeds/ with its bytes and mtime.
fn snapshot(f: &Fixture) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    f.out_files()
        .into_iter()
        .map(|p| {
            let path = f.out().join(&p);
            let modified = fs::metadata(&path).unwrap().modified().unwrap();
            (p, (fs::read(&path).unwrap(), modified))
        })
        .collect()
}

/// Sets every output's mtime an hour back, so a rewrite is visible.
fn age_outputs(f: &Fixture) -> SystemTime {
    let old = SystemTime::now() - Duration::from_secs(3600);
    for p in f.out_files() {
        fs::File::options().write(true).open(f.out().join(p)).unwrap().set_modified(old).unwrap();
    }
    old
}

fn is_variant(path: &str) -> bool {
    path.ends_with(".gz") || path.ends_with(".br") || path.ends_with(".zst")
}

#[test]
fn compressed_variants_sit_beside_each_feed_and_decode_to_it() {
    use std::io::Read;
    let f = two_series();
    f.build_ok();
    for feed in ["rss.xml", "atom.xml", "feed.json", "a/rss.xml", "a/atom.xml", "a/feed.json"] {
        let original = f.read_out(feed);
        let gzip = f.read_out(&format!("{feed}.gz"));
        assert_eq!(&gzip[4..8], &[0, 0, 0, 0], "{feed}.gz carries no timestamp");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..]).read_to_end(&mut decoded).unwrap();
        assert_eq!(decoded, original, "{feed}.gz");
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &f.read_out(&format!("{feed}.br"))[..], &mut decoded).unwrap();
        assert_eq!(decoded, original, "{feed}.br");
        assert_eq!(
            zstd::decode_all(&f.read_out(&format!("{feed}.zst"))[..]).unwrap(),
            original,
            "{feed}.zst"
        );
    }
    assert!(!f.out_files().iter().any(|p| p.starts_with("a/p.png.")), "images are not compressed again");
}

#[test]
fn a_failed_build_leaves_feeds_exactly_as_it_was() {
    let f = two_series();
    f.build_ok();
    age_outputs(&f);
    let before = snapshot(&f);
    f.write("a/02.md", "+++\ntitle = \"broken\"\n");
    f.write("b/01.md", &episode("B1 edited", "2026-11-03T10:00:00", "", "B body"));
    let run = f.build();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(snapshot(&f), before);
    // b's edited page was staged as it rendered, and thrown away.
    assert_eq!(names_beside_output(&f), ["content", "feeds"]);
}

#[test]
fn a_first_build_that_fails_makes_no_folder() {
    let f = two_series();
    f.write("a/02.md", "+++\ntitle = \"broken\"\n");
    let run = f.build();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(names_beside_output(&f), ["content"]);
}

/// What the output's folder holds, by name, sorted.
fn names_beside_output(f: &Fixture) -> Vec<String> {
    let parent = f.out().parent().unwrap().to_path_buf();
    let mut names: Vec<String> = fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn unchanged_files_keep_their_bytes_and_mtime() {
    let f = two_series();
    f.build_ok();
    let old = age_outputs(&f);
    f.build_ok();
    assert!(snapshot(&f).values().all(|(_, modified)| *modified == old), "a no-op build rewrote files");

    f.write("b/01.md", &episode("B1 edited", "2026-11-03T10:00:00", "", "B body"));
    f.build_ok();
    let after = snapshot(&f);
    let rewritten: Vec<&str> = after
        .iter()
        .filter(|(path, (_, modified))| *modified != old && !is_variant(path))
        .map(|(p, _)| p.as_str())
        .filter(|p| *p != ".episodic-manifest")
        .collect();
    // The manifest keeps each file's length and hash: it changes with them.
    assert_ne!(after[".episodic-manifest"].1, old);
    // The edited episode's page, its series' page and the index (which
    // shows each series' latest episode) change with the feeds; a's do not.
    assert_eq!(
        rewritten,
        [
            "atom.xml",
            "b/1/index.html",
            "b/atom.xml",
            "b/feed.json",
            "b/index.html",
            "b/rss.xml",
            "feed.json",
            "index.html",
            "rss.xml"
        ]
    );
    // A variant is rewritten exactly when its source is.
    for (path, (_, modified)) in after.iter().filter(|(p, _)| is_variant(p)) {
        let source = path.rsplit_once('.').unwrap().0;
        assert_eq!(*modified != old, rewritten.contains(&source), "{path}");
    }
}

#[test]
fn stale_outputs_are_removed_and_foreign_files_kept() {
    let f = two_series();
    f.build_ok();
    fs::write(f.out().join("README.txt"), "not ours").unwrap();
    f.write("a/01.md", &episode("A1", "2026-11-02T10:00:00", "", "no picture now"));
    fs::remove_dir_all(f.content().join("b")).unwrap();
    f.build_ok();
    let files: Vec<String> = f.out_files().into_iter().filter(|p| !is_variant(p)).collect();
    assert_eq!(
        files,
        [
            ".episodic-manifest",
            "README.txt",
            "a/1/index.html",
            "a/atom.xml",
            "a/feed.json",
            "a/index.html",
            "a/rss.xml",
            "atom.xml",
            "feed.json",
            "index.html",
            "robots.txt",
            "rss.xml",
            "sitemap.xml",
            "style.css",
            "subscriptions.opml"
        ]
    );
    assert!(!f.out_files().iter().any(|p| p.starts_with("b/")), "{:?}", f.out_files());
    assert!(!f.out().join("b").exists(), "the emptied series folder is removed");
}

#[test]
fn no_staging_folder_is_left_next_to_the_output() {
    let f = two_series();
    f.build_ok();
    f.write("b/01.md", &episode("B1 edited", "2026-11-03T10:00:00", "", "B body"));
    f.build_ok();
    assert_eq!(names_beside_output(&f), ["content", "feeds"]);
}

#[test]
fn the_same_content_and_clock_give_the_same_bytes() {
    let f = two_series();
    f.build_ok();
    let first = snapshot(&f);
    fs::remove_dir_all(f.out()).unwrap();
    f.build_ok();
    let second = snapshot(&f);
    let bytes = |s: &BTreeMap<String, (Vec<u8>, SystemTime)>| -> Vec<(String, Vec<u8>)> {
        s.iter().map(|(p, (b, _))| (p.clone(), b.clone())).collect()
    };
    assert_eq!(bytes(&first), bytes(&second));
}

#[test]
fn check_never_writes() {
    let f = two_series();
    let run = f.check();
    assert!(run.success, "{}", run.stderr);
    assert!(!f.out().exists());
}
