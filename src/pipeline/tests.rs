//! What a rebuild renders again after an edit, seen in the outputs it
//! returns: memoised documents come back as `Body::AsBefore`.

use super::{Changes, Pipeline};
use crate::render::Body;
use jiff::Timestamp;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

const NOW: &str = "2026-12-01T00:00:00Z";

fn write(content: &Path, path: &str, text: &str) {
    let path = content.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn episode(title: &str, date: &str, body: &str) -> String {
    format!("+++\ntitle = \"{title}\"\ndate = \"{date}\"\n+++\n{body}\n")
}

/// Whether each of `paths` was rendered afresh by `update`.
fn fresh(pipeline: &mut Pipeline, changed: &Path, paths: &[&str]) -> Vec<bool> {
    let now: Timestamp = NOW.parse().unwrap();
    let build = pipeline.update(&Changes::Paths(BTreeSet::from([changed.to_path_buf()])), now);
    assert!(!build.has_errors(), "{:?}", build.diagnostics);
    paths
        .iter()
        .map(|path| {
            let output = build.outputs.iter().find(|o| o.path == *path).unwrap();
            matches!(output.body, Body::Fresh(_))
        })
        .collect()
}

#[test]
fn an_edit_of_text_alone_renders_the_episode_and_its_neighbours_but_not_the_series_page() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    write(&content, "site.toml", "title = \"Site\"\nbase_url = \"https://example.com/\"\n");
    write(&content, "s/series.toml", "title = \"Serial\"\n");
    write(&content, "s/01-a.md", &episode("First", "2026-11-02T10:00:00", "One."));
    write(&content, "s/02-b.md", &episode("Second", "2026-11-09T10:00:00", "Two."));
    write(&content, "s/03-c.md", &episode("Third", "2026-11-16T10:00:00", "Three."));
    let mut pipeline = Pipeline::new(&content);
    let first = pipeline.update(&Changes::Everything, NOW.parse().unwrap());
    assert!(!first.has_errors(), "{:?}", first.diagnostics);
    let pages = ["s/index.html", "s/1/index.html", "s/2/index.html", "s/3/index.html"];

    let third = content.join("s/03-c.md");
    write(&content, "s/03-c.md", &episode("Third", "2026-11-16T10:00:00", "Three, corrected."));
    assert_eq!(fresh(&mut pipeline, &third, &pages), [false, false, true, true]);

    write(&content, "s/03-c.md", &episode("Third, retitled", "2026-11-16T10:00:00", "Three, corrected."));
    assert_eq!(fresh(&mut pipeline, &third, &pages), [true, false, true, true]);

    write(&content, "s/03-c.md", &episode("Third, retitled", "2026-11-17T10:00:00", "Three, corrected."));
    assert_eq!(fresh(&mut pipeline, &third, &pages), [true, false, true, true], "a new date shows");

    // Nothing changed: nothing is rendered again.
    assert_eq!(fresh(&mut pipeline, &third, &pages), [false, false, false, false]);
}
