//! The live driver: file events and the schedule → pipeline → publisher →
//! one swap of the served snapshot.
//!
//! It runs on its own thread and owns the pipeline and the publisher, so
//! rebuilds happen one at a time and requests never wait on one: they read
//! whichever complete snapshot is in place. Between edits it sleeps until the
//! next scheduled episode is due (or forever): no polling.
//!
//! After a burst of edits settles it rebuilds and swaps at once with quick
//! compression, then, unless another edit is already waiting, compresses at
//! best, swaps again and writes feeds/.

mod repair;
mod watching;
mod wiring;
mod writing;

pub use wiring::Wiring;

use crate::clock::Clock;
use crate::diagnostic::ProblemLog;
use crate::pipeline::{Build, Changes, Pipeline};
use crate::publish::{self, Changed, PublishError, Publisher};
use crate::schedule;
use crate::signal::Signal;
use crate::snapshot::{HubOutcome, Snapshot, Status};
use crate::watch::{self, Watcher};
use crate::websub::{Announcer, Target};
use arc_swap::ArcSwap;
use jiff::Timestamp;
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};
use tracing::{error, info, warn};

/// A burst (an editor's save: a write and a rename within a millisecond; a
/// `git checkout`, an rsync) is over once no event came for this long; it
/// becomes one rebuild. The timer starts with the burst's first event, so
/// nothing ticks between edits.
const QUIET: Duration = Duration::from_millis(10);
/// ... unless it goes on for longer than this, when what came so far is
/// published and the rest follows.
const LONGEST_BURST: Duration = Duration::from_secs(1);

/// Best compression and feeds/ wait this long after a swap: the cores
/// first serve readers fetching what just changed (and the next save of a
/// quick series of edits is folded in).
const SETTLE_BEFORE_FINISHING: Duration = Duration::from_millis(100);

pub struct Live {
    pipeline: Pipeline,
    publisher: Publisher,
    snapshot: Arc<ArcSwap<Snapshot>>,
    clock: Clock,
    signals: Receiver<Signal>,
    sender: Sender<Signal>,
    /// Raised by the watcher when it sends changes: deferred work gives way.
    interrupt: Arc<AtomicBool>,
    watcher: Option<Watcher>,
    status: Status,
    next_due: Option<Timestamp>,
    /// When to rescan, when polling.
    next_poll: Option<Instant>,
    /// Each problem is logged when it appears, and its fix when it goes.
    problems: ProblemLog,
    warnings: Vec<String>,
    publishes: u64,
    /// The last attempt to write feeds/ failed (why): it is tried again
    /// at the instant given, or at the next change.
    write_failed: Option<(Instant, String)>,
    /// Pings the WebSub hub, once one is configured.
    announcer: Announcer,
    last_ping: Option<HubOutcome>,
    /// Outputs whose files in feeds/ could not be served, to write again.
    damaged: BTreeSet<String>,
    /// When each was last queued for repair.
    repaired: HashMap<String, Instant>,
    /// Where each episode file's last good bytes are kept for a restart.
    last_good: Option<Arc<crate::state::last_good::LastGood>>,
    /// Why they could not be kept, last time: tried again at each rebuild.
    last_good_failed: Option<String>,
}

/// The running driver.
pub struct Handle {
    sender: Sender<Signal>,
    thread: JoinHandle<()>,
}

impl Handle {
    /// Stops watching, writes feeds/ if it is behind, and waits for that.
    pub fn stop(self) {
        let _ = self.sender.send(Signal::Stop);
        if self.thread.join().is_err() {
            error!("the live rebuild thread panicked");
        }
    }
}

