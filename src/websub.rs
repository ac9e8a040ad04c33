//! WebSub publishing (W3C Recommendation, §7): after a feed's bytes change,
//! tell the hub `hub.mode=publish&hub.url=<feed>`, so subscribers hear of a
//! new episode the minute it is out instead of at their next poll.
//!
//! The same thread fetches the site's `pings` (a GET to each address with
//! `{feed}` replaced by the feed's URL, encoded): the Podcast Index's
//! pubnotify works so.
//!
//! Runs on its own thread, off the request path and off the rebuild: the
//! live driver hands it the changed feeds and goes on. A failed ping (a
//! network error or a non-2xx answer) is tried again after 1, 2, 4, 8 and
//! 16 s, then given up and logged. A feed that changes again while its ping
//! waits is pinged once. Each outcome goes back to the driver for the status
//! endpoint. Idle, the thread sleeps on its channel.

use crate::snapshot::HubOutcome as Outcome;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};
use tracing::{error, info, warn};
use url::Url;

/// Attempts per ping, the first included.
const ATTEMPTS: u32 = 6;
const FIRST_RETRY: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(10);

/// Whom to tell that a feed changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A WebSub hub: `POST hub.mode=publish&hub.url=<feed>`.
    Hub(Url),
    /// `GET` this address with `{feed}` replaced by the feed's URL.
    Get(String),
}

impl Target {
    fn shown(&self) -> String {
        match self {
            Target::Hub(hub) => hub.to_string(),
            Target::Get(template) => template.clone(),
        }
    }
}

/// Hands changed feeds to the pinging thread.
pub struct Notifier {
    sender: Sender<(Target, Vec<String>)>,
}

impl Notifier {
    /// Starts the thread; outcomes are passed to `report`.
    pub fn start(report: impl Fn(Outcome) + Send + 'static) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new().name("episodic-websub".into()).spawn(move || run(&receiver, &report))?;
        Ok(Notifier { sender })
    }

    /// Tells `target` of each of `feeds` (absolute URLs).
    pub fn publish(&self, target: &Target, feeds: Vec<String>) {
        if !feeds.is_empty() {
            let _ = self.sender.send((target.clone(), feeds));
        }
    }
}

/// Starts the pinging thread the first time there is something to announce:
/// a site without a hub never has one.
pub struct Announcer {
    notifier: Option<Notifier>,
    /// Where outcomes go; handed to the thread when it starts.
    report: Option<Box<dyn Fn(Outcome) + Send>>,
}

impl Announcer {
    pub fn new(report: impl Fn(Outcome) + Send + 'static) -> Self {
        Announcer { notifier: None, report: Some(Box::new(report)) }
    }

    /// Tells `target` that `feeds` changed.
    pub fn announce(&mut self, target: &Target, feeds: &[String]) {
        if feeds.is_empty() {
            return;
        }
        if let Some(report) = self.report.take() {
            match Notifier::start(report) {
                Ok(notifier) => self.notifier = Some(notifier),
                Err(e) => error!(%e, "cannot start the WebSub thread; the hub is not told of changes"),
            }
        }
        if let Some(notifier) = &self.notifier {
            notifier.publish(target, feeds.to_vec());
        }
    }
}

struct Pending {
    hub: Target,
    feed: String,
    attempt: u32,
    due: Instant,
}

fn run(receiver: &Receiver<(Target, Vec<String>)>, report: &dyn Fn(Outcome)) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let mut pending: Vec<Pending> = Vec::new();
    loop {
        let next = pending.iter().map(|p| p.due).min();
        let received = match next {
            Some(due) => receiver.recv_timeout(due.saturating_duration_since(Instant::now())),
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok((hub, feeds)) => {
                for feed in feeds {
                    // Changed again while waiting: one ping covers both.
                    pending.retain(|p| !(p.feed == feed && p.hub == hub));
                    pending.push(Pending { hub: hub.clone(), feed, attempt: 0, due: Instant::now() });
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let now = Instant::now();
        let (due, later): (Vec<Pending>, Vec<Pending>) = pending.drain(..).partition(|p| p.due <= now);
        pending = later;
        for mut ping in due {
            let (ok, detail) = match ping_once(&agent, &ping.hub, &ping.feed) {
                Ok(status) => ((200..300).contains(&status), format!("HTTP {status}")),
                Err(e) => (false, e.to_string()),
            };
            ping.attempt += 1;
            let result = if ok {
                info!(hub = %ping.hub.shown(), feed = %ping.feed, %detail, "WebSub hub told");
                "ok"
            } else if ping.attempt < ATTEMPTS {
                let wait = FIRST_RETRY * 2u32.pow(ping.attempt - 1);
                warn!(hub = %ping.hub.shown(), feed = %ping.feed, %detail, retry_in = ?wait, "WebSub ping failed");
                ping.due = Instant::now() + wait;
                "retrying"
            } else {
                error!(hub = %ping.hub.shown(), feed = %ping.feed, %detail, attempts = ATTEMPTS, "WebSub ping failed; giving up");
                "failed"
            };
            let at = jiff::Timestamp::now();
            let at = jiff::Timestamp::from_second(at.as_second()).unwrap_or(at).to_string();
            report(Outcome { hub: ping.hub.shown(), feed: ping.feed.clone(), result, detail, at });
            if result == "retrying" {
                pending.push(ping);
            }
        }
    }
}

fn ping_once(agent: &ureq::Agent, target: &Target, feed: &str) -> Result<u16, ureq::Error> {
    let response = match target {
        Target::Hub(hub) => {
            agent.post(hub.as_str()).send_form([("hub.mode", "publish"), ("hub.url", feed)])?
        }
        Target::Get(template) => {
            let encoded: String = url::form_urlencoded::byte_serialize(feed.as_bytes()).collect();
            agent.get(&template.replace("{feed}", &encoded)).call()?
        }
    };
    Ok(response.status().as_u16())
}
