//! syscord's kernel side.
//!
//! Hooks, all BTF-typed raw tracepoints:
//! - `sys_exit`, the hot path: is the thread recorded (its byte in `TASKS`, no helper call)?
//!   Then read number, arguments and user PC from the saved `pt_regs` and append one record to
//!   this CPU's ring, with the syscall's first capture; further captures are taken by the
//!   step programs it tail-calls (`syscord_capture_flat`, `syscord_capture_iovec`, loaded for
//!   `sys_exit` but not attached). Exit sees every argument, so `sys_enter` is hooked only
//!   with `record -T` (`syscord_sys_enter`, the entry time): on this kind of machine hooking
//!   it costs more than the whole exit path.
//! - `sched_process_fork` / `sched_process_exit`: follow children, record `exit` /
//!   `exit_group` (which never reach `sys_exit`) and thread exits.
//! - `sched_process_exec`: the path and argv of a new program image (gone from memory by the
//!   time execve returns), the argv its caller passed (`exec_args.rs`, fentry programs on
//!   the execve and execveat entry points), what the image starts with (`exec_image.rs`, a
//!   second program on the tracepoint), and the start of tracing for the command syscord
//!   launched.
//! - `task_rename`: thread names, so records need not carry one each.
//! - `cgroup_attach_task`, only when the filter looks at cgroups: a moved task is judged
//!   again.
//! - `signal_generate` / `signal_deliver`: signals sent to and delivered to recorded threads
//!   (`signals.rs`).
#![no_std]
#![no_main]
#![feature(core_intrinsics)]
#![cfg_attr(not(bpf_target_arch = "x86_64"), feature(asm_experimental_arch))]
#![allow(internal_features)]

mod captures;
mod exec_args;
mod exec_image;
mod ring;
mod signals;
mod tasks;

use aya_ebpf::{
    helpers::{
        bpf_get_current_comm, bpf_get_current_task_btf, bpf_ktime_get_boot_ns,
        bpf_probe_read_kernel, bpf_probe_read_kernel_buf, bpf_probe_read_kernel_str_bytes,
        bpf_probe_read_user_buf, generated::bpf_task_pt_regs,
    },
    macros::{btf_tracepoint, map},
    maps::{Array, HashMap, PerCpuArray, ProgramArray},
    programs::BtfTracePointContext,
};
use syscord_arch::regs::PtRegsLayout;
use syscord_common::{
    CAPTURES_BOUND, COMM_LEN, CommBody, Config, EXEC_ARGV_MAX, EXEC_PATH_MAX, EXEC_RECORD_MAX,
    ExecBody, ExitBody, ForkBody, HEADER_SIZE, MAX_CAPTURES, MAX_REQUEST_RULES, MAX_SYSCALLS,
    RECORD_ALIGN, SEGMENT_GUARD, SYSCALL_FIXED_MAX, SYSCALL_RECORD_SIZE, SyscallBody, SyscallRule,
    caller_argv, capture_kind, capture_step, follow, record_kind, request_key, rule_flags,
    syscall_captures_at, syscall_layout, task_state,
};

#[cfg(bpf_target_arch = "x86_64")]
pub(crate) const PT_REGS: PtRegsLayout = syscord_arch::regs::X86_64;
#[cfg(bpf_target_arch = "aarch64")]
pub(crate) const PT_REGS: PtRegsLayout = syscord_arch::regs::AARCH64;
#[cfg(bpf_target_arch = "riscv64")]
pub(crate) const PT_REGS: PtRegsLayout = syscord_arch::regs::RISCV64;
#[cfg(not(any(
    bpf_target_arch = "x86_64",
    bpf_target_arch = "aarch64",
    bpf_target_arch = "riscv64"
)))]
compile_error!("syscord's eBPF program supports bpf_target_arch x86_64, aarch64 and riscv64");

