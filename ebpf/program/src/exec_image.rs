//! What a new program image starts with, written as an EXEC_IMAGE record right after its
//! EXEC record: the executable's inode, the auxiliary vector the kernel built (with the
//! AT_RANDOM bytes and the AT_PLATFORM and AT_EXECFN strings it points to), the working
//! directory and, with `--capture-env`, the environment. A second program on
//! `sched_process_exec`, attached after the one that writes the EXEC record (programs on a
//! tracepoint run in the order they were attached), so that each stays within what the
//! verifier checks.
//!
//! The new image's stack holds the strings and the random bytes: the kernel wrote them
//! there while building it, so they are in memory and a non-faulting read finds them.

use aya_ebpf::{
    helpers::{
        bpf_get_current_task_btf, bpf_probe_read_kernel, bpf_probe_read_user,
        bpf_probe_read_user_buf, generated,
    },
    macros::{btf_tracepoint, map},
    maps::PerCpuArray,
    programs::BtfTracePointContext,
};
use syscord_common::{
    EXEC_AUX_STRING_MAX, EXEC_AUXV_PAIRS, EXEC_CWD_MAX, EXEC_ENV_MAX, EXEC_IMAGE_RECORD_MAX,
    ExecImageBody, HEADER_SIZE, PATH_COMPARE_LEN, exec_image, record_kind, task_state,
};

use crate::{
    config, current_pid_tgid, kernel_field, ring,
    tasks::{self, PathScratch, kernel_pointer},
};

const AT_NULL: u64 = 0;
const AT_PLATFORM: u64 = 15;
const AT_RANDOM: u64 = 25;
const AT_EXECFN: u64 = 31;

/// Offsets of the short parts (the working directory and the two strings) are masked with
/// this: with the auxiliary vector before them they start below 1,280 bytes.
const SHORT_PART_MASK: u64 = 2047;

/// Where the working directory's path is built, and what the auxiliary vector said.
#[map]
static SCRATCH: PerCpuArray<ImageScratch> = PerCpuArray::with_max_entries(1, 0);

/// What the walk of the auxiliary vector found goes through this memory, not registers:
/// the verifier then sees unknown values after the walk instead of one state per way out
/// of it, each of which it would follow through the rest of the program.
#[repr(C)]
struct ImageScratch {
    cwd: PathScratch,
    /// Pairs of the auxiliary vector copied, and the addresses of AT_RANDOM's bytes and
    /// of the AT_PLATFORM and AT_EXECFN strings (0 when absent).
    pairs: u64,
    /// The record's [`exec_image`] bits so far.
    flags: u64,
    random: u64,
    platform: u64,
    execfn: u64,
}

#[inline(always)]
fn put(field: &mut u64, value: u64) {
    // SAFETY: a field of this CPU's scratch entry.
    unsafe { core::ptr::write_volatile(field, value) }
}

#[inline(always)]
fn get(field: &u64) -> u64 {
    // SAFETY: as above.
    unsafe { core::ptr::read_volatile(field) }
}

#[inline(always)]
fn set_flag(scratch: &mut ImageScratch, flag: u16) {
    let flags = get(&scratch.flags) | u64::from(flag);
    put(&mut scratch.flags, flags);
}

