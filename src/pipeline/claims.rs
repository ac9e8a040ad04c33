//! Who holds each episode number and id among the published versions,
//! kept up to date as versions come and go: checking a new version for
//! clashes looks up what it claims, not every one of 10,000 episodes.

use crate::model::Episode;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What an episode holds alone: its number in its series, its id in the site.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Claim<'a> {
    Number(&'a str, u64),
    Id(&'a str),
}

impl<'a> Claim<'a> {
    /// What the published `episode` of a file in series `slug` holds.
    pub(super) fn held(slug: &'a str, episode: &'a Episode) -> [Claim<'a>; 2] {
        [Claim::Number(slug, episode.meta.number), Claim::Id(&episode.id)]
    }
}

/// The files holding each claim: one, unless an earlier version of
/// episodic let a clash through (a `Vec`, as small as one can be: there
/// are 20,000 of them).
#[derive(Default)]
pub(super) struct Holders {
    numbers: HashMap<String, HashMap<u64, Vec<PathBuf>>>,
    ids: HashMap<String, Vec<PathBuf>>,
}

impl Holders {
    /// The file at `path` (in series `slug`) now publishes `episode`.
    pub(super) fn add(&mut self, path: &Path, slug: &str, episode: &Episode) {
        let numbers = self.numbers.entry(slug.to_owned()).or_default();
        add_to(numbers.entry(episode.meta.number).or_default(), path);
        add_to(self.ids.entry(episode.id.clone()).or_default(), path);
    }

    /// The file at `path` no longer publishes `episode`.
    pub(super) fn remove(&mut self, path: &Path, slug: &str, episode: &Episode) {
        if let Some(numbers) = self.numbers.get_mut(slug) {
            if let Some(paths) = numbers.get_mut(&episode.meta.number) {
                paths.retain(|p| p != path);
                if paths.is_empty() {
                    numbers.remove(&episode.meta.number);
                }
            }
            if numbers.is_empty() {
                self.numbers.remove(slug);
            }
        }
        if let Some(paths) = self.ids.get_mut(&episode.id) {
            paths.retain(|p| p != path);
            if paths.is_empty() {
                self.ids.remove(&episode.id);
            }
        }
    }

    /// The files whose published version holds `claim`.
    pub(super) fn of(&self, claim: &Claim<'_>) -> impl Iterator<Item = &Path> {
        let paths = match claim {
            Claim::Number(slug, number) => self.numbers.get(*slug).and_then(|n| n.get(number)),
            Claim::Id(id) => self.ids.get(*id),
        };
        paths.into_iter().flatten().map(PathBuf::as_path)
    }
}

fn add_to(paths: &mut Vec<PathBuf>, path: &Path) {
    if !paths.iter().any(|p| p == path) {
        paths.push(path.to_path_buf());
    }
}
