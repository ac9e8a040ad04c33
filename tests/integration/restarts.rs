//! Restarts and upgrades under load lose no request: ten restarts through
//! a parent that holds the listening socket (the test plays systemd's
//! socket activation: fd 3, `LISTEN_FDS=1`, `LISTEN_PID`, `NOTIFY_SOCKET`)
//! and ten upgrades with SIGUSR2 (the binary started again on the same
//! sockets). Clients open a connection per request or keep one alive, and
//! retry only what browsers and HTTP libraries retry: a request on a reused
//! connection that closed before any byte of its response.

use crate::support::{Fixture, NOW, episode, series_toml};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PATH: &str = "/s/rss.xml";
const ROUNDS: usize = 10;

fn site() -> Fixture {
    let f = Fixture::new();
    f.write("s/series.toml", &series_toml("Serial", ""));
    f.write("s/01.md", &episode("One", "2026-11-02T10:00:00", "", "One.\n"));
    f.write("s/02.md", &episode("Two", "2026-11-09T10:00:00", "", "Two.\n"));
    f
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    /// Requests sent again after a reused connection closed unanswered.
    retried: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Tally {
    fn fail(&self, why: String) {
        self.failures.lock().unwrap().push(why);
    }

    fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }
}

/// How one request went.
enum Exchange {
    /// A whole response: its status, and whether the server closes after it.
    Answered(u16, bool),
    /// The connection closed before any byte of the response.
    Unanswered,
}

/// Sends one GET on `stream` and reads the whole response.
fn exchange(stream: &mut TcpStream, keep_alive: bool) -> Result<Exchange, String> {
    let connection = if keep_alive { "" } else { "Connection: close\r\n" };
    let request = format!("GET {PATH} HTTP/1.1\r\nHost: x\r\n{connection}\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return Ok(Exchange::Unanswered);
    }
    let mut received = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) if received.is_empty() => return Ok(Exchange::Unanswered),
            Err(e) if received.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Ok(Exchange::Unanswered);
            }
            Ok(0) => return Err(format!("closed in the middle of the head: {received:?}")),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("reading the head: {e}")),
        }
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
    let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).ok_or(format!("no status in {head:?}"))?;
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: ")?.trim().parse().ok())
        .ok_or(format!("no content-length in {head:?}"))?;
    let closes = head.lines().any(|line| line.trim() == "connection: close");
    while received.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(0) => return Err(format!("body cut at {} of {length} bytes", received.len() - head_end)),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("reading the body: {e}")),
        }
    }
    Ok(Exchange::Answered(status, closes))
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    Ok(stream)
}

/// A new connection per request: nothing may fail.
fn fresh_client(addr: SocketAddr, tally: &Tally, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let result =
            connect(addr).map_err(|e| format!("connect: {e}")).and_then(|mut s| exchange(&mut s, false));
        match result {
            Ok(Exchange::Answered(200, _)) => drop(tally.ok.fetch_add(1, Ordering::Relaxed)),
            Ok(Exchange::Answered(status, _)) => tally.fail(format!("fresh connection: status {status}")),
            Ok(Exchange::Unanswered) => tally.fail("fresh connection closed unanswered".into()),
            Err(why) => tally.fail(format!("fresh connection: {why}")),
        }
    }
}

/// One kept-alive connection at a time, retrying as clients do.
fn kept_client(addr: SocketAddr, tally: &Tally, stop: &AtomicBool) {
    let mut open: Option<(TcpStream, bool)> = None;
    while !stop.load(Ordering::Relaxed) {
        let (mut stream, reused) = match open.take() {
            Some(open) => open,
            None => match connect(addr) {
                Ok(stream) => (stream, false),
                Err(e) => {
                    tally.fail(format!("connect: {e}"));
                    continue;
                }
            },
        };
        match exchange(&mut stream, true) {
            Ok(Exchange::Answered(200, closes)) => {
                tally.ok.fetch_add(1, Ordering::Relaxed);
                if !closes {
                    open = Some((stream, true));
                }
            }
            Ok(Exchange::Answered(status, _)) => {
                tally.fail(format!("kept-alive connection: status {status}"))
            }
            Ok(Exchange::Unanswered) if reused => drop(tally.retried.fetch_add(1, Ordering::Relaxed)),
            Ok(Exchange::Unanswered) => tally.fail("new kept-alive connection closed unanswered".into()),
            Err(why) => tally.fail(format!("kept-alive connection: {why}")),
        }
    }
}

