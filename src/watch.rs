//! The content folder's file events → [`Changes`] for the pipeline, sent to
//! the live driver as [`Signal`]s.
//!
//! Each event is classified and handed to the live driver as it comes, from
//! notify's own thread, which sleeps in the kernel until there is one: no
//! timer ticks between edits, so an idle server makes no system call at
//! all. The driver folds a burst (an editor's write and rename, a `git
//! checkout`) into one rebuild, with a quiet-period timer started by the
//! burst's first event. Event paths are only hints: the pipeline lists
//! the folder again on every run, and a path is read again if it, or a
//! folder above it, was named, so files created right after their folder
//! (whose events inotify can miss) are still found. Editor leftovers and
//! hidden files never cause a rebuild.
//!
//! If the platform's watcher cannot start (the inotify watch limit) or
//! overflows, the driver is told, and falls back to rescanning everything
//! periodically, saying so in the log and at the status endpoint.

use crate::content::walk::is_ignored_name;
use crate::pipeline::Changes;
use crate::signal::Signal;
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::Duration;
use tracing::warn;

/// How often the fallback compares the folder with what it saw.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// How edits are noticed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The platform's file events (inotify, FSEvents, ReadDirectoryChangesW).
    Events,
    /// Rescanning the folder every [`POLL_INTERVAL`] (network filesystems,
    /// or when events are not to be trusted).
    Polling,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Events => "events",
            Mode::Polling => "polling",
        }
    }
}

/// Watches until dropped.
pub struct Watcher {
    pub mode: Mode,
    /// notify's watcher, or nothing when polling: dropping it stops its
    /// thread.
    _watcher: Option<RecommendedWatcher>,
}

/// Starts watching `content` (and `templates`, when that folder exists)
/// recursively in `mode`, sending to `signals`
/// and raising `interrupt` whenever changes are sent (so that slow,
/// deferrable work can give way to them). If events cannot be had, says why
/// as a [`Signal::Degraded`] and returns a polling watcher.
///
/// Polling is the driver's job (a full rescan every [`POLL_INTERVAL`],
/// which finds every change by content): notify's poll watcher compares
/// mtimes to the second, so it misses an edit made in the second it looked.
pub fn start(
    content: &Path,
    templates: &Path,
    mode: Mode,
    signals: Sender<Signal>,
    interrupt: Arc<AtomicBool>,
) -> notify::Result<Watcher> {
    let polling = Watcher { mode: Mode::Polling, _watcher: None };
    if mode == Mode::Polling {
        return Ok(polling);
    }
    // One watcher (one thread, blocked in the kernel) for both folders.
    let folders: Vec<&Path> =
        [Some(content), Some(templates).filter(|t| t.is_dir())].into_iter().flatten().collect();
    let roots: Vec<Root> = folders.iter().map(|folder| Root::new(folder)).collect();
    let handler = {
        let signals = signals.clone();
        let mut writing = Writing::default();
        move |result: notify::Result<Event>| handle(&roots, result, &mut writing, &signals, &interrupt)
    };
    let watching = notify::recommended_watcher(handler).and_then(|mut watcher| {
        for folder in &folders {
            watcher.watch(folder, RecursiveMode::Recursive)?;
        }
        Ok(watcher)
    });
    match watching {
        Ok(watcher) => Ok(Watcher { mode, _watcher: Some(watcher) }),
        Err(error) => {
            let _ = signals.send(Signal::Degraded(format!("file events are unavailable ({error})")));
            Ok(polling)
        }
    }
}

fn handle(
    roots: &[Root],
    result: notify::Result<Event>,
    writing: &mut Writing,
    signals: &Sender<Signal>,
    interrupt: &AtomicBool,
) {
    let signal = match result {
        Ok(event) => match classify(roots, std::slice::from_ref(&event)) {
            Some(Classified::Changes(changes)) => {
                writing.follow(&event);
                Signal::Changed { changes, writing: writing.any() }
            }
            Some(Classified::Overflow) => Signal::Degraded(String::from(
                "the file event queue overflowed, so some edits were not reported",
            )),
            Some(Classified::RootMoved) => Signal::Degraded(String::from(
                "a watched folder (content or templates) was moved or replaced, so its file events stopped",
            )),
            None => return,
        },
        Err(error) => {
            warn!(%error, "file watcher error; reading everything again");
            match error.kind {
                notify::ErrorKind::MaxFilesWatch => {
                    Signal::Degraded(format!("{error}: new folders are not watched"))
                }
                _ => Signal::Changed { changes: Changes::Everything, writing: false },
            }
        }
    };
    interrupt.store(true, Ordering::Release);
    // The driver gone means the server is stopping: nothing to tell.
    let _ = signals.send(signal);
}

/// Files written in place (`>`, vim's `backupcopy=yes`, most programs): a
/// file is modified, then closed, and in between it may be half-written.
/// Only where the platform reports the close (inotify); elsewhere nothing
/// is waited for.
#[derive(Default)]
struct Writing(BTreeSet<PathBuf>);

impl Writing {
    const CLOSES_REPORTED: bool = cfg!(any(target_os = "linux", target_os = "android"));

