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

mod staging;

use crate::compress::{self, Effort, Encoded, Encoding};
use crate::render::{self, Output, OutputKind};
use bytes::Bytes;
use rayon::prelude::*;
use staging::{Staged, flush, write_staged};
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The list of files the last build wrote, one path per line.
pub const MANIFEST: &str = ".episodic-manifest";

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("refusing to write `{0}`: outputs must stay inside the output folder")]
    UnsafePath(String),
}

/// What a successful emit changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EmitReport {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Pairs each output with its best compressed variants, read back from
/// `out` when the output's bytes are unchanged there (and the last emit
/// listed the variant), with that file's mtime as when they last changed;
/// compressed afresh otherwise. Outputs are independent, so they are done
/// in parallel.
pub fn encode(out: &Path, outputs: Vec<Output>) -> Vec<Encoded> {
    let listed: BTreeSet<String> = read_manifest(out).into_iter().collect();
    outputs
        .into_par_iter()
        .map(|output| match reuse_variants(out, &output, &listed) {
            Some((variants, modified)) => {
                let effort = Effort::finished(&output);
                Encoded { output, variants, effort, last_modified: Some(modified), on_disk: true }
            }
            None => {
                let effort = Effort::finished(&output);
                let variants = compress::variants(&output, effort);
                Encoded { output, variants, effort, last_modified: None, on_disk: false }
            }
        })
        .collect()
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> EmitError + '_ {
    move |source| EmitError::Io { path: path.to_path_buf(), source }
}

/// The variants the last emit wrote for `output` and the file's mtime, if
/// its bytes are the same now. The manifest says which variants there were
/// (one that was not smaller than its source was not written); a listed one
/// that cannot be read, or none listed for a compressible output (too small
/// to gain, or written before variants existed: cheap either way), means
/// compressing afresh.
fn reuse_variants(
    out: &Path,
    output: &Output,
    listed: &BTreeSet<String>,
) -> Option<(Vec<(Encoding, Bytes)>, SystemTime)> {
    let path = out.join(&output.path);
    if !listed.contains(&output.path) || output.bytes != fs::read(&path).ok()? {
        return None;
    }
    let modified = fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    let variants = listed_variants(out, &output.path, listed)?;
    (variants.is_empty() != compress::is_compressible(output)).then_some((variants, modified))
}

/// The variants of `path` the manifest lists, read back; `None` if one of
/// them cannot be read.
fn listed_variants(out: &Path, path: &str, listed: &BTreeSet<String>) -> Option<Vec<(Encoding, Bytes)>> {
    let mut variants = Vec::new();
    for encoding in Encoding::COMPRESSED {
        let name = format!("{path}{}", encoding.file_suffix());
        if listed.contains(&name) {
            variants.push((encoding, Bytes::from(fs::read(out.join(&name)).ok()?)));
        }
    }
    Some(variants)
}

/// One file to write: an output or one of its variants.
struct File<'a> {
    path: String,
    bytes: &'a [u8],
    kind: OutputKind,
    modified: Option<SystemTime>,
    /// Known to be in feeds/ as it is: not read back.
    on_disk: bool,
}

fn files(encoded: &[Encoded]) -> Vec<File<'_>> {
    let mut files = Vec::with_capacity(encoded.len() * 4);
    for Encoded { output, variants, last_modified: modified, on_disk, .. } in encoded {
        let (modified, on_disk) = (*modified, *on_disk);
        let kind = output.kind;
        files.push(File { path: output.path.clone(), bytes: &output.bytes, kind, modified, on_disk });
        for (encoding, bytes) in variants {
            let path = format!("{}{}", output.path, encoding.file_suffix());
            files.push(File { path, bytes, kind, modified, on_disk });
        }
    }
    files
}

