//! The argv a caller passed to execve/execveat, as it passed it. By the time the new image
//! is in place (`sched_process_exec`) the caller's memory is gone, and for a `#!` script the
//! kernel has rewritten the argument list (the interpreter first, the caller's argv[0]
//! dropped). So `fentry` programs on the two syscalls' entry points (their names are the
//! architecture's, chosen by userspace) copy the caller's strings, for recorded or armed
//! threads only, into a per-thread entry that `sched_process_exec` moves into its record.
//! Where the kernel refuses BPF trampolines, programs on the `syscalls` tracepoints of the
//! two calls do the same (they fire for these two syscalls only).

use aya_ebpf::{
    helpers::{bpf_probe_read_user, generated},
    macros::{fentry, map, tracepoint},
    maps::{HashMap, PerCpuArray},
    programs::{FEntryContext, TracePointContext},
};
use syscord_common::{EXEC_ARGV_MAX, syscall_tracepoint_arg, task_state};

use crate::{PT_REGS, current_pid_tgid, reg, tasks};

/// Arguments read at most: the rest is counted as truncation.
const MAX_ARGS: usize = 64;

/// One thread's argv, NUL-separated as the new program would see it.
#[repr(C)]
pub struct CallerArgv {
    /// Bytes of `bytes` in use, at most EXEC_ARGV_MAX - 1.
    pub len: u32,
    /// Nonzero when arguments or bytes did not fit.
    pub truncated: u32,
    /// Twice the room kept, so that a string copied at any masked offset stays inside, as
    /// the verifier demands.
    pub bytes: [u8; 2 * EXEC_ARGV_MAX as usize],
}

/// By thread id: the argv of the exec a recorded thread is in. Few threads exec at once;
/// an entry left by an exec that failed is overwritten by the next, or removed when the
/// thread exits.
#[map]
static CALLER_ARGV: HashMap<u32, CallerArgv> = HashMap::with_max_entries(256, 0);

/// Where the argv is built before it is stored (too large for the stack).
#[map]
static ARGV_SCRATCH: PerCpuArray<CallerArgv> = PerCpuArray::with_max_entries(1, 0);

#[inline(always)]
fn save(argv: u64) {
    let tid = current_pid_tgid() as u32;
    if tasks::state(tid) == task_state::NONE && !tasks::is_armed(tid) {
        return;
    }
    let Some(scratch) = ARGV_SCRATCH.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: this CPU's scratch entry, used by this program alone.
    let scratch = unsafe { &mut *scratch };
    let room = EXEC_ARGV_MAX - 1;
    let mut len: u64 = 0;
    let mut truncated = 1u32;
    for i in 0..MAX_ARGS {
        // SAFETY: bpf_probe_read_user tolerates any address.
        let Ok(pointer) = (unsafe { bpf_probe_read_user((argv as *const u64).wrapping_add(i)) })
        else {
            break;
        };
        if pointer == 0 {
            truncated = 0;
            break;
        }
        if len >= room {
            break;
        }
        let at = (len & (EXEC_ARGV_MAX - 1)) as usize;
        // SAFETY: `at` is below EXEC_ARGV_MAX and the buffer twice that, so EXEC_ARGV_MAX
        // bytes from `at` are inside it; any source address is tolerated.
        let copied = unsafe {
            generated::bpf_probe_read_user_str(
                scratch.bytes.as_mut_ptr().add(at).cast(),
                EXEC_ARGV_MAX as u32,
                pointer as *const _,
            )
        };
        if copied <= 0 {
            break;
        }
        // The string and its NUL.
        len += copied as u64;
    }
    if len > room {
        len = room;
        truncated = 1;
    }
    scratch.len = len as u32;
    scratch.truncated = truncated;
    let _ = CALLER_ARGV.insert(&tid, &*scratch, 0);
}

/// The argument registers of the syscall whose entry point is being entered: the entry
/// points of syscalls with wrappers take the saved `pt_regs`.
#[inline(always)]
fn argument(ctx: &FEntryContext, index: usize) -> u64 {
    let regs: *const u8 = ctx.arg(0);
    match index {
        1 => reg(regs, PT_REGS.args[1].offset),
        _ => reg(regs, PT_REGS.args[2].offset),
    }
}

/// execve(filename, argv, envp).
#[fentry]
pub fn syscord_execve_args(ctx: FEntryContext) -> i32 {
    save(argument(&ctx, 1));
    0
}

/// execveat(dirfd, filename, argv, envp, flags).
#[fentry]
pub fn syscord_execveat_args(ctx: FEntryContext) -> i32 {
    save(argument(&ctx, 2));
    0
}

/// Argument `index` of a `syscalls:sys_enter_*` tracepoint record.
#[inline(always)]
fn tracepoint_arg(ctx: &TracePointContext, index: u32) -> u64 {
    // SAFETY: read with bpf_probe_read_kernel inside the record.
    unsafe { ctx.read_at::<u64>(syscall_tracepoint_arg(index) as usize) }.unwrap_or(0)
}

/// `syscalls:sys_enter_execve`.
#[tracepoint]
pub fn syscord_execve_args_tp(ctx: TracePointContext) -> u32 {
    save(tracepoint_arg(&ctx, 1));
    0
}

/// `syscalls:sys_enter_execveat`.
#[tracepoint]
pub fn syscord_execveat_args_tp(ctx: TracePointContext) -> u32 {
    save(tracepoint_arg(&ctx, 2));
    0
}

/// Moves thread `tid`'s caller argv into `dst` (room for EXEC_ARGV_MAX bytes): returns its
/// length and whether it was cut, or None when there is none.
#[inline(always)]
pub fn take(tid: u32, dst: *mut u8) -> Option<(u64, bool)> {
    // SAFETY: a lookup; the entry is removed below, after its bytes are copied.
    let entry = unsafe { CALLER_ARGV.get(&tid) }?;
    let len = u64::from(entry.len) & (EXEC_ARGV_MAX - 1);
    let truncated = entry.truncated != 0;
    if len > 0 {
        // SAFETY: `dst` has room for EXEC_ARGV_MAX bytes and `len` is below that.
        unsafe {
            generated::bpf_probe_read_kernel(dst.cast(), len as u32, entry.bytes.as_ptr().cast());
        }
    }
    let _ = CALLER_ARGV.remove(&tid);
    Some((len, truncated))
}

/// Forgets thread `tid`'s caller argv (it exits).
#[inline(always)]
pub fn forget(tid: u32) {
    let _ = CALLER_ARGV.remove(&tid);
}
