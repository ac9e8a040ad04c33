//! Who follows and who reads, counted from the requests we serve: no
//! cookies, no scripts, no raw address or reader's User-Agent kept.
//!
//! The handler only `record`s a small [`Hit`] into a bounded channel (when
//! it is full the hit is dropped and counted, never waited for); one
//! thread (`writer`) classifies them (`agents`) and commits each second
//! (`store`), then refreshes the summary `/_episodic/status` shows
//! (`report`).

pub mod agents;
pub mod report;
pub mod stats;
mod store;
mod writer;

use crate::clock::Clock;
use crate::snapshot::Snapshot;
use arc_swap::ArcSwap;
use jiff::Timestamp;
use rusqlite::Connection;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Hits waiting for the writer, which drains them every 100 ms: past
/// this they are dropped (and counted).
const QUEUE: usize = 16_384;
/// The feeds a series' subscribers poll.
pub const FEEDS: [&str; 3] = ["rss.xml", "atom.xml", "feed.json"];

/// One answered request that may count.
pub struct Hit {
    pub path: Box<str>,
    pub status: u16,
    pub client: IpAddr,
    /// The User-Agent's bytes, copied (a clone of the header would keep
    /// the whole request buffer alive, and free it on the writer's thread);
    /// `None` when there is none or it is too long to be real.
    pub user_agent: Option<Box<[u8]>>,
    /// GET (a HEAD reads nothing).
    pub get: bool,
    /// `Sec-Purpose: prefetch`: the browser may never show it.
    pub prefetch: bool,
    /// The author: loopback without a proxy, or the admin token.
    pub author: bool,
    /// Of everything above but the status, and the second it came (see
    /// [`is_repeat`]).
    pub fingerprint: (u64, i64),
}

/// The hits this thread queued lately, by fingerprint: 16 KiB.
const RECENT: usize = 1024;

thread_local! {
    static QUEUED: std::cell::RefCell<Vec<(u64, i64)>> = std::cell::RefCell::new(vec![(0, i64::MIN); RECENT]);
}

/// Whether this thread queued a hit with this fingerprint in the same
/// second. Such a hit changes no count (each is per reader and day, or
/// the latest value a reader states), so it is not queued again: a busy
/// poller costs the recorder nothing.
pub fn is_repeat(fingerprint: (u64, i64)) -> bool {
    QUEUED.with_borrow(|queued| queued[slot(fingerprint.0)] == fingerprint)
}

fn slot(fingerprint: u64) -> usize {
    usize::try_from(fingerprint % RECENT as u64).unwrap_or(0)
}

/// Whether a request for `path` (as sent) answered `status` may count: a
/// series feed or an episode page, answered 200 or 304.
pub fn worth_recording(path: &str, status: u16) -> bool {
    (status == 200 || status == 304) && (path.ends_with('/') || FEEDS.iter().any(|feed| path.ends_with(feed)))
}

/// What a path names, under the site's base path.
#[derive(Debug, PartialEq, Eq)]
enum Subject<'a> {
    Feed { series: &'a str, feed: &'a str },
    Episode { series: &'a str, number: u32 },
}

fn subject<'a>(path: &'a str, base_path: &str) -> Option<Subject<'a>> {
    let rest = path.strip_prefix(base_path)?;
    if let Some(episode) = rest.strip_suffix('/') {
        let (series, number) = episode.split_once('/')?;
        let number = number
            .parse()
            .ok()
            .filter(|_| !series.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))?;
        return Some(Subject::Episode { series, number });
    }
    let (series, feed) = rest.split_once('/')?;
    (!series.is_empty() && FEEDS.contains(&feed)).then_some(Subject::Feed { series, feed })
}

/// What the writer thread is sent.
pub(crate) enum Message {
    Hit(Hit),
    /// Commit now, then say so (a stopping server).
    Flush(SyncSender<()>),
}

/// The handler's end: cheap to share, never blocks.
pub struct Recorder {
    sender: SyncSender<Message>,
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    dropped: AtomicU64,
    /// The summary as of the last commit.
    summary: ArcSwap<report::Audience>,
    /// For the stats page's history (read only).
    reader: Mutex<Option<Connection>>,
    state: PathBuf,
    snapshot: Arc<ArcSwap<Snapshot>>,
    clock: Clock,
}

