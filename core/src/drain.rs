//! Moving records from the per-CPU rings into the record file, in time order.
//!
//! The eBPF side never wakes us: the drain polls, and between passes sleeps while the rings
//! fill (see `pause_after`). Each ring is in time order; the drain merges them by
//! timestamp up to a watermark a little in the past (a record with an older timestamp can no
//! longer be unpublished), pairs exec details with their execve, keeps thread names, and
//! encodes the records for the output thread. Records stay in their ring until encoded:
//! syscall records, nearly all of them, are encoded from the ring bytes directly.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, VecDeque},
    io,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    thread,
    time::{Duration, Instant},
};

use nix::time::{ClockId, clock_gettime};
use rustc_hash::FxHashMap;
use syscord_common::{
    CAPTURE_HEADER_SIZE, CaptureHeader, CommBody, ExecBody, ExitBody, ForkBody, HEADER_SIZE,
    MAX_CAPTURES, RECORD_ALIGN, RecordHeader, SYSCALL_RECORD_SIZE, SyscallBody, capture_result,
    record_kind, rule_flags,
};
use syscord_handlers::{Kind, Registry, Role};

use crate::{
    format::{Capture, CaptureRef, Record, SyscallEvent, SyscallRef, TaskEvent, TaskEventKind},
    output::{Output, OutputThread},
    ring::{CorruptRing, Rings},
};

/// How far behind "now" the merge stays: a record is published within microseconds of
/// taking its timestamp (the program cannot be preempted), so after this long none older
/// can still appear.
const WATERMARK_SLACK_NS: u64 = 2_000_000;

/// Live figures, readable from other threads while the drain runs.
#[derive(Debug, Default)]
pub struct DrainProgress {
    pub records: AtomicU64,
    pub lost: AtomicU64,
    pub bytes: AtomicU64,
}

/// A capture as the kernel wrote it.
#[derive(Debug)]
struct RawCapture {
    id: u8,
    flags: u8,
    orig_len: u64,
    bytes: Vec<u8>,
}

/// A kernel record, parsed and owned.
#[derive(Debug)]
enum Raw {
    Syscall {
        header: RecordHeader,
        body: SyscallBody,
        returned: bool,
        captures: Vec<RawCapture>,
    },
    Exec {
        header: RecordHeader,
        body: ExecBody,
        path: Vec<u8>,
        argv: Vec<u8>,
    },
    Fork {
        header: RecordHeader,
        body: ForkBody,
    },
    Comm {
        header: RecordHeader,
        comm: Vec<u8>,
    },
    Exit {
        header: RecordHeader,
        code: u32,
    },
}

fn read<T: Copy>(bytes: &[u8], offset: usize) -> Option<T> {
    let end = offset.checked_add(size_of::<T>())?;
    if end > bytes.len() {
        return None;
    }
    // SAFETY: bounds checked; T is a plain repr(C) type valid for any bytes.
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().add(offset).cast()) })
}

fn c_string(bytes: &[u8]) -> Vec<u8> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes[..end].to_vec()
}

/// Parses one record from a ring; None for bytes that do not form a known record.
fn parse(bytes: &[u8]) -> Option<Raw> {
    let header: RecordHeader = read(bytes, 0)?;
    let body_at = HEADER_SIZE as usize;
    match header.kind {
        record_kind::SYSCALL | record_kind::SYSCALL_NO_RETURN => {
            let (body, data) = syscall_parts(bytes)?;
            let mut captures = Vec::new();
            each_capture(data, |header, bytes| {
                captures.push(RawCapture {
                    id: header.id,
                    flags: header.flags,
                    orig_len: header.orig_len,
                    bytes: bytes.to_vec(),
                })
            })?;
            Some(Raw::Syscall {
                header,
                body,
                returned: header.kind == record_kind::SYSCALL,
                captures,
            })
        }
        record_kind::EXEC => {
            let body: ExecBody = read(bytes, body_at)?;
            let strings = body_at + size_of::<ExecBody>();
            let path_end = strings + usize::from(body.path_len);
            let argv_end = path_end + usize::from(body.argv_len);
            Some(Raw::Exec {
                header,
                body,
                path: bytes.get(strings..path_end)?.to_vec(),
                argv: bytes.get(path_end..argv_end)?.to_vec(),
            })
        }
        record_kind::FORK => Some(Raw::Fork {
            header,
            body: read(bytes, body_at)?,
        }),
        record_kind::COMM => {
            let body: CommBody = read(bytes, body_at)?;
            Some(Raw::Comm {
                header,
                comm: c_string(&body.comm),
            })
        }
        record_kind::EXIT => {
            let body: ExitBody = read(bytes, body_at)?;
            Some(Raw::Exit {
                header,
                code: body.exit_code,
            })
        }
        _ => None,
    }
}

