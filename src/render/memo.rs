//! Remembers which archives, episode pages and series pages were rendered
//! from what, so that after an edit only the documents that show a changed
//! episode are rendered again (one episode among 10,000 re-renders one
//! archive block and three pages, not 600 documents; the series page only
//! when what it lists changed). It also keeps each episode's link as the
//! series page shows it. The bytes are not kept here: the
//! publisher serves them, from feeds/ once written.
//!
//! Episodes are compared by pointer: the pipeline keeps an unchanged
//! episode's `Arc` across rebuilds, and the memo holds a clone of each, so
//! an address is never reused while it is remembered. A document that shows
//! only part of each episode (the series page) may also take a new version
//! as alike. Settings are compared
//! by value; a change to the site, a series or the templates forgets what
//! depended on them.

use super::html::Templates;
use super::{Body, Output};
use crate::model::{Catalog, Episode, Series, Site};
use minijinja::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What one memoised document was made from.
struct Inputs {
    episodes: Vec<Arc<Episode>>,
    /// Everything else it shows (links, the next change), written out.
    rest: String,
}

impl Inputs {
    /// Episodes are the same when they are the same version (by address)
    /// or, for a document that shows only part of each, when `shown_alike`
    /// says so.
    fn same_as(
        &self,
        episodes: &[&Arc<Episode>],
        rest: &str,
        shown_alike: impl Fn(&Episode, &Episode) -> bool,
    ) -> bool {
        self.rest == rest
            && self.episodes.len() == episodes.len()
            && self.episodes.iter().zip(episodes).all(|(a, b)| Arc::ptr_eq(a, b) || shown_alike(a, b))
    }
}

/// A document as last rendered, and the run that last used it.
struct Kept {
    inputs: Inputs,
    outputs: Vec<Output>,
    used: u64,
}

/// An episode's link as a series page shows it (made once per version of
/// the episode: a series page lists all 10,000).
struct Link {
    /// Keeps the episode's address from being reused while remembered.
    _episode: Arc<Episode>,
    value: Value,
    used: u64,
}

/// What is remembered of one series (or of the site, under its own key).
#[derive(Default)]
struct Remembered {
    /// By the document's name in the series.
    documents: HashMap<String, Kept>,
    /// By the episode's address.
    links: HashMap<usize, Link>,
}

#[derive(Default)]
pub struct Memo {
    site: Option<Site>,
    templates: Option<Arc<Templates>>,
    series: HashMap<String, Series>,
    /// By series slug.
    kept: HashMap<String, Remembered>,
    /// Counts runs: what the current run did not use is dropped at its end.
    run: u64,
}

impl Memo {
    /// Forgets what the catalog's settings or the templates invalidate.
    pub(super) fn start(&mut self, catalog: &Catalog, templates: &Arc<Templates>) {
        let same_templates = self.templates.as_ref().is_some_and(|t| Arc::ptr_eq(t, templates));
        if self.site.as_ref() != Some(&catalog.site) || !same_templates {
            self.kept.clear();
            self.series.clear();
            self.site = Some(catalog.site.clone());
            self.templates = Some(Arc::clone(templates));
        }
        for entry in &catalog.series {
            let slug = &entry.series.slug;
            if self.series.get(slug) != Some(&entry.series) {
                self.kept.remove(slug);
                self.series.insert(slug.clone(), entry.series.clone());
            }
        }
        self.run += 1;
    }

    /// The outputs made last time from the same episodes (by address) and
    /// the same `rest`.
    pub(super) fn get(
        &mut self,
        slug: &str,
        name: &str,
        episodes: &[&Arc<Episode>],
        rest: &str,
    ) -> Option<Vec<Output>> {
        self.get_alike(slug, name, episodes, rest, |_, _| false)
    }

    /// Like [`get`](Self::get), for a document showing only part of each
    /// episode: a new version of an episode that `shown_alike` finds the
    /// same as the remembered one changes nothing (the remembered versions
    /// are replaced, not kept alive).
    pub(super) fn get_alike(
        &mut self,
        slug: &str,
        name: &str,
        episodes: &[&Arc<Episode>],
        rest: &str,
        shown_alike: impl Fn(&Episode, &Episode) -> bool,
    ) -> Option<Vec<Output>> {
        let kept = self.kept.get_mut(slug)?.documents.get_mut(name)?;
        if !kept.inputs.same_as(episodes, rest, shown_alike) {
            return None;
        }
        for (remembered, episode) in kept.inputs.episodes.iter_mut().zip(episodes) {
            if !Arc::ptr_eq(remembered, episode) {
                *remembered = Arc::clone(episode);
            }
        }
        kept.used = self.run;
        Some(kept.outputs.clone())
    }

    /// Remembers `outputs` without their bytes: a later hit is passed on as
    /// [`Body::AsBefore`].
    pub(super) fn put(
        &mut self,
        slug: &str,
        name: &str,
        episodes: &[&Arc<Episode>],
        rest: String,
        outputs: Vec<Output>,
    ) {
        let outputs = outputs.into_iter().map(|output| Output { body: Body::AsBefore, ..output }).collect();
        let inputs = Inputs { episodes: episodes.iter().map(|&e| Arc::clone(e)).collect(), rest };
        let kept = Kept { inputs, outputs, used: self.run };
        self.kept.entry(slug.to_owned()).or_default().documents.insert(name.to_owned(), kept);
    }

    /// `episode`'s link as the series `slug` shows it, made by `make` unless
    /// this version of the episode was seen before.
    pub(super) fn link(&mut self, slug: &str, episode: &Arc<Episode>, make: impl FnOnce() -> Value) -> Value {
        let links = match self.kept.get_mut(slug) {
            Some(remembered) => &mut remembered.links,
            None => &mut self.kept.entry(slug.to_owned()).or_default().links,
        };
        let address = Arc::as_ptr(episode) as usize;
        match links.get_mut(&address) {
            Some(link) => {
                link.used = self.run;
                link.value.clone()
            }
            None => {
                let value = make();
                links.insert(
                    address,
                    Link { _episode: Arc::clone(episode), value: value.clone(), used: self.run },
                );
                value
            }
        }
    }

    /// Drops what this run did not use: documents that are gone, episodes
    /// that changed.
    pub(super) fn finish(&mut self) {
        let run = self.run;
        for remembered in self.kept.values_mut() {
            remembered.documents.retain(|_, kept| kept.used == run);
            remembered.links.retain(|_, link| link.used == run);
        }
        self.kept.retain(|_, r| !r.documents.is_empty() || !r.links.is_empty());
        let slugs: HashSet<&String> = self.kept.keys().collect();
        self.series.retain(|slug, _| slugs.contains(slug));
    }
}