impl Shared {
    /// Today in the site's zone.
    fn today(&self) -> jiff::civil::Date {
        self.clock.now().to_zoned_datetime(self.snapshot.load().serving.zone.clone()).date()
    }
}

impl Recorder {
    /// Starts the writer thread on the database in `state`.
    pub fn start(state: &Path, snapshot: Arc<ArcSwap<Snapshot>>, clock: Clock) -> std::io::Result<Recorder> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(QUEUE);
        let shared = Arc::new(Shared {
            dropped: AtomicU64::new(0),
            summary: ArcSwap::from_pointee(report::Audience::default()),
            reader: Mutex::new(None),
            state: state.to_path_buf(),
            snapshot,
            clock,
        });
        let writer = writer::Writer::new(shared.clone());
        std::thread::Builder::new().name("episodic-audience".into()).spawn(move || writer.run(&receiver))?;
        Ok(Recorder { sender, shared })
    }

    /// Hands `hit` to the writer, or drops and counts it when it is behind.
    pub fn record(&self, hit: Hit) {
        let fingerprint = hit.fingerprint;
        match self.sender.try_send(Message::Hit(hit)) {
            Ok(()) => QUEUED.with_borrow_mut(|queued| queued[slot(fingerprint.0)] = fingerprint),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Commits what was recorded so far, waiting for it (at most `limit`):
    /// a server that stops loses no count.
    pub fn flush(&self, limit: Duration) {
        let (done, flushed) = std::sync::mpsc::sync_channel(1);
        if self.sender.send(Message::Flush(done)).is_ok() {
            let _ = flushed.recv_timeout(limit);
        }
    }

    /// Today in the site's zone: the day being counted.
    pub fn today(&self) -> jiff::civil::Date {
        self.shared.today()
    }

    /// The summary for `/_episodic/status`.
    pub fn summary(&self) -> Arc<report::Audience> {
        self.shared.summary.load_full()
    }

    /// The day-by-day history since `since` (YYYY-MM-DD), for the stats page.
    pub fn history(&self, since: &str) -> Result<report::History, String> {
        let mut reader = self.shared.reader.lock().unwrap_or_else(|e| e.into_inner());
        if reader.is_none() {
            *reader = Some(crate::state::open(&self.shared.state)?);
        }
        let db = reader.as_ref().ok_or("no database")?;
        report::history(db, since).map_err(|e| e.to_string())
    }
}

/// A reader, as a keyed hash: its address (an IPv6 one by its /64, which
/// one household or phone keeps) and User-Agent. The audience keys it with
/// the day's salt; the poll limiter with its own key.
pub fn reader(key: &[u8; 32], address: IpAddr, user_agent: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_keyed(key);
    match address.to_canonical() {
        IpAddr::V4(v4) => hasher.update(&v4.octets()),
        IpAddr::V6(v6) => hasher.update(&v6.octets()[..8]),
    };
    hasher.update(&[0xff]).update(user_agent);
    *hasher.finalize().as_bytes()
}

fn rfc3339(at: Timestamp) -> String {
    at.round(jiff::Unit::Second).unwrap_or(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::{Subject, subject, worth_recording};

    #[test]
    fn feeds_and_episode_pages_are_subjects_under_the_base_path() {
        assert_eq!(subject("/s/rss.xml", "/"), Some(Subject::Feed { series: "s", feed: "rss.xml" }));
        assert_eq!(
            subject("/blog/s/feed.json", "/blog/"),
            Some(Subject::Feed { series: "s", feed: "feed.json" })
        );
        assert_eq!(subject("/s/12/", "/"), Some(Subject::Episode { series: "s", number: 12 }));
        for other in ["/rss.xml", "/s/", "/s/archive/1/", "/s/+1/", "/s/page/rss.xml", "/other/s/1/", "/"] {
            assert_eq!(subject(other, "/"), None, "{other}");
        }
        assert_eq!(subject("/s/1/", "/blog/"), None);
        assert!(
            worth_recording("/s/1/", 304)
                && !worth_recording("/s/1/", 404)
                && !worth_recording("/s/cover.png", 200)
        );
    }
}
