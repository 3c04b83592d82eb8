//! Records and their compact encoding inside a chunk.
//!
//! Integers are varints; timestamps are deltas from the previous record of the same chunk, so
//! a chunk decodes on its own. Layout of one record:
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

use super::{
    FormatError,
    varint::{Cursor, Scratch, put_i64, put_u64},
};

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
}

/// Encodes records of one chunk.
#[derive(Default)]
pub(crate) struct Encoder {
    prev_ts: u64,
    /// Last comm written per thread in this chunk.
    comms: FxHashMap<u32, Vec<u8>>,
}

impl Encoder {
    pub(crate) fn encode(&mut self, record: &Record, out: &mut Vec<u8>) {
        match record {
            Record::Syscall(e) => self.encode_syscall(e, out),
            Record::Lost {
                cpu,
                first_seq,
                count,
                ts_ns,
            } => {
                out.push(TAG_LOST);
                put_u64(out, u64::from(*cpu));
                put_u64(out, *first_seq);
                put_u64(out, *count);
                self.put_ts(out, *ts_ns);
            }
            Record::Task(e) => {
                out.push(match e.kind {
                    TaskEventKind::Exit { .. } => TAG_EXIT,
                    TaskEventKind::Fork { .. } => TAG_FORK,
                    TaskEventKind::Exec { .. } => TAG_EXEC,
                    TaskEventKind::Rename { .. } => TAG_RENAME,
                });
                put_u64(out, u64::from(e.cpu));
                put_u64(out, e.seq);
                self.put_ts(out, e.ts_ns);
                put_u64(out, u64::from(e.pid));
                put_u64(out, u64::from(e.tid));
                match &e.kind {
                    TaskEventKind::Exit { code } => put_u64(out, u64::from(*code)),
                    TaskEventKind::Fork {
                        child_tid,
                        child_pid,
                    } => {
                        put_u64(out, u64::from(*child_tid));
                        put_u64(out, u64::from(*child_pid));
                    }
                    TaskEventKind::Exec { old_tid } => put_u64(out, u64::from(*old_tid)),
                    TaskEventKind::Rename { comm } => put_short_bytes(out, comm),
                }
            }
        }
    }

    fn encode_syscall(&mut self, e: &SyscallEvent, out: &mut Vec<u8>) {
        // A tag and 16 varints, 136 bytes at most: fits the scratch buffer.
        let mut fixed = Scratch::new();
        let duration = e.duration_ns.filter(|_| e.returned);
        fixed.u8(match (e.returned, duration) {
            (true, Some(_)) => TAG_RETURNED_TIMED,
            (true, None) => TAG_RETURNED,
            (false, _) => TAG_NO_RETURN,
        });
        fixed.u64(u64::from(e.rule_flags));
        fixed.u64(u64::from(e.cpu));
        fixed.u64(e.seq);
        fixed.i64(e.ts_ns.wrapping_sub(self.prev_ts) as i64);
        self.prev_ts = e.ts_ns;
        if let Some(d) = duration {
            fixed.u64(d);
        }
        fixed.u64(u64::from(e.pid));
        fixed.u64(u64::from(e.tid));
        fixed.u64(u64::from(e.nr));
        fixed.i64(e.ret);
        fixed.u64(e.ret_addr);
        for a in e.args {
            fixed.u64(a);
        }
        out.extend_from_slice(fixed.as_slice());
        let comm = &e.comm[..e.comm.len().min(COMM_SAME as usize - 1)];
        match self.comms.get_mut(&e.tid) {
            Some(previous) if previous.as_slice() == comm => out.push(COMM_SAME),
            previous => {
                out.push(comm.len() as u8);
                out.extend_from_slice(comm);
                match previous {
                    Some(previous) => {
                        previous.clear();
                        previous.extend_from_slice(comm);
                    }
                    None => {
                        self.comms.insert(e.tid, comm.to_vec());
                    }
                }
            }
        }
        put_u64(out, e.captures.len() as u64);
        for c in &e.captures {
            put_short_bytes(out, c.name.as_bytes());
            put_u64(out, c.len);
            out.push(if c.truncated { CAPTURE_TRUNCATED } else { 0 });
            put_u64(out, c.bytes.len() as u64);
            out.extend_from_slice(&c.bytes);
        }
    }

    fn put_ts(&mut self, out: &mut Vec<u8>, ts: u64) {
        put_i64(out, ts.wrapping_sub(self.prev_ts) as i64);
        self.prev_ts = ts;
    }
}