impl Live {
    /// Takes over after the first build, which `publisher` serves already.
    /// `watching` is how edits are noticed (`None`: they are not, only the
    /// schedule runs).
    /// `started` is what the first publish changed: its feeds are announced
    /// to the WebSub hub like any other change.
    pub fn new(
        wiring: Wiring,
        pipeline: Pipeline,
        publisher: Publisher,
        first: &Build,
        started: &Changed,
        clock: Clock,
        watching: Option<watch::Mode>,
    ) -> Self {
        let Wiring { snapshot, sender, signals } = wiring;
        let pings = sender.clone();
        let now = clock.now();
        let interrupt = Arc::new(AtomicBool::new(false));
        let mut live = Live {
            pipeline,
            publisher,
            snapshot,
            clock,
            signals,
            sender,
            interrupt,
            watcher: None,
            status: Status::default(),
            next_due: first.catalog.as_ref().and_then(|c| c.next_scheduled(now)),
            next_poll: None,
            problems: ProblemLog::known(&first.diagnostics),
            warnings: Vec::new(),
            publishes: 1,
            write_failed: None,
            announcer: Announcer::new(move |outcome| {
                let _ = pings.send(Signal::Pinged(outcome));
            }),
            last_ping: None,
            damaged: BTreeSet::new(),
            repaired: HashMap::new(),
            last_good: None,
            last_good_failed: None,
        };
        live.announce(first, &started.feeds);
        if let Some(mode) = watching {
            live.watch(mode);
            // Edits made between the first build and the watcher's start
            // sent no event: compare everything once.
            let _ = live.sender.send(Signal::Changed { changes: Changes::Everything, writing: false });
        }
        live.status = live.status_of(first, now);
        live.swap();
        live
    }

    pub fn spawn(self) -> io::Result<Handle> {
        let sender = self.sender.clone();
        let thread = std::thread::Builder::new().name("episodic-live".into()).spawn(move || self.run())?;
        Ok(Handle { sender, thread })
    }

