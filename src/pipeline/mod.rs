//! The build driver: (content folder, now) → catalog, outputs, diagnostics.
//!
//! A [`Pipeline`] keeps what it read between runs, so that after an edit it
//! re-reads only the files that changed (plus what depends on them) and
//! renders the feeds again from episodes already assembled. `build` is one
//! run from nothing; `episodic serve` keeps one pipeline for its lifetime.
//!
//! Reads the disk (with `content::walk` and `emit`, the only library code
//! that does) and runs the layers in order: walk → site and series settings
//! → episodes (read in parallel) → links and bodies → feeds. Bad files
//! become diagnostics and are left out, or keep their last good version;
//! the rest still builds, so one run reports every problem.

mod assets;
mod claims;
mod config;
mod episodes;
mod media;
mod read;
mod templates;
#[cfg(test)]
mod tests;

use crate::content::text;
use crate::content::walk::{self, ContentTree};
use crate::diagnostic::Diagnostic;
use crate::model::links::LinkTargets;
use crate::model::{Catalog, SeriesEntry};
use crate::render::{self, Memo, Output, Sink};
use assets::Assets;
use config::Config;
use episodes::{Episodes, Wanted};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use templates::TemplateFolder;

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
    Pipeline::new(content).update(&Changes::Everything, now)
}

/// What changed since the last run, as far as the caller knows. Paths are
/// hints: the folder is listed again on every run, so files that appeared or
/// went are found even when no event named them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changes {
    /// Read every file again (first run, or events were lost).
    Everything,
    /// Read these files, and every file in these folders, again (and any
    /// new ones).
    Paths(BTreeSet<PathBuf>),
}

impl Changes {
    /// Folds `more` in: everything absorbs any paths.
    pub fn merge(&mut self, more: Changes) {
        match (self, more) {
            (Changes::Everything, _) => {}
            (changes, Changes::Everything) => *changes = Changes::Everything,
            (Changes::Paths(paths), Changes::Paths(more)) => paths.extend(more),
        }
    }
}

/// Where a file that is broken when first read finds the bytes it was last
/// published from (see `state::last_good`), keyed by its source key (its
/// path under the content folder, with `/`).
pub trait Recall: Send + Sync {
    fn recall(&self, source: &str) -> Option<Vec<u8>>;
}

/// An episode file, and the digest of its bytes when they are what is
/// published (no errors), for a [`Recall`] store to keep.
#[derive(Debug)]
pub struct Standing {
    pub source: String,
    pub path: PathBuf,
    pub good: Option<blake3::Hash>,
}

/// The content folder as last read.
pub struct Pipeline {
    content: PathBuf,
    config: Config,
    episodes: Episodes,
    /// Files that may be published as they are, as last read.
    assets: Assets,
    targets: LinkTargets,
    /// The last listing of the folder and the problems it found.
    listing: Option<(ContentTree, Vec<Diagnostic>)>,
    /// The writer's page templates, beside the content folder.
    templates: TemplateFolder,
    /// Archives and pages as last rendered, with what they were made from.
    memo: Memo,
}

impl Pipeline {
    pub fn new(content: &Path) -> Self {
        Pipeline {
            content: content.to_path_buf(),
            config: Config::default(),
            episodes: Episodes::default(),
            assets: Assets::default(),
            targets: LinkTargets::default(),
            listing: None,
            templates: TemplateFolder::beside(content),
            memo: Memo::default(),
        }
    }

    /// Keeps the podcast GUIDs an earlier build published (by series slug)
    /// for series that do not set their own.
    pub fn keep_podcast_guids(&mut self, guids: BTreeMap<String, String>) {
        self.config.podcast_guids = guids;
    }

    /// A file broken when first read is published from the bytes `store`
    /// kept of it, as the run that kept them served it.
    pub fn recall_from(&mut self, store: std::sync::Arc<dyn Recall>) {
        self.episodes.recall_from(store);
    }

    /// Every episode file, with the digest of its published bytes when the
    /// file is in good standing.
    pub fn standing(&self) -> Vec<Standing> {
        self.episodes.standing(&self.content)
    }

    /// Builds for `base_url` instead of site.toml's (a local preview).
    pub fn set_base_url(&mut self, base_url: url::Url) {
        self.config.base_url = Some(base_url);
    }

    pub fn content(&self) -> &Path {
        &self.content
    }

    /// Renders every document again on the next update, as a first build
    /// does (to rewrite files damaged in feeds/: their bytes are not kept).
    pub fn forget_rendered(&mut self) {
        self.memo = Memo::default();
    }

