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
    /// What the call captures depends on one of its arguments (ioctl's request, fcntl's
    /// cmd, prctl's option: bits 16-18 say which): the rule of the (syscall, request) pair,
    /// found through `REQUEST_SLOTS` ([`super::request_key`]), replaces this one when there
    /// is one.
    pub const BY_REQUEST: u32 = 1 << 3;
    /// Bits 8-10: the argument registers recorded (the handler's count; 6 for a number
    /// without a handler). The same bits as in a syscall record's header
    /// ([`super::syscall_layout`]), so the program copies them as they are.
    pub const ARGS_SHIFT: u32 = 8;
    pub const ARGS_MASK: u32 = 7 << ARGS_SHIFT;
    /// Bits 16-18: with BY_REQUEST, the argument that holds the request. Beyond the 16 bits
    /// a record's header keeps.
    pub const REQUEST_ARG_SHIFT: u32 = 16;
    pub const REQUEST_ARG_MASK: u32 = 7 << REQUEST_ARG_SHIFT;
}

/// Rules of (syscall, request) pairs, at most: the `RULES` array holds them after the
/// syscalls' rules, from index [`MAX_SYSCALLS`].
pub const MAX_REQUEST_RULES: u32 = 256;

/// The `REQUEST_SLOTS` key of request `request` of syscall `nr` (requests are C `int`s and
/// `unsigned int`s: their low 32 bits).
pub const fn request_key(nr: u32, request: u64) -> u64 {
    ((nr as u64) << 32) | (request & 0xffff_ffff)
}

/// Captures per syscall, at most.
pub const MAX_CAPTURES: usize = 4;

/// Indices of the programs in `CAPTURE_STEP` that take a syscall record's captures after
/// `sys_exit` (one capture per program run).
pub mod capture_step {
    /// Every kind but iovec.
    pub const FLAT: u32 = 0;
    /// Iovec captures.
    pub const IOVEC: u32 = 1;
    pub const COUNT: u32 = 2;
}

/// What one capture reads, from where (`CaptureRule::kind`).
pub mod capture_kind {
    /// `len` bytes at the pointer.
    pub const BYTES: u8 = 1;
    /// A NUL-terminated string at the pointer (its length is measured up to
    /// [`super::STRING_MAX`]).
    pub const CSTRING: u8 = 2;
    /// The buffers of an iovec array at the pointer, `len` entries, concatenated up to the
    /// return value (readv, recvmsg).
    pub const IOVEC: u8 = 3;
}

/// Where a capture's length comes from (`CaptureRule::len_from`).
pub mod len_from {
    /// `size` bytes.
    pub const FIXED: u8 = 0;
    /// The return value.
    pub const RET: u8 = 1;
    /// Argument `len_arg`.
    pub const ARG: u8 = 2;
    /// The u32 in user memory at argument `len_arg` + `len_offset` (a socklen_t).
    pub const DEREF_U32: u8 = 3;
    /// The u64 in user memory at argument `len_arg` + `len_offset` (a size_t).
    pub const DEREF_U64: u8 = 4;
    /// The return value times `size` (an array the kernel filled, one element per unit).
    pub const RET_TIMES: u8 = 5;
    /// Argument `len_arg` times `size`.
    pub const ARG_TIMES: u8 = 6;
    /// The return value plus `size` (a header before the data the return value counts).
    pub const RET_PLUS: u8 = 7;
    /// Argument `len_arg` plus `size`.
    pub const ARG_PLUS: u8 = 8;
    /// The return value, at most argument `len_arg` (a call that copies at most a buffer's
    /// size but returns the whole size: KEYCTL_CAPABILITIES).
    pub const RET_AT_MOST_ARG: u8 = 9;
    /// The return value if it is at most argument `len_arg`, else nothing (a call that
    /// copies only into a buffer large enough, and returns the size it needs: KEYCTL_READ).
    pub const RET_IF_AT_MOST_ARG: u8 = 10;
}

/// Bits of `CaptureRule::when`.
pub mod capture_when {
    /// When the syscall succeeded (the kernel wrote the memory).
    pub const ON_SUCCESS: u8 = 1 << 0;
    /// When it failed (inputs of a write-status call, to see why).
    pub const ON_FAILURE: u8 = 1 << 1;
}

