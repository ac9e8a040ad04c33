//! The staging folder beside feeds/: changed files are written there,
//! flushed to disk, then renamed into place, so that each file in feeds/ is
//! whole, old or new.

use super::{EmitError, io_error};
use crate::render::OutputKind;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A changed file, written in the staging folder, to be renamed over its
/// target.
pub(super) struct Staged {
    pub(super) staged: PathBuf,
    pub(super) target: PathBuf,
    pub(super) kind: OutputKind,
}

pub(super) fn write_staged(path: &Path, bytes: &[u8], modified: Option<SystemTime>) -> Result<(), EmitError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
    }
    let mut file = fs::File::create(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    if let Some(modified) = modified {
        file.set_modified(modified).map_err(io_error(path))?;
    }
    Ok(())
}

/// Flushes the staged files to disk: on Linux with one `syncfs` for the
/// whole filesystem (one fsync per file took minutes for 40,000 files),
/// elsewhere file by file.
pub(super) fn sync_staged(staging: &Path, files: &[Staged]) -> Result<(), EmitError> {
    #[cfg(target_os = "linux")]
    {
        let _ = files;
        let dir = fs::File::open(staging).map_err(io_error(staging))?;
        nix::unistd::syncfs(&dir).map_err(|e| EmitError::Io { path: staging.to_path_buf(), source: e.into() })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = staging;
        files.par_iter().try_for_each(|file| {
            fs::File::open(&file.staged).and_then(|f| f.sync_all()).map_err(io_error(&file.staged))
        })
    }
}

pub(super) fn sync_dir(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}
