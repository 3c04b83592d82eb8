//! The contract between the eBPF program and userspace: map layouts, the records the kernel
//! side writes, and the configuration userspace sets before loading.
//!
//! Everything is `#[repr(C)]` with explicit padding, so both sides (and every architecture)
//! agree on the bytes.
#![no_std]

/// Length of `task_struct::comm`, NUL included.
pub const COMM_LEN: usize = 16;

/// Number of slots of the per-syscall rule table; above every syscall number of the three
/// 64-bit tables (the highest is below 470).
pub const MAX_SYSCALLS: u32 = 512;

/// Bits of [`SyscallRule::flags`].
pub mod rule_flags {
    /// The syscall never returns to `sys_exit` (exit, exit_group): it is recorded when the
    /// thread exits.
    pub const NO_RETURN: u32 = 1 << 0;
    /// The syscall replaces the program image (execve, execveat): its path and argv are
    /// captured when the new image is in place, since the old memory is gone at exit.
    pub const EXEC: u32 = 1 << 1;
    /// A successful call also "returns" 0 in the new child (fork, vfork, clone, clone3); that
    /// return is not a syscall the child made, so it is not recorded.
    pub const CHILD_RETURNS_ZERO: u32 = 1 << 2;
}

/// What the eBPF program does for one syscall number; userspace fills the `RULES` array from
/// the handler descriptors of the target architecture.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallRule {
    pub flags: u32,
    pub _reserved: u32,
}

// ---------------------------------------------------------------------------------------------
// Per-CPU rings
//
// Each CPU has its own single-producer single-consumer ring in memory userspace maps: the eBPF
// program (never running twice at once on one CPU) appends records with plain stores and
// publishes them by swapping the head; the drain reads up to the head and hands the space back
// by storing the tail. Measured on the development machine, this costs about 100 ns less per
// syscall than a BPF_MAP_TYPE_RINGBUF reserve/submit pair, whose shared lock and helper calls
// dominated the hot path.
//
// A CPU's ring is `RING_SEGMENTS_PER_CPU` consecutive segments of `SEGMENT_SIZE` bytes (array
// map values are limited in size, rings are not). A record never straddles two segments: at a
// segment's end the producer writes a PAD record over the rest.
// ---------------------------------------------------------------------------------------------

/// Bytes of one ring segment (one value of the `RING_DATA` array).
pub const SEGMENT_SIZE: u64 = 1 << 20;

/// Records are 8-byte aligned.
pub const RECORD_ALIGN: u64 = 8;

/// Producer and consumer positions of one CPU's ring: byte offsets that only grow.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RingMeta {
    /// End of the published records (written by the eBPF program).
    pub head: u64,
    /// Events numbered on this CPU, lost ones included.
    pub seq: u64,
    /// Events that found the ring full.
    pub lost: u64,
    /// Children of traced tasks this CPU could not mark as traced.
    pub lost_tasks: u64,
    pub _producer_pad: [u64; 4],
    /// Start of the records not yet consumed (written by userspace); on its own cache line so
    /// the two sides do not share one.
    pub tail: u64,
    pub _consumer_pad: [u64; 7],
}

const _: () = assert!(core::mem::size_of::<RingMeta>() == 128);

/// Kinds of records.
pub mod record_kind {
    /// Filler up to the end of a segment; skip `len` bytes.
    pub const PAD: u16 = 0;
    /// A syscall that returned: [`SyscallBody`], arguments and return value read at exit.
    pub const SYSCALL: u16 = 1;
    /// A syscall that never returns (exit, exit_group), seen as its thread exits:
    /// [`SyscallBody`] with `ret` = 0.
    pub const SYSCALL_NO_RETURN: u16 = 2;
    /// A new program image: [`ExecBody`], then the path and the argv block.
    pub const EXEC: u16 = 3;
    /// A traced thread created another: [`ForkBody`].
    pub const FORK: u16 = 4;
    /// A traced thread got a new name (exec, prctl, /proc/.../comm): [`CommBody`]. `tid` is
    /// the renamed thread, which need not be the one that renamed it.
    pub const COMM: u16 = 5;
    /// A traced thread exited: [`ExitBody`].
    pub const EXIT: u16 = 6;
}

