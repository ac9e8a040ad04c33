//! One request → one response, from the snapshot alone: its bytes in
//! memory, or the file in feeds/ it names (see `file`).
//!
//! In order: method (GET/HEAD, else 405) → route (400, 404, 301, admin) →
//! encoding (406) → preconditions (304, 412) → 200. Every step reads
//! values made at build time; nothing here allocates per byte served.

use super::body::{plain, retry_later};
use super::connection::Activity;
use super::range::{self, Ranged};
use super::shared::Shared;
use super::{admin, cache_control, conditional, encoding, file, observe, path};
use crate::compress::Encoding;
use crate::snapshot::{Resource, Snapshot, Source};
use hyper::body::Incoming;
use hyper::header::{
    ACCEPT_RANGES, ALLOW, CACHE_CONTROL, CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_TYPE, ETAG, HeaderValue, LAST_MODIFIED, LINK, LOCATION, USER_AGENT, VARY,
};
use hyper::{Method, Request, Response, StatusCode, Version};
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Instant;
use tracing::{Level, info, warn};

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

pub use super::body::Body;

/// A response being made: at once from memory, or once a file is read.
pub enum Reply {
    Ready(Option<Response<Body>>),
    Reading(Pin<Box<dyn Future<Output = Response<Body>> + Send>>),
}

impl Future for Reply {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Reply::Ready(response) => Poll::Ready(Ok(response.take().expect("polled after completion"))),
            Reply::Reading(reading) => reading.as_mut().poll(cx).map(Ok),
        }
    }
}

/// A response, or the file read that makes it.
enum Respond {
    Now(Response<Body>),
    Later(Pin<Box<dyn Future<Output = Response<Body>> + Send>>),
}

impl hyper::service::Service<Request<Incoming>> for Handler {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Reply;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.activity.request();
        let logging = tracing::enabled!(target: "episodic::access", Level::INFO);
        let started = logging.then(Instant::now);
        let closing = self.shared.stopping.load(Ordering::Relaxed) && request.version() <= Version::HTTP_11;
        let hit = observe::hit(self.peer, &self.shared, &request, &self.shared.snapshot.load());
        match self.respond(&request) {
            Respond::Now(mut response) => {
                observe::record(&self.shared, hit, response.status());
                if closing {
                    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
                }
                if let Some(started) = started {
                    let access = Access {
                        client: self.client(&request),
                        method: request.method(),
                        path: request.uri().path(),
                        user_agent: user_agent(&request),
                    };
                    log_access(&access, &response, started);
                }
                Reply::Ready(Some(response))
            }
            Respond::Later(reading) => {
                // What the log needs outlives the request only here.
                let access = started.map(|started| {
                    let path = request.uri().path().to_owned();
                    let client = self.client(&request);
                    (client, request.method().clone(), path, user_agent(&request).to_owned(), started)
                });
                let shared = self.shared.clone();
                Reply::Reading(Box::pin(async move {
                    let mut response = reading.await;
                    observe::record(&shared, hit, response.status());
                    if closing {
                        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
                    }
                    if let Some((client, method, path, user_agent, started)) = access {
                        let access = Access { client, method: &method, path: &path, user_agent: &user_agent };
                        log_access(&access, &response, started);
                    }
                    response
                }))
            }
        }
    }
}

fn user_agent(request: &Request<Incoming>) -> &str {
    request.headers().get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("-")
}

/// Who asked for what, for the access log.
struct Access<'a> {
    client: IpAddr,
    method: &'a Method,
    path: &'a str,
    user_agent: &'a str,
}

impl Handler {
    /// The client: the peer, or whom a trusted proxy forwarded for.
    fn client(&self, request: &Request<Incoming>) -> IpAddr {
        let trusted = self.shared.snapshot.load().serving.trusted_proxies.clone();
        super::client::address(self.peer.ip(), request.headers(), &trusted)
    }
}

/// One line of the access log.
fn log_access(access: &Access<'_>, response: &Response<Body>, started: Instant) {
    let Access { client, method, path, user_agent } = access;
    info!(
        target: "episodic::access",
        client = %client,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        // What goes on the wire: HEAD sends headers only.
        bytes = if *method == Method::HEAD {
            "0"
        } else {
            response.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).unwrap_or("0")
        },
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        user_agent = %user_agent,
    );
}

impl Handler {
    fn respond(&self, request: &Request<Incoming>) -> Respond {
        let method = request.method();
        if method != Method::GET && method != Method::HEAD {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Respond::Now(response);
        }
        let snapshot = self.shared.snapshot.load();
        let mut response = match path::route(request.uri().path(), &snapshot) {
            path::Route::Resource(key) => match snapshot.get(&key) {
                Some(resource) => {
                    let braked = observe::braked(self.peer, &self.shared, request, &key, resource, &snapshot);
                    if let Some(retry) = braked {
                        return Respond::Now(observe::too_many(retry));
                    }
                    return self.serve(request, &key, resource, snapshot.max_age);
                }
                None => plain(StatusCode::NOT_FOUND, "not found\n"),
            },
            path::Route::Redirect(location) => redirect(&location),
            path::Route::Admin(page) => self.admin(request, &page, &snapshot),
            path::Route::NotFound => plain(StatusCode::NOT_FOUND, "not found\n"),
            path::Route::BadRequest => plain(StatusCode::BAD_REQUEST, "bad request\n"),
        };
        if method == Method::HEAD {
            // Same headers, no body; hyper keeps our Content-Length.
            *response.body_mut() = Body::empty();
        }
        Respond::Now(response)
    }

