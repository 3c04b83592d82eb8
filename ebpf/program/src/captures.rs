//! The capture interpreter: copies the user memory a syscall's rule names into its record.
//!
//! It knows no syscall: a rule says which argument points at the memory, where the length
//! comes from, and whether to capture on success or failure. Everything is read at
//! `sys_exit`, when the kernel has written the memory and faulted its pages in.

use aya_ebpf::helpers::{
    bpf_probe_read_user, bpf_probe_read_user_buf, bpf_probe_read_user_str_bytes,
};
use syscord_common::{
    CAPTURE_HEADER_SIZE, CAPTURES_BOUND, CaptureHeader, CaptureRule, MAX_CAPTURES, MAX_SNAP_LEN,
    RECORD_ALIGN, SEGMENT_GUARD, STRING_MAX, SYSCALL_FIXED_MAX, SyscallRule, capture_flags,
    capture_kind, capture_result, capture_when, len_from,
};

use crate::{PT_REGS, config, reg};

/// Argument `index` (0-5) from the saved registers. A match, because the verifier only lets
/// BTF pointers be read at constant offsets.
#[inline(always)]
fn arg(regs: *const u8, index: u8) -> u64 {
    match index {
        0 => reg(regs, PT_REGS.args[0].offset),
        1 => reg(regs, PT_REGS.args[1].offset),
        2 => reg(regs, PT_REGS.args[2].offset),
        3 => reg(regs, PT_REGS.args[3].offset),
        4 => reg(regs, PT_REGS.args[4].offset),
        _ => reg(regs, PT_REGS.args[5].offset),
    }
}

#[inline(always)]
fn user<T>(address: u64) -> Option<T> {
    // SAFETY: bpf_probe_read_user tolerates any address.
    unsafe { bpf_probe_read_user(address as *const T).ok() }
}

#[inline(always)]
fn length(rule: &CaptureRule, regs: *const u8, ret: i64) -> u64 {
    let ret = if ret > 0 { ret as u64 } else { 0 };
    let size = u64::from(rule.size);
    let at = || arg(regs, rule.len_arg) + u64::from(rule.len_offset);
    match rule.len_from {
        len_from::FIXED => size,
        len_from::RET => ret,
        len_from::ARG => arg(regs, rule.len_arg),
        len_from::DEREF_U32 => user::<u32>(at()).map_or(0, u64::from),
        len_from::DEREF_U64 => user::<u64>(at()).unwrap_or(0),
        // Counts are clamped to 32 bits and sizes are 32 bits: the product cannot overflow
        // (and BPF has no 128-bit multiply for a saturating one).
        len_from::RET_TIMES => ret.min(u64::from(u32::MAX)) * size,
        len_from::ARG_TIMES => arg(regs, rule.len_arg).min(u64::from(u32::MAX)) * size,
        len_from::RET_PLUS => ret.min(u64::from(u32::MAX)) + size,
        len_from::RET_AT_MOST_ARG => ret.min(arg(regs, rule.len_arg)),
        len_from::RET_IF_AT_MOST_ARG if ret <= arg(regs, rule.len_arg) => ret,
        len_from::RET_IF_AT_MOST_ARG => 0,
        _ => arg(regs, rule.len_arg).min(u64::from(u32::MAX)) + size,
    }
}

const _: () = assert!(MAX_CAPTURES.is_power_of_two());

/// All ones above MAX_SNAP_LEN (a power of two).
const SNAP_MASK: u64 = 2 * MAX_SNAP_LEN as u64 - 1;
const _: () = assert!(MAX_SNAP_LEN.is_power_of_two());
// What the verifier checks a capture against: the guard after a segment holds it.
const _: () =
    assert!(SYSCALL_FIXED_MAX + CAPTURES_BOUND + CAPTURE_HEADER_SIZE + SNAP_MASK <= SEGMENT_GUARD);

/// The pointer a capture reads from: an argument, or a pointer stored in the struct an
/// argument points to.
#[inline(always)]
fn pointer(rule: &CaptureRule, regs: *const u8) -> u64 {
    let pointer = arg(regs, rule.ptr_arg);
    if rule.flags & capture_flags::PTR_INDIRECT != 0 {
        user::<u64>(pointer + u64::from(rule.ptr_offset)).unwrap_or(0)
    } else {
        pointer
    }
}

