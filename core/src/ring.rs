//! The consumer side of the per-CPU rings (see `syscord_common` for the layout).
//!
//! Both maps are `BPF_F_MMAPABLE` arrays, mapped here once: reading a record is reading
//! memory, with no syscall per record or per batch. Why the producer's records are whole
//! when read here, and why a space given back is not written before it is read, on each
//! architecture: `ebpf/program/src/ring.rs`. This side's part is the acquire load of `head`
//! and the release store of `tail`.

use std::{
    io,
    os::fd::BorrowedFd,
    sync::atomic::{AtomicU64, Ordering},
};

use syscord_common::{RingMeta, SEGMENT_BYTES, SEGMENT_SIZE};

use crate::mapping::{Mapping, page_align};

/// Producer-side counters of one CPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuCounters {
    /// Last sequence number handed out.
    pub seq: u64,
    /// Records that found the ring full.
    pub lost: u64,
    pub lost_tasks: u64,
    /// Events that found the ring held by a program they preempted (no sequence number).
    pub lost_busy: u64,
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
            lost_busy: self
                .field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).lost_busy) })
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

    /// End of the records published in `cpu`'s ring: they are all readable below it.
    pub fn head(&self, cpu: usize) -> u64 {
        // Acquire: pairs with the producer's publishing store (or exchange), so the records
        // below the head are visible in full.
        self.field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).head) })
            .load(Ordering::Acquire)
    }

    /// The memory of `cpu`'s ring from `position` to the end of its segment's guard area:
    /// where the records that start in this segment from `position` on lie.
    pub fn rest_of_segment(&self, cpu: usize, position: u64) -> &[u8] {
        let len = SEGMENT_BYTES - position % SEGMENT_SIZE;
        // SAFETY: within one segment's memory. The producer writes only past the head and
        // before the tail; the caller reads only records below the head.
        unsafe { std::slice::from_raw_parts(self.address(cpu, position), len as usize) }
    }

    /// Gives the ring space before `position` back to the producer.
    pub fn release(&self, cpu: usize, position: u64) {
        self.field(cpu, |m| unsafe { std::ptr::addr_of_mut!((*m).tail) })
            .store(position, Ordering::Release);
    }

    fn address(&self, cpu: usize, position: u64) -> *const u8 {
        assert!(cpu < self.cpus);
        // segments_per_cpu is a power of two.
        let segment = (position / SEGMENT_SIZE) & (self.segments_per_cpu - 1);
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
