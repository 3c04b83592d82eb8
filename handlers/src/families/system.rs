//! The system: kernel modules, kexec, rebooting, the kernel log, process accounting, I/O
//! port access, architecture-specific calls, and the obsolete or unimplemented entries of
//! the syscall tables.

use super::prelude::*;

const DELETE_MODULE_FLAGS: Names = &[(0o1000, "O_TRUNC"), (0o4000, "O_NONBLOCK")];

const MODULE_INIT_FLAGS: Names = &[
    (1, "MODULE_INIT_IGNORE_MODVERSIONS"),
    (2, "MODULE_INIT_IGNORE_VERMAGIC"),
    (4, "MODULE_INIT_COMPRESSED_FILE"),
];

const KEXEC_FILE_FLAGS: Names = &[
    (1, "KEXEC_FILE_UNLOAD"),
    (2, "KEXEC_FILE_ON_CRASH"),
    (4, "KEXEC_FILE_NO_INITRAMFS"),
    (8, "KEXEC_FILE_DEBUG"),
];

/// kexec_load's flags; the high 16 bits hold the architecture (KEXEC_ARCH_*).
const KEXEC_FLAGS: Names = &[
    (1, "KEXEC_ON_CRASH"),
    (2, "KEXEC_PRESERVE_CONTEXT"),
    (4, "KEXEC_UPDATE_ELFCOREHDR"),
    (8, "KEXEC_CRASH_HOTPLUG_SUPPORT"),
];

const REBOOT_MAGIC: Names = &[
    (0xfee1_dead, "LINUX_REBOOT_MAGIC1"),
    (0x2812_1969, "LINUX_REBOOT_MAGIC2"),
    (0x0512_1996, "LINUX_REBOOT_MAGIC2A"),
    (0x1604_1998, "LINUX_REBOOT_MAGIC2B"),
    (0x2011_2000, "LINUX_REBOOT_MAGIC2C"),
];

const REBOOT_CMDS: Names = &[
    (0, "LINUX_REBOOT_CMD_CAD_OFF"),
    (0x0123_4567, "LINUX_REBOOT_CMD_RESTART"),
    (0xcdef_0123, "LINUX_REBOOT_CMD_HALT"),
    (0x89ab_cdef, "LINUX_REBOOT_CMD_CAD_ON"),
    (0x4321_fedc, "LINUX_REBOOT_CMD_POWER_OFF"),
    (0xa1b2_c3d4, "LINUX_REBOOT_CMD_RESTART2"),
    (0xd000_fce2, "LINUX_REBOOT_CMD_SW_SUSPEND"),
    (0x4558_4543, "LINUX_REBOOT_CMD_KEXEC"),
];

const SYSLOG_ACTIONS: Names = &[
    (0, "SYSLOG_ACTION_CLOSE"),
    (1, "SYSLOG_ACTION_OPEN"),
    (2, "SYSLOG_ACTION_READ"),
    (3, "SYSLOG_ACTION_READ_ALL"),
    (4, "SYSLOG_ACTION_READ_CLEAR"),
    (5, "SYSLOG_ACTION_CLEAR"),
    (6, "SYSLOG_ACTION_CONSOLE_OFF"),
    (7, "SYSLOG_ACTION_CONSOLE_ON"),
    (8, "SYSLOG_ACTION_CONSOLE_LEVEL"),
    (9, "SYSLOG_ACTION_SIZE_UNREAD"),
    (10, "SYSLOG_ACTION_SIZE_BUFFER"),
];

const RISCV_HWPROBE_PAIR: Size = Size::Of(Struct::RiscvHwprobe);

// --- kernel modules ----------------------------------------------------------------------