/// Bits of `CaptureRule::flags`.
pub mod capture_flags {
    /// The pointer is not argument `ptr_arg` itself but the u64 in user memory at argument
    /// `ptr_arg` + `ptr_offset` (a field of a struct the argument points to).
    pub const PTR_INDIRECT: u8 = 1 << 0;
}

/// One piece of user memory to capture at `sys_exit`. Userspace fills these from the
/// handler descriptors; the eBPF program interprets them without knowing any syscall.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureRule {
    /// One of [`capture_kind`]; 0 = unused slot.
    pub kind: u8,
    pub ptr_arg: u8,
    /// One of [`len_from`].
    pub len_from: u8,
    pub len_arg: u8,
    /// Bits of [`capture_when`].
    pub when: u8,
    /// Index of the capture in its handler, to name it when decoding.
    pub id: u8,
    /// Bits of [`capture_flags`].
    pub flags: u8,
    pub _pad: u8,
    pub ptr_offset: u16,
    pub len_offset: u16,
    /// Fixed size, or element size for the `*_TIMES` lengths.
    pub size: u32,
}

/// What the eBPF program does for one syscall number; userspace fills the `RULES` array from
/// the handler descriptors of the target architecture.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallRule {
    /// Bits of [`rule_flags`].
    pub flags: u32,
    /// Captures in use, from the start of `captures`.
    pub ncaptures: u32,
    pub captures: [CaptureRule; MAX_CAPTURES],
}

/// Precedes each capture's bytes in a syscall record; the bytes follow, padded to 8.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureHeader {
    /// `CaptureRule::id`.
    pub id: u8,
    /// Bits of [`capture_result`].
    pub flags: u8,
    pub _pad: u16,
    /// Bytes captured.
    pub data_len: u32,
    /// Length of the original buffer (string length for strings, without the NUL).
    pub orig_len: u64,
}

/// Bits of `CaptureHeader::flags`.
pub mod capture_result {
    /// Fewer bytes than the original were captured (snap length).
    pub const TRUNCATED: u8 = 1 << 0;
    /// The memory could not be read (bad pointer, page not present).
    pub const FAULT: u8 = 1 << 1;
}

/// Bytes captured per buffer at most (`--full`); the default is [`DEFAULT_SNAP_LEN`].
pub const MAX_SNAP_LEN: u32 = 32 * 1024;
pub const DEFAULT_SNAP_LEN: u32 = 256;
/// Strings are measured up to this length (PATH_MAX) to report their true length.
pub const STRING_MAX: u32 = 4096;
pub const CAPTURE_HEADER_SIZE: u64 = core::mem::size_of::<CaptureHeader>() as u64;

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
// A CPU's ring is `segments_per_cpu` consecutive segments of positions (array map values
// are limited in size, rings are not). Each segment's memory is followed by a guard area, so
// a record that starts in a segment always fits in that segment's memory; the positions it
// would have used in the next segment are skipped: after a record that crosses the end of
// its segment, the next one starts at the next segment's beginning.
// ---------------------------------------------------------------------------------------------

/// Positions per ring segment.
pub const SEGMENT_SIZE: u64 = 2 << 20;

/// Largest record; a segment's memory is `SEGMENT_SIZE + SEGMENT_GUARD` bytes.
pub const MAX_RECORD: u64 = 192 * 1024;
/// Bytes after a segment that a record starting in it may use. More than `MAX_RECORD`: the
/// verifier must see every write in bounds, and it knows the captures' running length only
/// as "below [`CAPTURES_BOUND`]".
pub const SEGMENT_GUARD: u64 = 384 * 1024;
/// A power of two above the captures' total length; the eBPF program masks the running
/// length with it to keep the verifier's state space small.
pub const CAPTURES_BOUND: u64 = 256 * 1024;
/// Bytes of one `RING_DATA` value.
pub const SEGMENT_BYTES: u64 = SEGMENT_SIZE + SEGMENT_GUARD;

/// Records are 8-byte aligned.
pub const RECORD_ALIGN: u64 = 8;

