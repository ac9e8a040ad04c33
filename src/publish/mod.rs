//! Builds → what is served (a [`Snapshot`]) and what is on disk (feeds/),
//! made from the same bytes.
//!
//! A [`Publisher`] remembers what it serves, so each build costs only what
//! changed: an unchanged output keeps its resource (bytes, variants, ETags,
//! Last-Modified) as it was. A changed one is served at once with quick
//! compressed variants; [`Publisher::finish`] replaces them with the best
//! ones and brings feeds/ up to date once edits pause. Last-Modified is when
//! the bytes last changed: kept in memory, written as each file's mtime, and
//! read back from there after a restart.

mod earlier;
mod resource;
mod status;

pub use earlier::{Note, podcast_guids, resume};
pub use status::status;

use resource::{place, quick_variants, resource, same_bytes};

use crate::compress::{self, Effort, Encoding};
use crate::emit::{self, EmitError, EmitReport, Emitter, Encoded};
use crate::pipeline::Build;
use crate::render::{Body, Output, Sink};
use crate::snapshot::{self, Resource, Serving, Snapshot, Source, Status, Variant};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;
use tracing::error;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("site.toml has errors and there is no earlier good version; fix it to publish")]
    Config,
    #[error(transparent)]
    Emit(#[from] EmitError),
}

/// What is being served, and whether feeds/ holds it yet.
pub struct Publisher {
    out: PathBuf,
    /// Base URL, max-age and podcast GUIDs, as in the manifest.
    note: Note,
    serving: Serving,
    hub: Option<Url>,
    served: BTreeMap<String, Served>,
    /// Served from what an earlier run left in feeds/ (see `start`).
    carried: BTreeSet<String>,
    /// Served bytes that feeds/ does not have yet.
    disk_behind: bool,
    /// Outputs whose bytes or variants changed since feeds/ was last
    /// written: only these are compared with feeds/ and written.
    dirty: BTreeSet<String>,
    /// Outputs whose files in feeds/ were damaged: the next update takes
    /// their bytes from the build and writes them again.
    damaged: BTreeSet<String>,
}

/// What a publish changed.
#[derive(Debug, Default)]
pub struct Changed {
    /// Whether any served byte changed.
    pub any: bool,
    /// The absolute URLs of the feeds whose bytes changed, for WebSub.
    pub feeds: Vec<String>,
}

#[derive(Clone)]
struct Served {
    /// What the output is; its bytes are the resource's.
    output: Output,
    resource: Arc<Resource>,
    effort: Effort,
}

impl Publisher {
    /// The first publish: variants and Last-Modified are taken from feeds/
    /// where it already holds the same bytes (so a restart changes no
    /// validator), the rest is compressed at best; [`write`](Self::write)
    /// puts it in feeds/.
    ///
    /// While anything is broken, nothing published before is taken down:
    /// what feeds/ holds and this build did not make (a series whose
    /// settings have errors, everything when site.toml has) is served as it
    /// is, until a build without errors.
    pub fn start(out: &Path, build: &Build, wall: SystemTime) -> Result<(Self, Changed), PublishError> {
        let earlier = Note::read(out);
        let note = match &build.catalog {
            Some(catalog) => Note::of(catalog, earlier.as_ref()),
            None => earlier.ok_or(PublishError::Config)?,
        };
        let base_url = note.base_url.clone();
        let hub = build.catalog.as_ref().and_then(|c| c.site.websub_hub.clone());
        let outputs = if build.catalog.is_some() { build.outputs.clone() } else { Vec::new() };
        let mut encoded = emit::encode(out, outputs);
        let mut changed = Changed::default();
        for item in &mut encoded {
            if item.last_modified.is_none() {
                changed.any = true;
                if item.output.is_current_feed() {
                    changed.feeds.push(absolute(&base_url, &item.output.path));
                }
            }
            item.last_modified = Some(item.last_modified.unwrap_or(wall));
        }
        let mut carried = BTreeSet::new();
        if build.has_errors() {
            let made: BTreeSet<&str> = encoded.iter().map(|e| e.output.path.as_str()).collect();
            let earlier = emit::load(out, &made);
            carried.extend(earlier.iter().map(|e| e.output.path.clone()));
            encoded.extend(earlier);
        }
        let site = (&base_url, hub.as_ref());
        let served: BTreeMap<String, Served> = encoded
            .into_iter()
            .map(|Encoded { output, variants, effort, last_modified }| {
                let resource = resource(&output, variants, last_modified.unwrap_or(wall), site);
                (output.path.clone(), Served { output, resource: Arc::new(resource), effort })
            })
            .collect();
        let dirty = served.keys().cloned().collect();
        let publisher = Publisher {
            out: out.to_path_buf(),
            note,
            serving: serving(build.catalog.as_ref()),
            hub,
            served,
            carried,
            disk_behind: true,
            dirty,
            damaged: BTreeSet::new(),
        };
        Ok((publisher, changed))
    }

