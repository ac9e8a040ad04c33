//! The audience's one thread: every 100 ms it takes what the handlers
//! queued (without a wake-up per request), classifies it and keeps only
//! what is new today; each second it commits that in one transaction.
//!
//! Two caches keep a busy server's repeated polls off the database: each
//! User-Agent's class, and which reader already counted for what today.
//! Both are bounded; past the bound the database alone decides.

use super::agents::{self, Agent};
use super::{Hit, Message, Shared, Subject, report, rfc3339, store, subject};
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

/// How often the queue is drained.
const DRAIN: Duration = Duration::from_millis(100);
/// How often counts are committed: a kill loses at most this.
const COMMIT: Duration = Duration::from_secs(1);
/// User-Agents whose class is remembered.
const AGENTS: usize = 4_096;
/// (subject, reader) pairs remembered as counted today: 16 bytes each.
const SEEN: usize = 262_144;

/// A change for the next commit.
enum Pending {
    See {
        subject: String,
        client: [u8; 32],
    },
    Report {
        series: String,
        feed: &'static str,
        aggregator: &'static str,
        feed_id: Option<String>,
        count: u64,
    },
    Silent {
        series: String,
        service: &'static str,
    },
}

pub(super) struct Writer {
    shared: Arc<Shared>,
    db: Option<Connection>,
    /// The day being counted (the site's, YYYY-MM-DD) and its salt.
    day: Option<(String, [u8; 32])>,
    agents: HashMap<Box<[u8]>, Agent>,
    seen: HashSet<[u8; 16]>,
    pending: Vec<Pending>,
    /// Flushes asked for, answered after the next commit.
    flushes: Vec<SyncSender<()>>,
    /// Why the last commit failed, until one works.
    failed: Option<String>,
    /// The day of the last commit (that day's end comes with the next).
    committed: Option<String>,
    /// Today's subjects past [`store::EXACT`] readers (see `store`).
    sketches: HashMap<String, store::Sketch>,
}