/// A syscall record's body and the captures after it.
fn syscall_parts(bytes: &[u8]) -> Option<(SyscallBody, &[u8])> {
    if bytes.len() < SYSCALL_RECORD_SIZE as usize {
        return None;
    }
    let body: SyscallBody = read(bytes, HEADER_SIZE as usize)?;
    let data_end = (SYSCALL_RECORD_SIZE as usize).checked_add(body.data_len as usize)?;
    Some((body, bytes.get(SYSCALL_RECORD_SIZE as usize..data_end)?))
}

/// Hands each capture after a syscall body (a header and its bytes, padded to 8) to `f`;
/// None if they do not fit in `data`.
fn each_capture<'a>(mut data: &'a [u8], mut f: impl FnMut(CaptureHeader, &'a [u8])) -> Option<()> {
    while !data.is_empty() {
        let header: CaptureHeader = read(data, 0)?;
        let start = CAPTURE_HEADER_SIZE as usize;
        let end = start.checked_add(header.data_len as usize)?;
        f(header, data.get(start..end)?);
        let padded = end.div_ceil(RECORD_ALIGN as usize) * RECORD_ALIGN as usize;
        data = data.get(padded.min(data.len())..)?;
    }
    Some(())
}

/// The syscall's duration, if the kernel measured one (`record -T`).
fn duration(header: &RecordHeader, body: &SyscallBody) -> Option<u64> {
    (body.entered_ns != 0 && body.entered_ns <= header.ts_ns)
        .then(|| header.ts_ns - body.entered_ns)
}

/// What an exec left for its execve record.
struct ExecDetails {
    path: Vec<u8>,
    argv: Vec<u8>,
    argv_full_len: u32,
}

/// Per-thread state that turns kernel records into file records.
struct Tracker {
    registry: Registry,
    comms: FxHashMap<u32, Vec<u8>>,
    exec_details: FxHashMap<u32, ExecDetails>,
}

/// The name of a thread syscord has not seen named: from /proc while it lives.
fn proc_comm(pid: u32, tid: u32) -> Vec<u8> {
    std::fs::read(format!("/proc/{pid}/task/{tid}/comm"))
        .map(|mut c| {
            while c.last() == Some(&b'\n') {
                c.pop();
            }
            c
        })
        .unwrap_or_default()
}

fn task(cpu: u32, header: &RecordHeader, kind: TaskEventKind) -> Option<Record> {
    Some(Record::Task(TaskEvent {
        cpu,
        seq: header.seq,
        ts_ns: header.ts_ns,
        pid: header.pid,
        tid: header.tid,
        kind,
    }))
}

impl Tracker {
    fn new(registry: Registry) -> Tracker {
        Tracker {
            registry,
            comms: FxHashMap::default(),
            exec_details: FxHashMap::default(),
        }
    }