    /// Whether a file that serves `path` from feeds/ no longer holds what
    /// it should (a report may be stale: the server read it from an older
    /// snapshot, or it was repaired since).
    pub fn is_damaged(&self, path: &str) -> bool {
        let Some(served) = self.served.get(path) else { return false };
        served.resource.variants.iter().any(|variant| match &variant.source {
            Source::File(file) => std::fs::File::open(file)
                .and_then(snapshot::etag_of_reader)
                .map_or(true, |(etag, _)| etag != variant.etag),
            Source::Memory(_) | Source::Original { .. } => false,
        })
    }

    /// The file of `path` in feeds/ was changed or deleted by hand: take its
    /// bytes from the next build (which must render it afresh) and write it
    /// again. Its validators do not change.
    pub fn rewrite(&mut self, path: String) {
        self.damaged.insert(path);
    }

    /// How many files are served as an earlier run left them, because this
    /// run's build has errors.
    pub fn carried(&self) -> usize {
        self.carried.len()
    }

    /// Serves `build`'s outputs: unchanged ones as they were, changed ones
    /// with quick variants and `wall` as Last-Modified.
    pub fn update(&mut self, build: &Build, wall: SystemTime) -> Result<Changed, PublishError> {
        let catalog = build.catalog.as_ref().ok_or(PublishError::Config)?;
        self.note = Note::of(catalog, Some(&self.note));
        self.serving = serving(Some(catalog));
        self.hub.clone_from(&catalog.site.websub_hub);
        let site = (&self.note.base_url, self.hub.as_ref());
        // Most outputs are as served (one edit among 10,000 episodes): find
        // the few that changed, then compress those in parallel, so the
        // slow ones are spread over the cores whatever their order.
        // Taken apart, not cloned: what this build still makes moves on.
        let mut earlier = std::mem::take(&mut self.served);
        let mut next = Vec::with_capacity(build.outputs.len());
        let mut changed = Vec::new();
        let mut rewrites = Vec::new();
        for output in &build.outputs {
            let before = earlier.remove(&output.path).filter(|s| s.output.kind == output.kind);
            match (&output.body, before) {
                (Body::Fresh(_) | Body::Copy(_), Some(s)) if self.damaged.contains(&output.path) => {
                    rewrites.push((output, s));
                }
                (Body::Fresh(bytes), Some(s)) if !same_bytes(&s.resource, bytes) => {
                    changed.push((output, Some(s.resource.last_modified)));
                }
                (Body::Copy(original), Some(s)) if s.resource.variants[0].etag != original.etag => {
                    changed.push((output, Some(s.resource.last_modified)));
                }
                (Body::Fresh(_) | Body::Copy(_), None) => changed.push((output, None)),
                // Only `episodic build` renders into a sink that takes bytes.
                (Body::Taken, _) => error!(path = output.path, "its bytes went elsewhere: left out"),
                (_, Some(mut kept)) => {
                    if kept.output.changes_at != output.changes_at {
                        let mut resource = Resource::clone(&kept.resource);
                        resource.changes_at = output.changes_at;
                        kept.resource = Arc::new(resource);
                        kept.output.changes_at = output.changes_at;
                    }
                    next.push((kept, false));
                }
                (Body::AsBefore, None) => {
                    error!(path = output.path, "rendered as before, but never served: left out");
                }
            }
        }
        next.par_extend(changed.into_par_iter().filter_map(|(output, before)| {
            let (variants, effort) = match &output.body {
                Body::Fresh(bytes) => (quick_variants(output, bytes), Effort::Quick),
                Body::Copy(original) => (vec![Variant::original(original)], Effort::finished(output)),
                Body::AsBefore | Body::Taken => return None,
            };
            let mut resource = resource(output, variants, wall, site);
            resource.date_is_ambiguous = before.is_some_and(|last| last == resource.last_modified);
            let output = Output { body: Body::AsBefore, ..output.clone() };
            Some((Served { output, resource: Arc::new(resource), effort }, true))
        }));
        // A damaged file's bytes, served from memory (or the writer's file)
        // until written again, compressed as they were: the same bytes, the
        // same validators.
        for (output, before) in rewrites {
            let effort = Effort::finished(output);
            let variants = match &output.body {
                Body::Fresh(bytes) => std::iter::once(Variant::memory(Encoding::Identity, bytes.clone()))
                    .chain(
                        compress::variants(output, bytes, effort)
                            .into_iter()
                            .map(|(e, b)| Variant::memory(e, b)),
                    )
                    .collect(),
                Body::Copy(original) => vec![Variant::original(original)],
                Body::AsBefore | Body::Taken => continue,
            };
            let mut resource = resource(output, variants, before.resource.last_modified, site);
            resource.date_is_ambiguous = before.resource.date_is_ambiguous;
            let served = Served { resource: Arc::new(resource), effort, ..before };
            self.dirty.insert(output.path.clone());
            self.disk_behind = true;
            next.push((served, false));
        }
        self.damaged.clear();
        if build.has_errors() {
            for path in &self.carried {
                if let Some(served) = earlier.remove(path) {
                    next.push((served, false));
                }
            }
        } else {
            self.carried.clear();
        }
        // What is left of the earlier outputs is gone.
        let removed = !earlier.is_empty();
        let fresh = || next.iter().filter(|(_, changed)| *changed).map(|(served, _)| &served.output);
        let feeds = fresh()
            .filter(|output| output.is_current_feed())
            .map(|output| absolute(&self.note.base_url, &output.path))
            .collect();
        let any = removed || fresh().next().is_some();
        self.dirty.extend(fresh().map(|output| output.path.clone()));
        self.served = next.into_iter().map(|(served, _)| (served.output.path.clone(), served)).collect();
        self.disk_behind |= any;
        Ok(Changed { any, feeds })
    }

