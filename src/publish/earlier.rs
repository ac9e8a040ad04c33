//! What an earlier run left in feeds/, used before (or instead of) a
//! build: the manifest's note (base URL and max-age, for when site.toml is
//! broken) and the snapshot a restart serves while it builds.

use super::resource::resource;
use crate::emit::{self, Encoded};
use crate::snapshot::{Resource, Snapshot, Status};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;
use url::Url;

/// What the last run left in feeds/, to serve while the first build runs,
/// so a restart answers at once: every file its manifest lists, from disk
/// (nothing is read), with caches told to come back within a second.
/// `None` if feeds/ has no manifest with a note.
pub fn resume(out: &Path, now: jiff::Timestamp) -> Option<Snapshot> {
    let (base_url, max_age) = emit::read_note(out).as_deref().and_then(parse_note)?;
    let loaded = emit::load(out, &BTreeSet::new());
    let resources: Vec<(String, Arc<Resource>)> = loaded
        .into_iter()
        .map(|Encoded { output, variants, last_modified, .. }| {
            let last_modified = last_modified.unwrap_or(SystemTime::UNIX_EPOCH);
            let mut resource = resource(&output, variants, last_modified, (&base_url, None));
            resource.changes_at = Some(now);
            (output.path, Arc::new(resource))
        })
        .collect();
    let status = Status {
        warnings: vec![format!(
            "serving what the last run left in {} until the first build is done",
            out.display()
        )],
        ..Status::default()
    };
    Some(Snapshot::new(resources.iter().map(|(path, r)| (path, r)), &base_url, max_age, &status))
}

/// The manifest's note: what serving feeds/ needs when site.toml is broken.
pub(super) fn note(base_url: &Url, max_age: u32) -> String {
    format!("site {base_url} {max_age}")
}

pub(super) fn parse_note(note: &str) -> Option<(Url, u32)> {
    let mut words = note.strip_prefix("site ")?.split_whitespace();
    let base_url = Url::parse(words.next()?).ok()?;
    Some((base_url, words.next()?.parse().ok()?))
}