/// Written by userspace before loading; read-only for the program, so the verifier treats
/// its fields as constants.
#[unsafe(no_mangle)]
static CONFIG: Config = Config {
    cpus: 0,
    segments_per_cpu: 0,
    task_pid: 0,
    task_tgid: 0,
    task_exit_code: 0,
    task_cpu: 0,
    task_mm: 0,
    mm_arg_start: 0,
    mm_arg_end: 0,
    bprm_filename: 0,
    snap_len: 0,
    task_words: 0,
    task_real_parent: 0,
    task_real_cred: 0,
    cred_uid: 0,
    cred_gid: 0,
    task_cgroups: 0,
    css_set_dfl_cgrp: 0,
    cgroup_kn: 0,
    kernfs_node_id: 0,
    task_comm: 0,
    bprm_file: 0,
    file_path_dentry: 0,
    file_path_mnt: 0,
    dentry_d_parent: 0,
    dentry_name: 0,
    dentry_name_len: 0,
    vfsmount_mnt_root: 0,
    mount_mnt: 0,
    mount_mnt_parent: 0,
    mount_mnt_mountpoint: 0,
    timing: 0,
    recorder_tgid: 0,
    store_release: 0,
    ksigaction_handler: 0,
    ksigaction_flags: 0,
    file_inode: 0,
    inode_ino: 0,
    inode_size: 0,
    inode_mode: 0,
    inode_sb: 0,
    sb_dev: 0,
    inode_mtime_sec: 0,
    inode_mtime_nsec: 0,
    mm_saved_auxv: 0,
    mm_env_start: 0,
    mm_env_end: 0,
    task_fs: 0,
    fs_pwd_dentry: 0,
    fs_pwd_mnt: 0,
    capture_env: 0,
};

/// One field of CONFIG. The volatile read keeps the compiler from folding the placeholder
/// value userspace replaces at load time; reading one field loads only that field.
macro_rules! config {
    ($field:ident) => {
        $crate::read_config(core::ptr::addr_of!($crate::CONFIG.$field))
    };
}
pub(crate) use config;

#[inline(always)]
pub(crate) fn read_config<T: Copy>(field: *const T) -> T {
    // SAFETY: a field of CONFIG, a plain static the program never writes.
    unsafe { core::ptr::read_volatile(field) }
}

/// Per-syscall rules, indexed by syscall number; then the rules of (syscall, request)
/// pairs, from index MAX_SYSCALLS.
#[map]
static RULES: Array<SyscallRule> = Array::with_max_entries(MAX_SYSCALLS + MAX_REQUEST_RULES, 0);

/// Where in RULES the rule of a (syscall, request) pair is, by `request_key`.
#[map]
static REQUEST_SLOTS: HashMap<u64, u32> = HashMap::with_max_entries(MAX_REQUEST_RULES, 0);

/// The rule of syscall `nr` as these registers call it: the syscall's, or for a syscall
/// whose captures depend on a request argument, that request's when it has one. None for a
/// number beyond the table.
#[inline(always)]
fn rule_of(nr: u32, regs: *const u8) -> Option<&'static SyscallRule> {
    if nr >= MAX_SYSCALLS {
        return None;
    }
    let rule = RULES.get(nr)?;
    if rule.flags & rule_flags::BY_REQUEST == 0 {
        return Some(rule);
    }
    let arg = match (rule.flags & rule_flags::REQUEST_ARG_MASK) >> rule_flags::REQUEST_ARG_SHIFT {
        0 => PT_REGS.args[0].offset,
        1 => PT_REGS.args[1].offset,
        2 => PT_REGS.args[2].offset,
        3 => PT_REGS.args[3].offset,
        4 => PT_REGS.args[4].offset,
        _ => PT_REGS.args[5].offset,
    };
    let key = request_key(nr, reg(regs, arg));
    // SAFETY: a lookup; the value is copied out.
    match unsafe { REQUEST_SLOTS.get(&key) } {
        Some(&slot) => RULES.get(slot).or(Some(rule)),
        None => Some(rule),
    }
}

/// Reads one saved user register. `regs` is a BTF-typed `struct pt_regs *`, so the verifier
/// lets us load it directly, without a helper call.
#[inline(always)]
pub(crate) fn reg(regs: *const u8, offset: usize) -> u64 {
    // SAFETY: offsets come from the architecture's pt_regs layout (checked against the
    // running kernel's BTF by userspace before loading).
    unsafe { *(regs.add(offset) as *const u64) }
}

#[inline(always)]
fn syscall_nr(regs: *const u8) -> u32 {
    if let Some(mark) = PT_REGS.not_a_syscall
        && reg(regs, mark.offset) == u64::MAX
    {
        // rt_sigreturn on riscv64: the number register holds the interrupted call's.
        return syscord_common::NO_SYSCALL;
    }
    if PT_REGS.nr_width == 4 {
        // SAFETY: as in `reg`; arm64 keeps the number in an s32.
        unsafe { *(regs.add(PT_REGS.nr.offset) as *const u32) }
    } else {
        reg(regs, PT_REGS.nr.offset) as u32
    }
}