    fn run(mut self) {
        loop {
            if self.publisher.pending() && self.write_failed.is_none() {
                match self.signals.recv_timeout(SETTLE_BEFORE_FINISHING) {
                    Ok(signal) => {
                        if !self.on_signal(signal) {
                            break;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => self.finish(),
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                continue;
            }
            let signal = match self.next_wakeup() {
                Some(at) => self.signals.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => self.signals.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match signal {
                Ok(signal) => {
                    if !self.on_signal(signal) {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.write_failed.as_ref().is_some_and(|(at, _)| Instant::now() >= *at) {
                        self.finish();
                    } else if self.next_poll.is_some_and(|at| Instant::now() >= at) {
                        self.rebuild(Changes::Everything, Why::Polling);
                    } else if self.next_due.is_some_and(|due| self.clock.now() >= due) {
                        self.rebuild(Changes::Paths(BTreeSet::new()), Why::Schedule);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        self.watcher = None;
        // The watcher's last event may still raise `interrupt`: the final
        // write must not be cancelled by it.
        if self.publisher.pending() {
            self.finish_with(&AtomicBool::new(false));
        }
    }

    /// Handles one signal; false means stop.
    fn on_signal(&mut self, signal: Signal) -> bool {
        let mut writing = false;
        let mut changes = match signal {
            Signal::Stop => return false,
            Signal::Damaged(path) => {
                self.note_damage(path);
                self.repair();
                return true;
            }
            Signal::Pinged(outcome) => {
                self.record_ping(outcome);
                self.swap();
                return true;
            }
            Signal::Degraded(why) => {
                self.fall_back(&why);
                Changes::Everything
            }
            Signal::Changed { changes, writing: still } => {
                writing = still;
                changes
            }
        };
        let stop = self.settle(&mut changes, writing);
        self.take_damage();
        self.rebuild(changes, Why::Edits);
        !stop
    }

    /// Folds the rest of a burst into `changes`, waiting while a file is
    /// being written in place (a half-written file is never read, however
    /// slowly its writer runs); true if told to stop.
    fn settle(&mut self, changes: &mut Changes, mut writing: bool) -> bool {
        let started = Instant::now();
        while started.elapsed() < LONGEST_BURST {
            let wait = if writing { LONGEST_BURST.saturating_sub(started.elapsed()) } else { QUIET };
            match self.signals.recv_timeout(wait) {
                Ok(Signal::Changed { changes: more, writing: still }) => {
                    changes.merge(more);
                    writing = still;
                }
                Ok(Signal::Degraded(why)) => {
                    self.fall_back(&why);
                    *changes = Changes::Everything;
                }
                Ok(Signal::Pinged(outcome)) => self.record_ping(outcome),
                Ok(Signal::Damaged(path)) => self.note_damage(path),
                Ok(Signal::Stop) => return true,
                Err(_) => break,
            }
        }
        false
    }

    fn rebuild(&mut self, changes: Changes, why: Why) {
        let started = Instant::now();
        self.interrupt.store(false, Ordering::Release);
        tracing::debug!(?changes, "rebuilding");
        let now = self.clock.now();
        let build = self.pipeline.update(&changes, now);
        let build_micros = micros_since(started);
        let publishing = Instant::now();
        let published = match self.publisher.update(&build, SystemTime::now()) {
            Ok(published) => published,
            Err(PublishError::Config) => {
                warn!("site.toml has errors and was never good: nothing can be published until it is fixed");
                Changed::default()
            }
            Err(PublishError::Emit(e)) => {
                error!(%e, "publishing failed");
                Changed::default()
            }
        };
        let changed = published.any;
        self.announce(&build, &published.feeds);
        if changed {
            self.publishes += 1;
            // Written again as soon as the edits settle.
            if let Some((at, _)) = &mut self.write_failed {
                *at = Instant::now();
            }
        }
        self.problems.update(&build.diagnostics);
        self.keep_last_good();
        self.next_due = build.catalog.as_ref().and_then(|c| c.next_scheduled(now));
        self.status = self.status_of(&build, now);
        let publish_micros = micros_since(publishing);
        self.swap();
        // Counted from the end, so that a slow rescan never runs back to back.
        if self.watcher.as_ref().is_some_and(|w| w.mode == watch::Mode::Polling) {
            self.next_poll = Some(Instant::now() + watch::POLL_INTERVAL);
        }
        let micros = micros_since(started);
        let next_due = self.next_due.map(|t| t.to_string());
        if changed || !matches!(why, Why::Polling) {
            let errors = build.error_count();
            info!(?why, changed, errors, micros, build_micros, publish_micros, next_due, "rebuilt");
        } else {
            tracing::debug!(micros, "polled: no change");
        }
    }

    /// A WebSub outcome, for the status endpoint (shown from the next swap).
    fn record_ping(&mut self, outcome: HubOutcome) {
        self.status.websub = Some(outcome.clone());
        self.last_ping = Some(outcome);
    }

    /// Tells the WebSub hub and the pings site.toml names that `feeds`
    /// changed.
    fn announce(&mut self, build: &Build, feeds: &[String]) {
        let Some(site) = build.catalog.as_ref().map(|c| &c.site) else { return };
        let hub = site.websub_hub.iter().map(|hub| Target::Hub(hub.clone()));
        for target in hub.chain(site.pings.iter().map(|ping| Target::Get(ping.clone()))) {
            self.announcer.announce(&target, feeds);
        }
    }

    /// Serves what the publisher holds, with the status of the last build
    /// and, while writing feeds/ fails, a warning saying so.
    fn swap(&self) {
        // What fails now, said at each swap until it works again.
        let failing: Vec<String> = [
            self.write_failed.as_ref().map(|(_, why)| writing::warning(why)),
            self.last_good_failed.as_deref().map(writing::last_good_warning),
        ]
        .into_iter()
        .flatten()
        .collect();
        let snapshot = if failing.is_empty() {
            self.publisher.snapshot(&self.status)
        } else {
            let mut status = self.status.clone();
            status.warnings.extend(failing);
            self.publisher.snapshot(&status)
        };
        self.snapshot.store(Arc::new(snapshot));
    }

    fn status_of(&self, build: &Build, now: Timestamp) -> Status {
        let mut status = publish::status(build, now);
        status.publishes = self.publishes;
        status.websub.clone_from(&self.last_ping);
        status.watching = self.watcher.as_ref().map_or("off", |w| w.mode.name()).to_owned();
        status.warnings.clone_from(&self.warnings);
        let carried = self.publisher.carried();
        if carried > 0 {
            status.warnings.push(format!(
                "{carried} file(s) are served as an earlier run left them in the output folder, until the errors in what makes them are fixed"
            ));
        }
        status
    }

    /// When to wake with no signal: for the next scheduled episode or the
    /// next poll.
    fn next_wakeup(&self) -> Option<Instant> {
        let due = self.next_due.map(|due| Instant::now() + schedule::sleep_until(due, self.clock.now()));
        let retry = self.write_failed.as_ref().map(|(at, _)| *at);
        [due, self.next_poll, retry].into_iter().flatten().min()
    }
}

fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Why a rebuild runs.
#[derive(Clone, Copy, Debug)]
enum Why {
    Edits,
    Schedule,
    Polling,
    /// A file in feeds/ was damaged by hand.
    Repair,
}
