//! The records a reader hands out, and the records chunks of version 1 files, which held
//! them encoded (the recorder now writes kernel chunks; see `kernel.rs`).
//!
//! In a records chunk, integers are varints; timestamps are deltas from the previous record
//! of the same chunk, so a chunk decodes on its own. Layout of one record:
//!
//! ```text
//! syscall := tag(1 = returned | 2 = never returned | 8 = returned, timed) rule_flags cpu seq
//!            ts_delta(zigzag) [duration: tag 8 only] pid tid nr ret(zigzag) ret_addr
//!            arg0..arg5 comm
//!            captures:varint (name_len:u8 name orig_len flags:u8 bytes_len bytes)*
//! comm    := 255 (same as this thread's previous record in the chunk) | len:u8 bytes
//! lost    := tag(3) cpu first_seq count ts_delta(zigzag)
//! task    := tag(4 = exit | 5 = fork | 6 = exec | 7 = rename) cpu seq ts_delta(zigzag)
//!            pid tid (exit: code | fork: child_tid child_pid | exec: old_tid | rename: comm)
//! ```
//!
//! Every event the kernel numbered is in the file, as a syscall, a task event or inside a
//! loss range, so a reader can check that each CPU's sequence has no hole.

use rustc_hash::FxHashMap;

use super::{FormatError, varint::Cursor};

const TAG_RETURNED: u8 = 1;
const TAG_NO_RETURN: u8 = 2;
const TAG_LOST: u8 = 3;
const TAG_EXIT: u8 = 4;
const TAG_FORK: u8 = 5;
const TAG_EXEC: u8 = 6;
const TAG_RENAME: u8 = 7;
const TAG_RETURNED_TIMED: u8 = 8;

const CAPTURE_TRUNCATED: u8 = 1;
const COMM_SAME: u8 = 255;

/// Memory the kernel read or wrote for the syscall, as captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// Which of its handler's captures this is (the index in `Handler::captures`, as the
    /// kernel numbered it); None for a capture the reading syscord's handler does not have.
    pub id: Option<u8>,
    /// The handler's name for it: in the file for records chunks, from the handler for
    /// kernel chunks.
    pub name: String,
    /// Length of the original buffer.
    pub len: u64,
    /// Whether `bytes` holds less than `len` (snap length).
    pub truncated: bool,
    pub bytes: Vec<u8>,
}

/// One syscall record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallEvent {
    /// False for syscalls that never return (exit, exit_group): `ret` is meaningless.
    pub returned: bool,
    pub rule_flags: u32,
    pub cpu: u32,
    /// Per-CPU sequence number.
    pub seq: u64,
    /// CLOCK_BOOTTIME ns.
    pub ts_ns: u64,
    pub pid: u32,
    pub tid: u32,
    pub nr: u32,
    pub ret: i64,
    pub ret_addr: u64,
    pub args: [u64; 6],
    /// Thread name, without NUL padding.
    pub comm: Vec<u8>,
    pub captures: Vec<Capture>,
    /// Time from entry to return, when the recording measured it (`record -T`).
    pub duration_ns: Option<u64>,
}

impl SyscallEvent {
    pub(crate) fn comm_lossy(&self) -> String {
        String::from_utf8_lossy(&self.comm).into_owned()
    }
}

/// An entry of a record chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Syscall(SyscallEvent),
    /// `count` events of `cpu`, sequence numbers `first_seq..first_seq + count`, were lost
    /// (the ring buffer was full). `ts_ns` is the time of the first record after the gap.
    Lost {
        cpu: u32,
        first_seq: u64,
        count: u64,
        ts_ns: u64,
    },
    /// Something happened to a traced thread.
    Task(TaskEvent),
}

impl Record {
    pub(crate) fn ts_ns(&self) -> u64 {
        match self {
            Record::Syscall(e) => e.ts_ns,
            Record::Task(e) => e.ts_ns,
            Record::Lost { ts_ns, .. } => *ts_ns,
        }
    }
}

