//! What every connection shares: the snapshot to serve and the services
//! beside it (the clock, the audience recorder, the poll limiter).

use crate::audience::Recorder;
use crate::clock::Clock;
use crate::snapshot::Snapshot;
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// What every connection shares.
pub struct Shared {
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub admin_token: Option<String>,
    pub clock: Clock,
    /// Told the output path of a file in feeds/ that could not be served.
    pub report_damage: Box<dyn Fn(&str) + Send + Sync>,
    /// Set when the server starts to stop: HTTP/1 responses then say
    /// `Connection: close`, so no connection is closed under a request.
    pub stopping: AtomicBool,
    /// Counts subscribers and reads; `None` when nothing is counted.
    pub recorder: Option<Recorder>,
    /// Remembers who polls which feed how often, when `poll_limit` is on.
    pub limiter: super::limit::Limiter,
}