impl Writer {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Writer {
            shared,
            db: None,
            day: None,
            agents: HashMap::new(),
            seen: HashSet::new(),
            pending: Vec::new(),
            flushes: Vec::new(),
            failed: None,
            committed: None,
            sketches: HashMap::new(),
        }
    }

    pub(super) fn run(mut self, queue: &Receiver<Message>) {
        let mut next_commit = Instant::now();
        loop {
            let mut open = true;
            // The day (and its salt) once per drain, not per hit.
            let today = self.today();
            loop {
                match queue.try_recv() {
                    Ok(Message::Hit(hit)) => self.take(&hit, &today),
                    Ok(Message::Flush(done)) => self.flushes.push(done),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            if !open || !self.flushes.is_empty() || Instant::now() >= next_commit {
                self.commit();
                for done in self.flushes.drain(..) {
                    let _ = done.send(());
                }
                next_commit = Instant::now() + COMMIT;
            }
            if !open {
                return;
            }
            // A bounded pause, not a wait per message: the handlers never
            // wake this thread.
            std::thread::park_timeout(DRAIN);
        }
    }

    /// Today, starting a new day (its salt, nothing seen) when it changed.
    fn today(&mut self) -> Result<(String, [u8; 32]), String> {
        let today = self.shared.today().to_string();
        if let Some((day, salt)) = &self.day
            && *day == today
        {
            return Ok((day.clone(), *salt));
        }
        let db = self.open()?;
        let salt = store::salt(db, &today).map_err(|e| e.to_string())?;
        let sketches = store::sketches(db, &today).map_err(|e| e.to_string())?;
        self.sketches = sketches.into_iter().collect();
        self.seen.clear();
        self.day = Some((today.clone(), salt));
        Ok((today, salt))
    }

    fn open(&mut self) -> Result<&mut Connection, String> {
        if self.db.is_none() {
            self.db = Some(crate::state::open(&self.shared.state)?);
        }
        self.db.as_mut().ok_or_else(|| "no database".to_owned())
    }

    fn classify(&mut self, user_agent: Option<&[u8]>) -> Agent {
        let Some(bytes) = user_agent else { return agents::classify(None) };
        if let Some(agent) = self.agents.get(bytes) {
            return agent.clone();
        }
        let agent = agents::classify(Some(bytes));
        if self.agents.len() >= AGENTS {
            self.agents.clear();
        }
        self.agents.insert(bytes.into(), agent.clone());
        agent
    }

    /// Classifies one hit and keeps what it changes for the next commit.
    /// `today` is the day and its salt, or why there are none.
    fn take(&mut self, hit: &Hit, today: &Result<(String, [u8; 32]), String>) {
        let snapshot = self.shared.snapshot.load();
        let Some(subject) = subject(&hit.path, &snapshot.base_path) else { return };
        let agent = self.classify(hit.user_agent.as_deref());
        let person = matches!(agent, Agent::Person) && hit.get && !hit.author;
        let subjects: Vec<String> = match (&subject, agent) {
            (
                Subject::Feed { series, feed },
                Agent::Reporting { aggregator, feed_id, count: Some(count) },
            ) => {
                let feed = super::FEEDS.iter().find(|f| *f == feed).copied().unwrap_or("rss.xml");
                let series = (*series).to_owned();
                self.pending.push(Pending::Report { series, feed, aggregator, feed_id, count });
                return;
            }
            (Subject::Feed { series, .. }, Agent::Silent(service)) => {
                self.pending.push(Pending::Silent { series: (*series).to_owned(), service });
                return;
            }
            (Subject::Feed { series, feed }, _) if person => {
                vec![format!("s:{series}"), format!("f:{series}/{feed}")]
            }
            (Subject::Episode { series, number }, _) if person && !hit.prefetch => {
                vec![format!("r:{series}/{number}")]
            }
            _ => return,
        };
        let salt = match today {
            Ok((_, salt)) => salt,
            Err(why) => {
                self.failed = Some(why.clone());
                return;
            }
        };
        let client = super::reader(salt, hit.client, hit.user_agent.as_deref().unwrap_or_default());
        for subject in subjects {
            let mut pair = blake3::Hasher::new();
            pair.update(subject.as_bytes()).update(&client);
            let key: [u8; 16] = pair.finalize().as_bytes()[..16].try_into().unwrap_or_default();
            if self.seen.contains(&key) {
                continue;
            }
            if self.seen.len() < SEEN {
                self.seen.insert(key);
            }
            self.pending.push(Pending::See { subject, client });
        }
    }

    /// Writes what is pending and ends past days, in one transaction;
    /// then refreshes the summary. A failure drops what was pending and
    /// says why at the status endpoint; serving goes on.
    fn commit(&mut self) {
        let now = self.shared.clock.now();
        let today = self.shared.today();
        let week_start = today.checked_sub(jiff::Span::new().days(6)).unwrap_or(today).to_string();
        // Nothing new, and this day's summary made: nothing to do.
        let fresh = self.committed.as_deref() == Some(today.to_string().as_str());
        if self.pending.is_empty() && fresh && self.failed.is_none() {
            return;
        }
        let outcome = self.today().and_then(|(day, _)| {
            let pending = std::mem::take(&mut self.pending);
            let sketches = std::mem::take(&mut self.sketches);
            let db = self.open()?;
            let mut sketches = sketches;
            let written = write(db, &pending, &day, &week_start, &mut sketches).map_err(|e| e.to_string());
            self.sketches = sketches;
            written
        });
        let series = self.shared.snapshot.load().serving.series.clone();
        let mut summary = match outcome.and_then(|()| {
            let db = self.open()?;
            report::audience(db, &week_start, &series).map_err(|e| e.to_string())
        }) {
            Ok(summary) => {
                self.failed = None;
                self.committed = Some(today.to_string());
                summary
            }
            Err(why) => {
                if self.failed.as_ref() != Some(&why) {
                    tracing::warn!(%why, "the audience counts could not be written; serving goes on");
                }
                self.failed = Some(why.clone());
                self.db = None;
                self.day = None;
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
}

fn write(
    db: &mut Connection,
    pending: &[Pending],
    day: &str,
    week_start: &str,
    sketches: &mut HashMap<String, store::Sketch>,
) -> rusqlite::Result<()> {
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    store::forget_before(&tx, day, week_start)?;
    let mut sketched = HashSet::new();
    for change in pending {
        match change {
            Pending::See { subject, client } => {
                if let Some(sketch) = sketches.get_mut(subject) {
                    store::sketch_add(sketch, client);
                    sketched.insert(subject.as_str());
                } else if store::see(&tx, day, subject, client)? && store::is_full(&tx, day, subject)? {
                    sketches.insert(subject.clone(), store::to_sketch(&tx, day, subject)?);
                    sketched.insert(subject.as_str());
                }
            }
            Pending::Report { series, feed, aggregator, feed_id, count } => {
                let report =
                    store::Report { series, feed, aggregator, feed_id: feed_id.as_deref(), count: *count };
                store::report(&tx, day, week_start, &report)?;
            }
            Pending::Silent { series, service } => store::silent(&tx, day, series, service)?,
        }
    }
    for subject in sketched {
        if let Some(sketch) = sketches.get(subject) {
            store::save_sketch(&tx, day, subject, sketch)?;
        }
    }
    store::note_reported(&tx, day, week_start)?;
    tx.commit()
}