/// The current thread's `tgid << 32 | pid`, as bpf_get_current_pid_tgid gives it, read from
/// its task_struct. Recent x86_64 verifiers (the 6.18 host's) turn
/// bpf_get_current_task_btf into a per-CPU load, so this is three loads where the helper is
/// a call: about 30 ns less per recorded syscall there (a getppid loop went from 1.93x to
/// 1.82x its untraced time). Elsewhere it costs what the helper did.
#[inline(always)]
pub(crate) fn current_pid_tgid() -> u64 {
    // SAFETY: the current task, valid for the whole program; the offsets come from the
    // running kernel's BTF, and the verifier checks each load against it.
    unsafe {
        let task = bpf_get_current_task_btf() as *const u8;
        let pid = *(task.add(config!(task_pid) as usize) as *const u32);
        let tgid = *(task.add(config!(task_tgid) as usize) as *const u32);
        (u64::from(tgid) << 32) | u64::from(pid)
    }
}

/// Rule flags of syscall `nr` (0 for numbers without a rule).
#[inline(always)]
fn rule_flags_of(nr: u32) -> u32 {
    if nr >= MAX_SYSCALLS {
        return 0;
    }
    RULES.get(nr).map_or(0, |rule| rule.flags)
}

/// The rule flags of a number beyond the rule table: all six argument registers.
const ALL_ARGS: u32 = 6 << rule_flags::ARGS_SHIFT;

/// Writes a syscall record's body and entry time (with -T) after the header; returns the
/// header flags that say what the record holds (the rule's, and its layout) and where its
/// captures start, a constant.
#[inline(always)]
fn fill_syscall(
    record: *mut u8,
    regs: *const u8,
    nr: u32,
    ret: i64,
    tid: u32,
    rule_flags: u32,
) -> (u32, u64) {
    let timed = config!(timing) != 0;
    // The rule's argument count is in the record's bits already.
    let flags = rule_flags
        | if timed {
            u32::from(syscall_layout::TIMED)
        } else {
            0
        };
    // SAFETY: `record` points at a reservation of at least SYSCALL_FIXED_MAX bytes.
    unsafe {
        let body = record.add(HEADER_SIZE as usize) as *mut SyscallBody;
        (*body).nr = nr;
        (*body).data_len = 0;
        (*body).ret = ret;
        (*body).ret_addr = reg(regs, PT_REGS.pc.offset);
        if timed {
            *(record.add(SYSCALL_RECORD_SIZE as usize) as *mut u64) = take_entry_time(tid);
        }
    }
    (flags, captures_at())
}

/// Where a syscall record's captures start: from `-T` alone, a constant. The rule's flags
/// are unknown to the verifier, and an offset that depended on them would double what it
/// explores after this.
#[inline(always)]
fn captures_at() -> u64 {
    syscall_captures_at(if config!(timing) != 0 {
        syscall_layout::TIMED
    } else {
        0
    })
}

/// Writes the argument registers at `at`, the end of the record, and returns the record's
/// length. All six are written (one store each, wherever `at` is); the record's length
/// keeps the rule's count (in `flags`), and the ones past it lie beyond the record.
#[inline(always)]
fn put_args(record: *mut u8, at: u64, regs: *const u8, flags: u32) -> u64 {
    // SAFETY: the reservation holds six arguments after the body, entry time and captures.
    unsafe {
        *(record.add(at as usize) as *mut [u64; 6]) = [
            reg(regs, PT_REGS.args[0].offset),
            reg(regs, PT_REGS.args[1].offset),
            reg(regs, PT_REGS.args[2].offset),
            reg(regs, PT_REGS.args[3].offset),
            reg(regs, PT_REGS.args[4].offset),
            reg(regs, PT_REGS.args[5].offset),
        ];
    }
    at + 8 * u64::from((flags & rule_flags::ARGS_MASK) >> rule_flags::ARGS_SHIFT)
}

/// With `record -T`: when each recorded thread entered its current syscall, by thread id
/// (sized from pid_max then; one entry otherwise). Taken, and cleared, at sys_exit.
#[map]
static ENTRY_TIMES: Array<u64> = Array::with_max_entries(1, 0);

#[inline(always)]
fn take_entry_time(tid: u32) -> u64 {
    match ENTRY_TIMES.get_ptr_mut(tid) {
        // SAFETY: an element of ENTRY_TIMES; a thread only touches its own.
        Some(slot) => unsafe { core::mem::replace(&mut *slot, 0) },
        None => 0,
    }
}

/// Attached with `record -T` only: what the syscall times cost is paid by those who ask.
#[btf_tracepoint(function = "sys_enter")]
#[inline(always)]
pub fn syscord_sys_enter(ctx: BtfTracePointContext) -> i32 {
    let tid = current_pid_tgid() as u32;
    let state = tasks::state(tid);
    // A task the filter has yet to decide on (or the command, armed before its execve) is
    // decided at its exec, after this: time its execve in case it is recorded from there on.
    if state < task_state::ALL {
        let nr: i64 = ctx.arg(1);
        if rule_flags_of(nr as u32) & rule_flags::EXEC == 0
            || (state == task_state::NONE && !tasks::is_armed(tid))
        {
            return 0;
        }
    }
    if let Some(slot) = ENTRY_TIMES.get_ptr_mut(tid) {
        // SAFETY: as in take_entry_time.
        unsafe { *slot = bpf_ktime_get_boot_ns() };
    }
    0
}

