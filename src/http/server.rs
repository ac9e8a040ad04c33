//! The accept loops: HTTP/1.1 keep-alive and HTTP/2 (h2c with prior
//! knowledge) on one port, a cap on open connections, deadlines against
//! clients that connect and stall, and a graceful shutdown that finishes
//! in-flight responses.
//!
//! Like nginx's workers: one single-threaded runtime per core, each with its
//! own listening socket on the same port (`SO_REUSEPORT`, bound in
//! `handoff`, which also takes them from a parent and hands them on), so the
//! kernel spreads connections and no request ever hops threads. Measured against
//! one work-stealing runtime, this is what keeps the tail latency low at a
//! thousand connections.
//!
//! hyper-util's auto builder reads the first bytes to tell HTTP/1 from
//! HTTP/2 with no timer of its own, and hyper's header timeout covers
//! HTTP/1 only, so every connection is driven by `connection::drive`, which
//! closes it when it makes no progress (see there). hyper's HTTP/1 header
//! timeout stays on as well, for a slow head on a kept-alive connection.

use super::connection::{self, Activity, Metered, Periods};
use super::handler::Handler;
use super::handoff;
use super::shared::Shared;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tracing::{info, warn};

#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Time to receive a request's headers (and the first request at all).
    pub header_timeout: Duration,
    /// Bytes of request headers accepted (beyond: 431).
    pub max_header_bytes: usize,
    /// Time in-flight responses get to finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            // Under the 10 s promised, with room for scheduling.
            header_timeout: Duration::from_secs(9),
            max_header_bytes: 16 * 1024,
            shutdown_grace: Duration::from_secs(8),
        }
    }
}

/// Serves on `listeners` with `workers` threads until SIGINT/SIGTERM (or
/// SIGUSR2 once a new binary serves on the same sockets, see `handoff`);
/// then lets in-flight responses finish (up to `limits.shutdown_grace`).
/// `ready` runs once the signals are handled and the workers started.
pub fn run(
    listeners: Vec<std::net::TcpListener>,
    workers: usize,
    shared: Arc<Shared>,
    limits: Limits,
    ready: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    let signals = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut stop_signals = {
        let _context = signals.enter();
        StopSignals::register()?
    };
    // Kept to hand to a new binary: the workers' copies close as they stop.
    let kept: Vec<std::net::TcpListener> =
        listeners.iter().map(std::net::TcpListener::try_clone).collect::<io::Result<_>>()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let workers: Vec<_> = per_worker(listeners, workers)?
        .into_iter()
        .enumerate()
        .map(|(index, listeners)| {
            let (shared, limits, open, stopped) =
                (shared.clone(), limits.clone(), open.clone(), stopped.clone());
            std::thread::Builder::new().name(format!("http-{index}")).spawn(move || -> io::Result<()> {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                runtime.block_on(async move {
                    let mut serving = tokio::task::JoinSet::new();
                    for listener in listeners {
                        let listener = TcpListener::from_std(listener)?;
                        let mut stopped = stopped.clone();
                        let shutdown = async move {
                            let _ = stopped.wait_for(|stop| *stop).await;
                        };
                        serving.spawn(serve(
                            listener,
                            shared.clone(),
                            limits.clone(),
                            open.clone(),
                            shutdown,
                        ));
                    }
                    while serving.join_next().await.is_some() {}
                    Ok(())
                })
            })
        })
        .collect::<io::Result<_>>()?;
    ready()?;
    signals.block_on(async {
        loop {
            match stop_signals.recv().await {
                Stop::Now => break,
                Stop::OnceHandedOver => {
                    let kept =
                        kept.iter().map(std::net::TcpListener::try_clone).collect::<io::Result<Vec<_>>>();
                    match tokio::task::spawn_blocking(move || handoff::hand_over(&kept?)).await {
                        Ok(Ok(pid)) => {
                            info!(pid, "the new process serves; this one stops");
                            break;
                        }
                        Ok(Err(error)) => warn!(%error, "upgrade failed; serving on"),
                        Err(error) => warn!(%error, "upgrade failed; serving on"),
                    }
                }
            }
        }
    });
    handoff::notify_stopping();
    shared.stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = stop.send(true);
    for worker in workers {
        worker.join().map_err(|_| io::Error::other("an HTTP worker thread panicked"))??;
    }
    Ok(())
}

/// Serves `listener` until `shutdown` resolves, then lets in-flight
/// responses finish (up to `limits.shutdown_grace`). `open` caps the
/// connections of every listener together.
async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    limits: Limits,
    open: Arc<Semaphore>,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // The read buffer bounds the request head: past it hyper answers 431.
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Duration::from_secs(60))
        .keep_alive_timeout(Duration::from_secs(20));
    let periods = Periods {
        first_request: limits.header_timeout,
        idle: limits.header_timeout,
        grace: limits.shutdown_grace,
    };
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    handle_accept_error(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::default());
        let handler = Handler::new(shared.clone(), peer, activity.clone());
        let io = TokioIo::new(Metered::new(stream, activity.clone()));
        let connection = builder.serve_connection(io, handler).into_owned();
        let stopped = stopped.clone();
        tokio::spawn(async move {
            let _permit = permit;
            connection::drive(connection, activity, periods, stopped, peer).await;
        });
    }
    drop(listener);
    info!("shutting down: finishing responses in flight");
    let _ = stop.send(true);
    // Every connection holds a permit until it ends: all of them back means
    // all connections (of every listener) are closed.
    let everyone = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    match tokio::time::timeout(limits.shutdown_grace + Duration::from_secs(1), open.acquire_many(everyone))
        .await
    {
        Ok(_) => info!("all connections closed"),
        Err(_) => warn!("gave up waiting for connections to close"),
    }
}

/// Like axum's: a reset peer is routine; running out of file descriptors
/// (EMFILE) is not, and retrying at once would spin, so back off.
async fn handle_accept_error(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    warn!(%error, "accept failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What a signal asks of the server.
enum Stop {
    /// SIGINT, SIGTERM: finish what is in flight and exit.
    Now,
    /// SIGUSR2: start the binary again on the same sockets, then stop.
    OnceHandedOver,
}

/// SIGINT, SIGTERM and SIGUSR2, listened for from before the server says it
/// is ready, so a supervisor's early SIGTERM is a clean stop, not a kill.
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    upgrade: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Must run inside a runtime context.
    fn register() -> io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            upgrade: signal(SignalKind::user_defined2())?,
        })
    }

    async fn recv(&mut self) -> Stop {
        tokio::select! {
            _ = self.interrupt.recv() => info!("received SIGINT"),
            _ = self.terminate.recv() => info!("received SIGTERM"),
            _ = self.upgrade.recv() => {
                info!("received SIGUSR2: starting the binary again on the same sockets");
                return Stop::OnceHandedOver;
            }
        }
        Stop::Now
    }
}

/// The sockets each worker accepts on: its own when there is one per
/// worker (bound here with `SO_REUSEPORT`, or handed over from such a
/// process), else a copy of every socket (systemd's one or two).
fn per_worker(
    listeners: Vec<std::net::TcpListener>,
    workers: usize,
) -> io::Result<Vec<Vec<std::net::TcpListener>>> {
    let workers = workers.max(1);
    if listeners.len() == workers {
        return Ok(listeners.into_iter().map(|listener| vec![listener]).collect());
    }
    (0..workers).map(|_| listeners.iter().map(std::net::TcpListener::try_clone).collect()).collect()
}