    fn serve(&self, request: &Request<Incoming>, key: &str, resource: &Resource, max_age: u32) -> Respond {
        let now = self.shared.clock.now();
        let max_age =
            if resource.rarely_changes { max_age.max(cache_control::ARCHIVE_MAX_AGE) } else { max_age };
        let cache_control = cache_control::header(max_age, resource.changes_at, now);
        let chosen = encoding::choose(request.headers(), resource.variants.iter().map(|v| v.encoding));
        let Some(variant) = chosen.and_then(|e| resource.variant(e)) else {
            let mut response = plain(StatusCode::NOT_ACCEPTABLE, "no acceptable content-coding\n");
            response.headers_mut().insert(VARY, HeaderValue::from_static("Accept-Encoding"));
            return Respond::Now(response);
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
        let status = match outcome {
            conditional::Outcome::NotModified => StatusCode::NOT_MODIFIED,
            conditional::Outcome::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            conditional::Outcome::Proceed => StatusCode::OK,
        };
        if status != StatusCode::OK {
            let response = builder.status(status).body(Body::empty());
            return Respond::Now(response.expect("headers are valid by construction"));
        }
        builder = builder.status(StatusCode::OK);
        // Ranges only where there is one representation: a span of a gzip
        // body would change with the compression level.
        let ranged = if resource.has_variants() {
            Ranged::Whole
        } else {
            builder = builder.header(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            range::evaluate(
                request.method(),
                request.headers(),
                variant.len,
                &variant.etag,
                resource.usable_date(),
            )
        };
        let (start, len) = match ranged {
            Ranged::Whole => (0, variant.len),
            Ranged::Part(part) => {
                builder = builder
                    .status(StatusCode::PARTIAL_CONTENT)
                    .header(CONTENT_RANGE, range::content_range(&part, variant.len));
                (*part.start(), part.end() - part.start() + 1)
            }
            Ranged::Unsatisfiable => {
                let response = builder
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(CONTENT_RANGE, range::unsatisfied_range(variant.len))
                    .header(CONTENT_LENGTH, 0)
                    .body(Body::empty());
                return Respond::Now(response.expect("headers are valid by construction"));
            }
        };
        builder = builder.header(CONTENT_TYPE, resource.content_type.clone()).header(CONTENT_LENGTH, len);
        if variant.encoding != Encoding::Identity {
            builder = builder.header(CONTENT_ENCODING, HeaderValue::from_static(variant.encoding.token()));
        }
        let body = match (&variant.source, request.method() == Method::HEAD) {
            (_, true) => Body::empty(),
            (Source::Memory(bytes), false) => Body::from(bytes.slice(span(start, len))),
            (Source::File(path) | Source::Original { path, .. }, false) => {
                let (path, key, shared) = (path.clone(), key.to_owned(), self.shared.clone());
                let reading = match &variant.source {
                    // A document: small, read whole and checked by hash.
                    Source::File(_) if resource.has_variants() => {
                        let reading = file::read(path.clone(), variant.len, variant.etag.clone());
                        Box::pin(async move { reading.await.map(Body::from) }) as file::Opening
                    }
                    // Media and images: streamed, checked by size and date.
                    Source::Original { modified, .. } => {
                        file::open(path.clone(), variant.len, *modified, start, len)
                    }
                    _ => file::open(path.clone(), variant.len, resource.last_modified, start, len),
                };
                // The writer's own file changed: the watcher brings the new
                // version; only a file in feeds/ is ours to repair.
                let ours = matches!(variant.source, Source::File(_));
                return Respond::Later(Box::pin(async move {
                    match reading.await {
                        Ok(body) => builder.body(body).expect("headers are valid by construction"),
                        Err(e) => {
                            warn!(file = %path.display(), "not served: {e}");
                            if ours {
                                (shared.report_damage)(&key);
                            }
                            unavailable()
                        }
                    }
                }));
            }
        };
        Respond::Now(builder.body(body).expect("headers are valid by construction"))
    }

    fn admin(&self, request: &Request<Incoming>, page: &str, snapshot: &Snapshot) -> Response<Body> {
        let allowed = admin::is_allowed(self.peer, request.headers(), self.shared.admin_token.as_deref());
        admin::respond(page, allowed, snapshot, self.shared.recorder.as_ref())
    }
}

/// A file in feeds/ that cannot be served as the snapshot describes it.
fn unavailable() -> Response<Body> {
    let text = "this file is missing or changed in the output folder; it is served again once rebuilt\n";
    retry_later(StatusCode::SERVICE_UNAVAILABLE, text, 10)
}

fn redirect(location: &str) -> Response<Body> {
    match HeaderValue::from_str(location) {
        Ok(location) => Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(LOCATION, location)
            .header(CONTENT_LENGTH, 0)
            .body(Body::empty())
            .expect("a valid Location makes a valid response"),
        Err(_) => plain(StatusCode::BAD_REQUEST, "bad request\n"),
    }
}

/// The bytes `start..start + len` of a body held in memory.
fn span(start: u64, len: u64) -> std::ops::Range<usize> {
    let start = usize::try_from(start).unwrap_or(usize::MAX);
    start..start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
}