/// Two clients of each kind against `addr` until `stop`.
fn load(addr: SocketAddr, tally: &Arc<Tally>, stop: &Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<()>> {
    (0..4)
        .map(|i| {
            let (tally, stop) = (tally.clone(), stop.clone());
            std::thread::spawn(move || {
                if i % 2 == 0 { fresh_client(addr, &tally, &stop) } else { kept_client(addr, &tally, &stop) }
            })
        })
        .collect()
}

/// Waits until the clients have had `more` answers since `since`.
fn answered(tally: &Tally, since: u64, more: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally.ok() < since + more {
        assert!(
            Instant::now() < deadline,
            "the clients got no answers: {:?}",
            tally.failures.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn report(tally: &Tally) {
    let failures = tally.failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} request(s) failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    eprintln!(
        "{} answered, {} retried on a reused connection",
        tally.ok(),
        tally.retried.load(Ordering::Relaxed)
    );
}

/// Reads the notify socket until `state` (`READY=1`, `STOPPING=1`).
fn expect_state(notify: &UnixDatagram, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut message = [0u8; 512];
    loop {
        assert!(Instant::now() < deadline, "no {state} on NOTIFY_SOCKET");
        if let Ok(n) = notify.recv(&mut message)
            && String::from_utf8_lossy(&message[..n]).lines().any(|line| line == state)
        {
            return;
        }
    }
}

/// `episodic serve` as systemd starts it for a socket unit: the socket as
/// fd 3, `LISTEN_FDS=1`, `LISTEN_PID` its own PID (bash's `$$`, kept by exec).
fn socket_activated(f: &Fixture, socket: &TcpListener, notify: &std::path::Path) -> Child {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    use std::os::fd::AsRawFd;
    // Inherited by this child only for as long as it takes to start it.
    fcntl(socket, FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
    let script =
        r#"fd=$1; shift; [ "$fd" = 3 ] || eval "exec 3<&$fd $fd<&-"; LISTEN_PID=$$ LISTEN_FDS=1 exec "$@""#;
    let child = Command::new("bash")
        .args(["-c", script, "bash", &socket.as_raw_fd().to_string(), env!("CARGO_BIN_EXE_episodic")])
        .args(["serve", "--watch", "off", "--now", NOW, "--content"])
        .arg(f.content())
        .arg("--out")
        .arg(f.out())
        .env("NOTIFY_SOCKET", notify)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    fcntl(socket, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).unwrap();
    child
}

#[test]
fn ten_restarts_through_a_parent_holding_the_socket_lose_no_request() {
    let f = site();
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut server = socket_activated(&f, &socket, &notify_path);
    expect_state(&notify, "READY=1");
    let (tally, stop) = (Arc::new(Tally::default()), Arc::new(AtomicBool::new(false)));
    let clients = load(addr, &tally, &stop);
    answered(&tally, 0, 50);
    for _ in 0..ROUNDS {
        // systemctl restart: stop, then start; meanwhile connections wait
        // in the socket's queue.
        let before = tally.ok();
        crate::server::signal_term(server.id());
        expect_state(&notify, "STOPPING=1");
        assert!(server.wait().unwrap().success());
        server = socket_activated(&f, &socket, &notify_path);
        expect_state(&notify, "READY=1");
        answered(&tally, before, 50);
    }
    stop.store(true, Ordering::Relaxed);
    clients.into_iter().for_each(|c| c.join().unwrap());
    crate::server::signal_term(server.id());
    assert!(server.wait().unwrap().success());
    report(&tally);
}

/// The PID `/_episodic/status` names.
fn serving_pid(addr: SocketAddr) -> Option<u32> {
    let mut stream = connect(addr).ok()?;
    stream.write_all(b"GET /_episodic/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let body = &text[text.find("\r\n\r\n")? + 4..];
    let status: serde_json::Value = serde_json::from_str(body).ok()?;
    status["pid"].as_u64().and_then(|pid| u32::try_from(pid).ok())
}

#[test]
fn ten_upgrades_with_sigusr2_lose_no_request() {
    let f = site();
    let mut first = Command::new(env!("CARGO_BIN_EXE_episodic"))
        .args(["serve", "--listen", "127.0.0.1:0", "--watch", "off", "--now", NOW, "--content"])
        .arg(f.content())
        .arg("--out")
        .arg(f.out())
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .env_remove("EPISODIC_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Every process prints its address once it serves, on the same stdout.
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let addr: SocketAddr = line.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let (tally, stop) = (Arc::new(Tally::default()), Arc::new(AtomicBool::new(false)));
    let clients = load(addr, &tally, &stop);
    answered(&tally, 0, 50);
    let mut pid = first.id();
    assert_eq!(serving_pid(addr), Some(pid));
    for _ in 0..ROUNDS {
        let before = tally.ok();
        kill(Pid::from_raw(i32::try_from(pid).unwrap()), Signal::SIGUSR2).unwrap();
        assert_eq!(lines.next().unwrap().unwrap(), line, "the new process serves at the same address");
        // The old one stops once the new one serves: only the new one answers.
        let deadline = Instant::now() + Duration::from_secs(30);
        let new = loop {
            assert!(Instant::now() < deadline, "the old process {pid} still answers");
            let ended = if pid == first.id() { first.try_wait().unwrap().is_some() } else { ended(pid) };
            match serving_pid(addr) {
                Some(now) if now != pid && ended => break now,
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        pid = new;
        answered(&tally, before, 50);
    }
    stop.store(true, Ordering::Relaxed);
    clients.into_iter().for_each(|c| c.join().unwrap());
    assert!(first.wait().unwrap().success());
    crate::server::signal_term(pid);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ended(pid) {
        assert!(Instant::now() < deadline, "the last process {pid} did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    report(&tally);
}

/// Whether process `pid` (not our child) has exited: gone, or a zombie
/// that nobody reaped.
fn ended(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_or(true, |status| status.lines().any(|line| line.starts_with("State:") && line.contains('Z')))
}

#[test]
fn a_restart_serves_a_broken_episode_as_it_was_with_the_same_validators() {
    use crate::running::{status, wait_for};
    use crate::server::Server;
    let f = site();
    f.write("s/03.md", &episode("Three", "2026-11-16T10:00:00", "", "Links to [two](02.md).\n"));
    let server = Server::start(&f, NOW, &[]);
    // Episode 2 breaks while the server runs: it keeps its last good version.
    f.write("s/02.md", "+++\ntitle = \"Two\"\ndate = \"2026-02-30\"\n+++\nTwo, edited.\n");
    let error = |server: &Server| {
        let errors = status(server)["errors"].as_array().unwrap().clone();
        (errors.len() == 1 && errors[0]["file"].as_str().unwrap().ends_with("02.md")).then_some(())
    };
    wait_for("the error on the status page", || error(&server));
    let paths =
        ["/s/rss.xml", "/s/atom.xml", "/s/feed.json", "/s/", "/s/2/", "/s/3/", "/rss.xml", "/sitemap.xml"];
    let validators = |server: &Server| -> Vec<(String, u16, String, String)> {
        paths
            .iter()
            .map(|path| {
                let reply = server.get(path, &[]);
                (
                    path.to_string(),
                    reply.status,
                    reply.header("etag").to_owned(),
                    reply.header("last-modified").to_owned(),
                )
            })
            .collect()
    };
    let before = validators(&server);
    assert!(String::from_utf8(server.get("/s/rss.xml", &[]).body).unwrap().contains("<title>Two</title>"));
    assert_eq!(server.terminate(), Some(0));

    let server = Server::start(&f, NOW, &[]);
    error(&server).expect("the error is still on the status page");
    assert_eq!(validators(&server), before, "the same bytes and validators after the restart");
    assert!(String::from_utf8(server.get("/s/rss.xml", &[]).body).unwrap().contains("<title>Two</title>"));

    // Fixed: the file's own version again, and nothing is held any more.
    f.write("s/02.md", &episode("Two, fixed", "2026-11-09T10:00:00", "", "Two.\n"));
    wait_for("the fixed episode", || {
        String::from_utf8(server.get("/s/rss.xml", &[]).body)
            .unwrap()
            .contains("<title>Two, fixed</title>")
            .then_some(())
    });
}

#[test]
fn a_file_broken_while_the_server_was_down_is_served_as_it_was_last_published() {
    use crate::running::{status, wait_for};
    use crate::server::Server;
    let f = site();
    let server = Server::start(&f, NOW, &[]);
    let paths = ["/s/rss.xml", "/s/atom.xml", "/s/feed.json", "/s/", "/s/2/", "/rss.xml", "/sitemap.xml"];
    let validators = |server: &Server| -> Vec<(String, u16, String)> {
        paths
            .iter()
            .map(|path| {
                let reply = server.get(path, &[]);
                (path.to_string(), reply.status, reply.header("etag").to_owned())
            })
            .collect()
    };
    let before = validators(&server);
    assert_eq!(server.terminate(), Some(0));
    // Kept in the state directory beside content/, not in the public feeds/.
    let database = f.content().parent().unwrap().join(".episodic/episodic.sqlite");
    assert!(database.is_file(), "{} exists", database.display());
    assert!(
        !std::fs::read_dir(f.out()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("sqlite"))
    );

    // Broken while nothing runs: the next start serves its last good version.
    f.write("s/02.md", "+++\ntitle = \"Two\"\ndate = \"2026-02-30\"\n+++\nTwo, edited.\n");
    let server = Server::start(&f, NOW, &[]);
    let errors = status(&server)["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0]["file"].as_str().unwrap().ends_with("02.md"), "{errors:?}");
    assert!(errors[0]["message"].as_str().unwrap().contains("2026-02-30"), "{errors:?}");
    assert_eq!(validators(&server), before, "the same bytes and validators as before it broke");
    let feed = feed_rs::parser::parse(server.get("/s/atom.xml", &[]).body.as_slice()).unwrap();
    let titles: Vec<String> =
        feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
    assert!(titles.iter().any(|t| t.contains("Two")), "{titles:?}");

    // A file deleted while the server runs is forgotten: broken and back
    // after a restart, it is left out.
    std::fs::remove_file(f.content().join("s/02.md")).unwrap();
    wait_for("the episode gone", || (server.get("/s/2/", &[]).status == 404).then_some(()));
    assert_eq!(server.terminate(), Some(0));
    f.write("s/02.md", "+++\ntitle = \"Two\"\ndate = \"2026-02-30\"\n+++\nTwo, edited.\n");
    let server = Server::start(&f, NOW, &[]);
    assert_eq!(server.get("/s/2/", &[]).status, 404);
    assert_eq!(status(&server)["errors"].as_array().unwrap().len(), 1);
    assert_eq!(server.terminate(), Some(0));
}

#[test]
fn an_unusable_state_directory_does_not_stop_the_server() {
    use crate::running::status;
    use crate::server::Server;
    let f = site();
    let blocker = f.content().parent().unwrap().join("not-a-directory");
    std::fs::write(&blocker, "a file where the state directory should be").unwrap();
    let server = Server::start_with_args(&f, NOW, &[], &["--state", blocker.to_str().unwrap()]);
    assert_eq!(server.get("/s/2/", &[]).status, 200);
    let warnings = status(&server)["warnings"].clone();
    let warning = warnings.as_array().unwrap().iter().find_map(|w| w.as_str()).unwrap_or_default().to_owned();
    assert!(
        warning
            .starts_with("the state database cannot keep the episodes' last good versions (cannot create ")
            && warning.contains("not-a-directory"),
        "{warnings}"
    );
    // The audience is not counted, and says why; serving goes on.
    let error = crate::running::wait_for("the recorder's error", || {
        status(&server)["audience"]["recorder"]["error"].as_str().map(str::to_owned)
    });
    assert!(error.starts_with("cannot create ") && error.contains("not-a-directory"), "{error}");
    assert_eq!(server.get("/s/1/", &[("user-agent", "Mozilla/5.0 Firefox/133.0")]).status, 200);
    let stats = server.get("/_episodic/stats", &[]);
    assert_eq!(stats.status, 500);
    assert_eq!(stats.body, b"the audience counts cannot be read; see the log\n");
    assert_eq!(server.terminate(), Some(0));
}