#[btf_tracepoint(function = "sys_exit")]
// Each program's function is inlined into the entry point the macro wraps it in: as a
// separate function taking the context struct by value, kernels before 6.2 reject it
// ("arg#0 type STRUCT"), which happens once a program grows past the inlining threshold.
#[inline(always)]
pub fn syscord_sys_exit(ctx: BtfTracePointContext) -> i32 {
    let pid_tgid = current_pid_tgid();
    let state = tasks::state(pid_tgid as u32);
    if state < task_state::ALL {
        if state == task_state::CANDIDATE && tasks::uses_creds() {
            reevaluate_after_creds(&ctx, pid_tgid as u32);
        }
        return 0;
    }
    let regs: *const u8 = ctx.arg(0);
    let ret: i64 = ctx.arg(1);
    let nr = syscall_nr(regs);
    if tasks::uses_creds() {
        reevaluate_after_creds(&ctx, pid_tgid as u32);
    }
    if !tasks::syscall_passes(state, nr, (-4095..0).contains(&ret)) {
        return 0;
    }
    let Some(rule) = rule_of(nr, regs) else {
        // A number beyond the table: record the registers.
        return record_plain(regs, nr, ret, ALL_ARGS, pid_tgid);
    };
    if rule.flags & rule_flags::CHILD_RETURNS_ZERO != 0 && ret == 0 {
        return 0;
    }
    if rule.ncaptures == 0 {
        return record_plain(regs, nr, ret, rule.flags, pid_tgid);
    }
    let Some(slot) = ring::reserve::<SEGMENT_GUARD>() else {
        return 0;
    };
    let (flags, captures_at) =
        fill_syscall(slot.record(), regs, nr, ret, pid_tgid as u32, rule.flags);
    // The first capture here unless it is an iovec; the others in the step programs.
    let (used, next) = if rule.captures[0].kind == capture_kind::IOVEC {
        (0, 0)
    } else {
        let used = captures::capture_one(slot.record(), captures_at, 0, 0, rule, regs, ret);
        (used, 1)
    };
    next_capture(&ctx, slot, rule, next, used, flags, pid_tgid)
}

/// Where a syscall's captures stand between the program runs that take them.
#[repr(C)]
pub struct PendingCaptures {
    /// Bytes of captures so far.
    used: u64,
    /// The capture to take next.
    next: u32,
    /// The record's header flags.
    flags: u32,
    /// Of an iovec capture: the entry to add next, and the bytes so far.
    iov_entry: u32,
    iov_copied: u64,
}

#[map]
static PENDING_CAPTURES: PerCpuArray<PendingCaptures> = PerCpuArray::with_max_entries(1, 0);

/// The programs that take one capture each, by [`capture_step`] index: loaded for
/// `sys_exit` (the kernel tail-calls only between programs of the same hook), not attached.
/// Each capture in a program of its own keeps what the verifier explores small: four
/// captures unrolled in `sys_exit` took it half a second at every start, an iovec's loop
/// after every kind of length another 90 ms.
#[map]
static CAPTURE_STEP: ProgramArray = ProgramArray::with_max_entries(capture_step::COUNT, 0);

/// Takes capture `next` of the record being built, if the rule has one, in the step
/// program for its kind; otherwise (or if that program is missing, which userspace rules
/// out by loading them before it attaches `sys_exit`) commits the record.
#[inline(always)]
fn next_capture(
    ctx: &BtfTracePointContext,
    slot: ring::Slot,
    rule: &SyscallRule,
    next: u32,
    used: u64,
    flags: u32,
    pid_tgid: u64,
) -> i32 {
    if next < rule.ncaptures
        && let Some(pending) = PENDING_CAPTURES.get_ptr_mut(0)
    {
        let step = if rule.captures[next as usize % MAX_CAPTURES].kind == capture_kind::IOVEC {
            capture_step::IOVEC
        } else {
            capture_step::FLAT
        };
        // SAFETY: this CPU's entry; the program tail-called reads it in this same run.
        unsafe {
            (*pending).used = used;
            (*pending).next = next;
            (*pending).flags = flags;
            (*pending).iov_entry = 0;
            (*pending).iov_copied = 0;
            CAPTURE_STEP.tail_call(ctx, step);
        }
    }
    finish_captured(slot, used, ctx.arg(0), flags, pid_tgid)
}

