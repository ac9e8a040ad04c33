//! What README's "Deploy" has a writer install: the systemd units pass
//! `systemd-analyze verify`, and nginx with contrib/'s proxy settings, in
//! front of episodic, passes every answer through unchanged (200, 304,
//! 206, 301, compression), while the author's status page stays closed to
//! requests that come through it. `.ci/run` installs systemd and nginx.

use crate::server::{Reply, Server, request};
use crate::support::{Fixture, NOW, SITE_TOML, episode, series_toml};
use hyper::Method;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn contrib(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib").join(path)
}

/// `program`'s path, or `None` (then the test is skipped, except in CI).
fn tool(program: &str, package: &str) -> Option<PathBuf> {
    let found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.exists());
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "{program} is missing; .ci/run installs {package}");
        eprintln!("skipped: no {program} (apt-get install {package})");
    }
    found
}

#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    let Some(analyze) = tool("systemd-analyze", "systemd") else { return };
    let dir = tempfile::tempdir().unwrap();
    let service = std::fs::read_to_string(contrib("systemd/episodic.service")).unwrap();
    for line in [
        "Type=notify",
        "User=episodic",
        "StateDirectory=episodic",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/episodic/feeds",
        "NoNewPrivileges=true",
        "PrivateTmp=true",
        "Requires=episodic.socket",
    ] {
        assert!(service.lines().any(|l| l == line), "episodic.service lacks {line}");
    }
    // The binary where this build put it (verify checks it can be run).
    let service = service.replace("/usr/local/bin/episodic", env!("CARGO_BIN_EXE_episodic"));
    std::fs::write(dir.path().join("episodic.service"), service).unwrap();
    std::fs::copy(contrib("systemd/episodic.socket"), dir.path().join("episodic.socket")).unwrap();
    let output = Command::new(analyze)
        .args(["verify", "--man=no"])
        .arg(dir.path().join("episodic.socket"))
        .arg(dir.path().join("episodic.service"))
        .output()
        .unwrap();
    let said =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
}

/// nginx, in the foreground, proxying a port of its own to `upstream` with
/// contrib/nginx/episodic-proxy.conf; stopped when dropped.
struct Nginx {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(program: &Path, upstream: SocketAddr) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let d = dir.path().display();
        let config = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               upstream episodic {{ server {upstream}; keepalive 8; }}\n\
               server {{\n    listen {addr};\n    location / {{ include {}; }}\n  }}\n}}\n",
            contrib("nginx/episodic-proxy.conf").display()
        );
        std::fs::write(dir.path().join("nginx.conf"), config).unwrap();
        let child = Command::new(program)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, addr, _dir: dir }
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.addr, Method::GET, path, headers)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The headers a reader's client acts on.
fn seen(reply: &Reply) -> Vec<(&'static str, String)> {
    [
        "etag",
        "last-modified",
        "cache-control",
        "content-type",
        "content-encoding",
        "content-range",
        "vary",
        "location",
    ]
    .into_iter()
    .map(|name| (name, reply.header(name).to_owned()))
    .collect()
}

/// A path, the request's headers, and the status expected.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16);

#[test]
fn nginx_in_front_passes_every_answer_through() {
    let Some(nginx) = tool("nginx", "nginx") else { return };
    let f = Fixture::new();
    // nginx, on this machine, may say who its client was.
    let trusting = SITE_TOML.replace("[author]", "trusted_proxies = [\"127.0.0.1/32\"]\n[author]");
    f.write("site.toml", &trusting);
    f.write("s/series.toml", &series_toml("Serial", "image = \"cover.png\"\n"));
    f.write_bytes("s/cover.png", &crate::support::png(300, 300));
    f.write("s/01.md", &episode("One", "2026-11-02T10:00:00", "", "One.\n"));
    f.write("s/02.md", &episode("Two", "2026-11-09T10:00:00", "", "Two.\n"));
    let log = f.content().with_file_name("access.log");
    let server = Server::start_logging(&f, NOW, &log);
    let proxy = Nginx::start(&nginx, server.addr);

    let etag = server.get("/s/rss.xml", &[]).header("etag").to_owned();
    let cases: [Case<'_>; 8] = [
        ("/s/rss.xml", &[], 200),
        ("/s/rss.xml", &[("accept-encoding", "gzip")], 200),
        ("/s/rss.xml", &[("if-none-match", &etag)], 304),
        ("/s/2/", &[("accept-encoding", "br")], 200),
        ("/s/cover.png", &[("range", "bytes=10-29")], 206),
        ("/s/cover.png", &[], 200),
        ("/s", &[], 301),
        ("/_episodic/health", &[], 200),
    ];
    for (path, headers, status) in cases {
        let direct = server.get(path, headers);
        let proxied = proxy.get(path, headers);
        assert_eq!((direct.status, proxied.status), (status, status), "{path} {headers:?}");
        assert_eq!(seen(&proxied), seen(&direct), "{path} {headers:?}");
        assert!(proxied.body == direct.body, "{path} {headers:?}: the body changed on the way");
    }
    // nginx says who the client was (X-Forwarded-For): the author's page is
    // not for the internet.
    assert_eq!(server.get("/_episodic/status", &[]).status, 200);
    assert_eq!(proxy.get("/_episodic/status", &[]).status, 404);

    // The access log names the reader, not the proxy: nginx appends the
    // address it saw (here 127.0.0.1, trusted) to what the client sent.
    proxy.get("/s/1/", &[("x-forwarded-for", "203.0.113.9")]);
    server.get("/s/atom.xml", &[]);
    let line_of = |path: &str| {
        crate::running::wait_for("the access log line", || {
            let text = std::fs::read_to_string(&log).ok()?;
            text.lines().find(|line| line.contains(&format!("path={path} "))).map(str::to_owned)
        })
    };
    assert!(line_of("/s/1/").contains(" client=203.0.113.9 "), "{}", line_of("/s/1/"));
    assert!(line_of("/s/atom.xml").contains(" client=127.0.0.1 "), "{}", line_of("/s/atom.xml"));
}
