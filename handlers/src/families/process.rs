//! Processes: creating, executing, waiting for and ending them; identities and credentials;
//! limits, usage and priorities; namespaces, pidfds, tracing and the host's identity.

use super::prelude::*;

/// `struct clone_args` fields the kernel writes through: the pidfd (CLONE_PIDFD) and the
/// parent's copy of the child's TID (CLONE_PARENT_SETTID).
const CLONE_ARGS_PIDFD: u16 = Struct::CloneArgs.common_offset("pidfd");
const CLONE_ARGS_PARENT_TID: u16 = Struct::CloneArgs.common_offset("parent_tid");

const EXECVEAT_FLAGS: Names = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x10000, "AT_EXECVE_CHECK"),
];

/// `pidfd_open` flags: PIDFD_THREAD is O_EXCL, PIDFD_NONBLOCK is O_NONBLOCK.
const PIDFD_OPEN_FLAGS: Names = &[(0o200, "PIDFD_THREAD"), (0o4000, "PIDFD_NONBLOCK")];

const PIDFD_SIGNAL_FLAGS: Names = &[
    (1, "PIDFD_SIGNAL_THREAD"),
    (2, "PIDFD_SIGNAL_THREAD_GROUP"),
    (4, "PIDFD_SIGNAL_PROCESS_GROUP"),
];

const IOPRIO_WHO: Names = &[
    (1, "IOPRIO_WHO_PROCESS"),
    (2, "IOPRIO_WHO_PGRP"),
    (3, "IOPRIO_WHO_USER"),
];

const KCMP_TYPES: Names = &[
    (0, "KCMP_FILE"),
    (1, "KCMP_VM"),
    (2, "KCMP_FILES"),
    (3, "KCMP_FS"),
    (4, "KCMP_SIGHAND"),
    (5, "KCMP_IO"),
    (6, "KCMP_SYSVSEM"),
    (7, "KCMP_EPOLL_TFD"),
];

const RSEQ_FLAGS: Names = &[(1, "RSEQ_FLAG_UNREGISTER")];

/// The generic requests, and x86's register requests (12 to 33).
const PTRACE_REQUESTS: Names = &[
    (0, "PTRACE_TRACEME"),
    (1, "PTRACE_PEEKTEXT"),
    (2, "PTRACE_PEEKDATA"),
    (3, "PTRACE_PEEKUSER"),
    (4, "PTRACE_POKETEXT"),
    (5, "PTRACE_POKEDATA"),
    (6, "PTRACE_POKEUSER"),
    (7, "PTRACE_CONT"),
    (8, "PTRACE_KILL"),
    (9, "PTRACE_SINGLESTEP"),
    (12, "PTRACE_GETREGS"),
    (13, "PTRACE_SETREGS"),
    (14, "PTRACE_GETFPREGS"),
    (15, "PTRACE_SETFPREGS"),
    (16, "PTRACE_ATTACH"),
    (17, "PTRACE_DETACH"),
    (18, "PTRACE_GETFPXREGS"),
    (19, "PTRACE_SETFPXREGS"),
    (24, "PTRACE_SYSCALL"),
    (25, "PTRACE_GET_THREAD_AREA"),
    (26, "PTRACE_SET_THREAD_AREA"),
    (30, "PTRACE_ARCH_PRCTL"),
    (31, "PTRACE_SYSEMU"),
    (32, "PTRACE_SYSEMU_SINGLESTEP"),
    (33, "PTRACE_SINGLEBLOCK"),
    (0x4200, "PTRACE_SETOPTIONS"),
    (0x4201, "PTRACE_GETEVENTMSG"),
    (0x4202, "PTRACE_GETSIGINFO"),
    (0x4203, "PTRACE_SETSIGINFO"),
    (0x4204, "PTRACE_GETREGSET"),
    (0x4205, "PTRACE_SETREGSET"),
    (0x4206, "PTRACE_SEIZE"),
    (0x4207, "PTRACE_INTERRUPT"),
    (0x4208, "PTRACE_LISTEN"),
    (0x4209, "PTRACE_PEEKSIGINFO"),
    (0x420a, "PTRACE_GETSIGMASK"),
    (0x420b, "PTRACE_SETSIGMASK"),
    (0x420c, "PTRACE_SECCOMP_GET_FILTER"),
    (0x420d, "PTRACE_SECCOMP_GET_METADATA"),
    (0x420e, "PTRACE_GET_SYSCALL_INFO"),
    (0x420f, "PTRACE_GET_RSEQ_CONFIGURATION"),
    (0x4210, "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG"),
    (0x4211, "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG"),
];

