//! episodic turns a folder of serial episodes into feeds.
//!
//! Data flows one way: `content` (disk → raw front matter and Markdown) →
//! `model` (validated site, series and episodes; no I/O, no clock) →
//! `render` (model → RSS 2.0, Atom 1.0, JSON Feed 1.1 bytes) → `emit`
//! (bytes → feeds/, atomically) and `snapshot` (bytes → what `http` serves
//! from memory). `pipeline` runs the layers for a content folder and a given
//! `now`, keeping what it read so that a rebuild re-reads only what changed;
//! `publish` turns builds into snapshots and files. `live` drives it all
//! while serving: `watch` reports edits, `schedule` turns the next due
//! episode into a sleep, and `websub` tells a hub of changed feeds. Only
//! `clock`, `live`, `websub` and the binary read the time.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod audience;
pub mod clock;
pub mod compress;
pub mod content;
pub mod diagnostic;
pub mod emit;
pub mod http;
pub mod live;
pub mod model;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod schedule;
pub mod signal;
pub mod snapshot;
pub mod state;
pub mod watch;
pub mod websub;

pub use diagnostic::{Diagnostic, Severity};
pub use pipeline::{Build, build};
