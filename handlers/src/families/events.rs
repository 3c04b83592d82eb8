//! Waiting for events: poll, select and epoll; descriptors that deliver events (eventfd,
//! signalfd, timerfd, inotify, fanotify, userfaultfd); asynchronous I/O (aio, io_uring).

use super::prelude::*;

/// A whole `fd_set` (FD_SETSIZE bits): how much of each set select captures, as the
/// kernel's length (nfds bits) cannot be expressed.
const FD_SET: Len = Len::Fixed(Size::Of(Struct::FdSet));

const IOCB: Size = Size::Of(Struct::Iocb);

const IO_URING_PARAMS: Size = Size::Of(Struct::IoUringParams);

/// `struct __aio_sigset`: where its sigset pointer is.
const AIO_SIGSET_SIGMASK: u16 = Struct::AioSigset.common_offset("sigmask");

const EPOLL_CREATE_FLAGS: Names = &[(0o2000000, "EPOLL_CLOEXEC")];

const EFD_FLAGS: Names = &[
    (1, "EFD_SEMAPHORE"),
    (0o4000, "EFD_NONBLOCK"),
    (0o2000000, "EFD_CLOEXEC"),
];

const SFD_FLAGS: Names = &[(0o4000, "SFD_NONBLOCK"), (0o2000000, "SFD_CLOEXEC")];

const TFD_FLAGS: Names = &[(0o4000, "TFD_NONBLOCK"), (0o2000000, "TFD_CLOEXEC")];

const TFD_SETTIME_FLAGS: Names = &[(1, "TFD_TIMER_ABSTIME"), (2, "TFD_TIMER_CANCEL_ON_SET")];

const IN_INIT_FLAGS: Names = &[(0o4000, "IN_NONBLOCK"), (0o2000000, "IN_CLOEXEC")];

const FAN_INIT_FLAGS: Names = &[
    (0x1, "FAN_CLOEXEC"),
    (0x2, "FAN_NONBLOCK"),
    (0x4, "FAN_CLASS_CONTENT"),
    (0x8, "FAN_CLASS_PRE_CONTENT"),
    (0x10, "FAN_UNLIMITED_QUEUE"),
    (0x20, "FAN_UNLIMITED_MARKS"),
    (0x40, "FAN_ENABLE_AUDIT"),
    (0x80, "FAN_REPORT_PIDFD"),
    (0x100, "FAN_REPORT_TID"),
    (0x200, "FAN_REPORT_FID"),
    (0x400, "FAN_REPORT_DIR_FID"),
    (0x800, "FAN_REPORT_NAME"),
    (0x1000, "FAN_REPORT_TARGET_FID"),
    (0x2000, "FAN_REPORT_FD_ERROR"),
    (0x4000, "FAN_REPORT_MNT"),
];

/// FAN_MARK_MOUNT, FAN_MARK_FILESYSTEM and FAN_MARK_MNTNS are values of a two-bit field.
const FAN_MARK_FLAGS: Names = &[
    (0x1, "FAN_MARK_ADD"),
    (0x2, "FAN_MARK_REMOVE"),
    (0x4, "FAN_MARK_DONT_FOLLOW"),
    (0x8, "FAN_MARK_ONLYDIR"),
    (0x10, "FAN_MARK_MOUNT"),
    (0x20, "FAN_MARK_IGNORED_MASK"),
    (0x40, "FAN_MARK_IGNORED_SURV_MODIFY"),
    (0x80, "FAN_MARK_FLUSH"),
    (0x100, "FAN_MARK_FILESYSTEM"),
    (0x110, "FAN_MARK_MNTNS"),
    (0x200, "FAN_MARK_EVICTABLE"),
    (0x400, "FAN_MARK_IGNORE"),
];