/// The argument vector of an exec at argument `ptr`: the recorder takes it from the new
/// program image, since the old memory is gone when the call returns.
const fn exec_argv(ptr: u8) -> Capture {
    Capture {
        name: "argv",
        kind: Kind::Bytes,
        ptr: Ptr::Arg(ptr),
        len: Len::Fixed(Size::Bytes(0)),
        role: Role::Exec,
        show: Show::StrList,
    }
}

/// The environment of an exec at argument `ptr`, taken from the new program image with
/// `--capture-env` (the strings are the caller's, unchanged).
const fn exec_envp(ptr: u8) -> Capture {
    Capture {
        name: "envp",
        ..exec_argv(ptr)
    }
}

// --- creating processes and threads ------------------------------------------------------

submit!(Handler::new("fork", WS, &[], Int).flags(rule_flags::CHILD_RETURNS_ZERO));
submit!(Handler::new("vfork", WS, &[], Int).flags(rule_flags::CHILD_RETURNS_ZERO));
submit!(
    // x86_64's order; arm64 and riscv64 (CLONE_BACKWARDS) pass tls fourth and child_tidptr
    // fifth. The flags' low byte is the signal sent to the parent when the child ends.
    Handler::new(
        "clone",
        WS,
        &[
            arg("clone_flags", Flags(CLONE_FLAGS)),
            arg("newsp", Ptr),
            arg("parent_tidptr", Data(0)),
            arg("child_tidptr", Ptr),
            arg("tls", Hex)
        ],
        Int,
    )
    // With CLONE_PARENT_SETTID the child's TID, with CLONE_PIDFD a pidfd.
    .captures(&[Capture::output_struct("parent_tidptr", 2, Struct::Int)])
    .flags(rule_flags::CHILD_RETURNS_ZERO)
);
submit!(
    Handler::new(
        "clone3",
        WS,
        &[arg("uargs", Data(0)), arg("size", ULong)],
        Int
    )
    .captures(&[
        Capture::input_struct("uargs", 0, Struct::CloneArgs),
        Capture::output_struct("pidfd", 0, Struct::Int).with_ptr(Ptr::Field {
            arg: 0,
            offset: CLONE_ARGS_PIDFD
        }),
        Capture::output_struct("parent_tid", 0, Struct::Int).with_ptr(Ptr::Field {
            arg: 0,
            offset: CLONE_ARGS_PARENT_TID
        }),
    ])
    .flags(rule_flags::CHILD_RETURNS_ZERO)
);

// --- executing and ending ----------------------------------------------------------------

