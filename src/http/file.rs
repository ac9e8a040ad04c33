//! A variant served from its file in feeds/, checked so that a response
//! never pairs one version's headers with another's bytes. A document (an
//! episode page, an archive block) is small: read whole on a blocking
//! thread and checked against the ETag the snapshot promised. Media and
//! images may be large: opened, checked by size and modification date (as
//! the publisher wrote them), and streamed (see `body`).
//!
//! Reading from the open file gives the version the last rename made live,
//! even if a newer one replaces it meanwhile. A file changed, truncated or
//! deleted by hand fails the check and is not served.

use super::body::Body;
use crate::snapshot::etag;
use bytes::Bytes;
use hyper::header::HeaderValue;
use std::future::Future;
use std::io::{self, Read};
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

/// A body being made from a file.
pub type Opening = Pin<Box<dyn Future<Output = Result<Body, FileError>> + Send>>;

/// Why a file could not be served.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read it: {0}")]
    Io(#[from] io::Error),
    #[error("it no longer holds what episodic wrote (changed outside episodic?)")]
    Changed,
}

/// The file's bytes, if they are the ones whose ETag is `expected`.
pub async fn read(path: PathBuf, len: u64, expected: HeaderValue) -> Result<Bytes, FileError> {
    let read = tokio::task::spawn_blocking(move || read_checked(&path, len, &expected));
    read.await.map_err(|e| FileError::Io(io::Error::other(e)))?
}

fn read_checked(path: &std::path::Path, len: u64, expected: &HeaderValue) -> Result<Bytes, FileError> {
    let mut file = std::fs::File::open(path)?;
    // One byte more than promised tells a longer file from the right one.
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    file.by_ref().take(len.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != len || etag(&bytes) != expected {
        return Err(FileError::Changed);
    }
    Ok(Bytes::from(bytes))
}

/// `len` bytes from `start` of the file, streamed, if it has the `size`
/// and (to the second) the `modified` date the publisher gave it.
pub fn open(path: PathBuf, size: u64, modified: SystemTime, start: u64, len: u64) -> Opening {
    Box::pin(async move {
        let open = tokio::task::spawn_blocking(move || -> Result<std::fs::File, FileError> {
            let file = std::fs::File::open(&path)?;
            let metadata = file.metadata()?;
            let same =
                metadata.len() == size && metadata.modified().is_ok_and(|m| seconds(m) == seconds(modified));
            if same { Ok(file) } else { Err(FileError::Changed) }
        });
        let file = open.await.map_err(|e| FileError::Io(io::Error::other(e)))??;
        Ok(Body::file(file, start, len))
    })
}

fn seconds(time: SystemTime) -> Option<u64> {
    time.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}
