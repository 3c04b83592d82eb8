//! The consumer side of the per-CPU rings (see `syscord_common` for the layout).
//!
//! Both maps are `BPF_F_MMAPABLE` arrays, mapped here once: reading a record is reading
//! memory, with no syscall per record or per batch. Why the producer's records are whole
//! when read here, and why a space given back is not written before it is read, on each
//! architecture: `ebpf/program/src/ring.rs`. This side's part is the acquire load of `head`
//! and the release store of `tail`.

use std::{
    io,
    os::fd::{AsFd, BorrowedFd, OwnedFd},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use aya::maps::{MapData, RingBuf};
use nix::{
    poll::{PollFd, PollFlags, PollTimeout, poll},
    sys::eventfd::{EfdFlags, EventFd},
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
    wakeups: Wakeups,
}

/// Bytes of the producers' notice buffer (`RING_WAKE`) for `cpus` rings of
/// `segments_per_cpu` segments: room for twice the notices they can make between two drain
/// passes (one per segment a ring enters, and a ring cannot run more than its size ahead
/// of the drain), 16 bytes each with the kernel's header; a power of two of whole pages,
/// as the kernel wants.
pub fn wake_buffer_bytes(cpus: usize, segments_per_cpu: u64) -> u32 {
    let notices = 2 * (cpus as u64 * segments_per_cpu + cpus as u64);
    page_align((notices * 16) as usize).next_power_of_two() as u32
}

impl Rings {
    pub fn new(
        meta_fd: BorrowedFd<'_>,
        data_fd: BorrowedFd<'_>,
        notices: RingBuf<MapData>,
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
            wakeups: Wakeups::new(notices)?,
        })
    }

    /// A handle that ends an idle drain's wait when recording stops.
    pub fn stopper(&self) -> io::Result<Stopper> {
        self.wakeups.stopper()
    }

    /// What an idle drain waits for; see [`Wakeups`].
    pub fn wakeups(&mut self) -> &mut Wakeups {
        &mut self.wakeups
    }

    /// Whether a ring has room for a segment's notice to wake the drain in time: the
    /// notice comes once a ring has entered its next segment, so at most two of its
    /// segments are in use by then (the one it left and the one it entered).
    pub fn wakes_the_drain(&self) -> bool {
        self.segments_per_cpu >= 4
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

/// What wakes an idle drain: a producer's notice (a CPU's ring entered its next segment,
/// so a segment's worth of records waits) or the recorder stopping. Both are level
/// triggered: an unread notice or a stop makes every wait return at once.
pub struct Wakeups {
    notices: RingBuf<MapData>,
    stop: OwnedFd,
}

impl Wakeups {
    fn new(notices: RingBuf<MapData>) -> io::Result<Wakeups> {
        let stop =
            EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
        Ok(Wakeups {
            notices,
            // As a plain fd: the stopper's copy is a dup of it.
            stop: stop.into(),
        })
    }

    fn stopper(&self) -> io::Result<Stopper> {
        Ok(Stopper(self.stop.try_clone()?))
    }

    /// Reads the notices that have come: the drain does so on every pass, before reading
    /// the heads, so the records they announce are among those it copies and the buffer
    /// never fills.
    pub fn take_notices(&mut self) {
        while self.notices.next().is_some() {}
    }

    /// Sleeps until a notice comes, the recorder stops, or `timeout` has passed.
    pub fn wait(&mut self, timeout: Duration) {
        let mut fds = [
            PollFd::new(self.notices.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.stop.as_fd(), PollFlags::POLLIN),
        ];
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        // EINTR (a signal to the recorder) only ends the wait early.
        let _ = poll(&mut fds, timeout);
    }
}

/// Ends a drain's wait (see [`Rings::stopper`]).
pub struct Stopper(OwnedFd);

impl Stopper {
    pub fn wake(&self) {
        let one = 1u64.to_ne_bytes();
        // An eventfd counter cannot overflow from one write a recording; a failed write
        // leaves the drain to its own deadline.
        let _ = nix::unistd::write(&self.0, &one);
    }
}
