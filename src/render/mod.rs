//! Model → outputs: the bytes of every feed, each with the path it is
//! published at. Pure: no disk, no clock (`now` is an argument).
//!
//! A [`Feed`] is the renderer-neutral view of one feed (one series, or the
//! whole site); `rss`, `atom` and `json` each turn it into one format.

pub mod atom;
pub mod json;
pub mod rss;

use crate::model::{Author, Catalog, Episode, Instant, Series};
use bytes::Bytes;
use jiff::Timestamp;
use rayon::prelude::*;
use std::cmp::Reverse;
use url::Url;

/// What an output is, which decides how it is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutputKind {
    Rss,
    Atom,
    JsonFeed,
    Asset,
}

/// One file of the build: its path under feeds/ (`/`-separated, which is
/// also its URL path under base_url) and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub path: String,
    pub kind: OutputKind,
    pub bytes: Bytes,
    /// When these bytes will change with no edit: the publish time of the
    /// next scheduled episode this feed will carry. Caches must not keep
    /// the feed past it.
    pub changes_at: Option<Timestamp>,
}

/// The generator named in every feed.
pub const GENERATOR: &str = "episodic";
pub const GENERATOR_URI: &str = "https://github.com/episodic/episodic";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One feed, whatever its format.
pub struct Feed<'a> {
    pub title: &'a str,
    pub description: &'a str,
    /// The human page the feed belongs to (series home or site root).
    pub home: &'a Url,
    /// The folder the feed files live in: `{base_url}` or `{base_url}{series}/`.
    pub folder: &'a Url,
    pub language: &'a str,
    pub author: Option<&'a Author>,
    pub categories: &'a [String],
    pub image: Option<String>,
    /// The WebSub hub readers may subscribe at.
    pub hub: Option<&'a Url>,
    /// Newest first.
    pub items: Vec<Item<'a>>,
}

pub struct Item<'a> {
    pub episode: &'a Episode,
    pub author: Option<&'a Author>,
}

impl Feed<'_> {
    /// The URL of this feed's file `name` (`rss.xml`, `atom.xml`, `feed.json`).
    pub fn self_url(&self, name: &str) -> String {
        self.folder.join(name).map_or_else(|_| format!("{}{name}", self.folder), |u| u.to_string())
    }

    /// The newest `updated` among the items: a feed changes when an item
    /// does, never because it was rebuilt.
    pub fn updated(&self) -> Instant {
        self.items
            .iter()
            .map(|i| i.episode.meta.updated)
            .max_by_key(|d| d.timestamp)
            .unwrap_or(Instant::EPOCH)
    }
}

/// Renders every feed of the catalog: one set per series and one for the site.
pub fn render_feeds(catalog: &Catalog, now: Timestamp) -> Vec<Output> {
    let site = &catalog.site;
    let limit = site.feed_limit;
    let mut feeds = Vec::new();
    let mut everything = Vec::new();
    let mut site_changes_at = None;
    for entry in &catalog.series {
        let series = &entry.series;
        let changes_at = entry.next_scheduled(now);
        site_changes_at = [site_changes_at, changes_at].into_iter().flatten().min();
        let mut items: Vec<Item<'_>> = entry.published(now).map(|episode| item(episode, series)).collect();
        sort_newest_first(&mut items);
        everything.extend(items.iter().map(|i| Item { episode: i.episode, author: i.author }));
        items.truncate(limit);
        let feed = Feed {
            title: &series.title,
            description: &series.description,
            home: &series.home,
            folder: &series.home,
            language: &series.language,
            author: series.author.as_ref(),
            categories: &series.tags,
            image: series.image.as_ref().map(|cover| cover.url.clone()),
            hub: site.websub_hub.as_ref(),
            items,
        };
        feeds.push((feed, format!("{}/", series.slug), changes_at));
    }
    sort_newest_first(&mut everything);
    everything.truncate(limit);
    let feed = Feed {
        title: &site.title,
        description: &site.description,
        home: &site.base_url,
        folder: &site.base_url,
        language: &site.language,
        author: site.author.as_ref(),
        categories: &[],
        image: None,
        hub: site.websub_hub.as_ref(),
        items: everything,
    };
    feeds.push((feed, String::new(), site_changes_at));
    // Feeds are independent, and rendering a long one takes milliseconds.
    feeds
        .par_iter()
        .flat_map_iter(|(feed, dir, changes_at)| render_all_formats(feed, dir, *changes_at))
        .collect()
}

fn item<'a>(episode: &'a Episode, series: &'a Series) -> Item<'a> {
    Item { episode, author: episode.meta.author.as_ref().or(series.author.as_ref()) }
}

/// Newest first; ties (two episodes at the same instant) by permalink, so
/// the order never depends on how files were listed.
fn sort_newest_first(items: &mut [Item<'_>]) {
    items.sort_by_key(|i| {
        (Reverse(i.episode.meta.published.timestamp), Reverse(i.episode.permalink.as_str()))
    });
}

fn render_all_formats(feed: &Feed<'_>, dir: &str, changes_at: Option<Timestamp>) -> [Output; 3] {
    let output = |name: &str, kind: OutputKind, bytes: Vec<u8>| Output {
        path: format!("{dir}{name}"),
        kind,
        bytes: Bytes::from(bytes),
        changes_at,
    };
    [
        output("rss.xml", OutputKind::Rss, rss::render(feed)),
        output("atom.xml", OutputKind::Atom, atom::render(feed)),
        output("feed.json", OutputKind::JsonFeed, json::render(feed)),
    ]
}