/// Where the record after one that starts at `position` and is `len` bytes long starts.
pub const fn next_position(position: u64, len: u64) -> u64 {
    let offset = position % SEGMENT_SIZE;
    if offset + len > SEGMENT_SIZE {
        position - offset + SEGMENT_SIZE
    } else {
        position + len
    }
}

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
    /// The consumer's `tail` as the producer last read it. The producer reads the real one
    /// only when this says the ring is full: `tail` changes with every drain pass, and
    /// reading it per record would fetch the drain's cache line each time.
    pub tail_seen: u64,
    /// Nonzero while a program of this CPU holds a reservation (from `reserve` to `commit`).
    /// Programs on one CPU run one at a time only where the kernel runs them with preemption
    /// off; where it does not (PREEMPT_RT, and syscall tracepoints from 7.x on), a program
    /// that finds the ring held counts its event in `lost_busy` instead of writing over the
    /// reservation of the one it preempted.
    pub busy: u64,
    /// Events dropped because the ring was held (see `busy`). They take no sequence number:
    /// the holder may be preempted in the middle of taking its own.
    pub lost_busy: u64,
    pub _producer_pad: [u64; 1],
    /// Start of the records not yet consumed (written by userspace); on its own cache line so
    /// the two sides do not share one.
    pub tail: u64,
    pub _consumer_pad: [u64; 7],
}

const _: () = assert!(core::mem::size_of::<RingMeta>() == 128);

/// Kinds of records.
pub mod record_kind {
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
    /// The kernel delivers a signal to a traced thread, which is about to run its handler,
    /// take the default action or ignore it: [`SignalDeliverBody`].
    pub const SIGNAL_DELIVER: u16 = 7;
    /// Someone sent a signal to a traced thread, or to its process (`tid` is the thread
    /// the kernel queued it on): [`SignalGenerateBody`].
    pub const SIGNAL_GENERATE: u16 = 8;
    /// What a new program image started with, right after its [`EXEC`] record:
    /// [`ExecImageBody`], then its auxiliary vector, working directory, strings the
    /// auxiliary vector points to, and (with `--capture-env`) its environment.
    pub const EXEC_IMAGE: u16 = 9;
    /// The highest kind.
    pub const LAST: u16 = EXEC_IMAGE;
}

/// Start of every record.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordHeader {
    /// Bytes of the whole record, header included; a multiple of [`RECORD_ALIGN`].
    pub len: u32,
    /// One of [`record_kind`].
    pub kind: u16,
    /// For syscall records: the [`rule_flags`] of the syscall (bits 0-7) and the
    /// [`syscall_layout`] bits.
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

/// After the header of a syscall record; then, in this order: the entry time (a u64, with
/// [`syscall_layout::TIMED`]), `data_len` bytes of captures, and the argument registers
/// the flags count (u64 each), last. Records carry only the arguments the syscall has, so a
/// getppid takes 56 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallBody {
    /// Syscall number in the recording architecture's table.
    pub nr: u32,
    /// Bytes of captures (each a [`CaptureHeader`] and its bytes) at the end of the record.
    pub data_len: u32,
    pub ret: i64,
    /// The user PC the syscall returns to.
    pub ret_addr: u64,
}

/// Bits of a syscall record's `RecordHeader::flags` that say what follows its body.
pub mod syscall_layout {
    /// Bits 8-10: how many argument registers the record holds (0-6).
    pub const ARGS_SHIFT: u16 = 8;
    pub const ARGS_MASK: u16 = 7 << ARGS_SHIFT;
    /// `CLOCK_BOOTTIME` ns when the thread entered the syscall follows the body
    /// (`record -T`; 0 when the thread was not recorded when it entered).
    pub const TIMED: u16 = 1 << 11;
}

/// Where a syscall record with these header flags has its captures.
pub const fn syscall_captures_at(flags: u16) -> u64 {
    SYSCALL_RECORD_SIZE
        + if flags & syscall_layout::TIMED != 0 {
            8
        } else {
            0
        }
}

/// How many argument registers a syscall record with these header flags holds (at its end).
pub const fn syscall_nargs(flags: u16) -> u64 {
    ((flags & syscall_layout::ARGS_MASK) >> syscall_layout::ARGS_SHIFT) as u64
}

