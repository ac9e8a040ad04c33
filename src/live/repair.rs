//! Files in feeds/ changed or deleted by hand: the server found one it
//! could not serve (it answered 503), so it renders everything again and
//! writes that file back, with the same bytes and validators as before.

use super::{Live, Why};
use crate::pipeline::Changes;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tracing::warn;

/// A file repaired this recently and damaged again is left alone: whoever
/// keeps changing it would otherwise make the server render the whole site
/// over and over.
const REPAIR_AGAIN_AFTER: Duration = Duration::from_secs(60);

impl Live {
    /// Queues `path` for the next rebuild, unless it was just repaired.
    pub(super) fn note_damage(&mut self, path: String) {
        let now = Instant::now();
        self.repaired.retain(|_, at| now.duration_since(*at) < REPAIR_AGAIN_AFTER);
        if self.repaired.contains_key(&path)
            || self.damaged.contains(&path)
            || !self.publisher.is_damaged(&path)
        {
            return;
        }
        self.damaged.insert(path.clone());
        warn!(path, "a file in the output folder was changed or deleted outside episodic; writing it again");
        self.repaired.insert(path, now);
    }

    /// Repairs what was queued, if anything.
    pub(super) fn repair(&mut self) {
        if self.take_damage() {
            self.rebuild(Changes::Paths(BTreeSet::new()), Why::Repair);
        }
    }

    /// Hands what was queued to the publisher, to be taken from the next
    /// rebuild; true if there was anything.
    pub(super) fn take_damage(&mut self) -> bool {
        if self.damaged.is_empty() {
            return false;
        }
        self.pipeline.forget_rendered();
        for path in std::mem::take(&mut self.damaged) {
            self.publisher.rewrite(path);
        }
        true
    }
}