    /// Whether [`finish`](Self::finish) has work: quick variants to improve
    /// or files to write.
    pub fn pending(&self) -> bool {
        self.disk_behind || self.served.values().any(|s| s.effort == Effort::Quick)
    }

    /// Replaces quick variants with the best ones. Gives up (returning
    /// false, nothing changed) as soon as `cancel` is set: a newer edit is
    /// waiting and comes first. Swap the result in before [`write`]
    /// (Self::write), so feeds/ never holds bytes not yet served.
    pub fn improve(&mut self, cancel: &AtomicBool) -> bool {
        // Quick variants were made by this run: their bytes are in memory.
        let quick: Vec<(&Served, &bytes::Bytes)> = self
            .served
            .values()
            .filter(|s| s.effort == Effort::Quick)
            .filter_map(|s| Some((s, s.resource.identity()?)))
            .collect();
        let jobs: Vec<(&Served, &bytes::Bytes, Encoding, Effort)> = quick
            .iter()
            .flat_map(|&(s, bytes)| {
                let effort = Effort::finished(&s.output);
                compress::encodings(&s.output, effort)
                    .iter()
                    .map(move |&encoding| (s, bytes, encoding, effort))
            })
            .collect();
        // Each job: its output's path, and the variant if it is smaller.
        let compressed: Option<Vec<(&str, Option<Variant>)>> = jobs
            .into_par_iter()
            .map(|(served, bytes, encoding, effort)| {
                (!cancel.load(Ordering::Relaxed)).then(|| {
                    let compressed = compress::compress(bytes, encoding, effort);
                    let smaller = compressed.len() < bytes.len();
                    let variant = smaller.then(|| Variant::memory(encoding, bytes::Bytes::from(compressed)));
                    (served.output.path.as_str(), variant)
                })
            })
            .collect();
        let Some(compressed) = compressed else { return false };
        let mut best: BTreeMap<String, Vec<Variant>> =
            quick.iter().map(|(s, _)| (s.output.path.clone(), Vec::new())).collect();
        for (path, variant) in compressed {
            if let (Some(variant), Some(variants)) = (variant, best.get_mut(path)) {
                variants.push(variant);
            }
        }
        for (path, mut variants) in best {
            if let Some(served) = self.served.get_mut(&path) {
                variants.sort_by_key(|variant| variant.encoding);
                variants.insert(0, served.resource.variants[0].clone());
                let last_modified = served.resource.last_modified;
                let mut best = resource(
                    &served.output,
                    variants,
                    last_modified,
                    (&self.note.base_url, self.hub.as_ref()),
                );
                best.date_is_ambiguous = served.resource.date_is_ambiguous;
                served.resource = Arc::new(best);
                served.effort = Effort::finished(&served.output);
                self.dirty.insert(path);
            }
        }
        true
    }

