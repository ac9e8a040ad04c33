//! The audience's tables in the state database (schema in `state`): what
//! one second of requests changes, written in one transaction with the
//! day's dedupe state, so that a kill loses at most that second and a
//! restart never counts anyone twice.
//!
//! - `salt`: the day's random key for hashing clients; deleted with that
//!   day's `seen` rows when the day ends, so no hash outlives its day.
//! - `seen`: (day, subject, keyed hash of client) for subjects `s:SERIES`
//!   (direct subscribers), `f:SERIES/FEED` and `r:SERIES/NUMBER` (reads).
//! - `sketch`: past [`EXACT`] readers in a day, a subject's `seen` rows
//!   become one HyperLogLog sketch of them (a flood of made-up readers
//!   costs a few kilobytes, not a row each); deleted at day end too.
//! - `daily`: how many distinct clients each subject had each day.
//! - `reported`: the latest count per (series, feed, aggregator, key), key
//!   being the aggregator's feed id or else the feed; `reported_daily`
//!   their sums by day, for the chart; `silent`: services seen polling.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// Readers of one subject in one day counted exactly; past this, by sketch.
pub const EXACT: i64 = 10_000;

/// An estimate of how many distinct readers, from their hashes.
pub type Sketch = cardinality_estimator::CardinalityEstimator<[u8]>;

/// Adds a reader's hash (its first 8 bytes: a keyed hash is uniform).
pub fn sketch_add(sketch: &mut Sketch, client: &[u8; 32]) {
    let mut first = [0u8; 8];
    first.copy_from_slice(&client[..8]);
    sketch.insert_hash(u64::from_le_bytes(first));
}

