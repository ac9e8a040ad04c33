//! What connects the live driver to the server, made before the driver
//! exists: the served snapshot's handle and the driver's channel.

use super::Signal;
use crate::snapshot::Snapshot;
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

/// What connects the live driver to the server, made before the driver:
/// a restart serves what feeds/ holds while the first build runs.
pub struct Wiring {
    pub(super) snapshot: Arc<ArcSwap<Snapshot>>,
    pub(super) sender: Sender<Signal>,
    pub(super) signals: Receiver<Signal>,
}

impl Wiring {
    /// Serving `first` until the driver swaps in its first build.
    pub fn new(first: Snapshot) -> Self {
        let (sender, signals) = mpsc::channel();
        Wiring { snapshot: Arc::new(ArcSwap::from_pointee(first)), sender, signals }
    }

    /// The handle HTTP reads from.
    pub fn snapshot(&self) -> Arc<ArcSwap<Snapshot>> {
        self.snapshot.clone()
    }

    /// What HTTP calls when a file in feeds/ cannot be served (with the
    /// output's path): it is written again.
    pub fn damage_report(&self) -> impl Fn(&str) + Send + Sync + 'static {
        let sender = self.sender.clone();
        move |path: &str| {
            let _ = sender.send(Signal::Damaged(path.to_owned()));
        }
    }
}