/// The state a step program resumes from: this CPU's pending captures and the reservation
/// `sys_exit` made, the syscall's registers, result and rule.
#[inline(always)]
fn resume_captures(
    ctx: &BtfTracePointContext,
) -> Option<(
    *mut PendingCaptures,
    ring::Slot,
    *const u8,
    i64,
    &'static SyscallRule,
)> {
    let slot = ring::resume::<SEGMENT_GUARD>()?;
    let regs: *const u8 = ctx.arg(0);
    let (Some(pending), Some(rule)) = (
        PENDING_CAPTURES.get_ptr_mut(0),
        rule_of(syscall_nr(regs), regs),
    ) else {
        slot.abandon();
        return None;
    };
    Some((pending, slot, regs, ctx.arg(1), rule))
}

/// Takes one capture of any kind but iovec, then the next capture or the commit.
#[btf_tracepoint(function = "sys_exit")]
#[inline(always)]
pub fn syscord_capture_flat(ctx: BtfTracePointContext) -> i32 {
    let Some((pending, slot, regs, ret, rule)) = resume_captures(&ctx) else {
        return 0;
    };
    // SAFETY: this CPU's entry, written by the run that tail-called this one.
    let (used, next, flags) = unsafe { ((*pending).used, (*pending).next, (*pending).flags) };
    let used =
        used + captures::capture_one(slot.record(), captures_at(), used, next, rule, regs, ret);
    next_capture(&ctx, slot, rule, next + 1, used, flags, current_pid_tgid())
}

/// Adds one entry to an iovec capture, then the next entry, the next capture or the commit.
#[btf_tracepoint(function = "sys_exit")]
#[inline(always)]
pub fn syscord_capture_iovec(ctx: BtfTracePointContext) -> i32 {
    let Some((pending, slot, regs, ret, rule)) = resume_captures(&ctx) else {
        return 0;
    };
    // SAFETY: this CPU's entry, written by the run that tail-called this one.
    let (used, next, flags, entry, copied) = unsafe {
        let p = &*pending;
        (p.used, p.next, p.flags, p.iov_entry, p.iov_copied)
    };
    let (size, more) = captures::iovec_entry(
        slot.record(),
        captures_at(),
        used,
        next,
        rule,
        regs,
        ret,
        entry,
        copied,
    );
    if let Some(copied) = more {
        // SAFETY: as above.
        unsafe {
            (*pending).iov_entry = entry + 1;
            (*pending).iov_copied = copied;
            CAPTURE_STEP.tail_call(&ctx, capture_step::IOVEC);
        }
        // Only if the tail call failed: the capture ends with the entries it has.
    }
    next_capture(
        &ctx,
        slot,
        rule,
        next + 1,
        used + size,
        flags,
        current_pid_tgid(),
    )
}

/// Writes the captures' length and the arguments after them, and commits the record.
#[inline(always)]
fn finish_captured(slot: ring::Slot, used: u64, regs: *const u8, flags: u32, pid_tgid: u64) -> i32 {
    let body = slot.body::<SyscallBody>();
    // The arguments go where the stored length says they are, as read back: on the riscv64
    // guest (6.12) the length as computed, used as an offset, put them elsewhere in some
    // records (the upper half of a 32-bit result is not always cleared there, where the
    // JIT relies on the verifier to ask for it), while the length stored as a u32 was
    // right. A load zero-extends; the mask tells the verifier the bound and the 8-byte
    // alignment (riscv64's verifier checks that the stores are aligned).
    // SAFETY: the reservation holds the body.
    let data_len = unsafe {
        (*body).data_len = used as u32;
        u64::from(core::ptr::read_volatile(core::ptr::addr_of!(
            (*body).data_len
        ))) & (CAPTURES_BOUND - RECORD_ALIGN)
    };
    let len = put_args(slot.record(), captures_at() + data_len, regs, flags);
    slot.header(len, record_kind::SYSCALL, flags, pid_tgid);
    slot.commit(len);
    0
}

/// After a successful setuid-like syscall, the filter's uid/gid conditions may say
/// something else about the thread.
#[inline(always)]
fn reevaluate_after_creds(ctx: &BtfTracePointContext, tid: u32) {
    let regs: *const u8 = ctx.arg(0);
    let ret: i64 = ctx.arg(1);
    if ret != 0 || !tasks::changes_creds(syscall_nr(regs)) {
        return;
    }
    // SAFETY: the current task, valid for the whole program.
    let task = unsafe { bpf_get_current_task_btf() } as *const u8;
    let was = tasks::state(tid);
    let now = tasks::evaluate(task, tasks::exe_bits(tid));
    tasks::set_state(tid, now);
    if was < task_state::ALL && now >= task_state::ALL {
        record_name(current_pid_tgid(), task);
    }
}

