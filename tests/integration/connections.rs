//! Connection behaviour over real TCP: keep-alive, limits, clients that
//! stall, and a graceful shutdown that finishes what is in flight.

use crate::server::*;
use crate::support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn site() -> Fixture {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("S", ""));
    f.write("s/01.md", &episode("One", "2026-11-02T10:00:00", "", "Body."));
    f
}

/// Waits until the server closes `stream`, up to `limit`; returns how long.
fn time_until_closed(mut stream: TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return started.elapsed(),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return started.elapsed(),
            Err(e) => panic!("still open after {:?}: {e}", started.elapsed()),
        }
    }
}

/// Sends `request` one byte a second (a request that would otherwise be
/// valid) and returns when the server closed the connection. Bounded: stops
/// writing after 15 bytes or once the server closed.
fn trickle_until_closed(mut stream: TcpStream, request: &[u8]) -> Duration {
    let watcher = stream.try_clone().unwrap();
    let closed = std::thread::spawn(move || time_until_closed(watcher, Duration::from_secs(13)));
    for byte in request.iter().take(15) {
        if closed.is_finished() || stream.write_all(&[*byte]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    closed.join().unwrap()
}

#[test]
fn stalled_clients_are_cut_off_within_ten_seconds() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let addr = server.addr;
    let silent = std::thread::spawn(move || {
        time_until_closed(TcpStream::connect(addr).unwrap(), Duration::from_secs(13))
    });
    let h2_silent = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
        time_until_closed(stream, Duration::from_secs(13))
    });
    let trickle = std::thread::spawn(move || {
        trickle_until_closed(TcpStream::connect(addr).unwrap(), b"GET /s/rss.xml HTTP/1.1\r\nHost: x\r\n")
    });
    for (name, handle) in
        [("silent", silent), ("h2 preface then silent", h2_silent), ("one byte a second", trickle)]
    {
        let elapsed = handle.join().unwrap();
        assert!(elapsed <= Duration::from_secs(10), "{name}: closed after {elapsed:?}");
        assert!(elapsed >= Duration::from_secs(8), "{name}: closed after only {elapsed:?}");
    }
    // And the server is still fine.
    assert_eq!(server.get("/s/rss.xml", &[]).status, 200);
}

#[test]
fn a_slow_second_request_on_a_kept_alive_connection_is_cut_off() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.write_all(b"GET /s/rss.xml HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let elapsed = trickle_until_closed(stream, b"GET /s/atom.xml HTTP/1.1\r\nHost: x\r\n");
    assert!(elapsed <= Duration::from_secs(10), "closed after {elapsed:?}");
}

#[test]
fn an_http2_connection_that_goes_quiet_is_closed() {
    // After one request, nothing: no new stream, no bytes for the server to
    // write. The watchdog closes it within two idle periods (2 × 9 s).
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let elapsed = h2_time_until_closed(server.addr, "/s/rss.xml", Duration::from_secs(25));
    assert!(elapsed <= Duration::from_secs(20), "closed after {elapsed:?}");
}

