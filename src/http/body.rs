//! Response bodies: bytes already in memory (feeds, pages), or a span of an
//! open file read chunk by chunk on blocking threads (images, audio,
//! video), so a download holds one chunk at a time however large the file.
//!
//! The file was opened before the response was made: if a newer version is
//! renamed over it meanwhile, the download goes on with the bytes it began
//! with.

use bytes::{Bytes, BytesMut};
use hyper::body::{Frame, SizeHint};
use hyper::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Response, StatusCode};
use std::fs::File;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::task::JoinHandle;

/// How much of a file one read takes: 50 downloads at once hold ~15 MB,
/// and 16 get 0.80–0.91× of nginx's sendfile throughput (benches/media.sh;
/// 128 KiB: 0.74×, each read is a trip to a blocking thread; 128 KiB read
/// ahead while the last is sent: 0.60–0.84×, no better).
pub const CHUNK: u64 = 256 * 1024;

pub enum Body {
    Bytes(Option<Bytes>),
    File(FileSpan),
}

impl Body {
    pub fn empty() -> Self {
        Body::Bytes(None)
    }

    /// `len` bytes of `file` from `start`.
    pub fn file(file: File, start: u64, len: u64) -> Self {
        let idle = Idle { file, buffer: BytesMut::new() };
        Body::File(FileSpan { state: State::Idle(Some(idle)), next: start, left: len, len })
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body::Bytes((!bytes.is_empty()).then_some(bytes))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::from(Bytes::from_static(text.as_bytes()))
    }
}

/// A span of a file, read in [`CHUNK`]s.
pub struct FileSpan {
    state: State,
    /// Where the next read starts.
    next: u64,
    /// Bytes still to send.
    left: u64,
    /// The whole span, for the size hint.
    len: u64,
}

enum State {
    /// Between reads (`None` once done or failed).
    Idle(Option<Idle>),
    Reading(JoinHandle<(Idle, io::Result<Bytes>)>),
}

/// The file, and the buffer chunks are read into: once the connection has
/// sent a chunk and let it go, the next read reuses its memory (a fresh
/// allocation per chunk cost page faults and TLB flushes: a third of the
/// server's CPU at 1.4 GB/s).
struct Idle {
    file: File,
    buffer: BytesMut,
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        match self.get_mut() {
            Body::Bytes(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::File(span) => span.poll_chunk(cx).map(|chunk| chunk.map(|c| c.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Bytes(bytes) => bytes.is_none(),
            Body::File(span) => span.left == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Bytes(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Body::File(span) => SizeHint::with_exact(span.len),
        }
    }
}

impl FileSpan {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        loop {
            match &mut self.state {
                State::Idle(idle) => {
                    if self.left == 0 {
                        return Poll::Ready(None);
                    }
                    let Some(mut idle) = idle.take() else { return Poll::Ready(None) };
                    let (start, want) = (self.next, self.left.min(CHUNK));
                    self.state = State::Reading(tokio::task::spawn_blocking(move || {
                        let read = read_at(&mut idle, start, want);
                        (idle, read)
                    }));
                }
                State::Reading(reading) => {
                    let (idle, read) = match ready!(Pin::new(reading).poll(cx)) {
                        Ok(done) => done,
                        Err(e) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Some(Err(io::Error::other(e))));
                        }
                    };
                    match read {
                        Ok(chunk) => {
                            self.next += chunk.len() as u64;
                            self.left -= chunk.len() as u64;
                            self.state = State::Idle(Some(idle));
                            return Poll::Ready(Some(Ok(chunk)));
                        }
                        Err(e) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
            }
        }
    }
}

/// Exactly `want` bytes of the file from `start`; a file that ends sooner
/// (cut short by hand) is an error, never a short response.
fn read_at(idle: &mut Idle, start: u64, want: u64) -> io::Result<Bytes> {
    let want = usize::try_from(want).map_err(io::Error::other)?;
    idle.file.seek(SeekFrom::Start(start))?;
    // Takes back the last chunk's memory if it was let go.
    idle.buffer.reserve(want);
    idle.buffer.resize(want, 0);
    match idle.file.read_exact(&mut idle.buffer) {
        Ok(()) => Ok(idle.buffer.split().freeze()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file is shorter than when it was opened"))
        }
        Err(e) => Err(e),
    }
}

/// A short text response, for errors.
pub fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(CONTENT_LENGTH, text.len())
        .header(CACHE_CONTROL, "no-cache")
        .body(Body::from(text))
        .expect("constant headers are valid")
}

/// A short text response that asks to come back in `seconds` (429, 503),
/// never kept by a cache.
pub fn retry_later(status: StatusCode, text: &'static str, seconds: u64) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(CONTENT_LENGTH, text.len())
        .header(CACHE_CONTROL, "no-store")
        .header(RETRY_AFTER, seconds)
        .body(Body::from(text))
        .expect("constant headers are valid")
}