/// Names a thread that the filter selects from now on without an exec, a rename or a fork
/// by a recorded thread having named it in the recording: a COMM record, so that the
/// reader knows whose syscalls follow. The recording's records carry no names.
/// The name is `task`'s, read straight into the record: an array on the stack would be
/// zeroed by a call of `memset` (see `tasks::comm_of`).
#[inline(always)]
fn record_name(pid_tgid: u64, task: *const u8) {
    const LEN: u64 = HEADER_SIZE + core::mem::size_of::<CommBody>() as u64;
    if let Some(slot) = ring::reserve::<LEN>() {
        slot.header(LEN, record_kind::COMM, 0, pid_tgid);
        // SAFETY: the reservation holds a CommBody; bpf_probe_read_kernel tolerates any
        // address and zeroes the destination when it fails.
        unsafe {
            let _ = bpf_probe_read_kernel_buf(
                task.add(config!(task_comm) as usize),
                &mut (*slot.body::<CommBody>()).comm,
            );
        }
        slot.commit(LEN);
    }
}

/// A syscall record with registers only: the common, fast case.
#[inline(always)]
fn record_plain(regs: *const u8, nr: u32, ret: i64, rule_flags: u32, pid_tgid: u64) -> i32 {
    let Some(slot) = ring::reserve::<SYSCALL_FIXED_MAX>() else {
        return 0;
    };
    let (flags, at) = fill_syscall(slot.record(), regs, nr, ret, pid_tgid as u32, rule_flags);
    let len = put_args(slot.record(), at, regs, flags);
    slot.header(len, record_kind::SYSCALL, flags, pid_tgid);
    slot.commit(len);
    0
}

/// Reads a field of a kernel struct at an offset userspace found in BTF.
#[inline(always)]
pub(crate) fn kernel_field<T>(base: *const u8, offset: u32) -> Option<T> {
    // SAFETY: bpf_probe_read_kernel tolerates any address.
    unsafe { bpf_probe_read_kernel(base.add(offset as usize) as *const T).ok() }
}

#[btf_tracepoint(function = "sched_process_fork")]
#[inline(always)]
pub fn syscord_sched_process_fork(ctx: BtfTracePointContext) -> i32 {
    // Runs in the parent before the child first runs: a selected child is recorded from its
    // first instruction.
    let pid_tgid = current_pid_tgid();
    let parent_tid = pid_tgid as u32;
    let parent_state = tasks::state(parent_tid);
    let follow = tasks::follow();
    if parent_state == task_state::NONE && follow & follow::EVERYTHING == 0 {
        return 0;
    }
    let child: *const u8 = ctx.arg(1);
    let (Some(child_tid), Some(child_pid)) = (
        kernel_field::<u32>(child, config!(task_pid)),
        kernel_field::<u32>(child, config!(task_tgid)),
    ) else {
        ring::count_lost_task();
        return 0;
    };
    let thread = child_pid == (pid_tgid >> 32) as u32;
    let candidate = child_pid != config!(recorder_tgid)
        && (follow & follow::EVERYTHING != 0
            || (parent_state != task_state::NONE
                && if thread {
                    follow & follow::THREADS != 0
                } else {
                    follow & follow::CHILDREN != 0
                }));
    if candidate {
        let exe = tasks::exe_bits(parent_tid);
        tasks::set_exe_bits(child_tid, exe);
        let child_state = tasks::evaluate(child, exe);
        if !tasks::set_state(child_tid, child_state) {
            ring::count_lost_task();
        } else if parent_state < task_state::ALL && child_state >= task_state::ALL {
            // No FORK record names it after its parent: the child starts with the
            // parent's name.
            record_name(
                (u64::from(child_pid) << 32) | u64::from(child_tid),
                // SAFETY: the current task, the parent, valid for the whole program.
                unsafe { bpf_get_current_task_btf() } as *const u8,
            );
        }
    }
    if parent_state < task_state::ALL {
        return 0;
    }
    const LEN: u64 = HEADER_SIZE + core::mem::size_of::<ForkBody>() as u64;
    if let Some(slot) = ring::reserve::<LEN>() {
        slot.header(LEN, record_kind::FORK, 0, pid_tgid);
        let body = slot.body::<ForkBody>();
        // SAFETY: the reservation holds a ForkBody.
        unsafe {
            (*body).child_tid = child_tid;
            (*body).child_pid = child_pid;
        }
        slot.commit(LEN);
    }
    0
}