/// A thread event, numbered in its CPU's sequence like a syscall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    pub cpu: u32,
    pub seq: u64,
    pub ts_ns: u64,
    pub pid: u32,
    pub tid: u32,
    pub kind: TaskEventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskEventKind {
    /// The thread ended; `code` is its wait status.
    Exit { code: u32 },
    /// The thread created another one (a thread or a process).
    Fork { child_tid: u32, child_pid: u32 },
    /// The thread started a new program (its path and argv are in the execve record);
    /// `old_tid` differs from `tid` when a non-leader thread exec'd.
    Exec { old_tid: u32 },
    /// The thread got a new name.
    Rename { comm: Vec<u8> },
    /// The kernel delivered a signal to the thread: it runs `action` next.
    SignalDelivered {
        signo: u32,
        /// The siginfo the thread receives: the first 48 bytes of its siginfo_t, in the
        /// recording architecture's layout.
        siginfo: Vec<u8>,
        action: SignalAction,
        /// The action's `sa_flags` (SA_RESTART, SA_SIGINFO, ...).
        sa_flags: u64,
        /// The SIGKILL the kernel delivers to every thread of a process that is exiting
        /// (exit_group, a fatal signal, an exec in another thread): its siginfo is zero
        /// but for si_signo.
        group_exit: bool,
    },
    /// What the new program image the thread runs since its last `Exec` started with.
    ExecImage(Box<ExecImage>),
    /// A signal was sent to the thread (or, `to_process`, to its process and queued on
    /// this thread).
    SignalSent {
        signo: u32,
        /// As in `SignalDelivered`.
        siginfo: Vec<u8>,
        sender_pid: u32,
        sender_tid: u32,
        sender_comm: Vec<u8>,
        to_process: bool,
        result: SendResult,
    },
}

/// What a new program image started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecImage {
    /// The file it runs (for a `#!` script, the interpreter's); None where the kernel's
    /// inode could not be read.
    pub executable: Option<Executable>,
    /// The executable's ELF build-id, as the recorder found it.
    pub build_id: BuildId,
    /// The auxiliary vector, (type, value) pairs up to and without AT_NULL.
    pub auxv: Vec<(u64, u64)>,
    /// The 16 bytes at AT_RANDOM (glibc's stack protector and pointer guard).
    pub random: Option<[u8; 16]>,
    /// The strings at AT_PLATFORM and AT_EXECFN (empty when absent).
    pub platform: Vec<u8>,
    pub execfn: Vec<u8>,
    /// The working directory, absolute in the mount namespace; `cwd_whole` is false when
    /// only its end fit.
    pub cwd: Vec<u8>,
    pub cwd_whole: bool,
    /// The NUL-separated environment strings and their full length (`--capture-env`).
    pub env: Option<(Vec<u8>, u32)>,
}

/// An executable file as its inode identifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Executable {
    pub id: ExecutableId,
    /// `st_mode`: the file type and permission bits (setuid, ...).
    pub mode: u16,
}

/// What identifies an executable's content: the key the recorder files build-ids under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExecutableId {
    /// The kernel's `dev_t` of its file system: major << 20 | minor.
    pub dev: u32,
    pub ino: u64,
    pub size: u64,
    pub mtime_sec: i64,
    pub mtime_nsec: u32,
}

impl ExecutableId {
    pub fn dev_major(&self) -> u32 {
        self.dev >> 20
    }

    pub fn dev_minor(&self) -> u32 {
        self.dev & 0xf_ffff
    }
}

/// An executable's build-id, read by the recorder from the file (the kernel has not read
/// it when exec's tracepoint runs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BuildId {
    /// The bytes of its NT_GNU_BUILD_ID note.
    Found(Vec<u8>),
    /// The file is an ELF file without one.
    NoNote,
    /// The recorder could not tell, and why (the file had changed or was gone by then,
    /// or is not ELF).
    Unknown(String),
    /// Not in the recording (files of recorders before build-ids, a record without its
    /// executable's identity).
    #[default]
    NotRecorded,
}

/// What a thread does with a signal delivered to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalAction {
    /// The default action (terminate, dump core, stop, continue or ignore, by signal).
    Default,
    Ignore,
    /// The handler at this address runs.
    Handler(u64),
}

/// What became of a signal sent (the kernel's `TRACE_SIGNAL_*` results).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    /// Queued, for delivery (the kernel calls it "delivered").
    Queued,
    /// Dropped: the thread ignores it.
    Ignored,
    /// Dropped: a standard signal of this number was already pending.
    AlreadyPending,
    /// Dropped: the queue of real-time signals was full.
    QueueFull,
    /// Queued without its siginfo (no memory for it).
    LostInfo,
    Other(u32),
}