/// Today's sketched subjects.
pub fn sketches(db: &Connection, day: &str) -> rusqlite::Result<Vec<(String, Sketch)>> {
    let mut query = db.prepare("SELECT subject, hll FROM sketch WHERE day = ?1")?;
    let rows = query.query_map(params![day], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
    let mut sketches = Vec::new();
    for row in rows {
        let (subject, bytes) = row?;
        // One that cannot be read starts again (it undercounts, never fails).
        sketches.push((subject, serde_json::from_slice(&bytes).unwrap_or_default()));
    }
    Ok(sketches)
}

/// Whether `subject` has reached [`EXACT`] readers on `day`.
pub fn is_full(tx: &Transaction<'_>, day: &str, subject: &str) -> rusqlite::Result<bool> {
    let count: Option<i64> = tx
        .prepare_cached("SELECT count FROM daily WHERE day = ?1 AND subject = ?2")?
        .query_row(params![day, subject], |r| r.get(0))
        .optional()?;
    Ok(count.unwrap_or(0) >= EXACT)
}

/// Turns `subject`'s readers on `day` into a sketch: its `seen` rows go.
pub fn to_sketch(tx: &Transaction<'_>, day: &str, subject: &str) -> rusqlite::Result<Sketch> {
    let mut sketch = Sketch::new();
    {
        let mut query = tx.prepare("SELECT client FROM seen WHERE day = ?1 AND subject = ?2")?;
        let rows = query.query_map(params![day, subject], |r| r.get::<_, Vec<u8>>(0))?;
        for row in rows {
            if let Ok(client) = <[u8; 32]>::try_from(row?) {
                sketch_add(&mut sketch, &client);
            }
        }
    }
    tx.execute("DELETE FROM seen WHERE day = ?1 AND subject = ?2", params![day, subject])?;
    Ok(sketch)
}

/// Keeps `sketch` and its estimate as the day's count (never lower than
/// the exact count it started from).
pub fn save_sketch(tx: &Transaction<'_>, day: &str, subject: &str, sketch: &Sketch) -> rusqlite::Result<()> {
    let bytes =
        serde_json::to_vec(sketch).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.prepare_cached(
        "INSERT INTO sketch (day, subject, hll) VALUES (?1, ?2, ?3)
         ON CONFLICT (day, subject) DO UPDATE SET hll = excluded.hll",
    )?
    .execute(params![day, subject, bytes])?;
    let estimate = i64::try_from(sketch.estimate()).unwrap_or(i64::MAX);
    tx.prepare_cached(
        "INSERT INTO daily (day, subject, count) VALUES (?1, ?2, ?3)
         ON CONFLICT (day, subject) DO UPDATE SET count = max(count, excluded.count)",
    )?
    .execute(params![day, subject, estimate])?;
    Ok(())
}

/// Keys one aggregator may have per feed: counts are claims, and a
/// client inventing feed ids must not add up to anything.
pub const KEYS_PER_AGGREGATOR: i64 = 8;

/// The day's salt, made when the day's first client is seen.
pub fn salt(tx: &Connection, day: &str) -> rusqlite::Result<[u8; 32]> {
    let known: Option<Vec<u8>> =
        tx.query_row("SELECT salt FROM salt WHERE day = ?1", params![day], |r| r.get(0)).optional()?;
    if let Some(salt) = known.and_then(|s| <[u8; 32]>::try_from(s).ok()) {
        return Ok(salt);
    }
    let mut salt = [0u8; 32];
    getrandom::fill(&mut salt).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    tx.execute("INSERT OR REPLACE INTO salt (day, salt) VALUES (?1, ?2)", params![day, salt.as_slice()])?;
    Ok(salt)
}

/// Notes that `client` asked for `subject` on `day`; counts it if it is
/// the first time that day. Returns whether it counted.
pub fn see(tx: &Transaction<'_>, day: &str, subject: &str, client: &[u8; 32]) -> rusqlite::Result<bool> {
    let mut insert =
        tx.prepare_cached("INSERT OR IGNORE INTO seen (day, subject, client) VALUES (?1, ?2, ?3)")?;
    if insert.execute(params![day, subject, client.as_slice()])? == 0 {
        return Ok(false);
    }
    let mut count = tx.prepare_cached(
        "INSERT INTO daily (day, subject, count) VALUES (?1, ?2, 1)
         ON CONFLICT (day, subject) DO UPDATE SET count = count + 1",
    )?;
    count.execute(params![day, subject])?;
    Ok(true)
}

/// What a hosted reader says of one feed.
pub struct Report<'a> {
    pub series: &'a str,
    pub feed: &'a str,
    pub aggregator: &'a str,
    pub feed_id: Option<&'a str>,
    pub count: u64,
}

/// Keeps the latest count of the report's key: a new key only while the
/// aggregator has fewer than [`KEYS_PER_AGGREGATOR`] for the feed.
pub fn report(
    tx: &Transaction<'_>,
    day: &str,
    week_start: &str,
    report: &Report<'_>,
) -> rusqlite::Result<()> {
    let key = report.feed_id.unwrap_or(report.feed);
    let count = i64::try_from(report.count).unwrap_or(i64::MAX);
    let mut update = tx.prepare_cached(
        "UPDATE reported SET count = ?5,
             days = days + (last_day <> ?6), last_day = ?6
         WHERE series = ?1 AND feed = ?2 AND aggregator = ?3 AND key = ?4",
    )?;
    if update.execute(params![report.series, report.feed, report.aggregator, key, count, day])? > 0 {
        return Ok(());
    }
    let keys: i64 = tx.query_row(
        "SELECT count(*) FROM reported WHERE series = ?1 AND feed = ?2 AND aggregator = ?3 AND last_day >= ?4",
        params![report.series, report.feed, report.aggregator, week_start],
        |r| r.get(0),
    )?;
    if keys >= KEYS_PER_AGGREGATOR {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO reported (series, feed, aggregator, key, by_id, count, last_day, days)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)",
        params![report.series, report.feed, report.aggregator, key, report.feed_id.is_some(), count, day],
    )?;
    Ok(())
}

