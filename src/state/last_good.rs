//! Every episode file's last good bytes, so that a file broken while the
//! server was down is served at start as it was last published, exactly as
//! a running server keeps serving its last good version, instead of
//! dropping the episode until it is fixed.
//!
//! Written after each rebuild, only for files whose bytes changed; read
//! only for a file that is broken when first read.

use crate::pipeline::{Recall, Standing};
use rayon::prelude::*;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

/// zstd's level: source text shrinks about threefold, quickly.
const LEVEL: i32 = 3;
/// Files read and packed at once.
const CHUNK: usize = 256;
/// Files written at once past which the write-ahead log is emptied.
const CHECKPOINT_AFTER: usize = 100;
/// Kept bytes unpack to at most this (an episode file is far smaller).
const LARGEST: usize = 64 << 20;

pub struct LastGood {
    db: Mutex<Connection>,
    /// The digest of each file's kept bytes (by source key): what changed
    /// is found without reading the database.
    kept: Mutex<HashMap<String, blake3::Hash>>,
}

impl LastGood {
    /// The store in the state directory `dir` (see `state::open`).
    pub fn open(dir: &Path) -> Result<Self, String> {
        let db = super::open(dir)?;
        let kept = Self::digests(&db).map_err(|e| format!("{}: {e}", dir.join(super::DATABASE).display()))?;
        Ok(LastGood { db: Mutex::new(db), kept: Mutex::new(kept) })
    }

    fn digests(db: &Connection) -> rusqlite::Result<HashMap<String, blake3::Hash>> {
        let mut query = db.prepare("SELECT source, digest FROM last_good")?;
        let rows = query.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?)))?;
        let mut kept = HashMap::new();
        for row in rows {
            let (source, digest) = row?;
            if let Ok(digest) = <[u8; 32]>::try_from(digest) {
                kept.insert(source, blake3::Hash::from_bytes(digest));
            }
        }
        Ok(kept)
    }

    /// Keeps the bytes of every file in good standing that changed, and
    /// forgets the files that went. A file read again with other bytes
    /// than its standing's (edited meanwhile) waits for the next call.
    /// Returns how many files' bytes were kept.
    pub fn keep(&self, files: &[Standing]) -> rusqlite::Result<usize> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let mut db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let changed: Vec<(&Standing, blake3::Hash)> = files
            .iter()
            .filter_map(|file| Some((file, file.good.filter(|d| kept.get(&file.source) != Some(d))?)))
            .collect();
        let present: std::collections::HashSet<&str> = files.iter().map(|f| f.source.as_str()).collect();
        let gone: Vec<String> = kept.keys().filter(|k| !present.contains(k.as_str())).cloned().collect();
        if changed.is_empty() && gone.is_empty() {
            return Ok(0);
        }
        let mut written = Vec::new();
        let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO last_good (source, digest, zstd) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source) DO UPDATE SET digest = excluded.digest, zstd = excluded.zstd",
            )?;
            // Read and packed in parallel, a chunk at a time: a first start
            // keeps every file, never all in memory at once.
            for chunk in changed.chunks(CHUNK) {
                let packed: Vec<(&Standing, blake3::Hash, Vec<u8>)> = chunk
                    .par_iter()
                    .filter_map(|&(file, digest)| {
                        let bytes = std::fs::read(&file.path).ok()?;
                        let packed = zstd::bulk::compress(&bytes, LEVEL).ok();
                        (blake3::hash(&bytes) == digest).then_some((file, digest, packed?))
                    })
                    .collect();
                for (file, digest, packed) in packed {
                    upsert.execute(params![file.source, digest.as_bytes().as_slice(), packed])?;
                    written.push((file.source.clone(), digest));
                }
            }
            let mut delete = tx.prepare_cached("DELETE FROM last_good WHERE source = ?1")?;
            for source in &gone {
                delete.execute(params![source])?;
            }
        }
        tx.commit()?;
        if written.len() > CHECKPOINT_AFTER {
            // Hands the space of a large write-ahead log back at once.
            db.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
        }
        for source in &gone {
            kept.remove(source);
        }
        let count = written.len();
        kept.extend(written);
        Ok(count)
    }
}

impl Recall for LastGood {
    fn recall(&self, source: &str) -> Option<Vec<u8>> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let found = db
            .query_row("SELECT zstd FROM last_good WHERE source = ?1", params![source], |row| {
                row.get::<_, Vec<u8>>(0)
            })
            .optional();
        let packed = found.unwrap_or_else(|e| {
            tracing::warn!(%e, source, "cannot read the last good version from the state database");
            None
        })?;
        zstd::bulk::decompress(&packed, LARGEST)
            .inspect_err(
                |e| tracing::warn!(%e, source, "the last good version in the state database is damaged"),
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::LastGood;
    use crate::pipeline::{Recall, Standing};
    use std::path::Path;

    fn standing(dir: &Path, source: &str, good: bool) -> Standing {
        let path = dir.join(source);
        let good = good.then(|| blake3::hash(&std::fs::read(&path).unwrap()));
        Standing { source: source.to_owned(), path, good }
    }

    #[test]
    fn keeps_good_bytes_skips_broken_and_changed_ones_and_forgets_files_that_went() {
        let content = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        std::fs::write(content.path().join("01.md"), "one").unwrap();
        std::fs::write(content.path().join("02.md"), "two").unwrap();
        let store = LastGood::open(state.path()).unwrap();
        let files = [standing(content.path(), "01.md", true), standing(content.path(), "02.md", true)];
        assert_eq!(store.keep(&files).unwrap(), 2);
        assert_eq!(store.keep(&files).unwrap(), 0, "unchanged bytes are not written again");

        // Broken: the good bytes stay. Edited since its standing: not kept.
        std::fs::write(content.path().join("01.md"), "one, broken").unwrap();
        let stale =
            Standing { good: Some(blake3::hash(b"other")), ..standing(content.path(), "02.md", false) };
        assert_eq!(store.keep(&[standing(content.path(), "01.md", false), stale]).unwrap(), 0);
        assert_eq!(store.recall("01.md").as_deref(), Some(b"one".as_slice()));

        // Reopened (a restart): the same; a file left out is forgotten.
        drop(store);
        let store = LastGood::open(state.path()).unwrap();
        assert_eq!(store.recall("02.md").as_deref(), Some(b"two".as_slice()));
        assert_eq!(store.keep(&[standing(content.path(), "02.md", true)]).unwrap(), 0);
        assert_eq!(store.recall("01.md"), None);
        assert_eq!(store.recall("02.md").as_deref(), Some(b"two".as_slice()));
    }

    #[test]
    fn a_corrupt_database_is_an_error_naming_it() {
        let state = tempfile::tempdir().unwrap();
        std::fs::write(state.path().join(super::super::DATABASE), vec![0x5a; 8192]).unwrap();
        let error = LastGood::open(state.path()).err().unwrap();
        assert!(error.contains("episodic.sqlite"), "{error}");
    }
}
