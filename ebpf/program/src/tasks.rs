//! Which threads are traced: one bit per thread id in an array the program reads without a
//! helper call; userspace maps it too, to mark running threads.

use aya_ebpf::{
    bindings::BPF_F_MMAPABLE,
    macros::map,
    maps::{Array, HashMap},
};

/// Bit `tid % 64` of word `tid / 64`. Sized by userspace from pid_max.
#[map]
static TRACED: Array<u64> = Array::with_max_entries(1, BPF_F_MMAPABLE);

/// Threads userspace started that become traced at their next exec (the command syscord
/// launches: its own pre-exec syscalls are the recorder's, not the command's).
#[map]
static ARMED: HashMap<u32, u32> = HashMap::with_max_entries(64, 0);

#[inline(always)]
pub fn is_traced(tid: u32) -> bool {
    match TRACED.get(tid >> 6) {
        Some(word) => (*word >> (tid & 63)) & 1 != 0,
        None => false,
    }
}

/// Marks `tid` traced; false if it is beyond the bitmap.
#[inline(always)]
pub fn set_traced(tid: u32) -> bool {
    let Some(word) = TRACED.get_ptr_mut(tid >> 6) else {
        return false;
    };
    // SAFETY: an atomic OR on a map value: other CPUs set and clear neighbouring bits.
    unsafe {
        core::intrinsics::atomic_or::<u64, u64, { core::intrinsics::AtomicOrdering::SeqCst }>(
            word,
            1 << (tid & 63),
        );
    }
    true
}

#[inline(always)]
pub fn clear_traced(tid: u32) {
    if let Some(word) = TRACED.get_ptr_mut(tid >> 6) {
        // SAFETY: as in `set_traced`.
        unsafe {
            core::intrinsics::atomic_and::<u64, u64, { core::intrinsics::AtomicOrdering::SeqCst }>(
                word,
                !(1 << (tid & 63)),
            );
        }
    }
}

#[inline(always)]
pub fn is_armed(tid: u32) -> bool {
    // SAFETY: presence check only.
    unsafe { ARMED.get(&tid).is_some() }
}

/// Consumes the armed mark of `tid`, if any.
#[inline(always)]
pub fn take_armed(tid: u32) -> bool {
    ARMED.remove(&tid).is_ok()
}
