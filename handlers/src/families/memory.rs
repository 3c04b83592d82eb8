//! Memory: mappings, protection, locking, advice, NUMA policy, memory files and keys.

use super::prelude::*;

/// Bytes the kernel reads at argument `ptr`, shown in hex.
const fn input_hex(name: &'static str, ptr: u8, len: Len) -> Capture {
    Capture::output(name, ptr, len, Show::Hex).with_role(Role::Input)
}

/// The first word of a node mask (nodes 0 to 63): a mask is at least one `unsigned long`.
const NODEMASK: Len = Len::Fixed(Size::Of(Struct::Long));

/// A NUMA policy mode, with its mode flags above.
const MPOL_MODES: Names = &[
    (0, "MPOL_DEFAULT"),
    (1, "MPOL_PREFERRED"),
    (2, "MPOL_BIND"),
    (3, "MPOL_INTERLEAVE"),
    (4, "MPOL_LOCAL"),
    (5, "MPOL_PREFERRED_MANY"),
    (6, "MPOL_WEIGHTED_INTERLEAVE"),
    (1 << 13, "MPOL_F_NUMA_BALANCING"),
    (1 << 14, "MPOL_F_RELATIVE_NODES"),
    (1 << 15, "MPOL_F_STATIC_NODES"),
];

const MPOL_MF_FLAGS: Names = &[
    (1, "MPOL_MF_STRICT"),
    (2, "MPOL_MF_MOVE"),
    (4, "MPOL_MF_MOVE_ALL"),
];

const GET_MEMPOLICY_FLAGS: Names = &[
    (1, "MPOL_F_NODE"),
    (2, "MPOL_F_ADDR"),
    (4, "MPOL_F_MEMS_ALLOWED"),
];

const MFD_FLAGS: Names = &[
    (1, "MFD_CLOEXEC"),
    (2, "MFD_ALLOW_SEALING"),
    (4, "MFD_HUGETLB"),
    (8, "MFD_NOEXEC_SEAL"),
    (0x10, "MFD_EXEC"),
];

const PKEY_ACCESS: Names = &[(1, "PKEY_DISABLE_ACCESS"), (2, "PKEY_DISABLE_WRITE")];

const SHADOW_STACK_FLAGS: Names = &[
    (1, "SHADOW_STACK_SET_TOKEN"),
    (2, "SHADOW_STACK_SET_MARKER"),
];

// --- mappings ----------------------------------------------------------------------------

submit!(Handler::new("brk", WS, &[arg("brk", Ptr)], Ptr));
submit!(Handler::new(
    "mmap",
    WS,
    &[
        arg("addr", Ptr),
        arg("len", ULong),
        arg("prot", Flags(PROT)),
        arg("flags", Flags(MAP_FLAGS)),
        arg("fd", Fd),
        arg("off", Hex)
    ],
    Ptr,
));
submit!(Handler::new(
    "munmap",
    WS,
    &[arg("addr", Ptr), arg("len", ULong)],
    Int
));
submit!(Handler::new(
    "mremap",
    WS,
    &[
        arg("addr", Ptr),
        arg("old_len", ULong),
        arg("new_len", ULong),
        arg("flags", Flags(MREMAP_FLAGS)),
        arg("new_addr", Ptr)
    ],
    Ptr,
));
submit!(Handler::new(
    "remap_file_pages",
    WS,
    &[
        arg("start", Ptr),
        arg("size", ULong),
        arg("prot", Flags(PROT)),
        arg("pgoff", ULong),
        arg("flags", Flags(MAP_FLAGS))
    ],
    Int,
));
submit!(Handler::new(
    "map_shadow_stack",
    WS,
    &[
        arg("addr", Ptr),
        arg("size", ULong),
        arg("flags", Flags(SHADOW_STACK_FLAGS))
    ],
    Ptr,
));
submit!(
    Handler::new(
        "modify_ldt",
        WS,
        &[
            arg("func", Int),
            arg("ptr", Data(0)),
            arg("bytecount", ULong)
        ],
        Int
    )
    // func 0 and 2 read the LDT into ptr and return the bytes read; func 1 and 0x11
    // write an entry and return 0.
    .captures(&[Capture::output("ptr", 1, Len::Ret, Show::Hex)])
);

// --- protection, syncing and advice ------------------------------------------------------

