//! Outputs → the feeds/ folder, never half-written.
//!
//! Changed files are first written and fsynced in a staging folder next to
//! the output, then renamed into place one by one (rename is atomic on one
//! filesystem), so a reader or a crash sees each file whole, old or new. A
//! failure before the renames leaves feeds/ exactly as it was.
//!
//! Files whose bytes did not change are not touched, so their mtime keeps
//! saying when their content last changed (the server's Last-Modified).
//! Files a previous build wrote and this one did not are removed; which
//! files those are is recorded in a manifest, so a file someone else put in
//! the folder is never deleted.
//!
//! Each output's compressed variants sit beside it (`rss.xml.br`), written
//! with it; [`encode`] reuses them when the output is unchanged, so a
//! restart does not compress again.

mod emitter;
mod manifest;
mod staging;

pub use emitter::Emitter;
pub use manifest::{Digest, MANIFEST, Manifest};

use crate::compress::{self, Effort, Encoding};
use crate::render::{self, Body, Output, OutputKind};
use crate::snapshot::{Source, Variant};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("refusing to write `{0}`: outputs must stay inside the output folder")]
    UnsafePath(String),
    #[error("{}: it changed while it was being copied; it is published again once it stops changing", .0.display())]
    Changed(PathBuf),
}

/// What a successful emit changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EmitReport {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// An output with all its variants, identity first.
#[derive(Clone, Debug)]
pub struct Encoded {
    /// What the output is; its bytes are in `variants` (`body` is
    /// [`Body::AsBefore`]).
    pub output: Output,
    pub variants: Vec<Variant>,
    pub effort: Effort,
    /// When its bytes last changed, if known (the file already in feeds/
    /// holds them); emit gives written files this mtime.
    pub last_modified: Option<SystemTime>,
}

/// Pairs each output with its best compressed variants: those feeds/
/// already holds for the same bytes (as the manifest says, and the files'
/// lengths agree), as files, with the file's mtime as when they last
/// changed; compressed afresh otherwise. Nothing in feeds/ is read.
/// Outputs are independent, so they are done in parallel.
pub fn encode(out: &Path, outputs: Vec<Output>) -> Vec<Encoded> {
    let manifest = Manifest::read(out);
    outputs.into_par_iter().filter_map(|output| encode_one(out, &manifest, output).ok()).collect()
}

/// [`encode`] for one output; gives it back if the render did not make its
/// bytes.
fn encode_one(out: &Path, manifest: &Manifest, output: Output) -> Result<Encoded, Output> {
    let identity = match &output.body {
        Body::Fresh(bytes) => Variant::memory(Encoding::Identity, bytes.clone()),
        Body::Copy(original) => Variant::original(original),
        Body::AsBefore | Body::Taken => return Err(output),
    };
    let effort = Effort::finished(&output);
    let (variants, last_modified) = match (reuse_variants(out, &output, &identity, manifest), &output.body) {
        (Some((variants, modified)), _) => (variants, Some(modified)),
        (None, Body::Fresh(bytes)) => {
            let compressed = compress::variants(&output, bytes, effort);
            (compressed.into_iter().map(|(e, b)| Variant::memory(e, b)).collect(), None)
        }
        (None, _) => (Vec::new(), None),
    };
    let variants = std::iter::once(identity).chain(variants).collect();
    Ok(Encoded { output: Output { body: Body::AsBefore, ..output }, variants, effort, last_modified })
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> EmitError + '_ {
    move |source| EmitError::Io { path: path.to_path_buf(), source }
}

/// The variants feeds/ holds for `output` and its mtime, if it holds the
/// same bytes. The manifest says which variants there were (one that was
/// not smaller than its source was not written); one that is missing, or
/// none listed for a compressible output (too small to gain, or written
/// before variants existed: cheap either way), means compressing afresh.
fn reuse_variants(
    out: &Path,
    output: &Output,
    identity: &Variant,
    manifest: &Manifest,
) -> Option<(Vec<Variant>, SystemTime)> {
    let digest = manifest.digest(&output.path)?;
    if digest.len != identity.len || digest.etag != identity.etag {
        return None;
    }
    let (_, modified) = stored(out, &output.path, digest)?;
    let variants = listed_variants(out, &output.path, manifest)?;
    (variants.is_empty() != compress::is_compressible(output)).then_some((variants, modified))
}

/// The file at `path` in `out` and its mtime, if its length is the
/// manifest's.
fn stored(out: &Path, path: &str, digest: &Digest) -> Option<(PathBuf, SystemTime)> {
    let file = out.join(path);
    let metadata = fs::metadata(&file).ok()?;
    (metadata.len() == digest.len).then_some((file, metadata.modified().ok()?))
}

/// The variants of `path` the manifest lists, as files; `None` if one of
/// them is missing.
fn listed_variants(out: &Path, path: &str, manifest: &Manifest) -> Option<Vec<Variant>> {
    let mut variants = Vec::new();
    for encoding in Encoding::COMPRESSED {
        let name = format!("{path}{}", encoding.file_suffix());
        if manifest.lists(&name) {
            let digest = manifest.digest(&name)?;
            let (file, _) = stored(out, &name, digest)?;
            let (etag, len) = (digest.etag.clone(), digest.len);
            variants.push(Variant { encoding, etag, len, source: Source::File(file) });
        }
    }
    Some(variants)
}

/// One file of feeds/ to emit: an output or one of its variants.
pub struct Record<'a> {
    /// Relative to feeds/, `/`-separated.
    pub path: String,
    pub kind: OutputKind,
    pub digest: Digest,
    pub modified: Option<SystemTime>,
    /// The bytes, when feeds/ may not hold them yet; `None`: the caller
    /// knows it does (the last emit wrote them), so they are not compared.
    pub content: Option<Content<'a>>,
}