    /// The handler's name for capture `id` of syscall `nr`.
    fn capture_name(&self, nr: u32, id: u8) -> &'static str {
        const UNNAMED: [&str; MAX_CAPTURES] = ["capture0", "capture1", "capture2", "capture3"];
        self.registry
            .get(nr)
            .and_then(|h| h.captures.get(id as usize))
            .map(|c| c.name)
            .or_else(|| UNNAMED.get(id as usize).copied())
            .unwrap_or("capture")
    }

    /// The names of an exec syscall's path and argv captures.
    fn exec_capture_names(&self, nr: u32) -> (&'static str, &'static str) {
        let handler = self.registry.get(nr);
        let find = |pick: &dyn Fn(&syscord_handlers::Capture) -> bool, fallback: &'static str| {
            handler
                .and_then(|h| h.captures.iter().find(|c| pick(c)))
                .map_or(fallback, |c| c.name)
        };
        (
            find(&|c| c.kind == Kind::CString, "filename"),
            find(&|c| c.role == Role::Exec, "argv"),
        )
    }

    fn comm(&mut self, pid: u32, tid: u32) -> &[u8] {
        self.comms.entry(tid).or_insert_with(|| proc_comm(pid, tid))
    }

    /// Writes the ring record `bytes`; returns its time, or None if it is not a record.
    /// Syscall records, nearly all of them, are encoded straight from the ring: no
    /// allocation, no copy. The others become owned records first.
    fn write(
        &mut self,
        cpu: u32,
        bytes: &[u8],
        writer: &mut OutputThread,
    ) -> io::Result<Option<u64>> {
        let Some(header) = read::<RecordHeader>(bytes, 0) else {
            return Ok(None);
        };
        let syscall = matches!(
            header.kind,
            record_kind::SYSCALL | record_kind::SYSCALL_NO_RETURN
        );
        let exec = u32::from(header.flags) & rule_flags::EXEC != 0
            && self.exec_details.contains_key(&header.tid);
        if !syscall || exec {
            let Some(raw) = parse(bytes) else {
                return Ok(None);
            };
            if let Some(record) = self.process(cpu, raw) {
                writer.push(record)?;
            }
            return Ok(Some(header.ts_ns));
        }
        let Some((body, data)) = syscall_parts(bytes) else {
            return Ok(None);
        };
        let mut captures = [CaptureRef::default(); MAX_CAPTURES];
        let mut count = 0;
        let mut fits = true;
        let parsed = each_capture(data, |c, bytes| match captures.get_mut(count) {
            Some(slot) => {
                *slot = CaptureRef {
                    name: self.capture_name(body.nr, c.id),
                    len: c.orig_len,
                    truncated: c.flags & capture_result::TRUNCATED != 0,
                    bytes,
                };
                count += 1;
            }
            None => fits = false,
        });
        if parsed.is_none() || !fits {
            return Ok(None);
        }
        writer.push_syscall(&SyscallRef {
            returned: header.kind == record_kind::SYSCALL,
            rule_flags: u32::from(header.flags),
            cpu,
            seq: header.seq,
            ts_ns: header.ts_ns,
            pid: header.pid,
            tid: header.tid,
            nr: body.nr,
            ret: body.ret,
            ret_addr: body.ret_addr,
            args: body.args,
            comm: self.comm(header.pid, header.tid),
            captures: &captures[..count],
            duration_ns: duration(&header, &body),
        })?;
        Ok(Some(header.ts_ns))
    }

    fn process(&mut self, cpu: u32, raw: Raw) -> Option<Record> {
        match raw {
            Raw::Syscall {
                header,
                body,
                returned,
                captures: raw_captures,
            } => {
                let flags = u32::from(header.flags);
                let mut captures: Vec<Capture> = raw_captures
                    .into_iter()
                    .map(|c| Capture {
                        name: self.capture_name(body.nr, c.id).to_owned(),
                        len: c.orig_len,
                        truncated: c.flags & capture_result::TRUNCATED != 0,
                        bytes: c.bytes,
                    })
                    .collect();
                if flags & rule_flags::EXEC != 0
                    && let Some(exec) = self.exec_details.remove(&header.tid)
                {
                    let (path_name, argv_name) = self.exec_capture_names(body.nr);
                    captures.retain(|c| c.name != path_name);
                    captures.push(Capture {
                        name: path_name.to_owned(),
                        len: exec.path.len() as u64,
                        truncated: false,
                        bytes: exec.path,
                    });
                    captures.push(Capture {
                        name: argv_name.to_owned(),
                        len: u64::from(exec.argv_full_len),
                        truncated: (exec.argv.len() as u64) < u64::from(exec.argv_full_len),
                        bytes: exec.argv,
                    });
                }
                Some(Record::Syscall(SyscallEvent {
                    returned,
                    rule_flags: flags,
                    cpu,
                    seq: header.seq,
                    ts_ns: header.ts_ns,
                    pid: header.pid,
                    tid: header.tid,
                    nr: body.nr,
                    ret: body.ret,
                    ret_addr: body.ret_addr,
                    args: body.args,
                    comm: self.comm(header.pid, header.tid).to_vec(),
                    captures,
                    duration_ns: duration(&header, &body),
                }))
            }
            Raw::Exec {
                header,
                body,
                path,
                argv,
            } => {
                if body.old_tid != header.tid {
                    self.comms.remove(&body.old_tid);
                }
                self.comms.insert(header.tid, c_string(&body.comm));
                self.exec_details.insert(
                    header.tid,
                    ExecDetails {
                        path: c_string(&path),
                        argv,
                        argv_full_len: body.argv_full_len,
                    },
                );
                task(
                    cpu,
                    &header,
                    TaskEventKind::Exec {
                        old_tid: body.old_tid,
                    },
                )
            }
            Raw::Fork { header, body } => {
                let comm = self.comm(header.pid, header.tid).to_vec();
                self.comms.insert(body.child_tid, comm);
                task(
                    cpu,
                    &header,
                    TaskEventKind::Fork {
                        child_tid: body.child_tid,
                        child_pid: body.child_pid,
                    },
                )
            }
            Raw::Comm { header, comm } => {
                self.comms.insert(header.tid, comm.clone());
                task(cpu, &header, TaskEventKind::Rename { comm })
            }
            Raw::Exit { header, code } => {
                self.comms.remove(&header.tid);
                self.exec_details.remove(&header.tid);
                task(cpu, &header, TaskEventKind::Exit { code })
            }
        }
    }
}

