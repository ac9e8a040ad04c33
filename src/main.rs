//! The `episodic` binary: parses arguments, sets up logging, runs a command
//! and turns its outcome into an exit code. All the work is in the library.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod cli;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
