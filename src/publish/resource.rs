//! The resource a URL serves, made from an output: its variants, where
//! their bytes are (memory, or the output's files in feeds/), its headers.

use super::{Served, absolute};
use crate::compress::{self, Effort, Encoding};
use crate::render::{Archive, Output, OutputKind};
use crate::snapshot::{self, Resource, Source, Variant};
use hyper::header::HeaderValue;
use std::path::Path;
use std::time::SystemTime;
use url::Url;

/// Whether an output is served from its file in feeds/ once written: the
/// thousands of episode pages and archive blocks, and assets, which
/// readers fetch rarely and which would make memory grow with the site's
/// history. The current feeds, the index pages and listings stay in memory.
pub(super) fn served_from_disk(output: &Output) -> bool {
    output.bulk || output.kind == OutputKind::Asset
}

/// Once feeds/ holds `served`, where to serve it from: from its files when
/// [`served_from_disk`], else from memory (reading back the variants a
/// restart found in feeds/). `None` when it is already so.
pub(super) fn place(out: &Path, served: &Served) -> Option<Resource> {
    let from_disk = served_from_disk(&served.output);
    let resource = &served.resource;
    let misplaced = |v: &Variant| from_disk != matches!(v.source, Source::File(_));
    if !resource.variants.iter().any(misplaced) {
        return None;
    }
    let mut placed = Resource::clone(resource);
    for variant in &mut placed.variants {
        let path = out.join(format!("{}{}", served.output.path, variant.encoding.file_suffix()));
        variant.source = match &variant.source {
            Source::Memory(_) | Source::Original { .. } if from_disk => Source::File(path),
            Source::File(_) if !from_disk => match std::fs::read(&path) {
                Ok(bytes) if snapshot::etag(&bytes) == variant.etag => Source::Memory(bytes.into()),
                _ => continue, // served from the file, checked per request
            },
            _ => continue,
        };
    }
    Some(placed)
}

/// The quick variants of a changed output: gzip 1, in memory.
pub(super) fn quick_variants(output: &Output, bytes: &bytes::Bytes) -> Vec<Variant> {
    let compressed = compress::variants(output, bytes, Effort::Quick);
    std::iter::once(Variant::memory(Encoding::Identity, bytes.clone()))
        .chain(compressed.into_iter().map(|(encoding, bytes)| Variant::memory(encoding, bytes)))
        .collect()
}

/// Whether `bytes` are what `resource` serves. Pages the render memo made
/// again share their buffer with what is served: those are equal without
/// reading every byte again; one served from feeds/ is compared by hash.
pub(super) fn same_bytes(resource: &Resource, bytes: &bytes::Bytes) -> bool {
    let identity = &resource.variants[0];
    if identity.len != bytes.len() as u64 {
        return false;
    }
    match &identity.source {
        Source::Memory(a) => (a.as_ptr() == bytes.as_ptr()) || a == bytes,
        Source::File(_) | Source::Original { .. } => snapshot::etag(bytes) == identity.etag,
    }
}

/// `site` is the base URL and the WebSub hub: a feed with a hub says so in
/// a `Link` header as well (WebSub §4), with its own URL as `self`.
pub(super) fn resource(
    output: &Output,
    variants: Vec<Variant>,
    last_modified: SystemTime,
    site: (&Url, Option<&Url>),
) -> Resource {
    let mut resource = Resource::new(output.kind, &output.path, variants, last_modified, output.changes_at);
    if let Some(measured) = output.media_type.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        resource.content_type = measured;
    }
    let media =
        ["audio/", "video/"].iter().any(|kind| resource.content_type.as_bytes().starts_with(kind.as_bytes()));
    resource.rarely_changes =
        output.archive == Some(Archive::Closed) || (output.kind == OutputKind::Asset && media);
    if let (Some(hub), true) = (site.1, output.is_current_feed()) {
        let link = format!("<{hub}>; rel=\"hub\", <{}>; rel=\"self\"", absolute(site.0, &output.path));
        resource.link = hyper::header::HeaderValue::from_str(&link).ok();
    }
    resource
}
