//! Moving records from the per-CPU rings into the record file.
//!
//! The eBPF side never wakes us: the drain polls, and between passes sleeps while the rings
//! fill (see `pause_after`). A pass walks each ring's new records by their lengths only,
//! checks their sequence numbers, copies them as they are into a kernel chunk (runs of
//! whole records, "spans") and gives the ring space back at once. Nothing is decoded,
//! merged, encoded or compressed here: the reader decodes (`format::KernelDecoder`), and
//! a thread of its own compresses the chunks (`compression`).

use std::{
    io,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::Receiver,
    },
    thread,
    time::{Duration, Instant},
};

use rustc_hash::FxHashMap;
use syscord_common::{
    CommBody, ExecBody, ForkBody, HEADER_SIZE, RecordHeader, SEGMENT_SIZE, record_kind,
};
use syscord_recording::format::{KernelChunk, c_string, kernel_record_plausible, read_struct};

use crate::{
    output::{Batch, OutputThread, ThreadName},
    ring::{CorruptRing, Rings},
};

/// Live figures, readable from other threads while the drain runs.
#[derive(Debug, Default)]
pub struct DrainProgress {
    pub records: AtomicU64,
    pub lost: AtomicU64,
    pub bytes: AtomicU64,
}

/// Bytes of kernel records gathered before a chunk goes to the output thread.
const CHUNK_TARGET: usize = 1 << 20;
/// A chunk's room: the target, and the segment a last copy may bring beyond it.
const CHUNK_CAPACITY: usize = CHUNK_TARGET + SEGMENT_SIZE as usize;

/// How far behind the pass's start its watermark stays: a record is published within
/// microseconds of taking its timestamp (the program cannot be preempted), so after this
/// long none older can still appear, but on a virtual CPU descheduled in between.
const WATERMARK_SLACK_NS: u64 = 2_000_000;

fn boot_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// How long records may wait in memory before they are written out as a chunk.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// The names of the live recorded threads, kept only for rotated recordings: each part
/// starts with them, so that a part read without the ones before it names its threads.
/// Updated from the rare records (forks, execs, renames, exits), never per syscall.
#[derive(Default)]
struct Names {
    by_tid: FxHashMap<u32, (u32, Vec<u8>)>,
    changed: bool,
}

impl Names {
    fn note(&mut self, header: &RecordHeader, bytes: &[u8]) {
        let body = HEADER_SIZE as usize;
        match header.kind {
            record_kind::FORK => {
                if let Some(fork) = read_struct::<ForkBody>(bytes, body)
                    && let Some((_, comm)) = self.by_tid.get(&header.tid).cloned()
                {
                    self.by_tid.insert(fork.child_tid, (fork.child_pid, comm));
                }
            }
            record_kind::COMM => {
                if let Some(c) = read_struct::<CommBody>(bytes, body) {
                    self.by_tid
                        .insert(header.tid, (header.pid, c_string(&c.comm)));
                }
            }
            record_kind::EXEC => {
                if let Some(e) = read_struct::<ExecBody>(bytes, body) {
                    self.by_tid.remove(&e.old_tid);
                    self.by_tid
                        .insert(header.tid, (header.pid, c_string(&e.comm)));
                }
            }
            record_kind::EXIT => {
                self.by_tid.remove(&header.tid);
            }
            _ => return,
        }
        self.changed = true;
    }

    fn snapshot(&mut self) -> Option<Vec<ThreadName>> {
        if !self.changed {
            return None;
        }
        self.changed = false;
        Some(
            self.by_tid
                .iter()
                .map(|(&tid, (pid, comm))| (*pid, tid, comm.clone()))
                .collect(),
        )
    }
}

pub struct Drain {
    rings: Rings,
    writer: OutputThread,
    /// Per CPU: where the next pass starts (everything before it is handed back).
    tails: Vec<u64>,
    /// Last sequence number seen per CPU.
    last_seq: Vec<u64>,
    batch: Batch,
    /// Names of threads that were running when recording started, read from /proc by
    /// the thread that marks them, before it marks them.
    initial_names: Receiver<Vec<ThreadName>>,
    names: Option<Names>,
    /// Records lost according to sequence gaps.
    gap_lost: u64,
    /// Ring contents that were not a record (never expected: a bug if it happens).
    corrupt: Vec<CorruptRing>,
    /// Records whose sequence number was not above the last one seen on their CPU.
    out_of_order: u64,
}

