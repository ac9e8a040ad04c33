//! `.episodic-held.json`: the episodes served from their last good version
//! because their file now has errors, as they were published, so that a
//! restart serves them exactly as the running server did (same bytes, same
//! validators) instead of dropping them. Present only while some episode is
//! held; never served (the manifest does not list it).

use crate::model::Episode;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const HELD: &str = ".episodic-held.json";

/// An episode kept while its file (`path`, in series `slug`) is broken.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Held {
    pub path: PathBuf,
    pub slug: String,
    pub episode: Episode,
}

/// Writes `held` into `out` (replacing the file whole), or removes the file
/// when nothing is held.
pub fn write(out: &Path, held: &[Held]) -> io::Result<()> {
    let file = out.join(HELD);
    if held.is_empty() {
        return match fs::remove_file(&file) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let text = serde_json::to_vec(held).map_err(io::Error::other)?;
    let staged = out.join(format!("{HELD}.{}", std::process::id()));
    fs::write(&staged, text)?;
    fs::File::open(&staged)?.sync_all()?;
    fs::rename(&staged, &file)
}

/// What the last run held; nothing when there is no file or it cannot be
/// read (then those episodes are left out until their files are fixed, as
/// before there was this file).
pub fn read(out: &Path) -> Vec<Held> {
    let Ok(text) = fs::read(out.join(HELD)) else { return Vec::new() };
    serde_json::from_slice(&text).unwrap_or_else(|e| {
        tracing::warn!(%e, "{} cannot be read; episodes with errors are left out until fixed", HELD);
        Vec::new()
    })
}