/// Followed by `path_len` bytes of the executed file's path, then `argv_len` bytes of the
/// NUL-separated argument strings, as the new program sees them, then `caller_argv_len`
/// bytes of those the caller passed (they differ for a `#!` script).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecBody {
    /// Thread id before the exec (differs when a non-leader thread called execve).
    pub old_tid: u32,
    pub path_len: u16,
    pub argv_len: u16,
    /// Full length of the argv block, before truncation.
    pub argv_full_len: u32,
    pub caller_argv_len: u16,
    /// Bits of [`caller_argv`].
    pub caller_argv_flags: u16,
    pub comm: [u8; COMM_LEN],
}

/// Bits of `ExecBody::caller_argv_flags`.
pub mod caller_argv {
    /// The caller's argv is in the record (0 in files of recorders before it, and where the
    /// kernel could not hook the syscalls' entry).
    pub const CAPTURED: u16 = 1 << 0;
    /// It was cut (more than 64 arguments, or more than EXEC_ARGV_MAX bytes).
    pub const TRUNCATED: u16 = 1 << 1;
}

/// The start of a new program image: its executable's identity and the 16 random bytes the
/// kernel gave it (AT_RANDOM). Followed by, in this order:
/// - `auxv_len` bytes: the auxiliary vector as (type, value) u64 pairs, up to AT_NULL;
/// - `cwd_len` bytes: the working directory, absolute in the mount namespace;
/// - `platform_len` bytes: the AT_PLATFORM string;
/// - `execfn_len` bytes: the AT_EXECFN string (the path the caller gave exec);
/// - `env_len` bytes: the NUL-separated environment strings (`--capture-env`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecImageBody {
    /// The executable's inode: its number, size, modification time and mode, and the
    /// kernel's `dev_t` of its file system (major << 20 | minor).
    pub ino: u64,
    pub size: u64,
    pub mtime_sec: i64,
    pub mtime_nsec: u32,
    pub dev: u32,
    /// Bytes of environment in the image (more than `env_len` when it was cut).
    pub env_full_len: u32,
    pub mode: u16,
    /// Bits of [`exec_image`].
    pub flags: u16,
    pub auxv_len: u16,
    pub cwd_len: u16,
    pub platform_len: u16,
    pub execfn_len: u16,
    pub env_len: u16,
    pub _pad: [u16; 3],
    pub random: [u8; 16],
}

/// The variable parts of an exec image record, in their order.
pub mod exec_image_part {
    pub const AUXV: usize = 0;
    pub const CWD: usize = 1;
    pub const PLATFORM: usize = 2;
    pub const EXECFN: usize = 3;
    pub const ENV: usize = 4;
}

impl ExecImageBody {
    /// Where each of the parts ([`exec_image_part`]) is in the bytes after the body.
    pub fn part_ranges(&self) -> [core::ops::Range<usize>; 5] {
        let lens = [
            self.auxv_len,
            self.cwd_len,
            self.platform_len,
            self.execfn_len,
            self.env_len,
        ];
        let mut at = 0;
        lens.map(|len| {
            let range = at..at + len as usize;
            at = range.end;
            range
        })
    }
}

