//! Remembers which archives and episode pages were rendered from what, so
//! that after an edit only the documents that show a changed episode are
//! rendered again (one episode among 10,000 re-renders one archive block
//! and three pages, not 600 documents). The bytes are not kept here: the
//! publisher serves them, from feeds/ once written.
//!
//! Episodes are compared by pointer: the pipeline keeps an unchanged
//! episode's `Arc` across rebuilds, and the memo holds a clone of each, so
//! an address is never reused while it is remembered. Settings are compared
//! by value; a change to the site, a series or the templates forgets what
//! depended on them.

use super::html::Templates;
use super::{Body, Output};
use crate::model::{Catalog, Episode, Series, Site};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What one memoised document was made from.
pub struct Inputs {
    episodes: Vec<Arc<Episode>>,
    /// Everything else it shows (links, the next change), written out.
    rest: String,
}

impl Inputs {
    pub fn new(episodes: &[&Arc<Episode>], rest: String) -> Self {
        Inputs { episodes: episodes.iter().map(|&e| Arc::clone(e)).collect(), rest }
    }

    fn same_as(&self, other: &Inputs) -> bool {
        self.rest == other.rest
            && self.episodes.len() == other.episodes.len()
            && self.episodes.iter().zip(&other.episodes).all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

#[derive(Default)]
pub struct Memo {
    site: Option<Site>,
    templates: Option<Arc<Templates>>,
    series: HashMap<String, Series>,
    /// By series slug, then by the document's name in it.
    kept: HashMap<String, HashMap<String, (Inputs, Vec<Output>)>>,
    used: HashSet<(String, String)>,
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
        self.used.clear();
    }

    /// The outputs made last time from the same inputs.
    pub(super) fn get(&mut self, slug: &str, name: &str, inputs: &Inputs) -> Option<Vec<Output>> {
        let (kept, outputs) = self.kept.get(slug)?.get(name)?;
        if !kept.same_as(inputs) {
            return None;
        }
        self.used.insert((slug.to_owned(), name.to_owned()));
        Some(outputs.clone())
    }

    /// Remembers `outputs` without their bytes: a later hit is passed on as
    /// [`Body::AsBefore`].
    pub(super) fn put(&mut self, slug: &str, name: &str, inputs: Inputs, outputs: Vec<Output>) {
        let outputs = outputs.into_iter().map(|output| Output { body: Body::AsBefore, ..output }).collect();
        self.used.insert((slug.to_owned(), name.to_owned()));
        self.kept.entry(slug.to_owned()).or_default().insert(name.to_owned(), (inputs, outputs));
    }

    /// Drops what this run did not use: documents that are gone.
    pub(super) fn finish(&mut self) {
        let used = &self.used;
        for (slug, kept) in &mut self.kept {
            kept.retain(|name, _| used.contains(&(slug.clone(), name.clone())));
        }
        self.kept.retain(|_, kept| !kept.is_empty());
        let slugs: HashSet<&String> = self.kept.keys().collect();
        self.series.retain(|slug, _| slugs.contains(slug));
    }
}
