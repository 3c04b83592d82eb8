//! This CPU's ring: reserve room for a record, fill it in place, publish it.
//!
//! One producer at a time per CPU, one consumer (the drain). Positions only grow;
//! `head - tail` bytes are in flight.
//!
//! # Why the two sides agree, per architecture
//!
//! Producer (here), in program order: (1) take the ring (`busy`); (2) read `tail` (or the
//! copy in `tail_seen`) and compare it with `head`; (3) write the record's bytes past
//! `head`; (4) store the new `head` (`publish`); (5) give the ring back; (6) when the head
//! entered the next segment, a notice in `RING_WAKE` for an idle drain (the drain reads
//! notices before heads, and a notice is sent after its head, so it announces nothing
//! the drain could miss).
//! Consumer (`core/src/ring.rs`): (a) load `head` with acquire; (b) read the records below
//! it; (c) store the new `tail` with release.
//!
//! - **Records are whole when read**: (3) before (4) on the producer side, (a) before (b) on
//!   the consumer side. x86_64 keeps stores in order (TSO), so (4) is a plain store after a
//!   compiler fence. arm64 and riscv64 may make (4) visible before (3); there (4) is BPF's
//!   store-release where the kernel has it (`stlr`; `fence rw,w` then `sd`), and elsewhere
//!   an atomic exchange, which their BPF JITs emit as a fully ordered instruction (`swpal`,
//!   or a loop between `dmb ish`; `amoswap.d.aqrl`): either way every earlier store is
//!   visible first. The
//!   consumer's acquire load (`ldar`; `ld` then `fence r,rw`; a plain `mov` on x86) keeps
//!   (b) after (a).
//! - **Space is reused only once read**: the consumer's (b) before (c) is its release store
//!   (`stlr`; `fence rw,w` then `sd`; a plain store on x86). On the producer side (3) is
//!   ordered after the load (2) it depends on: the stores sit behind a branch on the loaded
//!   value, and arm64 and riscv64 (RVWMO's rule for control dependencies) never make a
//!   store visible before a load that decides whether it runs. A `tail_seen` copy is older
//!   still: the load it was copied from came before an earlier (4), a full barrier.
//! - **One producer at a time**: two programs never write one CPU's ring at once, since
//!   programs are bound to their CPU (migration off) and `busy` admits one reservation until
//!   its commit. Most kernels also run the programs with preemption off, so they never even
//!   interleave; PREEMPT_RT kernels and the syscall tracepoints of 7.x do not (Debian's 7.3
//!   rt kernel on arm64 corrupted a record before `busy` existed). The compare-and-exchange
//!   that takes `busy` is a single instruction on all three (`lock cmpxchg`, `casal` or an
//!   ll/sc loop, `amocas` or lr/sc): a program preempted there either holds the ring or
//!   does not.

use aya_ebpf::{
    bindings::{BPF_F_MMAPABLE, BPF_RB_FORCE_WAKEUP},
    helpers::{bpf_get_current_task_btf, bpf_ktime_get_boot_ns},
    macros::map,
    maps::{Array, RingBuf},
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

/// Wake-ups for the drain: a CPU's number each time a record it commits takes its ring into
/// the next segment. An idle drain waits for these (and its flush deadline) instead of
/// polling the rings, and wakes with most of a ring still free. Sized by userspace, which
/// reads the notices on every pass so the buffer never fills.
#[map]
static RING_WAKE: RingBuf = RingBuf::with_byte_size(4096, 0);

/// Room for one record in this CPU's ring, not yet visible to the drain.
pub struct Slot {
    meta: *mut RingMeta,
    record: *mut u8,
    start: u64,
    seq: u64,
    cpu: u32,
}

/// Publishes `value` as the new head: the record's bytes must be visible before the head
/// that covers them.
///
/// x86 keeps stores in program order, so a plain store (after a compiler fence) is a release
/// store; a locked instruction there would also wait for every cache miss of the record to
/// complete, which measured as most of the cost of a record. arm64 and riscv64 reorder stores.
/// Where the kernel takes BPF's store-release (6.15 on arm64, 6.16 on riscv64; userspace
/// probes it and sets `store_release`), the head moves with it (`stlr`; `fence rw,w` then
/// `sd`). Older kernels would reject the instruction, but the verifier only checks the branch
/// the read-only `CONFIG` selects and turns the other into dead code; there the head moves
/// with an atomic exchange, a full barrier on both JITs (swpal or a fenced ll/sc loop;
/// amoswap.aqrl).
#[inline(always)]
fn publish(head: *mut u64, value: u64) {
    #[cfg(bpf_target_arch = "x86_64")]
    // SAFETY: `head` points into this CPU's RingMeta.
    unsafe {
        core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::Release);
        core::ptr::write_volatile(head, value);
    }
    #[cfg(not(bpf_target_arch = "x86_64"))]
    if config!(store_release) != 0 {
        // SAFETY: `head` points into this CPU's RingMeta. The assembler spells the
        // instruction out: rustc's bpf target (cpu v3) would lower a release store to a
        // plain one.
        unsafe {
            core::arch::asm!(
                "store_release((u64 *)({head} + 0), {value})",
                head = in(reg) head,
                value = in(reg) value,
                options(nostack, preserves_flags),
            );
        }
    } else {
        // SAFETY: `head` points into this CPU's RingMeta.
        unsafe {
            core::intrinsics::atomic_xchg::<u64, { core::intrinsics::AtomicOrdering::SeqCst }>(
                head, value,
            );
        }
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
    // SAFETY: `meta` is this CPU's RingMeta. Its producer fields are written only by this
    // CPU's programs, and only by the one that holds `busy`.
    unsafe {
        if !take_busy(meta) {
            return None;
        }
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
                give_busy(meta);
                return None;
            }
        }
        let slot = slot_at::<MAX>(cpu, meta, head, seq);
        if slot.is_none() {
            give_busy(meta);
        }
        slot
    }
}