impl Drain {
    /// `rotating`: whether the recording is split into parts, each of which must name the
    /// threads it starts with.
    pub fn new(
        rings: Rings,
        writer: OutputThread,
        initial_names: Receiver<Vec<ThreadName>>,
        rotating: bool,
    ) -> io::Result<Self> {
        let cpus = rings.cpus();
        let chunk = writer.new_chunk(CHUNK_CAPACITY);
        let tails: Vec<u64> = (0..cpus).map(|cpu| rings.tail(cpu)).collect();
        Ok(Drain {
            rings,
            writer,
            tails,
            last_seq: vec![0; cpus],
            batch: Batch {
                chunk,
                ..Default::default()
            },
            initial_names,
            names: rotating.then(Names::default),
            gap_lost: 0,
            corrupt: Vec::new(),
            out_of_order: 0,
        })
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
        let mut idle_passes = 0u32;
        loop {
            let stopping = stop.load(Ordering::Acquire);
            let since_last_pass = last_pass.elapsed();
            last_pass = Instant::now();
            let fastest_ring_bytes = self.pass()?;
            // A slow trickle of records still reaches the file within a second or so, so
            // a recorder killed by SIGKILL loses at most that much.
            if stopping || last_flush.elapsed() >= FLUSH_INTERVAL {
                self.send()?;
                last_flush = Instant::now();
            }
            progress.records.store(
                self.writer.records() + self.batch.chunk.syscalls(),
                Ordering::Relaxed,
            );
            progress.lost.store(self.gap_lost, Ordering::Relaxed);
            progress
                .bytes
                .store(self.writer.bytes_written(), Ordering::Relaxed);
            if stopping {
                return Ok(self);
            }
            idle_passes = if fastest_ring_bytes == 0 {
                idle_passes.saturating_add(1)
            } else {
                0
            };
            let pause = pause_after(
                self.rings.bytes_per_cpu(),
                fastest_ring_bytes,
                since_last_pass,
                idle_sleep_after(idle_passes, idle_sleep, self.rings.bytes_per_cpu()),
            );
            if !pause.is_zero() {
                thread::sleep(pause);
            }
        }
    }

    /// Copies every record published since the last pass into the batch and gives the
    /// ring space back; returns the most bytes one ring held.
    fn pass(&mut self) -> io::Result<u64> {
        // Before the heads: a record stamped before this (less the slack) is published by
        // the time they are read, so this pass copies it if no earlier one did.
        let watermark = boot_ns().saturating_sub(WATERMARK_SLACK_NS);
        // Heads first, names second: a thread is marked only after its name was sent, so
        // every record below these heads comes from a thread whose name is now at hand.
        let heads: Vec<u64> = (0..self.rings.cpus()).map(|c| self.rings.head(c)).collect();
        while let Ok(names) = self.initial_names.try_recv() {
            for (pid, tid, comm) in names {
                self.batch.chunk.push_name(pid, tid, &comm);
                if let Some(known) = &mut self.names {
                    known.by_tid.insert(tid, (pid, comm));
                    known.changed = true;
                }
            }
        }
        let mut most = 0;
        for (cpu, &head) in heads.iter().enumerate() {
            most = most.max(self.copy(cpu, head)?);
        }
        // The reader hands records out in time order up to here. Only after records: an
        // idle recording writes nothing.
        if most > 0 {
            self.batch.chunk.push_watermark(watermark);
        }
        Ok(most)
    }

    /// Copies `cpu`'s records from its tail up to `head` into the batch, a span per ring
    /// segment, and hands the space back; returns how many bytes that was.
    ///
    /// The bytes are copied first and walked after, in the copy: walking the ring itself
    /// is a chain of dependent loads (each record's length says where the next starts),
    /// each a cache miss on memory the producing CPU just wrote, and measured as most of
    /// the drain's cost. A segment's records are contiguous from where the pass starts to
    /// the segment's end (or the head), the last one possibly reaching into the guard area,
    /// so that much can be copied before anything is read.
    fn copy(&mut self, cpu: usize, head: u64) -> io::Result<u64> {
        let start = self.tails[cpu];
        let mut pos = start;
        while pos < head {
            let segment_end = pos - pos % SEGMENT_SIZE + SEGMENT_SIZE;
            let limit = head.min(segment_end);
            // Chunks stay near their target size: a full disk keeps all but the last.
            let budget = CHUNK_TARGET.saturating_sub(self.batch.chunk.len()).max(1);
            pos = match self.copy_segment(cpu, pos, limit, budget) {
                // The records reached the segment's end (the last one perhaps beyond):
                // the next one starts in the next segment.
                Some(end) if end >= segment_end => segment_end,
                // The head, or as far as the chunk had room for.
                Some(end) => end,
                // Not a record: skip what is left (a bug in syscord if it happens).
                None => {
                    self.corrupt.push(CorruptRing { cpu, position: pos });
                    head
                }
            };
            if self.batch.chunk.len() >= CHUNK_TARGET {
                self.send()?;
            }
        }
        // Everything up to the head is copied (or, past a corrupt record, skipped).
        self.tails[cpu] = head;
        if head != start {
            self.rings.release(cpu, head);
        }
        Ok(head - start)
    }

