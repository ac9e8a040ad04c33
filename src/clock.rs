//! The one clock. `--now` shifts it (time still flows from there), so a
//! server started "as of" Monday 09:59:50 sees that Monday's 10:00 episode
//! come due ten seconds later, as it would in production.

use jiff::{SignedDuration, Timestamp};

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    offset: SignedDuration,
}

impl Clock {
    /// The real clock.
    pub fn real() -> Self {
        Clock { offset: SignedDuration::ZERO }
    }

    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: Timestamp) -> Self {
        Clock { offset: start.duration_since(Timestamp::now()) }
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::now().checked_add(self.offset).unwrap_or(Timestamp::MAX)
    }
}
