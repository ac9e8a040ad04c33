//! The files episodes and series covers reference, published as they are:
//! read once, and again only when their size or mtime changes (a podcast's
//! audio is not read again on every rescan). Files nothing published
//! references are never copied.

use crate::diagnostic::Diagnostic;
use crate::model::Catalog;
use crate::render::{Output, OutputKind};
use bytes::Bytes;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Assets as last read, by content path.
#[derive(Default)]
pub struct Assets {
    files: BTreeMap<String, Asset>,
}

/// A file published as it is, with what tells whether it changed.
struct Asset {
    bytes: Bytes,
    stamp: Stamp,
}

/// Size and mtime, read before the bytes (a write after that changes it).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = fs::metadata(path).ok()?;
        Some(Stamp { len: meta.len(), modified: meta.modified().ok() })
    }
}

impl Assets {
    /// Forgets assets no longer `present`, and those `hinted` at whose size
    /// or mtime changed: they are read again when needed.
    pub fn forget_changed(
        &mut self,
        content: &Path,
        present: &BTreeSet<String>,
        hinted: &dyn Fn(&Path) -> bool,
    ) {
        self.files.retain(|path, asset| {
            let file = content.join(path);
            present.contains(path) && (!hinted(&file) || Stamp::of(&file).is_some_and(|s| s == asset.stamp))
        });
    }

    /// The assets that published episodes (and series covers) reference at
    /// `now`, reading those not read yet; unreadable ones are errors.
    pub fn outputs(
        &mut self,
        content: &Path,
        catalog: &Catalog,
        now: Timestamp,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Vec<Output> {
        let mut wanted = BTreeSet::new();
        wanted.extend(catalog.site.icon.as_ref().map(|icon| icon.asset.clone()));
        for entry in &catalog.series {
            wanted.extend(entry.series.image.as_ref().and_then(|cover| cover.asset.clone()));
            for episode in entry.published(now) {
                wanted.extend(episode.assets.iter().cloned());
            }
        }
        let mut outputs = Vec::with_capacity(wanted.len());
        for path in wanted {
            let bytes = match self.files.get(&path) {
                Some(asset) => asset.bytes.clone(),
                None => match read(&content.join(&path)) {
                    Ok(asset) => {
                        let bytes = asset.bytes.clone();
                        self.files.insert(path.clone(), asset);
                        bytes
                    }
                    Err(e) => {
                        diagnostics.push(Diagnostic::error(
                            content.join(&path),
                            format!("cannot read this file: {e}"),
                        ));
                        continue;
                    }
                },
            };
            outputs.push(Output::new(path, OutputKind::Asset, bytes));
        }
        outputs
    }
}

fn read(path: &Path) -> std::io::Result<Asset> {
    let stamp = Stamp::of(path).unwrap_or(Stamp { len: u64::MAX, modified: None });
    Ok(Asset { bytes: Bytes::from(fs::read(path)?), stamp })
}