    /// Copies the records of one segment of `cpu`'s ring that start at `pos` and before
    /// `limit` (the head, or the segment's end) into the batch as a span, stopping after
    /// `budget` bytes. Returns the position after the last record copied (past `limit` when
    /// it reaches into the guard area), or None at the first bytes that are not a record
    /// (the records before it are kept).
    fn copy_segment(&mut self, cpu: usize, pos: u64, limit: u64, budget: usize) -> Option<u64> {
        /// Bytes copied ahead of the walk: small enough to be walked while in cache.
        const PIECE: usize = 64 << 10;
        let Drain {
            rings,
            batch,
            last_seq,
            gap_lost,
            out_of_order,
            names,
            ..
        } = self;
        let memory = rings.rest_of_segment(cpu, pos);
        let want = (limit - pos) as usize;
        let at = batch.chunk.open_span(cpu as u32);
        let mut copied = 0usize;
        let mut walked = 0usize;
        let mut records = 0u32;
        let mut syscalls = 0u64;
        // Copies at least up to `need` (in pieces, up to `want`); false if the segment's
        // memory ends before.
        let ensure = |chunk: &mut KernelChunk, copied: &mut usize, need: usize| {
            if need > *copied {
                let to = need
                    .max((*copied + PIECE).min(want).min(budget))
                    .min(memory.len());
                chunk.extend(&memory[*copied..to]);
                *copied = to;
            }
            *copied >= need
        };
        let mut valid = true;
        while walked < want && walked < budget {
            if !ensure(&mut batch.chunk, &mut copied, walked + HEADER_SIZE as usize) {
                valid = false;
                break;
            }
            let header: RecordHeader =
                read_struct(batch.chunk.bytes_from(at), walked).expect("the header was copied");
            let len = header.len as usize;
            if !kernel_record_plausible(&header)
                || !ensure(&mut batch.chunk, &mut copied, walked + len)
            {
                valid = false;
                break;
            }
            let last = &mut last_seq[cpu];
            if header.seq <= *last {
                *out_of_order += 1;
            } else if header.seq > *last + 1 {
                let missing = header.seq - *last - 1;
                *gap_lost += missing;
                batch.learnt.lost_per_cpu.push((cpu as u32, missing));
            }
            *last = (*last).max(header.seq);
            if header.kind == record_kind::SYSCALL {
                syscalls += 1;
            } else if let Some(names) = names {
                names.note(&header, &batch.chunk.bytes_from(at)[walked..walked + len]);
            }
            records += 1;
            walked += len;
        }
        batch.chunk.close_span(at, walked, records, syscalls);
        valid.then_some(pos + walked as u64)
    }

    /// Hands the batch to the output thread, if it holds anything.
    fn send(&mut self) -> io::Result<()> {
        if self.batch.chunk.is_empty() {
            return Ok(());
        }
        let names = self.names.as_mut().and_then(Names::snapshot);
        let mut batch = std::mem::replace(
            &mut self.batch,
            Batch {
                chunk: self.writer.new_chunk(CHUNK_CAPACITY),
                ..Default::default()
            },
        );
        batch.learnt.names = names;
        self.writer.send(batch)
    }

    /// Per CPU, the last sequence number the kernel gave out; the numbers after the last
    /// record seen are counted as lost (at the very end, the ring was full).
    pub fn finish_sequences(&mut self) -> Vec<u64> {
        (0..self.rings.cpus())
            .map(|cpu| {
                let last = self.rings.counters(cpu).seq;
                if last > self.last_seq[cpu] {
                    self.gap_lost += last - self.last_seq[cpu];
                    self.last_seq[cpu] = last;
                }
                last
            })
            .collect()
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
        if self.corrupt.is_empty() && self.out_of_order == 0 {
            return None;
        }
        Some(format!(
            "{} unreadable ring positions {:?}, {} records out of sequence",
            self.corrupt.len(),
            self.corrupt.first(),
            self.out_of_order
        ))
    }