#[btf_tracepoint(function = "sched_process_exec")]
pub fn syscord_exec_image(ctx: BtfTracePointContext) -> i32 {
    let pid_tgid = current_pid_tgid();
    // The EXEC program ran first and decided whether the thread is recorded.
    if tasks::state(pid_tgid as u32) < task_state::ALL {
        return 0;
    }
    let bprm: *const u8 = ctx.arg(2);
    // SAFETY: the current task, valid for the whole program.
    let task = unsafe { bpf_get_current_task_btf() } as *const u8;
    let Some(scratch) = SCRATCH.get_ptr_mut(0) else {
        return 0;
    };
    // SAFETY: this CPU's scratch entry, used by this program alone.
    let scratch = unsafe { &mut *scratch };
    let Some(slot) = ring::reserve::<EXEC_IMAGE_RECORD_MAX>() else {
        return 0;
    };
    let body = slot.body::<ExecImageBody>();
    let parts = slot.after::<ExecImageBody>();
    put(&mut scratch.flags, 0);

    // The executable.
    let file = kernel_pointer(bprm, config!(bprm_file));
    let inode = kernel_pointer(file, config!(file_inode));
    let sb = kernel_pointer(inode, config!(inode_sb));
    let identity = (
        kernel_field::<u64>(inode, config!(inode_ino)),
        kernel_field::<u64>(inode, config!(inode_size)),
        kernel_field::<i64>(inode, config!(inode_mtime_sec)),
        kernel_field::<u32>(inode, config!(inode_mtime_nsec)),
        kernel_field::<u16>(inode, config!(inode_mode)),
        kernel_field::<u32>(sb, config!(sb_dev)),
    );
    // SAFETY: the reservation holds an ExecImageBody; what is not found stays zero.
    unsafe {
        *body = ExecImageBody::default();
        if let (Some(ino), Some(size), Some(sec), Some(nsec), Some(mode), Some(dev)) = identity
            && !inode.is_null()
        {
            (*body).ino = ino;
            (*body).size = size;
            (*body).mtime_sec = sec;
            (*body).mtime_nsec = nsec;
            (*body).mode = mode;
            (*body).dev = dev;
            set_flag(scratch, exec_image::IDENTITY);
        }
    }

    // The auxiliary vector, up to and with its AT_NULL pair.
    let mm = kernel_pointer(task, config!(task_mm));
    put(&mut scratch.pairs, 0);
    put(&mut scratch.random, 0);
    put(&mut scratch.platform, 0);
    put(&mut scratch.execfn, 0);
    if !mm.is_null() {
        // SAFETY: a kernel address, read with bpf_probe_read_kernel.
        let auxv = unsafe { mm.add(config!(mm_saved_auxv) as usize) } as *const [u64; 2];
        for i in 0..EXEC_AUXV_PAIRS as usize {
            // SAFETY: bpf_probe_read_kernel tolerates any address.
            let Ok(pair) = (unsafe { bpf_probe_read_kernel(auxv.wrapping_add(i)) }) else {
                break;
            };
            // SAFETY: pair i of EXEC_AUXV_PAIRS, inside the reservation.
            unsafe { *(parts as *mut [u64; 2]).add(i) = pair };
            put(&mut scratch.pairs, i as u64 + 1);
            match pair[0] {
                AT_NULL => break,
                AT_RANDOM => put(&mut scratch.random, pair[1]),
                AT_PLATFORM => put(&mut scratch.platform, pair[1]),
                AT_EXECFN => put(&mut scratch.execfn, pair[1]),
                _ => {}
            }
        }
    }
    let random = get(&scratch.random);
    if random != 0
        // SAFETY: bpf_probe_read_user tolerates any address.
        && let Ok(bytes) = unsafe { bpf_probe_read_user(random as *const [u8; 16]) }
    {
        // SAFETY: the reservation holds an ExecImageBody.
        unsafe { (*body).random = bytes };
        set_flag(scratch, exec_image::RANDOM);
    }
    let pairs = get(&scratch.pairs) & (EXEC_AUXV_PAIRS * 2 - 1);
    let mut at = pairs * 16;

    // The working directory.
    let mut cwd_len = 0u64;
    let fs = kernel_pointer(task, config!(task_fs));
    if !fs.is_null() {
        let path = &mut scratch.cwd;
        tasks::walk_path(
            kernel_pointer(fs, config!(fs_pwd_dentry)),
            kernel_pointer(fs, config!(fs_pwd_mnt)),
            path,
        );
        // SAFETY: fields of this CPU's scratch entry.
        let (start, whole) = unsafe {
            (
                core::ptr::read_volatile(&path.start) as u64,
                core::ptr::read_volatile(&path.whole) != 0,
            )
        };
        let start = start & (PATH_COMPARE_LEN as u64 - 1);
        let len = (PATH_COMPARE_LEN as u64 - start) & (2 * EXEC_CWD_MAX - 1);
        // SAFETY: `at` is masked below SHORT_PART_MASK and `len` below 2 * EXEC_CWD_MAX,
        // inside the reservation; the source is the scratch entry.
        let copied = unsafe {
            generated::bpf_probe_read_kernel(
                parts.add((at & SHORT_PART_MASK) as usize).cast(),
                len as u32,
                path.text.as_ptr().add(start as usize).cast(),
            )
        };
        if copied == 0 {
            cwd_len = len;
            if whole {
                set_flag(scratch, exec_image::CWD_WHOLE);
            }
        }
    }
    at += cwd_len;

    // The strings the auxiliary vector points to.
    let platform_len = user_string(get(&scratch.platform), parts, at);
    at += platform_len;
    let execfn_len = user_string(get(&scratch.execfn), parts, at);
    at += execfn_len;

    // The environment, between env_start and env_end of the new image.
    let mut env_len = 0u64;
    let mut env_full = 0u64;
    if config!(capture_env) != 0 && !mm.is_null() {
        set_flag(scratch, exec_image::ENV);
        if let (Some(start), Some(end)) = (
            kernel_field::<u64>(mm, config!(mm_env_start)),
            kernel_field::<u64>(mm, config!(mm_env_end)),
        ) && end > start
        {
            env_full = end - start;
            let len = if env_full > EXEC_ENV_MAX {
                EXEC_ENV_MAX
            } else {
                env_full
            };
            // SAFETY: `at` is masked below SHORT_PART_MASK and the length below
            // 2 * EXEC_ENV_MAX, inside the reservation.
            let dst = unsafe {
                core::slice::from_raw_parts_mut(
                    parts.add((at & SHORT_PART_MASK) as usize),
                    (len & (2 * EXEC_ENV_MAX - 1)) as usize,
                )
            };
            // SAFETY: bpf_probe_read_user_buf tolerates any source address.
            if !dst.is_empty()
                && unsafe { bpf_probe_read_user_buf(start as *const u8, dst) }.is_ok()
            {
                env_len = dst.len() as u64;
            }
        }
    }
    at += env_len;

    // SAFETY: the reservation holds an ExecImageBody.
    unsafe {
        (*body).flags = get(&scratch.flags) as u16;
        (*body).auxv_len = (pairs * 16) as u16;
        (*body).cwd_len = cwd_len as u16;
        (*body).platform_len = platform_len as u16;
        (*body).execfn_len = execfn_len as u16;
        (*body).env_len = env_len as u16;
        (*body).env_full_len = env_full as u32;
    }
    let len = HEADER_SIZE + core::mem::size_of::<ExecImageBody>() as u64 + at;
    slot.header(len, record_kind::EXEC_IMAGE, 0, pid_tgid);
    slot.commit(len);
    0
}

/// Copies the NUL-terminated string at user address `src` to `parts + at`: returns its
/// length without the NUL (0 when there is none or it cannot be read).
#[inline(always)]
fn user_string(src: u64, parts: *mut u8, at: u64) -> u64 {
    if src == 0 {
        return 0;
    }
    // SAFETY: `at` is masked below SHORT_PART_MASK, and EXEC_AUX_STRING_MAX bytes from
    // there are inside the reservation; any source address is tolerated.
    let copied = unsafe {
        generated::bpf_probe_read_user_str(
            parts.add((at & SHORT_PART_MASK) as usize).cast(),
            EXEC_AUX_STRING_MAX as u32,
            src as *const _,
        )
    };
    if copied <= 1 { 0 } else { (copied - 1) as u64 }
}