#[btf_tracepoint(function = "sched_process_exit")]
#[inline(always)]
pub fn syscord_sched_process_exit(_ctx: BtfTracePointContext) -> i32 {
    let pid_tgid = current_pid_tgid();
    let tid = pid_tgid as u32;
    let state = tasks::state(tid);
    if state == task_state::NONE {
        return 0;
    }
    // The id may be reused by a thread that has nothing to do with this one.
    tasks::set_state(tid, task_state::NONE);
    exec_args::forget(tid);
    tasks::set_exe_bits(tid, 0);
    if state < task_state::ALL {
        return 0;
    }
    // SAFETY: helpers on the current task, valid for the whole program.
    let task = unsafe { bpf_get_current_task_btf() } as *const u8;
    let regs = unsafe { bpf_task_pt_regs(task as *mut _) } as *const u8;
    if !regs.is_null() {
        let nr = syscall_nr(regs);
        let rule_flags = rule_of(nr, regs).map_or(ALL_ARGS, |rule| rule.flags);
        // exit and exit_group end here instead of at sys_exit.
        if rule_flags & rule_flags::NO_RETURN != 0
            && tasks::syscall_passes(state, nr, false)
            && let Some(slot) = ring::reserve::<SYSCALL_FIXED_MAX>()
        {
            let (flags, at) = fill_syscall(slot.record(), regs, nr, 0, tid, rule_flags);
            let len = put_args(slot.record(), at, regs, flags);
            slot.header(len, record_kind::SYSCALL_NO_RETURN, flags, pid_tgid);
            slot.commit(len);
        }
    }
    if config!(timing) != 0 {
        // A thread killed inside a syscall leaves its entry time behind.
        take_entry_time(tid);
    }
    const LEN: u64 = HEADER_SIZE + core::mem::size_of::<ExitBody>() as u64;
    if let Some(slot) = ring::reserve::<LEN>() {
        slot.header(LEN, record_kind::EXIT, 0, pid_tgid);
        let body = slot.body::<ExitBody>();
        let code = kernel_field::<u32>(task, config!(task_exit_code)).unwrap_or(0);
        // SAFETY: the reservation holds an ExitBody.
        unsafe {
            (*body).exit_code = code;
            (*body)._pad = 0;
        }
        slot.commit(LEN);
    }
    0
}

#[btf_tracepoint(function = "sched_process_exec")]
#[inline(always)]
pub fn syscord_sched_process_exec(ctx: BtfTracePointContext) -> i32 {
    let pid_tgid = current_pid_tgid();
    let tid = pid_tgid as u32;
    let old_tid: u32 = ctx.arg(1);
    let mut candidate = tasks::state(tid) != task_state::NONE;
    if old_tid != tid {
        // A non-leader thread exec'd and took over the leader's id.
        candidate |= tasks::state(old_tid) != task_state::NONE;
        tasks::set_state(old_tid, task_state::NONE);
    }
    candidate |= tasks::take_armed(old_tid);
    if !candidate {
        return 0;
    }
    // A new program: its name and executable changed, the filter may think otherwise now.
    let bprm: *const u8 = ctx.arg(2);
    let filename =
        kernel_field::<*const u8>(bprm, config!(bprm_filename)).unwrap_or(core::ptr::null());
    let file = kernel_field::<*const u8>(bprm, config!(bprm_file)).unwrap_or(core::ptr::null());
    let exe = tasks::exe_bits_of(file);
    tasks::set_exe_bits(tid, exe);
    // SAFETY: the current task, valid for the whole program.
    let task = unsafe { bpf_get_current_task_btf() } as *const u8;
    let state = tasks::evaluate(task, exe);
    if !tasks::set_state(tid, state) {
        ring::count_lost_task();
        exec_args::forget(old_tid);
        return 0;
    }
    if state < task_state::ALL {
        exec_args::forget(old_tid);
        if config!(timing) != 0 {
            // Its execve was timed in case; it is not recorded, so the time must not be
            // left for a later thread with this id.
            take_entry_time(tid);
        }
        return 0;
    }
    let Some(slot) = ring::reserve::<EXEC_RECORD_MAX>() else {
        return 0;
    };
    let body = slot.body::<ExecBody>();
    let strings = slot.after::<ExecBody>();
    // SAFETY: the reservation holds EXEC_RECORD_MAX bytes: the body, then room for
    // EXEC_PATH_MAX + EXEC_ARGV_MAX bytes of strings.
    unsafe {
        (*body).old_tid = old_tid;
        (*body).comm = bpf_get_current_comm().unwrap_or([0; COMM_LEN]);

        let path_dst = core::slice::from_raw_parts_mut(strings, EXEC_PATH_MAX as usize);
        let path_len = match bpf_probe_read_kernel_str_bytes(filename, path_dst) {
            Ok(s) => s.len() as u64,
            Err(_) => 0,
        };
        let path_len = path_len & (EXEC_PATH_MAX - 1);

        // The argv strings sit in the new image's memory, between arg_start and arg_end.
        let mut argv_full = 0u64;
        let mut argv_len = 0u64;
        if let Some(mm) = kernel_field::<*const u8>(task, config!(task_mm))
            && let (Some(start), Some(end)) = (
                kernel_field::<u64>(mm, config!(mm_arg_start)),
                kernel_field::<u64>(mm, config!(mm_arg_end)),
            )
            && end > start
        {
            argv_full = end - start;
            let len = if argv_full > EXEC_ARGV_MAX {
                EXEC_ARGV_MAX
            } else {
                argv_full
            };
            let dst = core::slice::from_raw_parts_mut(
                strings.add(path_len as usize),
                (len & (EXEC_ARGV_MAX * 2 - 1)) as usize,
            );
            if !dst.is_empty() && bpf_probe_read_user_buf(start as *const u8, dst).is_ok() {
                argv_len = dst.len() as u64;
            }
        }
        // The argv the caller passed, after the new image's.
        let argv_len = argv_len & (EXEC_ARGV_MAX * 2 - 1);
        let (caller_len, caller_flags) =
            match exec_args::take(old_tid, strings.add((path_len + argv_len) as usize)) {
                Some((len, truncated)) => (
                    len,
                    caller_argv::CAPTURED | if truncated { caller_argv::TRUNCATED } else { 0 },
                ),
                None => (0, 0),
            };
        (*body).caller_argv_len = caller_len as u16;
        (*body).caller_argv_flags = caller_flags;
        (*body).path_len = path_len as u16;
        (*body).argv_len = argv_len as u16;
        (*body).argv_full_len = argv_full as u32;
        let len = HEADER_SIZE
            + core::mem::size_of::<ExecBody>() as u64
            + path_len
            + argv_len
            + caller_len;
        slot.header(len, record_kind::EXEC, 0, pid_tgid);
        slot.commit(len);
    }
    0
}