/// A server with a 32 MiB asset (more than loopback socket buffers hold, so
/// its response is still being written for a while, streamed from its
/// file) and a connection that has asked for it with `headers`.
fn start_big_download(headers: &str) -> (Fixture, Server, Vec<u8>, TcpStream) {
    let f = site();
    let big: Vec<u8> = (0..32 * 1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
    f.write_bytes("s/big.bin", &big);
    f.write("s/02.md", &episode("Big", "2026-11-09T10:00:00", "", "[download](big.bin)"));
    let server = Server::start(&f, NOW, &[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.write_all(format!("GET /s/big.bin HTTP/1.1\r\nHost: x\r\n{headers}\r\n").as_bytes()).unwrap();
    (f, server, big, stream)
}

#[test]
fn a_client_that_stops_reading_is_cut_off() {
    // A player's ranged download of a recording, streamed from disk.
    let (_f, server, big, mut stream) = start_big_download("Range: bytes=1024-\r\n");
    // Read nothing for a while: the server's writes stall on full buffers.
    std::thread::sleep(Duration::from_secs(30));
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut received = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if received == 0 {
                    assert!(buf.starts_with(b"HTTP/1.1 206 "), "a range is answered 206");
                }
                received += n
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the stalled connection was kept open ({received} bytes read): {e}"),
        }
    }
    assert!(received < big.len(), "the whole body arrived to a client that stopped reading");
    assert_eq!(server.get("/s/rss.xml", &[]).status, 200, "the server is fine");
}

#[test]
fn oversized_headers_get_431() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let big = "a".repeat(20 * 1024);
    let response =
        raw(server.addr, format!("GET /s/rss.xml HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes());
    assert_eq!(raw_status(&response), 431, "{response}");
    let h2 = request_h2(server.addr, "/s/rss.xml", &[("x-big", &big)]);
    assert_eq!(h2.status, 431);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let request = "GET /s/rss.xml HTTP/1.1\r\nHost: x\r\n\r\n";
    let last = "GET /s/atom.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let response = raw(server.addr, format!("{request}{request}{last}").as_bytes());
    assert_eq!(response.matches("HTTP/1.1 200 OK\r\n").count(), 3, "{response}");
}

#[test]
fn connections_past_the_cap_wait_for_a_free_slot() {
    // Each listener thread reserves its permit before accepting, and the
    // kernel picks the listener: which two are served first is not fixed,
    // but never more than two at once.
    let f = site();
    let server = Server::start_with_args(&f, NOW, &[], &["--max-connections", "2"]);
    let mut clients: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.write_all(b"GET /s/rss.xml HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            s
        })
        .collect();
    let answered = |clients: &mut Vec<TcpStream>, wait: Duration| -> Vec<usize> {
        let mut answered = Vec::new();
        for (i, client) in clients.iter_mut().enumerate() {
            client.set_read_timeout(Some(wait)).unwrap();
            let mut head = [0u8; 12];
            if client.read_exact(&mut head).is_ok() {
                assert_eq!(&head, b"HTTP/1.1 200");
                answered.push(i);
            }
        }
        answered
    };
    let first = answered(&mut clients, Duration::from_millis(500));
    assert!((1..=2).contains(&first.len()), "served at once: {first:?}");
    // Closing the served ones frees their slots for the others.
    for i in first.iter().rev() {
        clients.remove(*i);
    }
    let mut rest = answered(&mut clients, Duration::from_millis(500));
    if rest.len() < clients.len() {
        for i in rest.iter().rev() {
            clients.remove(*i);
        }
        rest = answered(&mut clients, Duration::from_secs(3));
    }
    assert!(!rest.is_empty(), "nobody waiting was served after slots were freed");
}

#[test]
fn shutdown_finishes_the_response_in_flight_and_exits_zero() {
    let (_f, server, big, mut stream) = start_big_download("");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut received = vec![0u8; 64 * 1024];
    stream.read_exact(&mut received).unwrap();
    let head_end = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains(&format!("content-length: {}\r\n", big.len())), "{head}");

    let signalled = Instant::now();
    signal_term(server.pid());
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let mut body = received[head_end..].to_vec();
    body.extend_from_slice(&rest);
    assert_eq!(body.len(), big.len(), "the in-flight response was cut short");
    assert!(body == big, "the body arrived corrupted");
    assert_eq!(server.terminate(), Some(0));
    assert!(signalled.elapsed() < Duration::from_secs(10), "shutdown took {:?}", signalled.elapsed());
}

#[test]
fn a_stop_closes_idle_connections_between_requests_and_http2_with_goaway() {
    // A download in flight keeps the server draining meanwhile.
    let (_f, server, _big, _download) = start_big_download("");
    let mut kept = TcpStream::connect(server.addr).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // HEAD: the whole answer is its head, so what follows is known.
    kept.write_all(b"HEAD /s/rss.xml HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        kept.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200 "), "{}", String::from_utf8_lossy(&head));
    let pid = server.pid();
    let (ended, after) = crate::server::h2_end_after(server.addr, "/s/rss.xml", || signal_term(pid));
    assert_eq!(ended, Ok(()), "HTTP/2 ends with GOAWAY, not an error");
    assert!(
        after < Duration::from_secs(3),
        "an idle HTTP/2 connection is closed at once, not after {after:?}"
    );
    // The idle HTTP/1.1 connection is closed too, between requests: not a
    // byte more.
    let mut rest = Vec::new();
    kept.read_to_end(&mut rest).unwrap();
    assert_eq!(String::from_utf8_lossy(&rest), "", "closed between requests");
}

#[test]
fn sigterm_right_after_startup_is_a_clean_stop() {
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    assert_eq!(server.terminate(), Some(0));
}
