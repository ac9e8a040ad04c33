//! Model → outputs: the bytes of every feed, archive and page, each with
//! the path it is published at. Pure: no disk, no clock (`now` is an
//! argument); a [`Memo`] only skips work whose inputs are unchanged.
//!
//! A [`Feed`] is the renderer-neutral view of one feed document (a series'
//! current feed or one of its archives, or the whole site's); `rss`, `atom`
//! and `json` each turn it into one format. `history` decides what goes in
//! the current feed and what in RFC 5005 archives; `html` renders the pages
//! for people.

pub mod atom;
pub mod favicon;
pub mod history;
pub mod html;
pub mod json;
pub mod listing;
mod memo;
mod output;
pub mod rss;
mod views;

pub use memo::Memo;
pub use output::{Archive, Body, Keep, Original, Output, OutputKind, Sink};

use crate::model::podcast::Podcast;
use crate::model::{Author, Catalog, Episode, Instant, Series, Site};
use bytes::Bytes;
use history::History;
use html::Templates;
use jiff::Timestamp;
use rayon::prelude::*;
use std::cmp::Reverse;
use std::sync::Arc;
use url::Url;

/// The generator named in every feed (with no `uri`: the project has no
/// home of its own to point at yet).
pub const GENERATOR: &str = "episodic";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One feed document, whatever its format.
pub struct Feed<'a> {
    pub title: &'a str,
    pub description: &'a str,
    /// The human page the feed belongs to (series home or site root).
    pub home: &'a Url,
    /// The folder the document's files live in: `{base_url}`,
    /// `{base_url}{series}/` or an archive's folder below it.
    pub folder: Url,
    pub language: &'a str,
    pub author: Option<&'a Author>,
    pub categories: &'a [String],
    /// The series' cover (Atom `logo`, RSS `image`, JSON Feed `icon`).
    pub image: Option<String>,
    /// The site's square icon (Atom `icon`, JSON Feed `favicon`; where no
    /// cover, also RSS `image` and JSON Feed `icon`).
    pub icon: Option<&'a str>,
    /// Seconds readers and caches may keep this document as a rule (its
    /// usual `max-age`), which RSS also says as `ttl`.
    pub max_age: u32,
    /// The WebSub hub readers may subscribe at (current feeds only).
    pub hub: Option<&'a Url>,
    /// Where this document sits among the feed's others (RFC 5005).
    pub history: History,
    /// Newest first.
    pub items: Vec<Item<'a>>,
    /// The series' podcast settings (`itunes:` channel tags).
    pub podcast: Option<&'a Podcast>,
}

pub struct Item<'a> {
    pub episode: &'a Episode,
    pub author: Option<&'a Author>,
    /// The episode's HTML, unpacked once for the three formats.
    content_html: std::sync::OnceLock<String>,
}

impl Item<'_> {
    pub fn content_html(&self) -> &str {
        self.content_html.get_or_init(|| self.episode.content_html.unpack())
    }
}

/// The three formats' file names, the same in every feed folder.
pub const RSS: &str = "rss.xml";
pub const ATOM: &str = "atom.xml";
pub const JSON: &str = "feed.json";

/// The listings' file names, at the top of the site (see `listing`).
pub const SUBSCRIPTIONS: &str = "subscriptions.opml";
pub const SITEMAP: &str = "sitemap.xml";
pub const ROBOTS: &str = "robots.txt";

