//! episodic turns a folder of serial episodes into feeds.
//!
//! Data flows one way: `content` (disk → raw front matter and Markdown) →
//! `model` (validated site, series and episodes; no I/O, no clock) →
//! `render` (model → RSS 2.0, Atom 1.0, JSON Feed 1.1 bytes) → `emit`
//! (bytes → feeds/, atomically). `pipeline` is the driver that runs them for
//! a content folder and a given `now`; only the binary reads the clock.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod clock;
pub mod compress;
pub mod content;
pub mod diagnostic;
pub mod emit;
pub mod http;

pub mod model;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod snapshot;

pub use diagnostic::{Diagnostic, Severity};
pub use pipeline::{Build, build};
