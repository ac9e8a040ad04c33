//! Writing feeds/ once edits pause, after the best compression; and when
//! that fails (a full disk), serving from memory, saying so on the status
//! page, and trying again until it works.

use super::Live;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

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

    /// Keeps the episodes served from their last good version (their files
    /// broken) beside feeds/, whenever which ones they are changes, so a
    /// restart serves them too (see `emit::held`).
    pub fn keep_held(&mut self) {
        let held = self.pipeline.held_back();
        let mut paths: Vec<PathBuf> = held.iter().map(|h| h.path.clone()).collect();
        paths.sort();
        if self.held.as_ref() == Some(&paths) {
            return;
        }
        match crate::emit::held::write(self.publisher.out(), &held) {
            Ok(()) => self.held = Some(paths),
            Err(e) => {
                warn!(%e, "cannot keep the episodes whose files are broken beside the feeds: a restart would leave them out until fixed")
            }
        }
    }
}
