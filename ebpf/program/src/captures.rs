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

/// Iovec entries read, at most.
const MAX_IOV: u64 = 8;

/// Argument `index` (0-5) from the saved registers. A match, because the verifier only lets
/// BTF pointers be read at constant offsets.
#[inline(always)]
fn arg(regs: *const u8, index: u8) -> u64 {
    match index {
        0 => reg(regs, PT_REGS.args[0]),
        1 => reg(regs, PT_REGS.args[1]),
        2 => reg(regs, PT_REGS.args[2]),
        3 => reg(regs, PT_REGS.args[3]),
        4 => reg(regs, PT_REGS.args[4]),
        _ => reg(regs, PT_REGS.args[5]),
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
        _ => arg(regs, rule.len_arg).min(u64::from(u32::MAX)) + size,
    }
}

/// All ones above MAX_SNAP_LEN (a power of two).
const SNAP_MASK: u64 = 2 * MAX_SNAP_LEN as u64 - 1;
const _: () = assert!(MAX_SNAP_LEN.is_power_of_two());
// What the verifier checks a capture against: the guard after a segment holds it.
const _: () =
    assert!(SYSCALL_FIXED_MAX + CAPTURES_BOUND + CAPTURE_HEADER_SIZE + SNAP_MASK <= SEGMENT_GUARD);

/// Concatenates the buffers of `count` iovecs at `iov` into `dst`, up to `limit` bytes
/// (at most `snap`).
///
/// Every bound here is `snap`, a constant to the verifier: mixing in a second constant
/// (MAX_SNAP_LEN) made older verifiers (6.1) merge impossible branches into contradictory
/// ranges and reject the program.
#[inline(always)]
fn gather(dst: *mut u8, iov: u64, count: u64, limit: u64, snap: u64) -> Option<u64> {
    let mut copied = 0u64;
    for i in 0..MAX_IOV {
        if i >= count || copied >= limit || copied >= snap {
            break;
        }
        let base = user::<u64>(iov + i * 16)?;
        let len = user::<u64>(iov + i * 16 + 8)?;
        let mut n = limit - copied;
        if len < n {
            n = len;
        }
        if n > snap {
            n = snap;
        }
        if n == 0 {
            continue;
        }
        // SAFETY: `dst + copied .. + n` stays within the snap length the caller reserved.
        let buf = unsafe { core::slice::from_raw_parts_mut(dst.add(copied as usize), n as usize) };
        // SAFETY: bpf_probe_read_user tolerates any address.
        unsafe { bpf_probe_read_user_buf(base as *const u8, buf) }.ok()?;
        copied += n;
    }
    Some(copied)
}

/// Captures one piece of memory at `at` (the capture header's place); returns the bytes
/// used, header included, or 0 if nothing applies. `iovec` says whether this call site
/// handles iovec captures (only the first capture of a rule may be one: the gathering loop
/// inside the capture loop would be more than the verifier explores).
#[inline(always)]
fn capture(
    at: *mut u8,
    rule: &CaptureRule,
    regs: *const u8,
    ret: i64,
    snap: u64,
    iovec: bool,
) -> u64 {
    if rule.kind == capture_kind::IOVEC && !iovec {
        return 0;
    }
    let mut pointer = arg(regs, rule.ptr_arg);
    if rule.flags & capture_flags::PTR_INDIRECT != 0 {
        pointer = user::<u64>(pointer + u64::from(rule.ptr_offset)).unwrap_or(0);
    }
    if pointer == 0 {
        return 0;
    }
    let count = length(rule, regs, ret);
    // SAFETY: the slot was reserved for SYSCALL_RECORD_MAX bytes, which holds every capture
    // at the largest snap length (and a string's STRING_MAX).
    let data = unsafe { at.add(CAPTURE_HEADER_SIZE as usize) };
    let mut flags = 0u8;
    let (orig_len, mut data_len) = match rule.kind {
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
        capture_kind::IOVEC if iovec => {
            let total = if ret > 0 { ret as u64 } else { 0 };
            let limit = if total < snap { total } else { snap };
            match gather(data, pointer, count, limit, snap) {
                Some(n) => (total, n),
                None => {
                    flags |= capture_result::FAULT;
                    (total, 0)
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
    };
    if data_len > snap {
        data_len = snap;
    }
    if data_len < orig_len {
        flags |= capture_result::TRUNCATED;
    }
    let header = at as *mut CaptureHeader;
    // SAFETY: within the reservation, see above.
    unsafe {
        (*header).id = rule.id;
        (*header).flags = flags;
        (*header)._pad = 0;
        (*header).data_len = data_len as u32;
        (*header).orig_len = orig_len;
    }
    CAPTURE_HEADER_SIZE + ((data_len + RECORD_ALIGN - 1) & !(RECORD_ALIGN - 1))
}

/// Appends the captures `rule` asks for to the record at `record`, from `at` (a constant:
/// the verifier explores the captures once per program, not per offset) on; returns their
/// total size.
#[inline(always)]
pub fn capture_all(record: *mut u8, at: u64, rule: &SyscallRule, regs: *const u8, ret: i64) -> u64 {
    let snap = u64::from(config!(snap_len));
    let failed = (-4095..0).contains(&ret);
    let want = if failed {
        capture_when::ON_FAILURE
    } else {
        capture_when::ON_SUCCESS
    };
    let mut used = 0u64;
    for i in 0..MAX_CAPTURES {
        if i as u32 >= rule.ncaptures {
            break;
        }
        let c = &rule.captures[i];
        if c.when & want == 0 {
            continue;
        }
        // Never true (the captures' total stays below the bound), but it gives every
        // iteration the same known range for `used`, so the verifier sees the writes in
        // bounds and prunes instead of exploring each combination of capture lengths.
        if used >= CAPTURES_BOUND {
            break;
        }
        // SAFETY: within the reservation and its guard area (see CAPTURES_BOUND).
        let at = unsafe { record.add((at + used) as usize) };
        used += capture(at, c, regs, ret, snap, i == 0);
    }
    used
}
