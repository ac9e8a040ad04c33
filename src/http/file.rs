//! A variant served from its file in feeds/ (an episode page, an archive
//! block, an asset): read whole on a blocking thread, then checked against
//! the ETag the snapshot promised, so a response never pairs one version's
//! headers with another's bytes.
//!
//! Reading from the open file gives the version the last rename made live,
//! even if a newer one replaces it meanwhile. A file changed, truncated or
//! deleted by hand fails the check and is not served.

use crate::snapshot::etag;
use bytes::Bytes;
use hyper::header::HeaderValue;
use std::io::{self, Read};
use std::path::PathBuf;

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
