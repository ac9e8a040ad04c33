//! Every episode file, kept between runs: the digest of the bytes last read,
//! the problems found in them, and the last version that was good enough to
//! publish. A file whose new bytes have errors keeps serving that version,
//! so a half-finished edit never takes an episode down; one broken when
//! first read is published from the bytes a [`Recall`] store kept of it.

use super::claims::{Claim, Holders};
use super::media;
use super::read::{Read, read_episode};
use super::{Recall, Standing, read_text, source_key};
use crate::diagnostic::Diagnostic;
use crate::model::episode::{self, ParsedEpisode};
use crate::model::links::LinkTargets;
use crate::model::{Episode, Series};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use url::Url;

/// Hashed by path: a rebuild looks up every file of the folder, and
/// ordered maps compare paths component by component (20 ms for 10,000).
/// Nothing is output in this map's order.
#[derive(Default)]
pub(super) struct Episodes {
    files: HashMap<PathBuf, EpisodeFile>,
    /// Files refused because their number was taken: read again on every
    /// run, so each goes live once its number is free.
    waiting: BTreeSet<PathBuf>,
    /// Who holds each number and id among the published versions.
    holders: Holders,
    /// Where a file broken when first read finds its last good bytes.
    recall: Option<Arc<dyn Recall>>,
}

struct EpisodeFile {
    slug: String,
    /// Of the bytes last read; `None` when they could not be read.
    digest: Option<blake3::Hash>,
    /// Found in the bytes last read (errors mean `episode` is older).
    problems: Vec<Diagnostic>,
    /// The last version that was published, if any.
    episode: Option<Arc<Episode>>,
}

impl EpisodeFile {
    /// What its published version holds.
    fn held(&self) -> Option<[Claim<'_>; 2]> {
        self.episode.as_ref().map(|e| Claim::held(&self.slug, e))
    }
}

/// One file to read in this run.
pub(super) struct Wanted<'a> {
    pub path: &'a Path,
    pub slug: &'a str,
    /// Read and check it even if its bytes are unchanged (its series'
    /// settings or its links changed).
    pub force: bool,
}

/// A file's new version, checked but not yet accepted.
struct Candidate {
    path: PathBuf,
    parsed: ParsedEpisode,
    /// Its last good bytes, kept by an earlier run, not what is on disk.
    recalled: bool,
}

impl Episodes {
    /// Makes the cache hold exactly `present` (path → series slug). Returns
    /// the paths new to it, and drops the permalinks of files that went from
    /// `targets`, returning their content paths.
    pub fn retain(
        &mut self,
        present: &HashMap<&Path, &str>,
        targets: &mut LinkTargets,
    ) -> (HashSet<PathBuf>, BTreeSet<String>) {
        let mut gone = BTreeSet::new();
        let holders = &mut self.holders;
        self.files.retain(|path, file| {
            let keep = present.get(path.as_path()).is_some_and(|slug| *slug == file.slug);
            if !keep && let Some(episode) = &file.episode {
                holders.remove(path, &file.slug, episode);
                targets.episodes.remove(&episode.meta.source);
                gone.insert(episode.meta.source.clone());
            }
            keep
        });
        let new =
            present.keys().filter(|path| !self.files.contains_key(**path)).map(|p| p.to_path_buf()).collect();
        (new, gone)
    }