/// A record found in a ring and not yet written. Its bytes stay in the ring until then.
#[derive(Debug, Clone, Copy)]
struct Pending {
    ts_ns: u64,
    position: u64,
    len: u32,
    /// Sequence numbers lost just before this record: the first and how many.
    gap: Option<(u64, u64)>,
}

pub struct Drain {
    rings: Rings,
    writer: OutputThread,
    /// Records found in each CPU's ring, not yet written, in sequence order.
    queues: Vec<VecDeque<Pending>>,
    /// Per CPU: where the next scan of the ring starts.
    scanned: Vec<u64>,
    /// Per CPU: the tail last handed back to the producer.
    released: Vec<u64>,
    /// Last sequence number seen per CPU.
    last_seq: Vec<u64>,
    tracker: Tracker,
    /// Records lost according to sequence gaps.
    gap_lost: u64,
    /// Ring contents that did not parse (never expected: a bug if it happens).
    corrupt: Vec<CorruptRing>,
    unparsed: u64,
    /// Records whose sequence number was not above the last one seen on their CPU.
    out_of_order: u64,
    last_ts: u64,
}

/// How long records may wait in memory before they are written out as a chunk.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

fn boot_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_BOOTTIME)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

impl Drain {
    pub fn new(rings: Rings, writer: OutputThread, registry: Registry) -> Self {
        let cpus = rings.cpus();
        let tails: Vec<u64> = (0..cpus).map(|cpu| rings.tail(cpu)).collect();
        Drain {
            rings,
            writer,
            queues: (0..cpus).map(|_| VecDeque::new()).collect(),
            scanned: tails.clone(),
            released: tails,
            last_seq: vec![0; cpus],
            tracker: Tracker::new(registry),
            gap_lost: 0,
            corrupt: Vec::new(),
            unparsed: 0,
            out_of_order: 0,
            last_ts: 0,
        }
    }

    /// Drains until `stop` is set, then once more: the caller detaches the programs before
    /// setting `stop`, so that last pass sees every record there will ever be.
    pub fn run(
        mut self,
        stop: &AtomicBool,
        idle_sleep: Duration,
        progress: &DrainProgress,
    ) -> io::Result<Self> {
        let mut last_flush = Instant::now();
        let mut last_pass = Instant::now();
        loop {
            let stopping = stop.load(Ordering::Acquire);
            // Taken before reading the rings: every record stamped before it minus the
            // slack is published by the time we look.
            let watermark = boot_ns().saturating_sub(WATERMARK_SLACK_NS);
            let since_last_pass = last_pass.elapsed();
            last_pass = Instant::now();
            let fastest_ring_bytes = self.collect();
            self.release(if stopping { u64::MAX } else { watermark })?;
            progress
                .records
                .store(self.writer.records(), Ordering::Relaxed);
            progress.lost.store(self.gap_lost, Ordering::Relaxed);
            progress
                .bytes
                .store(self.writer.bytes_written(), Ordering::Relaxed);
            if stopping {
                return Ok(self);
            }
            // A slow trickle of records still reaches the file within a second or so, so
            // a recorder killed by SIGKILL loses at most that much.
            if last_flush.elapsed() >= FLUSH_INTERVAL {
                self.writer.flush_chunk()?;
                last_flush = Instant::now();
            }
            let pause = pause_after(
                self.rings.bytes_per_cpu(),
                fastest_ring_bytes,
                since_last_pass,
                idle_sleep,
            );
            if !pause.is_zero() {
                thread::sleep(pause);
            }
        }
    }

