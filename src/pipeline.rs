//! The build driver: (content folder, now) → catalog, outputs, diagnostics.
//!
//! Reads the disk (it is the only library module besides `content::walk` and
//! `emit` that does) and runs the layers in order: walk → site and series
//! config → episodes (parsed in parallel) → links and bodies → feeds. Bad
//! files become diagnostics and are left out; the rest still builds, so one
//! run reports every problem.

use crate::content::{text, walk};
use crate::diagnostic::Diagnostic;
use crate::model::episode::{self, ParsedEpisode};
use crate::model::links::LinkTargets;
use crate::model::{Catalog, Episode, Series, SeriesEntry, Site, series, site};
use crate::render::{self, Output, OutputKind};
use jiff::Timestamp;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The result of one build. `outputs` is complete only when there are no
/// errors; callers must not publish it otherwise.
#[derive(Debug, Default)]
pub struct Build {
    pub catalog: Option<Catalog>,
    pub outputs: Vec<Output>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Build {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Errors in site.toml or a series.toml: the settings themselves are
    /// wrong, so nothing built from them may be published.
    pub fn has_config_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| {
            d.is_error() && d.path.file_name().is_some_and(|n| n == "site.toml" || n == "series.toml")
        })
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

/// Builds everything from `content` as of `now`.
pub fn build(content: &Path, now: Timestamp) -> Build {
    let mut diagnostics = Vec::new();
    let (tree, walk_problems) = match walk::scan(content) {
        Ok(found) => found,
        Err(problem) => return Build { diagnostics: vec![problem], ..Build::default() },
    };
    diagnostics.extend(walk_problems);

    let site_path = content.join("site.toml");
    let site = if site_path.is_file() {
        match read_text(&site_path, &mut diagnostics) {
            Some(text) => {
                let (site, problems) = site::parse(&site_path, &text);
                diagnostics.extend(problems);
                site
            }
            None => site::fallback(),
        }
    } else {
        diagnostics.push(Diagnostic::error(
            &site_path,
            "there is no site.toml: is this the content folder? It needs site.toml with title and base_url, and one folder per series",
        ));
        if tree.series.is_empty() {
            return Build { diagnostics, ..Build::default() };
        }
        site::fallback()
    };

    let mut targets = LinkTargets { assets: tree.assets, episodes: BTreeMap::new() };
    let mut all_series = Vec::new();
    for dir in &tree.series {
        let path = dir.series_toml();
        let series = match read_text(&path, &mut diagnostics) {
            Some(text) => {
                let (series, problems) = series::parse(&path, &dir.slug, &text, &site, &targets);
                diagnostics.extend(problems);
                series
            }
            None => series::fallback(&dir.slug, &site),
        };
        all_series.push((series, &dir.episodes));
    }

    let parsed = parse_episodes(content, &all_series, &mut diagnostics);
    targets.episodes = episode_permalinks(&all_series, &parsed);
    let catalog = assemble(
        site,
        all_series.iter().map(|(s, _)| s.clone()).collect(),
        parsed,
        &targets,
        &mut diagnostics,
    );
    check_unique_ids(&catalog, &mut diagnostics);

    let mut outputs = render::render_feeds(&catalog, now);
    outputs.extend(read_assets(content, &catalog, now, &mut diagnostics));
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    check_unique_paths(content, &outputs, &mut diagnostics);
    diagnostics.sort();
    Build { catalog: Some(catalog), outputs, diagnostics }
}

/// Reads and validates every episode file, in parallel (files are
/// independent until links are resolved).
fn parse_episodes(
    content: &Path,
    all_series: &[(Series, &Vec<std::path::PathBuf>)],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Vec<ParsedEpisode>> {
    let results: Vec<Vec<(Option<ParsedEpisode>, Vec<Diagnostic>)>> = all_series
        .par_iter()
        .map(|(series, files)| {
            files
                .par_iter()
                .map(|path| {
                    let source = source_key(content, path);
                    let mut problems = Vec::new();
                    let Some(text) = read_text(path, &mut problems) else { return (None, problems) };
                    let (parsed, more) = episode::parse(path, &source, &text, series);
                    problems.extend(more);
                    (parsed, problems)
                })
                .collect()
        })
        .collect();
    let mut per_series = Vec::with_capacity(results.len());
    for series_results in results {
        let mut episodes = Vec::new();
        for (parsed, problems) in series_results {
            diagnostics.extend(problems);
            episodes.extend(parsed);
        }
        per_series.push(drop_duplicate_numbers(episodes, diagnostics));
    }
    per_series
}

/// Two files with one number would share a permalink: both are refused.
fn drop_duplicate_numbers(
    mut episodes: Vec<ParsedEpisode>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<ParsedEpisode> {
    episodes.sort_by(|a, b| (a.meta.number, &a.meta.source).cmp(&(b.meta.number, &b.meta.source)));
    let mut taken: BTreeMap<u64, Vec<&ParsedEpisode>> = BTreeMap::new();
    for episode in &episodes {
        taken.entry(episode.meta.number).or_default().push(episode);
    }
    let mut refused = BTreeSet::new();
    for (number, holders) in taken.iter().filter(|(_, h)| h.len() > 1) {
        for holder in holders {
            let others: Vec<String> = holders
                .iter()
                .filter(|o| o.meta.path != holder.meta.path)
                .map(|o| o.meta.path.display().to_string())
                .collect();
            diagnostics.push(Diagnostic::error(
                &holder.meta.path,
                format!("episode number {number} is also used by {}; each episode of a series needs its own number", others.join(", ")),
            ));
            refused.insert(holder.meta.source.clone());
        }
    }
    episodes.retain(|e| !refused.contains(&e.meta.source));
    episodes
}

/// Every episode file's permalink, for links between episodes.
fn episode_permalinks(
    all_series: &[(Series, &Vec<std::path::PathBuf>)],
    parsed: &[Vec<ParsedEpisode>],
) -> BTreeMap<String, url::Url> {
    all_series
        .iter()
        .zip(parsed)
        .flat_map(|((series, _), episodes)| {
            episodes.iter().map(move |e| (e.meta.source.clone(), episode::permalink(series, e.meta.number)))
        })
        .collect()
}

fn assemble(
    site: Site,
    all_series: Vec<Series>,
    parsed: Vec<Vec<ParsedEpisode>>,
    targets: &LinkTargets,
    diagnostics: &mut Vec<Diagnostic>,
) -> Catalog {
    let base = site.base_url.clone();
    let mut entries = Vec::with_capacity(all_series.len());
    for (series, episodes) in all_series.into_iter().zip(parsed) {
        let assembled: Vec<(Episode, Vec<Diagnostic>)> =
            episodes.into_par_iter().map(|p| episode::assemble(p, &series, &base, targets)).collect();
        let mut episodes = Vec::with_capacity(assembled.len());
        for (episode, problems) in assembled {
            diagnostics.extend(problems);
            episodes.push(episode);
        }
        entries.push(SeriesEntry { series, episodes });
    }
    entries.sort_by(|a, b| a.series.slug.cmp(&b.series.slug));
    Catalog { site, series: entries }
}

/// Ids must be unique across the site, since the site feed mixes series.
fn check_unique_ids(catalog: &Catalog, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<&str, &Episode> = BTreeMap::new();
    for episode in catalog.series.iter().flat_map(|s| &s.episodes) {
        if let Some(first) = seen.insert(&episode.id, episode) {
            diagnostics.push(Diagnostic::error(
                &episode.meta.path,
                format!(
                    "id `{}` is also the id of {}; feed readers would treat them as one episode",
                    episode.id,
                    first.meta.path.display()
                ),
            ));
        }
    }
}

/// An asset named like a feed (`night/rss.xml`) would overwrite it.
fn check_unique_paths(content: &Path, outputs: &[Output], diagnostics: &mut Vec<Diagnostic>) {
    for pair in outputs.windows(2) {
        if pair[0].path == pair[1].path {
            diagnostics.push(Diagnostic::error(
                content.join(&pair[0].path),
                format!(
                    "this file would be published at the same address as a feed ({}); rename it",
                    pair[0].path
                ),
            ));
        }
    }
}

/// The files published episodes (and series covers) reference, copied as
/// they are. Files nothing published references are never copied.
fn read_assets(
    content: &Path,
    catalog: &Catalog,
    now: Timestamp,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Output> {
    let mut wanted = BTreeSet::new();
    for entry in &catalog.series {
        wanted.extend(entry.series.image.as_ref().and_then(|cover| cover.asset.clone()));
        for episode in entry.published(now) {
            wanted.extend(episode.assets.iter().cloned());
        }
    }
    wanted
        .into_iter()
        .filter_map(|path| match fs::read(content.join(&path)) {
            Ok(bytes) => Some(Output { path, kind: OutputKind::Asset, bytes, changes_at: None }),
            Err(e) => {
                diagnostics
                    .push(Diagnostic::error(content.join(&path), format!("cannot read this file: {e}")));
                None
            }
        })
        .collect()
}

/// `series/file.md`, the file's path in the content folder.
fn source_key(content: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(content).unwrap_or(path);
    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Reads a text file; problems (unreadable, not UTF-8, forbidden characters)
/// go to `diagnostics`.
fn read_text(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Option<String> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            diagnostics.push(Diagnostic::error(path, format!("cannot read this file: {e}")));
            return None;
        }
    };
    match text::decode(path, bytes) {
        Ok((text, warning)) => {
            diagnostics.extend(warning);
            Some(text)
        }
        Err(problem) => {
            diagnostics.push(problem);
            None
        }
    }
}
