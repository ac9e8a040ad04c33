//! Audio, video and images: never held in memory, copied to feeds/ and
//! streamed from there, with byte ranges (RFC 9110 §14): every case over
//! HTTP/1.1 and HTTP/2 with exact status, headers and bytes; and a download
//! that goes on with the bytes it began with while a new version of its
//! file goes live.

use crate::running::wait_for;
use crate::server::{Reply, Server, request_h2};
use crate::support::{Fixture, NOW, episode, series_toml};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const CLIP: &str = "/s/clip.ogg";

/// Bytes that differ everywhere, so a wrong offset cannot pass.
fn clip(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// An episode that links its audio (600,000 bytes: several read chunks).
fn podcast(audio: &[u8]) -> Fixture {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("Serial", ""));
    f.write("s/01.md", &episode("E1", "2026-10-01T10:00:00", "", "[Listen](clip.ogg)\n"));
    f.write_bytes("s/clip.ogg", audio);
    f
}

/// `GET` over HTTP/1.1 (`h2` false) or HTTP/2.
fn get(server: &Server, h2: bool, headers: &[(&str, &str)]) -> Reply {
    if h2 { request_h2(server.addr, CLIP, headers) } else { server.get(CLIP, headers) }
}

#[test]
fn ranges_are_answered_exactly_on_both_protocols() {
    let audio = clip(600_000, 0);
    let f = podcast(&audio);
    let server = Server::start(&f, NOW, &[]);
    let whole = server.get(CLIP, &[("accept-encoding", "gzip, br, zstd")]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, audio);
    let (etag, date) = (whole.header("etag").to_owned(), whole.header("last-modified").to_owned());
    assert_eq!(whole.header("accept-ranges"), "bytes");
    assert_eq!(whole.header("content-type"), "audio/ogg");
    assert_eq!(whole.header("content-length"), "600000");
    assert_eq!((whole.header("content-encoding"), whole.header("vary")), ("", ""), "media is identity only");
    // Large and replaced only to fix a recording: a day, not immutable.
    let a_day = "public, max-age=86400, stale-while-revalidate=60, stale-if-error=86400";
    assert_eq!(whole.header("cache-control"), a_day);
    let feed_cache = server.get("/s/rss.xml", &[]).header("cache-control").to_owned();
    assert!(feed_cache.starts_with("public, max-age=300,"), "{feed_cache}");
    let older = httpdate::fmt_http_date(httpdate::parse_http_date(&date).unwrap() - Duration::from_secs(1));

    for h2 in [false, true] {
        let on = if h2 { "HTTP/2" } else { "HTTP/1.1" };
        // (Range, If-Range) → the span sent, as first and last byte.
        let partial: [(&str, Option<&str>, usize, usize); 7] = [
            ("bytes=0-99", None, 0, 99),
            ("bytes=300000-", None, 300_000, 599_999),
            ("bytes=-1000", None, 599_000, 599_999),
            ("bytes=100-99999999", None, 100, 599_999),
            ("bytes=599999-599999", None, 599_999, 599_999),
            ("bytes=5-9", Some(&etag), 5, 9),
            ("bytes=5-9", Some(&date), 5, 9),
        ];
        for (range, if_range, first, last) in partial {
            let mut headers = vec![("range", range)];
            headers.extend(if_range.map(|v| ("if-range", v)));
            let reply = get(&server, h2, &headers);
            assert_eq!(reply.status, 206, "{on} {range} {if_range:?}");
            assert_eq!(reply.header("content-range"), format!("bytes {first}-{last}/600000"), "{on} {range}");
            assert_eq!(reply.header("content-length"), (last - first + 1).to_string(), "{on} {range}");
            assert_eq!(reply.body, &audio[first..=last], "{on} {range}");
            assert_eq!((reply.header("etag"), reply.header("accept-ranges")), (&etag[..], "bytes"));
            assert_eq!(reply.header("content-type"), "audio/ogg");
        }
        // The whole file, 200: several ranges (our choice), a Range we
        // cannot parse, an If-Range naming another version.
        let whole_file: [(&str, Option<&str>); 6] = [
            ("bytes=0-1,5-9", None),
            ("bytes=9-1", None),
            ("pages=1-2", None),
            ("bytes=5-9", Some("\"0123456789abcdef0123456789abcdef\"")),
            ("bytes=5-9", Some(&older)),
            ("bytes=5-9", Some("W/\"weak\"")),
        ];
        for (range, if_range) in whole_file {
            let mut headers = vec![("range", range)];
            headers.extend(if_range.map(|v| ("if-range", v)));
            let reply = get(&server, h2, &headers);
            assert_eq!((reply.status, reply.header("content-range")), (200, ""), "{on} {range} {if_range:?}");
            assert_eq!(reply.body, audio, "{on} {range} {if_range:?}");
        }
        let past = get(&server, h2, &[("range", "bytes=600000-")]);
        assert_eq!(past.status, 416, "{on}");
        assert_eq!((past.header("content-range"), past.header("content-length")), ("bytes */600000", "0"));
        assert!(past.body.is_empty());
        // Preconditions come first: 304 and 412 whatever the range.
        let cached = get(&server, h2, &[("range", "bytes=0-9"), ("if-none-match", &etag)]);
        assert_eq!((cached.status, cached.body.len()), (304, 0), "{on}");
        let failed = get(&server, h2, &[("range", "bytes=0-9"), ("if-match", "\"other\"")]);
        assert_eq!(failed.status, 412, "{on}");
    }

    // HEAD ignores Range (RFC 9110 §14.2) and says what a GET would send.
    let head = server.head(CLIP, &[("range", "bytes=0-9")]);
    assert_eq!((head.status, head.body.len()), (200, 0));
    for name in ["etag", "last-modified", "content-length", "content-type", "accept-ranges", "cache-control"]
    {
        assert_eq!(head.header(name), whole.header(name), "HEAD {name}");
    }
    // A feed has compressed variants: no ranges, the whole document.
    let feed = server.get("/s/rss.xml", &[("range", "bytes=0-9")]);
    assert_eq!((feed.status, feed.header("accept-ranges")), (200, ""));
    assert_eq!(feed.header("content-length"), feed.body.len().to_string());
}

