//! How to show one register value: an argument or a return value.

/// Named values or bits: `(value, name)`.
pub type Names = &'static [(u64, &'static str)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// A C `int`: the low 32 bits, signed.
    Int,
    /// An `unsigned int`, in decimal.
    UInt,
    /// A `long`: signed 64 bits.
    Long,
    /// A `size_t` or `unsigned long`, in decimal.
    ULong,
    /// In hex.
    Hex,
    /// An address: NULL or hex.
    Ptr,
    /// A file descriptor.
    Fd,
    /// A directory descriptor for the *at calls: AT_FDCWD or a descriptor.
    DirFd,
    /// Permission bits, in octal.
    Mode,
    /// Bits with names, joined by `|`; unnamed bits in hex.
    Flags(Names),
    /// One of several named values; unnamed ones in decimal.
    Enum(Names),
    /// `open(2)` flags: the access mode and the flags, some of which differ on arm64.
    OpenFlags,
    /// A command in the bits of `mask`, by name, with flags in the other bits:
    /// `SOCK_STREAM|SOCK_CLOEXEC`, `FUTEX_WAIT|FUTEX_PRIVATE_FLAG`.
    Op {
        commands: Names,
        mask: u64,
        flags: Names,
    },
    /// A signal number.
    Signal,
    /// The memory of capture n when it was captured; the pointer otherwise.
    Data(u8),
    /// The argument that selects a request (`Handler::by_request`): the request's name
    /// when syscord knows it, hex otherwise.
    Request,
}

pub const AT_FDCWD: i64 = -100;

pub const AT_FLAGS: Names = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_REMOVEDIR"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x2000, "AT_STATX_FORCE_SYNC"),
    (0x4000, "AT_STATX_DONT_SYNC"),
    (0x8000, "AT_RECURSIVE"),
];

/// faccessat2's flags: AT_EACCESS shares its value with AT_REMOVEDIR.
pub const ACCESS_AT_FLAGS: Names = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_EACCESS"),
    (0x1000, "AT_EMPTY_PATH"),
];

pub const ACCESS_MODES: Names = &[(1, "X_OK"), (2, "W_OK"), (4, "R_OK")];

