//! The record file: a versioned header, then self-checking compressed chunks of records.
//!
//! ```text
//! file   := header chunk* end?
//! header := "SYSCORD\0" version:u16 reserved:u16 len:u32 json[len] crc32(json):u32
//! chunk  := "SCHK" kind:u8 reserved:[u8;3] raw_len:u32 stored_len:u32 count:u32
//!           crc32(stored):u32 stored[stored_len]        (stored = zstd(raw))
//! ```
//! All integers little-endian. A kernel chunk holds `count` records as the eBPF program
//! wrote them (see `kernel.rs`): what the recorder writes. A records chunk holds `count`
//! encoded records (see `record.rs`): what version 1 recorders wrote. The end chunk holds
//! the recording's summary as JSON. A file without an end chunk was cut short
//! (the recorder was killed): everything up to its last complete chunk is still readable.
//! See docs/format.md.

mod kernel;
mod reader;
mod record;
mod varint;
mod writer;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use syscord_arch::Arch;
use thiserror::Error;

pub use kernel::build as kernel_records;
pub use kernel::{KernelChunk, plausible as kernel_record_plausible};
pub use kernel::{c_string, read as read_struct};
pub use reader::{Chunk, Reader};
pub use record::{
    BuildId, Capture, ExecImage, Executable, ExecutableId, Record, SendResult, SignalAction,
    SyscallEvent, TaskEvent, TaskEventKind,
};
pub use writer::{Writer, zstd_raw_frame};

pub(crate) const MAGIC: &[u8; 8] = b"SYSCORD\0";
pub const CHUNK_MAGIC: &[u8; 4] = b"SCHK";
pub(crate) const FORMAT_VERSION: u16 = 4;
/// Versions this syscord reads: 1 differs only in having no kernel chunks, 2 in having no
/// signal records, 3 in having no exec image records.
pub(crate) const READABLE_VERSIONS: std::ops::RangeInclusive<u16> = 1..=FORMAT_VERSION;

/// Chunk kinds.
pub(crate) const CHUNK_RECORDS: u8 = 1;
pub const CHUNK_END: u8 = 2;
pub(crate) const CHUNK_KERNEL: u8 = 3;

/// Upper bounds a reader enforces before allocating, so a corrupt length cannot exhaust memory.
pub(crate) const MAX_HEADER_LEN: u32 = 1 << 20;
pub(crate) const MAX_CHUNK_RAW_LEN: u32 = 64 << 20;

#[derive(Debug, Error)]
pub enum FormatError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a syscord recording (bad magic)")]
    NotARecording,
    #[error(
        "recording format version {0} is not supported (this syscord reads versions 1 to {FORMAT_VERSION})"
    )]
    UnsupportedVersion(u16),
    #[error("recording is truncated: {0}")]
    Truncated(&'static str),
    #[error("recording is corrupt: {0}")]
    Corrupt(&'static str),
    /// A kernel record that is not what its kind says, and why.
    #[error("{0}")]
    BadRecord(String),
    #[error("recording is corrupt: chunk at byte {offset}: {what}")]
    CorruptChunk { offset: u64, what: String },
    /// An error in one file of a rotated recording.
    #[error("{}: {source}", path.display())]
    InPart {
        path: std::path::PathBuf,
        source: Box<FormatError>,
    },
    /// The files of a rotated recording do not fit together.
    #[error("rotated recording: {0}")]
    Parts(String),
}

/// Facts about the recording, written first. Everything needed to decode the records on
/// another machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub arch: Arch,
    pub kernel_release: String,
    pub hostname: String,
    /// Wall-clock time at the start, ns since the Unix epoch.
    pub start_wall_ns: u64,
    /// CLOCK_BOOTTIME at the same instant; record timestamps are on this clock.
    pub start_boot_ns: u64,
    /// Bytes captured per buffer at most.
    pub snap_len: u32,
    /// The recorded command line, if syscord started it.
    pub command: Vec<String>,
    /// What was recorded: "command", "processes 12, 34", "all tasks".
    #[serde(default)]
    pub target: String,
    /// The filter, as given.
    #[serde(default)]
    pub filter: Option<String>,
    pub syscord_version: String,
    pub cpus: u32,
    /// With `record --max-size`: which part of the recording this file is, from 1; 0 for a
    /// recording in one file.
    #[serde(default)]
    pub part: u64,
    /// The names of each syscall's captures, by number, in the order of the ids the kernel
    /// gave them: what a kernel chunk's capture ids mean, whichever syscord reads the file.
    /// Empty in files written before it; the reader's own handlers name them then.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub captures: BTreeMap<u32, Vec<String>>,
    /// How the recorder's eBPF program published records to the drain: "plain store",
    /// "store-release" or "atomic exchange". Empty in files written before it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ring_publish: String,
    /// Which argv an exec record holds: "as the caller passed it", or the new image's and
    /// why the caller's is missing. Empty in files written before it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exec_argv: String,
}

impl Header {
    /// Wall-clock ns since the epoch of a record timestamp.
    pub(crate) fn wall_ns(&self, boot_ns: u64) -> u64 {
        self.start_wall_ns
            .wrapping_add(boot_ns.wrapping_sub(self.start_boot_ns))
    }
}

/// What the end chunk says: how the recording ended and what it lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub records: u64,
    /// Records the kernel could not put in the ring buffer, per CPU (index = CPU).
    pub lost_records_per_cpu: Vec<u64>,
    /// Traced tasks whose children could not be followed.
    pub lost_tasks: u64,
    pub end_wall_ns: u64,
    pub end_boot_ns: u64,
    /// Exit status of the recorded command, as a shell reports it.
    pub exit_status: Option<i32>,
    /// True in every part of a rotated recording but the last: the recording goes on in
    /// the next part. The counts are then the recording's so far.
    #[serde(default)]
    pub continued: bool,
    /// Per CPU, the last sequence number the kernel gave out: numbers after the last record
    /// of a CPU in the file were lost at the very end. Optional, default empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_seq_per_cpu: Vec<u64>,
    /// Events lost because their CPU's ring was held by a program they had preempted. They
    /// have no sequence number, so no gap shows them. Optional, default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub busy_lost: u64,
    /// Times the kernel skipped one of syscord's programs because it was already running on
    /// that CPU, preempted: the syscall or task event of whichever process was then running
    /// there went unseen, a recorded one or not. Only kernels that run the programs
    /// preemptibly (PREEMPT_RT; syscall tracepoints from 7.x on) skip any. Optional,
    /// default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_runs: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    /// Every record known lost: those with a sequence number and those without.
    pub fn lost_records(&self) -> u64 {
        self.lost_records_per_cpu.iter().sum::<u64>() + self.busy_lost
    }
}
