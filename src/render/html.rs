//! Pages for people, through minijinja templates: `/` lists the series,
//! `/{series}/` shows one with its subscribe links and every published
//! episode in reading order, `/{series}/{number}/` shows an episode with
//! previous/next links. Feed items link to these pages, so no item link is
//! a 404; only published episodes have one, so nothing unpublished leaks.
//!
//! Every page names its feeds with `<link rel="alternate">` (autodiscovery
//! by feed readers), and carries a canonical link, `lang` and Open Graph
//! tags. The built-in templates (`templates/`) can be replaced one by one by
//! files of the same name in the writer's templates folder; a writer's
//! template that fails on a page is reported, and the built-in one renders
//! that page instead. Text is autoescaped; only the episode body, already
//! rendered from Markdown, goes in as it is. What templates see is in
//! `views`.

use super::memo::Memo;
use super::views::{
    DateView, EpisodeLink, EpisodeView, LinkObject, LinkView, MediaView, PageMeta, SeriesView, SiteView,
    author, feed_links, podcast_feed, words,
};
use super::{Output, OutputKind, SUBSCRIPTIONS, Sink};
use crate::model::{Catalog, Episode, Series, Site};
use jiff::Timestamp;
use minijinja::{Environment, Value, context};
use rayon::prelude::*;
use std::fmt::Write;
use std::sync::Arc;

/// The built-in templates, by name.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("subscribe.html", include_str!("templates/subscribe.html")),
    ("style.css", include_str!("templates/style.css")),
    ("index.html", include_str!("templates/index.html")),
    ("series.html", include_str!("templates/series.html")),
    ("episode.html", include_str!("templates/episode.html")),
];

/// A template that could not be used: its name in the templates folder,
/// the line, and what is wrong, in minijinja's words.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TemplateProblem {
    pub name: String,
    pub line: Option<u32>,
    pub message: String,
}

impl TemplateProblem {
    fn of(error: &minijinja::Error, fallback_name: &str) -> Self {
        let mut message = error.kind().to_string();
        if let Some(detail) = error.detail() {
            message = format!("{message}: {detail}");
        }
        TemplateProblem {
            name: error.name().unwrap_or(fallback_name).to_owned(),
            line: error.line().and_then(|l| u32::try_from(l).ok()),
            message,
        }
    }
}

/// The templates pages are rendered with: the writer's where given, the
/// built-in ones otherwise (and whenever a writer's fails).
pub struct Templates {
    active: Environment<'static>,
    built_in: Environment<'static>,
    customised: bool,
}

impl Templates {
    pub fn built_in() -> Self {
        Templates { active: environment(&[]).0, built_in: environment(&[]).0, customised: false }
    }

    /// The built-in templates with `overrides` (name, source) on top; one
    /// that does not parse is left out and reported.
    pub fn new(overrides: &[(String, String)]) -> (Self, Vec<TemplateProblem>) {
        let (active, problems) = environment(overrides);
        let templates = Templates { active, built_in: environment(&[]).0, customised: !overrides.is_empty() };
        (templates, problems)
    }

    /// Renders `name`; a failing writer's template falls back to the
    /// built-in one, and the problem is returned with the page.
    fn render(&self, name: &str, ctx: &Value) -> (String, Option<TemplateProblem>) {
        let attempt = self.active.get_template(name).and_then(|t| t.render(ctx));
        match attempt {
            Ok(html) => (html, None),
            Err(error) => {
                let problem = TemplateProblem::of(&error, name);
                let html = self
                    .built_in
                    .get_template(name)
                    .and_then(|t| t.render(ctx))
                    .unwrap_or_else(|e| format!("<!doctype html><title>{name}</title><p>{e}</p>"));
                debug_assert!(self.customised, "a built-in template failed: {error:#}");
                (html, Some(problem))
            }
        }
    }
}

fn environment(overrides: &[(String, String)]) -> (Environment<'static>, Vec<TemplateProblem>) {
    let mut env = Environment::new();
    for (name, source) in BUILT_IN {
        env.add_template(name, source).expect("the built-in templates parse");
    }
    let mut problems = Vec::new();
    for (name, source) in overrides {
        if let Err(error) = env.add_template_owned(name.clone(), source.clone()) {
            problems.push(TemplateProblem::of(&error, name));
            // The built-in one (if any) stays.
            if let Some((built_in_name, built_in)) = BUILT_IN.iter().find(|(n, _)| n == name) {
                env.add_template(built_in_name, built_in).expect("the built-in templates parse");
            }
        }
    }
    (env, problems)
}

