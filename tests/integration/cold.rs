//! Episode pages, archive blocks and assets are served from their files in
//! feeds/ (memory does not grow with the site's history): byte for byte and
//! header for header as the files say, 304 to their validators, and never
//! a mix when someone changes or deletes a file there by hand.

use crate::running::wait_for;
use crate::server::Server;
use crate::support::{Fixture, NOW, SITE_TOML, episode, png, series_toml};
use std::time::{Duration, Instant};

/// Five published episodes with long bodies (pages worth compressing), one
/// with a picture; feeds of two, so older episodes are in archive blocks.
fn serial() -> Fixture {
    let f = Fixture::new();
    f.write("site.toml", &SITE_TOML.replace("timezone", "feed_limit = 2\ntimezone"));
    f.write("s/series.toml", &series_toml("Serial", ""));
    for n in 1..=5 {
        let body = format!("![cover](cover.png)\n\n{}", "A long night at the office. ".repeat(100));
        f.write(
            &format!("s/{n:02}.md"),
            &episode(&format!("E{n}"), &format!("2026-10-{n:02}T10:00:00"), "", &body),
        );
    }
    f.write_bytes("s/cover.png", &png(4, 4));
    f
}

/// Every URL served from a file, with the file that holds its identity bytes.
const COLD: [(&str, &str); 4] = [
    ("/s/1/", "s/1/index.html"),
    ("/s/archive/1-2/rss.xml", "s/archive/1-2/rss.xml"),
    ("/s/archive/1-2/atom.xml", "s/archive/1-2/atom.xml"),
    ("/s/cover.png", "s/cover.png"),
];

fn etag_of(bytes: &[u8]) -> String {
    format!("\"{}\"", &blake3::hash(bytes).to_hex()[..32])
}

#[test]
fn files_are_served_exactly_as_feeds_holds_them_and_revalidate_to_304() {
    let f = serial();
    let server = Server::start(&f, NOW, &[]);
    for (url, file) in COLD {
        for (encoding, suffix) in [("", ""), ("gzip", ".gz")] {
            let on_disk = std::fs::read(f.out().join(format!("{file}{suffix}")));
            let Ok(on_disk) = on_disk else {
                assert!(file.ends_with(".png"), "{file}{suffix} was not written");
                continue;
            };
            let reply = server.get(url, &[("accept-encoding", encoding)]);
            assert_eq!(reply.status, 200, "{url} {encoding}");
            assert_eq!(reply.body, on_disk, "{url} {encoding}");
            assert_eq!(reply.header("etag"), etag_of(&on_disk), "{url} {encoding}");
            assert_eq!(reply.header("content-length"), on_disk.len().to_string());
            assert_eq!(reply.header("content-encoding"), encoding);
            let mtime = std::fs::metadata(f.out().join(file)).unwrap().modified().unwrap();
            assert_eq!(reply.header("last-modified"), httpdate::fmt_http_date(mtime));
            let head = server.head(url, &[("accept-encoding", encoding)]);
            assert_eq!((head.status, head.body.len()), (200, 0));
            for name in ["etag", "last-modified", "content-length", "content-type", "cache-control", "vary"] {
                assert_eq!(head.header(name), reply.header(name), "HEAD {url} {name}");
            }
            let again =
                server.get(url, &[("accept-encoding", encoding), ("if-none-match", reply.header("etag"))]);
            assert_eq!((again.status, again.body.len()), (304, 0), "{url} {encoding}");
            assert_eq!(again.header("etag"), reply.header("etag"));
            let since = [("accept-encoding", encoding), ("if-modified-since", reply.header("last-modified"))];
            assert_eq!(server.get(url, &since).status, 304, "{url} {encoding}");
        }
    }
    let page = server.get("/s/1/", &[]);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("vary"), "Accept-Encoding");
    let closed = server.get("/s/archive/1-2/rss.xml", &[]);
    assert_eq!(closed.header("content-type"), "application/rss+xml; charset=utf-8");
    assert!(closed.header("cache-control").contains("max-age=86400"), "{}", closed.header("cache-control"));
}

#[test]
fn a_restart_serves_the_same_files_with_the_same_validators() {
    let f = serial();
    let before: Vec<_> = {
        let server = Server::start(&f, NOW, &[]);
        COLD.iter().map(|(url, _)| server.get(url, &[("accept-encoding", "gzip")])).collect()
    };
    let server = Server::start(&f, NOW, &[]);
    for ((url, _), before) in COLD.iter().zip(before) {
        let after = server.get(url, &[("accept-encoding", "gzip")]);
        assert_eq!(after.status, 200, "{url}");
        assert_eq!(after.body, before.body, "{url}");
        for name in ["etag", "last-modified", "content-encoding", "content-length", "cache-control"] {
            assert_eq!(after.header(name), before.header(name), "{url} {name}");
        }
    }
}

