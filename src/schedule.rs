//! When the next scheduled episode is due, as a sleep: the live driver
//! waits on its event channel for this long, so nothing polls between
//! episodes.

use jiff::Timestamp;
use std::time::Duration;

/// Sleeps are cut into pieces no longer than this, so that a jump of the
/// wall clock (a suspended laptop, an NTP step) delays a scheduled episode
/// by at most this much.
const LONGEST_SLEEP: Duration = Duration::from_secs(60);

/// How long to sleep at `now` before waking for an episode `due`: rounded
/// up to the millisecond, so waking finds it due, and at most a minute.
pub fn sleep_until(due: Timestamp, now: Timestamp) -> Duration {
    let left = Duration::try_from(due.duration_since(now)).unwrap_or(Duration::ZERO);
    (left + Duration::from_millis(1)).min(LONGEST_SLEEP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_just_past_the_due_time_and_never_long() {
        let now: Timestamp = "2026-11-30T00:59:58Z".parse().unwrap();
        let due: Timestamp = "2026-11-30T01:00:00Z".parse().unwrap();
        assert_eq!(sleep_until(due, now), Duration::from_millis(2001));
        assert_eq!(sleep_until(now, due), Duration::from_millis(1));
        let next_week: Timestamp = "2026-12-07T01:00:00Z".parse().unwrap();
        assert_eq!(sleep_until(next_week, now), Duration::from_secs(60));
    }
}
