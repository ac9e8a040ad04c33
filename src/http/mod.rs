//! HTTP: serves the current [`Snapshot`](crate::snapshot::Snapshot) and
//! nothing else. `server` accepts connections, `handler` answers a request
//! using `path` (URL → resource), `encoding` (Accept-Encoding → variant),
//! `conditional` (304/412), `range` (206/416), `cache_control` and `admin` (who may see
//! `/_episodic/status`).

pub mod admin;
pub mod body;
pub mod cache_control;
pub mod client;
pub mod conditional;
pub mod connection;
pub mod encoding;
pub mod file;
pub mod handler;
pub mod handoff;
pub mod limit;
mod observe;
pub mod path;
pub mod range;
pub mod server;
mod shared;

pub use server::{Limits, run};
pub use shared::Shared;
