//! The real `episodic serve` in a child process on 127.0.0.1:0, and a real
//! HTTP client (hyper's) to talk to it.

use crate::support::Fixture;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; stopped (SIGTERM, by its PID) when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `serve` on `fixture` as of `now`, with extra environment.
    pub fn start(fixture: &Fixture, now: &str, env: &[(&str, &str)]) -> Server {
        Self::start_with_args(fixture, now, env, &[])
    }

    /// The same, with extra command-line arguments.
    pub fn start_with_args(fixture: &Fixture, now: &str, env: &[(&str, &str)], args: &[&str]) -> Server {
        Self::spawn(fixture, now, env, args, Stdio::inherit())
    }

    /// Starts `serve` with its access log (one line per response) written
    /// to `log`.
    pub fn start_logging(fixture: &Fixture, now: &str, log: &std::path::Path) -> Server {
        let file = std::fs::File::create(log).expect("create the log file");
        let env = [("RUST_LOG", "warn,episodic::access=info")];
        Self::spawn(fixture, now, &env, &[], Stdio::from(file))
    }

    /// Starts `serve` with the log a writer gets by default (no
    /// `RUST_LOG`) written to `log`.
    pub fn start_with_default_log(fixture: &Fixture, now: &str, log: &std::path::Path) -> Server {
        let file = std::fs::File::create(log).expect("create the log file");
        Self::spawn(fixture, now, &[("RUST_LOG", "")], &[], Stdio::from(file))
    }

    fn spawn(fixture: &Fixture, now: &str, env: &[(&str, &str)], args: &[&str], stderr: Stdio) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_episodic"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--now", now])
            .arg("--content")
            .arg(fixture.content())
            .arg("--out")
            .arg(fixture.out())
            .args(args)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "warn")
            .env_remove("EPISODIC_ADMIN_TOKEN")
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (key, value) in env {
            match *value {
                "" => command.env_remove(key),
                value => command.env(key, value),
            };
        }
        let mut child = command.spawn().expect("start episodic serve");
        let stdout = child.stdout.take().expect("piped stdout");
        // The server prints its URL once it listens; the read ends by itself
        // if the process dies.
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the server's URL");
        let addr = line
            .trim()
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("the server did not print its address, printed {line:?}"));
        Server { child, addr }
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.addr, Method::GET, path, headers)
    }

    pub fn head(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.addr, Method::HEAD, path, headers)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(mut self) -> Option<i32> {
        signal_term(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the server did not exit within 15 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal_term(self.child.id());
            let deadline = Instant::now() + Duration::from_secs(15);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// SIGTERM to a server this test started, by its PID.
pub fn signal_term(pid: u32) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("PIDs fit in i32"));
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(|v| v.to_str().expect("ASCII header")).unwrap_or("")
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// One request over HTTP/1.1 on a fresh connection.
pub fn request(addr: SocketAddr, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
    runtime().block_on(async {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(connection);
        let response = sender.send_request(build(method, path, headers)).await.expect("response");
        read(response).await
    })
}

/// One request over HTTP/2 with prior knowledge (h2c).
pub fn request_h2(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    runtime().block_on(async {
        let (mut sender, connection) = h2_connect(addr).await;
        tokio::spawn(connection);
        let response = sender.send_request(h2_request(addr, path, headers)).await.expect("response");
        read(response).await
    })
}

/// Makes one HTTP/2 request, then stays quiet; returns when the server
/// closed the connection (panics after `limit`).
pub fn h2_time_until_closed(addr: SocketAddr, path: &str, limit: Duration) -> Duration {
    runtime().block_on(async {
        let (mut sender, connection) = h2_connect(addr).await;
        let connection = tokio::spawn(connection);
        let response = sender.send_request(h2_request(addr, path, &[])).await.expect("response");
        assert_eq!(read(response).await.status, 200);
        let started = Instant::now();
        tokio::time::timeout(limit, connection).await.expect("the quiet h2 connection was kept open").ok();
        started.elapsed()
    })
}

/// Makes one HTTP/2 request, runs `stop`, and returns how the connection
/// ended (`Ok`: the server ended it cleanly, with GOAWAY, not an error)
/// and after how long.
pub fn h2_end_after(addr: SocketAddr, path: &str, stop: impl FnOnce()) -> (Result<(), String>, Duration) {
    runtime().block_on(async {
        let (mut sender, connection) = h2_connect(addr).await;
        let connection = tokio::spawn(connection);
        let response = sender.send_request(h2_request(addr, path, &[])).await.expect("response");
        assert_eq!(read(response).await.status, 200);
        let started = Instant::now();
        stop();
        let ended =
            tokio::time::timeout(Duration::from_secs(15), connection).await.expect("still open after 15 s");
        (ended.expect("the connection task").map_err(|e| e.to_string()), started.elapsed())
    })
}

type H2Sender = hyper::client::conn::http2::SendRequest<Empty<Bytes>>;
type H2Connection =
    hyper::client::conn::http2::Connection<TokioIo<tokio::net::TcpStream>, Empty<Bytes>, TokioExecutor>;

async fn h2_connect(addr: SocketAddr) -> (H2Sender, H2Connection) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.expect("h2")
}

/// HTTP/2 requests carry the full URI (`:authority`, `:scheme`).
fn h2_request(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Request<Empty<Bytes>> {
    let mut request = build(Method::GET, path, headers);
    *request.uri_mut() = format!("http://{addr}{path}").parse().expect("uri");
    request
}

fn build(method: Method, path: &str, headers: &[(&str, &str)]) -> Request<Empty<Bytes>> {
    let mut builder = Request::builder().method(method).uri(path).header("host", "127.0.0.1");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Empty::new()).expect("request")
}

async fn read(response: hyper::Response<hyper::body::Incoming>) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    Reply { status, headers, body }
}

/// Writes `bytes` raw and returns what came back until the server closed
/// or 5 s passed: for requests no well-behaved client would send.
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    stream.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The status code of a raw response.
pub fn raw_status(response: &str) -> u16 {
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}
