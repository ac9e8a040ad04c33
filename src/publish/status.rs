//! What `/_episodic/status` says about a build.

use crate::pipeline::Build;
use crate::snapshot::{Status, StatusError};
use jiff::Timestamp;

/// What `/_episodic/status` says about `build`; the live driver fills in
/// what only it knows (publishes, watching, warnings).
pub fn status(build: &Build, now: Timestamp) -> Status {
    let catalog = build.catalog.as_ref();
    let episodes =
        catalog.map_or(0, |catalog| catalog.series.iter().map(|entry| entry.published(now).count()).sum());
    let feeds = build.outputs.iter().filter(|o| o.is_current_feed()).count();
    let errors = build
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| StatusError { file: d.path.display().to_string(), line: d.line, message: d.message.clone() })
        .collect();
    let next_scheduled = catalog.and_then(|c| c.next_scheduled(now)).map(|t| t.to_string());
    Status {
        pid: std::process::id(),
        built_at: whole_second(now).to_string(),
        publishes: 0,
        episodes,
        feeds,
        next_scheduled,
        watching: String::from("off"),
        warnings: Vec::new(),
        errors,
        websub: None,
    }
}

fn whole_second(now: Timestamp) -> Timestamp {
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}