const FAN_EVENTS: Names = &[
    (0x1, "FAN_ACCESS"),
    (0x2, "FAN_MODIFY"),
    (0x4, "FAN_ATTRIB"),
    (0x8, "FAN_CLOSE_WRITE"),
    (0x10, "FAN_CLOSE_NOWRITE"),
    (0x20, "FAN_OPEN"),
    (0x40, "FAN_MOVED_FROM"),
    (0x80, "FAN_MOVED_TO"),
    (0x100, "FAN_CREATE"),
    (0x200, "FAN_DELETE"),
    (0x400, "FAN_DELETE_SELF"),
    (0x800, "FAN_MOVE_SELF"),
    (0x1000, "FAN_OPEN_EXEC"),
    (0x4000, "FAN_Q_OVERFLOW"),
    (0x8000, "FAN_FS_ERROR"),
    (0x10000, "FAN_OPEN_PERM"),
    (0x20000, "FAN_ACCESS_PERM"),
    (0x40000, "FAN_OPEN_EXEC_PERM"),
    (0x100000, "FAN_PRE_ACCESS"),
    (0x0100_0000, "FAN_MNT_ATTACH"),
    (0x0200_0000, "FAN_MNT_DETACH"),
    (0x0800_0000, "FAN_EVENT_ON_CHILD"),
    (0x1000_0000, "FAN_RENAME"),
    (0x4000_0000, "FAN_ONDIR"),
];

const UFFD_FLAGS: Names = &[
    (1, "UFFD_USER_MODE_ONLY"),
    (0o4000, "O_NONBLOCK"),
    (0o2000000, "O_CLOEXEC"),
];

const IORING_ENTER_FLAGS: Names = &[
    (0x1, "IORING_ENTER_GETEVENTS"),
    (0x2, "IORING_ENTER_SQ_WAKEUP"),
    (0x4, "IORING_ENTER_SQ_WAIT"),
    (0x8, "IORING_ENTER_EXT_ARG"),
    (0x10, "IORING_ENTER_REGISTERED_RING"),
    (0x20, "IORING_ENTER_ABS_TIMER"),
    (0x40, "IORING_ENTER_EXT_ARG_REG"),
    (0x80, "IORING_ENTER_NO_IOWAIT"),
];

const IORING_REGISTER_OPS: Names = &[
    (0, "IORING_REGISTER_BUFFERS"),
    (1, "IORING_UNREGISTER_BUFFERS"),
    (2, "IORING_REGISTER_FILES"),
    (3, "IORING_UNREGISTER_FILES"),
    (4, "IORING_REGISTER_EVENTFD"),
    (5, "IORING_UNREGISTER_EVENTFD"),
    (6, "IORING_REGISTER_FILES_UPDATE"),
    (7, "IORING_REGISTER_EVENTFD_ASYNC"),
    (8, "IORING_REGISTER_PROBE"),
    (9, "IORING_REGISTER_PERSONALITY"),
    (10, "IORING_UNREGISTER_PERSONALITY"),
    (11, "IORING_REGISTER_RESTRICTIONS"),
    (12, "IORING_REGISTER_ENABLE_RINGS"),
    (13, "IORING_REGISTER_FILES2"),
    (14, "IORING_REGISTER_FILES_UPDATE2"),
    (15, "IORING_REGISTER_BUFFERS2"),
    (16, "IORING_REGISTER_BUFFERS_UPDATE"),
    (17, "IORING_REGISTER_IOWQ_AFF"),
    (18, "IORING_UNREGISTER_IOWQ_AFF"),
    (19, "IORING_REGISTER_IOWQ_MAX_WORKERS"),
    (20, "IORING_REGISTER_RING_FDS"),
    (21, "IORING_UNREGISTER_RING_FDS"),
    (22, "IORING_REGISTER_PBUF_RING"),
    (23, "IORING_UNREGISTER_PBUF_RING"),
    (24, "IORING_REGISTER_SYNC_CANCEL"),
    (25, "IORING_REGISTER_FILE_ALLOC_RANGE"),
    (26, "IORING_REGISTER_PBUF_STATUS"),
    (27, "IORING_REGISTER_NAPI"),
    (28, "IORING_UNREGISTER_NAPI"),
    (29, "IORING_REGISTER_CLOCK"),
    (30, "IORING_REGISTER_CLONE_BUFFERS"),
    (31, "IORING_REGISTER_SEND_MSG_RING"),
    (32, "IORING_REGISTER_ZCRX_IFQ"),
    (33, "IORING_REGISTER_RESIZE_RINGS"),
    (34, "IORING_REGISTER_MEM_REGION"),
    (35, "IORING_REGISTER_QUERY"),
    (36, "IORING_REGISTER_ZCRX_CTRL"),
];

