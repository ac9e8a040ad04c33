//! Publish times as writers write them, read in the series' time zone.
//!
//! Accepted: RFC 3339 with an offset (`2026-11-30T10:00:00+09:00`, `…Z`), a
//! local date-time (`2026-11-30T10:00:00`, `2026-11-30 10:00`) or a date
//! (`2026-11-30`, meaning 00:00), the last two in the series' time zone.

use jiff::Timestamp;
use jiff::civil::{DateTime, Time};
use jiff::fmt::temporal::Pieces;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use std::fmt;

/// An exact instant and the UTC offset it is shown in (the writer's explicit
/// offset, or the series' zone at that instant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    pub timestamp: Timestamp,
    pub offset: Offset,
}

impl Instant {
    /// 1970-01-01T00:00:00Z: the `updated` of a feed with no items, so that
    /// an empty feed is still a pure function of the content.
    pub const EPOCH: Instant = Instant { timestamp: Timestamp::UNIX_EPOCH, offset: Offset::UTC };

    /// `2026-11-30T10:00:00+09:00` (Atom, JSON Feed).
    pub fn rfc3339(&self) -> String {
        self.timestamp.display_with_offset(self.offset).to_string()
    }

    /// `Mon, 30 Nov 2026 10:00:00 +0900` (RSS 2.0 `pubDate`).
    pub fn rfc2822(&self) -> String {
        let zoned = self.timestamp.to_zoned_datetime(TimeZone::fixed(self.offset));
        jiff::fmt::rfc2822::to_string(&zoned).unwrap_or_else(|_| self.rfc3339())
    }
}

/// Why a date could not be read; the message goes to writers.
#[derive(Debug, PartialEq, Eq)]
pub enum DateProblem {
    Unreadable { text: String },
    Impossible { text: String, reason: String },
}

impl fmt::Display for DateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const EXAMPLES: &str = "write it like 2026-11-30T10:00:00+09:00, 2026-11-30 10:00 or 2026-11-30";
        match self {
            DateProblem::Unreadable { text } => write!(f, "`{text}` is not a date: {EXAMPLES}"),
            DateProblem::Impossible { text, reason } => {
                write!(f, "`{text}` is not a real date or time ({reason}): {EXAMPLES}")
            }
        }
    }
}

/// A date that was read, plus a note when the local time fell in a DST gap
/// or fold and had to be chosen.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedDate {
    pub instant: Instant,
    pub note: Option<String>,
}

/// Reads `text` as a publish time; times without an offset are in `tz`.
pub fn parse(text: &str, tz: &TimeZone) -> Result<ParsedDate, DateProblem> {
    let text = text.trim();
    let pieces = Pieces::parse(text).map_err(|e| classify(text, &e))?;
    if pieces.time_zone_annotation().is_some() {
        return Err(DateProblem::Unreadable { text: text.to_owned() });
    }
    // Whole seconds: RFC 2822 (RSS) cannot carry fractions, so no format does.
    let time = pieces
        .time()
        .unwrap_or(Time::midnight())
        .with()
        .subsec_nanosecond(0)
        .build()
        .unwrap_or(Time::midnight());
    let civil = DateTime::from_parts(pieces.date(), time);
    if let Some(offset) = pieces.offset() {
        let offset = offset.to_numeric_offset();
        let timestamp =
            civil.to_zoned_datetime(TimeZone::fixed(offset)).map_err(|e| impossible(text, &e))?.timestamp();
        return Ok(ParsedDate { instant: Instant { timestamp, offset }, note: None });
    }
    let ambiguous = tz.to_ambiguous_zoned_datetime(civil);
    let zone = tz.iana_name().unwrap_or("the series' time zone");
    let note = match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => None,
        AmbiguousOffset::Gap { .. } => Some(format!(
            "`{text}` does not exist in {zone} (the clocks jump forward then); it is read as the moment just after the jump"
        )),
        AmbiguousOffset::Fold { .. } => {
            Some(format!("`{text}` happens twice in {zone} (the clocks go back then); the first one is used"))
        }
    };
    let zoned = ambiguous.compatible().map_err(|e| impossible(text, &e))?;
    Ok(ParsedDate { instant: Instant { timestamp: zoned.timestamp(), offset: zoned.offset() }, note })
}

/// jiff reads `2026-02-30` far enough to know it is out of range: that is an
/// impossible date, not an unreadable one, and the writer should hear which.
fn classify(text: &str, error: &jiff::Error) -> DateProblem {
    let looks_like_a_date = text.len() >= 10
        && text.as_bytes()[..10].iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    let message = error.to_string();
    if looks_like_a_date && (message.contains("range") || message.contains("invalid")) {
        impossible(text, error)
    } else {
        DateProblem::Unreadable { text: text.to_owned() }
    }
}

fn impossible(text: &str, error: &jiff::Error) -> DateProblem {
    DateProblem::Impossible { text: text.to_owned(), reason: error.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seoul() -> TimeZone {
        TimeZone::get("Asia/Seoul").unwrap()
    }

    #[test]
    fn local_times_are_in_the_series_zone() {
        let tz = seoul();
        for text in ["2026-11-30T10:00:00", "2026-11-30 10:00", "2026-11-30T10:00"] {
            let date = parse(text, &tz).unwrap();
            assert_eq!(date.instant.rfc3339(), "2026-11-30T10:00:00+09:00", "{text}");
            assert_eq!(date.instant.rfc2822(), "Mon, 30 Nov 2026 10:00:00 +0900");
        }
        assert_eq!(parse("2026-11-30", &tz).unwrap().instant.rfc3339(), "2026-11-30T00:00:00+09:00");
    }

    #[test]
    fn explicit_offsets_are_kept() {
        let date = parse("2026-11-30T10:00:00-05:00", &seoul()).unwrap();
        assert_eq!(date.instant.rfc3339(), "2026-11-30T10:00:00-05:00");
        assert_eq!(date.instant.timestamp.to_string(), "2026-11-30T15:00:00Z");
        assert_eq!(
            parse("2026-11-30T01:00:00Z", &seoul()).unwrap().instant.rfc3339(),
            "2026-11-30T01:00:00+00:00"
        );
    }

    #[test]
    fn dst_gaps_and_folds_are_noted() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let gap = parse("2026-03-08T02:30:00", &ny).unwrap();
        assert_eq!(gap.instant.rfc3339(), "2026-03-08T03:30:00-04:00");
        assert!(gap.note.is_some());
        let fold = parse("2026-11-01T01:30:00", &ny).unwrap();
        assert_eq!(fold.instant.rfc3339(), "2026-11-01T01:30:00-04:00");
        assert!(fold.note.is_some());
    }

    #[test]
    fn bad_dates_are_told_apart() {
        let tz = seoul();
        assert!(matches!(parse("2026-02-30", &tz), Err(DateProblem::Impossible { .. })));
        assert!(matches!(parse("2026-11-30T25:00:00", &tz), Err(DateProblem::Impossible { .. })));
        assert!(matches!(parse("next monday", &tz), Err(DateProblem::Unreadable { .. })));
        assert!(matches!(parse("", &tz), Err(DateProblem::Unreadable { .. })));
    }
}
