//! What the render makes: one [`Output`] per file of the site, and the
//! [`Sink`] that bulk documents go to as soon as they are made.

use bytes::Bytes;
use jiff::Timestamp;
use std::sync::Arc;

/// What an output is, which decides how it is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutputKind {
    Rss,
    Atom,
    JsonFeed,
    /// A page for people (`index.html`).
    Page,
    /// A list of the site's addresses for machines: OPML, sitemap,
    /// robots.txt (typed by its file name).
    Listing,
    Asset,
}

impl OutputKind {
    pub fn is_feed(self) -> bool {
        matches!(self, OutputKind::Rss | OutputKind::Atom | OutputKind::JsonFeed)
    }
}

/// Whether an output is an RFC 5005 archive document, and whether its block
/// of episodes is full (then it changes only when an old episode is
/// corrected, and caches may keep it long).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Archive {
    /// The newest archive block: it grows as episodes leave the current feed.
    Open,
    Closed,
}

/// One file of the build: its path under feeds/ (`/`-separated, which is
/// also its URL path under base_url) and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub path: String,
    pub kind: OutputKind,
    pub body: Body,
    /// When these bytes will change with no edit: the publish time of the
    /// next scheduled episode this output will show. Caches must not keep
    /// it past that.
    pub changes_at: Option<Timestamp>,
    pub archive: Option<Archive>,
    /// One of thousands of like documents (an episode page, an archive
    /// block), compressed more cheaply.
    pub bulk: bool,
    /// An episode's media as measured (`audio/wav` for a WAV file named
    /// `.mp3`): served with the type its enclosure gives, not its name's.
    pub media_type: Option<String>,
}

/// An output's bytes, or that they are as the last render made them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Fresh(Bytes),
    /// Byte for byte what the previous render made at this path (the
    /// [`Memo`] saw the same inputs): whoever kept the previous build (the
    /// publisher, feeds/) has them, so they are not held twice.
    AsBefore,
    /// Handed to the render's [`Sink`], which keeps them.
    Taken,
    /// A file of content/ published as it is, copied, never read into
    /// memory: audio, video and images may be large.
    Copy(Arc<Original>),
}

/// A file of content/ as it was when it was hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Original {
    pub path: std::path::PathBuf,
    pub len: u64,
    pub etag: hyper::header::HeaderValue,
    /// Its modification date then: a later one means it changed since.
    pub modified: std::time::SystemTime,
}

/// Where each bulk document (episode pages, archive blocks: nearly all the
/// bytes of a large site) goes as soon as it is rendered. `episodic build`
/// writes it out at once; whoever serves keeps it ([`Keep`]).
pub trait Sink: Sync {
    /// Takes a fresh output; gives back what the render returns of it.
    fn take(&self, output: Output) -> Output;
}

/// Keeps every output in what the render returns.
pub struct Keep;

impl Sink for Keep {
    fn take(&self, output: Output) -> Output {
        output
    }
}

impl Output {
    pub fn new(path: String, kind: OutputKind, bytes: impl Into<Bytes>) -> Self {
        let body = Body::Fresh(bytes.into());
        Output { path, kind, body, changes_at: None, archive: None, bulk: false, media_type: None }
    }

    /// The bytes, when this render made them.
    pub fn bytes(&self) -> Option<&Bytes> {
        match &self.body {
            Body::Fresh(bytes) => Some(bytes),
            Body::AsBefore | Body::Taken | Body::Copy(_) => None,
        }
    }

    /// A series' or the site's current feed: what WebSub subscribers follow.
    pub fn is_current_feed(&self) -> bool {
        self.kind.is_feed() && self.archive.is_none()
    }
}