/// A sigset the call installs while it waits.
const fn sigmask(ptr: u8) -> Capture {
    Capture::input_struct("sigmask", ptr, Struct::Sigset)
}

/// The epoll events the kernel filled in: as many as the return value says.
const fn ready_events(ptr: u8) -> Capture {
    Capture::output(
        "events",
        ptr,
        Len::RetTimes(Size::Of(Struct::EpollEvent)),
        Show::Struct(Struct::EpollEvent),
    )
}

// --- poll and select ---------------------------------------------------------------------

/// The pollfd array with the revents the kernel wrote.
const POLLFDS: Capture = Capture::output(
    "ufds",
    0,
    Len::ArgTimes(1, Size::Of(Struct::Pollfd)),
    Show::Struct(Struct::Pollfd),
);

submit!(
    Handler::new(
        "poll",
        RS,
        &[
            arg("ufds", Data(0)),
            arg("nfds", UInt),
            arg("timeout_msecs", Int)
        ],
        Int
    )
    .captures(&[POLLFDS])
);
submit!(
    Handler::new(
        "ppoll",
        RS,
        &[
            arg("ufds", Data(0)),
            arg("nfds", UInt),
            arg("tsp", Data(1)),
            arg("sigmask", Data(2)),
            arg("sigsetsize", ULong)
        ],
        Int,
    )
    // Read at exit, tsp holds the time left.
    .captures(&[
        POLLFDS,
        Capture::input_struct("tsp", 2, Struct::Timespec),
        sigmask(3)
    ])
);
submit!(
    Handler::new(
        "select",
        RS,
        &[
            arg("n", Int),
            arg("inp", Data(0)),
            arg("outp", Data(1)),
            arg("exp", Data(2)),
            arg("tvp", Data(3))
        ],
        Int,
    )
    .captures(&[
        Capture::output("inp", 1, FD_SET, Show::Hex),
        Capture::output("outp", 2, FD_SET, Show::Hex),
        Capture::output("exp", 3, FD_SET, Show::Hex),
        Capture::input_struct("tvp", 4, Struct::Timeval),
    ])
);
submit!(
    Handler::new(
        "pselect6",
        RS,
        &[
            arg("n", Int),
            arg("inp", Data(0)),
            arg("outp", Data(1)),
            arg("exp", Data(2)),
            arg("tsp", Data(3)),
            arg("sig", Ptr)
        ],
        Int,
    )
    .captures(&[
        Capture::output("inp", 1, FD_SET, Show::Hex),
        Capture::output("outp", 2, FD_SET, Show::Hex),
        Capture::output("exp", 3, FD_SET, Show::Hex),
        Capture::input_struct("tsp", 4, Struct::Timespec),
    ])
);

// --- epoll -------------------------------------------------------------------------------

