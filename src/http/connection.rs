//! One connection's life after accept: serve it, watch that it makes
//! progress, and close it when it stalls or the server stops.
//!
//! Progress is a request answered or a byte written. A connection with no
//! complete request within the first period is dropped (a client that sends
//! nothing, or headers a byte at a time). Later, a whole period without
//! progress starts a graceful close, and a second one ends it: that covers an
//! idle HTTP/2 connection, an HTTP/2 stream whose headers trickle in (hyper's
//! header timeout is HTTP/1 only), and a client that stopped reading its
//! response, while a slow download that keeps moving is never cut.

use super::handler::Handler;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Connection;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::debug;

/// What a connection has done, counted without locks.
#[derive(Debug, Default)]
pub struct Activity {
    requests: AtomicU64,
    written: AtomicU64,
}

impl Activity {
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn progress(&self) -> (u64, u64) {
        (self.requests.load(Ordering::Relaxed), self.written.load(Ordering::Relaxed))
    }
}

/// A TCP stream that counts the bytes written to it.
pub struct Metered {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Metered {
    pub fn new(stream: TcpStream, activity: Arc<Activity>) -> Self {
        Metered { stream, activity }
    }

    fn count(&self, written: &Poll<io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = written {
            self.activity.written.fetch_add(*n as u64, Ordering::Relaxed);
        }
    }
}

impl AsyncRead for Metered {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Metered {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.count(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.count(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// How long each phase of a connection may last without progress.
#[derive(Clone, Copy, Debug)]
pub struct Periods {
    /// Until the first request is complete.
    pub first_request: Duration,
    /// Between two signs of progress afterwards.
    pub idle: Duration,
    /// For in-flight responses to finish once closing has begun.
    pub grace: Duration,
}

type Served = Connection<'static, TokioIo<Metered>, Handler, TokioExecutor>;

/// How often a connection accepted just before a stop is looked at until
/// its first request arrives.
const FIRST_REQUEST_CHECK: Duration = Duration::from_millis(20);

/// Serves `connection` to its end, closing it as the module doc says.
///
/// When the server stops, a connection that has had requests is closed
/// gracefully (hyper closes an idle one between requests and finishes one in
/// flight; HTTP/2 gets GOAWAY). One that has not had its first request yet
/// (accepted just before the stop) waits for it: closing it now would drop
/// a request its client already sent, which clients do not send again on a
/// new connection. Its response says `Connection: close` (see `Shared`).
pub async fn drive(
    connection: Served,
    activity: Arc<Activity>,
    periods: Periods,
    mut stop: watch::Receiver<bool>,
    peer: SocketAddr,
) {
    tokio::pin!(connection);
    let mut seen = activity.progress();
    let mut deadline = Instant::now() + periods.first_request;
    let mut closing = false;
    // When stopping: until when in-flight work may go on.
    let mut stop_by: Option<Instant> = None;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    debug!(%peer, %error, "connection ended");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline) => {
                let now = activity.progress();
                if let Some(stop_by) = stop_by {
                    if Instant::now() >= stop_by || closing {
                        debug!(%peer, "closed: the server is stopping");
                        return;
                    }
                    if now.0 > 0 {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                        deadline = stop_by;
                    } else {
                        deadline = (Instant::now() + FIRST_REQUEST_CHECK).min(stop_by);
                    }
                    continue;
                }
                if now.0 == 0 {
                    debug!(%peer, "closed: no complete request in time");
                    return;
                }
                if closing && now == seen {
                    debug!(%peer, "closed: no progress while closing");
                    return;
                }
                if now == seen {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                seen = now;
                deadline = Instant::now() + if closing { periods.grace } else { periods.idle };
            }
            _ = stop.wait_for(|stop| *stop), if stop_by.is_none() => {
                let by = Instant::now() + periods.grace;
                stop_by = Some(by);
                if activity.progress().0 > 0 || closing {
                    if !closing {
                        connection.as_mut().graceful_shutdown();
                    }
                    closing = true;
                    deadline = by;
                } else {
                    deadline = Instant::now() + FIRST_REQUEST_CHECK;
                }
            }
        }
    }
}
