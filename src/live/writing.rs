//! Writing feeds/ once edits pause, after the best compression; and when
//! that fails (a full disk), serving from memory, saying so on the status
//! page, and trying again until it works.

use super::Live;
use crate::state::last_good::LastGood;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tracing::{debug, error, info, warn};

/// How long after a failed write of feeds/ it is tried again.
pub(super) const WRITE_RETRY: Duration = Duration::from_secs(5);

/// The status page's word on a failed write of feeds/ (added at each swap
/// while it fails).
pub(super) fn warning(why: &str) -> String {
    format!(
        "writing the output folder failed ({why}); serving from memory and trying again every {} s",
        WRITE_RETRY.as_secs()
    )
}

impl Live {
    /// Best compression and feeds/, unless an edit interrupts.
    pub(super) fn finish(&mut self) {
        let interrupt = self.interrupt.clone();
        self.finish_with(&interrupt);
    }

    pub(super) fn finish_with(&mut self, interrupt: &AtomicBool) {
        let started = Instant::now();
        if !self.publisher.improve(interrupt) {
            return;
        }
        // Served before written: a reader who sees a file in feeds/ gets
        // the same bytes from the server.
        self.swap();
        if interrupt.load(Ordering::Acquire) {
            return;
        }
        match self.publisher.write() {
            Ok(_) => {
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                info!(micros, "compressed and wrote the feeds");
                if self.write_failed.take().is_some() {
                    info!("the feeds folder is written again");
                    self.swap();
                }
            }
            Err(e) => self.write_failed(e.to_string()),
        }
    }

    /// Writing feeds/ failed (`why`): serve from memory, say so on the
    /// status page, and try again in a while.
    pub fn write_failed(&mut self, why: String) {
        if self.write_failed.is_none() {
            error!(%why, "writing the feeds folder failed; still serving from memory, trying again every {WRITE_RETRY:?}");
        }
        self.write_failed = Some((Instant::now() + WRITE_RETRY, why));
        self.swap();
    }

    /// Keeps episode files' last good bytes in `store` from now on (`Err`:
    /// they cannot be, and why), so that a restart serves a file broken
    /// meanwhile as it was (see `state::last_good`).
    pub fn keep_last_good_in(&mut self, store: Result<Arc<LastGood>, String>) {
        match store {
            Ok(store) => self.last_good = Some(store),
            Err(why) => self.last_good_failing(why),
        }
    }

    /// Keeps the bytes of the episode files that changed since last time.
    pub fn keep_last_good(&mut self) {
        let Some(store) = &self.last_good else { return };
        let started = Instant::now();
        match store.keep(&self.pipeline.standing()) {
            Ok(kept) => {
                if kept > 0 {
                    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                    debug!(kept, micros, "kept the last good version of episode files");
                }
                if self.last_good_failed.take().is_some() {
                    info!("the state database keeps the episodes' last good versions again");
                    self.swap();
                }
            }
            Err(e) => self.last_good_failing(e.to_string()),
        }
    }

    fn last_good_failing(&mut self, why: String) {
        if self.last_good_failed.as_ref() != Some(&why) {
            warn!(%why, "{}", last_good_warning(&why));
            self.last_good_failed = Some(why);
            self.swap();
        }
    }
}

/// The status page's word on a state database that cannot be used.
pub(super) fn last_good_warning(why: &str) -> String {
    format!(
        "the state database cannot keep the episodes' last good versions ({why}): a restart would leave out an episode whose file has errors until it is fixed"
    )
}