/// Makes `out` hold exactly `encoded` and their variants (plus files
/// episodic never wrote), each with its `last_modified` as mtime when given
/// (so that a restart serves the Last-Modified clients already saw). `note`
/// heads the manifest, for [`read_note`].
pub fn emit(out: &Path, encoded: &[Encoded], note: Option<&str>) -> Result<EmitReport, EmitError> {
    let outputs = files(encoded);
    for output in &outputs {
        check_relative(&output.path)?;
    }
    fs::create_dir_all(out).map_err(io_error(out))?;
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.staging-"))
        .tempdir_in(parent)
        .map_err(io_error(parent))?;
    let listed: BTreeSet<String> = read_manifest(out).into_iter().collect();

    // Only a file the last emit wrote can be unchanged: on a first build
    // nothing is read back, nor what the caller knows feeds/ holds (the
    // server after an edit: all but a few). The rest is compared in
    // parallel: a 10,000-episode site has tens of thousands of files.
    let unchanged: Vec<bool> = outputs
        .par_iter()
        .map(|output| {
            if output.on_disk && listed.contains(&output.path) {
                return true;
            }
            let target = out.join(&output.path);
            let same = listed.contains(&output.path)
                && fs::read(&target).is_ok_and(|existing| existing == output.bytes);
            if let (true, Some(modified)) = (same, output.modified) {
                set_modified(&target, modified);
            }
            same
        })
        .collect();
    let changed: Vec<&File<'_>> =
        outputs.iter().zip(&unchanged).filter(|(_, same)| !**same).map(|(output, _)| output).collect();
    let mut report = EmitReport { unchanged: outputs.len() - changed.len(), ..EmitReport::default() };

    staging::create_folders(staging.path(), changed.iter().map(|file| file.path.as_str()))?;
    let staged: Vec<Staged> = changed
        .par_iter()
        .map(|file| {
            let staged = staging.path().join(&file.path);
            write_staged(&staged, file.bytes, file.modified)?;
            Ok(Staged { path: file.path.clone(), kind: file.kind })
        })
        .collect::<Result<_, EmitError>>()?;
    // Every staged byte is on disk before any rename makes it live.
    if !staged.is_empty() {
        flush(staging.path(), &staged)?;
    }
    report.written = staged.len();
    let mut touched_dirs = staging::move_into_place(out, staging.path(), &staged)?;

    let current: BTreeSet<&str> = outputs.iter().map(|o| o.path.as_str()).collect();
    for stale in listed.iter().filter(|p| !current.contains(p.as_str())) {
        if check_relative(stale).is_err() {
            continue;
        }
        let path = out.join(stale);
        match fs::remove_file(&path) {
            Ok(()) => report.removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(EmitError::Io { path, source: e }),
        }
        remove_empty_parents(out, &path);
    }
    write_manifest(out, staging.path(), &current, note)?;
    touched_dirs.insert(out.to_path_buf());
    // The renames and removals are on disk too (flushing the data first is
    // what keeps every file whole; this makes the new state last).
    staging::flush_renames(out, &touched_dirs);
    Ok(report)
}

/// Outputs are relative `/`-paths without `..`; anything else is a bug or
/// hostile input, and is refused rather than written outside `out`.
fn check_relative(path: &str) -> Result<(), EmitError> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
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

fn read_manifest(out: &Path) -> Vec<String> {
    fs::read_to_string(out.join(MANIFEST))
        .map(|text| {
            text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
        })
        .unwrap_or_default()
}

/// The note the last emit left at the top of the manifest.
pub fn read_note(out: &Path) -> Option<String> {
    let text = fs::read_to_string(out.join(MANIFEST)).ok()?;
    text.lines().next()?.strip_prefix("# ").map(str::to_owned)
}

fn write_manifest(
    out: &Path,
    staging: &Path,
    paths: &BTreeSet<&str>,
    note: Option<&str>,
) -> Result<(), EmitError> {
    let mut text = note.map(|note| format!("# {note}\n")).unwrap_or_default();
    for path in paths {
        text.push_str(path);
        text.push('\n');
    }
    let target = out.join(MANIFEST);
    if fs::read_to_string(&target).is_ok_and(|existing| existing == text) {
        return Ok(());
    }
    let staged = staging.join(MANIFEST);
    write_staged(&staged, text.as_bytes(), None)?;
    fs::File::open(&staged).and_then(|f| f.sync_all()).map_err(io_error(&staged))?;
    fs::rename(&staged, &target).map_err(io_error(&target))
}

/// What earlier emits left in `out`, except the outputs in `skip`: each
/// listed output with its listed variants and its mtime as Last-Modified.
/// Kinds come from the names (see `kind_of`). Unreadable files are left out.
pub fn load(out: &Path, skip: &BTreeSet<&str>) -> Vec<Encoded> {
    let listed: BTreeSet<String> = read_manifest(out).into_iter().collect();
    let is_variant = |path: &str| {
        Encoding::COMPRESSED.iter().any(|encoding| {
            path.strip_suffix(encoding.file_suffix()).is_some_and(|source| listed.contains(source))
        })
    };
    let mut loaded = Vec::new();
    for path in listed.iter().filter(|p| !is_variant(p) && !skip.contains(p.as_str())) {
        if check_relative(path).is_err() {
            continue;
        }
        let file = out.join(path);
        let (Ok(bytes), Ok(modified)) = (fs::read(&file), fs::metadata(&file).and_then(|m| m.modified()))
        else {
            continue;
        };
        // A variant that cannot be read: serve the file uncompressed.
        let variants = listed_variants(out, path, &listed).unwrap_or_default();
        let output = Output::new(path.clone(), kind_of(path), Bytes::from(bytes));
        let on_disk = true;
        loaded.push(Encoded {
            output,
            variants,
            effort: Effort::Best,
            last_modified: Some(modified),
            on_disk,
        });
    }
    loaded
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

fn remove_empty_parents(out: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out || !d.starts_with(out) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Makes renames durable. Best effort: not every platform can open a folder.
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
