//! `episodic serve` while the content changes under it: real files in a temp
//! dir, the real watcher, the real server over TCP, every feed read back
//! with feed-rs. Waits poll with a deadline.

use crate::running::{feed_titles, publishes, serial, start, status, wait_for};
use crate::server::{Reply, Server};
use crate::support::{Fixture, NOW, episode, parse_feed, series_toml, titles};

#[test]
fn added_edited_renamed_and_deleted_episodes_are_served() {
    let f = serial();
    let server = start(&f);
    assert_eq!(feed_titles(&server, "/s/rss.xml"), ["2화. Second", "1화. First"]);

    f.write("s/03-c.md", &episode("Third", "2026-11-16T10:00:00", "", "Three.\n"));
    wait_for("the new episode", || (feed_titles(&server, "/s/atom.xml").len() == 3).then_some(()));
    let feed = parse_feed("atom.xml", &server.get("/s/atom.xml", &[]).body);
    assert_eq!(feed.entries[0].id, "https://example.com/s/3/");
    assert_eq!(feed.entries[0].published.unwrap().to_rfc3339(), "2026-11-16T01:00:00+00:00");

    f.write("s/02-b.md", &episode("Second, revised", "2026-11-09T10:00:00", "", "Two.\n"));
    wait_for("the edit", || {
        (feed_titles(&server, "/s/rss.xml") == ["3화. Third", "2화. Second, revised", "1화. First"])
            .then_some(())
    });

    f.rename("s/03-c.md", "s/03-third.md");
    f.write("s/01-a.md", &episode("First, renamed file's neighbour", "2026-11-02T10:00:00", "", "One.\n"));
    wait_for("the edit after the rename", || {
        feed_titles(&server, "/feed.json")
            .contains(&"1화. First, renamed file's neighbour".to_owned())
            .then_some(())
    });
    let feed = parse_feed("feed.json", &server.get("/s/feed.json", &[]).body);
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["https://example.com/s/3/", "https://example.com/s/2/", "https://example.com/s/1/"]);

    std::fs::remove_file(f.content().join("s/02-b.md")).unwrap();
    wait_for("the deletion", || {
        (feed_titles(&server, "/s/rss.xml") == ["3화. Third", "1화. First, renamed file's neighbour"])
            .then_some(())
    });
    assert_eq!(status(&server)["errors"], serde_json::json!([]));
}

#[test]
fn an_editor_save_is_published_once_and_a_touch_not_at_all() {
    let f = serial();
    f.write("t/series.toml", &series_toml("Other", ""));
    f.write("t/01-x.md", &episode("Other one", "2026-11-03T10:00:00", "", "X.\n"));
    let server = start(&f);
    let before = publishes(&server);
    let other = server.get("/t/rss.xml", &[]);

    // Write a hidden temp file beside it, then rename it over: vim's
    // backup, VS Code's and most editors' safe save.
    f.write("s/.01-a.md.swp", "swap");
    f.write("s/01-a.md~", "backup");
    f.write("s/.01-a.md.tmp", &episode("First, saved", "2026-11-02T10:00:00", "", "One.\n"));
    f.rename("s/.01-a.md.tmp", "s/01-a.md");
    wait_for("the save", || {
        feed_titles(&server, "/s/rss.xml").contains(&"1화. First, saved".to_owned()).then_some(())
    });
    assert_eq!(publishes(&server), before + 1);

    // Touching a file, or rewriting the same bytes, changes nothing. The
    // edit after them shows they were processed.
    let touched = std::fs::File::options().write(true).open(f.content().join("t/01-x.md")).unwrap();
    touched.set_modified(std::time::SystemTime::now()).unwrap();
    f.write("t/01-x.md", &episode("Other one", "2026-11-03T10:00:00", "", "X.\n"));
    f.write("s/02-b.md", &episode("Second, saved", "2026-11-09T10:00:00", "", "Two.\n"));
    wait_for("the next edit", || {
        feed_titles(&server, "/s/rss.xml").contains(&"2화. Second, saved".to_owned()).then_some(())
    });
    assert_eq!(publishes(&server), before + 2);
    let again = server.get("/t/rss.xml", &[]);
    assert_eq!(again.header("etag"), other.header("etag"));
    assert_eq!(again.header("last-modified"), other.header("last-modified"));
    assert_eq!(again.body, other.body);
}

