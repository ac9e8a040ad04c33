//! Who follows and who reads, counted from the requests we serve: no
//! cookies, no scripts, no raw address or reader's User-Agent kept.
//!
//! The handler only `record`s a small [`Hit`] into a bounded channel (when
//! it is full the hit is dropped and counted, never waited for); one
//! thread classifies them (`agents`) and commits each second (`store`),
//! then refreshes the summary `/_episodic/status` shows (`report`).

pub mod agents;
pub mod report;
pub mod stats;
mod store;

use crate::clock::Clock;
use crate::snapshot::Snapshot;
use agents::Agent;
use arc_swap::ArcSwap;
use hyper::header::HeaderValue;
use jiff::Timestamp;
use rusqlite::Connection;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Hits waiting for the writer: a second of a busy server's feeds and
/// pages; past it they are dropped (and counted).
const QUEUE: usize = 16_384;
/// How often counts are committed: a kill loses at most this.
const TICK: Duration = Duration::from_secs(1);
/// The feeds a series' subscribers poll.
pub const FEEDS: [&str; 3] = ["rss.xml", "atom.xml", "feed.json"];

/// One answered request that may count.
pub struct Hit {
    pub path: Box<str>,
    pub status: u16,
    pub client: IpAddr,
    pub user_agent: Option<HeaderValue>,
    /// GET (a HEAD reads nothing).
    pub get: bool,
    /// `Sec-Purpose: prefetch`: the browser may never show it.
    pub prefetch: bool,
    /// The author: loopback without a proxy, or the admin token.
    pub author: bool,
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
enum Message {
    Hit(Hit),
    /// Commit now, then say so (a stopping server).
    Flush(SyncSender<()>),
}

/// The handler's end: cheap to share, never blocks.
pub struct Recorder {
    sender: SyncSender<Message>,
    shared: Arc<Shared>,
}

struct Shared {
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
        let writer = Writer { shared: shared.clone(), db: None, day: String::new() };
        std::thread::Builder::new().name("episodic-audience".into()).spawn(move || writer.run(&receiver))?;
        Ok(Recorder { sender, shared })
    }

    /// Hands `hit` to the writer, or drops and counts it when it is behind.
    pub fn record(&self, hit: Hit) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.sender.try_send(Message::Hit(hit))
        {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
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

struct Writer {
    shared: Arc<Shared>,
    db: Option<Connection>,
    /// The day of the last commit.
    day: String,
}

impl Writer {
    fn run(mut self, hits: &Receiver<Message>) {
        let mut batch = Vec::new();
        let mut next = Instant::now();
        loop {
            match hits.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Ok(Message::Hit(hit)) => batch.push(hit),
                Ok(Message::Flush(done)) => {
                    self.commit(std::mem::take(&mut batch));
                    let _ = done.send(());
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.commit(std::mem::take(&mut batch));
                    next = Instant::now() + TICK;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.commit(batch);
                    return;
                }
            }
        }
    }

    /// Counts `batch` and ends past days, in one transaction; then
    /// refreshes the summary. A failure drops the batch and says why.
    fn commit(&mut self, batch: Vec<Hit>) {
        let snapshot = self.shared.snapshot.load_full();
        let now = self.shared.clock.now();
        let today = now.to_zoned_datetime(snapshot.serving.zone.clone()).date();
        let week_start = today.checked_sub(jiff::Span::new().days(6)).unwrap_or(today).to_string();
        let today = today.to_string();
        if batch.is_empty() && today == self.day && self.db.is_some() {
            return;
        }
        let outcome = self.write(&batch, &snapshot.base_path, &today, &week_start);
        let mut summary = match outcome {
            Ok(()) => {
                self.day = today;
                let db = self.db.as_ref().expect("written through it");
                report::audience(db, &week_start, &snapshot.serving.series).unwrap_or_else(|e| {
                    report::Audience {
                        recorder: report::Recorder { error: Some(e.to_string()), ..Default::default() },
                        ..Default::default()
                    }
                })
            }
            Err(why) => {
                tracing::warn!(%why, "the audience counts could not be written; serving goes on");
                self.db = None;
                let previous = self.shared.summary.load();
                report::Audience {
                    recorder: report::Recorder {
                        last_commit: previous.recorder.last_commit.clone(),
                        error: Some(why),
                        ..Default::default()
                    },
                    ..Default::default()
                }
            }
        };
        if summary.recorder.error.is_none() {
            summary.recorder.last_commit = Some(rfc3339(now));
        }
        summary.recorder.dropped = self.shared.dropped.load(Ordering::Relaxed);
        self.shared.summary.store(Arc::new(summary));
    }

    fn write(&mut self, batch: &[Hit], base_path: &str, today: &str, week_start: &str) -> Result<(), String> {
        if self.db.is_none() {
            self.db = Some(crate::state::open(&self.shared.state)?);
        }
        let db = self.db.as_mut().expect("just opened");
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| e.to_string())?;
        store::forget_before(&tx, today, week_start).map_err(|e| e.to_string())?;
        let mut salt = None;
        for hit in batch {
            count(&tx, hit, base_path, today, week_start, &mut salt).map_err(|e| e.to_string())?;
        }
        store::note_reported(&tx, today, week_start).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())
    }
}

/// Counts one hit on `day`.
fn count(
    tx: &rusqlite::Transaction<'_>,
    hit: &Hit,
    base_path: &str,
    day: &str,
    week_start: &str,
    salt: &mut Option<[u8; 32]>,
) -> rusqlite::Result<()> {
    let Some(subject) = subject(&hit.path, base_path) else { return Ok(()) };
    let agent = agents::classify(hit.user_agent.as_ref().map(HeaderValue::as_bytes));
    let mut client = |tx: &rusqlite::Transaction<'_>| -> rusqlite::Result<[u8; 32]> {
        let salt = match salt {
            Some(salt) => *salt,
            None => *salt.insert(store::salt(tx, day)?),
        };
        Ok(client_hash(&salt, hit.client, hit.user_agent.as_ref().map_or(&[][..], HeaderValue::as_bytes)))
    };
    match (subject, agent) {
        (Subject::Feed { series, feed }, Agent::Reporting { aggregator, feed_id, count: Some(count) }) => {
            let report = store::Report { series, feed, aggregator, feed_id: feed_id.as_deref(), count };
            store::report(tx, day, week_start, &report)
        }
        (Subject::Feed { series, .. }, Agent::Silent(service)) => store::silent(tx, day, series, service),
        (Subject::Feed { series, feed }, Agent::Person) if hit.get && !hit.author => {
            let client = client(tx)?;
            store::see(tx, day, &format!("s:{series}"), &client)?;
            store::see(tx, day, &format!("f:{series}/{feed}"), &client).map(drop)
        }
        (Subject::Episode { series, number }, Agent::Person) if hit.get && !hit.prefetch && !hit.author => {
            let client = client(tx)?;
            store::see(tx, day, &format!("r:{series}/{number}"), &client).map(drop)
        }
        _ => Ok(()),
    }
}

/// A client, for the day: its address (an IPv6 one by its /64, which one
/// household or phone keeps) and User-Agent, hashed with the day's salt.
fn client_hash(salt: &[u8; 32], address: IpAddr, user_agent: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_keyed(salt);
    match address.to_canonical() {
        IpAddr::V4(v4) => hasher.update(&v4.octets()),
        IpAddr::V6(v6) => hasher.update(&v6.octets()[..8]),
    };
    hasher.update(&[0xff]);
    hasher.update(user_agent);
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
