//! The files episodes and series covers reference, published as they are:
//! read once, and again only when their size or mtime changes (a podcast's
//! audio is not read again on every rescan). Files nothing published
//! references are never copied. Text (stylesheets, SVG, transcripts) is
//! kept in memory, to be compressed like any document; images, audio and
//! video are only hashed, a chunk at a time, and copied from the file.
//! Also `/favicon.ico`, made from the site's icon, and the check that no
//! asset takes a feed's address.

use crate::compress;
use crate::diagnostic::Diagnostic;
use crate::model::Catalog;
use crate::render::{self, Body, Original, Output, OutputKind};
use crate::snapshot;
use bytes::Bytes;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::Path;

/// Assets as last read, by content path.
#[derive(Default)]
pub struct Assets {
    files: BTreeMap<String, Asset>,
}

/// A file published as it is, with what tells whether it changed.
struct Asset {
    body: Body,
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
    /// or mtime changed: they are read again when needed. Returns the
    /// changed ones that are still there, and those `hinted` at that were
    /// never read (an episode's audio is measured for its feed entry, even
    /// before it is published: the episode is assembled again).
    pub fn forget_changed(
        &mut self,
        content: &Path,
        present: &BTreeSet<String>,
        hinted: &dyn Fn(&Path) -> bool,
    ) -> BTreeSet<String> {
        let mut changed = BTreeSet::new();
        self.files.retain(|path, asset| {
            let file = content.join(path);
            let same = !hinted(&file) || Stamp::of(&file).is_some_and(|s| s == asset.stamp);
            if present.contains(path) && !same {
                changed.insert(path.clone());
            }
            present.contains(path) && same
        });
        // Not read yet (a scheduled episode's audio, measured already):
        // changed if an event named it.
        changed.extend(
            present
                .iter()
                .filter(|path| !self.files.contains_key(*path) && hinted(&content.join(path)))
                .cloned(),
        );
        changed
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
        let mut media_types = HashMap::new();
        wanted.extend(catalog.site.icon.as_ref().map(|icon| icon.asset.clone()));
        for entry in &catalog.series {
            wanted.extend(entry.series.image.as_ref().and_then(|cover| cover.asset.clone()));
            let artwork = entry.series.podcast.as_ref().and_then(|p| p.image.as_ref());
            wanted.extend(artwork.and_then(|cover| cover.asset.clone()));
            for episode in entry.published(now) {
                wanted.extend(episode.assets.iter().cloned());
                if let Some(media) = &episode.media
                    && let Some(asset) = &media.asset
                {
                    media_types.insert(asset.clone(), media.mime_type.clone());
                }
            }
        }
        let mut outputs = Vec::with_capacity(wanted.len());
        for path in wanted {
            let body = match self.files.get(&path) {
                Some(asset) => asset.body.clone(),
                None => match read(&content.join(&path), compress::is_text(&path)) {
                    Ok(asset) => {
                        let body = asset.body.clone();
                        self.files.insert(path.clone(), asset);
                        body
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
            let media_type = media_types.remove(&path);
            outputs.push(Output { body, media_type, ..Output::new(path, OutputKind::Asset, Bytes::new()) });
        }
        outputs
    }
}

/// Reads a text file whole; hashes any other through the open file, which
/// must not have changed meanwhile (a file written in place is hashed
/// again on its next event).
fn read(path: &Path, text: bool) -> std::io::Result<Asset> {
    let stamp = Stamp::of(path).unwrap_or(Stamp { len: u64::MAX, modified: None });
    if text {
        return Ok(Asset { body: Body::Fresh(Bytes::from(fs::read(path)?)), stamp });
    }
    let file = fs::File::open(path)?;
    let (etag, len) = snapshot::etag_of_reader(&file)?;
    let modified = file.metadata()?.modified()?;
    if Some(modified) != stamp.modified || len != stamp.len {
        return Err(std::io::Error::other(
            "it changed while it was read; it is read again on its next change",
        ));
    }
    let original = Original { path: path.to_path_buf(), len, etag, modified };
    Ok(Asset { body: Body::Copy(std::sync::Arc::new(original)), stamp })
}

/// `/favicon.ico` from the site's icon, and what is wrong with the icon's
/// file, reported at the line of site.toml that names it.
pub(super) fn favicon(
    content: &Path,
    catalog: &Catalog,
    outputs: &[Output],
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Output> {
    let icon = catalog.site.icon.as_ref()?;
    if icon.asset == render::favicon::FAVICON {
        return None; // published as it is, like any asset
    }
    // The icon is an image: published by copy, so read here (it is small).
    let bytes = match &outputs.iter().find(|o| o.path == icon.asset)?.body {
        render::Body::Fresh(bytes) => bytes.to_vec(),
        render::Body::Copy(original) => fs::read(&original.path).ok()?,
        render::Body::AsBefore | render::Body::Taken => return None,
    };
    let file = render::favicon::render(&bytes);
    let site_toml = content.join("site.toml");
    diagnostics.extend(file.problems.into_iter().map(|problem| {
        Diagnostic::warning(&site_toml, format!("icon `{}`: {problem}", icon.asset)).at(icon.line, None)
    }));
    file.favicon
}

/// An asset named like a feed (`night/rss.xml`) would overwrite it.
pub(super) fn check_unique_paths(content: &Path, outputs: &[Output], diagnostics: &mut Vec<Diagnostic>) {
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
