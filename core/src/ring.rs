//! The consumer side of the per-CPU rings (see `syscord_common` for the layout).
//!
//! Both maps are `BPF_F_MMAPABLE` arrays, mapped here once: reading a record is reading
//! memory, with no syscall per record or per batch.

use std::{
    io,
    os::fd::BorrowedFd,
    sync::atomic::{AtomicU64, Ordering},
};

use syscord_common::{
    HEADER_SIZE, MAX_RECORD, RECORD_ALIGN, RecordHeader, RingMeta, SEGMENT_BYTES, SEGMENT_SIZE,
    next_position,
};

use crate::mapping::{Mapping, page_align};

/// Producer-side counters of one CPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuCounters {
    /// Last sequence number handed out.
    pub seq: u64,
    /// Records that found the ring full.
    pub lost: u64,
    pub lost_tasks: u64,
}

/// The per-CPU rings, as the drain sees them.
pub struct Rings {
    meta: Mapping,
    data: Mapping,
    cpus: usize,
    segments_per_cpu: u64,
}

impl Rings {
    pub fn new(
        meta_fd: BorrowedFd<'_>,
        data_fd: BorrowedFd<'_>,
        cpus: usize,
        segments_per_cpu: u64,
    ) -> io::Result<Rings> {
        let meta = Mapping::new(meta_fd, page_align(cpus * size_of::<RingMeta>()))?;
        let data = Mapping::new(
            data_fd,
            cpus * segments_per_cpu as usize * SEGMENT_BYTES as usize,
        )?;
        Ok(Rings {
            meta,
            data,
            cpus,
            segments_per_cpu,
        })
    }

    pub fn cpus(&self) -> usize {
        self.cpus
    }

    fn meta(&self, cpu: usize) -> *mut RingMeta {
        assert!(cpu < self.cpus);
        // SAFETY: in bounds of the meta mapping (cpus entries of 128 bytes).
        unsafe { self.meta.as_ptr().cast::<RingMeta>().add(cpu) }
    }

    fn field(&self, cpu: usize, field: fn(*mut RingMeta) -> *mut u64) -> &AtomicU64 {
        // SAFETY: an aligned u64 inside the mapping, shared with the kernel: access it
        // atomically only.
        unsafe { AtomicU64::from_ptr(field(self.meta(cpu))) }
    }

    pub fn counters(&self, cpu: usize) -> CpuCounters {
        CpuCounters {
            seq: self
                .field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).seq) })
                .load(Ordering::Acquire),
            lost: self
                .field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).lost) })
                .load(Ordering::Acquire),
            lost_tasks: self
                .field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).lost_tasks) })
                .load(Ordering::Acquire),
        }
    }

    /// The size of each CPU's ring.
    pub fn bytes_per_cpu(&self) -> u64 {
        self.segments_per_cpu * SEGMENT_SIZE
    }

    /// Where the consumer stands in `cpu`'s ring.
    pub fn tail(&self, cpu: usize) -> u64 {
        self.field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).tail) })
            .load(Ordering::Relaxed)
    }

    /// Bytes waiting in `cpu`'s ring.
    pub fn pending(&self, cpu: usize) -> u64 {
        let head = self
            .field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).head) })
            .load(Ordering::Acquire);
        let tail = self
            .field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).tail) })
            .load(Ordering::Relaxed);
        head.saturating_sub(tail)
    }

    /// Hands each record published on `cpu` from position `from` on to `f`, with its
    /// position and bytes (header included). The records stay in the ring, readable with
    /// [`Rings::record`], until [`Rings::release`] gives their space back. Returns the
    /// position after the last record, or, if the ring holds something that is not a record,
    /// the head (the rest is skipped) and where that was, for the caller to report.
    pub fn scan(
        &self,
        cpu: usize,
        from: u64,
        mut f: impl FnMut(u64, &[u8]),
    ) -> (u64, Option<CorruptRing>) {
        let head = self
            .field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).head) })
            .load(Ordering::Acquire);
        let mut pos = from;
        while pos < head {
            // SAFETY: base + a header lies within the data mapping (the position is
            // 8-aligned, its offset below SEGMENT_SIZE; the segment's guard area follows).
            let header: RecordHeader =
                unsafe { std::ptr::read_unaligned(self.address(cpu, pos).cast()) };
            let len = u64::from(header.len);
            let valid = len >= HEADER_SIZE && len % RECORD_ALIGN == 0 && len <= MAX_RECORD;
            if !valid {
                return (head, Some(CorruptRing { cpu, position: pos }));
            }
            f(pos, self.record(cpu, pos, len as u32));
            pos = next_position(pos, len);
        }
        (pos, None)
    }

    /// The `len` bytes of the record at `position` of `cpu`'s ring, as [`Rings::scan`] found
    /// it (and not released since).
    pub fn record(&self, cpu: usize, position: u64, len: u32) -> &[u8] {
        assert!(u64::from(len) <= MAX_RECORD);
        // SAFETY: a record lies within its segment and guard area (MAX_RECORD fits there);
        // the producer does not write it again before the tail passes it.
        unsafe { std::slice::from_raw_parts(self.address(cpu, position), len as usize) }
    }

    /// Gives the ring space before `position` back to the producer.
    pub fn release(&self, cpu: usize, position: u64) {
        self.field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).tail) })
            .store(position, Ordering::Release);
    }

    fn address(&self, cpu: usize, position: u64) -> *const u8 {
        assert!(cpu < self.cpus);
        let segment = (position / SEGMENT_SIZE) % self.segments_per_cpu;
        let offset = position % SEGMENT_SIZE;
        let base = (cpu as u64 * self.segments_per_cpu + segment) * SEGMENT_BYTES + offset;
        // SAFETY: below the mapping's size (cpus × segments_per_cpu × SEGMENT_BYTES).
        unsafe { self.data.as_ptr().add(base as usize) }
    }
}

/// The ring of `cpu` held bytes that were not a record at `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorruptRing {
    pub cpu: usize,
    pub position: u64,
}