#[test]
fn a_download_goes_on_with_its_version_while_a_new_one_goes_live() {
    // Larger than what the socket buffers hold, so the download is half
    // done when the new version is published.
    let old = clip(12_000_000, 0);
    let f = podcast(&old);
    let server = Server::start(&f, NOW, &[]);
    let old_etag = server.head(CLIP, &[]).header("etag").to_owned();

    // A small receive buffer: the server is held mid-file while we wait.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    socket.connect(&server.addr.into()).unwrap();
    let mut stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET {CLIP} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 65_536];
    while received.len() < 200_000 {
        let n = stream.read(&mut buffer).unwrap();
        assert!(n > 0, "closed early");
        received.extend_from_slice(&buffer[..n]);
    }

    // Saved as editors and rsync do: written aside, renamed over.
    let new = clip(12_000_000, 7);
    f.write_bytes("s/.clip.ogg.part", &new);
    f.rename("s/.clip.ogg.part", "s/clip.ogg");
    let live = wait_for("the new version to go live", || {
        let reply = server.head(CLIP, &[]);
        (reply.status == 200 && reply.header("etag") != old_etag).then_some(reply)
    });
    assert_eq!(live.header("content-length"), "12000000", "{live:?}");
    // Served from memory at once; the file in feeds/ is replaced after.
    wait_for("feeds/ to hold the new version", || {
        (std::fs::read(f.out().join("s/clip.ogg")).ok()? == new).then_some(())
    });

    stream.read_to_end(&mut received).unwrap();
    let split = received.windows(4).position(|w| w == b"\r\n\r\n").expect("headers end") + 4;
    let head = String::from_utf8_lossy(&received[..split]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.to_ascii_lowercase().contains(&format!("etag: {old_etag}\r\n")), "{head}");
    assert_eq!(received.len() - split, old.len(), "the download is whole");
    assert!(received[split..] == old[..], "the download holds the old version's bytes, and only them");
    assert_eq!(server.get(CLIP, &[]).body, new, "new downloads get the new version");
}

#[test]
fn a_long_recording_is_copied_and_streamed_never_held_in_memory() {
    let audio = clip(96 * 1024 * 1024, 3);
    let f = podcast(&audio);
    let server = Server::start(&f, NOW, &[]);
    let reply = server.get(CLIP, &[]);
    assert_eq!((reply.status, reply.header("content-length")), (200, "100663296"));
    assert!(reply.body == audio, "the bytes served are the file's");
    assert!(std::fs::read(f.out().join("s/clip.ogg")).unwrap() == audio, "feeds/ holds a copy");
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let rss_kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    // Holding the recording once would take 96 MiB; building and serving
    // the rest of this site takes a few.
    assert!(rss_kb < 48 * 1024, "peak resident memory {rss_kb} kB");
}

/// Runs `program` with `args`; its standard output, or a panic with what
/// it printed.
fn run_tool(program: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed (.ci/run installs ffmpeg): {e}"));
    let printed = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{program} {args:?} failed: {printed}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_real_player_reads_the_duration_and_seeks_with_ranges() {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("Serial", ""));
    f.write("s/01.md", &episode("E1", "2026-10-01T10:00:00", "media = \"talk.mp3\"\n", "Listen.\n"));
    let talk = f.content().join("s/talk.mp3");
    let talk = talk.to_str().unwrap();
    // 20 s of a tone, made by ffmpeg as any recording would be.
    run_tool(
        "ffmpeg",
        &["-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=20", "-b:a", "64k", talk],
    );
    let log = f.content().parent().unwrap().join("access.log");
    let server = Server::start_logging(&f, NOW, &log);
    let url = format!("http://{}/s/talk.mp3", server.addr);

    let probed =
        run_tool("ffprobe", &["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", &url]);
    let seconds: f64 = probed.trim().parse().unwrap_or_else(|_| panic!("ffprobe printed {probed:?}"));
    assert!((seconds - 20.0).abs() < 0.1, "ffprobe read {seconds} s over HTTP");
    // A seek to 15 s: ffmpeg asks for the bytes from there with a range.
    run_tool("ffmpeg", &["-v", "error", "-ss", "15", "-i", &url, "-t", "1", "-f", "null", "-"]);

    let statuses = wait_for("the seek in the access log", || {
        let text = std::fs::read_to_string(&log).ok()?;
        let statuses: Vec<String> = text
            .lines()
            .filter(|line| line.contains("path=/s/talk.mp3"))
            .filter_map(|line| line.split("status=").nth(1)?.split(' ').next().map(str::to_owned))
            .collect();
        statuses.iter().any(|s| s == "206").then_some(statuses)
    });
    assert!(statuses.iter().all(|s| s == "200" || s == "206"), "{statuses:?}");
    // The feed says the same duration the player read.
    let feed: serde_json::Value = serde_json::from_slice(&server.get("/s/feed.json", &[]).body).unwrap();
    assert_eq!(feed["items"][0]["attachments"][0]["duration_in_seconds"], 20);
}
