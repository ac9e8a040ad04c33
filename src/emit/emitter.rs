//! An emit in steps: files are staged as they come, from many threads, and
//! [`Emitter::finish`] makes them live. `episodic build` hands each bulk
//! document over as soon as it is rendered (the emitter is the render's
//! [`Sink`]), so the whole site, 500 MB at 10,000 episodes, is never in
//! memory at once.

use super::manifest::{self, Manifest};
use super::staging::{self, Staged, copy_staged, flush, write_staged};
use super::{
    Content, EmitError, EmitReport, Record, check_relative, encode_one, io_error, records, set_modified,
};
use crate::render::{Body, Output, Sink};
use crate::snapshot;
use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use tempfile::TempDir;

/// Brings `out` to exactly the files put into it (plus files episodic never
/// wrote). Nothing in `out` changes before [`finish`](Self::finish);
/// dropped unfinished, it leaves `out` as it was.
pub struct Emitter {
    out: PathBuf,
    manifest: Manifest,
    /// Beside `out`; made for the first changed file, so an emit that
    /// changes nothing stages nothing.
    staging: OnceLock<Result<TempDir, String>>,
    /// The folders made in the staging folder so far.
    folders: Mutex<HashSet<String>>,
    progress: Mutex<Progress>,
}

#[derive(Default)]
struct Progress {
    /// Every file `out` is to hold, with its digest, for the manifest.
    files: Vec<(String, manifest::Digest)>,
    staged: Vec<Staged>,
    unchanged: usize,
    /// The first failure of a [`Sink::take`], which cannot return it.
    failure: Option<EmitError>,
}

impl Emitter {
    pub fn new(out: &Path) -> Self {
        Emitter {
            out: out.to_path_buf(),
            manifest: Manifest::read(out),
            staging: OnceLock::new(),
            folders: Mutex::new(HashSet::new()),
            progress: Mutex::new(Progress::default()),
        }
    }

    /// The note the manifest in `out` was headed by before this emit.
    pub fn earlier_note(&self) -> Option<&str> {
        self.manifest.note.as_deref()
    }

    /// Stages `record` unless `out` already holds its bytes. Only a file
    /// the last emit wrote can be unchanged: the manifest's digest with the
    /// file's length and mtime say so without reading it; otherwise (an
    /// older manifest, a file touched by hand) it is read and compared.
    pub fn put(&self, record: &Record<'_>) -> Result<(), EmitError> {
        check_relative(&record.path)?;
        let changed = record.content.filter(|content| !self.holds(record, *content));
        if let Some(content) = changed {
            let staging = self.staging()?;
            self.create_folders(staging, &record.path)?;
            let staged = staging.join(&record.path);
            match content {
                Content::Bytes(bytes) => write_staged(&staged, bytes, record.modified)?,
                Content::CopyOf(source) => copy_staged(source, &staged, &record.digest, record.modified)?,
            }
        }
        let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        progress.files.push((record.path.clone(), record.digest.clone()));
        match changed {
            Some(_) => progress.staged.push(Staged { path: record.path.clone(), kind: record.kind }),
            None => progress.unchanged += 1,
        }
        Ok(())
    }

    /// Whether `out` holds `content` at the record's path (then its mtime
    /// is set to the record's).
    fn holds(&self, record: &Record<'_>, content: Content<'_>) -> bool {
        let target = self.out.join(&record.path);
        let same = self.manifest.lists(&record.path) && {
            let vouched = self.manifest.digest(&record.path) == Some(&record.digest)
                && fs::metadata(&target).is_ok_and(|m| {
                    m.len() == record.digest.len
                        && record.modified.is_none_or(|t| m.modified().is_ok_and(|m| m == t))
                });
            vouched
                || match content {
                    Content::Bytes(bytes) => fs::read(&target).is_ok_and(|existing| existing == bytes),
                    // Hashed a chunk at a time: it may be a long recording.
                    Content::CopyOf(_) => fs::File::open(&target)
                        .and_then(snapshot::etag_of_reader)
                        .is_ok_and(|(etag, len)| etag == record.digest.etag && len == record.digest.len),
                }
        };
        if let (true, Some(modified)) = (same, record.modified) {
            set_modified(&target, modified);
        }
        same
    }