#[test]
fn a_broken_edit_keeps_the_last_good_version_until_fixed() {
    let f = serial();
    let server = start(&f);
    let good = server.get("/s/rss.xml", &[]);

    f.write("s/02-b.md", "+++\ntitle = \"Second, half-typed\ndate = 2026-11-09T10:00:00\n+++\nTwo.\n");
    f.write("s/01-a.md", &episode("First, fine", "2026-11-02T10:00:00", "", "One.\n"));
    let errors = wait_for("the error at the status endpoint", || {
        let errors = status(&server)["errors"].clone();
        (errors.as_array().unwrap().len() == 1).then_some(errors)
    });
    assert!(errors[0]["file"].as_str().unwrap().ends_with("s/02-b.md"), "{errors}");
    assert_eq!(errors[0]["line"], 2);
    // The other edit is published; the broken episode keeps its last good
    // version.
    wait_for("the good edit", || {
        (feed_titles(&server, "/s/rss.xml") == ["2화. Second", "1화. First, fine"]).then_some(())
    });
    assert_ne!(server.get("/s/rss.xml", &[]).body, good.body);

    f.write("s/02-b.md", &episode("Second, fixed", "2026-11-09T10:00:00", "", "Two.\n"));
    wait_for("the fix", || {
        (feed_titles(&server, "/s/rss.xml") == ["2화. Second, fixed", "1화. First, fine"]).then_some(())
    });
    assert_eq!(status(&server)["errors"], serde_json::json!([]));
}

#[test]
fn broken_settings_keep_the_last_good_ones() {
    let f = serial();
    let server = start(&f);
    f.write(
        "s/series.toml",
        "title = \"Serial\"\ntitle_format = \"{number}화. {title}\"\ntimezone = \"Asia/Seol\"\n",
    );
    f.write("site.toml", "title = \"Test site\"\nbase_url = \"not a url\"\n");
    wait_for("both errors", || (status(&server)["errors"].as_array().unwrap().len() == 2).then_some(()));
    let feed = parse_feed("atom.xml", &server.get("/s/atom.xml", &[]).body);
    assert_eq!(feed.entries[0].id, "https://example.com/s/2/");
    assert_eq!(titles(&feed), ["2화. Second", "1화. First"]);

    f.write("s/series.toml", &series_toml("Serial, renamed", "title_format = \"#{number} {title}\"\n"));
    wait_for("the fixed series", || {
        (feed_titles(&server, "/s/rss.xml") == ["#2 Second", "#1 First"]).then_some(())
    });
    assert_eq!(status(&server)["errors"].as_array().unwrap().len(), 1);
    let reply = server.get("/s/rss.xml", &[]);
    assert!(String::from_utf8_lossy(&reply.body).contains("<title>Serial, renamed</title>"));
}

#[test]
fn five_hundred_files_replaced_at_once_settle_to_the_final_state() {
    let f = Fixture::new();
    f.write("site.toml", &crate::support::SITE_TOML.replace("[author]", "feed_limit = 1000\n[author]"));
    f.write("s/series.toml", &series_toml("Big", ""));
    let body = |version: &str, n: usize| {
        episode(&format!("{version} {n}"), "2026-11-02T10:00:00", &format!("number = {n}\n"), "Text.\n")
    };
    for n in 1..=500 {
        f.write(&format!("s/{n:03}.md"), &body("old", n));
    }
    let server = start(&f);
    assert_eq!(feed_titles(&server, "/s/feed.json").len(), 500);
    let before = publishes(&server);

    // Like a `git checkout`: every file replaced by a new one.
    for n in 1..=500 {
        f.write(&format!("s/.{n:03}.md.new"), &body("new", n));
        f.rename(&format!("s/.{n:03}.md.new"), &format!("s/{n:03}.md"));
    }
    let titles = wait_for("all 500 new versions", || {
        let titles = feed_titles(&server, "/s/feed.json");
        titles.iter().all(|t| t.starts_with("new ")).then_some(titles)
    });
    let mut expected: Vec<String> = (1..=500).map(|n| format!("new {n}")).collect();
    let mut got = titles;
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    // One publish when the writes come without a pause over 15 ms; a busy
    // machine can pause the writer, splitting the burst into a few (one per
    // file would be 500).
    let steps = publishes(&server) - before;
    assert!((1..=5).contains(&steps), "the burst was published in {steps} steps");
}

