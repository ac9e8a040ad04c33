//! Full history as RFC 5005 archived feeds (§4): a series' current feed
//! carries its newest `feed_limit` published episodes; the older ones go in
//! archive documents, one per fixed block of episode numbers (1–50, 51–100,
//! … for a limit of 50), so an archive changes only when an episode in its
//! block does, or, for the newest block, when an episode leaves the current
//! feed for it. Together the current feed and the archives hold every
//! published episode exactly once. When everything fits, the current feed
//! says so with `fh:complete` (§2) and there are no archives.
//!
//! Archives live at `{series}/archive/{first}-{last}/` beside the feeds'
//! usual file names; documents link `current`, `prev-archive` (older) and
//! `next-archive` (newer).

use super::memo::Memo;
use super::{Archive, Feed, Output, Sink, render_formats, series_feed};
use crate::model::{Episode, Series, Site};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use url::Url;

/// How long caches may keep a full archive block: a day. Not `immutable`:
/// an old episode can still be corrected, and caches must be able to
/// revalidate then.
pub const ARCHIVE_MAX_AGE: u32 = 86_400;

/// The RFC 5005 namespace, for `fh:complete` and `fh:archive`.
pub const NAMESPACE: &str = "http://purl.org/syndication/history/1.0";

/// Where a feed document sits in its feed's history. URLs are folders: each
/// format joins its own file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum History {
    /// Every published episode is in this document (`fh:complete`).
    Complete,
    /// Only the newest, with no archives (the site-wide feed, whose
    /// episodes are archived by their series).
    Partial,
    /// The current feed; older episodes are archived from `prev_archive`.
    Current { prev_archive: Url },
    /// An archive document (`fh:archive`).
    Archived { current: Url, prev_archive: Option<Url>, next_archive: Option<Url> },
}

impl History {
    /// RFC 5005's link relations and their target folders, in a fixed order.
    pub fn links(&self) -> Vec<(&'static str, &Url)> {
        match self {
            History::Complete | History::Partial => Vec::new(),
            History::Current { prev_archive } => vec![("prev-archive", prev_archive)],
            History::Archived { current, prev_archive, next_archive } => [
                Some(("current", current)),
                prev_archive.as_ref().map(|u| ("prev-archive", u)),
                next_archive.as_ref().map(|u| ("next-archive", u)),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }

    /// The element that marks the document: `complete` or `archive`.
    pub fn marker(&self) -> Option<&'static str> {
        match self {
            History::Complete => Some("complete"),
            History::Archived { .. } => Some("archive"),
            History::Partial | History::Current { .. } => None,
        }
    }

    /// JSON Feed's `next_url`: the next older document.
    pub fn older(&self) -> Option<&Url> {
        match self {
            History::Current { prev_archive } => Some(prev_archive),
            History::Archived { prev_archive, .. } => prev_archive.as_ref(),
            History::Complete | History::Partial => None,
        }
    }
}

/// A series' published episodes, split into the current feed and archives.
pub struct Split<'e> {
    /// Newest first.
    pub current: Vec<&'e Arc<Episode>>,
    pub history: History,
    /// Oldest block first.
    pub blocks: Vec<Block<'e>>,
}

/// One archive document's episodes.
pub struct Block<'e> {
    /// `archive/1-50/`, relative to the series folder.
    pub dir: String,
    /// Newest first.
    pub episodes: Vec<&'e Arc<Episode>>,
    pub history: History,
    pub archive: Archive,
}

/// Splits `published` (newest first) into the newest `limit` and blocks of
/// `limit` episode numbers for the rest.
pub fn split<'e>(published: &[&'e Arc<Episode>], limit: usize, home: &Url) -> Split<'e> {
    let limit = limit.max(1);
    let current = published[..published.len().min(limit)].to_vec();
    let size = u64::try_from(limit).unwrap_or(u64::MAX);
    let mut by_block: BTreeMap<u64, Vec<&'e Arc<Episode>>> = BTreeMap::new();
    for &episode in published.iter().skip(limit) {
        by_block.entry(episode.meta.number.saturating_sub(1) / size).or_default().push(episode);
    }
    let dirs: Vec<String> = by_block
        .keys()
        .map(|block| {
            let first = block.saturating_mul(size).saturating_add(1);
            format!("archive/{first}-{}/", first.saturating_add(size - 1))
        })
        .collect();
    let folder = |dir: &String| home.join(dir).unwrap_or_else(|_| home.clone());
    let newest = dirs.len().checked_sub(1);
    let blocks = by_block
        .into_values()
        .enumerate()
        .map(|(i, episodes)| Block {
            history: History::Archived {
                current: home.clone(),
                prev_archive: i.checked_sub(1).map(|older| folder(&dirs[older])),
                next_archive: dirs.get(i + 1).map(folder),
            },
            archive: if Some(i) == newest { Archive::Open } else { Archive::Closed },
            dir: dirs[i].clone(),
            episodes,
        })
        .collect();
    let history = match dirs.last() {
        Some(dir) => History::Current { prev_archive: folder(dir) },
        None => History::Complete,
    };
    Split { current, history, blocks }
}

/// Every archive document of `series`, taken from `memo` when its episodes
/// and links are as they were.
pub fn render_archives(
    site: &Site,
    series: &Series,
    split: &Split<'_>,
    memo: &mut Memo,
    sink: &dyn Sink,
) -> Vec<Output> {
    let mut outputs = Vec::new();
    let mut missing = Vec::new();
    for block in &split.blocks {
        let rest = format!("{:?}{:?}", block.history, block.archive);
        match memo.get(&series.slug, &block.dir, &block.episodes, &rest) {
            Some(kept) => outputs.extend(kept),
            None => missing.push((block, rest)),
        }
    }
    let made: Vec<(&Block<'_>, String, Vec<Output>)> = missing
        .into_par_iter()
        .map(|(block, rest)| {
            let folder = match &block.history {
                History::Archived { current, .. } => {
                    current.join(&block.dir).unwrap_or_else(|_| current.clone())
                }
                _ => series.home.clone(),
            };
            let base = series_feed(site, series, None, folder);
            let max_age = match block.archive {
                Archive::Closed => base.max_age.max(ARCHIVE_MAX_AGE),
                Archive::Open => base.max_age,
            };
            let feed = Feed {
                history: block.history.clone(),
                items: block.episodes.iter().map(|e| super::item(e, series)).collect(),
                max_age,
                ..base
            };
            let dir = format!("{}/{}", series.slug, block.dir);
            let rendered = render_formats(&feed, &dir, None, Some(block.archive));
            (block, rest, rendered.map(|output| sink.take(output)).to_vec())
        })
        .collect();
    for (block, rest, rendered) in made {
        outputs.extend(rendered.iter().cloned());
        memo.put(&series.slug, &block.dir, &block.episodes, rest, rendered);
    }
    outputs
}
