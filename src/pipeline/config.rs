//! site.toml and each series.toml, read again on every run (they are
//! small) and kept as their last good version: a settings file with errors
//! never replaces settings that worked.

use super::read_text;
use crate::content::walk::SeriesDir;
use crate::diagnostic::Diagnostic;
use crate::model::links::LinkTargets;
use crate::model::{Series, Site, series, site};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use url::Url;

/// The settings in use, and which of them changed in this run.
#[derive(Default)]
pub(super) struct Config {
    /// The last site.toml that had no errors.
    site: Option<Site>,
    /// Stands in while there is no good site.toml, so that episodes can
    /// still be checked; nothing built on it may be published.
    provisional_site: Option<Site>,
    /// By slug: the last good settings of each series folder present.
    series: BTreeMap<String, SeriesConfig>,
    /// By slug: each podcast's GUID as first published (from the last
    /// build's manifest, or this run's first build), kept when the feed's
    /// address changes.
    pub podcast_guids: BTreeMap<String, String>,
    /// Stands in for site.toml's `base_url` (`--base-url`: a local preview).
    pub base_url: Option<Url>,
}

pub(super) struct SeriesConfig {
    /// `None` until its series.toml has been read without errors: the
    /// series is left out until then.
    pub good: Option<Series>,
    /// What its episodes are checked against: `good`, or a stand-in.
    pub in_use: Series,
}

/// What changed in [`Config::update`].
pub(super) struct ConfigChanges {
    pub site: bool,
    /// Slugs whose settings changed (or that appeared).
    pub series: BTreeSet<String>,
}

impl Config {
    /// The site settings episodes are built with, and whether they may be
    /// published (false while only a stand-in exists).
    pub fn site(&self) -> Option<(&Site, bool)> {
        match (&self.site, &self.provisional_site) {
            (Some(site), _) => Some((site, true)),
            (None, Some(site)) => Some((site, false)),
            (None, None) => None,
        }
    }

    /// The series folders present, by slug.
    pub fn slugs(&self) -> impl Iterator<Item = &str> {
        self.series.keys().map(String::as_str)
    }

    pub fn series(&self, slug: &str) -> Option<&SeriesConfig> {
        self.series.get(slug)
    }

    /// Reads site.toml and every series.toml in `dirs`. Folders gone from
    /// `dirs` are forgotten: removing a series is a deliberate edit.
    pub fn update(
        &mut self,
        content: &Path,
        dirs: &[SeriesDir],
        targets: &LinkTargets,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> ConfigChanges {
        let site = self.update_site(content, dirs.is_empty(), targets, diagnostics);
        let Some((site_in_use, _)) = self.site() else {
            return ConfigChanges { site, series: BTreeSet::new() };
        };
        let site_in_use = site_in_use.clone();
        let mut changed = BTreeSet::new();
        let mut present = BTreeMap::new();
        for dir in dirs {
            let path = dir.series_toml();
            let mut problems = Vec::new();
            let parsed = read_text(&path, None, &mut problems).map(|text| {
                let published = self.podcast_guids.get(&dir.slug).map(String::as_str);
                let (series, more) = series::parse(&path, &dir.slug, &text, &site_in_use, targets, published);
                problems.extend(more);
                series
            });
            let ok = !problems.iter().any(Diagnostic::is_error);
            diagnostics.extend(problems);
            let previous = self.series.remove(&dir.slug);
            let previous_good = previous.and_then(|p| p.good);
            let config = match (parsed, ok) {
                (Some(series), true) => {
                    if let Some(podcast) = &series.podcast {
                        self.podcast_guids.insert(dir.slug.clone(), podcast.guid.clone());
                    }
                    SeriesConfig { good: Some(series.clone()), in_use: series }
                }
                (parsed, _) => match previous_good.clone() {
                    Some(good) => SeriesConfig { in_use: good.clone(), good: Some(good) },
                    None => SeriesConfig {
                        good: None,
                        in_use: parsed.unwrap_or_else(|| series::fallback(&dir.slug, &site_in_use)),
                    },
                },
            };
            if config.good.is_none() || config.good.as_ref() != previous_good.as_ref() {
                changed.insert(dir.slug.clone());
            }
            present.insert(dir.slug.clone(), config);
        }
        self.series = present;
        ConfigChanges { site, series: changed }
    }

    /// Returns whether the site settings in use changed.
    fn update_site(
        &mut self,
        content: &Path,
        no_series: bool,
        targets: &LinkTargets,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> bool {
        let path = content.join("site.toml");
        let mut problems = Vec::new();
        let parsed = if path.is_file() {
            read_text(&path, None, &mut problems).map(|text| {
                let (site, more) = site::parse(&path, &text, targets, self.base_url.as_ref());
                problems.extend(more);
                site
            })
        } else {
            problems.push(Diagnostic::error(
                &path,
                "there is no site.toml: is this the content folder? It needs site.toml with title and base_url, and one folder per series",
            ));
            None
        };
        let ok = !problems.iter().any(Diagnostic::is_error);
        diagnostics.extend(problems);
        match (parsed, ok) {
            (Some(site), true) => {
                let changed = self.site.as_ref() != Some(&site);
                self.site = Some(site);
                self.provisional_site = None;
                changed
            }
            (parsed, _) if self.site.is_none() => {
                // Nothing good yet: check the episodes against what could be
                // read, unless there is nothing to check at all.
                let stand_in =
                    (!no_series || parsed.is_some()).then(|| parsed.unwrap_or_else(site::fallback));
                let changed = stand_in.is_some() && self.provisional_site.is_none();
                self.provisional_site = stand_in;
                changed
            }
            _ => false,
        }
    }
}
