//! The recorder's subcommands (`dump` and `stats` read recordings, and live in
//! syscord-recording).

pub mod handlers;
pub mod record;