#[test]
fn clients_never_see_a_broken_feed_while_200_rebuilds_run() {
    let f = serial();
    let server = start(&f);
    let addr = server.addr;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut fetched = 0;
            let paths = ["/s/rss.xml", "/s/atom.xml", "/s/feed.json", "/rss.xml"];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for path in paths {
                    let reply: Reply = crate::server::request(addr, hyper::Method::GET, path, &[]);
                    assert_eq!(reply.status, 200, "{path}");
                    let feed = parse_feed(path, &reply.body);
                    assert_eq!(feed.entries.len(), 2, "{path}");
                    fetched += 1;
                }
            }
            fetched
        })
    };
    let before = publishes(&server);
    for n in 1..=200u64 {
        f.write("s/02-b.md", &episode(&format!("Second, take {n}"), "2026-11-09T10:00:00", "", "Two.\n"));
        wait_for("the rebuild", || (publishes(&server) >= before + n).then_some(()));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let fetched = reader.join().expect("the reader saw only whole feeds");
    assert!(fetched >= 200, "only {fetched} feeds were fetched");
    assert_eq!(publishes(&server), before + 200);
    assert_eq!(feed_titles(&server, "/s/rss.xml")[0], "2화. Second, take 200");
}

#[test]
fn polling_sees_edits_too() {
    let f = serial();
    let server = Server::start_with_args(&f, NOW, &[], &["--watch", "polling"]);
    assert_eq!(status(&server)["watching"], "polling");
    f.write("s/02-b.md", &episode("Second, polled", "2026-11-09T10:00:00", "", "Two.\n"));
    wait_for("the polled edit", || {
        feed_titles(&server, "/s/rss.xml").contains(&"2화. Second, polled".to_owned()).then_some(())
    });
}

#[test]
fn feeds_on_disk_follow_and_stay_whole() {
    let f = serial();
    let server = start(&f);
    let mtime = |path: &str| std::fs::metadata(f.out().join(path)).unwrap().modified().unwrap();
    let untouched = mtime("s/1/index.html");
    f.write("s/03-c.md", &episode("Third", "2026-11-16T10:00:00", "", "Three.\n"));
    let served = wait_for("the new episode", || {
        let reply = server.get("/s/rss.xml", &[]);
        (titles(&parse_feed("rss.xml", &reply.body)).len() == 3).then_some(reply)
    });
    // feeds/ catches up once edits pause, with the same bytes and mtime.
    wait_for("feeds/ to catch up", || (f.read_out("s/rss.xml") == served.body).then_some(()));
    let modified = std::fs::metadata(f.out().join("s/rss.xml")).unwrap().modified().unwrap();
    assert_eq!(httpdate::fmt_http_date(modified), served.header("last-modified"));
    let gz = wait_for("the gzip variant", || {
        let gz = f.read_out("s/rss.xml.gz");
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).ok()?;
        (text == served.body).then_some(gz)
    });
    let reply = server.get("/s/rss.xml", &[("accept-encoding", "gzip")]);
    assert_eq!(reply.body, gz, "the best variant is served once written");
    // The new episode's page folder arrived whole; a page the edit did not
    // change was not written again.
    assert_eq!(f.read_out("s/3/index.html"), server.get("/s/3/", &[]).body);
    assert_eq!(mtime("s/1/index.html"), untouched);
    drop(server);
    let files = f.out_files();
    assert!(!files.iter().any(|p| p.contains("staging")), "{files:?}");
}

#[test]
fn two_versions_in_one_second_are_told_apart_by_etag_not_date() {
    let f = serial();
    let server = start(&f);
    // Two edits served within one second share a Last-Modified; a client
    // holding the first and asking If-Modified-Since must not get a 304.
    let mut take = 0;
    let (first, second) = wait_for("two versions within one second", || {
        take += 1;
        let mut versions = Vec::new();
        for step in ["a", "b"] {
            let title = format!("Second {take}{step}");
            f.write("s/02-b.md", &episode(&title, "2026-11-09T10:00:00", "", "Two.\n"));
            versions.push(wait_for("the edit", || {
                let reply = server.get("/s/rss.xml", &[]);
                String::from_utf8_lossy(&reply.body).contains(&title).then_some(reply)
            }));
        }
        let second = versions.pop()?;
        let first = versions.pop()?;
        (first.header("last-modified") == second.header("last-modified")).then_some((first, second))
    });
    assert_ne!(first.header("etag"), second.header("etag"));
    let by_date = server.get("/s/rss.xml", &[("if-modified-since", first.header("last-modified"))]);
    assert_eq!(by_date.status, 200);
    assert_eq!(by_date.body, second.body);
    let by_tag = server.get("/s/rss.xml", &[("if-none-match", second.header("etag"))]);
    assert_eq!(by_tag.status, 304);
}

