//! One episode file read from disk: its digest, and what parsing found,
//! unless its bytes are the ones read last time.

use super::{read_text, source_key};
use crate::diagnostic::Diagnostic;
use crate::model::Series;
use crate::model::episode::{self, ParsedEpisode};
use std::fs;
use std::path::Path;

pub(super) enum Read {
    Parsed(Box<ParsedEpisode>, Vec<Diagnostic>),
    Failed(Vec<Diagnostic>),
}

/// Reads one file; `None` when its bytes are the `known` ones.
pub(super) fn read_episode(
    content: &Path,
    path: &Path,
    series: &Series,
    known: Option<blake3::Hash>,
) -> (Option<blake3::Hash>, Option<Read>) {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            let problem = Diagnostic::error(path, format!("cannot read this file: {e}"));
            return (None, Some(Read::Failed(vec![problem])));
        }
    };
    let digest = blake3::hash(&bytes);
    if known == Some(digest) {
        return (known, None);
    }
    let mut problems = Vec::new();
    let Some(text) = read_text(path, Some(bytes), &mut problems) else {
        return (Some(digest), Some(Read::Failed(problems)));
    };
    let (parsed, more) = episode::parse(path, &source_key(content, path), &text, series);
    problems.extend(more);
    let read = match parsed {
        Some(parsed) => Read::Parsed(Box::new(parsed), problems),
        None => Read::Failed(problems),
    };
    (Some(digest), Some(read))
}
