//! What the live driver's thread is told, on its one channel: by the file
//! watcher, the WebSub notifier, the server (a damaged file, stopping). Its own module so
//! that the watcher need not know the driver.

use crate::pipeline::Changes;
use crate::snapshot::HubOutcome;

/// What the watcher and the WebSub notifier tell the live driver.
#[derive(Debug)]
pub enum Signal {
    /// Files changed; `writing`: a file is still being written in place
    /// (modified and not closed yet), so the burst is not over.
    Changed { changes: Changes, writing: bool },
    /// Events can no longer be trusted (why): fall back to polling.
    Degraded(String),
    /// A WebSub ping's outcome, for the status endpoint.
    Pinged(HubOutcome),
    /// The file in feeds/ that serves this output (its path) was changed or
    /// deleted by hand: it could not be served.
    Damaged(String),
    /// Stop: the server is shutting down.
    Stop,
}
