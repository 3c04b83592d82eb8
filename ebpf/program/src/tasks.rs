//! Which threads are recorded: one byte per thread id (a `task_state`), read on the hot path
//! with an inlined array lookup and no helper call; and the filter's process conditions,
//! evaluated when a thread starts, execs, is renamed or changes credentials or cgroup.

use aya_ebpf::{
    bindings::BPF_F_MMAPABLE,
    helpers::{bpf_probe_read_kernel, bpf_probe_read_kernel_str_bytes, generated},
    macros::map,
    maps::{Array, HashMap, PerCpuArray},
};
use syscord_common::{
    COMM_LEN, Condition, FilterConfig, MAX_CONDITIONS, MAX_SYSCALL_FILTERS, MAX_SYSCALLS,
    NAME_PATTERN_LEN, NamePattern, PATH_COMPARE_LEN, PATH_PATTERN_LEN, PathPattern, SignalFilter,
    SyscallFilter, condition_field, condition_op, pattern_kind, task_state,
};

use crate::{config, read_config};

/// Byte `tid % 8` of entry `tid / 8`: the thread's `task_state`. Sized by userspace from
/// pid_max; userspace maps it too, to mark running threads. Byte stores need no atomics:
/// neighbouring threads' bytes are never torn.
#[map]
static TASKS: Array<u64> = Array::with_max_entries(1, BPF_F_MMAPABLE);

/// Same shape: bit i says whether the thread's executable matches exe pattern i. Inherited
/// at fork, computed at exec. One entry when the filter has no exe condition.
#[map]
static EXE_BITS: Array<u64> = Array::with_max_entries(1, BPF_F_MMAPABLE);

/// Threads userspace started that become candidates at their next exec (the command syscord
/// launches: its own pre-exec syscalls are the recorder's, not the command's).
#[map]
static ARMED: HashMap<u32, u32> = HashMap::with_max_entries(64, 0);

/// Room for an executable path being compared with the exe patterns: the path is built from
/// its last component backwards, ending at byte PATH_COMPARE_LEN; twice that size so that a
/// component copied at any masked offset stays inside the buffer, as the verifier demands.
#[map]
static PATH_SCRATCH: PerCpuArray<PathScratch> = PerCpuArray::with_max_entries(1, 0);

#[repr(C)]
pub struct PathScratch {
    pub text: [u8; 2 * PATH_COMPARE_LEN],
    /// Where the path starts, and whether it is whole, passed through memory: the verifier
    /// then sees one unknown value instead of one state per way out of the walk, and checks
    /// the pattern matching once rather than for each.
    pub start: u32,
    pub whole: u32,
}

/// Path components (directories and mount crossings) walked at most.
const PATH_WALK_STEPS: usize = 40;

/// The compiled filter (read-only: the verifier sees its fields as constants).
#[unsafe(no_mangle)]
static FILTER: FilterConfig = FilterConfig {
    follow: 0,
    count: 0,
    conditions: [Condition {
        field: 0,
        op: 0,
        count: 0,
        _pad: [0; 5],
        numbers: [0; 8],
        names: [NamePattern {
            kind: 0,
            len: 0,
            bytes: [0; NAME_PATTERN_LEN],
        }; 8],
    }; MAX_CONDITIONS],
    states: [0; 1 << MAX_CONDITIONS],
    exe_patterns: [PathPattern {
        kind: 0,
        len: 0,
        bytes: [0; PATH_PATTERN_LEN],
    }; 8],
    exe_pattern_count: 0,
    uses_creds: 0,
    uses_exe: 0,
    uses_cgroup: 0,
    creds_syscalls: [0; MAX_SYSCALLS as usize / 64],
};

/// The syscall filters the process conditions leave (read-only).
#[unsafe(no_mangle)]
static SYSCALL_FILTERS: [SyscallFilter; MAX_SYSCALL_FILTERS] =
    [[0; MAX_SYSCALLS as usize]; MAX_SYSCALL_FILTERS];

