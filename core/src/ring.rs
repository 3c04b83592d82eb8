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

    /// Hands every record published on `cpu` to `f` (header included), then gives their
    /// space back to the producer. Returns how many records were read, or an
    /// error if the ring holds something that is not a record (the ring is then skipped up
    /// to its head, and the caller reports it).
    pub fn consume(&self, cpu: usize, mut f: impl FnMut(&[u8])) -> Result<usize, CorruptRing> {
        let head_field = self.field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).head) });
        let tail_field = self.field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).tail) });
        let head = head_field.load(Ordering::Acquire);
        let mut pos = tail_field.load(Ordering::Relaxed);
        let mut n = 0;
        let mut result = Ok(());
        while pos < head {
            let segment = (pos / SEGMENT_SIZE) % self.segments_per_cpu;
            let offset = pos % SEGMENT_SIZE;
            let base = (cpu as u64 * self.segments_per_cpu + segment) * SEGMENT_BYTES + offset;
            // SAFETY: base + a header lies within the data mapping (offset is 8-aligned and
            // below SEGMENT_SIZE; the segment's guard area follows).
            let header: RecordHeader =
                unsafe { std::ptr::read_unaligned(self.data.as_ptr().add(base as usize).cast()) };
            let len = u64::from(header.len);
            let valid = len >= HEADER_SIZE && len % RECORD_ALIGN == 0 && len <= MAX_RECORD;
            if !valid {
                result = Err(CorruptRing { cpu, position: pos });
                pos = head;
                break;
            }
            // SAFETY: the record lies within its segment and guard area (len checked above).
            let bytes = unsafe {
                std::slice::from_raw_parts(self.data.as_ptr().add(base as usize), len as usize)
            };
            f(bytes);
            n += 1;
            pos = next_position(pos, len);
        }
        tail_field.store(pos, Ordering::Release);
        result.map(|()| n)
    }
}

/// The ring of `cpu` held bytes that were not a record at `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorruptRing {
    pub cpu: usize,
    pub position: u64,
}
