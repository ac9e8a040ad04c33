//! Encoded outputs → an immutable, in-memory map from URL path to
//! [`Resource`]: every byte the server sends, with its headers' values made
//! once per build. HTTP reads only this; the pipeline swaps in a whole new
//! one (behind one `ArcSwap`) so a client sees the old site or the new one,
//! never a mix.
//!
//! ETags are strong: the first 128 bits of the BLAKE3 hash of each
//! variant's own bytes, so they change exactly when the bytes do, differ per
//! encoding (no cache can mix a gzip body with a brotli validator), and
//! survive restarts and rebuilds of identical bytes.

use crate::compress::Encoding;
use crate::render::OutputKind;
use bytes::Bytes;
use hyper::header::HeaderValue;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// One representation of a resource.
#[derive(Clone, Debug)]
pub struct Variant {
    pub encoding: Encoding,
    pub etag: HeaderValue,
    /// Of the body, in bytes.
    pub len: u64,
    pub source: Source,
}

/// Where a variant's bytes are.
#[derive(Clone, Debug)]
pub enum Source {
    Memory(Bytes),
    /// A file in feeds/ that holds these bytes (the last write renamed it
    /// into place), read per request and checked against the ETag: the
    /// kernel's page cache keeps what is read often, and the server's
    /// memory does not grow with the site's history.
    File(PathBuf),
    /// The writer's own file in content/, served as it is until feeds/
    /// holds its copy: checked per request by its size and by the
    /// modification date it had when it was hashed, never read whole.
    Original {
        path: PathBuf,
        modified: SystemTime,
    },
}

impl Variant {
    /// Bytes held in memory, with their ETag.
    pub fn memory(encoding: Encoding, body: Bytes) -> Self {
        Variant { encoding, etag: etag(&body), len: body.len() as u64, source: Source::Memory(body) }
    }

    /// A file of content/ published by copy, served from that file until
    /// feeds/ holds the copy.
    pub fn original(original: &crate::render::Original) -> Self {
        let source = Source::Original { path: original.path.clone(), modified: original.modified };
        Variant { encoding: Encoding::Identity, etag: original.etag.clone(), len: original.len, source }
    }

    /// The bytes, when they are held in memory.
    pub fn in_memory(&self) -> Option<&Bytes> {
        match &self.source {
            Source::Memory(bytes) => Some(bytes),
            Source::File(_) | Source::Original { .. } => None,
        }
    }
}

/// One URL's content.
#[derive(Clone, Debug)]
pub struct Resource {
    pub content_type: HeaderValue,
    /// When the bytes last changed, to the second (HTTP dates have no more).
    pub last_modified: SystemTime,
    /// The same, as the header value, formatted once.
    pub last_modified_header: HeaderValue,
    /// Identity first, then the compressed variants that were smaller.
    pub variants: Vec<Variant>,
    /// When the content will change with no edit (a scheduled episode).
    pub changes_at: Option<Timestamp>,
    /// The bytes changed twice within the second of `last_modified`, so the
    /// date cannot tell the two versions apart (fast edits while serving).
    pub date_is_ambiguous: bool,
    /// An HTTP `Link` header (RFC 8288), for feeds with a WebSub hub.
    pub link: Option<HeaderValue>,
    /// It changes rarely, so caches may keep it a day: a full RFC 5005
    /// archive block (only a correction to an old episode changes it), or
    /// audio or video (large, and replaced only to fix a recording; not
    /// `immutable`, since it may be).
    pub rarely_changes: bool,
}

impl Resource {
    /// `variants` has identity first. `last_modified` is when the bytes
    /// last changed; it is cut to the second and kept no later than now, as
    /// HTTP dates require.
    pub fn new(
        kind: OutputKind,
        path: &str,
        variants: Vec<Variant>,
        last_modified: SystemTime,
        changes_at: Option<Timestamp>,
    ) -> Self {
        debug_assert_eq!(variants.first().map(|v| v.encoding), Some(Encoding::Identity));
        let last_modified = whole_seconds(last_modified.min(SystemTime::now()));
        let last_modified_header =
            HeaderValue::from_str(&httpdate::fmt_http_date(last_modified)).expect("HTTP dates are ASCII");
        Resource {
            content_type: content_type(kind, path),
            last_modified,
            last_modified_header,
            variants,
            changes_at,
            date_is_ambiguous: false,
            link: None,
            rarely_changes: false,
        }
    }

    /// Last-Modified, when it can serve as a validator.
    pub fn usable_date(&self) -> Option<SystemTime> {
        (!self.date_is_ambiguous).then_some(self.last_modified)
    }

    /// The uncompressed bytes, when they are held in memory.
    pub fn identity(&self) -> Option<&Bytes> {
        self.variants.first().and_then(Variant::in_memory)
    }

    pub fn variant(&self, encoding: Encoding) -> Option<&Variant> {
        self.variants.iter().find(|v| v.encoding == encoding)
    }

    /// Whether the response depends on Accept-Encoding (then it says `Vary`).
    pub fn has_variants(&self) -> bool {
        self.variants.len() > 1
    }
}

/// What `/_episodic/status` tells the author.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Status {
    /// The process serving (it changes with each restart and upgrade).
    pub pid: u32,
    /// The `now` of the build being served.
    pub built_at: String,
    /// How many times served bytes changed since the server started (the
    /// first build counts as one): each edit or scheduled episode adds one.
    pub publishes: u64,
    pub episodes: usize,
    pub feeds: usize,
    /// When the next scheduled episode goes live.
    pub next_scheduled: Option<String>,
    /// How edits are noticed: `events` (the platform's watcher), `polling`
    /// (the fallback), or `off`.
    pub watching: String,
    /// Problems of episodic itself, such as the watcher falling back.
    pub warnings: Vec<String>,
    pub errors: Vec<StatusError>,
    /// The last WebSub ping, when site.toml names a hub.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websub: Option<HubOutcome>,
}

