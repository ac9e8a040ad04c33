//! Running episodic for real: the public health check for load balancers
//! and uptime monitors, and a preview built for another address
//! (`--base-url`) whose every link points at it.

use crate::server::Server;
use crate::support::{Fixture, NOW, episode, series_toml};

fn site() -> Fixture {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("Serial", "image = \"cover.png\"\n"));
    f.write_bytes("s/cover.png", &crate::support::png(64, 64));
    f.write("s/01.md", &episode("One", "2026-11-02T10:00:00", "", "See [two](02.md).\n"));
    f.write("s/02.md", &episode("Two", "2026-11-09T10:00:00", "", "Two.\n"));
    f
}

#[test]
fn the_health_check_says_ok_to_anyone_and_nothing_else() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let proxied = [("x-forwarded-for", "203.0.113.7")];
    for headers in [&[][..], &proxied[..]] {
        let reply = server.get("/_episodic/health", headers);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, b"ok\n");
        assert_eq!(reply.header("cache-control"), "no-store");
        assert_eq!(reply.header("content-type"), "text/plain; charset=utf-8");
        let head = server.head("/_episodic/health", headers);
        assert_eq!((head.status, head.body.len(), head.header("content-length")), (200, 0, "3"));
    }
    // The author's page stays closed to a proxied request without the token.
    assert_eq!(server.get("/_episodic/status", &proxied).status, 404);
}

#[test]
fn a_preview_for_another_address_points_every_link_at_it() {
    let f = site();
    let preview = "http://127.0.0.1:4000/preview/";
    // Without the slash: added, like site.toml's.
    let run = crate::support::run(&[
        "build",
        "--content",
        f.content().to_str().unwrap(),
        "--out",
        f.out().to_str().unwrap(),
        "--now",
        NOW,
        "--base-url",
        "http://127.0.0.1:4000/preview",
    ]);
    assert!(run.success, "{}", run.stderr);
    let feed = f.feed("s/rss.xml");
    assert_eq!(feed.entries[0].id, format!("{preview}s/2/"));
    assert_eq!(feed.links[0].href, format!("{preview}s/"));
    let rss = f.out_text("s/rss.xml");
    assert!(rss.contains(&format!("<atom:link href=\"{preview}s/rss.xml\" rel=\"self\"")), "{rss}");
    assert!(!rss.contains("https://example.com"), "{rss}");
    let page = scraper::Html::parse_document(&f.out_text("s/1/index.html"));
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let link = page.select(&select(".content a")).next().unwrap();
    assert_eq!(link.attr("href"), Some(format!("{preview}s/2/").as_str()));
    let alternate = page.select(&select("link[rel=alternate][type='application/rss+xml']")).next().unwrap();
    assert_eq!(alternate.attr("href"), Some(format!("{preview}s/rss.xml").as_str()));
    let sitemap = f.out_text("sitemap.xml");
    assert!(sitemap.contains(&format!("<loc>{preview}s/1/</loc>")), "{sitemap}");

    // A bad address is refused before anything is built.
    let run =
        crate::support::run(&["check", "--content", f.content().to_str().unwrap(), "--base-url", "/blog/"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("must be a full http(s) address such as https://example.com/, not `/blog/`"));
}

#[test]
fn serve_previews_at_the_address_given() {
    let f = site();
    let server = Server::start_with_args(&f, NOW, &[], &["--base-url", "http://localhost:4000/preview/"]);
    // Served under the preview's path, feeds and pages pointing at it.
    let feed = server.get("/preview/s/feed.json", &[]);
    assert_eq!(feed.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&feed.body).unwrap();
    assert_eq!(json["feed_url"], "http://localhost:4000/preview/s/feed.json");
    assert_eq!(json["items"][0]["url"], "http://localhost:4000/preview/s/2/");
    assert_eq!(server.get("/s/feed.json", &[]).status, 404);
    let page = String::from_utf8(server.get("/preview/s/", &[]).body).unwrap();
    assert!(
        page.contains("value=\"http:&#x2f;&#x2f;localhost:4000&#x2f;preview&#x2f;s&#x2f;rss.xml\""),
        "{page}"
    );
}

#[test]
fn a_trusted_proxy_that_is_no_address_is_an_error_at_its_line() {
    let f = site();
    let settings = crate::support::SITE_TOML
        .replace("[author]", "trusted_proxies = [\"10.0.0.0/8\", \"nginx\"]\n[author]");
    f.write("site.toml", &settings);
    let run = f.check();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let expected = format!(
        "{}:6: error: `trusted_proxies`: `nginx` is not an address or a range like 127.0.0.1/32 or 10.0.0.0/8",
        f.content().join("site.toml").display()
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
}

#[test]
fn a_failed_write_is_served_from_memory_reported_and_written_once_it_can_be() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    // feeds/t is a file where the new series' folder must go: writing fails
    // (as on a full disk) until it is removed.
    std::fs::write(f.out().join("t"), b"in the way").unwrap();
    f.write("t/series.toml", &series_toml("Second", ""));
    f.write("t/01.md", &episode("First of t", "2026-11-02T10:00:00", "", "T.\n"));
    let warning = |server: &Server| -> Option<String> {
        let status = crate::running::status(server);
        status["warnings"]
            .as_array()?
            .iter()
            .filter_map(|w| w.as_str())
            .find(|w| w.starts_with("writing the output folder failed"))
            .map(str::to_owned)
    };
    let said = crate::running::wait_for("the failed write on the status page", || warning(&server));
    assert!(said.ends_with("serving from memory and trying again every 5 s"), "{said}");
    // Served all the same, from memory.
    let feed = server.get("/t/rss.xml", &[]);
    assert_eq!(feed.status, 200);
    assert!(String::from_utf8_lossy(&feed.body).contains("<title>First of t</title>"));
    assert!(!f.out().join("t/rss.xml").exists());
    // The way is clear: written at the next try, and the warning goes.
    std::fs::remove_file(f.out().join("t")).unwrap();
    crate::running::wait_for("feeds/t written", || {
        let written = std::fs::read(f.out().join("t/rss.xml")).ok()?;
        (written == feed.body && warning(&server).is_none()).then_some(())
    });
}

#[test]
fn a_second_server_on_a_port_in_use_is_refused() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let other = tempfile::tempdir().unwrap();
    let mut second = std::process::Command::new(env!("CARGO_BIN_EXE_episodic"))
        .args(["serve", "--now", NOW, "--listen", &server.addr.to_string(), "--content"])
        .arg(f.content())
        .arg("--out")
        .arg(other.path())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + crate::running::DEADLINE;
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("a second server started on a port in use");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    let expected = format!("error: listening on {}: Address already in use", server.addr);
    assert!(stderr.contains(&expected), "{stderr}");
    assert_eq!(server.get("/s/rss.xml", &[]).status, 200, "the first one serves on");
}
