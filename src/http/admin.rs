//! Who may see `/_episodic/`: it names files and unpublished work
//! (`/_episodic/health` says only `ok`, to anyone).
//!
//! A loopback client whose request carries no `Forwarded` or
//! `X-Forwarded-For` (a reverse proxy on this machine adds those for remote
//! clients), or anyone presenting `Authorization: Bearer <token>` with the
//! token from `EPISODIC_ADMIN_TOKEN`. Everyone else is told 404, as if there
//! were nothing here.

use super::body::{Body, plain};
use crate::audience::{Recorder, stats};
use crate::snapshot::Snapshot;
use hyper::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, FORWARDED, HeaderMap, HeaderValue,
};
use hyper::{Response, StatusCode};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

pub const TOKEN_VARIABLE: &str = "EPISODIC_ADMIN_TOKEN";

pub fn is_allowed(peer: SocketAddr, headers: &HeaderMap, token: Option<&str>) -> bool {
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if let (Some(token), Some(presented)) = (token, presented)
        && bool::from(token.as_bytes().ct_eq(presented.as_bytes()))
    {
        return true;
    }
    let proxied = headers.contains_key(FORWARDED) || headers.contains_key("x-forwarded-for");
    peer.ip().to_canonical().is_loopback() && !proxied
}

/// `/_episodic/<page>`; `allowed` says whether the client may see more
/// than the health check.
pub fn respond(
    page: &str,
    allowed: bool,
    snapshot: &Snapshot,
    recorder: Option<&Recorder>,
) -> Response<Body> {
    match page {
        "health" => health(snapshot),
        "status" if allowed => private("application/json", status(snapshot, recorder)),
        "stats" if allowed => match recorder.map(stats_page) {
            Some(Ok(page)) => private("text/html; charset=utf-8", page.into_bytes()),
            Some(Err(why)) => {
                tracing::warn!(%why, "the stats page cannot be made");
                plain(StatusCode::INTERNAL_SERVER_ERROR, "the audience counts cannot be read; see the log\n")
            }
            None => plain(StatusCode::NOT_FOUND, "nothing is counted (no state directory)\n"),
        },
        _ => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// `/_episodic/health`, for anyone (load balancers, uptime monitors): `ok`
/// while there is something to serve, and nothing else about the site.
fn health(snapshot: &Snapshot) -> Response<Body> {
    let (status, text) = if snapshot.is_empty() {
        (StatusCode::SERVICE_UNAVAILABLE, "starting\n")
    } else {
        (StatusCode::OK, "ok\n")
    };
    let mut response = plain(status, text);
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn private(content_type: &'static str, body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .header(CONTENT_TYPE, content_type)
        .header(CACHE_CONTROL, "no-store")
        .header(CONTENT_LENGTH, body.len())
        .body(Body::from(bytes::Bytes::from(body)))
        .expect("constant headers are valid")
}

/// The build's status, with the audience's counts as of the last commit.
fn status(snapshot: &Snapshot, recorder: Option<&Recorder>) -> Vec<u8> {
    let Some(recorder) = recorder else { return snapshot.status_json.to_vec() };
    let mut status: serde_json::Value = serde_json::from_slice(&snapshot.status_json).unwrap_or_default();
    if let Some(fields) = status.as_object_mut() {
        let audience = serde_json::to_value(&*recorder.summary()).unwrap_or_default();
        fields.insert("audience".to_owned(), audience);
    }
    serde_json::to_vec_pretty(&status).unwrap_or_else(|_| snapshot.status_json.to_vec())
}

fn stats_page(recorder: &Recorder) -> Result<String, String> {
    let summary = recorder.summary();
    let today = recorder.today();
    let days: Vec<String> = (0..stats::DAYS)
        .rev()
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .map(|day| day.to_string())
        .collect();
    let history = recorder.history(days.first().map_or("", String::as_str))?;
    stats::page(&summary, &history, &days).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn loopback_without_proxy_headers_or_a_token() {
        let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let remote: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let mut headers = HeaderMap::new();
        assert!(is_allowed(local, &headers, None));
        assert!(!is_allowed(remote, &headers, None));
        assert!(is_allowed("[::ffff:127.0.0.1]:1".parse().unwrap(), &headers, None));
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        assert!(!is_allowed(local, &headers, None));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert!(is_allowed(local, &headers, Some("s3cret")));
        assert!(is_allowed(remote, &headers, Some("s3cret")));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer s3cret"));
        assert!(is_allowed(remote, &headers, Some("s3cret")));
        assert!(!is_allowed(remote, &headers, Some("other")));
        assert!(!is_allowed(remote, &headers, None));
    }
}