/// The pages' one stylesheet, `/style.css`, so that no page repeats it.
pub fn render_stylesheet(site: &Site, templates: &Templates) -> (Output, Option<TemplateProblem>) {
    let ctx = context! { site => Value::from_serialize(SiteView::of(site)) };
    let (css, problem) = templates.render("style.css", &ctx);
    (Output::new("style.css".to_owned(), OutputKind::Asset, css), problem)
}

/// The site's index page: every series, and the site-wide feeds.
pub fn render_index(
    catalog: &Catalog,
    now: Timestamp,
    changes_at: Option<Timestamp>,
    templates: &Templates,
) -> (Output, Option<TemplateProblem>) {
    let site = &catalog.site;
    let series: Vec<SeriesView<'_>> = catalog
        .series
        .iter()
        .map(|entry| {
            let latest = entry.published(now).max_by_key(|e| (e.meta.published.timestamp, e.meta.number));
            SeriesView::of(&entry.series, latest)
        })
        .collect();
    let page = PageMeta {
        kind: "website",
        title: &site.title,
        description: &site.description,
        url: site.base_url.as_str(),
        image: catalog.series.iter().find_map(|e| e.series.image.as_ref()).map(|c| c.url.as_str()),
        lang: &site.language,
        feeds: feed_links(&site.title, &site.base_url),
        opml: Some(LinkView::of(&site.base_url, SUBSCRIPTIONS)),
        podcast: None,
    };
    let ctx = context! {
        page => Value::from_serialize(&page),
        site => Value::from_serialize(SiteView::of(site)),
        series => Value::from_serialize(&series),
        words => Value::from_serialize(words(&site.language)),
    };
    let (html, problem) = templates.render("index.html", &ctx);
    let mut output = Output::new("index.html".to_owned(), OutputKind::Page, html);
    output.changes_at = changes_at;
    (output, problem)
}

/// A series' page and one page per published episode (`published` newest
/// first). Episode pages whose episode and neighbours did not change are
/// taken from `memo`.
pub fn render_series_pages(
    site: &Site,
    series: &Series,
    published: &[&Arc<Episode>],
    changes_at: Option<Timestamp>,
    templates: &Templates,
    memo: &mut Memo,
    sink: &dyn Sink,
) -> (Vec<Output>, Vec<TemplateProblem>) {
    let mut reading: Vec<&Arc<Episode>> = published.to_vec();
    reading.sort_by_key(|e| e.meta.number);
    let mut outputs = Vec::with_capacity(reading.len() + 1);
    let mut problems = Vec::new();
    let (index, problem) = render_series_index(site, series, &reading, changes_at, templates, memo);
    outputs.extend(index);
    problems.extend(problem);

    // An episode page shows its neighbours' titles; the newest gains a
    // "next" link when the next scheduled episode goes live.
    let mut missing = Vec::new();
    // Written again for each of 10,000 pages: no allocation on a hit.
    let (mut name, mut rest) = (String::new(), String::new());
    for (i, &episode) in reading.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| reading[p]);
        let next = reading.get(i + 1).copied();
        let changes_at = if next.is_none() { changes_at } else { None };
        let mut shown = [episode; 3];
        let mut count = 0;
        for neighbour in [prev, Some(episode), next].into_iter().flatten() {
            shown[count] = neighbour;
            count += 1;
        }
        name.clear();
        rest.clear();
        let _ = write!(name, "{}", episode.meta.number);
        let _ = write!(rest, "{}{}{changes_at:?}", prev.is_some(), next.is_some());
        match memo.get(&series.slug, &name, &shown[..count], &rest) {
            Some(kept) => outputs.extend(kept),
            None => {
                let (name, rest) = (name.clone(), rest.clone());
                missing.push(Unmade { name, rest, shown, count, episode, prev, next, changes_at });
            }
        }
    }
    let made: Vec<_> = missing
        .into_par_iter()
        .map(|page| {
            let (html, problem) = render_episode(site, series, page.episode, page.prev, page.next, templates);
            let path = format!("{}/{}/index.html", series.slug, page.name);
            let mut output = Output::new(path, OutputKind::Page, html);
            output.changes_at = page.changes_at;
            output.bulk = true;
            (page, sink.take(output), problem)
        })
        .collect();
    for (page, output, problem) in made {
        match problem {
            // Not remembered: the problem must be reported again next time.
            Some(problem) => problems.push(problem),
            None => {
                memo.put(&series.slug, &page.name, &page.shown[..page.count], page.rest, vec![output.clone()])
            }
        }
        outputs.push(output);
    }
    (outputs, problems)
}

/// The name the series page is remembered by (episode pages go by number,
/// archive blocks by folder).
const SERIES_INDEX: &str = "index.html";