#[test]
fn files_changed_or_deleted_by_hand_are_never_served_and_are_written_again() {
    let f = serial();
    let server = Server::start(&f, NOW, &[]);
    let page = server.get("/s/2/", &[]);
    let archive = server.get("/s/archive/1-2/atom.xml", &[("accept-encoding", "gzip")]);
    assert_eq!((page.status, archive.status), (200, 200));

    // Same length, other bytes, written in place; and a deleted variant.
    let mut forged = page.body.clone();
    forged[100..108].copy_from_slice(b"FORGED!!");
    std::fs::write(f.out().join("s/2/index.html"), &forged).unwrap();
    std::fs::remove_file(f.out().join("s/archive/1-2/atom.xml.gz")).unwrap();

    let tampered = server.get("/s/2/", &[]);
    assert_eq!(tampered.status, 503);
    assert_eq!((tampered.header("cache-control"), tampered.header("retry-after")), ("no-store", "10"));
    assert!(!tampered.body.windows(8).any(|w| w == b"FORGED!!"));
    let missing = server.get("/s/archive/1-2/atom.xml", &[("accept-encoding", "gzip")]);
    assert!(missing.status == 503 || missing.body == archive.body, "{}", missing.status);
    assert_eq!(server.get("/s/rss.xml", &[]).status, 200, "the rest is served meanwhile");

    // The server renders them again and writes them back, same validators.
    for (url, encoding, before) in [("/s/2/", "", &page), ("/s/archive/1-2/atom.xml", "gzip", &archive)] {
        let repaired = wait_for(&format!("{url} to be repaired"), || {
            let reply = server.get(url, &[("accept-encoding", encoding)]);
            (reply.status == 200).then_some(reply)
        });
        assert_eq!(repaired.body, before.body, "{url}");
        assert_eq!(repaired.header("etag"), before.header("etag"), "{url}");
        assert_eq!(repaired.header("last-modified"), before.header("last-modified"), "{url}");
    }
    let file = wait_for("s/2/index.html to be written again", || {
        let bytes = std::fs::read(f.out().join("s/2/index.html")).ok()?;
        (bytes == page.body).then_some(bytes)
    });
    assert_eq!(etag_of(&file), page.header("etag"));
    // Its repair may be written by a later write than the page's.
    let gz = f.out().join("s/archive/1-2/atom.xml.gz");
    wait_for("s/archive/1-2/atom.xml.gz to be written again", || gz.exists().then_some(()));
}

#[test]
fn a_file_replaced_while_it_is_read_is_served_whole_or_not_at_all() {
    let f = serial();
    let server = Server::start(&f, NOW, &[]);
    let page = server.get("/s/3/", &[]);
    assert_eq!(page.status, 200);
    let path = f.out().join("s/3/index.html");
    let other = "<html>another page</html>".repeat(200);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        // Replaces the file by rename, back and forth, for a second.
        scope.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(1);
            let mut i = 0u32;
            while Instant::now() < deadline {
                let bytes = if i.is_multiple_of(2) { other.as_bytes() } else { &page.body[..] };
                let temp = f.out().join("s/3/.swap");
                std::fs::write(&temp, bytes).unwrap();
                std::fs::rename(&temp, &path).unwrap();
                i += 1;
            }
            stop.store(true, std::sync::atomic::Ordering::Release);
        });
        let (mut served, mut requests) = (0, 0);
        while !stop.load(std::sync::atomic::Ordering::Acquire) {
            let reply = server.get("/s/3/", &[]);
            requests += 1;
            match reply.status {
                200 => {
                    assert_eq!(reply.body, page.body);
                    assert_eq!(reply.header("etag"), page.header("etag"));
                    served += 1;
                }
                503 => assert!(!reply.body.starts_with(b"<html>another")),
                other => panic!("status {other}"),
            }
        }
        assert!(requests > 0);
        eprintln!("{served} of {requests} served whole while the file was being replaced");
    });
    std::fs::write(&path, &page.body).unwrap();
    assert_eq!(server.get("/s/rss.xml", &[]).status, 200, "the server is still up");
}

#[test]
fn a_restart_answers_from_feeds_at_once_while_it_builds() {
    let f = serial();
    let before = {
        let server = Server::start(&f, NOW, &[]);
        server.get("/s/rss.xml", &[("accept-encoding", "gzip")])
    };
    // A template that is a named pipe holds the first build until this
    // test writes it: what is served meanwhile can be looked at.
    let templates = f.out().parent().unwrap().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let pipe = templates.join("style.css");
    assert!(std::process::Command::new("mkfifo").arg(&pipe).status().unwrap().success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_episodic"))
        .args(["serve", "--watch", "off", "--listen", &listen, "--now", NOW, "--content"])
        .arg(f.content())
        .arg("--out")
        .arg(f.out())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (printed, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = printed.send(line);
    });
    let addr: std::net::SocketAddr = listen.parse().unwrap();
    let get =
        |path: &str| crate::server::request(addr, hyper::Method::GET, path, &[("accept-encoding", "gzip")]);
    let early = wait_for("the restarted server to answer", || {
        std::net::TcpStream::connect(addr).ok()?;
        Some(get("/s/rss.xml"))
    });
    assert!(address.try_recv().is_err(), "the first build is held by the pipe");
    assert_eq!(early.status, 200);
    assert_eq!(early.body, before.body);
    for name in ["etag", "last-modified", "content-encoding", "vary", "content-type"] {
        assert_eq!(early.header(name), before.header(name), "{name}");
    }
    // Until the build is in, caches are told to come back within a second.
    assert_eq!(early.header("cache-control"), "public, max-age=1, stale-if-error=86400");
    assert_eq!(get("/s/1/").status, 200);

    std::fs::write(&pipe, "body { color: #123456 }\n").unwrap();
    let line = address.recv_timeout(Duration::from_secs(30)).expect("the server printed its address");
    assert_eq!(line.trim(), format!("http://{listen}/"));
    let after = get("/s/rss.xml");
    assert_eq!((after.status, after.header("etag")), (200, before.header("etag")));
    assert_eq!(after.header("cache-control"), before.header("cache-control"));
    let style = crate::server::request(addr, hyper::Method::GET, "/style.css", &[]);
    assert!(String::from_utf8_lossy(&style.body).contains("#123456"), "the held template was used");
    crate::server::signal_term(child.id());
    assert!(child.wait().unwrap().success());
}