/// The `open(2)` flags with the same value on every architecture syscord supports.
pub const OPEN_FLAGS_COMMON: Names = &[
    (0o100, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (0o1000, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0o10000, "O_DSYNC"),
    (0o20000, "O_ASYNC"),
    (0o1000000, "O_NOATIME"),
    (0o2000000, "O_CLOEXEC"),
    (0o4010000, "O_SYNC"),
    (0o10000000, "O_PATH"),
    (0o20200000, "O_TMPFILE"),
];

/// Flags that are O_CLOEXEC / O_NONBLOCK under other names (pipe2, dup3, eventfd2, ...).
pub const CLOEXEC_NONBLOCK: Names = &[(0o4000, "O_NONBLOCK"), (0o2000000, "O_CLOEXEC")];

pub const PROT: Names = &[
    (1, "PROT_READ"),
    (2, "PROT_WRITE"),
    (4, "PROT_EXEC"),
    (8, "PROT_SEM"),
    (0x0100_0000, "PROT_GROWSDOWN"),
    (0x0200_0000, "PROT_GROWSUP"),
];

pub const MAP_FLAGS: Names = &[
    (0x01, "MAP_SHARED"),
    (0x02, "MAP_PRIVATE"),
    (0x10, "MAP_FIXED"),
    (0x20, "MAP_ANONYMOUS"),
    (0x100, "MAP_GROWSDOWN"),
    (0x800, "MAP_DENYWRITE"),
    (0x1000, "MAP_EXECUTABLE"),
    (0x2000, "MAP_LOCKED"),
    (0x4000, "MAP_NORESERVE"),
    (0x8000, "MAP_POPULATE"),
    (0x10000, "MAP_NONBLOCK"),
    (0x20000, "MAP_STACK"),
    (0x40000, "MAP_HUGETLB"),
    (0x80000, "MAP_SYNC"),
    (0x100000, "MAP_FIXED_NOREPLACE"),
];

pub const MREMAP_FLAGS: Names = &[
    (1, "MREMAP_MAYMOVE"),
    (2, "MREMAP_FIXED"),
    (4, "MREMAP_DONTUNMAP"),
];

pub const MSYNC_FLAGS: Names = &[(1, "MS_ASYNC"), (2, "MS_INVALIDATE"), (4, "MS_SYNC")];

pub const MADVISE: Names = &[
    (0, "MADV_NORMAL"),
    (1, "MADV_RANDOM"),
    (2, "MADV_SEQUENTIAL"),
    (3, "MADV_WILLNEED"),
    (4, "MADV_DONTNEED"),
    (8, "MADV_FREE"),
    (9, "MADV_REMOVE"),
    (10, "MADV_DONTFORK"),
    (11, "MADV_DOFORK"),
    (12, "MADV_MERGEABLE"),
    (13, "MADV_UNMERGEABLE"),
    (14, "MADV_HUGEPAGE"),
    (15, "MADV_NOHUGEPAGE"),
    (16, "MADV_DONTDUMP"),
    (17, "MADV_DODUMP"),
    (18, "MADV_WIPEONFORK"),
    (19, "MADV_KEEPONFORK"),
    (20, "MADV_COLD"),
    (21, "MADV_PAGEOUT"),
    (22, "MADV_POPULATE_READ"),
    (23, "MADV_POPULATE_WRITE"),
    (24, "MADV_DONTNEED_LOCKED"),
    (25, "MADV_COLLAPSE"),
    (100, "MADV_HWPOISON"),
];

pub const SEEK_WHENCE: Names = &[
    (0, "SEEK_SET"),
    (1, "SEEK_CUR"),
    (2, "SEEK_END"),
    (3, "SEEK_DATA"),
    (4, "SEEK_HOLE"),
];

pub const CLOCKS: Names = &[
    (0, "CLOCK_REALTIME"),
    (1, "CLOCK_MONOTONIC"),
    (2, "CLOCK_PROCESS_CPUTIME_ID"),
    (3, "CLOCK_THREAD_CPUTIME_ID"),
    (4, "CLOCK_MONOTONIC_RAW"),
    (5, "CLOCK_REALTIME_COARSE"),
    (6, "CLOCK_MONOTONIC_COARSE"),
    (7, "CLOCK_BOOTTIME"),
    (8, "CLOCK_REALTIME_ALARM"),
    (9, "CLOCK_BOOTTIME_ALARM"),
    (11, "CLOCK_TAI"),
];

pub const TIMER_FLAGS: Names = &[(1, "TIMER_ABSTIME")];

pub const ADDRESS_FAMILIES: Names = &[
    (0, "AF_UNSPEC"),
    (1, "AF_UNIX"),
    (2, "AF_INET"),
    (10, "AF_INET6"),
    (16, "AF_NETLINK"),
    (17, "AF_PACKET"),
    (40, "AF_VSOCK"),
    (44, "AF_XDP"),
];

/// Socket types, in the low four bits of socket()'s `type`.
pub const SOCKET_KINDS: Names = &[
    (1, "SOCK_STREAM"),
    (2, "SOCK_DGRAM"),
    (3, "SOCK_RAW"),
    (4, "SOCK_RDM"),
    (5, "SOCK_SEQPACKET"),
    (6, "SOCK_DCCP"),
    (10, "SOCK_PACKET"),
];

/// Flags above the socket type (socket, socketpair, accept4).
pub const SOCKET_FLAGS: Names = &[(0o4000, "SOCK_NONBLOCK"), (0o2000000, "SOCK_CLOEXEC")];

/// socket()'s `type`: kind and flags.
pub const SOCKET_TYPE: Value = Value::Op {
    commands: SOCKET_KINDS,
    mask: 0xf,
    flags: SOCKET_FLAGS,
};

pub const MSG_FLAGS: Names = &[
    (0x1, "MSG_OOB"),
    (0x2, "MSG_PEEK"),
    (0x4, "MSG_DONTROUTE"),
    (0x8, "MSG_CTRUNC"),
    (0x20, "MSG_TRUNC"),
    (0x40, "MSG_DONTWAIT"),
    (0x80, "MSG_EOR"),
    (0x100, "MSG_WAITALL"),
    (0x4000, "MSG_NOSIGNAL"),
    (0x8000, "MSG_MORE"),
    (0x10000, "MSG_WAITFORONE"),
    (0x4000_0000, "MSG_CMSG_CLOEXEC"),
];

pub const SHUTDOWN_HOW: Names = &[(0, "SHUT_RD"), (1, "SHUT_WR"), (2, "SHUT_RDWR")];

pub const SOCKOPT_LEVELS: Names = &[
    (0, "SOL_IP"),
    (1, "SOL_SOCKET"),
    (6, "SOL_TCP"),
    (17, "SOL_UDP"),
    (41, "SOL_IPV6"),
];

pub const SIGPROCMASK_HOW: Names = &[(0, "SIG_BLOCK"), (1, "SIG_UNBLOCK"), (2, "SIG_SETMASK")];

pub const WAIT_OPTIONS: Names = &[
    (1, "WNOHANG"),
    (2, "WUNTRACED"),
    (4, "WEXITED"),
    (8, "WCONTINUED"),
    (0x0100_0000, "WNOWAIT"),
    (0x2000_0000, "__WNOTHREAD"),
    (0x4000_0000, "__WALL"),
    (0x8000_0000, "__WCLONE"),
];

pub const IDTYPES: Names = &[(0, "P_ALL"), (1, "P_PID"), (2, "P_PGID"), (3, "P_PIDFD")];

pub const CLONE_FLAGS: Names = &[
    (0x100, "CLONE_VM"),
    (0x200, "CLONE_FS"),
    (0x400, "CLONE_FILES"),
    (0x800, "CLONE_SIGHAND"),
    (0x1000, "CLONE_PIDFD"),
    (0x2000, "CLONE_PTRACE"),
    (0x4000, "CLONE_VFORK"),
    (0x8000, "CLONE_PARENT"),
    (0x10000, "CLONE_THREAD"),
    (0x20000, "CLONE_NEWNS"),
    (0x40000, "CLONE_SYSVSEM"),
    (0x80000, "CLONE_SETTLS"),
    (0x100000, "CLONE_PARENT_SETTID"),
    (0x200000, "CLONE_CHILD_CLEARTID"),
    (0x400000, "CLONE_DETACHED"),
    (0x800000, "CLONE_UNTRACED"),
    (0x1000000, "CLONE_CHILD_SETTID"),
    (0x2000000, "CLONE_NEWCGROUP"),
    (0x4000000, "CLONE_NEWUTS"),
    (0x8000000, "CLONE_NEWIPC"),
    (0x10000000, "CLONE_NEWUSER"),
    (0x20000000, "CLONE_NEWPID"),
    (0x40000000, "CLONE_NEWNET"),
    (0x80000000, "CLONE_IO"),
];

pub const FCNTL_CMDS: Names = &[
    (0, "F_DUPFD"),
    (1, "F_GETFD"),
    (2, "F_SETFD"),
    (3, "F_GETFL"),
    (4, "F_SETFL"),
    (5, "F_GETLK"),
    (6, "F_SETLK"),
    (7, "F_SETLKW"),
    (8, "F_SETOWN"),
    (9, "F_GETOWN"),
    (10, "F_SETSIG"),
    (11, "F_GETSIG"),
    (15, "F_SETOWN_EX"),
    (16, "F_GETOWN_EX"),
    (36, "F_OFD_GETLK"),
    (37, "F_OFD_SETLK"),
    (38, "F_OFD_SETLKW"),
    (1024, "F_SETLEASE"),
    (1025, "F_GETLEASE"),
    (1026, "F_NOTIFY"),
    (1030, "F_DUPFD_CLOEXEC"),
    (1031, "F_SETPIPE_SZ"),
    (1032, "F_GETPIPE_SZ"),
    (1033, "F_ADD_SEALS"),
    (1034, "F_GET_SEALS"),
];

pub const FLOCK_OPS: Names = &[
    (1, "LOCK_SH"),
    (2, "LOCK_EX"),
    (4, "LOCK_NB"),
    (8, "LOCK_UN"),
];

pub const EPOLL_CTL_OPS: Names = &[
    (1, "EPOLL_CTL_ADD"),
    (2, "EPOLL_CTL_DEL"),
    (3, "EPOLL_CTL_MOD"),
];

pub const EPOLL_EVENTS: Names = &[
    (0x001, "EPOLLIN"),
    (0x002, "EPOLLPRI"),
    (0x004, "EPOLLOUT"),
    (0x008, "EPOLLERR"),
    (0x010, "EPOLLHUP"),
    (0x020, "EPOLLNVAL"),
    (0x040, "EPOLLRDNORM"),
    (0x080, "EPOLLRDBAND"),
    (0x100, "EPOLLWRNORM"),
    (0x200, "EPOLLWRBAND"),
    (0x400, "EPOLLMSG"),
    (0x2000, "EPOLLRDHUP"),
    (1 << 28, "EPOLLEXCLUSIVE"),
    (1 << 29, "EPOLLWAKEUP"),
    (1 << 30, "EPOLLONESHOT"),
    (1 << 31, "EPOLLET"),
];

pub const POLL_EVENTS: Names = &[
    (0x001, "POLLIN"),
    (0x002, "POLLPRI"),
    (0x004, "POLLOUT"),
    (0x008, "POLLERR"),
    (0x010, "POLLHUP"),
    (0x020, "POLLNVAL"),
    (0x040, "POLLRDNORM"),
    (0x080, "POLLRDBAND"),
    (0x100, "POLLWRNORM"),
    (0x200, "POLLWRBAND"),
    (0x2000, "POLLRDHUP"),
];

/// futex()'s `op`: command and flags.
pub const FUTEX_OP: Value = Value::Op {
    commands: FUTEX_COMMANDS,
    mask: 0x7f,
    flags: &[(128, "FUTEX_PRIVATE_FLAG"), (256, "FUTEX_CLOCK_REALTIME")],
};

pub const FUTEX_COMMANDS: Names = &[
    (0, "FUTEX_WAIT"),
    (1, "FUTEX_WAKE"),
    (2, "FUTEX_FD"),
    (3, "FUTEX_REQUEUE"),
    (4, "FUTEX_CMP_REQUEUE"),
    (5, "FUTEX_WAKE_OP"),
    (6, "FUTEX_LOCK_PI"),
    (7, "FUTEX_UNLOCK_PI"),
    (8, "FUTEX_TRYLOCK_PI"),
    (9, "FUTEX_WAIT_BITSET"),
    (10, "FUTEX_WAKE_BITSET"),
    (11, "FUTEX_WAIT_REQUEUE_PI"),
    (12, "FUTEX_CMP_REQUEUE_PI"),
    (13, "FUTEX_LOCK_PI2"),
];

pub const GRND_FLAGS: Names = &[
    (1, "GRND_NONBLOCK"),
    (2, "GRND_RANDOM"),
    (4, "GRND_INSECURE"),
];

pub const RLIMITS: Names = &[
    (0, "RLIMIT_CPU"),
    (1, "RLIMIT_FSIZE"),
    (2, "RLIMIT_DATA"),
    (3, "RLIMIT_STACK"),
    (4, "RLIMIT_CORE"),
    (5, "RLIMIT_RSS"),
    (6, "RLIMIT_NPROC"),
    (7, "RLIMIT_NOFILE"),
    (8, "RLIMIT_MEMLOCK"),
    (9, "RLIMIT_AS"),
    (10, "RLIMIT_LOCKS"),
    (11, "RLIMIT_SIGPENDING"),
    (12, "RLIMIT_MSGQUEUE"),
    (13, "RLIMIT_NICE"),
    (14, "RLIMIT_RTPRIO"),
    (15, "RLIMIT_RTTIME"),
];

pub const RUSAGE_WHO: Names = &[
    (0, "RUSAGE_SELF"),
    (u64::MAX, "RUSAGE_CHILDREN"),
    (1, "RUSAGE_THREAD"),
];

pub const ITIMERS: Names = &[
    (0, "ITIMER_REAL"),
    (1, "ITIMER_VIRTUAL"),
    (2, "ITIMER_PROF"),
];

pub const PRIO_WHICH: Names = &[(0, "PRIO_PROCESS"), (1, "PRIO_PGRP"), (2, "PRIO_USER")];

pub const SCHED_POLICIES: Names = &[
    (0, "SCHED_OTHER"),
    (1, "SCHED_FIFO"),
    (2, "SCHED_RR"),
    (3, "SCHED_BATCH"),
    (5, "SCHED_IDLE"),
    (6, "SCHED_DEADLINE"),
];

pub const MLOCKALL_FLAGS: Names = &[(1, "MCL_CURRENT"), (2, "MCL_FUTURE"), (4, "MCL_ONFAULT")];

pub const UMOUNT_FLAGS: Names = &[
    (1, "MNT_FORCE"),
    (2, "MNT_DETACH"),
    (4, "MNT_EXPIRE"),
    (8, "UMOUNT_NOFOLLOW"),
];

pub const MOUNT_FLAGS: Names = &[
    (1, "MS_RDONLY"),
    (2, "MS_NOSUID"),
    (4, "MS_NODEV"),
    (8, "MS_NOEXEC"),
    (16, "MS_SYNCHRONOUS"),
    (32, "MS_REMOUNT"),
    (64, "MS_MANDLOCK"),
    (128, "MS_DIRSYNC"),
    (1024, "MS_NOATIME"),
    (2048, "MS_NODIRATIME"),
    (4096, "MS_BIND"),
    (8192, "MS_MOVE"),
    (16384, "MS_REC"),
    (32768, "MS_SILENT"),
    (1 << 17, "MS_UNBINDABLE"),
    (1 << 18, "MS_PRIVATE"),
    (1 << 19, "MS_SLAVE"),
    (1 << 20, "MS_SHARED"),
    (1 << 21, "MS_RELATIME"),
    (1 << 24, "MS_STRICTATIME"),
    (1 << 25, "MS_LAZYTIME"),
];

pub const RENAME_FLAGS: Names = &[
    (1, "RENAME_NOREPLACE"),
    (2, "RENAME_EXCHANGE"),
    (4, "RENAME_WHITEOUT"),
];

pub const XATTR_FLAGS: Names = &[(1, "XATTR_CREATE"), (2, "XATTR_REPLACE")];

pub const FALLOCATE_MODES: Names = &[
    (1, "FALLOC_FL_KEEP_SIZE"),
    (2, "FALLOC_FL_PUNCH_HOLE"),
    (8, "FALLOC_FL_COLLAPSE_RANGE"),
    (0x10, "FALLOC_FL_ZERO_RANGE"),
    (0x20, "FALLOC_FL_INSERT_RANGE"),
    (0x40, "FALLOC_FL_UNSHARE_RANGE"),
];

pub const FADVICE: Names = &[
    (0, "POSIX_FADV_NORMAL"),
    (1, "POSIX_FADV_RANDOM"),
    (2, "POSIX_FADV_SEQUENTIAL"),
    (3, "POSIX_FADV_WILLNEED"),
    (4, "POSIX_FADV_DONTNEED"),
    (5, "POSIX_FADV_NOREUSE"),
];

pub const SPLICE_FLAGS: Names = &[
    (1, "SPLICE_F_MOVE"),
    (2, "SPLICE_F_NONBLOCK"),
    (4, "SPLICE_F_MORE"),
    (8, "SPLICE_F_GIFT"),
];

pub const IN_EVENTS: Names = &[
    (0x1, "IN_ACCESS"),
    (0x2, "IN_MODIFY"),
    (0x4, "IN_ATTRIB"),
    (0x8, "IN_CLOSE_WRITE"),
    (0x10, "IN_CLOSE_NOWRITE"),
    (0x20, "IN_OPEN"),
    (0x40, "IN_MOVED_FROM"),
    (0x80, "IN_MOVED_TO"),
    (0x100, "IN_CREATE"),
    (0x200, "IN_DELETE"),
    (0x400, "IN_DELETE_SELF"),
    (0x800, "IN_MOVE_SELF"),
    (0x0100_0000, "IN_ONLYDIR"),
    (0x0200_0000, "IN_DONT_FOLLOW"),
    (0x0400_0000, "IN_EXCL_UNLINK"),
    (0x1000_0000, "IN_MASK_CREATE"),
    (0x2000_0000, "IN_MASK_ADD"),
    (0x4000_0000, "IN_ISDIR"),
    (0x8000_0000, "IN_ONESHOT"),
];

pub const PRCTL_OPTIONS: Names = &[
    (1, "PR_SET_PDEATHSIG"),
    (2, "PR_GET_PDEATHSIG"),
    (3, "PR_GET_DUMPABLE"),
    (4, "PR_SET_DUMPABLE"),
    (8, "PR_SET_KEEPCAPS"),
    (15, "PR_SET_NAME"),
    (16, "PR_GET_NAME"),
    (22, "PR_SET_SECCOMP"),
    (23, "PR_CAPBSET_READ"),
    (24, "PR_CAPBSET_DROP"),
    (36, "PR_SET_CHILD_SUBREAPER"),
    (38, "PR_SET_NO_NEW_PRIVS"),
    (39, "PR_GET_NO_NEW_PRIVS"),
    (47, "PR_CAP_AMBIENT"),
    (0x59616d61, "PR_SET_PTRACER"),
    (0x53564d41, "PR_SET_VMA"),
];

pub const ARCH_PRCTL_CODES: Names = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (0x1003, "ARCH_GET_FS"),
    (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
    (0x1021, "ARCH_GET_XCOMP_SUPP"),
    (0x1022, "ARCH_GET_XCOMP_PERM"),
    (0x1023, "ARCH_REQ_XCOMP_PERM"),
    (0x5001, "ARCH_SHSTK_ENABLE"),
];

pub const MEMBARRIER_CMDS: Names = &[
    (0, "MEMBARRIER_CMD_QUERY"),
    (1, "MEMBARRIER_CMD_GLOBAL"),
    (2, "MEMBARRIER_CMD_GLOBAL_EXPEDITED"),
    (4, "MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED"),
    (8, "MEMBARRIER_CMD_PRIVATE_EXPEDITED"),
    (16, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED"),
    (32, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE"),
    (64, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE"),
    (128, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ"),
    (256, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ"),
];

pub const SIGNALS: Names = &[
    (1, "SIGHUP"),
    (2, "SIGINT"),
    (3, "SIGQUIT"),
    (4, "SIGILL"),
    (5, "SIGTRAP"),
    (6, "SIGABRT"),
    (7, "SIGBUS"),
    (8, "SIGFPE"),
    (9, "SIGKILL"),
    (10, "SIGUSR1"),
    (11, "SIGSEGV"),
    (12, "SIGUSR2"),
    (13, "SIGPIPE"),
    (14, "SIGALRM"),
    (15, "SIGTERM"),
    (16, "SIGSTKFLT"),
    (17, "SIGCHLD"),
    (18, "SIGCONT"),
    (19, "SIGSTOP"),
    (20, "SIGTSTP"),
    (21, "SIGTTIN"),
    (22, "SIGTTOU"),
    (23, "SIGURG"),
    (24, "SIGXCPU"),
    (25, "SIGXFSZ"),
    (26, "SIGVTALRM"),
    (27, "SIGPROF"),
    (28, "SIGWINCH"),
    (29, "SIGIO"),
    (30, "SIGPWR"),
    (31, "SIGSYS"),
];

/// A signal's name: SIGHUP to SIGSYS, then SIGRTMIN (32) and SIGRT_1 to SIGRT_32 (64), as
/// strace names them.
/// Types of auxiliary vector entries (`AT_*` of linux/auxvec.h and the architectures').
pub const AUXV_TYPES: &[(u64, &str)] = &[
    (1, "AT_IGNORE"),
    (2, "AT_EXECFD"),
    (3, "AT_PHDR"),
    (4, "AT_PHENT"),
    (5, "AT_PHNUM"),
    (6, "AT_PAGESZ"),
    (7, "AT_BASE"),
    (8, "AT_FLAGS"),
    (9, "AT_ENTRY"),
    (10, "AT_NOTELF"),
    (11, "AT_UID"),
    (12, "AT_EUID"),
    (13, "AT_GID"),
    (14, "AT_EGID"),
    (15, "AT_PLATFORM"),
    (16, "AT_HWCAP"),
    (17, "AT_CLKTCK"),
    (23, "AT_SECURE"),
    (24, "AT_BASE_PLATFORM"),
    (25, "AT_RANDOM"),
    (26, "AT_HWCAP2"),
    (27, "AT_RSEQ_FEATURE_SIZE"),
    (28, "AT_RSEQ_ALIGN"),
    (29, "AT_HWCAP3"),
    (30, "AT_HWCAP4"),
    (31, "AT_EXECFN"),
    (32, "AT_SYSINFO"),
    (33, "AT_SYSINFO_EHDR"),
    (40, "AT_L1I_CACHESIZE"),
    (41, "AT_L1I_CACHEGEOMETRY"),
    (42, "AT_L1D_CACHESIZE"),
    (43, "AT_L1D_CACHEGEOMETRY"),
    (44, "AT_L2_CACHESIZE"),
    (45, "AT_L2_CACHEGEOMETRY"),
    (46, "AT_L3_CACHESIZE"),
    (47, "AT_L3_CACHEGEOMETRY"),
    (51, "AT_MINSIGSTKSZ"),
];

pub fn signal_name(signo: u64) -> Option<String> {
    match signo {
        32 => Some("SIGRTMIN".to_owned()),
        33..=64 => Some(format!("SIGRT_{}", signo - 32)),
        _ => name_of(SIGNALS, signo).map(str::to_owned),
    }
}

/// What the kernel does with a signal whose action is the default (signal(7)).
pub fn default_action(signo: u64) -> &'static str {
    match signo {
        3 | 4 | 5 | 6 | 7 | 8 | 11 | 24 | 25 | 31 => "core",
        17 | 23 | 28 => "ignore",
        19..=22 => "stop",
        18 => "continue",
        _ => "terminate",
    }
}

/// si_code values any signal can have (asm-generic/siginfo.h).
pub const SI_CODES: &[(i64, &str)] = &[
    (0, "SI_USER"),
    (0x80, "SI_KERNEL"),
    (-1, "SI_QUEUE"),
    (-2, "SI_TIMER"),
    (-3, "SI_MESGQ"),
    (-4, "SI_ASYNCIO"),
    (-5, "SI_SIGIO"),
    (-6, "SI_TKILL"),
    (-7, "SI_DETHREAD"),
    (-60, "SI_ASYNCNL"),
];

/// si_code values of the signals the kernel raises for a reason, by signal.
pub const SIGNAL_CODES: &[(u64, &[(i64, &str)])] = &[
    (
        4, // SIGILL
        &[
            (1, "ILL_ILLOPC"),
            (2, "ILL_ILLOPN"),
            (3, "ILL_ILLADR"),
            (4, "ILL_ILLTRP"),
            (5, "ILL_PRVOPC"),
            (6, "ILL_PRVREG"),
            (7, "ILL_COPROC"),
            (8, "ILL_BADSTK"),
            (9, "ILL_BADIADDR"),
        ],
    ),
    (
        8, // SIGFPE
        &[
            (1, "FPE_INTDIV"),
            (2, "FPE_INTOVF"),
            (3, "FPE_FLTDIV"),
            (4, "FPE_FLTOVF"),
            (5, "FPE_FLTUND"),
            (6, "FPE_FLTRES"),
            (7, "FPE_FLTINV"),
            (8, "FPE_FLTSUB"),
            (14, "FPE_FLTUNK"),
            (15, "FPE_CONDTRAP"),
        ],
    ),
    (
        11, // SIGSEGV
        &[
            (1, "SEGV_MAPERR"),
            (2, "SEGV_ACCERR"),
            (3, "SEGV_BNDERR"),
            (4, "SEGV_PKUERR"),
            (5, "SEGV_ACCADI"),
            (6, "SEGV_ADIDERR"),
            (7, "SEGV_ADIPERR"),
            (8, "SEGV_MTEAERR"),
            (9, "SEGV_MTESERR"),
            (10, "SEGV_CPERR"),
        ],
    ),
    (
        7, // SIGBUS
        &[
            (1, "BUS_ADRALN"),
            (2, "BUS_ADRERR"),
            (3, "BUS_OBJERR"),
            (4, "BUS_MCEERR_AR"),
            (5, "BUS_MCEERR_AO"),
        ],
    ),
    (
        5, // SIGTRAP
        &[
            (1, "TRAP_BRKPT"),
            (2, "TRAP_TRACE"),
            (3, "TRAP_BRANCH"),
            (4, "TRAP_HWBKPT"),
            (5, "TRAP_UNK"),
            (6, "TRAP_PERF"),
        ],
    ),
    (
        17, // SIGCHLD
        &[
            (1, "CLD_EXITED"),
            (2, "CLD_KILLED"),
            (3, "CLD_DUMPED"),
            (4, "CLD_TRAPPED"),
            (5, "CLD_STOPPED"),
            (6, "CLD_CONTINUED"),
        ],
    ),
    (
        29, // SIGIO (SIGPOLL)
        &[
            (1, "POLL_IN"),
            (2, "POLL_OUT"),
            (3, "POLL_MSG"),
            (4, "POLL_ERR"),
            (5, "POLL_PRI"),
            (6, "POLL_HUP"),
        ],
    ),
    (27, &[(1, "PROF_SIG")]),                              // SIGPROF
    (31, &[(1, "SYS_SECCOMP"), (2, "SYS_USER_DISPATCH")]), // SIGSYS
];

/// The name of si_code `code` of signal `signo`: a generic code (SI_KERNEL, SI_QUEUE, ...)
/// means the same for every signal, so those are looked up first.
pub fn si_code_name(signo: u64, code: i64) -> Option<&'static str> {
    let find =
        |names: &[(i64, &'static str)]| names.iter().find(|(c, _)| *c == code).map(|&(_, n)| n);
    find(SI_CODES).or_else(|| {
        SIGNAL_CODES
            .iter()
            .find(|(s, _)| *s == signo)
            .and_then(|(_, codes)| find(codes))
    })
}

/// `struct flock`'s l_type.
pub const LOCK_TYPES: Names = &[(0, "F_RDLCK"), (1, "F_WRLCK"), (2, "F_UNLCK")];

/// `struct f_owner_ex`'s type.
pub const OWNER_TYPES: Names = &[(0, "F_OWNER_TID"), (1, "F_OWNER_PID"), (2, "F_OWNER_PGRP")];

/// A network interface's flags (linux/if.h).
pub const IFF_FLAGS: Names = &[
    (0x1, "IFF_UP"),
    (0x2, "IFF_BROADCAST"),
    (0x4, "IFF_DEBUG"),
    (0x8, "IFF_LOOPBACK"),
    (0x10, "IFF_POINTOPOINT"),
    (0x20, "IFF_NOTRAILERS"),
    (0x40, "IFF_RUNNING"),
    (0x80, "IFF_NOARP"),
    (0x100, "IFF_PROMISC"),
    (0x200, "IFF_ALLMULTI"),
    (0x400, "IFF_MASTER"),
    (0x800, "IFF_SLAVE"),
    (0x1000, "IFF_MULTICAST"),
    (0x2000, "IFF_PORTSEL"),
    (0x4000, "IFF_AUTOMEDIA"),
    (0x8000, "IFF_DYNAMIC"),
];

/// The file-type bits of a mode.
pub const FILE_TYPES: Names = &[
    (0o140000, "S_IFSOCK"),
    (0o120000, "S_IFLNK"),
    (0o100000, "S_IFREG"),
    (0o60000, "S_IFBLK"),
    (0o40000, "S_IFDIR"),
    (0o20000, "S_IFCHR"),
    (0o10000, "S_IFIFO"),
];

/// The name of `value` in `names`.
pub fn name_of(names: Names, value: u64) -> Option<&'static str> {
    names.iter().find(|(v, _)| *v == value).map(|(_, n)| *n)
}

/// `A|B|0x40` for the bits of `value`; "0" for none.
pub fn flags_text(names: &[(u64, &str)], value: u64) -> String {
    let mut matched: Vec<(u64, &str)> = Vec::new();
    let mut rest = value;
    // Multi-bit names first (O_SYNC contains O_DSYNC, O_TMPFILE contains O_DIRECTORY)...
    let mut sorted: Vec<&(u64, &str)> = names.iter().filter(|(v, _)| *v != 0).collect();
    sorted.sort_by_key(|(v, _)| std::cmp::Reverse(v.count_ones()));
    for &&(bits, name) in &sorted {
        if rest & bits == bits {
            matched.push((bits, name));
            rest &= !bits;
        }
    }
    // ...but shown from the lowest bit up, as strace does.
    matched.sort_unstable_by_key(|&(bits, _)| bits);
    let mut out: Vec<String> = matched.iter().map(|(_, n)| (*n).to_owned()).collect();
    if rest != 0 {
        out.push(format!("{rest:#x}"));
    }
    if out.is_empty() {
        "0".to_owned()
    } else {
        out.join("|")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        assert_eq!(flags_text(PROT, 3), "PROT_READ|PROT_WRITE");
        assert_eq!(flags_text(PROT, 0), "0");
        assert_eq!(flags_text(PROT, 0x41), "PROT_READ|0x40");
        assert_eq!(flags_text(OPEN_FLAGS_COMMON, 0o4010000), "O_SYNC");
        assert_eq!(name_of(SEEK_WHENCE, 2), Some("SEEK_END"));
    }
}
