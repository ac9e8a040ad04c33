//! The one integration-test binary: builds real content folders in temp
//! dirs with the real `episodic` binary and reads the output back with
//! strict and third-party parsers.

// Test helpers fail loudly by design; the unwrap lint is for shipped code.
#![allow(clippy::unwrap_used)]

mod archives;
mod audience;
mod bad_input;
mod browser;
mod caching;
mod cold;
mod connections;
mod deploy;

mod feeds;
mod in_place;
mod interop;
mod listings;
mod media;
mod operations;
mod output;
mod pages;
mod podcasts;
mod poll_limit;

mod restarts;
mod running;
mod sample;
mod schedule;
mod server;
mod support;
mod watch;
mod websub;
