//! Security: capabilities, seccomp, Landlock, the kernel keyring, LSM attributes, and the
//! privileged interfaces bpf and perf_event_open.

use super::prelude::*;

const SOCK_FPROG: Size = Size::Of(Struct::SockFprog);

/// `struct landlock_path_beneath_attr`; the first 12 bytes of `struct
/// landlock_net_port_attr` hold its access and its port.
const LANDLOCK_RULE_ATTR: Size = Size::Of(Struct::LandlockPathBeneathAttr);

const SECCOMP_OPS: Names = &[
    (0, "SECCOMP_SET_MODE_STRICT"),
    (1, "SECCOMP_SET_MODE_FILTER"),
    (2, "SECCOMP_GET_ACTION_AVAIL"),
    (3, "SECCOMP_GET_NOTIF_SIZES"),
];

const SECCOMP_FLAGS: Names = &[
    (1, "SECCOMP_FILTER_FLAG_TSYNC"),
    (2, "SECCOMP_FILTER_FLAG_LOG"),
    (4, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
    (8, "SECCOMP_FILTER_FLAG_NEW_LISTENER"),
    (16, "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"),
    (32, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
];

const LANDLOCK_CREATE_FLAGS: Names = &[
    (1, "LANDLOCK_CREATE_RULESET_VERSION"),
    (2, "LANDLOCK_CREATE_RULESET_ERRATA"),
];

const LANDLOCK_RULE_TYPES: Names = &[
    (1, "LANDLOCK_RULE_PATH_BENEATH"),
    (2, "LANDLOCK_RULE_NET_PORT"),
];

const LANDLOCK_RESTRICT_FLAGS: Names = &[
    (1, "LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF"),
    (2, "LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON"),
    (4, "LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF"),
];

const KEYCTL_OPS: Names = &[
    (0, "KEYCTL_GET_KEYRING_ID"),
    (1, "KEYCTL_JOIN_SESSION_KEYRING"),
    (2, "KEYCTL_UPDATE"),
    (3, "KEYCTL_REVOKE"),
    (4, "KEYCTL_CHOWN"),
    (5, "KEYCTL_SETPERM"),
    (6, "KEYCTL_DESCRIBE"),
    (7, "KEYCTL_CLEAR"),
    (8, "KEYCTL_LINK"),
    (9, "KEYCTL_UNLINK"),
    (10, "KEYCTL_SEARCH"),
    (11, "KEYCTL_READ"),
    (12, "KEYCTL_INSTANTIATE"),
    (13, "KEYCTL_NEGATE"),
    (14, "KEYCTL_SET_REQKEY_KEYRING"),
    (15, "KEYCTL_SET_TIMEOUT"),
    (16, "KEYCTL_ASSUME_AUTHORITY"),
    (17, "KEYCTL_GET_SECURITY"),
    (18, "KEYCTL_SESSION_TO_PARENT"),
    (19, "KEYCTL_REJECT"),
    (20, "KEYCTL_INSTANTIATE_IOV"),
    (21, "KEYCTL_INVALIDATE"),
    (22, "KEYCTL_GET_PERSISTENT"),
    (23, "KEYCTL_DH_COMPUTE"),
    (24, "KEYCTL_PKEY_QUERY"),
    (25, "KEYCTL_PKEY_ENCRYPT"),
    (26, "KEYCTL_PKEY_DECRYPT"),
    (27, "KEYCTL_PKEY_SIGN"),
    (28, "KEYCTL_PKEY_VERIFY"),
    (29, "KEYCTL_RESTRICT_KEYRING"),
    (30, "KEYCTL_MOVE"),
    (31, "KEYCTL_CAPABILITIES"),
    (32, "KEYCTL_WATCH_KEY"),
];

/// The special keyring ids (negative `key_serial_t`), sign-extended to 64 bits or not.
const KEY_SPECS: Names = &[
    (-1i64 as u64, "KEY_SPEC_THREAD_KEYRING"),
    (-2i64 as u64, "KEY_SPEC_PROCESS_KEYRING"),
    (-3i64 as u64, "KEY_SPEC_SESSION_KEYRING"),
    (-4i64 as u64, "KEY_SPEC_USER_KEYRING"),
    (-5i64 as u64, "KEY_SPEC_USER_SESSION_KEYRING"),
    (-6i64 as u64, "KEY_SPEC_GROUP_KEYRING"),
    (-7i64 as u64, "KEY_SPEC_REQKEY_AUTH_KEY"),
    (-8i64 as u64, "KEY_SPEC_REQUESTOR_KEYRING"),
    (-1i32 as u32 as u64, "KEY_SPEC_THREAD_KEYRING"),
    (-2i32 as u32 as u64, "KEY_SPEC_PROCESS_KEYRING"),
    (-3i32 as u32 as u64, "KEY_SPEC_SESSION_KEYRING"),
    (-4i32 as u32 as u64, "KEY_SPEC_USER_KEYRING"),
    (-5i32 as u32 as u64, "KEY_SPEC_USER_SESSION_KEYRING"),
    (-6i32 as u32 as u64, "KEY_SPEC_GROUP_KEYRING"),
    (-7i32 as u32 as u64, "KEY_SPEC_REQKEY_AUTH_KEY"),
    (-8i32 as u32 as u64, "KEY_SPEC_REQUESTOR_KEYRING"),
];

const LSM_ATTRS: Names = &[
    (0, "LSM_ATTR_UNDEF"),
    (100, "LSM_ATTR_CURRENT"),
    (101, "LSM_ATTR_EXEC"),
    (102, "LSM_ATTR_FSCREATE"),
    (103, "LSM_ATTR_KEYCREATE"),
    (104, "LSM_ATTR_PREV"),
    (105, "LSM_ATTR_SOCKCREATE"),
];

const LSM_FLAGS: Names = &[(1, "LSM_FLAG_SINGLE")];

const BPF_CMDS: Names = &[
    (0, "BPF_MAP_CREATE"),
    (1, "BPF_MAP_LOOKUP_ELEM"),
    (2, "BPF_MAP_UPDATE_ELEM"),
    (3, "BPF_MAP_DELETE_ELEM"),
    (4, "BPF_MAP_GET_NEXT_KEY"),
    (5, "BPF_PROG_LOAD"),
    (6, "BPF_OBJ_PIN"),
    (7, "BPF_OBJ_GET"),
    (8, "BPF_PROG_ATTACH"),
    (9, "BPF_PROG_DETACH"),
    (10, "BPF_PROG_TEST_RUN"),
    (11, "BPF_PROG_GET_NEXT_ID"),
    (12, "BPF_MAP_GET_NEXT_ID"),
    (13, "BPF_PROG_GET_FD_BY_ID"),
    (14, "BPF_MAP_GET_FD_BY_ID"),
    (15, "BPF_OBJ_GET_INFO_BY_FD"),
    (16, "BPF_PROG_QUERY"),
    (17, "BPF_RAW_TRACEPOINT_OPEN"),
    (18, "BPF_BTF_LOAD"),
    (19, "BPF_BTF_GET_FD_BY_ID"),
    (20, "BPF_TASK_FD_QUERY"),
    (21, "BPF_MAP_LOOKUP_AND_DELETE_ELEM"),
    (22, "BPF_MAP_FREEZE"),
    (23, "BPF_BTF_GET_NEXT_ID"),
    (24, "BPF_MAP_LOOKUP_BATCH"),
    (25, "BPF_MAP_LOOKUP_AND_DELETE_BATCH"),
    (26, "BPF_MAP_UPDATE_BATCH"),
    (27, "BPF_MAP_DELETE_BATCH"),
    (28, "BPF_LINK_CREATE"),
    (29, "BPF_LINK_UPDATE"),
    (30, "BPF_LINK_GET_FD_BY_ID"),
    (31, "BPF_LINK_GET_NEXT_ID"),
    (32, "BPF_ENABLE_STATS"),
    (33, "BPF_ITER_CREATE"),
    (34, "BPF_LINK_DETACH"),
    (35, "BPF_PROG_BIND_MAP"),
    (36, "BPF_TOKEN_CREATE"),
];

const PERF_FLAGS: Names = &[
    (1, "PERF_FLAG_FD_NO_GROUP"),
    (2, "PERF_FLAG_FD_OUTPUT"),
    (4, "PERF_FLAG_PID_CGROUP"),
    (8, "PERF_FLAG_FD_CLOEXEC"),
];

/// `struct __user_cap_header_struct`: [version, pid].
const CAP_HEADER: Capture = Capture::input_struct("header", 0, Struct::IntPair);

// --- capabilities ------------------------------------------------------------------------

submit!(
    Handler::new(
        "capget",
        RS,
        &[arg("header", Data(0)), arg("dataptr", Data(1))],
        Int
    )
    .captures(&[
        CAP_HEADER,
        Capture::output_struct("dataptr", 1, Struct::CapData)
    ])
);
submit!(
    Handler::new(
        "capset",
        WS,
        &[arg("header", Data(0)), arg("data", Data(1))],
        Int
    )
    .captures(&[
        CAP_HEADER,
        Capture::input_struct("data", 1, Struct::CapData)
    ])
);

// --- seccomp and Landlock ----------------------------------------------------------------

submit!(
    Handler::new(
        "seccomp",
        WS,
        &[
            arg("op", Enum(SECCOMP_OPS)),
            arg("flags", Flags(SECCOMP_FLAGS)),
            arg("uargs", Data(0))
        ],
        Long,
    )
    // For SECCOMP_SET_MODE_FILTER, the sock_fprog.
    .captures(&[Capture {
        name: "uargs",
        kind: Kind::Bytes,
        ptr: Ptr::Arg(2),
        len: Len::Fixed(SOCK_FPROG),
        role: Role::Input,
        show: Show::Hex,
    }])
);
submit!(
    Handler::new(
        "landlock_create_ruleset",
        RS,
        &[
            arg("attr", Data(0)),
            arg("size", ULong),
            arg("flags", Flags(LANDLOCK_CREATE_FLAGS))
        ],
        Fd,
    )
    .captures(&[Capture::input_struct(
        "attr",
        0,
        Struct::LandlockRulesetAttr
    )])
);
submit!(
    Handler::new(
        "landlock_add_rule",
        WS,
        &[
            arg("ruleset_fd", Fd),
            arg("rule_type", Enum(LANDLOCK_RULE_TYPES)),
            arg("rule_attr", Data(0)),
            arg("flags", UInt)
        ],
        Int,
    )
    .captures(&[Capture {
        name: "rule_attr",
        kind: Kind::Bytes,
        ptr: Ptr::Arg(2),
        len: Len::Fixed(LANDLOCK_RULE_ATTR),
        role: Role::Input,
        show: Show::Hex,
    }])
);
submit!(Handler::new(
    "landlock_restrict_self",
    WS,
    &[
        arg("ruleset_fd", Fd),
        arg("flags", Flags(LANDLOCK_RESTRICT_FLAGS))
    ],
    Int,
));

// --- keys --------------------------------------------------------------------------------

// The payload (often a secret) is not captured.
submit!(
    Handler::new(
        "add_key",
        WS,
        &[
            arg("type", Data(0)),
            arg("description", Data(1)),
            arg("payload", Ptr),
            arg("plen", ULong),
            arg("ringid", Enum(KEY_SPECS))
        ],
        Int,
    )
    .captures(&[
        Capture::string("type", 0),
        Capture::string("description", 1)
    ])
);
submit!(
    Handler::new(
        "request_key",
        RS,
        &[
            arg("type", Data(0)),
            arg("description", Data(1)),
            arg("callout_info", Data(2)),
            arg("destringid", Enum(KEY_SPECS))
        ],
        Int,
    )
    .captures(&[
        Capture::string("type", 0),
        Capture::string("description", 1),
        Capture::string("callout_info", 2),
    ])
);
// A multiplexer, recorded like ioctl: what the arguments are depends on option. The
// captures are named after the argument they stand for (arg2 is argument 1).
submit!(
    Handler::new(
        "keyctl",
        RS,
        &[
            arg("option", Enum(KEYCTL_OPS)),
            arg("arg2", Hex),
            arg("arg3", Hex),
            arg("arg4", Hex),
            arg("arg5", Hex)
        ],
        Long,
    )
    .by_request(0)
);

/// The buffer of a keyctl option that fills it only when it is large enough (argument
/// `len`), and returns the size it needs either way.
const fn key_buffer(name: &'static str, ptr: u8, len: u8, show: Show) -> Capture {
    Capture::output(name, ptr, Len::RetIfAtMostArg(len), show)
}

submit!(
    Request::new("keyctl", "KEYCTL_JOIN_SESSION_KEYRING", 1, WS)
        .captures(&[Capture::string("arg2", 1)])
);
submit!(
    Request::new("keyctl", "KEYCTL_UPDATE", 2, WS).captures(&[Capture::content(
        "arg3",
        2,
        Len::Arg(3)
    )])
);
submit!(
    Request::new("keyctl", "KEYCTL_DESCRIBE", 6, RS).captures(&[key_buffer(
        "arg3",
        2,
        3,
        Show::Str
    )])
);
submit!(
    Request::new("keyctl", "KEYCTL_SEARCH", 10, RS)
        .captures(&[Capture::string("arg3", 2), Capture::string("arg4", 3)])
);
submit!(
    Request::new("keyctl", "KEYCTL_READ", 11, RC).captures(&[key_buffer("arg3", 2, 3, Show::Hex)])
);
submit!(
    Request::new("keyctl", "KEYCTL_INSTANTIATE", 12, WS).captures(&[Capture::content(
        "arg3",
        2,
        Len::Arg(3)
    )])
);
submit!(
    Request::new("keyctl", "KEYCTL_GET_SECURITY", 17, RS).captures(&[key_buffer(
        "arg3",
        2,
        3,
        Show::Str
    )])
);
submit!(
    Request::new("keyctl", "KEYCTL_DH_COMPUTE", 23, RS).captures(&[
        Capture::input_struct("arg2", 1, Struct::KeyctlDhParams),
        // The result's length is the buffer's.
        Capture::output("arg3", 2, Len::Ret, Show::Hex),
    ])
);
submit!(
    Request::new("keyctl", "KEYCTL_RESTRICT_KEYRING", 29, WS)
        .captures(&[Capture::string("arg3", 2), Capture::string("arg4", 3)])
);
submit!(
    // Copies as much of its capability bytes as fit, and returns how many it has.
    Request::new("keyctl", "KEYCTL_CAPABILITIES", 31, RS).captures(&[Capture::output(
        "arg2",
        1,
        Len::RetAtMostArg(2),
        Show::Hex
    )])
);

// --- LSM attributes ----------------------------------------------------------------------

submit!(
    Handler::new(
        "lsm_get_self_attr",
        RS,
        &[
            arg("attr", Enum(LSM_ATTRS)),
            arg("ctx", Data(0)),
            arg("size", Data(1)),
            arg("flags", Flags(LSM_FLAGS))
        ],
        Int,
    )
    // The lsm_ctx records, as many bytes as the kernel wrote back in *size.
    .captures(&[
        Capture::output("ctx", 1, Len::DerefU32 { arg: 2, offset: 0 }, Show::Hex),
        Capture::output_struct("size", 2, Struct::Int),
    ])
);
submit!(
    Handler::new(
        "lsm_set_self_attr",
        WS,
        &[
            arg("attr", Enum(LSM_ATTRS)),
            arg("ctx", Data(0)),
            arg("size", UInt),
            arg("flags", UInt)
        ],
        Int,
    )
    .captures(&[Capture {
        name: "ctx",
        kind: Kind::Bytes,
        ptr: Ptr::Arg(1),
        len: Len::Arg(2),
        role: Role::Input,
        show: Show::Hex,
    }])
);
submit!(
    Handler::new(
        "lsm_list_modules",
        RS,
        &[
            arg("ids", Data(0)),
            arg("size", Data(1)),
            arg("flags", UInt)
        ],
        Int
    )
    .captures(&[
        Capture::output(
            "ids",
            0,
            Len::RetTimes(Size::Of(Struct::Long)),
            Show::Struct(Struct::Long)
        ),
        Capture::output_struct("size", 1, Struct::Int),
    ])
);

// --- bpf and perf events -----------------------------------------------------------------

// A multiplexer, recorded like ioctl: maps, programs and links are created, read and
// changed through it.
submit!(
    Handler::new(
        "bpf",
        RS,
        &[
            arg("cmd", Enum(BPF_CMDS)),
            arg("uattr", Data(0)),
            arg("size", UInt)
        ],
        Long
    )
    .captures(&[Capture {
        name: "uattr",
        kind: Kind::Bytes,
        ptr: Ptr::Arg(1),
        len: Len::Arg(2),
        role: Role::Input,
        show: Show::Hex,
    }])
    .by_request(0)
);

// What some commands read or write through pointers in `union bpf_attr` (uattr itself is
// captured at exit for every command, with what the kernel wrote back into it).
/// `obj.pathname` (BPF_OBJ_PIN, BPF_OBJ_GET).
const BPF_PATHNAME: Capture =
    Capture::string("pathname", 1).with_ptr(Ptr::Field { arg: 1, offset: 0 });
submit!(
    Request::new("bpf", "BPF_PROG_LOAD", 5, RS)
        .captures(&[Capture::string("license", 1).with_ptr(Ptr::Field { arg: 1, offset: 16 })])
);
submit!(Request::new("bpf", "BPF_OBJ_PIN", 6, WS).captures(&[BPF_PATHNAME]));
submit!(Request::new("bpf", "BPF_OBJ_GET", 7, RS).captures(&[BPF_PATHNAME]));
/// A buffer the kernel fills through bpf_attr: its pointer is the u64 at `at`, its length
/// the u32 at `len_at`, which the kernel sets to the bytes it wrote.
const fn attr_buffer(name: &'static str, at: u16, len_at: u16, show: Show) -> Capture {
    Capture::output(
        name,
        1,
        Len::DerefU32 {
            arg: 1,
            offset: len_at,
        },
        show,
    )
    .with_ptr(Ptr::Field { arg: 1, offset: at })
}
// info.info, info.info_len.
submit!(
    Request::new("bpf", "BPF_OBJ_GET_INFO_BY_FD", 15, RS).captures(&[attr_buffer(
        "info",
        8,
        4,
        Show::Hex
    )])
);
// task_fd_query.buf, task_fd_query.buf_len.
submit!(
    Request::new("bpf", "BPF_TASK_FD_QUERY", 20, RS).captures(&[attr_buffer(
        "buf",
        16,
        12,
        Show::Str
    )])
);
submit!(
    Handler::new(
        "perf_event_open",
        RS,
        &[
            arg("attr_uptr", Data(0)),
            arg("pid", Int),
            arg("cpu", Int),
            arg("group_fd", Fd),
            arg("flags", Flags(PERF_FLAGS))
        ],
        Fd,
    )
    .captures(&[Capture::input_struct("attr_uptr", 0, Struct::PerfEventAttr)])
);