/// Start of every record.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordHeader {
    /// Bytes of the whole record, header included; a multiple of [`RECORD_ALIGN`].
    pub len: u32,
    /// One of [`record_kind`].
    pub kind: u16,
    /// The [`rule_flags`] of the syscall, for syscall records.
    pub flags: u16,
    /// Per-CPU sequence number, from 1. A gap is exactly the number of records lost there.
    pub seq: u64,
    /// `CLOCK_BOOTTIME` in ns.
    pub ts_ns: u64,
    /// Thread group id (the process id users see).
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallBody {
    /// Syscall number in the recording architecture's table.
    pub nr: u32,
    /// Bytes of captured data after this body (0 until handlers capture content).
    pub data_len: u32,
    pub ret: i64,
    /// The user PC the syscall returns to.
    pub ret_addr: u64,
    pub args: [u64; 6],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallRecord {
    pub header: RecordHeader,
    pub body: SyscallBody,
}

/// Followed by `path_len` bytes of the executed file's path, then `argv_len` bytes of the
/// NUL-separated argument strings, as the new program sees them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecBody {
    /// Thread id before the exec (differs when a non-leader thread called execve).
    pub old_tid: u32,
    pub path_len: u16,
    pub argv_len: u16,
    /// Full length of the argv block, before truncation.
    pub argv_full_len: u32,
    pub _pad: u32,
    pub comm: [u8; COMM_LEN],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForkBody {
    pub child_tid: u32,
    pub child_pid: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommBody {
    pub comm: [u8; COMM_LEN],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExitBody {
    /// `task_struct::exit_code`: wait status of the thread.
    pub exit_code: u32,
    pub _pad: u32,
}

pub const HEADER_SIZE: u64 = core::mem::size_of::<RecordHeader>() as u64;
pub const SYSCALL_RECORD_SIZE: u64 = core::mem::size_of::<SyscallRecord>() as u64;

/// Path and argv captured for an exec, at most.
pub const EXEC_PATH_MAX: u64 = 4096;
pub const EXEC_ARGV_MAX: u64 = 4096;
pub const EXEC_RECORD_MAX: u64 =
    HEADER_SIZE + core::mem::size_of::<ExecBody>() as u64 + EXEC_PATH_MAX + EXEC_ARGV_MAX;

const _: () = assert!(HEADER_SIZE == 32);
const _: () = assert!(SYSCALL_RECORD_SIZE == 104);
const _: () = assert!(core::mem::size_of::<SyscallRule>() == 8);
const _: () = assert!(EXEC_RECORD_MAX < SEGMENT_SIZE);

/// Kernel facts userspace resolves from BTF, and sizes it chose, written into the program's
/// read-only data before loading (the Rust eBPF toolchain has no CO-RE field relocations).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// CPUs with a ring (possible CPUs).
    pub cpus: u32,
    /// Segments per CPU ring: a power of two.
    pub segments_per_cpu: u32,
    /// Entries of the `TRACED` bitmap (64 threads each).
    pub traced_words: u32,
    /// Byte offset of `task_struct::pid`.
    pub task_pid: u32,
    /// Byte offset of `task_struct::tgid`.
    pub task_tgid: u32,
    /// Byte offset of `task_struct::exit_code`.
    pub task_exit_code: u32,
    /// Byte offset of `task_struct::mm`.
    pub task_mm: u32,
    /// Byte offsets of `mm_struct::arg_start` / `arg_end`.
    pub mm_arg_start: u32,
    pub mm_arg_end: u32,
    /// Byte offset of `linux_binprm::filename`.
    pub bprm_filename: u32,
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: plain `#[repr(C)]` integers with explicit padding; every bit pattern is valid.
    unsafe impl aya::Pod for super::SyscallRule {}
    unsafe impl aya::Pod for super::Config {}
}
