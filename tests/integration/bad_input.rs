//! Bad input: every problem reported in one run, located by file and line,
//! in words a writer understands; exit code 1; nothing written.

use crate::support::*;

/// A site with one valid series `s` and one valid episode.
fn site() -> Fixture {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("Serial", ""));
    f.write("s/01-ok.md", &episode("Fine", "2026-11-02T10:00:00", "", "Body."));
    f
}

/// Asserts that `run` failed and reported, for `file` (relative to
/// content/), a line starting with `file:location: error:` and containing
/// `words`.
#[track_caller]
fn assert_error(f: &Fixture, run: &Run, file: &str, location: &str, words: &str) {
    assert_eq!(run.code, Some(1), "expected exit code 1:\n{}", run.stderr);
    let prefix = format!("{}/{file}{location}: error: ", f.content().display());
    assert!(
        run.stderr.lines().any(|l| l.starts_with(&prefix) && l.contains(words)),
        "no `{prefix}…{words}…` in:\n{}",
        run.stderr
    );
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    let f = site();
    f.write("s/02-bad.md", "+++\ntitle = \"ok\"\ndate = \"2026-11-09\ntags = []\n+++\nbody");
    assert_error(&f, &f.check(), "s/02-bad.md", ":3:19", "TOML syntax error: invalid basic string");
}

#[test]
fn yaml_syntax_error_names_the_line() {
    let f = site();
    f.write("s/02-bad.md", "---\ntitle: ok\ndate: 2026-11-09\ntags: [a, b\n---\nbody");
    let run = f.check();
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("02-bad.md:5:") || run.stderr.contains("02-bad.md:4:"), "{}", run.stderr);
    assert!(run.stderr.contains("error: YAML syntax error"), "{}", run.stderr);
}

#[test]
fn unclosed_front_matter_is_explained() {
    let f = site();
    f.write("s/02-open.md", "+++\ntitle = \"ok\"\ndate = 2026-11-09\n\nThe body starts here.\n");
    assert_error(&f, &f.check(), "s/02-open.md", ":1:1", "opened with `+++` on line 1 is never closed");
}

#[test]
fn missing_title_date_and_number_are_each_reported() {
    let f = site();
    f.write("s/intro.md", "+++\nsummary = \"no title, no date\"\n+++\nbody");
    let run = f.check();
    assert_error(&f, &run, "s/intro.md", "", "`title` is missing");
    assert_error(&f, &run, "s/intro.md", "", "`date` is missing");
    assert_error(&f, &run, "s/intro.md", "", "no episode number");
    assert!(run.stderr.contains("3 error(s) found"), "{}", run.stderr);
}

#[test]
fn impossible_dates_are_errors_on_their_line() {
    let f = site();
    f.write("s/02-feb.md", "+++\ntitle = \"Feb\"\ndate = \"2026-02-30\"\n+++\n");
    f.write("s/03-hour.md", "---\ntitle: Hour\nnumber: 3\ndate: 2026-11-09 25:00\n---\n");
    f.write("s/04-words.md", "+++\ntitle = \"Words\"\ndate = \"next monday\"\n+++\n");
    let run = f.check();
    assert_error(&f, &run, "s/02-feb.md", ":3", "`date`: `2026-02-30` is not a real date");
    assert_error(&f, &run, "s/03-hour.md", ":4", "`2026-11-09 25:00` is not a real date or time");
    assert_error(
        &f,
        &run,
        "s/04-words.md",
        ":3",
        "`next monday` is not a date: write it like 2026-11-30T10:00:00+09:00",
    );
}

#[test]
fn unknown_time_zone_suggests_the_real_one() {
    let f = site();
    f.write("s/series.toml", "title = \"Serial\"\n\ntimezone = \"Asia/Seol\"\n");
    assert_error(
        &f,
        &f.check(),
        "s/series.toml",
        ":3",
        "unknown time zone `Asia/Seol`: did you mean \"Asia/Seoul\"?",
    );
}