/// At most 255 bytes (comm, capture names).
fn put_short_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = bytes.len().min(255);
    out.push(len as u8);
    out.extend_from_slice(&bytes[..len]);
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

    fn sample(ts: u64) -> SyscallEvent {
        SyscallEvent {
            returned: true,
            rule_flags: 0,
            cpu: 1,
            seq: 42,
            ts_ns: ts,
            pid: 100,
            tid: 101,
            nr: 257,
            ret: -2,
            ret_addr: 0x7f00_0000_1234,
            args: [u64::MAX - 99, 0x5555_0000, 0x80000, 0, 0, 0],
            comm: b"ls".to_vec(),
            captures: vec![Capture {
                id: None,
                name: "path".into(),
                len: 300,
                truncated: true,
                bytes: vec![b'a'; 256],
            }],
            duration_ns: None,
        }
    }

    #[test]
    fn records_round_trip() {
        let records = vec![
            Record::Syscall(sample(1_000)),
            Record::Lost {
                cpu: 0,
                first_seq: 7,
                count: 3,
                ts_ns: 950,
            },
            Record::Syscall(sample(900)), // time may go backwards across CPUs
            Record::Task(TaskEvent {
                cpu: 1,
                seq: 43,
                ts_ns: 2000,
                pid: 100,
                tid: 101,
                kind: TaskEventKind::Exit { code: 256 },
            }),
            Record::Task(TaskEvent {
                cpu: 0,
                seq: 8,
                ts_ns: 2001,
                pid: 100,
                tid: 100,
                kind: TaskEventKind::Fork {
                    child_tid: 102,
                    child_pid: 102,
                },
            }),
            Record::Task(TaskEvent {
                cpu: 0,
                seq: 9,
                ts_ns: 2002,
                pid: 100,
                tid: 100,
                kind: TaskEventKind::Exec { old_tid: 101 },
            }),
            Record::Task(TaskEvent {
                cpu: 0,
                seq: 10,
                ts_ns: 2003,
                pid: 100,
                tid: 102,
                kind: TaskEventKind::Rename {
                    comm: b"worker-1".to_vec(),
                },
            }),
            Record::Syscall(SyscallEvent {
                comm: b"renamed".to_vec(),
                ..sample(2100)
            }),
            Record::Syscall(SyscallEvent {
                duration_ns: Some(12_345),
                ..sample(2200)
            }),
        ];
        let mut enc = Encoder::default();
        let mut buf = Vec::new();
        for r in &records {
            enc.encode(r, &mut buf);
        }
        let decoded: Vec<Record> = Decoder::new(&buf).map(Result::unwrap).collect();
        assert_eq!(decoded, records);
    }

    /// The fixed part of a syscall record goes through a stack buffer: its largest form
    /// (every varint at its longest, a duration) must fit, and decode unchanged.
    #[test]
    fn the_largest_syscall_record_round_trips() {
        let largest = Record::Syscall(SyscallEvent {
            returned: true,
            rule_flags: u32::MAX,
            cpu: u32::MAX,
            seq: u64::MAX,
            // The delta from 0 is i64::MIN: ten bytes.
            ts_ns: 1 << 63,
            pid: u32::MAX,
            tid: u32::MAX,
            nr: u32::MAX,
            ret: i64::MIN,
            ret_addr: u64::MAX,
            args: [u64::MAX; 6],
            comm: vec![b'c'; 254],
            captures: vec![],
            duration_ns: Some(u64::MAX),
        });
        let mut buf = Vec::new();
        Encoder::default().encode(&largest, &mut buf);
        // Tag, 16 varints (5 of 5 bytes, 11 of 10), the name and the capture count.
        assert_eq!(buf.len(), 1 + 5 * 5 + 11 * 10 + (1 + 254) + 1);
        let decoded: Vec<Record> = Decoder::new(&buf).map(Result::unwrap).collect();
        assert_eq!(decoded, [largest]);
    }

    /// Found by fuzzing: `dump` shows a loss as `first_seq..=first_seq + count - 1`, which
    /// overflowed for a range the recorder never writes.
    #[test]
    fn impossible_loss_ranges_are_corrupt() {
        let lost = |first_seq, count| {
            let mut buf = Vec::new();
            Encoder::default().encode(
                &Record::Lost {
                    cpu: 0,
                    first_seq,
                    count,
                    ts_ns: 1,
                },
                &mut buf,
            );
            Decoder::new(&buf).next().expect("one record")
        };
        assert!(lost(0, 0).is_err(), "empty range");
        assert!(lost(u64::MAX, 1).is_err(), "end past u64::MAX");
        assert!(lost(1, u64::MAX).is_err(), "end past u64::MAX");
        assert!(lost(0, u64::MAX).is_ok());
        assert!(lost(u64::MAX - 1, 1).is_ok());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let mut buf = Vec::new();
        Encoder::default().encode(&Record::Syscall(sample(5)), &mut buf);
        for cut in 1..buf.len() {
            let results: Vec<_> = Decoder::new(&buf[..cut]).collect();
            assert!(
                results.iter().any(Result::is_err),
                "cut at {cut} decoded cleanly"
            );
        }
    }
}
