//! A build → feeds/ on disk and a [`Snapshot`] in memory, made from the same
//! encoded bytes: compressed once, written only where changed, and each
//! resource's Last-Modified read back from its file (which moves only when
//! its bytes do, so it survives restarts and identical rebuilds).

use crate::compress::Encoded;
use crate::emit::{self, EmitError, EmitReport};
use crate::pipeline::Build;
use crate::render::OutputKind;
use crate::snapshot::{Snapshot, Status, StatusError};
use jiff::Timestamp;
use std::path::Path;

pub struct Published {
    pub snapshot: Snapshot,
    pub report: EmitReport,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("site.toml or a series.toml has errors; fix them to publish")]
    Config,
    #[error(transparent)]
    Emit(#[from] EmitError),
}

/// Writes `build`'s outputs to `out` and makes the snapshot serving them.
/// Episodes with errors are already left out of the outputs; broken site or
/// series settings publish nothing.
pub fn publish(build: &Build, out: &Path, now: Timestamp) -> Result<Published, PublishError> {
    let Some(catalog) = build.catalog.as_ref().filter(|_| !build.has_config_errors()) else {
        return Err(PublishError::Config);
    };
    let (encoded, report) = write(build, out)?;
    let status = status(build, now);
    let site = &catalog.site;
    let snapshot = Snapshot::new(encoded, &report.modified, &site.base_url, site.cache_max_age, &status);
    Ok(Published { snapshot, report })
}

/// Writes `build`'s outputs and their compressed variants to `out`.
pub fn write(build: &Build, out: &Path) -> Result<(Vec<Encoded>, EmitReport), EmitError> {
    let encoded = emit::encode(out, build.outputs.clone());
    let report = emit::emit(out, &encoded)?;
    Ok((encoded, report))
}

fn status(build: &Build, now: Timestamp) -> Status {
    let episodes = build
        .catalog
        .as_ref()
        .map_or(0, |catalog| catalog.series.iter().map(|entry| entry.published(now).count()).sum());
    let feeds = build.outputs.iter().filter(|o| o.kind != OutputKind::Asset).count();
    let errors = build
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| StatusError { file: d.path.display().to_string(), line: d.line, message: d.message.clone() })
        .collect();
    let built_at = Timestamp::from_second(now.as_second()).unwrap_or(now).to_string();
    Status { built_at, episodes, feeds, errors }
}
