//! This CPU's ring: reserve room for a record, fill it in place, publish it.
//!
//! Single producer per CPU (tracepoint programs never nest on one CPU), single consumer (the
//! drain). Positions only grow; `head - tail` bytes are in flight.

use aya_ebpf::{
    bindings::BPF_F_MMAPABLE,
    helpers::{bpf_get_current_task_btf, bpf_ktime_get_boot_ns},
    macros::map,
    maps::Array,
};
use syscord_common::{
    HEADER_SIZE, RECORD_ALIGN, RecordHeader, RingMeta, SEGMENT_BYTES, SEGMENT_GUARD, SEGMENT_SIZE,
    next_position,
};

use crate::config;

/// One segment of a CPU's ring, and its guard area.
#[repr(C)]
pub struct Segment([u8; SEGMENT_BYTES as usize]);

/// Positions and counters, one entry per CPU. Sized by userspace.
#[map]
static RING_META: Array<RingMeta> = Array::with_max_entries(1, BPF_F_MMAPABLE);

/// Ring memory: entry `cpu * segments_per_cpu + segment`. Sized by userspace.
#[map]
static RING_DATA: Array<Segment> = Array::with_max_entries(1, BPF_F_MMAPABLE);

/// Room for one record in this CPU's ring, not yet visible to the drain.
pub struct Slot {
    meta: *mut RingMeta,
    record: *mut u8,
    start: u64,
    seq: u64,
}

/// Publishes `value` as the new head: the record's bytes must be visible before the head
/// that covers them.
///
/// x86 keeps stores in program order, so a plain store (after a compiler fence) is a release
/// store; a locked instruction there would also wait for every cache miss of the record to
/// complete, which measured as most of the cost of a record. arm64 and riscv64 reorder stores,
/// and BPF has no release store before kernel 6.16, so there the head moves with an atomic
/// exchange, a full barrier on both JITs (swpal or a fenced ll/sc loop; amoswap.aqrl).
#[inline(always)]
fn publish(head: *mut u64, value: u64) {
    #[cfg(bpf_target_arch = "x86_64")]
    // SAFETY: `head` points into this CPU's RingMeta.
    unsafe {
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::Release);
        core::ptr::write_volatile(head, value);
    }
    #[cfg(not(bpf_target_arch = "x86_64"))]
    // SAFETY: `head` points into this CPU's RingMeta.
    unsafe {
        core::intrinsics::atomic_xchg::<u64, { core::intrinsics::AtomicOrdering::SeqCst }>(
            head, value,
        );
    }
}

/// The CPU this program runs on, from the current task: where the ring is that nothing
/// else writes while the program runs. Not `bpf_get_smp_processor_id`, which on the riscv64
/// guest's kernel (6.12) answered 0 on CPU 1 as well, so that both CPUs wrote ring 0 at
/// once (a process pinned to CPU 1 with taskset was recorded as on CPU 0, and a syscall
/// storm left records written over each other).
#[inline(always)]
fn this_cpu() -> u32 {
    // SAFETY: the current task, valid for the whole program; the offset comes from the
    // running kernel's BTF, and the verifier checks the load against it.
    unsafe {
        let task = bpf_get_current_task_btf() as *const u8;
        *(task.add(config!(task_cpu) as usize) as *const u32)
    }
}

#[inline(always)]
fn segment(cpu: u32, position: u64) -> Option<*mut u8> {
    let per_cpu: u32 = config!(segments_per_cpu);
    let index = cpu * per_cpu + ((position / SEGMENT_SIZE) as u32 & (per_cpu - 1));
    RING_DATA.get_ptr_mut(index).map(|s| s as *mut u8)
}