impl SendResult {
    pub fn from_kernel(result: u32) -> SendResult {
        match result {
            0 => SendResult::Queued,
            1 => SendResult::Ignored,
            2 => SendResult::AlreadyPending,
            3 => SendResult::QueueFull,
            4 => SendResult::LostInfo,
            n => SendResult::Other(n),
        }
    }

    pub fn name(self) -> String {
        match self {
            SendResult::Queued => "queued".into(),
            SendResult::Ignored => "ignored".into(),
            SendResult::AlreadyPending => "already pending".into(),
            SendResult::QueueFull => "queue full".into(),
            SendResult::LostInfo => "queued without siginfo".into(),
            SendResult::Other(n) => format!("result {n}"),
        }
    }
}

/// Decodes the records of one chunk, in order.
pub(crate) struct Decoder<'a> {
    cursor: Cursor<'a>,
    prev_ts: u64,
    comms: FxHashMap<u32, Vec<u8>>,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        Decoder {
            cursor: Cursor::new(raw),
            prev_ts: 0,
            comms: FxHashMap::default(),
        }
    }

    fn ts(&mut self) -> Result<u64, FormatError> {
        let ts = self.prev_ts.wrapping_add(self.cursor.i64()? as u64);
        self.prev_ts = ts;
        Ok(ts)
    }

    fn syscall(&mut self, returned: bool, timed: bool) -> Result<SyscallEvent, FormatError> {
        let rule_flags = self.cursor.u32()?;
        let cpu = self.cursor.u32()?;
        let seq = self.cursor.u64()?;
        let ts_ns = self.ts()?;
        let duration_ns = if timed {
            Some(self.cursor.u64()?)
        } else {
            None
        };
        let c = &mut self.cursor;
        let pid = c.u32()?;
        let tid = c.u32()?;
        let nr = c.u32()?;
        let ret = c.i64()?;
        let ret_addr = c.u64()?;
        let mut args = [0u64; 6];
        for a in &mut args {
            *a = c.u64()?;
        }
        let comm = match c.u8()? {
            COMM_SAME => self
                .comms
                .get(&tid)
                .cloned()
                .ok_or(FormatError::Corrupt("comm refers to no earlier record"))?,
            len => {
                let comm = c.bytes(len as usize)?.to_vec();
                self.comms.insert(tid, comm.clone());
                comm
            }
        };
        let ncaptures = c.u64()?;
        let mut captures = Vec::new();
        for _ in 0..ncaptures {
            let name_len = c.u8()? as usize;
            let name = String::from_utf8_lossy(c.bytes(name_len)?).into_owned();
            let len = c.u64()?;
            let flags = c.u8()?;
            let bytes_len =
                usize::try_from(c.u64()?).map_err(|_| FormatError::Corrupt("capture too long"))?;
            let bytes = c.bytes(bytes_len)?.to_vec();
            captures.push(Capture {
                // The reader finds the id from the name (see Reader::next_chunk).
                id: None,
                name,
                len,
                truncated: flags & CAPTURE_TRUNCATED != 0,
                bytes,
            });
        }
        Ok(SyscallEvent {
            returned,
            rule_flags,
            cpu,
            seq,
            ts_ns,
            pid,
            tid,
            nr,
            ret,
            ret_addr,
            args,
            comm,
            captures,
            duration_ns,
        })
    }
}

impl Decoder<'_> {
    fn task(&mut self, tag: u8) -> Result<TaskEvent, FormatError> {
        let cpu = self.cursor.u32()?;
        let seq = self.cursor.u64()?;
        let ts_ns = self.ts()?;
        let c = &mut self.cursor;
        let pid = c.u32()?;
        let tid = c.u32()?;
        let kind = match tag {
            TAG_EXIT => TaskEventKind::Exit { code: c.u32()? },
            TAG_FORK => TaskEventKind::Fork {
                child_tid: c.u32()?,
                child_pid: c.u32()?,
            },
            TAG_EXEC => TaskEventKind::Exec { old_tid: c.u32()? },
            _ => {
                let len = c.u8()? as usize;
                TaskEventKind::Rename {
                    comm: c.bytes(len)?.to_vec(),
                }
            }
        };
        Ok(TaskEvent {
            cpu,
            seq,
            ts_ns,
            pid,
            tid,
            kind,
        })
    }
}