#[test]
fn duplicate_numbers_name_both_files() {
    let f = site();
    f.write("s/1-again.md", &episode("Again", "2026-11-09T10:00:00", "", ""));
    let run = f.check();
    let other = format!("{}/s/01-ok.md", f.content().display());
    assert_error(&f, &run, "s/1-again.md", "", &format!("episode number 1 is also used by {other}"));
    assert_error(&f, &run, "s/01-ok.md", "", "is also used by");
}

#[test]
fn duplicate_ids_name_both_files() {
    let f = site();
    f.write("s/02-a.md", &episode("A", "2026-11-09T10:00:00", "id = \"tag:example.com,2026:x\"\n", ""));
    f.write("s/03-b.md", &episode("B", "2026-11-16T10:00:00", "id = \"tag:example.com,2026:x\"\n", ""));
    let run = f.check();
    let first = format!("{}/s/02-a.md", f.content().display());
    assert_error(
        &f,
        &run,
        "s/03-b.md",
        "",
        &format!("id `tag:example.com,2026:x` is also the id of {first}"),
    );
}

#[test]
fn unknown_keys_suggest_the_nearest_valid_one() {
    let f = site();
    f.write(
        "s/02-typo.md",
        "+++\ntitle = \"Typo\"\ndtae = \"2026-11-09\"\ndate = \"2026-11-09\"\ncolour = \"red\"\n+++\n",
    );
    let run = f.check();
    assert_error(&f, &run, "s/02-typo.md", ":3", "unknown key `dtae`; did you mean `date`?");
    assert_error(&f, &run, "s/02-typo.md", ":5", "unknown key `colour`; the keys are: title, date");
    f.write("site.toml", &SITE_TOML.replace("title =", "titel ="));
    assert_error(&f, &f.check(), "site.toml", ":1", "unknown key `titel`; did you mean `title`?");
}

#[test]
fn non_utf8_bytes_are_an_error_on_their_line() {
    let f = site();
    f.write_bytes("s/02-latin1.md", b"+++\ntitle = \"caf\xe9\"\ndate = 2026-11-09\n+++\n");
    assert_error(&f, &f.check(), "s/02-latin1.md", ":2", "not valid UTF-8");
}

#[test]
fn base_url_must_be_there_and_absolute() {
    let f = site();
    f.write("site.toml", &SITE_TOML.replace("base_url = \"https://example.com/\"\n", ""));
    assert_error(
        &f,
        &f.check(),
        "site.toml",
        "",
        "`base_url` is missing; add a line like base_url = \"https://example.com/\"",
    );
    f.write("site.toml", &SITE_TOML.replace("https://example.com/", "/blog/"));
    assert_error(
        &f,
        &f.check(),
        "site.toml",
        ":2",
        "`base_url` must be a full http(s) address such as https://example.com/, not `/blog/`",
    );
    f.write("site.toml", &SITE_TOML.replace("https://example.com/", "ftp://example.com/"));
    assert_error(&f, &f.check(), "site.toml", ":2", "must be a full http(s) address");
}

#[test]
fn websub_hub_must_be_an_absolute_http_url() {
    let f = site();
    f.write("site.toml", &SITE_TOML.replace("[author]", "websub_hub = \"hub.example.com\"\n[author]"));
    assert_error(
        &f,
        &f.check(),
        "site.toml",
        ":6",
        "`websub_hub` must be a full http(s) address such as https://pubsubhubbub.appspot.com/, not `hub.example.com`",
    );
}

