//! Scheduling and synchronisation: policies, priorities, affinity, futexes, barriers.

use super::prelude::*;

/// The flags of the futex2 calls: the size of the futex word in the low two bits.
const FUTEX2_FLAGS: Names = &[
    (1, "FUTEX2_SIZE_U16"),
    (2, "FUTEX2_SIZE_U32"),
    (3, "FUTEX2_SIZE_U64"),
    (4, "FUTEX2_NUMA"),
    (8, "FUTEX2_MPOL"),
    (128, "FUTEX2_PRIVATE"),
];

// --- policies and priorities -------------------------------------------------------------

submit!(Handler::new("sched_yield", WS, &[], Int));
submit!(
    Handler::new(
        "sched_setparam",
        WS,
        &[arg("pid", Int), arg("param", Data(0))],
        Int
    )
    .captures(&[Capture::input_struct("param", 1, Struct::SchedParam)])
);
submit!(
    Handler::new(
        "sched_getparam",
        RS,
        &[arg("pid", Int), arg("param", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("param", 1, Struct::SchedParam)])
);
submit!(
    Handler::new(
        "sched_setscheduler",
        WS,
        &[
            arg("pid", Int),
            arg("policy", Enum(SCHED_POLICIES)),
            arg("param", Data(0))
        ],
        Int,
    )
    .captures(&[Capture::input_struct("param", 2, Struct::SchedParam)])
);
submit!(Handler::new(
    "sched_getscheduler",
    RS,
    &[arg("pid", Int)],
    Enum(SCHED_POLICIES)
));
submit!(Handler::new(
    "sched_get_priority_max",
    RS,
    &[arg("policy", Enum(SCHED_POLICIES))],
    Int
));
submit!(Handler::new(
    "sched_get_priority_min",
    RS,
    &[arg("policy", Enum(SCHED_POLICIES))],
    Int
));
submit!(
    Handler::new(
        "sched_rr_get_interval",
        RS,
        &[arg("pid", Int), arg("interval", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("interval", 1, Struct::Timespec)])
);
submit!(
    Handler::new(
        "sched_setattr",
        WS,
        &[arg("pid", Int), arg("uattr", Data(0)), arg("flags", UInt)],
        Int
    )
    .captures(&[Capture::input_struct("uattr", 1, Struct::SchedAttr)])
);
submit!(
    Handler::new(
        "sched_getattr",
        RS,
        &[
            arg("pid", Int),
            arg("uattr", Data(0)),
            arg("usize", UInt),
            arg("flags", UInt)
        ],
        Int,
    )
    .captures(&[Capture::output_struct("uattr", 1, Struct::SchedAttr)])
);

// --- CPUs --------------------------------------------------------------------------------

submit!(
    Handler::new(
        "sched_setaffinity",
        WS,
        &[
            arg("pid", Int),
            arg("len", UInt),
            arg("user_mask_ptr", Data(0))
        ],
        Int,
    )
    .captures(&[
        Capture::output("user_mask_ptr", 2, Len::Arg(1), Show::Hex).with_role(Role::Input)
    ])
);
submit!(
    // Returns the size of the mask it copied.
    Handler::new(
        "sched_getaffinity",
        RS,
        &[
            arg("pid", Int),
            arg("len", UInt),
            arg("user_mask_ptr", Data(0))
        ],
        Int,
    )
    .captures(&[Capture::output("user_mask_ptr", 2, Len::Ret, Show::Hex)])
);
submit!(
    Handler::new(
        "getcpu",
        RS,
        &[
            arg("cpup", Data(0)),
            arg("nodep", Data(1)),
            arg("unused", Ptr)
        ],
        Int
    )
    .captures(&[
        Capture::output_struct("cpup", 0, Struct::Int),
        Capture::output_struct("nodep", 1, Struct::Int),
    ])
);

// --- futexes and barriers ----------------------------------------------------------------

submit!(
    // utime is a timeout for the waiting operations and a number (val2) for the others; the
    // futex word is shown as it is when the call returns.
    Handler::new(
        "futex",
        WS,
        &[
            arg("uaddr", Data(0)),
            arg("op", FUTEX_OP),
            arg("val", UInt),
            arg("utime", Data(1)),
            arg("uaddr2", Ptr),
            arg("val3", Hex)
        ],
        Long,
    )
    .captures(&[
        Capture::input_struct("uaddr", 0, Struct::Int),
        Capture::input_struct("utime", 3, Struct::Timespec),
    ])
);
submit!(
    Handler::new(
        "futex_waitv",
        WS,
        &[
            arg("waiters", Data(0)),
            arg("nr_futexes", UInt),
            arg("flags", UInt),
            arg("timeout", Data(1)),
            arg("clockid", Enum(CLOCKS))
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("waiters", 0, Struct::FutexWaitv)
            .with_len(Len::ArgTimes(1, Size::Of(Struct::FutexWaitv))),
        Capture::input_struct("timeout", 3, Struct::Timespec),
    ])
);
submit!(Handler::new(
    "futex_wake",
    WS,
    &[
        arg("uaddr", Ptr),
        arg("mask", Hex),
        arg("nr", Int),
        arg("flags", Flags(FUTEX2_FLAGS))
    ],
    Int,
));
submit!(
    Handler::new(
        "futex_wait",
        WS,
        &[
            arg("uaddr", Data(0)),
            arg("val", ULong),
            arg("mask", Hex),
            arg("flags", Flags(FUTEX2_FLAGS)),
            arg("timeout", Data(1)),
            arg("clockid", Enum(CLOCKS))
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("uaddr", 0, Struct::Int),
        Capture::input_struct("timeout", 4, Struct::Timespec),
    ])
);
submit!(
    Handler::new(
        "futex_requeue",
        WS,
        &[
            arg("waiters", Data(0)),
            arg("flags", UInt),
            arg("nr_wake", Int),
            arg("nr_requeue", Int)
        ],
        Int,
    )
    // Always two: the source futex and the destination.
    .captures(&[Capture::input_struct("waiters", 0, Struct::FutexWaitv)
        .with_len(Len::Fixed(Size::Array(Struct::FutexWaitv, 2)))])
);
submit!(Handler::new(
    "membarrier",
    WS,
    &[
        arg("cmd", Enum(MEMBARRIER_CMDS)),
        arg("flags", Flags(&[(1, "MEMBARRIER_CMD_FLAG_CPU")])),
        arg("cpu_id", Int)
    ],
    Int,
));