    fn staging(&self) -> Result<&Path, EmitError> {
        let parent = self.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let made = self.staging.get_or_init(|| {
            let name = self.out.file_name().map_or("out".into(), |n| n.to_string_lossy());
            fs::create_dir_all(parent)
                .and_then(|()| {
                    tempfile::Builder::new().prefix(&format!(".{name}.staging-")).tempdir_in(parent)
                })
                .map_err(|e| e.to_string())
        });
        match made {
            Ok(dir) => Ok(dir.path()),
            Err(e) => {
                Err(EmitError::Io { path: parent.to_path_buf(), source: std::io::Error::other(e.clone()) })
            }
        }
    }

    /// Makes the folders `path` needs in `staging`, each once.
    fn create_folders(&self, staging: &Path, path: &str) -> Result<(), EmitError> {
        let Some((folder, _)) = path.rsplit_once('/') else { return Ok(()) };
        let mut made = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
        if made.contains(folder) {
            return Ok(());
        }
        let mut missing = vec![folder];
        let mut rest = folder;
        while let Some((parent, _)) = rest.rsplit_once('/')
            && !made.contains(parent)
        {
            missing.push(parent);
            rest = parent;
        }
        for folder in missing.into_iter().rev() {
            let dir = staging.join(folder);
            fs::create_dir(&dir).map_err(io_error(&dir))?;
            made.insert(folder.to_owned());
        }
        Ok(())
    }

    /// Makes what was put live: flushes the staged files, renames them into
    /// place, removes the files an earlier emit wrote that were not put
    /// again, and writes the manifest (headed by `note`, for
    /// [`read_note`](super::read_note)).
    pub fn finish(self, note: Option<&str>) -> Result<EmitReport, EmitError> {
        let progress = std::mem::take(&mut *self.progress.lock().unwrap_or_else(PoisonError::into_inner));
        if let Some(failure) = progress.failure {
            return Err(failure);
        }
        let out = &self.out;
        fs::create_dir_all(out).map_err(io_error(out))?;
        let mut report =
            EmitReport { written: progress.staged.len(), unchanged: progress.unchanged, removed: 0 };
        let mut touched_dirs = BTreeSet::new();
        if !progress.staged.is_empty() {
            let staging = self.staging.get().and_then(|made| made.as_ref().ok()).map(TempDir::path);
            let staging = staging.ok_or_else(|| EmitError::Io {
                path: out.clone(),
                source: std::io::Error::other("files were staged in no staging folder"),
            })?;
            // Every staged byte is on disk before any rename makes it live.
            flush(staging, &progress.staged)?;
            touched_dirs = staging::move_into_place(out, staging, &progress.staged)?;
        }
        let current: BTreeSet<&str> = progress.files.iter().map(|(path, _)| path.as_str()).collect();
        for stale in self.manifest.files.keys().filter(|p| !current.contains(p.as_str())) {
            if check_relative(stale).is_err() {
                continue;
            }
            let path = out.join(stale);
            match fs::remove_file(&path) {
                Ok(()) => report.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(EmitError::Io { path, source: e }),
            }
            remove_empty_parents(out, &path);
        }
        let text = manifest::text(note, progress.files.iter().map(|(path, digest)| (path.as_str(), digest)));
        self.write_manifest(&text)?;
        touched_dirs.insert(out.to_path_buf());
        // The renames and removals are on disk too (flushing the data first
        // is what keeps every file whole; this makes the new state last).
        staging::flush_renames(out, &touched_dirs);
        Ok(report)
    }

    fn write_manifest(&self, text: &str) -> Result<(), EmitError> {
        let target = self.out.join(manifest::MANIFEST);
        if fs::read_to_string(&target).is_ok_and(|existing| existing == text) {
            return Ok(());
        }
        let staged = self.staging()?.join(manifest::MANIFEST);
        write_staged(&staged, text.as_bytes(), None)?;
        fs::File::open(&staged).and_then(|f| f.sync_all()).map_err(io_error(&staged))?;
        fs::rename(&staged, &target).map_err(io_error(&target))
    }
}

/// A build's bulk documents, encoded and staged as they are rendered; what
/// the render keeps is [`Body::Taken`].
impl Sink for Emitter {
    fn take(&self, output: Output) -> Output {
        let encoded = match encode_one(&self.out, &self.manifest, output) {
            Ok(encoded) => encoded,
            Err(not_fresh) => return not_fresh,
        };
        for record in records(&encoded.output, &encoded.variants, encoded.last_modified, false) {
            if let Err(failure) = self.put(&record) {
                let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
                progress.failure.get_or_insert(failure);
                break;
            }
        }
        Output { body: Body::Taken, ..encoded.output }
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