    /// The folder of the writer's page templates (which may not exist).
    pub fn templates(&self) -> &Path {
        self.templates.dir()
    }

    /// Brings the pipeline up to date with the content folder and builds
    /// everything as of `now`. A file that cannot be used now keeps its last
    /// good version; a folder that cannot be listed keeps everything.
    pub fn update(&mut self, changes: &Changes, now: Timestamp) -> Build {
        self.update_into(changes, now, &render::Keep)
    }

    /// [`update`](Self::update), handing the bulk documents to `sink` as
    /// they are rendered (`episodic build` writes them out at once).
    pub fn update_into(&mut self, changes: &Changes, now: Timestamp, sink: &dyn Sink) -> Build {
        let changes = &self.read_templates(changes);
        let mut diagnostics = Vec::new();
        match self.list(changes) {
            Ok((listing, came_or_went)) => {
                diagnostics.extend(listing.1.iter().cloned());
                self.apply(&listing.0, changes, came_or_went, &mut diagnostics);
                self.listing = Some(listing);
            }
            Err(problem) => diagnostics.push(problem),
        }
        self.finish(now, diagnostics, sink)
    }

    /// Reads the templates folder again if `changes` may touch it; returns
    /// the changes in the content folder.
    fn read_templates(&mut self, changes: &Changes) -> Changes {
        match changes {
            Changes::Everything => {
                self.templates.read();
                Changes::Everything
            }
            Changes::Paths(paths) => {
                let (templates, content): (BTreeSet<PathBuf>, BTreeSet<PathBuf>) =
                    paths.iter().cloned().partition(|path| self.templates.contains(path));
                if !templates.is_empty() {
                    self.templates.read();
                }
                Changes::Paths(content)
            }
        }
    }

    /// Reads what `changes` and the listing `tree` say may have changed.
    fn apply(
        &mut self,
        tree: &ContentTree,
        changes: &Changes,
        came_or_went: bool,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let named: HashSet<&Path> = match changes {
            Changes::Everything => HashSet::new(),
            Changes::Paths(paths) => paths.iter().map(PathBuf::as_path).collect(),
        };
        let hinted = |path: &Path| match changes {
            Changes::Everything => true,
            Changes::Paths(_) => !named.is_empty() && path.ancestors().any(|above| named.contains(above)),
        };
        let assets_moved: BTreeSet<String> =
            tree.assets.symmetric_difference(&self.targets.assets).cloned().collect();
        let assets_changed = self.assets.forget_changed(&self.content, &tree.assets, &hinted);
        self.targets.assets.clone_from(&tree.assets);
        let config = self.config.update(&self.content, &tree.series, &self.targets, diagnostics);
        let forced = config.site || !config.series.is_empty();
        let (mut wanted, gone) = match changes {
            // The usual edit: the same files, some of them saved. Only those
            // are looked at (not all 10,000).
            Changes::Paths(paths) if !came_or_went && !forced => {
                let wanted = paths
                    .iter()
                    .filter_map(|path| Some((path.clone(), self.episodes.slug_of(path)?.to_owned(), false)))
                    .collect();
                (wanted, BTreeSet::new())
            }
            _ => {
                let present: HashMap<&Path, &str> = tree
                    .series
                    .iter()
                    .flat_map(|dir| dir.episodes.iter().map(|path| (path.as_path(), dir.slug.as_str())))
                    .collect();
                let (new, gone) = self.episodes.retain(&present, &mut self.targets);
                let wanted: Vec<(PathBuf, String, bool)> = present
                    .iter()
                    .filter_map(|(&path, &slug)| {
                        let force = config.site || config.series.contains(slug);
                        (force || hinted(path) || new.contains(path))
                            .then(|| (path.to_path_buf(), slug.to_owned(), force))
                    })
                    .collect();
                (wanted, gone)
            }
        };
        for (path, slug) in self.episodes.waiting() {
            if !wanted.iter().any(|(p, _, _)| *p == path) {
                wanted.push((path, slug, true));
            }
        }
        let wanted: Vec<Wanted<'_>> =
            wanted.iter().map(|(path, slug, force)| Wanted { path, slug, force: *force }).collect();
        let (moved, mut assembled) = self.refresh_episodes(&wanted);
        // Links resolve to files and permalinks: re-resolve those pointing
        // at one that appeared, went or was renumbered (which may move more:
        // a few rounds at most, as each re-reads files not read before).
        let mut moved: BTreeSet<String> =
            moved.into_iter().chain(assets_moved).chain(assets_changed).chain(gone).collect();
        while !moved.is_empty() {
            let again: Vec<(PathBuf, String)> = self
                .episodes
                .linking_to(&moved)
                .into_iter()
                .filter(|(path, _)| !assembled.contains(*path))
                .map(|(path, slug)| (path.to_path_buf(), slug.to_owned()))
                .collect();
            if again.is_empty() {
                break;
            }
            let again: Vec<Wanted<'_>> =
                again.iter().map(|(path, slug)| Wanted { path, slug, force: true }).collect();
            let (more, done) = self.refresh_episodes(&again);
            assembled.extend(done);
            moved = more;
        }
    }