submit!(Handler::new(
    "mprotect",
    WS,
    &[
        arg("start", Ptr),
        arg("len", ULong),
        arg("prot", Flags(PROT))
    ],
    Int
));
submit!(Handler::new(
    "pkey_mprotect",
    WS,
    &[
        arg("start", Ptr),
        arg("len", ULong),
        arg("prot", Flags(PROT)),
        arg("pkey", Int)
    ],
    Int,
));
submit!(Handler::new(
    "pkey_alloc",
    WS,
    &[arg("flags", Hex), arg("init_val", Flags(PKEY_ACCESS))],
    Int
));
submit!(Handler::new("pkey_free", WS, &[arg("pkey", Int)], Int));
submit!(Handler::new(
    "mseal",
    WS,
    &[arg("start", Ptr), arg("len", ULong), arg("flags", Hex)],
    Int
));
submit!(Handler::new(
    "msync",
    WS,
    &[
        arg("start", Ptr),
        arg("len", ULong),
        arg("flags", Flags(MSYNC_FLAGS))
    ],
    Int
));
submit!(Handler::new(
    "madvise",
    WS,
    &[
        arg("start", Ptr),
        arg("len_in", ULong),
        arg("behavior", Enum(MADVISE))
    ],
    Int
));
submit!(
    Handler::new(
        "process_madvise",
        WS,
        &[
            arg("pidfd", Fd),
            arg("vec", Data(0)),
            arg("vlen", ULong),
            arg("behavior", Enum(MADVISE)),
            arg("flags", UInt)
        ],
        Long,
    )
    .captures(&[Capture::output(
        "vec",
        1,
        Len::ArgTimes(2, Size::Of(Struct::Iovec)),
        Show::Struct(Struct::Iovec),
    )
    .with_role(Role::Input)])
);
submit!(Handler::new(
    "process_mrelease",
    WS,
    &[arg("pidfd", Fd), arg("flags", UInt)],
    Int
));
submit!(
    // vec gets one byte per page of [start, start + len): not a length syscord can express.
    Handler::new(
        "mincore",
        RS,
        &[arg("start", Ptr), arg("len", ULong), arg("vec", Ptr)],
        Int
    )
);

// --- locking -----------------------------------------------------------------------------

submit!(Handler::new(
    "mlock",
    WS,
    &[arg("start", Ptr), arg("len", ULong)],
    Int
));
submit!(Handler::new(
    "mlock2",
    WS,
    &[
        arg("start", Ptr),
        arg("len", ULong),
        arg("flags", Flags(&[(1, "MLOCK_ONFAULT")]))
    ],
    Int,
));
submit!(Handler::new(
    "munlock",
    WS,
    &[arg("start", Ptr), arg("len", ULong)],
    Int
));
submit!(Handler::new(
    "mlockall",
    WS,
    &[arg("flags", Flags(MLOCKALL_FLAGS))],
    Int
));
submit!(Handler::new("munlockall", WS, &[], Int));

// --- NUMA policy and page migration ------------------------------------------------------

submit!(
    Handler::new(
        "mbind",
        WS,
        &[
            arg("start", Ptr),
            arg("len", ULong),
            arg("mode", Flags(MPOL_MODES)),
            arg("nmask", Data(0)),
            arg("maxnode", ULong),
            arg("flags", Flags(MPOL_MF_FLAGS))
        ],
        Int,
    )
    .captures(&[input_hex("nmask", 3, NODEMASK)])
);
submit!(
    Handler::new(
        "get_mempolicy",
        RS,
        &[
            arg("policy", Data(0)),
            arg("nmask", Data(1)),
            arg("maxnode", ULong),
            arg("addr", Ptr),
            arg("flags", Flags(GET_MEMPOLICY_FLAGS))
        ],
        Int,
    )
    .captures(&[
        Capture::output_struct("policy", 0, Struct::Int),
        Capture::output("nmask", 1, NODEMASK, Show::Hex),
    ])
);
submit!(
    Handler::new(
        "set_mempolicy",
        WS,
        &[
            arg("mode", Flags(MPOL_MODES)),
            arg("nmask", Data(0)),
            arg("maxnode", ULong)
        ],
        Int,
    )
    .captures(&[input_hex("nmask", 1, NODEMASK)])
);
submit!(Handler::new(
    "set_mempolicy_home_node",
    WS,
    &[
        arg("start", Ptr),
        arg("len", ULong),
        arg("home_node", ULong),
        arg("flags", Hex)
    ],
    Int,
));
submit!(
    Handler::new(
        "migrate_pages",
        WS,
        &[
            arg("pid", Int),
            arg("maxnode", ULong),
            arg("old_nodes", Data(0)),
            arg("new_nodes", Data(1))
        ],
        Long,
    )
    .captures(&[
        input_hex("old_nodes", 2, NODEMASK),
        input_hex("new_nodes", 3, NODEMASK)
    ])
);
submit!(
    Handler::new(
        "move_pages",
        WS,
        &[
            arg("pid", Int),
            arg("nr_pages", ULong),
            arg("pages", Ptr),
            arg("nodes", Ptr),
            arg("status", Data(0)),
            arg("flags", Flags(MPOL_MF_FLAGS))
        ],
        Int,
    )
    // One int per page: the node it is on, or a negative errno.
    .captures(&[Capture::output(
        "status",
        4,
        Len::ArgTimes(1, Size::Of(Struct::Int)),
        Show::Struct(Struct::Int),
    )])
);

// --- memory files ------------------------------------------------------------------------

submit!(
    Handler::new(
        "memfd_create",
        RS,
        &[arg("uname", Data(0)), arg("flags", Flags(MFD_FLAGS))],
        Fd
    )
    .captures(&[Capture::string("uname", 0)])
);
submit!(Handler::new(
    "memfd_secret",
    RS,
    &[arg("flags", Flags(&[(0o2000000, "O_CLOEXEC")]))],
    Fd
));