/// Reserves room for a record of at most `MAX` bytes (a multiple of 8), or counts it lost.
/// Every call takes a sequence number, so lost records leave a gap the drain can see.
#[inline(always)]
pub fn reserve<const MAX: u64>() -> Option<Slot> {
    const { assert!(MAX <= SEGMENT_GUARD) };
    let (cpu, meta) = this_meta()?;
    // SAFETY: `meta` is this CPU's RingMeta; only this CPU's programs write its producer
    // fields, and never two at once.
    unsafe {
        let seq = (*meta).seq + 1;
        (*meta).seq = seq;
        let head = (*meta).head;
        let ring_size = u64::from(config!(segments_per_cpu)) * SEGMENT_SIZE;
        // A record consumes at most its length in positions (less when it runs into the
        // guard area).
        if head + MAX - (*meta).tail_seen > ring_size {
            let tail = core::ptr::read_volatile(&(*meta).tail);
            (*meta).tail_seen = tail;
            if head + MAX - tail > ring_size {
                (*meta).lost += 1;
                return None;
            }
        }
        slot_at::<MAX>(cpu, meta, head, seq)
    }
}

/// The reservation that `reserve` made in this program run, for a program it tail-calls:
/// the head has not moved (only `commit` moves it), and nothing else writes this CPU's
/// ring until the record is committed.
#[inline(always)]
pub fn resume<const MAX: u64>() -> Option<Slot> {
    const { assert!(MAX <= SEGMENT_GUARD) };
    let (cpu, meta) = this_meta()?;
    // SAFETY: `meta` is this CPU's RingMeta; see `reserve`.
    unsafe { slot_at::<MAX>(cpu, meta, (*meta).head, (*meta).seq) }
}

/// This CPU and its RingMeta.
#[inline(always)]
fn this_meta() -> Option<(u32, *mut RingMeta)> {
    let cpu = this_cpu();
    if cpu >= config!(cpus) {
        return None;
    }
    Some((cpu, RING_META.get_ptr_mut(cpu)?))
}

#[inline(always)]
fn slot_at<const MAX: u64>(cpu: u32, meta: *mut RingMeta, head: u64, seq: u64) -> Option<Slot> {
    // Positions are 8-aligned; the mask also tells the verifier the offset is at most
    // SEGMENT_SIZE - 8, so MAX more bytes stay inside the segment and its guard.
    let offset = head & (SEGMENT_SIZE - RECORD_ALIGN);
    // SAFETY: within the segment and its guard, as above.
    let record = unsafe { segment(cpu, head)?.add(offset as usize) };
    Some(Slot {
        meta,
        record,
        start: head,
        seq,
    })
}

/// Counts a child of a traced thread that could not be followed.
#[inline(always)]
pub fn count_lost_task() {
    if let Some((_, meta)) = this_meta() {
        // SAFETY: this CPU's producer fields; see `reserve`.
        unsafe { (*meta).lost_tasks += 1 };
    }
}

impl Slot {
    /// Writes the common header. `len` is the record's final length.
    #[inline(always)]
    pub fn header(&self, len: u64, kind: u16, flags: u32, pid_tgid: u64) {
        let h = self.record as *mut RecordHeader;
        // SAFETY: the slot holds at least a header.
        unsafe {
            (*h).len = align(len) as u32;
            (*h).kind = kind;
            (*h).flags = flags as u16;
            (*h).seq = self.seq;
            (*h).ts_ns = bpf_ktime_get_boot_ns();
            (*h).pid = (pid_tgid >> 32) as u32;
            (*h).tid = pid_tgid as u32;
        }
    }

    /// The body after the header.
    #[inline(always)]
    pub fn body<T>(&self) -> *mut T {
        // SAFETY: within the reservation.
        unsafe { self.record.add(HEADER_SIZE as usize) as *mut T }
    }

    /// The bytes after a body of type `T`.
    #[inline(always)]
    pub fn after<T>(&self) -> *mut u8 {
        // SAFETY: within the reservation.
        unsafe {
            self.record
                .add(HEADER_SIZE as usize + core::mem::size_of::<T>())
        }
    }

    /// The start of the record.
    #[inline(always)]
    pub fn record(&self) -> *mut u8 {
        self.record
    }

    /// Makes the record (`len` bytes, at most the reserved size) visible to the drain.
    #[inline(always)]
    pub fn commit(self, len: u64) {
        // SAFETY: `meta` is this CPU's RingMeta.
        publish(
            unsafe { core::ptr::addr_of_mut!((*self.meta).head) },
            next_position(self.start, align(len)),
        );
    }
}

#[inline(always)]
pub const fn align(len: u64) -> u64 {
    (len + RECORD_ALIGN - 1) & !(RECORD_ALIGN - 1)
}
