//! What the counts say, as of a day: the `audience` of
//! `/_episodic/status`, and the history the stats page charts.

use super::store::COUNTING;
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Serialize)]
pub struct Audience {
    pub series: BTreeMap<String, SeriesAudience>,
    pub episodes: BTreeMap<String, Reads>,
    pub recorder: Recorder,
}

#[derive(Debug, Default, Serialize)]
pub struct SeriesAudience {
    /// `reported`'s sum plus `direct`.
    pub subscribers: u64,
    /// The latest counts hosted readers report, summed by aggregator.
    pub reported: BTreeMap<String, u64>,
    /// The most distinct readers polling in one day this week.
    pub direct: u64,
    /// Services seen polling this week that say nothing of their numbers.
    pub silent: Vec<String>,
    /// The same, feed by feed (`rss.xml`, `atom.xml`, `feed.json`).
    pub feeds: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Serialize)]
pub struct Reads {
    pub reads: u64,
    pub reads_7d: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct Recorder {
    /// Requests not counted because the recorder was behind.
    pub dropped: u64,
    /// RFC 3339; `None` before the first commit.
    pub last_commit: Option<String>,
    /// Why counting fails, if it does (a full disk, a corrupt database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The counts as of `week_start..=today`, for every series in `series`
/// (and any other counted this week), every feed of each.
pub fn audience(db: &Connection, week_start: &str, series: &[String]) -> rusqlite::Result<Audience> {
    let mut audience = Audience::default();
    for slug in series {
        audience.series.insert(slug.clone(), SeriesAudience::default());
    }
    let mut reported = db.prepare(&format!(
        "SELECT series, feed, aggregator, sum(count) FROM reported WHERE {COUNTING} GROUP BY series, feed, aggregator"
    ))?;
    let rows = reported.query_map(params![week_start], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
    })?;
    for row in rows {
        let (series, feed, aggregator, count) = row?;
        let entry = audience.series.entry(series).or_default();
        *entry.reported.entry(aggregator).or_default() += unsigned(count);
        *entry.feeds.entry(feed).or_default() += unsigned(count);
    }
    let mut direct = db.prepare(
        "SELECT subject, max(count) FROM daily WHERE day >= ?1 AND (subject LIKE 's:%' OR subject LIKE 'f:%')
         GROUP BY subject",
    )?;
    let rows =
        direct.query_map(params![week_start], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (subject, count) = row?;
        if let Some(series) = subject.strip_prefix("s:") {
            audience.series.entry(series.to_owned()).or_default().direct = unsigned(count);
        } else if let Some((series, feed)) = subject.strip_prefix("f:").and_then(|s| s.rsplit_once('/')) {
            let entry = audience.series.entry(series.to_owned()).or_default();
            *entry.feeds.entry(feed.to_owned()).or_default() += unsigned(count);
        }
    }
    let mut silent =
        db.prepare("SELECT series, service FROM silent WHERE last_day >= ?1 ORDER BY service")?;
    let rows =
        silent.query_map(params![week_start], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (series, service) = row?;
        audience.series.entry(series).or_default().silent.push(service);
    }
    for entry in audience.series.values_mut() {
        for feed in super::FEEDS {
            entry.feeds.entry(feed.to_owned()).or_default();
        }
        entry.subscribers = entry.reported.values().sum::<u64>() + entry.direct;
    }
    let mut reads = db.prepare(
        "SELECT substr(subject, 3), sum(count), sum(CASE WHEN day >= ?1 THEN count ELSE 0 END)
         FROM daily WHERE subject LIKE 'r:%' GROUP BY subject",
    )?;
    let rows = reads.query_map(params![week_start], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    })?;
    for row in rows {
        let (episode, total, week) = row?;
        audience.episodes.insert(episode, Reads { reads: unsigned(total), reads_7d: unsigned(week) });
    }
    Ok(audience)
}

/// Day by day: (day, series, source, count), source being an aggregator
/// or `direct`; and (day, episode, reads).
pub type History = (Vec<(String, String, String, u64)>, Vec<(String, String, u64)>);

pub fn history(db: &Connection, since: &str) -> rusqlite::Result<History> {
    let mut subscribers = Vec::new();
    let mut query = db.prepare(
        "SELECT day, series, aggregator, count FROM reported_daily WHERE day >= ?1
         UNION ALL SELECT day, substr(subject, 3), 'direct', count FROM daily WHERE day >= ?1 AND subject LIKE 's:%'
         ORDER BY 1, 2, 3",
    )?;
    let rows = query.query_map(params![since], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
    })?;
    for row in rows {
        let (day, series, source, count) = row?;
        subscribers.push((day, series, source, unsigned(count)));
    }
    let mut reads = Vec::new();
    let mut query = db.prepare(
        "SELECT day, substr(subject, 3), count FROM daily WHERE day >= ?1 AND subject LIKE 'r:%' ORDER BY 1, 2",
    )?;
    let rows = query.query_map(params![since], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
    })?;
    for row in rows {
        let (day, episode, count) = row?;
        reads.push((day, episode, unsigned(count)));
    }
    Ok((subscribers, reads))
}
