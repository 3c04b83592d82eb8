//! The recorder: loading the eBPF programs, draining records into a file, and the `syscord`
//! command line. Reading recordings is syscord-recording's job.

mod btf;
pub mod cli;
mod command;
mod compression;
mod drain;
mod error;
mod filter;
mod kernel_syscalls;
mod mapping;
mod output;
mod preflight;
mod probes;
mod ring;
mod spawn;
mod syscall_tracepoints;