#[test]
fn a_restart_with_broken_settings_serves_what_the_last_good_build_left() {
    let f = serial();
    f.write("t/series.toml", &series_toml("Other", ""));
    f.write("t/01-x.md", &episode("Other one", "2026-11-03T10:00:00", "", "X.\n"));
    let server = start(&f);
    let series = server.get("/s/rss.xml", &[]);
    let other = server.get("/t/atom.xml", &[]);
    assert_eq!(server.terminate(), Some(0));

    // A deploy with a broken series.toml: its feeds stay up, as they were.
    f.write("t/series.toml", "title = \"Other\"\nlanguage = 7\n");
    let server = start(&f);
    let kept = server.get("/t/atom.xml", &[]);
    assert_eq!(kept.status, 200);
    assert_eq!(kept.body, other.body);
    assert_eq!(kept.header("etag"), other.header("etag"));
    assert_eq!(kept.header("last-modified"), other.header("last-modified"));
    assert_eq!(kept.header("content-type"), "application/atom+xml; charset=utf-8");
    let report = status(&server);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1, "{report}");
    assert!(report["warnings"][0].as_str().unwrap().contains("earlier run"), "{report}");
    // Fixed: built again, and the warning goes.
    f.write("t/series.toml", &series_toml("Other, fixed", ""));
    wait_for("the fix", || {
        String::from_utf8_lossy(&server.get("/t/atom.xml", &[]).body).contains("Other, fixed").then_some(())
    });
    assert_eq!(status(&server)["warnings"], serde_json::json!([]));
    assert_eq!(server.terminate(), Some(0));

    // A deploy with a broken site.toml: everything stays up.
    f.write("site.toml", "title = \"Test site\"\nbase_url = \"not a url\"\n");
    let server = start(&f);
    let kept = server.get("/s/rss.xml", &[]);
    assert_eq!((kept.status, &kept.body), (200, &series.body));
    assert_eq!(kept.header("cache-control"), series.header("cache-control"));
    f.write("site.toml", crate::support::SITE_TOML);
    f.write("s/02-b.md", &episode("Second, after the fix", "2026-11-09T10:00:00", "", "Two.\n"));
    wait_for("the fixed site", || {
        feed_titles(&server, "/s/rss.xml").contains(&"2화. Second, after the fix".to_owned()).then_some(())
    });
    assert_eq!(status_errors(&server), 0);
}

fn status_errors(server: &Server) -> usize {
    status(server)["errors"].as_array().unwrap().len()
}

#[test]
fn links_follow_a_renumbered_episode_and_a_clashing_number_keeps_the_old_one() {
    let f = serial();
    f.write(
        "s/03-c.md",
        &episode("Third", "2026-11-16T10:00:00", "", "Back to [the second](02-b.md#end).\n"),
    );
    let server = start(&f);
    let link = |server: &Server| {
        let feed = parse_feed("feed.json", &server.get("/s/feed.json", &[]).body);
        let third = feed.entries.iter().find(|e| e.id == "https://example.com/s/3/").unwrap();
        third.content.as_ref().unwrap().body.clone().unwrap()
    };
    assert!(link(&server).contains("href=\"https://example.com/s/2/#end\""), "{}", link(&server));

    // Renumbering the linked episode re-resolves the link in the unchanged one.
    f.write("s/02-b.md", &episode("Second", "2026-11-09T10:00:00", "number = 5\n", "Two.\n"));
    wait_for("the re-resolved link", || {
        link(&server).contains("href=\"https://example.com/s/5/#end\"").then_some(())
    });

    // Taking a number another episode holds is refused: the edit is listed
    // as an error and the episode keeps its last good version and number.
    f.write("s/01-a.md", &episode("First, renumbered", "2026-11-02T10:00:00", "number = 3\n", "One.\n"));
    let errors = wait_for("the clash", || {
        let errors = status(&server)["errors"].clone();
        (!errors.as_array().unwrap().is_empty()).then_some(errors)
    });
    assert_eq!(errors.as_array().unwrap().len(), 1, "{errors}");
    assert!(errors[0]["file"].as_str().unwrap().ends_with("s/01-a.md"), "{errors}");
    assert!(errors[0]["message"].as_str().unwrap().contains("episode number 3 is also used by"), "{errors}");
    let feed = parse_feed("atom.xml", &server.get("/s/atom.xml", &[]).body);
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["https://example.com/s/3/", "https://example.com/s/5/", "https://example.com/s/1/"]);
    assert_eq!(titles(&feed)[2], "1화. First");

    // The number the renumbered episode left is free for another one.
    f.write("s/04-d.md", &episode("Fourth", "2026-11-23T10:00:00", "number = 2\n", "Four.\n"));
    let ids = wait_for("the episode taking the freed number", || {
        let feed = parse_feed("atom.xml", &server.get("/s/atom.xml", &[]).body);
        let ids: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
        (ids.len() == 4).then_some(ids)
    });
    assert_eq!(
        ids,
        [
            "https://example.com/s/2/",
            "https://example.com/s/3/",
            "https://example.com/s/5/",
            "https://example.com/s/1/"
        ]
    );
    assert_eq!(status(&server)["errors"].as_array().unwrap().len(), 1, "only 01-a's clash");
}

