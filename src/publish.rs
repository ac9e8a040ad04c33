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

use crate::compress::{self, Effort, Encoded, Encoding};
use crate::emit::{self, EmitError, EmitReport};
use crate::model::Catalog;
use crate::pipeline::Build;
use crate::render::{Archive, Output};
use crate::snapshot::{Resource, Snapshot, Status, StatusError};
use jiff::Timestamp;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;
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
    base_url: Url,
    max_age: u32,
    hub: Option<Url>,
    served: BTreeMap<String, Served>,
    /// Served from what an earlier run left in feeds/ (see `start`).
    carried: BTreeSet<String>,
    /// Served bytes that feeds/ does not have yet.
    disk_behind: bool,
    /// Outputs whose bytes or variants changed since feeds/ was last
    /// written: only these are compared with feeds/ and written.
    dirty: BTreeSet<String>,
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
    output: Output,
    resource: Arc<Resource>,
    effort: Effort,
}

impl Publisher {
    /// The first publish: variants and Last-Modified are taken from feeds/
    /// where it already holds the same bytes (so a restart changes no
    /// validator), the rest is compressed at best and written.
    ///
    /// While anything is broken, nothing published before is taken down:
    /// what feeds/ holds and this build did not make (a series whose
    /// settings have errors, everything when site.toml has) is served as it
    /// is, until a build without errors.
    pub fn start(out: &Path, build: &Build, wall: SystemTime) -> Result<(Self, Changed), PublishError> {
        let (base_url, max_age) = match &build.catalog {
            Some(catalog) => site_of(catalog),
            None => emit::read_note(out).as_deref().and_then(parse_note).ok_or(PublishError::Config)?,
        };
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
        emit::emit(out, &encoded, Some(&note(&base_url, max_age)))?;
        let site = (&base_url, hub.as_ref());
        let served = encoded
            .into_iter()
            .map(|Encoded { output, variants, effort, last_modified, .. }| {
                let resource = resource(&output, variants, last_modified.unwrap_or(wall), site);
                (output.path.clone(), Served { output, resource: Arc::new(resource), effort })
            })
            .collect();
        let publisher = Publisher {
            out: out.to_path_buf(),
            base_url,
            max_age,
            hub,
            served,
            carried,
            disk_behind: false,
            dirty: BTreeSet::new(),
        };
        Ok((publisher, changed))
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
        (self.base_url, self.max_age) = site_of(catalog);
        self.hub.clone_from(&catalog.site.websub_hub);
        let site = (&self.base_url, self.hub.as_ref());
        // Most outputs are as served (one edit among 10,000 episodes): find
        // the few that changed, then compress those in parallel, so the
        // slow ones are spread over the cores whatever their order.
        let mut next = Vec::with_capacity(build.outputs.len());
        let mut changed = Vec::new();
        for output in &build.outputs {
            let before = self.served.get(&output.path).filter(|s| s.output.kind == output.kind);
            match before {
                Some(s) if same_bytes(&s.output.bytes, &output.bytes) => {
                    let mut kept = s.clone();
                    if s.output.changes_at != output.changes_at {
                        let mut resource = Resource::clone(&s.resource);
                        resource.changes_at = output.changes_at;
                        kept = Served { output: output.clone(), resource: Arc::new(resource), ..kept };
                    }
                    next.push((output.path.clone(), kept, false));
                }
                _ => changed.push((output, before.map(|s| s.resource.last_modified))),
            }
        }
        next.par_extend(changed.into_par_iter().map(|(output, before)| {
            let variants = compress::variants(output, Effort::Quick);
            let mut resource = resource(output, variants, wall, site);
            resource.date_is_ambiguous = before.is_some_and(|last| last == resource.last_modified);
            let served =
                Served { output: output.clone(), resource: Arc::new(resource), effort: Effort::Quick };
            (output.path.clone(), served, true)
        }));
        let mut next: BTreeMap<String, (Served, bool)> =
            next.into_iter().map(|(path, served, changed)| (path, (served, changed))).collect();
        if build.has_errors() {
            for path in &self.carried {
                if let (false, Some(served)) = (next.contains_key(path), self.served.get(path)) {
                    next.insert(path.clone(), (served.clone(), false));
                }
            }
        } else {
            self.carried.clear();
        }
        let removed = self.served.keys().any(|path| !next.contains_key(path));
        let feeds = next
            .iter()
            .filter(|(_, (served, changed))| *changed && served.output.is_current_feed())
            .map(|(path, _)| absolute(&self.base_url, path))
            .collect();
        let any = removed || next.values().any(|(_, changed)| *changed);
        self.dirty.extend(next.iter().filter(|(_, (_, changed))| *changed).map(|(path, _)| path.clone()));
        self.served = next.into_iter().map(|(path, (served, _))| (path, served)).collect();
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
        let quick: Vec<&Served> = self.served.values().filter(|s| s.effort == Effort::Quick).collect();
        let jobs: Vec<(&Served, Encoding, Effort)> = quick
            .iter()
            .flat_map(|s| {
                let effort = Effort::finished(&s.output);
                compress::encodings(&s.output, effort).iter().map(move |&encoding| (*s, encoding, effort))
            })
            .collect();
        let compressed: Option<Vec<(&Served, Encoding, Vec<u8>)>> = jobs
            .into_par_iter()
            .map(|(served, encoding, effort)| {
                (!cancel.load(Ordering::Relaxed))
                    .then(|| (served, encoding, compress::compress(&served.output.bytes, encoding, effort)))
            })
            .collect();
        let Some(compressed) = compressed else { return false };
        let mut best: BTreeMap<String, Vec<(Encoding, bytes::Bytes)>> =
            quick.iter().map(|s| (s.output.path.clone(), Vec::new())).collect();
        for (served, encoding, bytes) in compressed {
            if bytes.len() < served.output.bytes.len()
                && let Some(variants) = best.get_mut(&served.output.path)
            {
                variants.push((encoding, bytes::Bytes::from(bytes)));
            }
        }
        for (path, mut variants) in best {
            if let Some(served) = self.served.get_mut(&path) {
                variants.sort_by_key(|(encoding, _)| *encoding);
                let last_modified = served.resource.last_modified;
                let mut best =
                    resource(&served.output, variants, last_modified, (&self.base_url, self.hub.as_ref()));
                best.date_is_ambiguous = served.resource.date_is_ambiguous;
                served.resource = Arc::new(best);
                served.effort = Effort::finished(&served.output);
                self.dirty.insert(path);
            }
        }
        true
    }

