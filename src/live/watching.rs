//! How the live driver hears of edits: starting the watcher, and falling
//! back to polling when events can no longer be trusted.

use super::Live;
use crate::watch;
use std::time::Instant;
use tracing::{error, info, warn};

impl Live {
    pub(super) fn watch(&mut self, mode: watch::Mode) {
        let content = self.pipeline.content().to_path_buf();
        let templates = self.pipeline.templates().to_path_buf();
        match watch::start(&content, &templates, mode, self.sender.clone(), self.interrupt.clone()) {
            Ok(watcher) => {
                info!(mode = watcher.mode.name(), content = %content.display(), "watching for edits");
                if watcher.mode == watch::Mode::Polling {
                    self.next_poll = Some(Instant::now() + watch::POLL_INTERVAL);
                }
                self.watcher = Some(watcher);
            }
            Err(e) => {
                let why =
                    format!("cannot watch {} ({e}): edits are not seen until a restart", content.display());
                error!("{why}");
                self.warnings.push(why);
            }
        }
    }

    /// Events cannot be trusted any more: poll instead.
    pub(super) fn fall_back(&mut self, why: &str) {
        let warning = format!(
            "{why}; reading everything again and polling for edits every {} s",
            watch::POLL_INTERVAL.as_secs()
        );
        warn!("{warning}");
        self.warnings.push(warning);
        if self.watcher.as_ref().is_some_and(|w| w.mode != watch::Mode::Polling) {
            self.watcher = None;
            self.watch(watch::Mode::Polling);
        }
    }
}
