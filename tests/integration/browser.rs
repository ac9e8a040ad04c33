//! The sample's series page as a person sees it: Debian's Chromium, headless,
//! loads it from the real server, and the DOM it built holds the episode
//! list and the feed links; a screenshot is kept in the target folder
//! (`…/tmp/series-page.png`). `.ci/run` installs Chromium and a Korean font;
//! without Chromium the test fails under CI and is skipped elsewhere.

use crate::server::Server;
use crate::support::Fixture;
use scraper::{Html, Selector};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().map(PathBuf::from).find(|p| p.exists())
}

/// Runs Chromium headless on `url` with `args`, killed after a minute.
pub(crate) fn headless(browser: &Path, profile: &Path, args: &[&str], url: &str) -> Output {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_sample_series_page_renders_in_chromium_with_its_episodes_and_feeds() {
    let Some(browser) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "chromium is missing; .ci/run installs it");
        eprintln!("skipped: no chromium (apt-get install chromium fonts-nanum)");
        return;
    };
    let f = Fixture::copy_of("content");
    let server = Server::start(&f, "2026-11-25T00:00:00Z", &[]);
    let url = format!("http://{}/night-shift/", server.addr);
    let profile = tempfile::tempdir().unwrap();

    let dumped = headless(&browser, profile.path(), &["--dump-dom"], &url);
    assert!(dumped.status.success(), "{}", String::from_utf8_lossy(&dumped.stderr));
    let dom = Html::parse_document(&String::from_utf8(dumped.stdout).unwrap());
    let texts = |selector: &str| -> Vec<String> {
        dom.select(&Selector::parse(selector).unwrap()).map(|e| e.text().collect::<String>()).collect()
    };
    let attrs = |selector: &str, attr: &str| -> Vec<String> {
        dom.select(&Selector::parse(selector).unwrap())
            .map(|e| e.value().attr(attr).unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(texts("h1"), ["새벽 세 시의 배포"]);
    let episodes = texts("ol.episodes a");
    assert_eq!(episodes.len(), 11, "{episodes:?}");
    assert_eq!(episodes[0], "1화. 첫 배포");
    assert_eq!(episodes[9], "10화. 어디서부터 잘못된걸까");
    assert_eq!(
        attrs("link[rel=alternate]", "href"),
        [
            "http://127.0.0.1:8080/night-shift/rss.xml",
            "http://127.0.0.1:8080/night-shift/atom.xml",
            "http://127.0.0.1:8080/night-shift/feed.json"
        ]
    );
    assert_eq!(attrs("input[readonly]", "value").len(), 3);

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("series-page.png");
    let _ = std::fs::remove_file(&shot);
    let taken = headless(
        &browser,
        profile.path(),
        &[&format!("--screenshot={}", shot.display()), "--window-size=900,1400"],
        &url,
    );
    assert!(taken.status.success(), "{}", String::from_utf8_lossy(&taken.stderr));
    let png = std::fs::read(&shot).expect("a screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 20_000, "a blank page? {} bytes", png.len());
}
