//! What an earlier run left in feeds/, used before (or instead of) a
//! build: the manifest's [`Note`] and the snapshot a restart serves while
//! it builds.

use super::resource::resource;
use crate::emit::{self, Encoded};
use crate::model::Catalog;
use crate::snapshot::{Resource, Snapshot, Status};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;
use url::Url;

/// What the last run left in feeds/, to serve while the first build runs,
/// so a restart answers at once: every file its manifest lists, from disk
/// (nothing is read), with caches told to come back within a second.
/// `None` if feeds/ has no manifest with a note.
pub fn resume(out: &Path, now: jiff::Timestamp) -> Option<Snapshot> {
    let Note { base_url, max_age, .. } = Note::read(out)?;
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
        pid: std::process::id(),
        warnings: vec![format!(
            "serving what the last run left in {} until the first build is done",
            out.display()
        )],
        ..Status::default()
    };
    Some(Snapshot::new(resources.iter().map(|(path, r)| (path, r)), &base_url, max_age, &status))
}

/// The manifest's note: what serving feeds/ needs when site.toml is
/// broken (base URL, max-age), and each podcast's `podcast:guid` as
/// published, which must not change when the base URL does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub base_url: Url,
    pub max_age: u32,
    /// By series slug.
    pub podcast_guids: BTreeMap<String, String>,
}

impl Note {
    /// The note for `catalog`; the GUIDs of podcasts it no longer holds
    /// (a series with errors, or gone) are kept from `earlier`.
    pub fn of(catalog: &Catalog, earlier: Option<&Note>) -> Note {
        let mut podcast_guids = earlier.map(|e| e.podcast_guids.clone()).unwrap_or_default();
        for entry in &catalog.series {
            if let Some(podcast) = &entry.series.podcast {
                podcast_guids.insert(entry.series.slug.clone(), podcast.guid.clone());
            }
        }
        Note { base_url: catalog.site.base_url.clone(), max_age: catalog.site.cache_max_age, podcast_guids }
    }

    /// The note the last run left in `out`, if any.
    pub fn read(out: &Path) -> Option<Note> {
        emit::read_note(out).as_deref().and_then(Note::parse)
    }

    /// `site URL MAX_AGE`, then a `podcast-guid SLUG GUID` line per podcast.
    pub fn text(&self) -> String {
        let mut text = format!("site {} {}", self.base_url, self.max_age);
        for (slug, guid) in &self.podcast_guids {
            text.push_str(&format!("\npodcast-guid {slug} {guid}"));
        }
        text
    }

    pub fn parse(text: &str) -> Option<Note> {
        let mut lines = text.lines();
        let mut words = lines.next()?.strip_prefix("site ")?.split_whitespace();
        let base_url = Url::parse(words.next()?).ok()?;
        let max_age = words.next()?.parse().ok()?;
        let podcast_guids = lines
            .filter_map(|line| {
                let (slug, guid) = line.strip_prefix("podcast-guid ")?.split_once(' ')?;
                Some((slug.to_owned(), guid.to_owned()))
            })
            .collect();
        Some(Note { base_url, max_age, podcast_guids })
    }
}

/// The podcast GUIDs the last run in `out` published, by series slug: a
/// build keeps them when the feed's address changes.
pub fn podcast_guids(out: &Path) -> BTreeMap<String, String> {
    Note::read(out).map(|note| note.podcast_guids).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_reads_back_as_written() {
        let note = Note {
            base_url: Url::parse("https://example.com/serials/").unwrap(),
            max_age: 300,
            podcast_guids: BTreeMap::from([(
                "night".to_owned(),
                "9b024349-ccf0-5f69-a609-6b82873eab3c".to_owned(),
            )]),
        };
        assert_eq!(
            note.text(),
            "site https://example.com/serials/ 300\npodcast-guid night 9b024349-ccf0-5f69-a609-6b82873eab3c"
        );
        assert_eq!(Note::parse(&note.text()), Some(note));
        assert_eq!(Note::parse("site https://example.com/ 60").map(|n| n.podcast_guids.len()), Some(0));
    }
}