/// The signals each syscall filter keeps (read-only).
#[unsafe(no_mangle)]
static SIGNAL_FILTERS: [SignalFilter; MAX_SYSCALL_FILTERS] = [0; MAX_SYSCALL_FILTERS];

/// A field of FILTER, or anything inside it, read so the compiler cannot fold the
/// placeholder.
macro_rules! filter {
    ($($path:tt)*) => {
        $crate::read_config(core::ptr::addr_of!($crate::tasks::FILTER.$($path)*))
    };
}

#[inline(always)]
fn byte_of(map: &Array<u64>, tid: u32) -> Option<*mut u8> {
    map.get_ptr_mut(tid >> 3)
        // SAFETY: byte `tid % 8` of an 8-byte value.
        .map(|word| unsafe { (word as *mut u8).add((tid & 7) as usize) })
}

/// The thread's state; NONE beyond the array.
#[inline(always)]
pub fn state(tid: u32) -> u8 {
    // SAFETY: a byte of a map value.
    byte_of(&TASKS, tid).map_or(task_state::NONE, |b| unsafe { *b })
}

/// Sets the thread's state; false if it is beyond the array.
#[inline(always)]
pub fn set_state(tid: u32, state: u8) -> bool {
    match byte_of(&TASKS, tid) {
        Some(b) => {
            // SAFETY: a byte of a map value.
            unsafe { *b = state };
            true
        }
        None => false,
    }
}

#[inline(always)]
pub fn exe_bits(tid: u32) -> u8 {
    // SAFETY: a byte of a map value.
    byte_of(&EXE_BITS, tid).map_or(0, |b| unsafe { *b })
}