    /// Waits for the output thread to write everything handed to it.
    pub fn into_output(self) -> io::Result<crate::output::Output> {
        self.writer.finish()
    }
}

/// A ring filling this fast (bytes a second) is what the longer idle sleeps leave room for:
/// about what one CPU making getppid calls as fast as it can writes, with margin.
const BURST_RATE: u64 = 512 << 20;

/// The drain's sleep when every ring was empty the last `idle_passes` passes in a row:
/// `idle_sleep`, doubled for each such pass after the first up to four times as long, but
/// never longer than a burst at BURST_RATE takes to fill half a ring of `ring_bytes`. An
/// idle recording with the default rings (32 MiB a CPU on two CPUs) then wakes the drain
/// 32 times a second instead of 100.
fn idle_sleep_after(idle_passes: u32, idle_sleep: Duration, ring_bytes: u64) -> Duration {
    let longest = Duration::from_nanos(ring_bytes / 2 * 1_000_000_000 / BURST_RATE);
    let backed_off = idle_sleep * (1 << idle_passes.saturating_sub(1).min(2));
    backed_off.min(longest).max(idle_sleep)
}

/// How long the drain may sleep after a pass that found `bytes` in the fastest-filling ring
/// (of `ring_bytes`), `elapsed` after the pass before: `idle_sleep` at most, and no longer
/// than that ring takes to fill a quarter at the same rate. A pass has a fixed cost (a store
/// to each ring's tail, the head's cache line moved to the drain's CPU), so the drain works
/// in batches rather than chasing each record.
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
    fn an_idle_drain_sleeps_longer_as_far_as_the_ring_allows() {
        const MIB: u64 = 1 << 20;
        let ms = Duration::from_millis;
        // Half of 32 MiB fills in 31.25 ms at BURST_RATE.
        let sleeps: Vec<_> = (0..5)
            .map(|n| idle_sleep_after(n, ms(10), 32 * MIB))
            .collect();
        let ring_bound = Duration::from_micros(31_250);
        assert_eq!(sleeps, [ms(10), ms(10), ms(20), ring_bound, ring_bound]);
        // Half of 8 MiB (64 MiB over 8 CPUs) fills in 7.8 ms.
        assert_eq!(
            idle_sleep_after(10, ms(5), 8 * MIB),
            Duration::from_nanos(7_812_500)
        );
        // Half of 2 MiB fills in 2 ms: never shorter than the poll interval asked for.
        assert_eq!(idle_sleep_after(10, ms(10), 2 * MIB), ms(10));
    }

    #[test]
    fn names_follow_forks_execs_renames_and_exits() {
        let mut names = Names::default();
        names.by_tid.insert(10, (10, b"parent".to_vec()));
        let header = |kind, tid| RecordHeader {
            kind,
            tid,
            pid: tid,
            ..Default::default()
        };
        let with_body = |h: RecordHeader, body: &[u8]| {
            let mut bytes = vec![0u8; HEADER_SIZE as usize];
            bytes.extend_from_slice(body);
            (h, bytes)
        };
        let fork = ForkBody {
            child_tid: 11,
            child_pid: 11,
        };
        // SAFETY: plain repr(C) structs viewed as bytes.
        let as_bytes = |p: *const u8, n: usize| unsafe { std::slice::from_raw_parts(p, n) };
        let (h, b) = with_body(
            header(record_kind::FORK, 10),
            as_bytes((&fork as *const ForkBody).cast(), size_of::<ForkBody>()),
        );
        names.note(&h, &b);
        assert_eq!(names.by_tid[&11].1, b"parent");
        let mut comm = CommBody::default();
        comm.comm[..6].copy_from_slice(b"worker");
        let (h, b) = with_body(
            header(record_kind::COMM, 11),
            as_bytes((&comm as *const CommBody).cast(), size_of::<CommBody>()),
        );
        names.note(&h, &b);
        assert_eq!(names.by_tid[&11].1, b"worker");
        let snapshot = names.snapshot().expect("changed");
        assert_eq!(snapshot.len(), 2);
        assert!(names.snapshot().is_none(), "unchanged since");
        let (h, b) = with_body(header(record_kind::EXIT, 11), &[0; 8]);
        names.note(&h, &b);
        assert!(!names.by_tid.contains_key(&11));
    }
}