impl Feed<'_> {
    /// The URL of this document's file `name` (`rss.xml`, `atom.xml`, `feed.json`).
    pub fn self_url(&self, name: &str) -> String {
        join(&self.folder, name)
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

/// Plain text as the HTML that shows it literally: `1 < 2` stays `1 < 2`
/// on screen instead of opening a tag.
fn html_escaped(text: &str) -> String {
    let mut html = String::with_capacity(text.len());
    pulldown_cmark_escape::escape_html(&mut html, text).expect("writing to a String cannot fail");
    html
}

/// `folder` + `name`, for URLs made from base_url (which always join).
pub fn join(folder: &Url, name: &str) -> String {
    folder.join(name).map_or_else(|_| format!("{folder}{name}"), |u| u.to_string())
}

/// Renders everything of the catalog: per series its current feeds, its
/// archives and its pages; the site's feeds and its index page. `memo`
/// keeps archives and episode pages whose inputs did not change; those it
/// renders go through `sink`.
///
/// The current feeds (the slow part, long and all changed by most edits)
/// render on one side while archives and pages render on the other: an
/// edit reaches readers sooner on a two-core machine.
pub fn render_all(
    catalog: &Catalog,
    now: Timestamp,
    templates: &Arc<Templates>,
    memo: &mut Memo,
    sink: &dyn Sink,
) -> Rendered {
    memo.start(catalog, templates);
    let site = &catalog.site;
    let limit = site.feed_limit;
    let mut feeds = Vec::new();
    let mut everything = Vec::new();
    let mut series_parts = Vec::new();
    for entry in &catalog.series {
        let series = &entry.series;
        let changes_at = entry.next_scheduled(now);
        let mut published: Vec<&Arc<Episode>> =
            entry.episodes.iter().filter(|e| e.is_published(now)).collect();
        published.sort_by_key(|e| newest_first(e));
        everything.extend(published.iter().map(|e| item(e, series)));
        let split = history::split(&published, limit, &series.home);
        let feed = Feed {
            history: split.history.clone(),
            items: split.current.iter().map(|e| item(e, series)).collect(),
            ..series_feed(site, series, site.websub_hub.as_ref(), series.home.clone())
        };
        feeds.push(Placed { feed, dir: format!("{}/", series.slug), changes_at });
        series_parts.push((series, published, split, changes_at));
    }
    everything.sort_by_key(|i| newest_first(i.episode));
    let complete = everything.len() <= limit;
    everything.truncate(limit);
    let site_changes_at = catalog.next_scheduled(now);
    let feed = Feed {
        title: &site.title,
        description: &site.description,
        home: &site.base_url,
        folder: site.base_url.clone(),
        language: &site.language,
        author: site.author.as_ref(),
        categories: &[],
        image: None,
        icon: site.icon.as_ref().map(|icon| icon.url.as_str()),
        max_age: site.cache_max_age,
        hub: site.websub_hub.as_ref(),
        history: if complete { History::Complete } else { History::Partial },
        items: everything,
        podcast: None,
    };
    feeds.push(Placed { feed, dir: String::new(), changes_at: site_changes_at });

    let documents: Vec<(&Placed<'_>, Format)> =
        feeds.iter().flat_map(|placed| Format::ALL.map(|format| (placed, format))).collect();
    let (mut outputs, (others, problems)) = rayon::join(
        || -> Vec<Output> {
            documents
                .par_iter()
                .map(|(placed, format)| {
                    render_format(&placed.feed, &placed.dir, placed.changes_at, None, *format)
                })
                .collect()
        },
        || {
            let mut outputs = Vec::new();
            let mut problems = Vec::new();
            for (series, published, split, changes_at) in &series_parts {
                outputs.extend(history::render_archives(site, series, split, memo, sink));
                let (pages, page_problems) =
                    html::render_series_pages(site, series, published, *changes_at, templates, memo, sink);
                outputs.extend(pages);
                problems.extend(page_problems);
            }
            let (index, index_problem) = html::render_index(catalog, now, site_changes_at, templates);
            let (style, style_problem) = html::render_stylesheet(site, templates);
            outputs.extend([index, style]);
            outputs.extend(listing::render_listings(catalog, now, memo));
            problems.extend(index_problem.into_iter().chain(style_problem));
            (outputs, problems)
        },
    );
    outputs.extend(others);
    memo.finish();
    Rendered { outputs, problems }
}

/// A current feed, the folder it goes in (`""` or `series/`) and when it
/// changes by itself.
struct Placed<'a> {
    feed: Feed<'a>,
    dir: String,
    changes_at: Option<Timestamp>,
}

/// What [`render_all`] made, and what went wrong rendering pages with the
/// writer's templates (those pages fall back to the built-in ones).
pub struct Rendered {
    pub outputs: Vec<Output>,
    pub problems: Vec<html::TemplateProblem>,
}

/// A series' feed settings, with no items yet.
fn series_feed<'a>(site: &'a Site, series: &'a Series, hub: Option<&'a Url>, folder: Url) -> Feed<'a> {
    Feed {
        title: &series.title,
        description: &series.description,
        home: &series.home,
        folder,
        language: &series.language,
        author: series.author.as_ref(),
        categories: &series.tags,
        image: series.image.as_ref().map(|cover| cover.url.clone()),
        icon: site.icon.as_ref().map(|icon| icon.url.as_str()),
        max_age: site.cache_max_age,
        hub,
        history: History::Complete,
        items: Vec::new(),
        podcast: series.podcast.as_ref(),
    }
}

fn item<'a>(episode: &'a Episode, series: &'a Series) -> Item<'a> {
    let author = episode.meta.author.as_ref().or(series.author.as_ref());
    Item { episode, author, content_html: std::sync::OnceLock::new() }
}

/// Newest first; ties (two episodes at the same instant) by permalink, so
/// the order never depends on how files were listed.
fn newest_first(episode: &Episode) -> impl Ord + '_ {
    (Reverse(episode.meta.published.timestamp), Reverse(episode.permalink.as_str()))
}

/// The three feed formats.
#[derive(Clone, Copy, Debug)]
enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];
}

/// The document in all three formats, in folder `dir` (`""`, `series/`,
/// or an archive's).
fn render_formats(
    feed: &Feed<'_>,
    dir: &str,
    changes_at: Option<Timestamp>,
    archive: Option<Archive>,
) -> [Output; 3] {
    Format::ALL.map(|format| render_format(feed, dir, changes_at, archive, format))
}

fn render_format(
    feed: &Feed<'_>,
    dir: &str,
    changes_at: Option<Timestamp>,
    archive: Option<Archive>,
    format: Format,
) -> Output {
    let (name, kind, bytes) = match format {
        Format::Rss => (RSS, OutputKind::Rss, rss::render(feed)),
        Format::Atom => (ATOM, OutputKind::Atom, atom::render(feed)),
        Format::Json => (JSON, OutputKind::JsonFeed, json::render(feed)),
    };
    let bulk = archive.is_some();
    let body = Body::Fresh(Bytes::from(bytes));
    Output { path: format!("{dir}{name}"), kind, body, changes_at, archive, bulk, media_type: None }
}