/// Captures one piece of memory at `at` (the capture header's place), of any kind but
/// iovec; returns the bytes used, header included, or 0 if nothing applies.
#[inline(always)]
fn capture(at: *mut u8, rule: &CaptureRule, regs: *const u8, ret: i64, snap: u64) -> u64 {
    let pointer = pointer(rule, regs);
    if rule.kind == capture_kind::IOVEC || pointer == 0 {
        return 0;
    }
    let count = length(rule, regs, ret);
    // SAFETY: the slot was reserved for SYSCALL_RECORD_MAX bytes, which holds every capture
    // at the largest snap length (and a string's STRING_MAX).
    let data = unsafe { at.add(CAPTURE_HEADER_SIZE as usize) };
    let mut flags = 0u8;
    let (orig_len, mut data_len) = {
        match rule.kind {
            capture_kind::CSTRING => {
                // Read as far as STRING_MAX to learn the true length, keep `snap` bytes.
                // SAFETY: see above.
                let buf = unsafe { core::slice::from_raw_parts_mut(data, STRING_MAX as usize) };
                // SAFETY: bpf_probe_read_user_str tolerates any address.
                match unsafe { bpf_probe_read_user_str_bytes(pointer as *const u8, buf) } {
                    Ok(s) => {
                        let len = s.len() as u64;
                        if len + 1 >= u64::from(STRING_MAX) {
                            // no NUL within STRING_MAX: longer than we can tell
                            flags |= capture_result::TRUNCATED;
                        }
                        (len, len)
                    }
                    Err(_) => {
                        flags |= capture_result::FAULT;
                        (0, 0)
                    }
                }
            }
            _ => {
                // The mask changes nothing (n <= snap <= MAX_SNAP_LEN) but bounds the register
                // handed to the helper whatever the compiler does: it may pass a copy of `count`
                // spilled before the comparison, whose bound 6.1's verifier does not learn.
                let mut n = (if count < snap { count } else { snap }) & SNAP_MASK;
                if n > 0 {
                    // SAFETY: see above.
                    let buf = unsafe { core::slice::from_raw_parts_mut(data, n as usize) };
                    // SAFETY: bpf_probe_read_user tolerates any address.
                    if unsafe { bpf_probe_read_user_buf(pointer as *const u8, buf) }.is_err() {
                        flags |= capture_result::FAULT;
                        n = 0;
                    }
                }
                (count, n)
            }
        }
    };
    if data_len > snap {
        data_len = snap;
    }
    put_header(at, rule.id, flags, orig_len, data_len)
}

/// Writes a capture's header at `at`; returns the capture's size, header included.
#[inline(always)]
fn put_header(at: *mut u8, id: u8, mut flags: u8, orig_len: u64, data_len: u64) -> u64 {
    if data_len < orig_len {
        flags |= capture_result::TRUNCATED;
    }
    let header = at as *mut CaptureHeader;
    // SAFETY: within the reservation (the callers' bounds).
    unsafe {
        (*header).id = id;
        (*header).flags = flags;
        (*header)._pad = 0;
        (*header).data_len = data_len as u32;
        (*header).orig_len = orig_len;
    }
    CAPTURE_HEADER_SIZE + ((data_len + RECORD_ALIGN - 1) & !(RECORD_ALIGN - 1))
}

/// Capture `index` of `rule`, if it applies to this result and fits (never false: the
/// captures' total stays below the bound, but the check gives the verifier the range of
/// `used` that keeps the writes inside the reservation and its guard).
#[inline(always)]
fn applicable(rule: &SyscallRule, index: u32, used: u64, ret: i64) -> Option<&CaptureRule> {
    let want = if (-4095..0).contains(&ret) {
        capture_when::ON_FAILURE
    } else {
        capture_when::ON_SUCCESS
    };
    if used >= CAPTURES_BOUND || index >= rule.ncaptures {
        return None;
    }
    let c = &rule.captures[index as usize % MAX_CAPTURES];
    (c.when & want != 0).then_some(c)
}

/// `used` (below CAPTURES_BOUND, a multiple of 8), as the verifier must see it: a step
/// program reads it from a map, and riscv64's verifier checks that stores are aligned.
#[inline(always)]
fn aligned(used: u64) -> u64 {
    used & (CAPTURES_BOUND - RECORD_ALIGN)
}

