//! The state directory: what `episodic serve` keeps between runs that is
//! not for readers (never under the public feeds/), in one SQLite database.
//! It holds every episode file's last good bytes (`last_good`) and the
//! audience's counts (`audience::store`).
//!
//! Where it is: `serve --state DIR`; else `$STATE_DIRECTORY`, which systemd
//! sets from the unit's `StateDirectory=`; else `.episodic/` beside the
//! content folder.

pub mod last_good;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};
use std::path::{Path, PathBuf};

/// The database's file name in the state directory.
pub const DATABASE: &str = "episodic.sqlite";

/// Every schema change, in order: `PRAGMA user_version` says how many ran.
/// Append only; never edit one that shipped.
const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE last_good (
            source TEXT PRIMARY KEY NOT NULL,
            digest BLOB NOT NULL,
            zstd BLOB NOT NULL
        ) STRICT;",
    ),
    // The audience (see `audience::store`). Days are the site's, YYYY-MM-DD.
    M::up(
        "CREATE TABLE salt (day TEXT PRIMARY KEY NOT NULL, salt BLOB NOT NULL) STRICT;
        CREATE TABLE seen (
            day TEXT NOT NULL, subject TEXT NOT NULL, client BLOB NOT NULL,
            PRIMARY KEY (day, subject, client)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE sketch (
            day TEXT NOT NULL, subject TEXT NOT NULL, hll BLOB NOT NULL,
            PRIMARY KEY (day, subject)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE daily (
            day TEXT NOT NULL, subject TEXT NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (day, subject)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE reported (
            series TEXT NOT NULL, feed TEXT NOT NULL, aggregator TEXT NOT NULL, key TEXT NOT NULL,
            by_id INTEGER NOT NULL, count INTEGER NOT NULL,
            last_day TEXT NOT NULL, days INTEGER NOT NULL,
            PRIMARY KEY (series, feed, aggregator, key)
        ) STRICT;
        CREATE TABLE reported_daily (
            day TEXT NOT NULL, series TEXT NOT NULL, aggregator TEXT NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY (day, series, aggregator)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE silent (
            series TEXT NOT NULL, service TEXT NOT NULL, last_day TEXT NOT NULL,
            PRIMARY KEY (series, service)
        ) STRICT;",
    ),
];

/// The state directory for a content folder: `chosen` (`--state`), else
/// systemd's (the first of `$STATE_DIRECTORY`'s), else `.episodic/` beside
/// `content`.
pub fn directory(chosen: Option<&Path>, content: &Path) -> PathBuf {
    if let Some(dir) = chosen {
        return dir.to_path_buf();
    }
    let systemd = std::env::var_os("STATE_DIRECTORY");
    if let Some(first) = systemd.as_deref().and_then(|dirs| std::env::split_paths(dirs).next())
        && !first.as_os_str().is_empty()
    {
        return first;
    }
    let beside = content.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    beside.join(".episodic")
}

/// Opens (creating it and `dir` if need be) the state database, in WAL
/// mode and at the current schema.
/// Writers take the lock when they begin (`BEGIN IMMEDIATE`): a deferred
/// transaction that turns into a write fails at once if another wrote.
pub fn open(dir: &Path) -> Result<Connection, String> {
    // The server opens the database more than once at start: one sets it
    // up while the others wait, then find it current.
    static OPENING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _opening = OPENING.lock().unwrap_or_else(|e| e.into_inner());
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(DATABASE);
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut db = Connection::open(&path).map_err(|e| fail(&e))?;
    db.pragma_update(None, "journal_mode", "WAL").map_err(|e| fail(&e))?;
    db.pragma_update(None, "synchronous", "NORMAL").map_err(|e| fail(&e))?;
    // A large write (a first start) leaves no large log behind.
    db.pragma_update(None, "journal_size_limit", 4 << 20).map_err(|e| fail(&e))?;
    db.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| fail(&e))?;
    Migrations::from_slice(MIGRATIONS).to_latest(&mut db).map_err(|e| fail(&e))?;
    Ok(db)
}