    /// Reads, checks and assembles the `wanted` files, then accepts every new
    /// version that is valid and whose number is its own. Returns the
    /// content paths whose permalink changed (appeared, went, renumbered), for
    /// the caller to re-resolve the links that point at them, and the files
    /// assembled (whose links are resolved already).
    pub fn refresh(
        &mut self,
        content: &Path,
        wanted: &[Wanted<'_>],
        series: &(dyn Fn(&str) -> Option<Series> + Sync),
        base: &Url,
        targets: &mut LinkTargets,
    ) -> (BTreeSet<String>, HashSet<PathBuf>) {
        let read: Vec<(PathBuf, String, Option<blake3::Hash>, Option<Read>)> = wanted
            .par_iter()
            .map(|w| {
                let known = self.files.get(w.path).and_then(|f| f.digest).filter(|_| !w.force);
                let (digest, read) = match series(w.slug) {
                    Some(series) => read_episode(content, w.path, &series, known),
                    None => (known, None),
                };
                (w.path.to_path_buf(), w.slug.to_owned(), digest, read)
            })
            .collect();
        let mut candidates = Vec::new();
        for (path, slug, digest, read) in read {
            let first_read = !self.files.contains_key(&path);
            let file = self.files.entry(path.clone()).or_insert_with(|| EpisodeFile {
                slug,
                digest: None,
                problems: Vec::new(),
                episode: None,
            });
            file.digest = digest;
            match read {
                None => {}
                Some(Read::Failed(problems)) => {
                    file.problems = problems;
                    let recalled = first_read.then(|| self.recall(content, &path, series)).flatten();
                    if let Some(parsed) = recalled {
                        candidates.push(Candidate { path, parsed, recalled: true });
                    }
                }
                Some(Read::Parsed(parsed, problems)) => {
                    file.problems = problems;
                    candidates.push(Candidate { path, parsed: *parsed, recalled: false });
                }
            }
        }
        let mut moved = BTreeSet::new();
        let dropped = self.refuse_duplicates(&mut candidates, series);
        for source in dropped {
            targets.episodes.remove(&source);
            moved.insert(source);
        }
        for candidate in &candidates {
            let slug = self.files.get(&candidate.path).map(|f| f.slug.as_str());
            if let Some(series) = slug.and_then(series) {
                let meta = &candidate.parsed.meta;
                let permalink = episode::permalink(&series, meta.number);
                if targets.episodes.get(&meta.source) != Some(&permalink) {
                    targets.episodes.insert(meta.source.clone(), permalink);
                    moved.insert(meta.source.clone());
                }
            }
        }

        let assembled: Vec<(PathBuf, Episode, Vec<Diagnostic>)> = candidates
            .into_par_iter()
            .filter_map(|Candidate { path, parsed, recalled }| {
                let series = series(&self.files.get(&path)?.slug)?;
                let measure = |asset: &str| media::measure(&content.join(asset));
                let (episode, mut problems) = episode::assemble(parsed, &series, base, targets, &measure);
                // The file's own problems are what the writer must see.
                if recalled {
                    problems.retain(Diagnostic::is_error);
                }
                Some((path, episode, problems))
            })
            .collect();
        let mut done = HashSet::with_capacity(assembled.len());
        for (path, episode, problems) in assembled {
            self.waiting.remove(&path);
            if let Some(file) = self.files.get_mut(&path) {
                // Its media is missing or unreadable: the last good version
                // stays published.
                let refused = problems.iter().any(Diagnostic::is_error);
                file.problems.extend(problems);
                if refused {
                    continue;
                }
                if let Some(earlier) = &file.episode {
                    self.holders.remove(&path, &file.slug, earlier);
                }
                self.holders.add(&path, &file.slug, &episode);
                file.episode = Some(Arc::new(episode));
                done.insert(path);
            }
        }
        (moved, done)
    }

    pub fn recall_from(&mut self, store: Arc<dyn Recall>) {
        self.recall = Some(store);
    }

    /// The last good version of a file broken when first read, from the
    /// bytes kept of it; `None` when none were kept (or they no longer
    /// parse, e.g. its series' settings changed).
    fn recall(
        &self,
        content: &Path,
        path: &Path,
        series: &(dyn Fn(&str) -> Option<Series> + Sync),
    ) -> Option<ParsedEpisode> {
        let source = source_key(content, path);
        let bytes = self.recall.as_ref()?.recall(&source)?;
        let series = series(self.slug_of(path)?)?;
        let text = read_text(path, Some(bytes), &mut Vec::new())?;
        let (parsed, problems) = episode::parse(path, &source, &text, &series);
        tracing::info!(file = %path.display(), "has errors: serving the version last published from it");
        parsed.filter(|_| !problems.iter().any(Diagnostic::is_error))
    }

    /// Every file, with the digest of its bytes when they are what is
    /// published.
    pub fn standing(&self, content: &Path) -> Vec<Standing> {
        self.files
            .iter()
            .map(|(path, file)| {
                let good = !file.problems.iter().any(Diagnostic::is_error) && file.episode.is_some();
                Standing {
                    source: source_key(content, path),
                    path: path.clone(),
                    good: file.digest.filter(|_| good),
                }
            })
            .collect()
    }

    /// Files waiting for their number to be free, with their series.
    pub fn waiting(&self) -> Vec<(PathBuf, String)> {
        self.waiting.iter().filter_map(|p| Some((p.clone(), self.slug_of(p)?.to_owned()))).collect()
    }

    /// The series of a file known to the cache.
    pub fn slug_of(&self, path: &Path) -> Option<&str> {
        self.files.get(path).map(|f| f.slug.as_str())
    }

    /// Files whose published version links to one of `paths`.
    pub fn linking_to(&self, paths: &BTreeSet<String>) -> Vec<(&Path, &str)> {
        if paths.is_empty() {
            return Vec::new();
        }
        self.files
            .iter()
            .filter(|(_, file)| {
                file.episode.as_ref().is_some_and(|e| e.links.iter().any(|link| paths.contains(link)))
            })
            .map(|(path, file)| (path.as_path(), file.slug.as_str()))
            .collect()
    }

    /// Two files with one number would share a permalink, and two episodes
    /// with one id (anywhere in the site) would be one episode to readers.
    /// The file that already had the number or id keeps it; the other is
    /// refused and keeps its last published version if that had another.
    /// With no such holder (a first build), all of them are refused.
    /// Returns the content paths of published episodes taken down.
    fn refuse_duplicates(
        &mut self,
        candidates: &mut Vec<Candidate>,
        series: &(dyn Fn(&str) -> Option<Series> + Sync),
    ) -> Vec<String> {
        // A refused file falling back to its old version can clash again;
        // each pass refuses someone, so this ends.
        let mut dropped = Vec::new();
        while self.refuse_duplicates_once(candidates, series, &mut dropped) {}
        dropped
    }

    fn refuse_duplicates_once(
        &mut self,
        candidates: &mut Vec<Candidate>,
        series: &(dyn Fn(&str) -> Option<Series> + Sync),
        taken_down: &mut Vec<String>,
    ) -> bool {
        let ids: Vec<Option<String>> = candidates
            .iter()
            .map(|c| match &c.parsed.meta.id {
                Some(id) => Some(id.clone()),
                None => {
                    let series = series(&self.files.get(&c.path)?.slug)?;
                    Some(episode::permalink(&series, c.parsed.meta.number).to_string())
                }
            })
            .collect();
        let new_claims: HashMap<&Path, [Claim<'_>; 2]> = candidates
            .iter()
            .zip(&ids)
            .filter_map(|(c, id)| {
                let file = self.files.get(&c.path)?;
                let claims = [Claim::Number(&file.slug, c.parsed.meta.number), Claim::Id(id.as_deref()?)];
                Some((c.path.as_path(), claims))
            })
            .collect();
        // Only what a new version claims can clash (what is published was
        // distinct): collect just the holders of that.
        let contested: HashSet<&Claim<'_>> = new_claims.values().flatten().collect();
        let mut holders: BTreeMap<&Claim<'_>, Vec<(&Path, bool)>> = BTreeMap::new();
        // A new version claims what it claims, whatever its file held.
        for (&path, claims) in &new_claims {
            let held = self.files.get(path).and_then(EpisodeFile::held);
            for claim in claims.iter().filter(|c| contested.contains(c)) {
                let was_held = held.as_ref().is_some_and(|h| h.contains(claim));
                holders.entry(claim).or_default().push((path, was_held));
            }
        }
        // Every other file holds what it published.
        for &claim in &contested {
            for path in self.holders.of(claim).filter(|path| !new_claims.contains_key(path)) {
                holders.entry(claim).or_default().push((path, true));
            }
        }
        let mut refused: BTreeMap<PathBuf, Diagnostic> = BTreeMap::new();
        let mut dropped: BTreeSet<PathBuf> = BTreeSet::new();
        for (claim, holders) in holders.iter().filter(|(_, h)| h.len() > 1) {
            let keepers: Vec<&Path> = holders.iter().filter(|(_, held)| *held).map(|(p, _)| *p).collect();
            let winner = (keepers.len() == 1).then(|| keepers[0]);
            for (path, held) in holders.iter().filter(|(p, _)| Some(*p) != winner) {
                let mut others: Vec<String> =
                    holders.iter().filter(|(o, _)| o != path).map(|(o, _)| o.display().to_string()).collect();
                others.sort();
                let message = match claim {
                    Claim::Number(_, number) => format!(
                        "episode number {number} is also used by {}; each episode of a series needs its own number",
                        others.join(", ")
                    ),
                    Claim::Id(id) => format!(
                        "id `{id}` is also the id of {}; feed readers would treat them as one episode",
                        others.join(", ")
                    ),
                };
                refused.entry(path.to_path_buf()).or_insert_with(|| Diagnostic::error(path, message));
                if *held {
                    dropped.insert(path.to_path_buf());
                }
            }
        }
        candidates.retain(|c| !refused.contains_key(&c.path));
        self.waiting.extend(refused.keys().cloned());
        let any = !refused.is_empty();
        for (path, problem) in refused {
            if let Some(file) = self.files.get_mut(&path) {
                file.problems.push(problem);
                if dropped.contains(&path)
                    && let Some(episode) = file.episode.take()
                {
                    self.holders.remove(&path, &file.slug, &episode);
                    taken_down.push(episode.meta.source.clone());
                }
            }
        }
        any
    }

    /// The published episodes of `slug`, by number.
    pub fn of_series(&self, slug: &str) -> Vec<Arc<Episode>> {
        let mut episodes: Vec<Arc<Episode>> =
            self.files.values().filter(|f| f.slug == slug).filter_map(|f| f.episode.clone()).collect();
        episodes.sort_by(|a, b| (a.meta.number, &a.meta.source).cmp(&(b.meta.number, &b.meta.source)));
        episodes
    }

    pub fn problems(&self) -> impl Iterator<Item = &Diagnostic> {
        self.files.values().flat_map(|f| &f.problems)
    }
}