/// What happened to a WebSub ping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HubOutcome {
    pub hub: String,
    pub feed: String,
    /// `ok`, `retrying` or `failed`.
    pub result: &'static str,
    /// The hub's HTTP status, or why there was none.
    pub detail: String,
    /// When (RFC 3339, to the second).
    pub at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct StatusError {
    pub file: String,
    pub line: Option<u32>,
    pub message: String,
}

/// Everything served, as of one build.
#[derive(Debug)]
pub struct Snapshot {
    resources: HashMap<String, Arc<Resource>>,
    folders: HashSet<String>,
    /// The path of base_url, decoded (`/` or `/blog/`): URLs outside it are 404.
    pub base_path: String,
    pub max_age: u32,
    pub status_json: Bytes,
    pub serving: Serving,
}

/// What site.toml says of serving, read as requests are answered.
#[derive(Clone, Debug)]
pub struct Serving {
    /// Proxies whose forwarding headers name the client.
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// Whether readers and subscribers are counted (`audience`).
    pub audience: bool,
    /// The site's zone: the audience's days are its days.
    pub zone: jiff::tz::TimeZone,
    /// The series' slugs: the audience lists each, counted or not.
    pub series: Arc<[String]>,
    /// Brake clients that poll a feed far faster than max-age (`http::limit`).
    pub poll_limit: bool,
}

impl Default for Serving {
    fn default() -> Self {
        Serving {
            trusted_proxies: Arc::from([]),
            audience: true,
            zone: jiff::tz::TimeZone::UTC,
            series: Arc::from([]),
            poll_limit: false,
        }
    }
}

impl Snapshot {
    /// Resources are shared, so consecutive snapshots cost only what changed.
    pub fn new<'a>(
        resources: impl IntoIterator<Item = (&'a String, &'a Arc<Resource>)>,
        base_url: &Url,
        max_age: u32,
        status: &Status,
    ) -> Self {
        let resources: HashMap<String, Arc<Resource>> =
            resources.into_iter().map(|(path, resource)| (path.clone(), resource.clone())).collect();
        let mut folders = HashSet::from([String::new()]);
        for path in resources.keys() {
            let mut folder = path.as_str();
            // A folder already known has its parents known too.
            while let Some((parent, _)) = folder.rsplit_once('/')
                && !folders.contains(parent)
            {
                folders.insert(parent.to_owned());
                folder = parent;
            }
        }
        let base_path =
            percent_encoding::percent_decode_str(base_url.path()).decode_utf8_lossy().into_owned();
        let status_json = Bytes::from(serde_json::to_vec_pretty(status).expect("plain structs serialize"));
        Snapshot { resources, folders, base_path, max_age, status_json, serving: Serving::default() }
    }

    /// An empty site, e.g. before the first build.
    pub fn empty() -> Self {
        Snapshot {
            resources: HashMap::new(),
            folders: HashSet::from([String::new()]),
            base_path: "/".to_owned(),
            max_age: crate::model::site::DEFAULT_CACHE_MAX_AGE,
            status_json: Bytes::from_static(b"{}"),
            serving: Serving::default(),
        }
    }

    /// The resource at `path` (relative to base_path, no leading `/`).
    pub fn get(&self, path: &str) -> Option<&Resource> {
        self.resources.get(path).map(AsRef::as_ref)
    }

    /// Whether `path` is a folder holding resources (`night-shift`).
    pub fn is_folder(&self, path: &str) -> bool {
        self.folders.contains(path)
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }
}

/// The registered types: feed readers rely on them.
fn content_type(kind: OutputKind, path: &str) -> HeaderValue {
    let value = match kind {
        OutputKind::Rss => "application/rss+xml; charset=utf-8".to_owned(),
        OutputKind::Atom => "application/atom+xml; charset=utf-8".to_owned(),
        OutputKind::JsonFeed => "application/feed+json; charset=utf-8".to_owned(),
        OutputKind::Page => "text/html; charset=utf-8".to_owned(),
        OutputKind::Asset | OutputKind::Listing => {
            let mime: mime_guess::Mime = crate::model::media::mime_type_of_name(path)
                .parse()
                .unwrap_or(mime_guess::mime::APPLICATION_OCTET_STREAM);
            let is_text = mime.type_() == mime_guess::mime::TEXT || mime.suffix().is_some();
            if is_text && mime.get_param("charset").is_none() {
                format!("{mime}; charset=utf-8")
            } else {
                mime.to_string()
            }
        }
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// `"` + 32 hex digits of BLAKE3 + `"`.
pub fn etag(bytes: &[u8]) -> HeaderValue {
    etag_of_hex(&blake3::hash(bytes).to_hex()[..32])
}

/// [`etag`] of what `reader` yields, and how many bytes that was, read a
/// chunk at a time: a file of any size, never whole in memory.
pub fn etag_of_reader(reader: impl std::io::Read) -> std::io::Result<(HeaderValue, u64)> {
    let mut hasher = blake3::Hasher::new();
    let len = std::io::copy(&mut std::io::BufReader::with_capacity(256 * 1024, reader), &mut hasher)?;
    Ok((etag_of_hex(&hasher.finalize().to_hex()[..32]), len))
}

/// The ETag of 32 hex digits (as a manifest keeps them).
pub fn etag_of_hex(hex: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header value")
}

/// The 32 hex digits of an ETag made by [`etag`].
pub fn hex_of_etag(etag: &HeaderValue) -> &str {
    etag.to_str().unwrap_or_default().trim_matches('"')
}

fn whole_seconds(time: SystemTime) -> SystemTime {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(seconds)
}