impl Iterator for Decoder<'_> {
    type Item = Result<Record, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.cursor.is_empty() {
            return None;
        }
        let record = match self.cursor.u8() {
            Ok(TAG_RETURNED) => self.syscall(true, false).map(Record::Syscall),
            Ok(TAG_RETURNED_TIMED) => self.syscall(true, true).map(Record::Syscall),
            Ok(TAG_NO_RETURN) => self.syscall(false, false).map(Record::Syscall),
            Ok(TAG_LOST) => (|| {
                let cpu = self.cursor.u32()?;
                let first_seq = self.cursor.u64()?;
                let count = self.cursor.u64()?;
                // The recorder only writes the gaps it saw: at least one event, numbered
                // within u64, so readers may compute the range's end without overflow.
                if count == 0 || first_seq.checked_add(count).is_none() {
                    return Err(FormatError::Corrupt("loss range is empty or overflows"));
                }
                Ok(Record::Lost {
                    cpu,
                    first_seq,
                    count,
                    ts_ns: self.ts()?,
                })
            })(),
            Ok(tag @ (TAG_EXIT | TAG_FORK | TAG_EXEC | TAG_RENAME)) => {
                self.task(tag).map(Record::Task)
            }
            Ok(_) => Err(FormatError::Corrupt("unknown record tag")),
            Err(e) => Err(e),
        };
        if record.is_err() {
            // Nothing after a decoding error in this chunk can be trusted.
            self.cursor = Cursor::new(&[]);
        }
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{
        CHUNK_RECORDS,
        varint::{put_i64, put_u64},
    };

    /// The records chunks, decompressed, of a recording that a version 1 syscord made of
    /// `sh -c 'cat /tmp/syscord-v1-input > /dev/null; exit 3'` (its framing as in mod.rs).
    fn version_1_chunks() -> Vec<Vec<u8>> {
        let file: &[u8] = include_bytes!("../../tests/data/version-1.rec");
        let word = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        let mut at = 16 + word(12) + 4;
        let mut chunks = Vec::new();
        while at < file.len() {
            let (kind, raw_len, stored_len) = (file[at + 4], word(at + 8), word(at + 12));
            let stored = &file[at + 24..at + 24 + stored_len];
            if kind == CHUNK_RECORDS {
                chunks.push(zstd::bulk::decompress(stored, raw_len).unwrap());
            }
            at += 24 + stored_len;
        }
        assert!(!chunks.is_empty());
        chunks
    }

    /// Found by fuzzing: `dump` shows a loss as `first_seq..=first_seq + count - 1`, which
    /// overflowed for a range the recorder never writes.
    #[test]
    fn impossible_loss_ranges_are_corrupt() {
        let lost = |first_seq, count| {
            let mut buf = vec![TAG_LOST];
            for v in [0, first_seq, count] {
                put_u64(&mut buf, v);
            }
            put_i64(&mut buf, 1);
            Decoder::new(&buf).next().expect("one record")
        };
        assert!(lost(0, 0).is_err(), "empty range");
        assert!(lost(u64::MAX, 1).is_err(), "end past u64::MAX");
        assert!(lost(1, u64::MAX).is_err(), "end past u64::MAX");
        assert!(lost(0, u64::MAX).is_ok());
        assert!(lost(u64::MAX - 1, 1).is_ok());
    }

    /// A chunk cut anywhere gives the records before the cut, then an error or the end:
    /// never a record that was not in the chunk.
    #[test]
    fn a_cut_chunk_gives_its_first_records_and_nothing_else() {
        for raw in version_1_chunks() {
            let whole: Vec<Record> = Decoder::new(&raw).map(Result::unwrap).collect();
            for cut in 0..raw.len() {
                let mut cut_records = Vec::new();
                for record in Decoder::new(&raw[..cut]) {
                    match record {
                        Ok(r) => cut_records.push(r),
                        Err(_) => break,
                    }
                }
                assert!(cut_records.len() < whole.len(), "cut at {cut}");
                assert_eq!(cut_records, whole[..cut_records.len()], "cut at {cut}");
            }
        }
    }
}