    /// The folder's files and the problems listing them: the last listing
    /// patched with `changes` when they allow it, a new listing otherwise;
    /// and whether files may have come or gone.
    fn list(&mut self, changes: &Changes) -> Result<((ContentTree, Vec<Diagnostic>), bool), Diagnostic> {
        if let (Changes::Paths(paths), Some(mut listing)) = (changes, self.listing.take()) {
            if let Some(came_or_went) = walk::patch(&mut listing.0, paths) {
                return Ok((listing, came_or_went));
            }
            // Partly patched: still good enough to stand in for a folder
            // that cannot be listed below.
            self.listing = Some(listing);
        }
        let (mut tree, problems) = walk::scan(&self.content)?;
        // A series folder that cannot be listed right now (a network
        // filesystem's hiccup) keeps its last listing: its episodes stay up.
        if let Some((before, _)) = &self.listing {
            for slug in &tree.unreadable {
                if let Some(dir) = before.series.iter().find(|d| d.slug == *slug) {
                    tree.series.push(dir.clone());
                    let prefix = format!("{slug}/");
                    tree.assets.extend(before.assets.iter().filter(|a| a.starts_with(&prefix)).cloned());
                }
            }
            tree.series.sort_by(|a, b| a.slug.cmp(&b.slug));
        }
        Ok(((tree, problems), true))
    }

    fn refresh_episodes(&mut self, wanted: &[Wanted<'_>]) -> (BTreeSet<String>, HashSet<PathBuf>) {
        let Some((site, _)) = self.config.site() else { return Default::default() };
        let base = site.base_url.clone();
        let config = &self.config;
        let series = |slug: &str| config.series(slug).map(|c| c.in_use.clone());
        self.episodes.refresh(&self.content, wanted, &series, &base, &mut self.targets)
    }

    /// The catalog and outputs from what the pipeline now holds.
    fn finish(&mut self, now: Timestamp, mut diagnostics: Vec<Diagnostic>, sink: &dyn Sink) -> Build {
        diagnostics.extend(self.episodes.problems().cloned());
        let Some((site, publishable)) = self.config.site() else {
            diagnostics.sort();
            return Build { diagnostics, ..Build::default() };
        };
        let mut entries = Vec::new();
        for slug in self.config.slugs() {
            let Some(series) = self.config.series(slug).and_then(|c| c.good.clone()) else { continue };
            entries.push(SeriesEntry { series, episodes: self.episodes.of_series(slug) });
        }
        let catalog = Catalog { site: site.clone(), series: entries };
        let rendered = render::render_all(&catalog, now, self.templates.templates(), &mut self.memo, sink);
        let mut outputs = rendered.outputs;
        diagnostics.extend(self.templates.problems().iter().cloned());
        let failed: BTreeSet<_> = rendered.problems.into_iter().collect();
        diagnostics.extend(failed.iter().map(|problem| self.templates.render_problem(problem)));
        outputs.extend(self.assets.outputs(&self.content, &catalog, now, &mut diagnostics));
        outputs.extend(assets::favicon(&self.content, &catalog, &outputs, &mut diagnostics));
        diagnostics.extend(media::check_podcasts(&self.content, &catalog));
        outputs.sort_by(|a, b| a.path.cmp(&b.path));
        assets::check_unique_paths(&self.content, &outputs, &mut diagnostics);
        diagnostics.sort();
        Build { catalog: publishable.then_some(catalog), outputs, diagnostics }
    }
}

/// `series/file.md`, the file's path in the content folder.
fn source_key(content: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(content).unwrap_or(path);
    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Reads a text file (unless its `bytes` are at hand); problems
/// (unreadable, not UTF-8, forbidden characters) go to `diagnostics`.
fn read_text(path: &Path, bytes: Option<Vec<u8>>, diagnostics: &mut Vec<Diagnostic>) -> Option<String> {
    let bytes = match bytes.map_or_else(|| fs::read(path), Ok) {
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