#[test]
fn a_file_refused_for_its_number_goes_live_once_the_number_is_free() {
    let f = serial();
    let server = start(&f);
    // "Save as" a new file, then delete the old one.
    f.write("s/02-copy.md", &episode("Second, copied", "2026-11-09T10:00:00", "number = 2\n", "Two.\n"));
    wait_for("the clash", || (status(&server)["errors"].as_array().unwrap().len() == 1).then_some(()));
    assert_eq!(feed_titles(&server, "/s/rss.xml"), ["2화. Second", "1화. First"]);
    std::fs::remove_file(f.content().join("s/02-b.md")).unwrap();
    wait_for("the copy, live", || {
        (feed_titles(&server, "/s/rss.xml") == ["2화. Second, copied", "1화. First"]).then_some(())
    });
    assert_eq!(status(&server)["errors"], serde_json::json!([]));
}

#[test]
fn an_episode_taking_another_ones_id_is_refused_while_the_holder_stays() {
    let f = serial();
    let server = start(&f);
    let before = server.get("/s/atom.xml", &[]);
    // A copy whose id says it is episode 2: readers would merge them.
    f.write(
        "s/03-c.md",
        &episode("Third", "2026-11-16T10:00:00", "id = \"https://example.com/s/2/\"\n", "Three.\n"),
    );
    let errors = wait_for("the clash", || {
        let errors = status(&server)["errors"].clone();
        (!errors.as_array().unwrap().is_empty()).then_some(errors)
    });
    assert_eq!(errors.as_array().unwrap().len(), 1, "{errors}");
    assert!(errors[0]["file"].as_str().unwrap().ends_with("s/03-c.md"), "{errors}");
    assert!(
        errors[0]["message"].as_str().unwrap().starts_with("id `https://example.com/s/2/` is also the id of"),
        "{errors}"
    );
    let after = server.get("/s/atom.xml", &[]);
    assert_eq!(after.header("etag"), before.header("etag"));
    // Fixed: published.
    f.write("s/03-c.md", &episode("Third", "2026-11-16T10:00:00", "", "Three.\n"));
    wait_for("the fix", || (feed_titles(&server, "/s/rss.xml").len() == 3).then_some(()));
    assert_eq!(status(&server)["errors"], serde_json::json!([]));
}

#[test]
fn a_replaced_image_is_served_new() {
    let f = serial();
    f.write("s/01-a.md", &episode("First", "2026-11-02T10:00:00", "", "![cover](images/a.png)\n"));
    f.write_bytes("s/images/a.png", b"\x89PNG first");
    let server = start(&f);
    assert_eq!(server.get("/s/images/a.png", &[]).body, b"\x89PNG first");
    f.write_bytes("s/images/a.png", b"\x89PNG second, longer");
    wait_for("the new image", || {
        (server.get("/s/images/a.png", &[]).body == b"\x89PNG second, longer").then_some(())
    });
    assert_eq!(server.get("/s/images/a.png", &[]).header("content-type"), "image/png");
}
