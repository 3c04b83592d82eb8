//! Signals of recorded threads: `signal_generate` when anyone sends one to a recorded thread
//! (or to its process), `signal_deliver` when the kernel hands one to a recorded thread. Both
//! run rarely next to syscalls, and only when a signal is sent or delivered.

use aya_ebpf::{
    helpers::{bpf_get_current_comm, bpf_get_current_uid_gid, generated},
    macros::btf_tracepoint,
    programs::BtfTracePointContext,
};
use syscord_common::{
    COMM_LEN, HEADER_SIZE, KERNEL_SIGINFO_SIZE, SignalDeliverBody, SignalGenerateBody, record_kind,
    siginfo_source, task_state,
};

use crate::{config, current_pid_tgid, kernel_field, ring, tasks};

/// The kernel's `SEND_SIG_NOINFO` and `SEND_SIG_PRIV`: siginfo pointers 0 and 1.
const SEND_SIG_PRIV: usize = 1;

/// Copies the kernel's siginfo at `info` into `dst`, or zeroes `dst` when `info` is one of
/// the kernel's markers for "no siginfo"; returns where the siginfo came from.
#[inline(always)]
fn copy_siginfo(info: *const u8, dst: *mut [u8; KERNEL_SIGINFO_SIZE]) -> u32 {
    let source = match info as usize {
        0 => siginfo_source::NONE,
        SEND_SIG_PRIV => siginfo_source::KERNEL,
        _ => siginfo_source::COPIED,
    };
    // SAFETY: `dst` is inside a reservation; bpf_probe_read_kernel tolerates any source
    // address and zeroes the destination when it fails.
    unsafe {
        if source == siginfo_source::COPIED {
            generated::bpf_probe_read_kernel(dst.cast(), KERNEL_SIGINFO_SIZE as u32, info.cast());
        } else {
            *(dst as *mut [u64; KERNEL_SIGINFO_SIZE / 8]) = [0; KERNEL_SIGINFO_SIZE / 8];
        }
    }
    source
}

/// `signal_deliver(sig, info, ka)`, in the receiving thread, just before it runs the handler,
/// takes the default action, or ignores the signal.
#[btf_tracepoint(function = "signal_deliver")]
#[inline(always)]
pub fn syscord_signal_deliver(ctx: BtfTracePointContext) -> i32 {
    let pid_tgid = current_pid_tgid();
    let state = tasks::state(pid_tgid as u32);
    let signo: u32 = ctx.arg(0);
    if state < task_state::ALL || !tasks::signal_passes(state, signo) {
        return 0;
    }
    let info: *const u8 = ctx.arg(1);
    let action: *const u8 = ctx.arg(2);
    const LEN: u64 = HEADER_SIZE + core::mem::size_of::<SignalDeliverBody>() as u64;
    let Some(slot) = ring::reserve::<LEN>() else {
        return 0;
    };
    slot.header(LEN, record_kind::SIGNAL_DELIVER, 0, pid_tgid);
    let body = slot.body::<SignalDeliverBody>();
    // SAFETY: the reservation holds a SignalDeliverBody.
    unsafe {
        (*body).signo = signo;
        (*body).source = copy_siginfo(info, &mut (*body).siginfo);
        (*body).handler = kernel_field::<u64>(action, config!(ksigaction_handler)).unwrap_or(0);
        (*body).sa_flags = kernel_field::<u64>(action, config!(ksigaction_flags)).unwrap_or(0);
    }
    slot.commit(LEN);
    0
}

/// `signal_generate(sig, info, task, group, result)`, in the sender, once the kernel has
/// queued the signal on `task` (or found it ignored, already pending, or the queue full).
#[btf_tracepoint(function = "signal_generate")]
#[inline(always)]
pub fn syscord_signal_generate(ctx: BtfTracePointContext) -> i32 {
    let target: *const u8 = ctx.arg(2);
    let (Some(tid), Some(pid)) = (
        kernel_field::<u32>(target, config!(task_pid)),
        kernel_field::<u32>(target, config!(task_tgid)),
    ) else {
        return 0;
    };
    let state = tasks::state(tid);
    let signo: u32 = ctx.arg(0);
    if state < task_state::ALL || !tasks::signal_passes(state, signo) {
        return 0;
    }
    let info: *const u8 = ctx.arg(1);
    let group: u32 = ctx.arg(3);
    let result: u32 = ctx.arg(4);
    let sender = current_pid_tgid();
    const LEN: u64 = HEADER_SIZE + core::mem::size_of::<SignalGenerateBody>() as u64;
    let Some(slot) = ring::reserve::<LEN>() else {
        return 0;
    };
    // The record is the target's: it is what happened to that thread.
    slot.header(
        LEN,
        record_kind::SIGNAL_GENERATE,
        0,
        (u64::from(pid) << 32) | u64::from(tid),
    );
    let body = slot.body::<SignalGenerateBody>();
    // SAFETY: the reservation holds a SignalGenerateBody; the helpers read the current
    // task, valid for the whole program.
    unsafe {
        (*body).signo = signo;
        (*body).source = copy_siginfo(info, &mut (*body).siginfo);
        (*body).sender_pid = (sender >> 32) as u32;
        (*body).sender_tid = sender as u32;
        (*body).sender_uid = bpf_get_current_uid_gid() as u32;
        (*body).group = u32::from(group != 0);
        (*body).result = result;
        (*body)._pad = 0;
        (*body).sender_comm = bpf_get_current_comm().unwrap_or([0; COMM_LEN]);
    }
    slot.commit(LEN);
    0
}