submit!(
    Handler::new(
        "execve",
        WS,
        &[
            arg("filename", Data(0)),
            arg("argv", Data(1)),
            arg("envp", Data(2))
        ],
        Int,
    )
    .captures(&[Capture::string("filename", 0), exec_argv(1), exec_envp(2)])
    .flags(rule_flags::EXEC)
);
submit!(
    Handler::new(
        "execveat",
        WS,
        &[
            arg("fd", DirFd),
            arg("filename", Data(0)),
            arg("argv", Data(1)),
            arg("envp", Data(2)),
            arg("flags", Flags(EXECVEAT_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("filename", 1), exec_argv(2), exec_envp(3)])
    .flags(rule_flags::EXEC)
);
submit!(Handler::new("exit", WS, &[arg("error_code", Int)], Int).flags(rule_flags::NO_RETURN));
submit!(
    Handler::new("exit_group", WS, &[arg("error_code", Int)], Int).flags(rule_flags::NO_RETURN)
);

// --- waiting for children ----------------------------------------------------------------

submit!(
    Handler::new(
        "wait4",
        RS,
        &[
            arg("upid", Int),
            arg("stat_addr", Data(0)),
            arg("options", Flags(WAIT_OPTIONS)),
            arg("ru", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::output_struct("stat_addr", 1, Struct::Int),
        Capture::output_struct("ru", 3, Struct::Rusage),
    ])
);
submit!(
    Handler::new(
        "waitid",
        RS,
        &[
            arg("which", Enum(IDTYPES)),
            arg("upid", Int),
            arg("infop", Data(0)),
            arg("options", Flags(WAIT_OPTIONS)),
            arg("ru", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::output_struct("infop", 2, Struct::Siginfo),
        Capture::output_struct("ru", 4, Struct::Rusage),
    ])
);

// --- process, group and session IDs ------------------------------------------------------

submit!(Handler::new("getpid", RS, &[], Int));
submit!(Handler::new("getppid", RS, &[], Int));
submit!(Handler::new("gettid", RS, &[], Int));
submit!(Handler::new("getpgrp", RS, &[], Int));
submit!(Handler::new("getpgid", RS, &[arg("pid", Int)], Int));
submit!(Handler::new(
    "setpgid",
    WS,
    &[arg("pid", Int), arg("pgid", Int)],
    Int
));
submit!(Handler::new("getsid", RS, &[arg("pid", Int)], Int));
submit!(Handler::new("setsid", WS, &[], Int));
submit!(
    // Returns the caller's TID; the kernel clears and wakes *tidptr when the thread ends.
    Handler::new("set_tid_address", WS, &[arg("tidptr", Ptr)], Int)
);

// --- user and group IDs (-1 leaves an ID unchanged) --------------------------------------

submit!(Handler::new("getuid", RS, &[], UInt));
submit!(Handler::new("geteuid", RS, &[], UInt));
submit!(Handler::new("getgid", RS, &[], UInt));
submit!(Handler::new("getegid", RS, &[], UInt));
submit!(Handler::new("setuid", WS, &[arg("uid", UInt)], Int));
submit!(Handler::new("setgid", WS, &[arg("gid", UInt)], Int));
submit!(Handler::new(
    "setreuid",
    WS,
    &[arg("ruid", Int), arg("euid", Int)],
    Int
));
submit!(Handler::new(
    "setregid",
    WS,
    &[arg("rgid", Int), arg("egid", Int)],
    Int
));
submit!(Handler::new(
    "setresuid",
    WS,
    &[arg("ruid", Int), arg("euid", Int), arg("suid", Int)],
    Int
));
submit!(Handler::new(
    "setresgid",
    WS,
    &[arg("rgid", Int), arg("egid", Int), arg("sgid", Int)],
    Int
));
submit!(
    Handler::new(
        "getresuid",
        RS,
        &[
            arg("ruidp", Data(0)),
            arg("euidp", Data(1)),
            arg("suidp", Data(2))
        ],
        Int
    )
    .captures(&[
        Capture::output_struct("ruidp", 0, Struct::Int),
        Capture::output_struct("euidp", 1, Struct::Int),
        Capture::output_struct("suidp", 2, Struct::Int),
    ])
);
submit!(
    Handler::new(
        "getresgid",
        RS,
        &[
            arg("rgidp", Data(0)),
            arg("egidp", Data(1)),
            arg("sgidp", Data(2))
        ],
        Int
    )
    .captures(&[
        Capture::output_struct("rgidp", 0, Struct::Int),
        Capture::output_struct("egidp", 1, Struct::Int),
        Capture::output_struct("sgidp", 2, Struct::Int),
    ])
);
submit!(
    // Returns the previous file-system UID, so setfsuid(-1) reads it.
    Handler::new("setfsuid", WS, &[arg("uid", Int)], UInt)
);
submit!(Handler::new("setfsgid", WS, &[arg("gid", Int)], UInt));
submit!(
    // With gidsetsize 0 only the count is returned and nothing is written.
    Handler::new(
        "getgroups",
        RS,
        &[arg("gidsetsize", Int), arg("grouplist", Data(0))],
        Int
    )
    .captures(&[Capture::output(
        "grouplist",
        1,
        Len::RetTimes(Size::Of(Struct::Int)),
        Show::Struct(Struct::Int),
    )])
);
submit!(
    Handler::new(
        "setgroups",
        WS,
        &[arg("gidsetsize", Int), arg("grouplist", Data(0))],
        Int
    )
    .captures(&[Capture::output(
        "grouplist",
        1,
        Len::ArgTimes(0, Size::Of(Struct::Int)),
        Show::Struct(Struct::Int),
    )
    .with_role(Role::Input)])
);

// --- threads: robust futex lists, restartable sequences ----------------------------------

submit!(
    Handler::new(
        "set_robust_list",
        WS,
        &[arg("head", Data(0)), arg("len", ULong)],
        Int
    )
    .captures(&[Capture::input_struct("head", 0, Struct::RobustListHead)])
);
submit!(
    Handler::new(
        "get_robust_list",
        RS,
        &[
            arg("pid", Int),
            arg("head_ptr", Data(0)),
            arg("len_ptr", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::output_struct("head_ptr", 1, Struct::Long),
        Capture::output_struct("len_ptr", 2, Struct::Long),
    ])
);
submit!(
    Handler::new(
        "rseq",
        WS,
        &[
            arg("rseq", Data(0)),
            arg("rseq_len", UInt),
            arg("flags", Flags(RSEQ_FLAGS)),
            arg("sig", Hex)
        ],
        Int,
    )
    .captures(&[Capture::input_struct("rseq", 0, Struct::Rseq)])
);
submit!(
    // Continues a call a signal interrupted (nanosleep, poll...) and returns what it returns.
    Handler::new("restart_syscall", WS, &[], Long)
);

// --- process attributes ------------------------------------------------------------------

submit!(
    // Some options read (PR_GET_*), most set; what the getters write depends on the option.
    Handler::new(
        "prctl",
        WS,
        &[
            arg("option", Enum(PRCTL_OPTIONS)),
            arg("arg2", Hex),
            arg("arg3", Hex),
            arg("arg4", Hex),
            arg("arg5", Hex)
        ],
        Int,
    )
    .by_request(0)
);
// The getters that write at arg2 (linux/prctl.h).
submit!(
    Request::new("prctl", "PR_GET_PDEATHSIG", 2, RS).captures(&[Capture::output_struct(
        "arg2",
        1,
        Struct::Int
    )])
);
submit!(Request::new("prctl", "PR_SET_NAME", 15, WS).captures(&[Capture::string("arg2", 1)]));
submit!(
    Request::new("prctl", "PR_GET_NAME", 16, RS).captures(&[Capture::output(
        "arg2",
        1,
        Len::Fixed(Size::Bytes(16)),
        Show::Str
    )])
);
submit!(
    Request::new("prctl", "PR_GET_CHILD_SUBREAPER", 37, RS).captures(&[Capture::output_struct(
        "arg2",
        1,
        Struct::Int
    )])
);
submit!(
    Request::new("prctl", "PR_GET_TID_ADDRESS", 40, RS).captures(&[Capture::output_struct(
        "arg2",
        1,
        Struct::Long
    )])
);
submit!(
    // ARCH_GET_FS / ARCH_GET_GS write the base at arg2; the other codes take a value.
    Handler::new(
        "arch_prctl",
        WS,
        &[arg("option", Enum(ARCH_PRCTL_CODES)), arg("arg2", Hex)],
        Int
    )
);
submit!(
    // Returns the previous persona; 0xffffffff only reads it.
    Handler::new("personality", WS, &[arg("personality", Hex)], Hex)
);

// --- signalling processes ----------------------------------------------------------------

submit!(Handler::new(
    "kill",
    WS,
    &[arg("pid", Int), arg("sig", Signal)],
    Int
));
submit!(Handler::new(
    "tkill",
    WS,
    &[arg("pid", Int), arg("sig", Signal)],
    Int
));
submit!(Handler::new(
    "tgkill",
    WS,
    &[arg("tgid", Int), arg("pid", Int), arg("sig", Signal)],
    Int
));

// --- pidfds, namespaces, comparing processes ---------------------------------------------

submit!(Handler::new(
    "pidfd_open",
    RS,
    &[arg("pid", Int), arg("flags", Flags(PIDFD_OPEN_FLAGS))],
    Fd
));
submit!(
    Handler::new(
        "pidfd_send_signal",
        WS,
        &[
            arg("pidfd", Fd),
            arg("sig", Signal),
            arg("info", Data(0)),
            arg("flags", Flags(PIDFD_SIGNAL_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::input_struct("info", 2, Struct::Siginfo)])
);
submit!(
    // A dup from another process's table.
    Handler::new(
        "pidfd_getfd",
        WS,
        &[arg("pidfd", Fd), arg("fd", Int), arg("flags", UInt)],
        Fd
    )
);
submit!(Handler::new(
    "setns",
    WS,
    &[arg("fd", Fd), arg("flags", Flags(CLONE_FLAGS))],
    Int
));
submit!(Handler::new(
    "unshare",
    WS,
    &[arg("unshare_flags", Flags(CLONE_FLAGS))],
    Int
));
submit!(Handler::new(
    "kcmp",
    RS,
    &[
        arg("pid1", Int),
        arg("pid2", Int),
        arg("type", Enum(KCMP_TYPES)),
        arg("idx1", ULong),
        arg("idx2", Hex)
    ],
    Int,
));

// --- tracing and other processes' memory -------------------------------------------------

submit!(
    // Most requests read the tracee's state (PEEK*, GET*); where the result goes depends on
    // the request: the requests below say it.
    Handler::new(
        "ptrace",
        RS,
        &[
            arg("request", Enum(PTRACE_REQUESTS)),
            arg("pid", Int),
            arg("addr", Hex),
            arg("data", Hex)
        ],
        Long,
    )
    .by_request(0)
);
// The requests that write at `data` (linux/ptrace.h): the peeks' word, the event message,
// the tracee's siginfo.
submit!(
    Request::new("ptrace", "PTRACE_PEEKTEXT", 1, RS).captures(&[Capture::output_struct(
        "data",
        3,
        Struct::Long
    )])
);
submit!(
    Request::new("ptrace", "PTRACE_PEEKDATA", 2, RS).captures(&[Capture::output_struct(
        "data",
        3,
        Struct::Long
    )])
);
submit!(
    Request::new("ptrace", "PTRACE_PEEKUSR", 3, RS).captures(&[Capture::output_struct(
        "data",
        3,
        Struct::Long
    )])
);
submit!(
    Request::new("ptrace", "PTRACE_GETEVENTMSG", 0x4201, RS).captures(&[Capture::output_struct(
        "data",
        3,
        Struct::Long
    )])
);
submit!(
    Request::new("ptrace", "PTRACE_GETSIGINFO", 0x4202, RS).captures(&[Capture::output_struct(
        "data",
        3,
        Struct::Siginfo
    )])
);
submit!(
    Handler::new(
        "process_vm_readv",
        RC,
        &[
            arg("pid", Int),
            arg("lvec", Data(0)),
            arg("liovcnt", ULong),
            arg("rvec", Ptr),
            arg("riovcnt", ULong),
            arg("flags", ULong)
        ],
        Long,
    )
    .captures(&[Capture::output("lvec", 1, Len::Arg(2), Show::Text).with_kind(Kind::Iovec)])
);
submit!(
    Handler::new(
        "process_vm_writev",
        WC,
        &[
            arg("pid", Int),
            arg("lvec", Data(0)),
            arg("liovcnt", ULong),
            arg("rvec", Ptr),
            arg("riovcnt", ULong),
            arg("flags", ULong)
        ],
        Long,
    )
    .captures(&[Capture::content("lvec", 1, Len::Arg(2)).with_kind(Kind::Iovec)])
);

// --- resource limits, usage and priorities -----------------------------------------------

submit!(
    Handler::new(
        "getrlimit",
        RS,
        &[arg("resource", Enum(RLIMITS)), arg("rlim", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("rlim", 1, Struct::Rlimit)])
);
submit!(
    Handler::new(
        "setrlimit",
        WS,
        &[arg("resource", Enum(RLIMITS)), arg("rlim", Data(0))],
        Int
    )
    .captures(&[Capture::input_struct("rlim", 1, Struct::Rlimit)])
);
submit!(
    // Mostly called with new_rlim NULL, as the C library's getrlimit.
    Handler::new(
        "prlimit64",
        RS,
        &[
            arg("pid", Int),
            arg("resource", Enum(RLIMITS)),
            arg("new_rlim", Data(0)),
            arg("old_rlim", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("new_rlim", 2, Struct::Rlimit),
        Capture::output_struct("old_rlim", 3, Struct::Rlimit),
    ])
);
submit!(
    Handler::new(
        "getrusage",
        RS,
        &[arg("who", Enum(RUSAGE_WHO)), arg("ru", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("ru", 1, Struct::Rusage)])
);
submit!(
    // Returns clock ticks since an arbitrary point.
    Handler::new("times", RS, &[arg("tbuf", Data(0))], Long).captures(&[Capture::output_struct(
        "tbuf",
        0,
        Struct::Tms
    )])
);
submit!(
    // Returns 20 - nice (1 to 40), never negative.
    Handler::new(
        "getpriority",
        RS,
        &[arg("which", Enum(PRIO_WHICH)), arg("who", Int)],
        Int
    )
);
submit!(Handler::new(
    "setpriority",
    WS,
    &[
        arg("which", Enum(PRIO_WHICH)),
        arg("who", Int),
        arg("niceval", Int)
    ],
    Int
));
submit!(Handler::new(
    "ioprio_get",
    RS,
    &[arg("which", Enum(IOPRIO_WHO)), arg("who", Int)],
    Hex
));
submit!(Handler::new(
    "ioprio_set",
    WS,
    &[
        arg("which", Enum(IOPRIO_WHO)),
        arg("who", Int),
        arg("ioprio", Hex)
    ],
    Int
));

// --- the host: names and figures ---------------------------------------------------------

submit!(
    Handler::new("uname", RS, &[arg("name", Data(0))], Int).captures(&[Capture::output_struct(
        "name",
        0,
        Struct::Utsname
    )])
);
submit!(
    // Not NUL-terminated: len bytes.
    Handler::new(
        "sethostname",
        WS,
        &[arg("name", Data(0)), arg("len", Int)],
        Int
    )
    .captures(&[Capture::output("name", 0, Len::Arg(1), Show::Text).with_role(Role::Input)])
);
submit!(
    Handler::new(
        "setdomainname",
        WS,
        &[arg("name", Data(0)), arg("len", Int)],
        Int
    )
    .captures(&[Capture::output("name", 0, Len::Arg(1), Show::Text).with_role(Role::Input)])
);
submit!(
    Handler::new("sysinfo", RS, &[arg("info", Data(0))], Int).captures(&[Capture::output_struct(
        "info",
        0,
        Struct::Sysinfo
    )])
);
