//! Moving records from the per-CPU rings into the record file.
//!
//! The eBPF side never wakes us: the drain polls, and between passes sleeps while the rings
//! fill (see `pause_after`). A pass walks each ring's new records by their lengths only,
//! checks their sequence numbers, copies them as they are into a kernel chunk (runs of
//! whole records, "spans") and gives the ring space back at once. Nothing is decoded,
//! merged, encoded or compressed here: the reader decodes (`format::KernelDecoder`), and
//! a thread of its own compresses the chunks (`compression`).
//!
//! `names` keeps the live threads' names for rotated recordings; `images` finds the
//! build-ids of executables; `pacing` says how long the drain sleeps between passes.

mod images;
mod names;
mod pacing;

use std::{
    io,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::Receiver,
    },
    thread,
    time::{Duration, Instant},
};

use syscord_common::{HEADER_SIZE, RecordHeader, SEGMENT_SIZE, record_kind};
use syscord_recording::format::{KernelChunk, kernel_record_plausible, read_struct};

use self::{
    images::Images,
    names::Names,
    pacing::{idle_sleep_after, pause_after},
};
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
    /// Build-ids of the executables exec'd.
    images: Images,
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
            images: Images::default(),
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
                idle_sleep_after(
                    idle_passes,
                    idle_sleep,
                    self.rings.bytes_per_cpu(),
                    self.rings.wakes_the_drain(),
                ),
            );
            if fastest_ring_bytes == 0 && self.rings.wakes_the_drain() {
                self.rings.wakeups().wait(pause);
            } else if !pause.is_zero() {
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
        self.rings.wakeups().take_notices();
        // Heads first, names second: a thread is marked only after its name was sent, so
        // every record below these heads comes from a thread whose name is now at hand.
        let heads: Vec<u64> = (0..self.rings.cpus()).map(|c| self.rings.head(c)).collect();
        while let Ok(names) = self.initial_names.try_recv() {
            for (pid, tid, comm) in names {
                self.batch.chunk.push_name(pid, tid, &comm);
                if let Some(known) = &mut self.names {
                    known.insert(pid, tid, comm);
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
            images,
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
            if header.kind == record_kind::SYSCALL || header.kind == record_kind::SYSCALL_NO_RETURN
            {
                syscalls += 1;
            } else {
                let bytes = &batch.chunk.bytes_from(at)[walked..walked + len];
                if header.kind == record_kind::EXEC_IMAGE {
                    images.note(&header, bytes);
                }
                if let Some(names) = names {
                    names.note(&header, bytes);
                }
            }
            records += 1;
            walked += len;
        }
        batch.chunk.close_span(at, walked, records, syscalls);
        images.write_into(&mut batch.chunk);
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