    /// Queues every record published in the rings since the last pass; returns the most
    /// bytes one ring held.
    fn collect(&mut self) -> u64 {
        let Drain {
            rings,
            queues,
            scanned,
            last_seq,
            gap_lost,
            out_of_order,
            corrupt,
            ..
        } = self;
        let mut most = 0;
        for cpu in 0..rings.cpus() {
            let queue = &mut queues[cpu];
            let last = &mut last_seq[cpu];
            let (end, bad) = rings.scan(cpu, scanned[cpu], |position, bytes| {
                let Some(header) = read::<RecordHeader>(bytes, 0) else {
                    unreachable!("scan hands over whole records")
                };
                let expected = *last + 1;
                if header.seq < expected {
                    // A number already seen: a record read twice would be a ring bug.
                    // Count it, and keep it out of the file.
                    *out_of_order += 1;
                    return;
                }
                let gap = (header.seq > expected).then(|| {
                    *gap_lost += header.seq - expected;
                    (expected, header.seq - expected)
                });
                *last = header.seq;
                queue.push_back(Pending {
                    ts_ns: header.ts_ns,
                    position,
                    len: header.len,
                    gap,
                });
            });
            most = most.max(end.saturating_sub(scanned[cpu]));
            scanned[cpu] = end;
            corrupt.extend(bad);
        }
        most
    }

    /// Writes, in timestamp order, the queued records stamped at or before `upto`, then
    /// gives their ring space back.
    fn release(&mut self, upto: u64) -> io::Result<()> {
        let mut fronts: BinaryHeap<Reverse<(u64, usize)>> = self
            .queues
            .iter()
            .enumerate()
            .filter_map(|(cpu, q)| q.front().map(|p| Reverse((p.ts_ns, cpu))))
            .collect();
        while let Some(Reverse((ts, cpu))) = fronts.pop() {
            if ts > upto {
                break;
            }
            let pending = self.queues[cpu].pop_front().expect("non-empty queue");
            if let Some(next) = self.queues[cpu].front() {
                fronts.push(Reverse((next.ts_ns, cpu)));
            }
            if let Some((first_seq, count)) = pending.gap {
                self.writer.push(Record::Lost {
                    cpu: cpu as u32,
                    first_seq,
                    count,
                    ts_ns: pending.ts_ns,
                })?;
            }
            let bytes = self.rings.record(cpu, pending.position, pending.len);
            match self.tracker.write(cpu as u32, bytes, &mut self.writer)? {
                Some(ts) => self.last_ts = self.last_ts.max(ts),
                None => self.unparsed += 1,
            }
        }
        for cpu in 0..self.rings.cpus() {
            let tail = self.queues[cpu]
                .front()
                .map_or(self.scanned[cpu], |p| p.position);
            if tail != self.released[cpu] {
                self.rings.release(cpu, tail);
                self.released[cpu] = tail;
            }
        }
        Ok(())
    }

    /// Adds loss markers for events the kernel numbered after the last record seen on each
    /// CPU (lost at the very end).
    pub fn finish_sequences(&mut self) -> io::Result<()> {
        for cpu in 0..self.rings.cpus() {
            let last = self.rings.counters(cpu).seq;
            let expected = self.last_seq[cpu] + 1;
            if last >= expected {
                let count = last - expected + 1;
                self.gap_lost += count;
                self.last_seq[cpu] = last;
                self.writer.push(Record::Lost {
                    cpu: cpu as u32,
                    first_seq: expected,
                    count,
                    ts_ns: self.last_ts,
                })?;
            }
        }
        Ok(())
    }

    pub fn rings(&self) -> &Rings {
        &self.rings
    }

    /// Records lost according to the sequence numbers.
    pub fn gap_lost(&self) -> u64 {
        self.gap_lost
    }

    /// Problems that mean a bug in syscord, not a full ring.
    pub fn anomalies(&self) -> Option<String> {
        if self.corrupt.is_empty() && self.unparsed == 0 && self.out_of_order == 0 {
            return None;
        }
        Some(format!(
            "{} unreadable ring positions {:?}, {} unknown records, {} records out of sequence",
            self.corrupt.len(),
            self.corrupt.first(),
            self.unparsed,
            self.out_of_order
        ))
    }

    /// Waits for the output thread to write everything handed to it.
    pub fn into_output(self) -> io::Result<Output> {
        self.writer.finish()
    }
}

