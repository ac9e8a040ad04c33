//! Raw → validated: the site, its series and their episodes as typed values.
//! No I/O and no clock here: callers pass text in and `now` where it matters,
//! so the same content always yields the same model.
//!
//! Field mapping, for readers of the renderers:
//! - `Episode::title` → RSS `title`, Atom `title`, JSON `title` (through the
//!   series' `title_format`).
//! - `Episode::id` → RSS `guid` (`isPermaLink` iff it is the permalink),
//!   Atom `id`, JSON `id`. `Episode::permalink` → RSS/Atom `link`, JSON `url`.
//! - `published` → RSS `pubDate`, Atom `published`, JSON `date_published`;
//!   `updated` → Atom `updated`, JSON `date_modified`.
//! - `summary` → RSS `description`, Atom `summary`, JSON `summary`;
//!   `content_html` → RSS `content:encoded`, Atom `content type="html"`,
//!   JSON `content_html`.
//! - `media` → RSS `enclosure`, Atom `link rel="enclosure"`, JSON
//!   `attachments`.

pub mod date;
pub mod episode;
pub mod fields;
pub mod links;
pub mod media;
pub mod packed;
pub mod podcast;
pub mod series;
pub mod site;

pub use date::Instant;
pub use episode::{Episode, EpisodeMeta};
pub use packed::PackedText;
pub use series::{Series, TitleFormat};
pub use site::Site;

use jiff::Timestamp;
use std::sync::Arc;

/// A series' cover: its absolute URL and, when it is a local file, the
/// content-relative path to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cover {
    pub url: String,
    pub asset: Option<String>,
}

/// A person credited for a feed or an episode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub email: Option<String>,
    pub url: Option<String>,
}

/// Everything a build knows: the site and each series with its episodes.
#[derive(Debug)]
pub struct Catalog {
    pub site: Site,
    /// Sorted by slug.
    pub series: Vec<SeriesEntry>,
}

#[derive(Debug)]
pub struct SeriesEntry {
    pub series: Series,
    /// Every valid episode, drafts and scheduled ones included, by number.
    /// Shared with the pipeline's cache, so a rebuild copies no episode.
    pub episodes: Vec<Arc<Episode>>,
}

impl SeriesEntry {
    /// The episodes readers may see at `now`.
    pub fn published(&self, now: Timestamp) -> impl Iterator<Item = &Episode> {
        self.episodes.iter().map(AsRef::as_ref).filter(move |e| e.is_published(now))
    }

    /// When the next scheduled (not draft) episode goes live.
    pub fn next_scheduled(&self, now: Timestamp) -> Option<Timestamp> {
        self.episodes
            .iter()
            .filter(|e| !e.meta.draft && e.meta.published.timestamp > now)
            .map(|e| e.meta.published.timestamp)
            .min()
    }
}

impl Catalog {
    /// When the next scheduled episode of any series goes live: the feeds
    /// change then with no edit.
    pub fn next_scheduled(&self, now: Timestamp) -> Option<Timestamp> {
        self.series.iter().filter_map(|entry| entry.next_scheduled(now)).min()
    }
}