/// Appends capture `index` of `rule` (any kind but iovec) to the record at `record`,
/// `used` bytes after `at` (a constant: the verifier explores a capture once per program,
/// not per offset); returns the bytes it took, 0 if it does not apply to this result.
///
/// One capture per program run: `sys_exit` takes the first, and the programs it tail-calls
/// each further one. Unrolled in one program, four captures cost the verifier half a
/// second at every start (the states of each capture's kinds and lengths multiply).
#[inline(always)]
pub fn capture_one(
    record: *mut u8,
    at: u64,
    used: u64,
    index: u32,
    rule: &SyscallRule,
    regs: *const u8,
    ret: i64,
) -> u64 {
    let Some(c) = applicable(rule, index, used, ret) else {
        return 0;
    };
    // SAFETY: within the reservation and its guard area (see CAPTURES_BOUND).
    let at = unsafe { record.add((at + aligned(used)) as usize) };
    capture(at, c, regs, ret, u64::from(config!(snap_len)))
}

/// Iovec entries read, at most.
pub const MAX_IOV: u32 = 8;

// An iovec capture's data may start up to MAX_SNAP_LEN into it, where the next entry's
// bytes go.
const _: () = assert!(
    SYSCALL_FIXED_MAX + CAPTURES_BOUND + CAPTURE_HEADER_SIZE + MAX_SNAP_LEN as u64 + SNAP_MASK
        <= SEGMENT_GUARD
);

/// Adds entry `entry` of iovec capture `index` (the buffers of an iovec array,
/// concatenated up to the return value and the snap length) to its data, of which `copied`
/// bytes are there; writes the capture's header as it now stands. Returns the capture's
/// size, header included, and the bytes copied if another entry follows.
///
/// One entry per program run: as a loop, the eight entries' branches cost the verifier
/// 80 ms at every start.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn iovec_entry(
    record: *mut u8,
    at: u64,
    used: u64,
    index: u32,
    rule: &SyscallRule,
    regs: *const u8,
    ret: i64,
    entry: u32,
    copied: u64,
) -> (u64, Option<u64>) {
    let Some(c) = applicable(rule, index, used, ret) else {
        return (0, None);
    };
    let iov = pointer(c, regs);
    if c.kind != capture_kind::IOVEC || iov == 0 {
        return (0, None);
    }
    let count = length(c, regs, ret);
    let snap = u64::from(config!(snap_len));
    let total = if ret > 0 { ret as u64 } else { 0 };
    let limit = if total < snap { total } else { snap };
    let mut copied = if copied < limit { copied } else { limit };
    // SAFETY: within the reservation and its guard area (see CAPTURES_BOUND and above).
    let at = unsafe { record.add((at + aligned(used)) as usize) };
    let mut flags = 0u8;
    let mut more = false;
    if u64::from(entry) < count && entry < MAX_IOV && copied < limit {
        let slot = iov + u64::from(entry) * 16;
        match (user::<u64>(slot), user::<u64>(slot + 8)) {
            (Some(base), Some(len)) => {
                let n = (if len < limit - copied {
                    len
                } else {
                    limit - copied
                }) & SNAP_MASK;
                if n > 0 {
                    // The mask changes nothing (copied < limit <= MAX_SNAP_LEN) but bounds
                    // the offset whatever the compiler does: 6.1's verifier lost the bound
                    // of `copied` through a spilled copy of it.
                    let offset = CAPTURE_HEADER_SIZE + (copied & (MAX_SNAP_LEN as u64 - 1));
                    // SAFETY: see above; `copied + n` stays within the snap length.
                    let buf = unsafe {
                        core::slice::from_raw_parts_mut(at.add(offset as usize), n as usize)
                    };
                    // SAFETY: bpf_probe_read_user tolerates any address.
                    if unsafe { bpf_probe_read_user_buf(base as *const u8, buf) }.is_ok() {
                        copied += n;
                        more =
                            u64::from(entry) + 1 < count && entry + 1 < MAX_IOV && copied < limit;
                    } else {
                        flags |= capture_result::FAULT;
                    }
                } else {
                    more = u64::from(entry) + 1 < count && entry + 1 < MAX_IOV;
                }
            }
            _ => flags |= capture_result::FAULT,
        }
    }
    let size = put_header(at, c.id, flags, total, copied);
    (size, more.then_some(copied))
}
