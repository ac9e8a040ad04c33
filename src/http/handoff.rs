//! The listening sockets, kept open across restarts and upgrades: whatever
//! arrives while one process hands over to the next waits in the kernel's
//! queue, and is answered by the next.
//!
//! - **From a parent**: systemd's socket activation (`LISTEN_FDS`, read by
//!   listenfd), or an earlier episodic handing over. Otherwise bound here.
//! - **To a new binary**, on SIGUSR2, as nginx does: the binary at the path
//!   this one was started as (an upgrade replaced it) is started with the
//!   same arguments and the sockets (`LISTEN_FDS` from
//!   `LISTEN_FDS_FIRST_FD`), and tells us `READY=1` on a `NOTIFY_SOCKET` of
//!   ours (the systemd protocol, sd-notify) once it serves. Only then does
//!   this process stop; if the new one fails, this one serves on.
//! - **Readiness** for a supervisor (`Type=notify`): `READY=1` once the first
//!   build is served, `STOPPING=1` when a stop begins.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use tracing::info;

/// The sockets a parent passed (`LISTEN_FDS`), else `workers` sockets bound
/// to `addr`.
pub fn listeners(addr: SocketAddr, workers: usize) -> io::Result<Vec<TcpListener>> {
    let mut passed = listenfd::ListenFd::from_env();
    let mut sockets = Vec::with_capacity(passed.len());
    for index in 0..passed.len() {
        let socket = passed
            .take_tcp_listener(index)?
            .ok_or_else(|| io::Error::other(format!("LISTEN_FDS: socket {index} was given twice")))?;
        socket.set_nonblocking(true)?;
        sockets.push(socket);
    }
    if sockets.is_empty() {
        return bind(addr, workers);
    }
    info!(sockets = sockets.len(), "serving on the sockets passed by the parent (LISTEN_FDS)");
    Ok(sockets)
}

/// Binds `count` listening sockets to `addr` (port 0: one free port for
/// all), sharing it with `SO_REUSEPORT`.
fn bind(addr: SocketAddr, count: usize) -> io::Result<Vec<std::net::TcpListener>> {
    // SO_REUSEPORT would let this process share a port another one serves
    // (a second `episodic serve` taking part of the traffic unnoticed):
    // refuse an address in use, as a plain bind does.
    if addr.port() != 0 && count > 1 {
        let probe = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        probe.set_reuse_address(true)?;
        probe.bind(&addr.into())?;
    }
    let mut addr = addr;
    let mut listeners = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        #[cfg(unix)]
        socket.set_reuse_port(count > 1)?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        socket.listen(4096)?;
        let listener: std::net::TcpListener = socket.into();
        addr = listener.local_addr()?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Tells a supervisor (or an episodic handing over to us) that we serve.
pub fn notify_ready() {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
}

/// Tells a supervisor that we are stopping.
pub fn notify_stopping() {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
}

/// How long a new binary may take to serve (its first build included).
const READY_WITHIN: Duration = Duration::from_secs(120);

/// Starts the binary at the path this process was started as, with the
/// same arguments and `sockets`, and returns its PID once it says it
/// serves. Blocks meanwhile.
pub fn hand_over(sockets: &[TcpListener]) -> io::Result<u32> {
    let mut args = std::env::args_os();
    let program = args.next().ok_or_else(|| io::Error::other("no program name in argv"))?;
    let first = contiguous_copies(sockets)?;
    let notify = NotifySocket::bind()?;
    let spawned = Command::new(&program)
        .args(args)
        .env("LISTEN_FDS", sockets.len().to_string())
        .env("LISTEN_FDS_FIRST_FD", first.to_string())
        .env_remove("LISTEN_PID")
        .env("NOTIFY_SOCKET", &notify.path)
        .spawn();
    // The copies are the child's now (or nobody's).
    for fd in first..first + fd_count(sockets) {
        let _ = nix::unistd::close(fd);
    }
    let mut child = spawned?;
    let pid = child.id();
    info!(pid, program = %PathBuf::from(&program).display(), "handing the sockets to a new process");
    let deadline = Instant::now() + READY_WITHIN;
    let mut message = [0u8; 512];
    loop {
        match notify.socket.recv(&mut message) {
            Ok(n) if message[..n].split(|&b| b == b'\n').any(|line| line == b"READY=1") => return Ok(pid),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!("the new process ended before serving ({status})")));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(io::Error::other(format!("the new process did not serve within {READY_WITHIN:?}")));
        }
    }
}

fn fd_count(sockets: &[TcpListener]) -> i32 {
    i32::try_from(sockets.len()).unwrap_or(i32::MAX)
}

/// Copies of `sockets` at consecutive descriptors, inherited by children
/// (no close-on-exec), as `LISTEN_FDS_FIRST_FD` needs; returns the first.
/// Other threads open descriptors meanwhile (accepted connections): a run
/// that is not consecutive is closed and tried again higher up.
fn contiguous_copies(sockets: &[TcpListener]) -> io::Result<i32> {
    let highest = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .max()
        .unwrap_or(2);
    let mut first = highest + 1;
    for _ in 0..16 {
        let mut copies = Vec::with_capacity(sockets.len());
        for (offset, socket) in (0..).zip(sockets) {
            copies.push(nix::fcntl::fcntl(socket, nix::fcntl::FcntlArg::F_DUPFD(first + offset))?);
        }
        if copies.iter().zip(first..).all(|(&copy, wanted)| copy == wanted) {
            return Ok(first);
        }
        first = copies.iter().copied().max().unwrap_or(first) + 1;
        for copy in copies {
            let _ = nix::unistd::close(copy);
        }
    }
    Err(io::Error::other("could not line the sockets up for the new process"))
}

/// A datagram socket in the temp folder for the new process's `READY=1`.
struct NotifySocket {
    socket: UnixDatagram,
    path: PathBuf,
}

impl NotifySocket {
    fn bind() -> io::Result<Self> {
        let path = std::env::temp_dir().join(format!("episodic-{}-handover.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let socket = UnixDatagram::bind(&path)?;
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        Ok(NotifySocket { socket, path })
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