    /// Brings feeds/ up to what is served: writes what changed since the
    /// last write, removes what went.
    pub fn write(&mut self) -> Result<EmitReport, EmitError> {
        let encoded: Vec<Encoded> = self
            .served
            .iter()
            .map(|(path, s)| Encoded {
                on_disk: !self.dirty.contains(path),
                output: s.output.clone(),
                variants: s.resource.variants[1..].iter().map(|v| (v.encoding, v.body.clone())).collect(),
                effort: s.effort,
                last_modified: Some(s.resource.last_modified),
            })
            .collect();
        let report = emit::emit(&self.out, &encoded, Some(&note(&self.base_url, self.max_age)))?;
        self.disk_behind = false;
        self.dirty.clear();
        Ok(report)
    }

    /// What to serve now.
    pub fn snapshot(&self, status: &Status) -> Snapshot {
        let resources = self.served.iter().map(|(path, s)| (path, &s.resource));
        Snapshot::new(resources, &self.base_url, self.max_age, status)
    }
}

/// Whether two outputs hold the same bytes. Archives and pages the render
/// memo kept share their buffer with what is served: those are equal
/// without reading every byte again.
fn same_bytes(a: &bytes::Bytes, b: &bytes::Bytes) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

fn site_of(catalog: &Catalog) -> (Url, u32) {
    (catalog.site.base_url.clone(), catalog.site.cache_max_age)
}

/// `site` is the base URL and the WebSub hub: a feed with a hub says so in
/// a `Link` header as well (WebSub §4), with its own URL as `self`.
fn resource(
    output: &Output,
    variants: Vec<(Encoding, bytes::Bytes)>,
    last_modified: SystemTime,
    site: (&Url, Option<&Url>),
) -> Resource {
    let mut resource = Resource::new(
        output.kind,
        &output.path,
        output.bytes.clone(),
        variants,
        last_modified,
        output.changes_at,
    );
    resource.archived = output.archive == Some(Archive::Closed);
    if let (Some(hub), true) = (site.1, output.is_current_feed()) {
        let link = format!("<{hub}>; rel=\"hub\", <{}>; rel=\"self\"", absolute(site.0, &output.path));
        resource.link = hyper::header::HeaderValue::from_str(&link).ok();
    }
    resource
}

/// The URL `path` is served at.
fn absolute(base_url: &Url, path: &str) -> String {
    base_url.join(path).map_or_else(|_| format!("{base_url}{path}"), String::from)
}

/// Writes `build`'s outputs and their compressed variants to `out` (for
/// `episodic build`, which serves nothing).
pub fn write(build: &Build, out: &Path) -> Result<EmitReport, EmitError> {
    let encoded = emit::encode(out, build.outputs.clone());
    let note = build.catalog.as_ref().map(|c| note(&c.site.base_url, c.site.cache_max_age));
    emit::emit(out, &encoded, note.as_deref())
}

/// The manifest's note: what serving feeds/ needs when site.toml is broken.
fn note(base_url: &Url, max_age: u32) -> String {
    format!("site {base_url} {max_age}")
}

fn parse_note(note: &str) -> Option<(Url, u32)> {
    let mut words = note.strip_prefix("site ")?.split_whitespace();
    let base_url = Url::parse(words.next()?).ok()?;
    Some((base_url, words.next()?.parse().ok()?))
}

/// What `/_episodic/status` says about `build`; the live driver fills in
/// what only it knows (publishes, watching, warnings).
pub fn status(build: &Build, now: Timestamp) -> Status {
    let catalog = build.catalog.as_ref();
    let episodes =
        catalog.map_or(0, |catalog| catalog.series.iter().map(|entry| entry.published(now).count()).sum());
    let feeds = build.outputs.iter().filter(|o| o.is_current_feed()).count();
    let errors = build
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| StatusError { file: d.path.display().to_string(), line: d.line, message: d.message.clone() })
        .collect();
    let next_scheduled = catalog.and_then(|c| c.next_scheduled(now)).map(|t| t.to_string());
    Status {
        built_at: whole_second(now).to_string(),
        publishes: 0,
        episodes,
        feeds,
        next_scheduled,
        watching: String::from("off"),
        warnings: Vec::new(),
        errors,
        websub: None,
    }
}

fn whole_second(now: Timestamp) -> Timestamp {
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}