submit!(
    // umod is the whole module image: not captured.
    Handler::new(
        "init_module",
        WS,
        &[arg("umod", Ptr), arg("len", ULong), arg("uargs", Data(0))],
        Int,
    )
    .captures(&[Capture::string("uargs", 2)])
);
submit!(
    Handler::new(
        "finit_module",
        WS,
        &[
            arg("fd", Fd),
            arg("uargs", Data(0)),
            arg("flags", Flags(MODULE_INIT_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("uargs", 1)])
);
submit!(
    Handler::new(
        "delete_module",
        WS,
        &[
            arg("name_user", Data(0)),
            arg("flags", Flags(DELETE_MODULE_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("name_user", 0)])
);

// --- kexec and rebooting -----------------------------------------------------------------

submit!(
    Handler::new(
        "kexec_load",
        WS,
        &[
            arg("entry", Hex),
            arg("nr_segments", ULong),
            arg("segments", Data(0)),
            arg("flags", Flags(KEXEC_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::output(
        "segments",
        2,
        Len::ArgTimes(1, Size::Of(Struct::KexecSegment)),
        Show::Struct(Struct::KexecSegment),
    )
    .with_role(Role::Input)])
);
submit!(
    Handler::new(
        "kexec_file_load",
        WS,
        &[
            arg("kernel_fd", Fd),
            arg("initrd_fd", Fd),
            arg("cmdline_len", ULong),
            arg("cmdline_ptr", Data(0)),
            arg("flags", Flags(KEXEC_FILE_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("cmdline_ptr", 3)])
);
submit!(
    // arg is a command string for LINUX_REBOOT_CMD_RESTART2 only.
    Handler::new(
        "reboot",
        WS,
        &[
            arg("magic1", Enum(REBOOT_MAGIC)),
            arg("magic2", Enum(REBOOT_MAGIC)),
            arg("cmd", Enum(REBOOT_CMDS)),
            arg("arg", Ptr)
        ],
        Int,
    )
);

// --- the kernel log, accounting, terminals -----------------------------------------------

submit!(
    // The READ actions copy log text to buf and return its length; the others return a
    // count or a size and write nothing.
    Handler::new(
        "syslog",
        RC,
        &[
            arg("type", Enum(SYSLOG_ACTIONS)),
            arg("buf", Data(0)),
            arg("len", Int)
        ],
        Int,
    )
    .captures(&[Capture::output("buf", 1, Len::Ret, Show::Text)])
);
submit!(
    Handler::new("acct", WS, &[arg("name", Data(0))], Int).captures(&[Capture::string("name", 0)])
);
submit!(Handler::new("vhangup", WS, &[], Int));

// --- I/O ports (x86) ---------------------------------------------------------------------

submit!(Handler::new(
    "ioperm",
    WS,
    &[arg("from", Hex), arg("num", ULong), arg("turn_on", Int)],
    Int
));
submit!(Handler::new("iopl", WS, &[arg("level", UInt)], Int));

// --- RISC-V ------------------------------------------------------------------------------

submit!(Handler::new(
    "riscv_flush_icache",
    WS,
    &[
        arg("start", Hex),
        arg("end", Hex),
        arg("flags", Flags(&[(1, "SYS_RISCV_FLUSH_ICACHE_LOCAL")]))
    ],
    Int,
));
submit!(
    // The kernel reads each pair's key and writes its value (key -1 when unknown).
    Handler::new(
        "riscv_hwprobe",
        RS,
        &[
            arg("pairs", Data(0)),
            arg("pair_count", ULong),
            arg("cpusetsize", ULong),
            arg("cpus", Data(1)),
            arg("flags", Flags(&[(1, "RISCV_HWPROBE_WHICH_CPUS")]))
        ],
        Int,
    )
    .captures(&[
        Capture::output("pairs", 0, Len::ArgTimes(1, RISCV_HWPROBE_PAIR), Show::Hex),
        Capture::output("cpus", 3, Len::Arg(2), Show::Hex).with_role(Role::Input),
    ])
);

// --- uprobe trampolines (x86_64): entered from kernel-installed code ---------------------

submit!(Handler::new("uprobe", WS, &[], Long));
submit!(Handler::new("uretprobe", WS, &[], Long));

// --- obsolete or unimplemented: they fail with ENOSYS ------------------------------------

submit!(
    // Removed in Linux 5.5.
    Handler::new("_sysctl", WS, &[arg("args", Ptr)], Long)
);
submit!(
    // Loads an a.out-era shared library; kernels built without CONFIG_USELIB lack it.
    Handler::new("uselib", WS, &[arg("library", Data(0))], Long)
        .captures(&[Capture::string("library", 0)])
);
submit!(Handler::new(
    "create_module",
    WS,
    &[arg("name", Ptr), arg("size", ULong)],
    Long
));
submit!(Handler::new(
    "get_kernel_syms",
    WS,
    &[arg("table", Ptr)],
    Long
));
submit!(Handler::new(
    "query_module",
    WS,
    &[
        arg("name", Ptr),
        arg("which", Int),
        arg("buf", Ptr),
        arg("bufsize", ULong),
        arg("ret", Ptr)
    ],
    Long,
));
submit!(
    // The 32-bit TLS calls: not implemented in the 64-bit table.
    Handler::new("set_thread_area", WS, &[arg("u_info", Ptr)], Long)
);
submit!(Handler::new(
    "get_thread_area",
    WS,
    &[arg("u_info", Ptr)],
    Long
));
submit!(
    // STREAMS, never implemented.
    Handler::new(
        "getpmsg",
        WS,
        &[
            arg("fd", Fd),
            arg("ctlptr", Ptr),
            arg("dataptr", Ptr),
            arg("bandp", Ptr),
            arg("flagsp", Ptr)
        ],
        Long,
    )
);
submit!(Handler::new(
    "putpmsg",
    WS,
    &[
        arg("fd", Fd),
        arg("ctlptr", Ptr),
        arg("dataptr", Ptr),
        arg("band", Int),
        arg("flags", Hex)
    ],
    Long,
));
submit!(Handler::new(
    "afs_syscall",
    WS,
    &[
        arg("arg1", Hex),
        arg("arg2", Hex),
        arg("arg3", Hex),
        arg("arg4", Hex),
        arg("arg5", Hex)
    ],
    Long,
));
submit!(Handler::new(
    "tuxcall",
    WS,
    &[arg("arg1", Hex), arg("arg2", Hex), arg("arg3", Hex)],
    Long
));
submit!(Handler::new(
    "security",
    WS,
    &[arg("arg1", Hex), arg("arg2", Hex), arg("arg3", Hex)],
    Long
));
submit!(Handler::new(
    "vserver",
    WS,
    &[
        arg("arg1", Hex),
        arg("arg2", Hex),
        arg("arg3", Hex),
        arg("arg4", Hex),
        arg("arg5", Hex)
    ],
    Long,
));
