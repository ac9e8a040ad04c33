//! Finds what is in a content folder: site.toml, the series folders, their
//! episode files, and every other file that may be published as an asset.
//!
//! Editor leftovers and hidden files are skipped here, once, so that no later
//! stage (nor the watcher) ever sees them.

use crate::diagnostic::Diagnostic;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The files of one content folder, in a stable (sorted) order.
#[derive(Clone, Debug, Default)]
pub struct ContentTree {
    pub root: PathBuf,
    pub series: Vec<SeriesDir>,
    /// Every non-ignored file that could be published as an asset, relative to
    /// `root` with `/` separators (the same shape as its URL path).
    pub assets: BTreeSet<String>,
    /// Series folders that could not be listed (their names).
    pub unreadable: Vec<String>,
}

/// A folder holding series.toml: its name is the series' URL segment.
#[derive(Clone, Debug)]
pub struct SeriesDir {
    pub slug: String,
    pub dir: PathBuf,
    /// The `*.md` files directly inside `dir`, sorted by name.
    pub episodes: Vec<PathBuf>,
}

impl SeriesDir {
    pub fn series_toml(&self) -> PathBuf {
        self.dir.join("series.toml")
    }
}

/// Whether a file or folder name is an editor's temporary file, a backup or
/// hidden: vim (`.x.swp`, `x~`, `4913`), emacs (`.#x`, `#x#`), and dotfiles.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || (name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || [".swp", ".swx", ".swo", ".tmp"].iter().any(|ext| name.ends_with(ext))
}

/// Lists `root`. A missing or unreadable folder is an error; unreadable
/// entries inside it become diagnostics and are skipped.
pub fn scan(root: &Path) -> Result<(ContentTree, Vec<Diagnostic>), Diagnostic> {
    let entries = fs::read_dir(root)
        .map_err(|e| Diagnostic::error(root, format!("cannot read the content folder: {e}")))?;
    let mut tree = ContentTree { root: root.to_path_buf(), ..ContentTree::default() };
    let mut problems = Vec::new();
    let mut folders = Vec::new();
    for entry in entries {
        let Some((name, path, is_dir)) = entry_info(root, entry, &mut problems) else { continue };
        if is_dir {
            folders.push((name, path));
        } else if is_asset_name(&name) {
            tree.assets.insert(name);
        }
    }
    folders.sort();
    for (name, dir) in folders {
        // One listing gives a series folder's episodes and its assets.
        let mut episodes = Vec::new();
        let is_series = !name.starts_with('_');
        let listed =
            collect_files(&dir, &name, &mut tree.assets, is_series.then_some(&mut episodes), &mut problems);
        if !is_series {
            continue;
        }
        if let Err(e) = listed {
            problems.push(Diagnostic::error(&dir, format!("cannot read this series folder: {e}")));
            tree.unreadable.push(name);
            continue;
        }
        episodes.sort();
        if dir.join("series.toml").is_file() {
            tree.series.push(SeriesDir { slug: name, dir, episodes });
        } else if !episodes.is_empty() {
            // Most likely a misspelt or forgotten series.toml: say so rather
            // than silently publishing nothing from this folder.
            problems.push(Diagnostic::warning(
                &dir,
                format!(
                    "this folder has {} episode file(s) but no series.toml, so it is not published",
                    episodes.len()
                ),
            ));
        }
    }
    Ok((tree, problems))
}

/// Applies file events to a tree listed before, when they are all episode
/// files coming or going directly in a known series folder (or settings
/// files, which are read again anyway): a 10,000-file folder need not be
/// listed again for one saved episode. Returns whether episode files came
/// or went; `None`, leaving `tree` unusable, when any path is something
/// else (a folder, an asset, a new series.toml): then list everything with
/// [`scan`].
pub fn patch(tree: &mut ContentTree, paths: &BTreeSet<PathBuf>) -> Option<bool> {
    let mut came_or_went = false;
    for path in paths {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
            return None;
        };
        if is_ignored_name(name) || (parent == tree.root && name == "site.toml") {
            continue;
        }
        let series = tree.series.iter_mut().find(|s| s.dir == parent)?;
        if name == "series.toml" {
            if !path.is_file() {
                return None;
            }
            continue;
        }
        if !has_extension(name, "md") {
            return None;
        }
        let listed = series.episodes.binary_search(path);
        match (fs::metadata(path), listed) {
            (Ok(meta), Err(at)) if meta.is_file() => {
                series.episodes.insert(at, path.clone());
                came_or_went = true;
            }
            (Ok(meta), Ok(_)) if meta.is_file() => {}
            (Err(e), Ok(at)) if e.kind() == std::io::ErrorKind::NotFound => {
                series.episodes.remove(at);
                came_or_went = true;
            }
            (Err(e), Err(_)) if e.kind() == std::io::ErrorKind::NotFound => {}
            _ => return None,
        }
    }
    Some(came_or_went)
}