#[test]
fn an_empty_content_folder_is_an_error() {
    let f = Fixture::empty();
    assert_error(&f, &f.check(), "site.toml", "", "there is no site.toml: is this the content folder?");
    let run = run(&["check", "--content", "/nonexistent/episodic-content"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("/nonexistent/episodic-content: error: cannot read the content folder"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_problem_is_reported_in_one_run_and_nothing_is_written() {
    let f = site();
    f.write("site.toml", &SITE_TOML.replace("timezone = \"Asia/Seoul\"", "timezone = \"Mars/Olympus\""));
    f.write("s/02-a.md", "+++\ntitle = \"A\"\ndate = \"2026-13-01\"\n+++\n");
    f.write("s/03-b.md", "---\ntitle: [\n---\n");
    f.write("t/series.toml", "title = \n");
    let run = f.build();
    assert_error(&f, &run, "site.toml", ":5", "unknown time zone `Mars/Olympus`");
    assert_error(&f, &run, "s/02-a.md", ":3", "is not a real date");
    assert_error(&f, &run, "s/03-b.md", ":2:8", "YAML syntax error: unclosed bracket");
    assert_error(&f, &run, "t/series.toml", ":1:9", "TOML syntax error: string values must be quoted");
    assert!(run.stderr.contains("4 error(s) found"), "{}", run.stderr);
    assert!(!f.out().exists(), "a failed build must write nothing");
}

#[test]
fn a_missing_asset_is_a_warning_not_an_error() {
    let f = site();
    f.write("s/02-img.md", &episode("Img", "2026-11-09T10:00:00", "", "Text.\n\n![gone](images/gone.png)\n"));
    let run = f.build();
    assert!(run.success, "{}", run.stderr);
    let prefix = format!("{}/s/02-img.md:7: warning: `images/gone.png` is not a file", f.content().display());
    assert!(run.stderr.contains(&prefix), "{}", run.stderr);
    assert!(f.out_text("s/rss.xml").contains("https://example.com/s/images/gone.png"));
}

#[test]
fn ignored_files_and_folders_are_not_read() {
    let f = site();
    f.write("s/.02-bad.md.swp", "garbage");
    f.write("s/02-bad.md~", "garbage");
    f.write("s/.#02-bad.md", "garbage");
    f.write("_drafts/series.toml", "not = [valid");
    f.write(".hidden/series.toml", "not = [valid");
    f.write("_notes/readme.md", "an underscore folder is not a series");
    f.write("images/logo.png", "a folder without Markdown is just assets");
    let run = f.check();
    assert!(run.success, "{}", run.stderr);
    assert_eq!(run.stderr.trim(), "", "expected silence, got:\n{}", run.stderr);
}

#[test]
fn a_folder_of_episodes_without_series_toml_is_pointed_out() {
    let f = site();
    f.write("other/Series.toml", "title = \"Misnamed\"\n");
    f.write("other/01.md", &episode("Lost", "2026-11-02T10:00:00", "", ""));
    let run = f.check();
    assert!(run.success, "{}", run.stderr);
    let expected = format!(
        "{}/other: warning: this folder has 1 episode file(s) but no series.toml, so it is not published",
        f.content().display()
    );
    assert_eq!(run.stderr.trim(), expected);
}

#[test]
fn an_asset_cannot_take_a_feed_address() {
    let f = site();
    f.write_bytes("s/rss.xml", b"<rss/>");
    f.write("s/02-x.md", &episode("X", "2026-11-09T10:00:00", "", "[raw](rss.xml)"));
    assert_error(
        &f,
        &f.check(),
        "s/rss.xml",
        "",
        "would be published at the same address as a feed (s/rss.xml)",
    );
}

#[test]
fn a_broken_series_toml_still_lets_its_episodes_be_checked() {
    let f = site();
    f.write("s/series.toml", "title = [\n");
    f.write("s/02-bad.md", "+++\ntitle = \"x\"\ndate = \"soon\"\n+++\n");
    let run = f.check();
    assert_error(&f, &run, "s/series.toml", ":1:10", "TOML syntax error: unclosed array");
    assert_error(&f, &run, "s/02-bad.md", ":3", "`soon` is not a date");
}