    /// Brings feeds/ up to what is served: writes what changed since the
    /// last write, removes what went. Then what is served from disk no
    /// longer holds its bytes in memory: swap again to let them go.
    pub fn write(&mut self) -> Result<EmitReport, EmitError> {
        let records: Vec<emit::Record<'_>> = self
            .served
            .iter()
            .flat_map(|(path, s)| {
                let modified = Some(s.resource.last_modified);
                emit::records(&s.output, &s.resource.variants, modified, !self.dirty.contains(path))
            })
            .collect();
        let report = emit::emit(&self.out, &records, Some(&self.note.text()))?;
        drop(records);
        for path in std::mem::take(&mut self.dirty) {
            if let Some(served) = self.served.get_mut(&path)
                && let Some(placed) = place(&self.out, served)
            {
                served.resource = Arc::new(placed);
            }
        }
        self.disk_behind = false;
        Ok(report)
    }

    /// What to serve now.
    pub fn snapshot(&self, status: &Status) -> Snapshot {
        let resources = self.served.iter().map(|(path, s)| (path, &s.resource));
        let mut snapshot = Snapshot::new(resources, &self.note.base_url, self.note.max_age, status);
        snapshot.serving = self.serving.clone();
        snapshot
    }
}

fn serving(catalog: Option<&crate::model::Catalog>) -> Serving {
    catalog.map_or_else(Serving::default, |c| Serving {
        trusted_proxies: Arc::from(c.site.trusted_proxies.as_slice()),
        audience: c.site.audience,
        zone: c.site.timezone.clone(),
        series: c.series.iter().map(|entry| entry.series.slug.clone()).collect(),
        poll_limit: c.site.poll_limit,
    })
}

/// The URL `path` is served at.
fn absolute(base_url: &Url, path: &str) -> String {
    base_url.join(path).map_or_else(|_| format!("{base_url}{path}"), String::from)
}

/// Writes `build`'s outputs and their compressed variants (for `episodic
/// build`, which serves nothing) with `emitter`, which the build handed
/// its bulk documents to as it rendered them.
pub fn write(build: &Build, emitter: Emitter) -> Result<EmitReport, EmitError> {
    build.outputs.par_iter().for_each(|output| {
        emitter.take(output.clone());
    });
    let earlier = emitter.earlier_note().and_then(Note::parse);
    let note = build.catalog.as_ref().map(|c| Note::of(c, earlier.as_ref()).text());
    emitter.finish(note.as_deref())
}