/// A series' page, listing `reading` (in reading order). It shows each
/// episode's number, title, address and date, nothing of its text: after
/// an edit of an episode's text it is taken from `memo` as it was.
fn render_series_index(
    site: &Site,
    series: &Series,
    reading: &[&Arc<Episode>],
    changes_at: Option<Timestamp>,
    templates: &Templates,
    memo: &mut Memo,
) -> (Vec<Output>, Option<TemplateProblem>) {
    // Asked of the memo even when the page is not rendered: links it does
    // not see used in a run are forgotten.
    let episodes: Vec<Value> = reading
        .iter()
        .map(|e| memo.link(&series.slug, e, || LinkObject::value(e, &series.timezone)))
        .collect();
    let rest = format!("{changes_at:?}");
    if let Some(kept) = memo.get_alike(&series.slug, SERIES_INDEX, reading, &rest, listed_alike) {
        return (kept, None);
    }
    let page = PageMeta {
        kind: "website",
        title: &series.title,
        description: &series.description,
        url: series.home.as_str(),
        image: series.image.as_ref().map(|c| c.url.as_str()),
        lang: &series.language,
        feeds: feed_links(&series.title, &series.home),
        opml: None,
        podcast: podcast_feed(series),
    };
    let ctx = context! {
        page => Value::from_serialize(&page),
        site => Value::from_serialize(SiteView::of(site)),
        series => Value::from_serialize(SeriesView::of(series, reading.last().map(|e| e.as_ref()))),
        episodes => Value::from(episodes),
        words => Value::from_serialize(words(&series.language)),
    };
    let (html, problem) = templates.render("series.html", &ctx);
    let mut index = Output::new(format!("{}/index.html", series.slug), OutputKind::Page, html);
    index.changes_at = changes_at;
    if problem.is_none() {
        memo.put(&series.slug, SERIES_INDEX, reading, rest, vec![index.clone()]);
    }
    (vec![index], problem)
}

/// Whether two versions of an episode show the same in a series' list.
fn listed_alike(a: &Episode, b: &Episode) -> bool {
    a.meta.number == b.meta.number
        && a.title == b.title
        && a.permalink == b.permalink
        && a.meta.published.timestamp == b.meta.published.timestamp
}

/// An episode page the memo did not have, and what it shows.
struct Unmade<'e> {
    name: String,
    rest: String,
    /// The episode and its neighbours (the first `count`).
    shown: [&'e Arc<Episode>; 3],
    count: usize,
    episode: &'e Arc<Episode>,
    prev: Option<&'e Arc<Episode>>,
    next: Option<&'e Arc<Episode>>,
    changes_at: Option<Timestamp>,
}

fn render_episode(
    site: &Site,
    series: &Series,
    episode: &Episode,
    prev: Option<&Arc<Episode>>,
    next: Option<&Arc<Episode>>,
    templates: &Templates,
) -> (String, Option<TemplateProblem>) {
    let tz = &series.timezone;
    let page = PageMeta {
        kind: "article",
        title: &episode.title,
        description: &episode.summary,
        url: episode.permalink.as_str(),
        image: episode.image.as_deref().or(series.image.as_ref().map(|c| c.url.as_str())),
        lang: &series.language,
        feeds: feed_links(&series.title, &series.home),
        opml: None,
        podcast: podcast_feed(series),
    };
    let view = EpisodeView {
        number: episode.meta.number,
        title: &episode.title,
        url: episode.permalink.as_str(),
        path: episode.permalink.path(),
        date: DateView::of(episode.meta.published.timestamp, tz),
        updated: DateView::of(episode.meta.updated.timestamp, tz),
        summary: &episode.summary,
        image: episode.image.as_deref(),
        tags: &episode.meta.tags,
        author: author(episode.meta.author.as_ref().or(series.author.as_ref())),
        media: episode.media.as_ref().map(MediaView::of),
        transcript: episode.transcript.as_ref().map(|t| t.url.as_str()),
    };
    let ctx = context! {
        page => Value::from_serialize(&page),
        site => Value::from_serialize(SiteView::of(site)),
        series => Value::from_serialize(SeriesView::of(series, None)),
        episode => Value::from_serialize(&view),
        content => Value::from_safe_string(episode.content_html.unpack()),
        prev => Value::from_serialize(prev.map(|e| EpisodeLink::of(e, tz))),
        next => Value::from_serialize(next.map(|e| EpisodeLink::of(e, tz))),
        words => Value::from_serialize(words(&series.language)),
    };
    templates.render("episode.html", &ctx)
}
