//! syscord's userspace: loading the eBPF programs, draining records into a file, reading it
//! back, and the `syscord` command line.

pub mod btf;
pub mod cli;
mod compression;
pub mod drain;
pub mod dump;
pub mod error;
pub mod events;
pub mod filter;
pub mod format;
pub mod handlers_cmd;
pub mod mapping;
pub mod output;
pub mod preflight;
pub mod probes;
pub mod record;
pub mod recording;
pub mod ring;
pub mod spawn;
pub mod stats;