/// Takes this CPU's ring for one reservation, or counts the event lost if a program this
/// one preempted holds it. The compare-and-exchange makes the test and the taking one step:
/// a program preempted between a plain test and a plain store would take a ring another
/// had taken meanwhile.
///
/// # Safety
/// `meta` is this CPU's RingMeta.
#[inline(always)]
unsafe fn take_busy(meta: *mut RingMeta) -> bool {
    // SAFETY: an aligned u64 of the map value.
    unsafe {
        let (_, taken) = core::intrinsics::atomic_cxchg::<
            u64,
            { core::intrinsics::AtomicOrdering::Relaxed },
            { core::intrinsics::AtomicOrdering::Relaxed },
        >(core::ptr::addr_of_mut!((*meta).busy), 0, 1);
        if !taken {
            core::intrinsics::atomic_xadd::<u64, u64, { core::intrinsics::AtomicOrdering::Relaxed }>(
                core::ptr::addr_of_mut!((*meta).lost_busy),
                1,
            );
        }
        taken
    }
}

/// Gives this CPU's ring back, after the head that publishes the record (a program that
/// takes the ring next reserves from that head).
///
/// # Safety
/// `meta` is this CPU's RingMeta, taken by this program run.
#[inline(always)]
unsafe fn give_busy(meta: *mut RingMeta) {
    // SAFETY: as above.
    unsafe { core::ptr::write_volatile(core::ptr::addr_of_mut!((*meta).busy), 0) };
}

/// The reservation that `reserve` made in this program run, for a program it tail-calls:
/// the head has not moved (only `commit` moves it), and the ring stays taken (`busy`) until
/// the record is committed, so nothing else writes it even if the run is preempted.
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
        cpu,
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
        let end = next_position(self.start, align(len));
        // SAFETY: `meta` is this CPU's RingMeta.
        publish(unsafe { core::ptr::addr_of_mut!((*self.meta).head) }, end);
        // SAFETY: this run took the ring in `reserve`.
        unsafe { give_busy(self.meta) };
        // Once per segment: after the head, so the woken drain finds the records. A full
        // notice buffer only loses a wake-up, which the drain's deadline makes up for.
        if end / SEGMENT_SIZE != self.start / SEGMENT_SIZE {
            let _ = RING_WAKE.output(&self.cpu, u64::from(BPF_RB_FORCE_WAKEUP));
        }
    }

    /// Gives the reservation up without publishing anything: the sequence number it took
    /// is counted lost, so the drain sees why it is missing.
    #[inline(always)]
    pub fn abandon(self) {
        // SAFETY: this CPU's RingMeta, taken by this run in `reserve`.
        unsafe {
            (*self.meta).lost += 1;
            give_busy(self.meta);
        }
    }
}

#[inline(always)]
pub const fn align(len: u64) -> u64 {
    (len + RECORD_ALIGN - 1) & !(RECORD_ALIGN - 1)
}