fn entry_info(
    dir: &Path,
    entry: std::io::Result<fs::DirEntry>,
    problems: &mut Vec<Diagnostic>,
) -> Option<(String, PathBuf, bool)> {
    let entry = match entry {
        Ok(entry) => entry,
        Err(e) => {
            problems.push(Diagnostic::warning(dir, format!("cannot list this folder: {e}")));
            return None;
        }
    };
    let path = entry.path();
    let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
        problems.push(Diagnostic::warning(&path, "skipped: the file name is not valid UTF-8"));
        return None;
    };
    if is_ignored_name(&name) {
        return None;
    }
    // The type comes with the listing on most filesystems, so a folder of
    // 10,000 episodes costs no `stat` per file (the watcher rescans often).
    // Symlinks are followed, so a link counts as what it points to.
    let is_dir = match entry.file_type() {
        Ok(kind) if !kind.is_symlink() => kind.is_dir(),
        _ => match fs::metadata(&path) {
            Ok(meta) => meta.is_dir(),
            Err(e) => {
                problems.push(Diagnostic::warning(&path, format!("skipped: {e}")));
                return None;
            }
        },
    };
    Some((name, path, is_dir))
}

fn has_extension(name: &str, extension: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| ext.eq_ignore_ascii_case(extension))
}

/// Markdown and TOML are sources, never published as they are.
fn is_asset_name(name: &str) -> bool {
    !(has_extension(name, "md") || has_extension(name, "toml"))
}

/// Records every publishable file under `dir` as `prefix/...`, and the
/// `*.md` files directly in it as `episodes` when asked. Each real folder
/// is visited once, so symlink loops end. Only `dir` itself being
/// unreadable is an error; folders below it are warnings.
fn collect_files(
    dir: &Path,
    prefix: &str,
    assets: &mut BTreeSet<String>,
    mut episodes: Option<&mut Vec<PathBuf>>,
    problems: &mut Vec<Diagnostic>,
) -> std::io::Result<()> {
    let mut visited = BTreeSet::new();
    let mut stack = vec![(dir.to_path_buf(), prefix.to_owned())];
    let mut top = true;
    while let Some((dir, prefix)) = stack.pop() {
        if !fs::canonicalize(&dir).is_ok_and(|real| visited.insert(real)) && !top {
            continue;
        }
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if top => return Err(e),
            Err(e) => {
                problems.push(Diagnostic::warning(&dir, format!("cannot list this folder: {e}")));
                continue;
            }
        };
        for entry in entries {
            let Some((name, path, is_dir)) = entry_info(&dir, entry, problems) else { continue };
            if is_dir {
                stack.push((path, format!("{prefix}/{name}")));
            } else if is_asset_name(&name) {
                assets.insert(format!("{prefix}/{name}"));
            } else if let Some(episodes) =
                episodes.as_deref_mut().filter(|_| top && has_extension(&name, "md"))
            {
                episodes.push(path);
            }
        }
        top = false;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_ignored_name;

    #[test]
    fn editor_leftovers_are_ignored() {
        for name in [".01.md.swp", "01.md~", ".#01.md", "#01.md#", "4913", ".DS_Store", "x.swp"] {
            assert!(is_ignored_name(name), "{name}");
        }
        for name in ["01-first.md", "cover.png", "series.toml", "_drafts"] {
            assert!(!is_ignored_name(name), "{name}");
        }
    }
}