/// How long the drain may sleep after a pass that found `bytes` in the fastest-filling ring
/// (of `ring_bytes`), `elapsed` after the pass before: `idle_sleep` at most, and no longer
/// than that ring takes to fill a quarter at the same rate. A pass has a fixed cost (the
/// merge, a store to each ring's tail, the head's cache line moved to the drain's CPU), so
/// the drain works in batches rather than chasing each record.
fn pause_after(ring_bytes: u64, bytes: u64, elapsed: Duration, idle_sleep: Duration) -> Duration {
    /// Shorter sleeps cost more than they save.
    const MIN_PAUSE: Duration = Duration::from_micros(100);
    if bytes == 0 {
        return idle_sleep;
    }
    let fill_ns = u128::from(ring_bytes / 4) * elapsed.as_nanos() / u128::from(bytes);
    let pause = Duration::from_nanos(u64::try_from(fill_ns).unwrap_or(u64::MAX)).min(idle_sleep);
    if pause < MIN_PAUSE {
        Duration::ZERO
    } else {
        pause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker() -> Tracker {
        Tracker::new(Registry::new(syscord_arch::Arch::X86_64).unwrap())
    }

    fn header(kind: u16, tid: u32, ts: u64) -> RecordHeader {
        RecordHeader {
            len: 0,
            kind,
            flags: 0,
            seq: 1,
            ts_ns: ts,
            pid: 10,
            tid,
        }
    }

    #[test]
    fn children_inherit_names_and_exec_renames() {
        let mut t = tracker();
        t.comms.insert(10, b"parent".to_vec());
        let fork = t.process(
            0,
            Raw::Fork {
                header: header(record_kind::FORK, 10, 1),
                body: ForkBody {
                    child_tid: 11,
                    child_pid: 11,
                },
            },
        );
        assert!(matches!(
            fork,
            Some(Record::Task(TaskEvent {
                kind: TaskEventKind::Fork { child_tid: 11, .. },
                ..
            }))
        ));
        assert_eq!(t.comm(11, 11), b"parent");
        t.process(
            0,
            Raw::Comm {
                header: header(record_kind::COMM, 11, 2),
                comm: b"worker".to_vec(),
            },
        );
        assert_eq!(t.comm(11, 11), b"worker");
    }

    #[test]
    fn execve_gets_the_exec_details() {
        let mut t = tracker();
        let mut comm = [0u8; 16];
        comm[..2].copy_from_slice(b"ls");
        t.process(
            1,
            Raw::Exec {
                header: header(record_kind::EXEC, 10, 5),
                body: ExecBody {
                    old_tid: 10,
                    path_len: 8,
                    argv_len: 6,
                    argv_full_len: 6,
                    _pad: 0,
                    comm,
                },
                path: b"/bin/ls\0".to_vec(),
                argv: b"ls\0-l\0".to_vec(),
            },
        );
        let mut h = header(record_kind::SYSCALL, 10, 6);
        h.flags = rule_flags::EXEC as u16;
        let Some(Record::Syscall(e)) = t.process(
            1,
            Raw::Syscall {
                header: h,
                body: SyscallBody {
                    nr: 59,
                    ..Default::default()
                },
                returned: true,
                captures: vec![],
            },
        ) else {
            panic!("no syscall record")
        };
        assert_eq!(e.comm, b"ls");
        assert_eq!(e.captures[0].bytes, b"/bin/ls");
        assert_eq!(e.captures[1].bytes, b"ls\0-l\0");
        assert!(!e.captures[1].truncated);
    }

    #[test]
    fn the_drain_sleeps_while_the_fastest_ring_fills_a_quarter() {
        const MIB: u64 = 1 << 20;
        let idle = Duration::from_millis(10);
        let ms = Duration::from_millis;
        // Nothing came: the full poll interval.
        assert_eq!(pause_after(32 * MIB, 0, ms(10), idle), idle);
        // 1 MiB in 1 ms into a 32 MiB ring: a quarter takes 8 ms more.
        assert_eq!(pause_after(32 * MIB, MIB, ms(1), idle), ms(8));
        // Slower than that: never beyond the poll interval.
        assert_eq!(pause_after(32 * MIB, MIB, ms(100), idle), idle);
        // A 1 MiB ring filling at 1 GiB/s would be a quarter full within 0.25 ms: under a
        // millisecond the pause scales down, and below 100 us the drain does not sleep.
        assert_eq!(
            pause_after(MIB, MIB, ms(1), idle),
            Duration::from_micros(250)
        );
        assert_eq!(pause_after(MIB, 4 * MIB, ms(1), idle), Duration::ZERO);
    }

    #[test]
    fn short_records_do_not_parse() {
        assert!(parse(&[0u8; 8]).is_none());
        let mut bytes = vec![0u8; 40];
        bytes[4] = record_kind::SYSCALL as u8;
        assert!(parse(&bytes).is_none());
    }
}