submit!(Handler::new("epoll_create", RS, &[arg("size", Int)], Fd));
submit!(Handler::new(
    "epoll_create1",
    RS,
    &[arg("flags", Flags(EPOLL_CREATE_FLAGS))],
    Fd
));
submit!(
    Handler::new(
        "epoll_ctl",
        WS,
        &[
            arg("epfd", Fd),
            arg("op", Enum(EPOLL_CTL_OPS)),
            arg("fd", Fd),
            arg("event", Data(0))
        ],
        Int,
    )
    .captures(&[Capture::input_struct("event", 3, Struct::EpollEvent)])
);
submit!(
    Handler::new(
        "epoll_wait",
        RS,
        &[
            arg("epfd", Fd),
            arg("events", Data(0)),
            arg("maxevents", Int),
            arg("timeout", Int)
        ],
        Int,
    )
    .captures(&[ready_events(1)])
);
submit!(
    Handler::new(
        "epoll_pwait",
        RS,
        &[
            arg("epfd", Fd),
            arg("events", Data(0)),
            arg("maxevents", Int),
            arg("timeout", Int),
            arg("sigmask", Data(1)),
            arg("sigsetsize", ULong)
        ],
        Int,
    )
    .captures(&[ready_events(1), sigmask(4)])
);
submit!(
    Handler::new(
        "epoll_pwait2",
        RS,
        &[
            arg("epfd", Fd),
            arg("events", Data(0)),
            arg("maxevents", Int),
            arg("timeout", Data(1)),
            arg("sigmask", Data(2)),
            arg("sigsetsize", ULong)
        ],
        Int,
    )
    .captures(&[
        ready_events(1),
        Capture::input_struct("timeout", 3, Struct::Timespec),
        sigmask(4)
    ])
);
// x86_64 only, not implemented by the kernel (left from the first epoll interface).
submit!(Handler::new(
    "epoll_ctl_old",
    WS,
    &[
        arg("epfd", Int),
        arg("op", Int),
        arg("fd", Int),
        arg("event", Ptr)
    ],
    Long
));
submit!(Handler::new(
    "epoll_wait_old",
    WS,
    &[
        arg("epfd", Int),
        arg("events", Ptr),
        arg("maxevents", Int),
        arg("timeout", Int)
    ],
    Long,
));

// --- descriptors that deliver events -----------------------------------------------------

