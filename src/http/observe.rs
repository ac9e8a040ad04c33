//! What the handler tells the audience recorder (`audience`) and asks the
//! poll limiter (`limit`) about a request: both look at its client (after
//! `trusted_proxies`), its headers and the site's settings, and neither
//! may slow the answer.

use super::body::{Body, retry_later};
use super::shared::Shared;
use super::{admin, cache_control, client};
use crate::audience::{self, Hit};
use crate::snapshot::{Resource, Snapshot};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, FORWARDED, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Response, StatusCode};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::time::Instant;

/// `Some(seconds)` when this client polls this feed far faster than
/// the max-age it is sent and `poll_limit` is on (see `limit`).
pub(super) fn braked(
    peer: SocketAddr,
    shared: &Shared,
    request: &Request<Incoming>,
    key: &str,
    resource: &Resource,
    snapshot: &Snapshot,
) -> Option<u64> {
    let feed = audience::FEEDS.iter().any(|feed| key.ends_with(feed)) && !key.contains("archive/");
    if !snapshot.serving.poll_limit || !feed || resource.rarely_changes {
        return None;
    }
    let headers = request.headers();
    if admin::is_allowed(peer, headers, shared.admin_token.as_deref()) {
        return None;
    }
    let client = client::address(peer.ip(), headers, &snapshot.serving.trusted_proxies);
    let user_agent = headers.get(USER_AGENT).map_or(&[][..], HeaderValue::as_bytes);
    let max_age = cache_control::seconds(snapshot.max_age, resource.changes_at, shared.clock.now());
    shared.limiter.fetch(key, client, user_agent, max_age, Instant::now())
}

/// The parts of a request the audience may count, once its status is
/// known; `None` when nothing of it could count.
pub(super) fn hit(
    peer: SocketAddr,
    shared: &Shared,
    request: &Request<Incoming>,
    snapshot: &Snapshot,
) -> Option<Hit> {
    shared.recorder.as_ref()?;
    let path = request.uri().path();
    if !snapshot.serving.audience || !audience::worth_recording(path, 200) {
        return None;
    }
    let headers = request.headers();
    // Everything that decides what a hit counts, hashed: the same
    // request again in the same second is left out at once.
    let mut hasher = rustc_hash::FxHasher::default();
    peer.ip().hash(&mut hasher);
    path.hash(&mut hasher);
    request.method().hash(&mut hasher);
    for name in [USER_AGENT, X_FORWARDED_FOR, FORWARDED, AUTHORIZATION, SEC_PURPOSE] {
        headers.get(&name).map(HeaderValue::as_bytes).hash(&mut hasher);
    }
    let fingerprint = (hasher.finish(), shared.clock.now().as_second());
    if audience::is_repeat(fingerprint) {
        return None;
    }
    let trusted = &snapshot.serving.trusted_proxies;
    Some(Hit {
        fingerprint,
        path: path.into(),
        status: 0,
        client: client::address(peer.ip(), headers, trusted),
        user_agent: headers
            .get(USER_AGENT)
            .map(HeaderValue::as_bytes)
            .filter(|ua| ua.len() <= audience::agents::LONGEST)
            .map(Box::from),
        get: request.method() == Method::GET,
        prefetch: headers.get(SEC_PURPOSE).is_some_and(|v| v.as_bytes().starts_with(b"prefetch")),
        author: admin::is_allowed(peer, headers, shared.admin_token.as_deref()),
    })
}

/// `Sec-Purpose: prefetch`: a browser fetching what may never be shown.
const SEC_PURPOSE: HeaderName = HeaderName::from_static("sec-purpose");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Counts `hit` if what answered it may count.
pub(super) fn record(shared: &Shared, hit: Option<Hit>, status: StatusCode) {
    if let (Some(recorder), Some(mut hit)) = (&shared.recorder, hit)
        && audience::worth_recording(&hit.path, status.as_u16())
    {
        hit.status = status.as_u16();
        recorder.record(hit);
    }
}

/// 429: come back in `retry` seconds.
pub(super) fn too_many(retry: u64) -> Response<Body> {
    let text = "this feed is polled far more often than its max-age; try again after Retry-After seconds\n";
    retry_later(StatusCode::TOO_MANY_REQUESTS, text, retry)
}
