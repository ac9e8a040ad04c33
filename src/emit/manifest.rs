//! `.episodic-manifest`: which files of feeds/ episodic wrote, with each
//! one's length and ETag, so that a restart serves feeds/ without reading
//! it back, and a build knows a file is unchanged without comparing bytes.
//!
//! One line per file, `path<TAB>length<TAB>32 hex digits of BLAKE3`, sorted,
//! under `# note` lines. Deterministic (no times: mtimes are on the files),
//! so a build of the same content writes the same manifest. A line that is
//! a bare path (written before lengths and hashes were kept) lists the file
//! without vouching for its bytes.

use crate::snapshot::{etag_of_hex, hex_of_etag};
use hyper::header::HeaderValue;
use std::collections::HashMap;
use std::fs;
use std::path::Path;

/// The manifest's file name in feeds/.
pub const MANIFEST: &str = ".episodic-manifest";

/// What the manifest says a file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    pub len: u64,
    pub etag: HeaderValue,
}

/// The manifest as read from feeds/ (empty when there is none).
#[derive(Debug, Default)]
pub struct Manifest {
    pub note: Option<String>,
    /// Every listed path, with its digest when the line has one.
    pub files: HashMap<String, Option<Digest>>,
}

impl Manifest {
    pub fn read(out: &Path) -> Manifest {
        fs::read_to_string(out.join(MANIFEST)).map(|text| parse(&text)).unwrap_or_default()
    }

    pub fn lists(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The digest the manifest keeps for `path`.
    pub fn digest(&self, path: &str) -> Option<&Digest> {
        self.files.get(path).and_then(Option::as_ref)
    }
}

fn parse(text: &str) -> Manifest {
    let mut lines = text.lines().peekable();
    let mut note: Option<String> = None;
    while let Some(line) = lines.next_if(|line| line.starts_with("# ")) {
        let line = &line[2..];
        match &mut note {
            Some(note) => {
                note.push('\n');
                note.push_str(line);
            }
            None => note = Some(line.to_owned()),
        }
    }
    let files = lines
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| match parse_line(line) {
            Some((path, digest)) => (path.to_owned(), Some(digest)),
            None => (line.to_owned(), None),
        })
        .collect();
    Manifest { note, files }
}

fn parse_line(line: &str) -> Option<(&str, Digest)> {
    let mut fields = line.rsplitn(3, '\t');
    let (hex, len, path) = (fields.next()?, fields.next()?, fields.next()?);
    let is_hex = hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    let len = len.parse().ok()?;
    is_hex.then(|| (path, Digest { len, etag: etag_of_hex(hex) }))
}

/// The manifest's text: `note`, then the files sorted by path.
pub fn text<'a>(note: Option<&str>, files: impl Iterator<Item = (&'a str, &'a Digest)>) -> String {
    let mut files: Vec<(&str, &Digest)> = files.collect();
    files.sort_unstable_by_key(|(path, _)| *path);
    let mut text: String =
        note.iter().flat_map(|note| note.lines()).map(|line| format!("# {line}\n")).collect();
    for (path, digest) in files {
        text.push_str(path);
        text.push('\t');
        text.push_str(&digest.len.to_string());
        text.push('\t');
        text.push_str(hex_of_etag(&digest.etag));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::etag;

    #[test]
    fn reads_back_what_it_writes_and_old_bare_paths() {
        let digest = Digest { len: 3, etag: etag(b"abc") };
        let note = "site https://example.com/ 300\npodcast-guid s 9b024349-ccf0-5f69-a609-6b82873eab3c";
        let written = text(Some(note), [("a b/rss.xml", &digest)].into_iter());
        assert!(written.starts_with("# site https://example.com/ 300\n# podcast-guid s 9b"), "{written}");
        let manifest = parse(&format!("{written}old/index.html\n"));
        assert_eq!(manifest.note.as_deref(), Some(note));
        assert_eq!(manifest.digest("a b/rss.xml"), Some(&digest));
        assert!(manifest.lists("old/index.html"));
        assert_eq!(manifest.digest("old/index.html"), None);
        assert!(parse("x\t3\tNOTHEX\n").digest("x").is_none());
    }
}
