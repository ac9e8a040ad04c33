//! One request → one response, from the snapshot alone (never the disk).
//!
//! In order: method (GET/HEAD, else 405) → route (400, 404, 301, admin) →
//! encoding (406) → preconditions (304, 412) → 200. Every step reads
//! values made at build time; nothing here allocates per byte served.

use super::connection::Activity;
use super::{admin, cache_control, conditional, encoding, path};
use crate::clock::Clock;
use crate::compress::Encoding;
use crate::snapshot::{Resource, Snapshot};
use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderValue, LAST_MODIFIED,
    LINK, LOCATION, USER_AGENT, VARY,
};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::future::Ready;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tracing::{Level, info};

/// What every connection shares.
pub struct Shared {
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub admin_token: Option<String>,
    pub clock: Clock,
}

/// The hyper service for one connection.
#[derive(Clone)]
pub struct Handler {
    shared: Arc<Shared>,
    peer: SocketAddr,
    /// Counts requests, so the connection's watchdog sees progress.
    activity: Arc<Activity>,
}

impl Handler {
    pub fn new(shared: Arc<Shared>, peer: SocketAddr, activity: Arc<Activity>) -> Self {
        Handler { shared, peer, activity }
    }
}

pub type Body = Full<Bytes>;

impl hyper::service::Service<Request<Incoming>> for Handler {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.activity.request();
        if !tracing::enabled!(target: "episodic::access", Level::INFO) {
            return std::future::ready(Ok(self.respond(&request)));
        }
        let started = Instant::now();
        let response = self.respond(&request);
        info!(
            target: "episodic::access",
            method = %request.method(),
            path = %request.uri().path(),
            status = response.status().as_u16(),
            // What goes on the wire: HEAD sends headers only.
            bytes = if request.method() == Method::HEAD {
                "0"
            } else {
                response.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).unwrap_or("0")
            },
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            user_agent = request.headers().get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("-"),
        );
        std::future::ready(Ok(response))
    }
}

impl Handler {
    fn respond(&self, request: &Request<Incoming>) -> Response<Body> {
        let method = request.method();
        if method != Method::GET && method != Method::HEAD {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let snapshot = self.shared.snapshot.load();
        let mut response = match path::route(request.uri().path(), &snapshot) {
            path::Route::Resource(key) => match snapshot.get(&key) {
                Some(resource) => self.serve(request, resource, snapshot.max_age),
                None => plain(StatusCode::NOT_FOUND, "not found\n"),
            },
            path::Route::Redirect(location) => redirect(&location),
            path::Route::Admin(page) => self.admin(request, &page, &snapshot),
            path::Route::NotFound => plain(StatusCode::NOT_FOUND, "not found\n"),
            path::Route::BadRequest => plain(StatusCode::BAD_REQUEST, "bad request\n"),
        };
        if method == Method::HEAD {
            // Same headers, no body; hyper keeps our Content-Length.
            *response.body_mut() = Full::new(Bytes::new());
        }
        response
    }

    fn serve(&self, request: &Request<Incoming>, resource: &Resource, max_age: u32) -> Response<Body> {
        let now = self.shared.clock.now();
        let max_age = if resource.archived { max_age.max(cache_control::ARCHIVE_MAX_AGE) } else { max_age };
        let cache_control = cache_control::header(max_age, resource.changes_at, now);
        let chosen = encoding::choose(request.headers(), resource.variants.iter().map(|v| v.encoding));
        let Some(variant) = chosen.and_then(|e| resource.variant(e)) else {
            let mut response = plain(StatusCode::NOT_ACCEPTABLE, "no acceptable content-coding\n");
            response.headers_mut().insert(VARY, HeaderValue::from_static("Accept-Encoding"));
            return response;
        };
        let outcome =
            conditional::evaluate(request.method(), request.headers(), &variant.etag, resource.usable_date());
        let mut builder = Response::builder()
            .header(ETAG, variant.etag.clone())
            .header(LAST_MODIFIED, resource.last_modified_header.clone())
            .header(CACHE_CONTROL, cache_control);
        if resource.has_variants() {
            builder = builder.header(VARY, HeaderValue::from_static("Accept-Encoding"));
        }
        if let Some(link) = &resource.link {
            builder = builder.header(LINK, link.clone());
        }
        let response = match outcome {
            conditional::Outcome::NotModified => {
                builder.status(StatusCode::NOT_MODIFIED).body(Full::new(Bytes::new()))
            }
            conditional::Outcome::PreconditionFailed => {
                builder.status(StatusCode::PRECONDITION_FAILED).body(Full::new(Bytes::new()))
            }
            conditional::Outcome::Proceed => {
                builder = builder
                    .header(CONTENT_TYPE, resource.content_type.clone())
                    .header(CONTENT_LENGTH, variant.body.len());
                if variant.encoding != Encoding::Identity {
                    builder =
                        builder.header(CONTENT_ENCODING, HeaderValue::from_static(variant.encoding.token()));
                }
                builder.status(StatusCode::OK).body(Full::new(variant.body.clone()))
            }
        };
        response.expect("headers are valid by construction")
    }

    fn admin(&self, request: &Request<Incoming>, page: &str, snapshot: &Snapshot) -> Response<Body> {
        let allowed = admin::is_allowed(self.peer, request.headers(), self.shared.admin_token.as_deref());
        if !allowed || page != "status" {
            return plain(StatusCode::NOT_FOUND, "not found\n");
        }
        Response::builder()
            .header(CONTENT_TYPE, "application/json")
            .header(CACHE_CONTROL, "no-store")
            .header(CONTENT_LENGTH, snapshot.status_json.len())
            .body(Full::new(snapshot.status_json.clone()))
            .expect("constant headers are valid")
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(CONTENT_LENGTH, text.len())
        .header(CACHE_CONTROL, "no-cache")
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .expect("constant headers are valid")
}

fn redirect(location: &str) -> Response<Body> {
    match HeaderValue::from_str(location) {
        Ok(location) => Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(LOCATION, location)
            .header(CONTENT_LENGTH, 0)
            .body(Full::new(Bytes::new()))
            .expect("a valid Location makes a valid response"),
        Err(_) => plain(StatusCode::BAD_REQUEST, "bad request\n"),
    }
}