#[inline(always)]
pub fn set_exe_bits(tid: u32, bits: u8) {
    if let Some(b) = byte_of(&EXE_BITS, tid) {
        // SAFETY: a byte of a map value.
        unsafe { *b = bits };
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

pub fn follow() -> u32 {
    filter!(follow)
}

pub fn uses_exe() -> bool {
    filter!(uses_exe) != 0
}

pub fn uses_creds() -> bool {
    filter!(uses_creds) != 0
}

/// Whether syscall `nr` may have changed the caller's credentials.
#[inline(always)]
pub fn changes_creds(nr: u32) -> bool {
    let word: u64 = filter!(creds_syscalls[((nr >> 6) & 7) as usize]);
    (word >> (nr & 63)) & 1 != 0
}

/// Whether a syscall that `failed` (or not) passes syscall filter `state - FILTERED`.
#[inline(always)]
pub fn syscall_passes(state: u8, nr: u32, failed: bool) -> bool {
    if state < task_state::FILTERED {
        return true;
    }
    let filter = ((state - task_state::FILTERED) as usize) & (MAX_SYSCALL_FILTERS - 1);
    let bits: u8 = crate::read_config(core::ptr::addr_of!(
        SYSCALL_FILTERS[filter][(nr as usize) & (MAX_SYSCALLS as usize - 1)]
    ));
    bits & if failed { 2 } else { 1 } != 0
}

/// Whether a signal event of signal `signo` passes syscall filter `state - FILTERED`.
#[inline(always)]
pub fn signal_passes(state: u8, signo: u32) -> bool {
    if state < task_state::FILTERED {
        return true;
    }
    let filter = ((state - task_state::FILTERED) as usize) & (MAX_SYSCALL_FILTERS - 1);
    let bits: SignalFilter = crate::read_config(core::ptr::addr_of!(SIGNAL_FILTERS[filter]));
    (bits >> (signo & 63)) & 1 != 0
}

#[inline(always)]
fn kernel<T>(base: *const u8, offset: u32) -> Option<T> {
    if base.is_null() {
        return None;
    }
    // SAFETY: bpf_probe_read_kernel tolerates any address.
    unsafe { bpf_probe_read_kernel(base.add(offset as usize) as *const T).ok() }
}

/// `?` in a pattern matches any one byte.
#[inline(always)]
fn byte_matches(pattern: u8, text: u8) -> bool {
    pattern == b'?' || pattern == text
}

// Patterns and conditions live in FILTER, an immutable static whose real value userspace
// writes at load time: every read of it goes through `read_config` (volatile), or the
// compiler would fold the placeholder zeros. The verifier still sees constants.

/// Whether `text[at..at + len]` matches the pattern's bytes.
#[inline(always)]
fn name_matches_at(p: *const NamePattern, plen: usize, text: &[u8; COMM_LEN], at: usize) -> bool {
    for i in 0..NAME_PATTERN_LEN {
        if i >= plen {
            break;
        }
        // SAFETY: a byte of a pattern in FILTER.
        let pattern = read_config(unsafe { core::ptr::addr_of!((*p).bytes[i]) });
        let t = text[(at + i) & (COMM_LEN - 1)];
        if at + i >= COMM_LEN || !byte_matches(pattern, t) {
            return false;
        }
    }
    true
}

#[inline(always)]
fn name_matches(p: *const NamePattern, text: &[u8; COMM_LEN]) -> bool {
    let len = text.iter().position(|&b| b == 0).unwrap_or(COMM_LEN);
    // SAFETY: fields of a pattern in FILTER.
    let (kind, plen) = unsafe {
        (
            read_config(core::ptr::addr_of!((*p).kind)),
            read_config(core::ptr::addr_of!((*p).len)) as usize,
        )
    };
    if plen > len {
        return false;
    }
    match kind {
        pattern_kind::EXACT => plen == len && name_matches_at(p, plen, text, 0),
        pattern_kind::PREFIX => name_matches_at(p, plen, text, 0),
        pattern_kind::SUFFIX => name_matches_at(p, plen, text, len - plen),
        _ => {
            for at in 0..COMM_LEN {
                if at + plen > len {
                    break;
                }
                if name_matches_at(p, plen, text, at) {
                    return true;
                }
            }
            false
        }
    }
}

#[inline(always)]
fn path_matches_at(
    p: *const PathPattern,
    plen: usize,
    text: &[u8; 2 * PATH_COMPARE_LEN],
    at: usize,
) -> bool {
    for i in 0..PATH_PATTERN_LEN {
        if i >= plen {
            break;
        }
        // SAFETY: a byte of a pattern in FILTER.
        let pattern = read_config(unsafe { core::ptr::addr_of!((*p).bytes[i]) });
        if !byte_matches(pattern, text[(at + i) & (2 * PATH_COMPARE_LEN - 1)]) {
            return false;
        }
    }
    true
}

/// Matches an executable path (exact, prefix or suffix; userspace refuses `*text*`): the
/// path is `text[start..PATH_COMPARE_LEN]`, and `whole` is false when its beginning was cut.
#[inline(always)]
fn path_matches(
    p: *const PathPattern,
    text: &[u8; 2 * PATH_COMPARE_LEN],
    start: usize,
    whole: bool,
) -> bool {
    // SAFETY: fields of a pattern in FILTER.
    let (kind, plen) = unsafe {
        (
            read_config(core::ptr::addr_of!((*p).kind)),
            read_config(core::ptr::addr_of!((*p).len)) as usize,
        )
    };
    let len = PATH_COMPARE_LEN - start;
    if plen > len {
        return false;
    }
    match kind {
        pattern_kind::EXACT => whole && plen == len && path_matches_at(p, plen, text, start),
        pattern_kind::PREFIX => whole && path_matches_at(p, plen, text, start),
        _ => path_matches_at(p, plen, text, PATH_COMPARE_LEN - plen),
    }
}

#[inline(always)]
pub fn kernel_pointer(base: *const u8, offset: u32) -> *const u8 {
    // SAFETY: bpf_probe_read_kernel tolerates any address.
    unsafe { bpf_probe_read_kernel(base.add(offset as usize) as *const *const u8) }
        .unwrap_or(core::ptr::null())
}

/// Writes the absolute path of `file` (a `struct file`) into `scratch`, as /proc/PID/exe
/// shows it.
#[inline(always)]
fn file_path(file: *const u8, scratch: &mut PathScratch) {
    walk_path(
        kernel_pointer(file, config!(file_path_dentry)),
        kernel_pointer(file, config!(file_path_mnt)),
        scratch,
    );
}

/// Writes the absolute path of `dentry` in `vfsmount` into `scratch.text`, ending at byte
/// PATH_COMPARE_LEN: dentry names up to the mount's root, then on through the mount point
/// in the parent mount, up to the root of the mount namespace. Sets where the path starts
/// and whether it is whole (not cut for length or depth).
///
/// Both live in the scratch memory, not in registers: the verifier then sees an unknown
/// value at each step instead of one state per way through the steps before, which would
/// grow exponentially with the number of steps.
#[inline(always)]
pub fn walk_path(mut dentry: *const u8, mut vfsmount: *const u8, scratch: &mut PathScratch) {
    let set_start = |scratch: &mut PathScratch, start: usize| {
        // SAFETY: a field of this CPU's scratch buffer.
        unsafe { core::ptr::write_volatile(&mut scratch.start, start as u32) }
    };
    // SAFETY: as above.
    let start_of =
        |scratch: &PathScratch| unsafe { core::ptr::read_volatile(&scratch.start) as usize };
    set_start(scratch, PATH_COMPARE_LEN);
    // SAFETY: as above.
    unsafe { core::ptr::write_volatile(&mut scratch.whole, 0) };
    let mount_vfsmount = config!(mount_mnt) as usize;
    for _ in 0..PATH_WALK_STEPS {
        if dentry.is_null() || vfsmount.is_null() {
            break;
        }
        let parent = kernel_pointer(dentry, config!(dentry_d_parent));
        let mount_root = kernel_pointer(vfsmount, config!(vfsmount_mnt_root));
        if dentry == mount_root || dentry == parent {
            // The top of this mount: go on from where it is mounted, unless it is the root.
            let mount = vfsmount.wrapping_sub(mount_vfsmount);
            let mount_parent = kernel_pointer(mount, config!(mount_mnt_parent));
            if mount_parent.is_null() || mount_parent == mount {
                // SAFETY: as above.
                unsafe { core::ptr::write_volatile(&mut scratch.whole, 1) };
                break;
            }
            dentry = kernel_pointer(mount, config!(mount_mnt_mountpoint));
            vfsmount = mount_parent.wrapping_add(mount_vfsmount);
            continue;
        }
        let name = kernel_pointer(dentry, config!(dentry_name));
        // SAFETY: as above.
        let len = unsafe {
            bpf_probe_read_kernel(dentry.add(config!(dentry_name_len) as usize) as *const u32)
        }
        .unwrap_or(0) as usize;
        let start = start_of(scratch) & (2 * PATH_COMPARE_LEN - 1);
        if len + 1 > start || start > PATH_COMPARE_LEN {
            break;
        }
        let at = (start - len) & (PATH_COMPARE_LEN - 1);
        // SAFETY: at + len stays below 2 * PATH_COMPARE_LEN; any source address is tolerated.
        let copied = unsafe {
            generated::bpf_probe_read_kernel(
                scratch.text.as_mut_ptr().add(at).cast(),
                (len & (PATH_COMPARE_LEN - 1)) as u32,
                name.cast(),
            )
        };
        if copied != 0 {
            break;
        }
        let slash = (start - len - 1) & (PATH_COMPARE_LEN - 1);
        scratch.text[slash] = b'/';
        set_start(scratch, slash);
        dentry = parent;
    }
    if start_of(scratch) == PATH_COMPARE_LEN {
        // The root directory itself.
        scratch.text[PATH_COMPARE_LEN - 1] = b'/';
        set_start(scratch, PATH_COMPARE_LEN - 1);
    }
}

/// The exe bits of an executable file (the `struct file` being exec'd).
// Indexes, not iterators: FILTER's fields are read through raw pointers so that the compiler
// cannot fold the placeholder values userspace replaces.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
pub fn exe_bits_of(file: *const u8) -> u8 {
    if !uses_exe() || file.is_null() {
        return 0;
    }
    let Some(buf) = PATH_SCRATCH.get_ptr_mut(0) else {
        return 0;
    };
    // SAFETY: this CPU's scratch buffer.
    let scratch = unsafe { &mut *buf };
    file_path(file, scratch);
    // SAFETY: fields of this CPU's scratch buffer.
    let (start, whole) = unsafe {
        (
            core::ptr::read_volatile(&scratch.start) as usize & (PATH_COMPARE_LEN - 1),
            core::ptr::read_volatile(&scratch.whole) != 0,
        )
    };
    let text = &scratch.text;
    let count: u32 = filter!(exe_pattern_count);
    let mut bits = 0u8;
    for i in 0..8 {
        if i as u32 >= count {
            break;
        }
        if path_matches(
            core::ptr::addr_of!(FILTER.exe_patterns[i]),
            text,
            start,
            whole,
        ) {
            bits |= 1 << i;
        }
    }
    bits
}

/// Fields of a condition in FILTER.
#[inline(always)]
fn op(c: *const Condition) -> u8 {
    // SAFETY: a field of a condition in FILTER.
    read_config(unsafe { core::ptr::addr_of!((*c).op) })
}

#[inline(always)]
fn count(c: *const Condition) -> usize {
    // SAFETY: as above.
    read_config(unsafe { core::ptr::addr_of!((*c).count) }) as usize
}

#[inline(always)]
fn number(c: *const Condition, i: usize) -> u64 {
    // SAFETY: as above.
    read_config(unsafe { core::ptr::addr_of!((*c).numbers[i]) })
}

#[inline(always)]
fn compare_numbers(c: *const Condition, value: u64) -> bool {
    match op(c) {
        condition_op::LT => value < number(c, 0),
        condition_op::GT => value > number(c, 0),
        condition_op::LE => value <= number(c, 0),
        condition_op::GE => value >= number(c, 0),
        op => {
            let mut any = false;
            for i in 0..8 {
                if i < count(c) && number(c, i) == value {
                    any = true;
                }
            }
            any == (op == condition_op::ANY)
        }
    }
}

#[inline(always)]
fn compare_names(c: *const Condition, comm: &[u8; COMM_LEN]) -> bool {
    let mut any = false;
    for i in 0..8 {
        // SAFETY: a pattern of a condition in FILTER.
        if i < count(c) && name_matches(unsafe { core::ptr::addr_of!((*c).names[i]) }, comm) {
            any = true;
        }
    }
    any == (op(c) == condition_op::ANY)
}

/// A task's comm (`task_struct::comm`), zeros if unreadable.
///
/// Read into uninitialized memory, which the helper fills either way: a zeroed array on
/// the stack compiles to a call of `memset`, and riscv64's JIT (6.12) refuses tail calls in
/// a program that calls a function of its own (`sys_exit`, which evaluates the filter,
/// tail-calls the capture steps).
#[inline(always)]
pub fn comm_of(task: *const u8) -> [u8; COMM_LEN] {
    let mut comm = core::mem::MaybeUninit::<[u8; COMM_LEN]>::uninit();
    // SAFETY: bpf_probe_read_kernel tolerates any address (a null task's too) and writes
    // all COMM_LEN bytes: the name, or zeros when it fails.
    unsafe {
        generated::bpf_probe_read_kernel(
            comm.as_mut_ptr().cast(),
            COMM_LEN as u32,
            task.wrapping_add(config!(task_comm) as usize).cast(),
        );
        comm.assume_init()
    }
}

/// `renamed`: the task's new name (a kernel string) when it is being renamed, else null.
#[inline(always)]
fn condition_holds(c: *const Condition, task: *const u8, exe_bits: u8, renamed: *const u8) -> bool {
    // SAFETY: a field of a condition in FILTER.
    let field = read_config(unsafe { core::ptr::addr_of!((*c).field) });
    match field {
        condition_field::PID => compare_numbers(
            c,
            kernel::<u32>(task, config!(task_tgid)).map_or(0, u64::from),
        ),
        condition_field::TID => compare_numbers(
            c,
            kernel::<u32>(task, config!(task_pid)).map_or(0, u64::from),
        ),
        condition_field::PPID => {
            let parent =
                kernel::<*const u8>(task, config!(task_real_parent)).unwrap_or(core::ptr::null());
            compare_numbers(
                c,
                kernel::<u32>(parent, config!(task_tgid)).map_or(0, u64::from),
            )
        }
        condition_field::UID | condition_field::GID => {
            let cred =
                kernel::<*const u8>(task, config!(task_real_cred)).unwrap_or(core::ptr::null());
            let offset = if field == condition_field::UID {
                config!(cred_uid)
            } else {
                config!(cred_gid)
            };
            compare_numbers(c, kernel::<u32>(cred, offset).map_or(u64::MAX, u64::from))
        }
        condition_field::COMM if !renamed.is_null() => {
            let mut comm = [0u8; COMM_LEN];
            // SAFETY: bpf_probe_read_kernel_str tolerates any address.
            let _ = unsafe { bpf_probe_read_kernel_str_bytes(renamed, &mut comm) };
            compare_names(c, &comm)
        }
        condition_field::COMM => compare_names(c, &comm_of(task)),
        condition_field::PCOMM => {
            let parent =
                kernel::<*const u8>(task, config!(task_real_parent)).unwrap_or(core::ptr::null());
            compare_names(c, &comm_of(parent))
        }
        condition_field::EXE => {
            let mut any = false;
            for i in 0..8 {
                if i < count(c) && (exe_bits >> (number(c, i) & 7)) & 1 != 0 {
                    any = true;
                }
            }
            any == (op(c) == condition_op::ANY)
        }
        _ => {
            let css = kernel::<*const u8>(task, config!(task_cgroups)).unwrap_or(core::ptr::null());
            let cgroup =
                kernel::<*const u8>(css, config!(css_set_dfl_cgrp)).unwrap_or(core::ptr::null());
            let kn = kernel::<*const u8>(cgroup, config!(cgroup_kn)).unwrap_or(core::ptr::null());
            compare_numbers(c, kernel::<u64>(kn, config!(kernfs_node_id)).unwrap_or(0))
        }
    }
}

/// The state the filter gives a candidate thread.
#[inline(always)]
pub fn evaluate(task: *const u8, exe_bits: u8) -> u8 {
    evaluate_with(task, exe_bits, core::ptr::null())
}

/// The state the filter gives a candidate thread about to be named `comm`.
#[inline(always)]
pub fn evaluate_renamed(task: *const u8, comm: *const u8, exe_bits: u8) -> u8 {
    evaluate_with(task, exe_bits, comm)
}

// Indexes, not iterators: FILTER's fields are read through raw pointers so that the compiler
// cannot fold the placeholder values userspace replaces.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn evaluate_with(task: *const u8, exe_bits: u8, renamed: *const u8) -> u8 {
    let count: u32 = filter!(count);
    let mut results = 0usize;
    for i in 0..MAX_CONDITIONS {
        if i as u32 >= count {
            break;
        }
        if condition_holds(
            core::ptr::addr_of!(FILTER.conditions[i]),
            task,
            exe_bits,
            renamed,
        ) {
            results |= 1 << i;
        }
    }
    filter!(states[results & ((1 << MAX_CONDITIONS) - 1)])
}