submit!(Handler::new("eventfd", RS, &[arg("count", UInt)], Fd));
submit!(Handler::new(
    "eventfd2",
    RS,
    &[arg("count", UInt), arg("flags", Flags(EFD_FLAGS))],
    Fd
));
submit!(
    Handler::new(
        "signalfd",
        RS,
        &[
            arg("ufd", Fd),
            arg("user_mask", Data(0)),
            arg("sizemask", ULong)
        ],
        Fd
    )
    .captures(&[Capture::input_struct("user_mask", 1, Struct::Sigset)])
);
submit!(
    Handler::new(
        "signalfd4",
        RS,
        &[
            arg("ufd", Fd),
            arg("user_mask", Data(0)),
            arg("sizemask", ULong),
            arg("flags", Flags(SFD_FLAGS))
        ],
        Fd,
    )
    .captures(&[Capture::input_struct("user_mask", 1, Struct::Sigset)])
);
submit!(Handler::new(
    "timerfd_create",
    RS,
    &[arg("clockid", Enum(CLOCKS)), arg("flags", Flags(TFD_FLAGS))],
    Fd
));
submit!(
    Handler::new(
        "timerfd_settime",
        WS,
        &[
            arg("ufd", Fd),
            arg("flags", Flags(TFD_SETTIME_FLAGS)),
            arg("utmr", Data(0)),
            arg("otmr", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("utmr", 2, Struct::Itimerspec),
        Capture::output_struct("otmr", 3, Struct::Itimerspec),
    ])
);
submit!(
    Handler::new(
        "timerfd_gettime",
        RS,
        &[arg("ufd", Fd), arg("otmr", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("otmr", 1, Struct::Itimerspec)])
);
submit!(Handler::new("inotify_init", RS, &[], Fd));
submit!(Handler::new(
    "inotify_init1",
    RS,
    &[arg("flags", Flags(IN_INIT_FLAGS))],
    Fd
));
// Like open: resolves a path to a handle (the watch descriptor).
submit!(
    Handler::new(
        "inotify_add_watch",
        RS,
        &[
            arg("fd", Fd),
            arg("pathname", Data(0)),
            arg("mask", Flags(IN_EVENTS))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(Handler::new(
    "inotify_rm_watch",
    WS,
    &[arg("fd", Fd), arg("wd", Int)],
    Int
));
submit!(Handler::new(
    "fanotify_init",
    RS,
    &[
        arg("flags", Flags(FAN_INIT_FLAGS)),
        arg("event_f_flags", OpenFlags)
    ],
    Fd,
));
submit!(
    Handler::new(
        "fanotify_mark",
        WS,
        &[
            arg("fanotify_fd", Fd),
            arg("flags", Flags(FAN_MARK_FLAGS)),
            arg("mask", Flags(FAN_EVENTS)),
            arg("dfd", DirFd),
            arg("pathname", Data(0))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 4)])
);
submit!(Handler::new(
    "userfaultfd",
    RS,
    &[arg("flags", Flags(UFFD_FLAGS))],
    Fd
));

// --- asynchronous I/O (aio) --------------------------------------------------------------

submit!(
    Handler::new(
        "io_setup",
        RS,
        &[arg("nr_events", UInt), arg("ctxp", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("ctxp", 1, Struct::Long)])
);
submit!(Handler::new("io_destroy", WS, &[arg("ctx", Hex)], Int));
submit!(
    Handler::new(
        "io_submit",
        WS,
        &[arg("ctx_id", Hex), arg("nr", Long), arg("iocbpp", Data(0))],
        Long
    )
    // The first iocb (iocbpp is an array of pointers to them).
    .captures(&[Capture {
        name: "iocbpp",
        kind: Kind::Bytes,
        ptr: Ptr::Field { arg: 2, offset: 0 },
        len: Len::Fixed(IOCB),
        role: Role::Input,
        show: Show::Hex,
    }])
);
submit!(
    Handler::new(
        "io_cancel",
        WS,
        &[arg("ctx_id", Hex), arg("iocb", Data(0)), arg("result", Ptr)],
        Int
    )
    .captures(&[Capture {
        name: "iocb",
        kind: Kind::Bytes,
        ptr: Ptr::Arg(1),
        len: Len::Fixed(IOCB),
        role: Role::Input,
        show: Show::Hex,
    }])
);
const IO_EVENTS: Capture = Capture::output(
    "events",
    3,
    Len::RetTimes(Size::Of(Struct::IoEvent)),
    Show::Struct(Struct::IoEvent),
);
submit!(
    Handler::new(
        "io_getevents",
        RS,
        &[
            arg("ctx_id", Hex),
            arg("min_nr", Long),
            arg("nr", Long),
            arg("events", Data(0)),
            arg("timeout", Data(1))
        ],
        Long,
    )
    .captures(&[
        IO_EVENTS,
        Capture::input_struct("timeout", 4, Struct::Timespec)
    ])
);
submit!(
    Handler::new(
        "io_pgetevents",
        RS,
        &[
            arg("ctx_id", Hex),
            arg("min_nr", Long),
            arg("nr", Long),
            arg("events", Data(0)),
            arg("timeout", Data(1)),
            arg("usig", Data(2))
        ],
        Long,
    )
    .captures(&[
        IO_EVENTS,
        Capture::input_struct("timeout", 4, Struct::Timespec),
        // The sigset usig points to.
        Capture::input_struct("usig", 5, Struct::Sigset).with_ptr(Ptr::Field {
            arg: 5,
            offset: AIO_SIGSET_SIGMASK
        }),
    ])
);

// --- io_uring ----------------------------------------------------------------------------

submit!(
    Handler::new(
        "io_uring_setup",
        RS,
        &[arg("entries", UInt), arg("params", Data(0))],
        Fd
    )
    // The kernel fills in the ring offsets and features.
    .captures(&[Capture::output(
        "params",
        1,
        Len::Fixed(IO_URING_PARAMS),
        Show::Hex
    )])
);
submit!(
    Handler::new(
        "io_uring_enter",
        WS,
        &[
            arg("fd", Fd),
            arg("to_submit", UInt),
            arg("min_complete", UInt),
            arg("flags", Flags(IORING_ENTER_FLAGS)),
            arg("argp", Data(0)),
            arg("argsz", ULong)
        ],
        Int,
    )
    .captures(&[Capture {
        name: "argp",
        kind: Kind::Bytes,
        ptr: Ptr::Arg(4),
        len: Len::Arg(5),
        role: Role::Input,
        show: Show::Hex,
    }])
);
submit!(Handler::new(
    "io_uring_register",
    WS,
    &[
        arg("fd", Fd),
        arg("opcode", Enum(IORING_REGISTER_OPS)),
        arg("arg", Ptr),
        arg("nr_args", UInt)
    ],
    Int,
));