#[btf_tracepoint(function = "task_rename")]
#[inline(always)]
pub fn syscord_task_rename(ctx: BtfTracePointContext) -> i32 {
    let task: *const u8 = ctx.arg(0);
    let (Some(tid), Some(pid)) = (
        kernel_field::<u32>(task, config!(task_pid)),
        kernel_field::<u32>(task, config!(task_tgid)),
    ) else {
        return 0;
    };
    let state = tasks::state(tid);
    // An exec renames too, before sched_process_exec: the name goes into the EXEC record.
    if state == task_state::NONE || tasks::is_armed(tid) {
        return 0;
    }
    let comm: *const u8 = ctx.arg(1);
    // The task still holds its old name (the kernel copies the new one right after this
    // tracepoint): judge it by the new one.
    let state = tasks::evaluate_renamed(task, comm, tasks::exe_bits(tid));
    tasks::set_state(tid, state);
    if state < task_state::ALL {
        return 0;
    }
    const LEN: u64 = HEADER_SIZE + core::mem::size_of::<CommBody>() as u64;
    let Some(slot) = ring::reserve::<LEN>() else {
        return 0;
    };
    // The renamed thread, which is not always the one renaming it.
    slot.header(
        LEN,
        record_kind::COMM,
        0,
        (u64::from(pid) << 32) | u64::from(tid),
    );
    let body = slot.body::<CommBody>();
    // SAFETY: the reservation holds a CommBody.
    unsafe {
        (*body).comm = [0; COMM_LEN];
        let _ = bpf_probe_read_kernel_str_bytes(comm, &mut (*body).comm);
    }
    slot.commit(LEN);
    0
}

#[btf_tracepoint(function = "cgroup_attach_task")]
#[inline(always)]
pub fn syscord_cgroup_attach_task(ctx: BtfTracePointContext) -> i32 {
    // (dst_cgrp, path, task, threadgroup), after the move; attached only when the filter
    // looks at cgroups.
    let task: *const u8 = ctx.arg(2);
    let (Some(tid), Some(pid)) = (
        kernel_field::<u32>(task, config!(task_pid)),
        kernel_field::<u32>(task, config!(task_tgid)),
    ) else {
        return 0;
    };
    let was = tasks::state(tid);
    if was != task_state::NONE {
        let now = tasks::evaluate(task, tasks::exe_bits(tid));
        tasks::set_state(tid, now);
        if was < task_state::ALL && now >= task_state::ALL {
            record_name((u64::from(pid) << 32) | u64::from(tid), task);
        }
    }
    0
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 13] = *b"Dual MIT/GPL\0";