/// Bits of `ExecImageBody::flags`.
pub mod exec_image {
    /// The executable's identity was read.
    pub const IDENTITY: u16 = 1 << 0;
    /// `random` holds the AT_RANDOM bytes.
    pub const RANDOM: u16 = 1 << 1;
    /// The working directory is whole (not cut for length or depth).
    pub const CWD_WHOLE: u16 = 1 << 2;
    /// The environment was captured (`--capture-env`).
    pub const ENV: u16 = 1 << 3;
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

/// Bytes of the kernel's `struct kernel_siginfo` on 64-bit architectures: si_signo, si_errno,
/// si_code and the 32-byte union of the rest. The siginfo_t a handler sees starts with the
/// same bytes (and is zero after them).
pub const KERNEL_SIGINFO_SIZE: usize = 48;

/// Where a signal record's siginfo came from (`source` of the signal bodies).
pub mod siginfo_source {
    /// Copied from the kernel's siginfo.
    pub const COPIED: u32 = 0;
    /// The sender passed none (`SEND_SIG_NOINFO`): the kernel fills in SI_USER with the
    /// sender's pid and uid (for a delivery: the SIGKILL that ends the other threads of an
    /// exiting process, whose siginfo is zero but for si_signo).
    pub const NONE: u32 = 1;
    /// The kernel sent it (`SEND_SIG_PRIV`): SI_KERNEL, no sender.
    pub const KERNEL: u32 = 2;
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalDeliverBody {
    pub signo: u32,
    /// One of [`siginfo_source`]; `siginfo` is zero unless COPIED.
    pub source: u32,
    /// The action's `sa_handler` when the kernel takes it: 0 (SIG_DFL), 1 (SIG_IGN) or the
    /// handler's address.
    pub handler: u64,
    pub sa_flags: u64,
    pub siginfo: [u8; KERNEL_SIGINFO_SIZE],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalGenerateBody {
    pub signo: u32,
    /// One of [`siginfo_source`]; `siginfo` is zero unless COPIED.
    pub source: u32,
    /// The thread that sent it (the current one when the kernel generated it).
    pub sender_pid: u32,
    pub sender_tid: u32,
    /// The sender's uid (what SI_USER siginfo carries).
    pub sender_uid: u32,
    /// 1 when sent to the whole process, 0 to the thread.
    pub group: u32,
    /// The kernel's `TRACE_SIGNAL_*` result: 0 queued, 1 ignored, 2 already pending, 3 the
    /// queue was full, 4 queued without its siginfo.
    pub result: u32,
    pub _pad: u32,
    pub sender_comm: [u8; COMM_LEN],
    pub siginfo: [u8; KERNEL_SIGINFO_SIZE],
}

pub const HEADER_SIZE: u64 = core::mem::size_of::<RecordHeader>() as u64;
/// A syscall record without entry time, arguments or captures.
pub const SYSCALL_RECORD_SIZE: u64 = HEADER_SIZE + core::mem::size_of::<SyscallBody>() as u64;
/// The longest syscall record without captures: entry time and six arguments.
pub const SYSCALL_FIXED_MAX: u64 = SYSCALL_RECORD_SIZE + 8 + 6 * 8;

/// Path and argv captured for an exec, at most.
pub const EXEC_PATH_MAX: u64 = 4096;
pub const EXEC_ARGV_MAX: u64 = 4096;
pub const EXEC_RECORD_MAX: u64 =
    HEADER_SIZE + core::mem::size_of::<ExecBody>() as u64 + EXEC_PATH_MAX + 2 * EXEC_ARGV_MAX;

/// The auxiliary vector's pairs an exec image record holds at most (the kernel's
/// AT_VECTOR_SIZE is at most 30 pairs on syscord's architectures).
pub const EXEC_AUXV_PAIRS: u64 = 32;
/// The AT_PLATFORM and AT_EXECFN strings, at most (with their NUL).
pub const EXEC_AUX_STRING_MAX: u64 = 256;
/// Environment bytes an exec image record holds at most.
pub const EXEC_ENV_MAX: u64 = 8192;
/// The working directory, at most (as long as an `exe` path the filter compares).
pub const EXEC_CWD_MAX: u64 = PATH_COMPARE_LEN as u64;
/// An exec image record at most: each variable part has twice its room, so that a copy at
/// any masked offset stays inside, as the verifier demands.
pub const EXEC_IMAGE_RECORD_MAX: u64 = HEADER_SIZE
    + core::mem::size_of::<ExecImageBody>() as u64
    + EXEC_AUXV_PAIRS * 16
    + 2 * EXEC_CWD_MAX
    + 4 * EXEC_AUX_STRING_MAX
    + 2 * EXEC_ENV_MAX;

/// Largest syscall record: every capture at the largest snap length.
pub const SYSCALL_RECORD_MAX: u64 = SYSCALL_FIXED_MAX
    + MAX_CAPTURES as u64 * (CAPTURE_HEADER_SIZE + MAX_SNAP_LEN as u64 + RECORD_ALIGN);

const _: () = assert!(HEADER_SIZE == 32);
const _: () = assert!(core::mem::size_of::<SignalDeliverBody>() == 72);
const _: () = assert!(core::mem::size_of::<SignalGenerateBody>() == 96);
const _: () = assert!(SYSCALL_RECORD_SIZE == 56);
const _: () = assert!(core::mem::size_of::<CaptureRule>() == 16);
const _: () = assert!(core::mem::size_of::<SyscallRule>() == 72);
const _: () = assert!(CAPTURE_HEADER_SIZE == 16);
const _: () = assert!(EXEC_RECORD_MAX <= MAX_RECORD);
const _: () = assert!(EXEC_IMAGE_RECORD_MAX <= MAX_RECORD);
const _: () = assert!(core::mem::size_of::<ExecImageBody>() == 72);
const _: () = assert!(SYSCALL_RECORD_MAX <= MAX_RECORD);
const _: () = assert!(SYSCALL_RECORD_MAX - SYSCALL_FIXED_MAX <= CAPTURES_BOUND);
const _: () = assert!(
    SYSCALL_FIXED_MAX + CAPTURES_BOUND + CAPTURE_HEADER_SIZE + MAX_SNAP_LEN as u64 + RECORD_ALIGN
        <= SEGMENT_GUARD
);
const _: () = assert!((STRING_MAX as u64) <= MAX_SNAP_LEN as u64);

// ---------------------------------------------------------------------------------------------
// Task selection
//
// One byte per thread id (the `TASKS` array) says what happens to the thread's syscalls:
// ---------------------------------------------------------------------------------------------

/// Values of a thread's byte in `TASKS`.
pub mod task_state {
    /// Not selected; its children are not candidates either (unless every task is).
    pub const NONE: u8 = 0;
    /// A candidate (launched, attached or followed) the filter rejects: nothing recorded,
    /// but its children are evaluated.
    pub const CANDIDATE: u8 = 1;
    /// Every syscall recorded.
    pub const ALL: u8 = 2;
    /// Recorded through syscall filter `state - FILTERED` (see `FilterConfig`).
    pub const FILTERED: u8 = 3;
}

/// Bits of `FilterConfig::follow`: which new threads are candidates.
pub mod follow {
    /// New threads of a candidate process.
    pub const THREADS: u32 = 1 << 0;
    /// Children (new processes) of a candidate.
    pub const CHILDREN: u32 = 1 << 1;
    /// Every new thread on the system (`-a`).
    pub const EVERYTHING: u32 = 1 << 2;
}

/// Process conditions evaluated in the kernel, at most.
pub const MAX_CONDITIONS: usize = 8;
/// Values one condition compares against, at most (`pid in {1, 2, 3}`).
pub const MAX_CONDITION_VALUES: usize = 8;
/// Distinct syscall filters left once the process conditions are known, at most.
pub const MAX_SYSCALL_FILTERS: usize = 16;
/// Bytes of a thread-name pattern (comm is at most 15 characters).
pub const NAME_PATTERN_LEN: usize = 16;
/// Bytes of an executable-path pattern, and of the path compared with it.
/// sys_exit sees rt_sigreturn as syscall number -1 (NO_SYSCALL): the kernel forgets the
/// number so that the restored registers are not taken for a syscall to restart. Syscall
/// filters keep rt_sigreturn's entry in this slot too, which -1 lands on once masked, and
/// which no architecture uses for a syscall.
pub const NO_SYSCALL: u32 = u32::MAX;
pub const NO_SYSCALL_SLOT: usize = (NO_SYSCALL & (MAX_SYSCALLS - 1)) as usize;

pub const PATH_PATTERN_LEN: usize = 64;
pub const PATH_COMPARE_LEN: usize = 256;

/// What a condition looks at (`Condition::field`).
pub mod condition_field {
    pub const PID: u8 = 1;
    pub const TID: u8 = 2;
    pub const PPID: u8 = 3;
    pub const UID: u8 = 4;
    pub const GID: u8 = 5;
    pub const COMM: u8 = 6;
    pub const PCOMM: u8 = 7;
    /// Through the thread's `exe` bits (`EXE_BITS`): value i is exe pattern i.
    pub const EXE: u8 = 8;
    /// The thread's cgroup (v2) id.
    pub const CGROUP: u8 = 9;
}

/// How a condition compares (`Condition::op`).
pub mod condition_op {
    /// Equals one of the values (matches one of the patterns).
    pub const ANY: u8 = 1;
    /// Equals none of them.
    pub const NONE: u8 = 2;
    pub const LT: u8 = 3;
    pub const GT: u8 = 4;
    pub const LE: u8 = 5;
    pub const GE: u8 = 6;
}

/// How a name or path pattern matches (a glob with its `*` at either end, `?` any one
/// character).
pub mod pattern_kind {
    pub const EXACT: u8 = 0;
    /// `text*`
    pub const PREFIX: u8 = 1;
    /// `*text`
    pub const SUFFIX: u8 = 2;
    /// `*text*`
    pub const CONTAINS: u8 = 3;
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NamePattern {
    pub kind: u8,
    pub len: u8,
    pub bytes: [u8; NAME_PATTERN_LEN],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathPattern {
    pub kind: u8,
    pub len: u8,
    pub bytes: [u8; PATH_PATTERN_LEN],
}

impl Default for PathPattern {
    fn default() -> Self {
        PathPattern {
            kind: 0,
            len: 0,
            bytes: [0; PATH_PATTERN_LEN],
        }
    }
}

/// One process condition of the filter.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Condition {
    /// One of [`condition_field`].
    pub field: u8,
    /// One of [`condition_op`].
    pub op: u8,
    /// Values in use.
    pub count: u8,
    pub _pad: [u8; 5],
    /// Numbers (ids, cgroup ids); for EXE, indices of `FilterConfig::exe_patterns`.
    pub numbers: [u64; MAX_CONDITION_VALUES],
    /// Name patterns, for COMM and PCOMM.
    pub names: [NamePattern; MAX_CONDITION_VALUES],
}

/// The compiled filter, written by userspace before loading.
///
/// The filter is split in the kernel's favour: conditions on the process (evaluated when a
/// thread starts, execs, is renamed, changes credentials or cgroup) and conditions on the
/// syscall (evaluated per event). For each combination of the process conditions' results,
/// `states` holds what is left: not recorded, everything, or syscall filter n.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FilterConfig {
    /// Bits of [`follow`].
    pub follow: u32,
    /// Process conditions in use.
    pub count: u32,
    pub conditions: [Condition; MAX_CONDITIONS],
    /// Indexed by the conditions' results (bit i = condition i): a [`task_state`].
    pub states: [u8; 1 << MAX_CONDITIONS],
    /// Executable-path patterns of the EXE conditions (bit i of a thread's EXE_BITS).
    pub exe_patterns: [PathPattern; 8],
    pub exe_pattern_count: u32,
    /// Whether any condition depends on the uid/gid, the exe or the cgroup, so the program
    /// knows which changes to watch.
    pub uses_creds: u32,
    pub uses_exe: u32,
    pub uses_cgroup: u32,
    /// Syscall numbers after which credentials may have changed (setuid and friends): the
    /// thread is evaluated again. One bit per number.
    pub creds_syscalls: [u64; MAX_SYSCALLS as usize / 64],
}

impl Default for FilterConfig {
    fn default() -> Self {
        // Without a filter: every candidate is recorded in full.
        let mut states = [task_state::ALL; 1 << MAX_CONDITIONS];
        states[0] = task_state::ALL;
        FilterConfig {
            follow: follow::THREADS | follow::CHILDREN,
            count: 0,
            conditions: [Condition::default(); MAX_CONDITIONS],
            states,
            exe_patterns: [PathPattern::default(); 8],
            exe_pattern_count: 0,
            uses_creds: 0,
            uses_exe: 0,
            uses_cgroup: 0,
            creds_syscalls: [0; MAX_SYSCALLS as usize / 64],
        }
    }
}

/// One syscall filter: per syscall number, bit 0 = record when it succeeds, bit 1 = when it
/// fails.
pub type SyscallFilter = [u8; MAX_SYSCALLS as usize];

/// What one syscall filter keeps of signal events: bit `signo % 64` for signal `signo`
/// (1-64; signal 64 takes bit 0).
pub type SignalFilter = u64;

/// Kernel facts userspace resolves from BTF, and sizes it chose, written into the program's
/// read-only data before loading (the Rust eBPF toolchain has no CO-RE field relocations).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// CPUs with a ring (possible CPUs).
    pub cpus: u32,
    /// Segments per CPU ring: a power of two.
    pub segments_per_cpu: u32,
    /// Byte offset of `task_struct::pid`.
    pub task_pid: u32,
    /// Byte offset of `task_struct::tgid`.
    pub task_tgid: u32,
    /// Byte offset of `task_struct::exit_code`.
    pub task_exit_code: u32,
    /// Byte offset of the CPU a task runs on, `task_struct::thread_info::cpu` (or
    /// `task_struct::cpu` where thread_info has none): the ring the program writes to.
    pub task_cpu: u32,
    /// Byte offset of `task_struct::mm`.
    pub task_mm: u32,
    /// Byte offsets of `mm_struct::arg_start` / `arg_end`.
    pub mm_arg_start: u32,
    pub mm_arg_end: u32,
    /// Byte offset of `linux_binprm::filename`.
    pub bprm_filename: u32,
    /// Bytes captured per buffer at most (`-s`).
    pub snap_len: u32,
    /// Entries of the `TASKS` array (threads, 8 per entry).
    pub task_words: u32,
    /// Offsets for the filter's process conditions: `task_struct::real_parent`,
    /// `task_struct::real_cred`, `cred::uid`, `cred::gid`, `task_struct::cgroups`,
    /// `css_set::dfl_cgrp`, `cgroup::kn`, `kernfs_node::id`, `task_struct::comm`.
    pub task_real_parent: u32,
    pub task_real_cred: u32,
    pub cred_uid: u32,
    pub cred_gid: u32,
    pub task_cgroups: u32,
    pub css_set_dfl_cgrp: u32,
    pub cgroup_kn: u32,
    pub kernfs_node_id: u32,
    pub task_comm: u32,
    /// Offsets for an executable's path (the `exe` condition): `linux_binprm::file`,
    /// `file::f_path` + `path::dentry` / `path::mnt`, `dentry::d_parent`, `dentry::d_name` +
    /// `qstr::name` / `qstr::len`, `vfsmount::mnt_root`, `mount::mnt` (the vfsmount inside a
    /// mount), `mount::mnt_parent`, `mount::mnt_mountpoint`.
    pub bprm_file: u32,
    pub file_path_dentry: u32,
    pub file_path_mnt: u32,
    pub dentry_d_parent: u32,
    pub dentry_name: u32,
    pub dentry_name_len: u32,
    pub vfsmount_mnt_root: u32,
    pub mount_mnt: u32,
    pub mount_mnt_parent: u32,
    pub mount_mnt_mountpoint: u32,
    /// Non-zero with `record -T`: sys_enter notes entry times in `ENTRY_TIMES`.
    pub timing: u32,
    /// The recorder's own process: never a candidate, even with `follow::EVERYTHING`.
    pub recorder_tgid: u32,
    /// Non-zero where the kernel takes BPF's store-release instruction (arm64 and riscv64
    /// only): rings publish their head with it rather than with an atomic exchange.
    pub store_release: u32,
    /// Byte offsets in `struct k_sigaction` of `sa.sa_handler` and `sa.sa_flags`.
    pub ksigaction_handler: u32,
    pub ksigaction_flags: u32,
    /// Offsets for an exec's image: `file::f_inode`; `inode::i_ino`, `i_size`, `i_mode`,
    /// `i_sb`; `super_block::s_dev`; the inode's mtime seconds and nanoseconds (their
    /// names changed in 6.6 and 6.11); `mm_struct::saved_auxv`, `env_start`, `env_end`;
    /// `task_struct::fs`, and `fs_struct::pwd` + `path::dentry` / `path::mnt`.
    pub file_inode: u32,
    pub inode_ino: u32,
    pub inode_size: u32,
    pub inode_mode: u32,
    pub inode_sb: u32,
    pub sb_dev: u32,
    pub inode_mtime_sec: u32,
    pub inode_mtime_nsec: u32,
    pub mm_saved_auxv: u32,
    pub mm_env_start: u32,
    pub mm_env_end: u32,
    pub task_fs: u32,
    pub fs_pwd_dentry: u32,
    pub fs_pwd_mnt: u32,
    /// Non-zero with `--capture-env`: exec image records hold the environment.
    pub capture_env: u32,
}

/// Where the `syscalls:sys_enter_*` tracepoints' records hold argument `index`: after the
/// 8-byte common header and the syscall number (`struct syscall_trace_enter`). Userspace
/// checks it against a tracepoint's format before it attaches a program that relies on it.
pub const fn syscall_tracepoint_arg(index: u32) -> u32 {
    16 + 8 * index
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: plain `#[repr(C)]` integers with explicit padding; every bit pattern is valid.
    unsafe impl aya::Pod for super::SyscallRule {}
    unsafe impl aya::Pod for super::Config {}
    unsafe impl aya::Pod for super::FilterConfig {}
}