/// A silent service seen polling a series' feed.
pub fn silent(tx: &Transaction<'_>, day: &str, series: &str, service: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO silent (series, service, last_day) VALUES (?1, ?2, ?3)
         ON CONFLICT (series, service) DO UPDATE SET last_day = excluded.last_day",
    )?
    .execute(params![series, service, day])?;
    Ok(())
}

/// The reported counts that count: seen this week, and a feed id seen on
/// two days at least (a new one could be made up).
pub const COUNTING: &str = "last_day >= ?1 AND (by_id = 0 OR days >= 2)";

/// Today's reported sums per series and aggregator, for the chart.
pub fn note_reported(tx: &Transaction<'_>, day: &str, week_start: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM reported_daily WHERE day = ?2", params![week_start, day])?;
    tx.execute(
        &format!(
            "INSERT INTO reported_daily (day, series, aggregator, count)
             SELECT ?2, series, aggregator, sum(count) FROM reported WHERE {COUNTING}
             GROUP BY series, aggregator"
        ),
        params![week_start, day],
    )?;
    Ok(())
}

/// Ends the days before `today`: their salts and hashes go (their counts
/// stay), and reported keys and silent services unseen this week.
pub fn forget_before(tx: &Transaction<'_>, today: &str, week_start: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM salt WHERE day < ?1", params![today])?;
    tx.execute("DELETE FROM seen WHERE day < ?1", params![today])?;
    tx.execute("DELETE FROM sketch WHERE day < ?1", params![today])?;
    tx.execute("DELETE FROM reported WHERE last_day < ?1", params![week_start])?;
    tx.execute("DELETE FROM silent WHERE last_day < ?1", params![week_start])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{KEYS_PER_AGGREGATOR, Report, forget_before, report};
    use rusqlite::Connection;

    fn counted(db: &Connection, week_start: &str) -> Vec<(String, i64)> {
        let mut query = db
            .prepare(&format!("SELECT key, count FROM reported WHERE {} ORDER BY key", super::COUNTING))
            .unwrap();
        query.query_map([week_start], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    }

    fn say(db: &mut Connection, day: &str, week_start: &str, feed_id: Option<&str>, count: u64) {
        let tx = db.transaction().unwrap();
        let said = Report { series: "s", feed: "rss.xml", aggregator: "Feedbin", feed_id, count };
        report(&tx, day, week_start, &said).unwrap();
        tx.commit().unwrap();
    }

    #[test]
    fn reported_counts_keep_the_latest_value_trust_feed_ids_from_their_second_day_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = crate::state::open(dir.path()).unwrap();
        // By feed URL: the latest value, at once.
        say(&mut db, "2026-11-01", "2026-10-26", None, 10);
        say(&mut db, "2026-11-01", "2026-10-26", None, 12);
        assert_eq!(counted(&db, "2026-10-26"), [("rss.xml".to_owned(), 12)]);
        // Feed ids: at most 8 per aggregator and feed, counted from a second day.
        for id in 0..12 {
            say(&mut db, "2026-11-01", "2026-10-26", Some(&format!("id{id:02}")), 1);
        }
        assert_eq!(counted(&db, "2026-10-26").len(), 1);
        for id in 0..12 {
            say(&mut db, "2026-11-02", "2026-10-27", Some(&format!("id{id:02}")), 2);
        }
        let ids: Vec<(String, i64)> =
            counted(&db, "2026-10-27").into_iter().filter(|(k, _)| k != "rss.xml").collect();
        assert_eq!(ids.len() as i64, KEYS_PER_AGGREGATOR - 1, "the URL key is one of the 8: {ids:?}");
        assert!(ids.iter().all(|(_, count)| *count == 2));
        // Unseen for 7 days: gone.
        let tx = db.transaction().unwrap();
        forget_before(&tx, "2026-11-09", "2026-11-03").unwrap();
        tx.commit().unwrap();
        assert_eq!(counted(&db, "2026-11-03"), []);
        let left: i64 = db.query_row("SELECT count(*) FROM reported", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 0);
    }
}