/// What a file of feeds/ is to hold.
#[derive(Clone, Copy)]
pub enum Content<'a> {
    Bytes(&'a [u8]),
    /// The bytes of this file (in content/), copied.
    CopyOf(&'a Path),
}

/// The records of `output`'s files, one per variant (identity first).
/// `written`: feeds/ holds them as the last emit left them.
pub fn records<'a>(
    output: &'a Output,
    variants: &'a [Variant],
    modified: Option<SystemTime>,
    written: bool,
) -> impl Iterator<Item = Record<'a>> {
    variants.iter().map(move |variant| Record {
        path: format!("{}{}", output.path, variant.encoding.file_suffix()),
        kind: output.kind,
        digest: Digest { len: variant.len, etag: variant.etag.clone() },
        modified,
        content: match &variant.source {
            _ if written => None,
            Source::Memory(bytes) => Some(Content::Bytes(bytes)),
            Source::Original { path, .. } => Some(Content::CopyOf(path)),
            Source::File(_) => None,
        },
    })
}

/// Makes `out` hold exactly `records` (plus files episodic never wrote),
/// each with its `modified` as mtime when given (so that a restart serves
/// the Last-Modified clients already saw). `note` heads the manifest, for
/// [`read_note`]. In parallel: a 10,000-episode site has tens of thousands.
pub fn emit(out: &Path, records: &[Record<'_>], note: Option<&str>) -> Result<EmitReport, EmitError> {
    let emitter = Emitter::new(out);
    records.par_iter().try_for_each(|record| emitter.put(record))?;
    emitter.finish(note)
}

/// Outputs are relative `/`-paths without `..`; anything else is a bug or
/// hostile input, and is refused rather than written outside `out`.
fn check_relative(path: &str) -> Result<(), EmitError> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains(['\\', '\t', '\n', '\r'])
        || path.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if bad { Err(EmitError::UnsafePath(path.to_owned())) } else { Ok(()) }
}

/// Best effort: the mtime only carries Last-Modified across restarts.
fn set_modified(path: &Path, modified: SystemTime) {
    let needed = fs::metadata(path).and_then(|m| m.modified()).is_ok_and(|m| m != modified);
    if needed && let Ok(file) = fs::File::options().write(true).open(path) {
        let _ = file.set_modified(modified);
    }
}

/// The note the last emit left at the top of the manifest.
pub fn read_note(out: &Path) -> Option<String> {
    Manifest::read(out).note
}

/// What earlier emits left in `out`, except the outputs in `skip`: each
/// listed output with its listed variants, as files (nothing is read), and
/// its mtime as Last-Modified. Kinds come from the names (see `kind_of`).
/// Files that are missing, or listed without a digest, are left out.
pub fn load(out: &Path, skip: &BTreeSet<&str>) -> Vec<Encoded> {
    let manifest = Manifest::read(out);
    let is_variant = |path: &str| {
        Encoding::COMPRESSED.iter().any(|encoding| {
            path.strip_suffix(encoding.file_suffix()).is_some_and(|source| manifest.lists(source))
        })
    };
    let paths: Vec<&String> =
        manifest.files.keys().filter(|p| !is_variant(p) && !skip.contains(p.as_str())).collect();
    paths
        .into_par_iter()
        .filter(|path| check_relative(path).is_ok())
        .filter_map(|path| {
            let digest = manifest.digest(path)?;
            let (file, modified) = stored(out, path, digest)?;
            let identity = Variant {
                encoding: Encoding::Identity,
                etag: digest.etag.clone(),
                len: digest.len,
                source: Source::File(file),
            };
            // A variant that is missing: serve the file uncompressed.
            let variants = listed_variants(out, path, &manifest).unwrap_or_default();
            let mut output = Output::new(path.clone(), kind_of(path), bytes::Bytes::new());
            output.body = Body::AsBefore;
            let variants = std::iter::once(identity).chain(variants).collect();
            Some(Encoded { output, variants, effort: Effort::Best, last_modified: Some(modified) })
        })
        .collect()
}

/// Feeds are `rss.xml`, `atom.xml`, `feed.json` at the top, in a series
/// folder or in one of its archives; pages are `index.html` at the top, in a
/// series folder or in an episode's (numbered) folder.
fn kind_of(path: &str) -> OutputKind {
    let parts: Vec<&str> = path.split('/').collect();
    let feed_folder = parts.len() <= 2 || (parts.len() == 4 && parts[1] == "archive");
    let page_folder = parts.len() <= 2 || (parts.len() == 3 && parts[1].bytes().all(|b| b.is_ascii_digit()));
    match parts.last().copied() {
        Some("rss.xml") if feed_folder => OutputKind::Rss,
        Some("atom.xml") if feed_folder => OutputKind::Atom,
        Some("feed.json") if feed_folder => OutputKind::JsonFeed,
        Some("index.html") if page_folder => OutputKind::Page,
        Some(render::SUBSCRIPTIONS | render::SITEMAP | render::ROBOTS) if parts.len() == 1 => {
            OutputKind::Listing
        }
        _ => OutputKind::Asset,
    }
}

#[cfg(test)]
mod tests {
    use super::check_relative;

    #[test]
    fn refuses_paths_that_leave_the_folder() {
        for bad in ["", "/etc/x", "../x", "a/../../x", "a//b", "a\\b", "./a"] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
        for good in ["rss.xml", "night-shift/images/a.png", "밤/그림.png"] {
            assert!(check_relative(good).is_ok(), "{good}");
        }
    }
}