    fn follow(&mut self, event: &Event) {
        if !Self::CLOSES_REPORTED {
            return;
        }
        match event.kind {
            EventKind::Create(CreateKind::File) | EventKind::Modify(ModifyKind::Data(_)) => {
                self.0.extend(event.paths.iter().cloned());
            }
            EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Name(_)) => {
                for path in &event.paths {
                    self.0.remove(path);
                }
            }
            _ => {}
        }
    }

    fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// The content folder as the pipeline names it (maybe relative), and as
/// event paths may spell it (absolute, or with symlinks resolved).
#[derive(Clone, Debug)]
pub struct Root {
    given: PathBuf,
    spellings: Vec<PathBuf>,
}

impl Root {
    pub fn new(content: &Path) -> Self {
        let mut spellings = vec![content.to_path_buf()];
        spellings.extend(std::path::absolute(content).ok());
        spellings.extend(std::fs::canonicalize(content).ok());
        Root { given: content.to_path_buf(), spellings }
    }

    /// `path` as the pipeline names it, with its part below the root.
    fn restate(&self, path: &Path) -> Option<(PathBuf, PathBuf)> {
        let below = self.spellings.iter().find_map(|root| path.strip_prefix(root).ok())?;
        Some((self.given.join(below), below.to_path_buf()))
    }
}

/// What a batch of events means for the pipeline.
#[derive(Debug, PartialEq, Eq)]
pub enum Classified {
    Changes(Changes),
    /// Events were lost.
    Overflow,
    /// The watched folder itself went.
    RootMoved,
}

/// The paths below `roots` worth reading again; `None` when no event
/// matters (only reads, editor leftovers or hidden files).
pub fn classify(roots: &[Root], events: &[Event]) -> Option<Classified> {
    if events.iter().any(|e| e.need_rescan()) {
        return Some(Classified::Overflow);
    }
    // The folder itself removed or renamed (`mv content.new content`): its
    // watch is gone with it, and no event would come any more.
    let root_went = events.iter().any(|e| {
        matches!(e.kind, EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)))
            && e.paths.iter().any(|path| roots.iter().flat_map(|root| &root.spellings).any(|r| r == path))
    });
    if root_went {
        return Some(Classified::RootMoved);
    }
    let paths: BTreeSet<PathBuf> = events
        .iter()
        // Opening and reading (ours included) change nothing.
        .filter(|e| match e.kind {
            EventKind::Access(access) => access == AccessKind::Close(AccessMode::Write),
            _ => true,
        })
        .flat_map(|e| e.paths.iter())
        .filter_map(|path| roots.iter().find_map(|root| root.restate(path)))
        .filter(|(_, below)| !is_ignored(below))
        .map(|(path, _)| path)
        .collect();
    (!paths.is_empty()).then_some(Classified::Changes(Changes::Paths(paths)))
}

/// Whether any part of `relative` is an ignored name.
fn is_ignored(relative: &Path) -> bool {
    relative.components().any(|part| match part {
        Component::Normal(name) => name.to_str().is_none_or(is_ignored_name),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{DataChange, Flag, RemoveKind};

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn editor_leftovers_and_reads_are_not_changes() {
        let root = Root { given: PathBuf::from("c"), spellings: vec![PathBuf::from("/c")] };
        let noise = [
            event(EventKind::Create(CreateKind::File), "/c/s/.01.md.swp"),
            event(EventKind::Modify(ModifyKind::Data(DataChange::Any)), "/c/s/01.md~"),
            event(EventKind::Create(CreateKind::File), "/c/s/4913"),
            event(EventKind::Remove(RemoveKind::File), "/c/.git/index.lock"),
            event(EventKind::Access(AccessKind::Close(notify::event::AccessMode::Read)), "/c/s/01.md"),
        ];
        assert_eq!(classify(std::slice::from_ref(&root), &noise), None);
        let save = [
            event(EventKind::Create(CreateKind::File), "/c/s/.01.md.tmp"),
            event(EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::Both)), "/c/s/01.md"),
        ];
        let expected = Changes::Paths(BTreeSet::from([PathBuf::from("c/s/01.md")]));
        assert_eq!(classify(&[root], &save), Some(Classified::Changes(expected)));
    }

    #[test]
    fn a_file_written_in_place_is_being_written_until_closed() {
        let mut writing = Writing::default();
        writing.follow(&event(EventKind::Create(CreateKind::Folder), "/c/s/images"));
        assert!(!writing.any(), "a folder is not written");
        writing.follow(&event(EventKind::Modify(ModifyKind::Data(DataChange::Any)), "/c/s/01.md"));
        assert_eq!(writing.any(), Writing::CLOSES_REPORTED);
        writing.follow(&event(EventKind::Access(AccessKind::Close(AccessMode::Write)), "/c/s/01.md"));
        assert!(!writing.any());
        writing.follow(&event(EventKind::Create(CreateKind::File), "/c/s/02.md"));
        writing.follow(&event(EventKind::Remove(RemoveKind::File), "/c/s/02.md"));
        assert!(!writing.any(), "removed while open");
    }

    #[test]
    fn a_lost_event_queue_means_rescan() {
        let overflow = Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert_eq!(classify(&[Root::new(Path::new("/c"))], &[overflow]), Some(Classified::Overflow));
        let root = Root { given: PathBuf::from("c"), spellings: vec![PathBuf::from("/c")] };
        let moved = event(EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::From)), "/c");
        assert_eq!(classify(&[root], &[moved]), Some(Classified::RootMoved));
    }
}
