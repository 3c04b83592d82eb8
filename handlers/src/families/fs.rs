//! Files and directories: opening, naming, metadata, syncing.

use super::prelude::*;

const PATH: Capture = Capture::string("pathname", 0);

// --- opening and descriptors -------------------------------------------------------------

submit!(
    Handler::new(
        "open",
        RS,
        &[
            arg("pathname", Data(0)),
            arg("flags", OpenFlags),
            arg("mode", Mode)
        ],
        Fd
    )
    .captures(&[PATH])
);
submit!(
    Handler::new(
        "openat",
        RS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("flags", OpenFlags),
            arg("mode", Mode)
        ],
        Fd,
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(
    Handler::new(
        "openat2",
        RS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("how", Data(1)),
            arg("size", ULong)
        ],
        Fd,
    )
    .captures(&[
        Capture::string("pathname", 1),
        Capture::input_struct("how", 2, Struct::OpenHow)
    ])
);
submit!(
    Handler::new(
        "creat",
        RS,
        &[arg("pathname", Data(0)), arg("mode", Mode)],
        Fd
    )
    .captures(&[PATH])
);
submit!(Handler::new("close", WS, &[arg("fd", Fd)], Int));
submit!(Handler::new(
    "close_range",
    WS,
    &[
        arg("first", UInt),
        arg("last", UInt),
        arg(
            "flags",
            Flags(&[(2, "CLOSE_RANGE_UNSHARE"), (4, "CLOSE_RANGE_CLOEXEC")])
        )
    ],
    Int,
));
submit!(Handler::new("dup", WS, &[arg("oldfd", Fd)], Fd));
submit!(Handler::new(
    "dup2",
    WS,
    &[arg("oldfd", Fd), arg("newfd", Fd)],
    Fd
));
submit!(Handler::new(
    "dup3",
    WS,
    &[
        arg("oldfd", Fd),
        arg("newfd", Fd),
        arg("flags", Flags(CLOEXEC_NONBLOCK))
    ],
    Fd
));
submit!(
    Handler::new(
        "fcntl",
        RS,
        &[arg("fd", Fd), arg("cmd", Enum(FCNTL_CMDS)), arg("arg", Hex)],
        Long
    )
    .by_request(1)
);
// The commands with a struct behind `arg` (asm-generic/fcntl.h, linux/fcntl.h).
submit!(
    Request::new("fcntl", "F_GETLK", 5, RS).captures(&[Capture::output_struct(
        "arg",
        2,
        Struct::Flock
    )])
);
submit!(
    Request::new("fcntl", "F_SETLK", 6, WS).captures(&[Capture::input_struct(
        "arg",
        2,
        Struct::Flock
    )])
);
submit!(
    Request::new("fcntl", "F_SETLKW", 7, WS).captures(&[Capture::input_struct(
        "arg",
        2,
        Struct::Flock
    )])
);
submit!(
    Request::new("fcntl", "F_SETOWN_EX", 15, WS).captures(&[Capture::input_struct(
        "arg",
        2,
        Struct::FOwnerEx
    )])
);
submit!(
    Request::new("fcntl", "F_GETOWN_EX", 16, RS).captures(&[Capture::output_struct(
        "arg",
        2,
        Struct::FOwnerEx
    )])
);
submit!(
    Request::new("fcntl", "F_OFD_GETLK", 36, RS).captures(&[Capture::output_struct(
        "arg",
        2,
        Struct::Flock
    )])
);
submit!(
    Request::new("fcntl", "F_OFD_SETLK", 37, WS).captures(&[Capture::input_struct(
        "arg",
        2,
        Struct::Flock
    )])
);
submit!(
    Request::new("fcntl", "F_OFD_SETLKW", 38, WS).captures(&[Capture::input_struct(
        "arg",
        2,
        Struct::Flock
    )])
);
submit!(Handler::new(
    "flock",
    WS,
    &[arg("fd", Fd), arg("operation", Flags(FLOCK_OPS))],
    Int
));

// --- checking and moving around ----------------------------------------------------------

submit!(
    Handler::new(
        "access",
        RS,
        &[arg("pathname", Data(0)), arg("mode", Flags(ACCESS_MODES))],
        Int
    )
    .captures(&[PATH])
);
submit!(
    Handler::new(
        "faccessat",
        RS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("mode", Flags(ACCESS_MODES))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(
    Handler::new(
        "faccessat2",
        RS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("mode", Flags(ACCESS_MODES)),
            arg("flags", Flags(ACCESS_AT_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(
    Handler::new("chdir", WS, &[arg("path", Data(0))], Int).captures(&[Capture::string("path", 0)])
);
submit!(Handler::new("fchdir", WS, &[arg("fd", Fd)], Int));
submit!(
    Handler::new(
        "getcwd",
        RS,
        &[arg("buf", Data(0)), arg("size", ULong)],
        Long
    )
    .captures(&[Capture::output("buf", 0, Len::Ret, Show::Str)])
);
submit!(
    Handler::new("chroot", WS, &[arg("path", Data(0))], Int)
        .captures(&[Capture::string("path", 0)])
);
submit!(
    Handler::new(
        "pivot_root",
        WS,
        &[arg("new_root", Data(0)), arg("put_old", Data(1))],
        Int
    )
    .captures(&[
        Capture::string("new_root", 0),
        Capture::string("put_old", 1)
    ])
);

// --- creating, linking, removing ---------------------------------------------------------

submit!(
    Handler::new(
        "mkdir",
        WS,
        &[arg("pathname", Data(0)), arg("mode", Mode)],
        Int
    )
    .captures(&[PATH])
);
submit!(
    Handler::new(
        "mkdirat",
        WS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("mode", Mode)
        ],
        Int
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(Handler::new("rmdir", WS, &[arg("pathname", Data(0))], Int).captures(&[PATH]));
submit!(
    Handler::new(
        "mknod",
        WS,
        &[arg("pathname", Data(0)), arg("mode", Mode), arg("dev", Hex)],
        Int
    )
    .captures(&[PATH])
);
submit!(
    Handler::new(
        "mknodat",
        WS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("mode", Mode),
            arg("dev", Hex)
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(
    Handler::new(
        "link",
        WS,
        &[arg("oldpath", Data(0)), arg("newpath", Data(1))],
        Int
    )
    .captures(&[Capture::string("oldpath", 0), Capture::string("newpath", 1)])
);
submit!(
    Handler::new(
        "linkat",
        WS,
        &[
            arg("olddirfd", DirFd),
            arg("oldpath", Data(0)),
            arg("newdirfd", DirFd),
            arg("newpath", Data(1)),
            arg("flags", Flags(AT_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("oldpath", 1), Capture::string("newpath", 3)])
);
submit!(
    Handler::new(
        "symlink",
        WS,
        &[arg("target", Data(0)), arg("linkpath", Data(1))],
        Int
    )
    .captures(&[Capture::string("target", 0), Capture::string("linkpath", 1)])
);
submit!(
    Handler::new(
        "symlinkat",
        WS,
        &[
            arg("target", Data(0)),
            arg("newdirfd", DirFd),
            arg("linkpath", Data(1))
        ],
        Int,
    )
    .captures(&[Capture::string("target", 0), Capture::string("linkpath", 2)])
);
submit!(Handler::new("unlink", WS, &[arg("pathname", Data(0))], Int).captures(&[PATH]));
submit!(
    Handler::new(
        "unlinkat",
        WS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("flags", Flags(AT_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(
    Handler::new(
        "rename",
        WS,
        &[arg("oldpath", Data(0)), arg("newpath", Data(1))],
        Int
    )
    .captures(&[Capture::string("oldpath", 0), Capture::string("newpath", 1)])
);
submit!(
    Handler::new(
        "renameat",
        WS,
        &[
            arg("olddirfd", DirFd),
            arg("oldpath", Data(0)),
            arg("newdirfd", DirFd),
            arg("newpath", Data(1))
        ],
        Int,
    )
    .captures(&[Capture::string("oldpath", 1), Capture::string("newpath", 3)])
);
submit!(
    Handler::new(
        "renameat2",
        WS,
        &[
            arg("olddirfd", DirFd),
            arg("oldpath", Data(0)),
            arg("newdirfd", DirFd),
            arg("newpath", Data(1)),
            arg("flags", Flags(RENAME_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("oldpath", 1), Capture::string("newpath", 3)])
);
submit!(
    Handler::new(
        "readlink",
        RS,
        &[
            arg("pathname", Data(0)),
            arg("buf", Data(1)),
            arg("bufsiz", ULong)
        ],
        Long
    )
    .captures(&[PATH, Capture::output("buf", 1, Len::Ret, Show::Text)])
);
submit!(
    Handler::new(
        "readlinkat",
        RS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("buf", Data(1)),
            arg("bufsiz", ULong)
        ],
        Long,
    )
    .captures(&[
        Capture::string("pathname", 1),
        Capture::output("buf", 2, Len::Ret, Show::Text)
    ])
);

// --- permissions and ownership -----------------------------------------------------------

submit!(
    Handler::new(
        "chmod",
        WS,
        &[arg("pathname", Data(0)), arg("mode", Mode)],
        Int
    )
    .captures(&[PATH])
);
submit!(Handler::new(
    "fchmod",
    WS,
    &[arg("fd", Fd), arg("mode", Mode)],
    Int
));
submit!(
    Handler::new(
        "fchmodat",
        WS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("mode", Mode)
        ],
        Int
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(
    Handler::new(
        "fchmodat2",
        WS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("mode", Mode),
            arg("flags", Flags(AT_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(
    Handler::new(
        "chown",
        WS,
        &[
            arg("pathname", Data(0)),
            arg("owner", Int),
            arg("group", Int)
        ],
        Int
    )
    .captures(&[PATH])
);
submit!(Handler::new(
    "fchown",
    WS,
    &[arg("fd", Fd), arg("owner", Int), arg("group", Int)],
    Int
));
submit!(
    Handler::new(
        "lchown",
        WS,
        &[
            arg("pathname", Data(0)),
            arg("owner", Int),
            arg("group", Int)
        ],
        Int
    )
    .captures(&[PATH])
);
submit!(
    Handler::new(
        "fchownat",
        WS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("owner", Int),
            arg("group", Int),
            arg("flags", Flags(AT_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 1)])
);
submit!(Handler::new("umask", WS, &[arg("mask", Mode)], Mode));

// --- sizes, space and syncing ------------------------------------------------------------

submit!(
    Handler::new(
        "truncate",
        WS,
        &[arg("path", Data(0)), arg("length", Long)],
        Int
    )
    .captures(&[Capture::string("path", 0)])
);
submit!(Handler::new(
    "ftruncate",
    WS,
    &[arg("fd", Fd), arg("length", Long)],
    Int
));
submit!(Handler::new(
    "fallocate",
    WS,
    &[
        arg("fd", Fd),
        arg("mode", Flags(FALLOCATE_MODES)),
        arg("offset", Long),
        arg("len", Long)
    ],
    Int,
));
submit!(Handler::new(
    "fadvise64",
    WS,
    &[
        arg("fd", Fd),
        arg("offset", Long),
        arg("len", ULong),
        arg("advice", Enum(FADVICE))
    ],
    Int,
));
submit!(Handler::new("fsync", WS, &[arg("fd", Fd)], Int));
submit!(Handler::new("fdatasync", WS, &[arg("fd", Fd)], Int));
submit!(Handler::new("sync", WS, &[], Int));
submit!(Handler::new("syncfs", WS, &[arg("fd", Fd)], Int));
submit!(Handler::new(
    "sync_file_range",
    WS,
    &[
        arg("fd", Fd),
        arg("offset", Long),
        arg("nbytes", Long),
        arg(
            "flags",
            Flags(&[
                (1, "SYNC_FILE_RANGE_WAIT_BEFORE"),
                (2, "SYNC_FILE_RANGE_WRITE"),
                (4, "SYNC_FILE_RANGE_WAIT_AFTER")
            ])
        )
    ],
    Int,
));

// --- metadata ----------------------------------------------------------------------------

submit!(
    Handler::new(
        "stat",
        RS,
        &[arg("pathname", Data(0)), arg("statbuf", Data(1))],
        Int
    )
    .captures(&[PATH, Capture::output_struct("statbuf", 1, Struct::Stat)])
);
submit!(
    Handler::new(
        "lstat",
        RS,
        &[arg("pathname", Data(0)), arg("statbuf", Data(1))],
        Int
    )
    .captures(&[PATH, Capture::output_struct("statbuf", 1, Struct::Stat)])
);
submit!(
    Handler::new("fstat", RS, &[arg("fd", Fd), arg("statbuf", Data(0))], Int)
        .captures(&[Capture::output_struct("statbuf", 1, Struct::Stat)])
);
submit!(
    Handler::new(
        "newfstatat",
        RS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("statbuf", Data(1)),
            arg("flags", Flags(AT_FLAGS))
        ],
        Int,
    )
    .captures(&[
        Capture::string("pathname", 1),
        Capture::output_struct("statbuf", 2, Struct::Stat)
    ])
);
submit!(
    Handler::new(
        "statx",
        RS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("flags", Flags(AT_FLAGS)),
            arg("mask", Hex),
            arg("statxbuf", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::string("pathname", 1),
        Capture::output_struct("statxbuf", 4, Struct::Statx)
    ])
);
submit!(
    Handler::new(
        "statfs",
        RS,
        &[arg("path", Data(0)), arg("buf", Data(1))],
        Int
    )
    .captures(&[
        Capture::string("path", 0),
        Capture::output_struct("buf", 1, Struct::Statfs)
    ])
);
submit!(
    Handler::new("fstatfs", RS, &[arg("fd", Fd), arg("buf", Data(0))], Int)
        .captures(&[Capture::output_struct("buf", 1, Struct::Statfs)])
);
submit!(
    Handler::new("ustat", RS, &[arg("dev", Hex), arg("ubuf", Data(0))], Int)
        .captures(&[Capture::output_struct("ubuf", 1, Struct::Ustat)])
);
submit!(
    Handler::new(
        "utime",
        WS,
        &[arg("filename", Data(0)), arg("times", Data(1))],
        Int
    )
    .captures(&[
        Capture::string("filename", 0),
        Capture::input_struct("times", 1, Struct::Utimbuf)
    ])
);
submit!(
    Handler::new(
        "utimes",
        WS,
        &[arg("filename", Data(0)), arg("times", Data(1))],
        Int
    )
    .captures(&[
        Capture::string("filename", 0),
        Capture::input_struct("times", 1, Struct::Timeval)
            .with_len(Len::Fixed(Size::Array(Struct::Timeval, 2))),
    ])
);
submit!(
    Handler::new(
        "futimesat",
        WS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("times", Data(1))
        ],
        Int
    )
    .captures(&[
        Capture::string("pathname", 1),
        Capture::input_struct("times", 2, Struct::Timeval)
            .with_len(Len::Fixed(Size::Array(Struct::Timeval, 2))),
    ])
);
submit!(
    Handler::new(
        "utimensat",
        WS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("times", Data(1)),
            arg("flags", Flags(AT_FLAGS))
        ],
        Int,
    )
    .captures(&[
        Capture::string("pathname", 1),
        Capture::input_struct("times", 2, Struct::Timespec)
            .with_len(Len::Fixed(Size::Array(Struct::Timespec, 2))),
    ])
);
submit!(
    Handler::new(
        "file_getattr",
        RS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("fattr", Data(1)),
            arg("size", ULong),
            arg("flags", Flags(AT_FLAGS))
        ],
        Int,
    )
    .captures(&[
        Capture::string("pathname", 1),
        Capture::output("fattr", 2, Len::Arg(3), Show::Hex)
    ])
);
submit!(
    Handler::new(
        "cachestat",
        RS,
        &[
            arg("fd", Fd),
            arg("range", Ptr),
            arg("cstat", Data(0)),
            arg("flags", UInt)
        ],
        Int,
    )
    .captures(&[Capture::output_struct("cstat", 2, Struct::Cachestat)])
);

// --- directories and handles -------------------------------------------------------------

submit!(
    Handler::new(
        "getdents",
        RC,
        &[arg("fd", Fd), arg("dirp", Data(0)), arg("count", UInt)],
        Long
    )
    .captures(&[Capture::output("dirp", 1, Len::Ret, Show::Text)])
);
submit!(
    Handler::new(
        "getdents64",
        RC,
        &[arg("fd", Fd), arg("dirp", Data(0)), arg("count", UInt)],
        Long
    )
    .captures(&[Capture::output("dirp", 1, Len::Ret, Show::Text)])
);
submit!(
    Handler::new(
        "name_to_handle_at",
        RS,
        &[
            arg("dirfd", DirFd),
            arg("pathname", Data(0)),
            arg("handle", Data(1)),
            arg("mount_id", Data(2)),
            arg("flags", Flags(AT_FLAGS))
        ],
        Int,
    )
    .captures(&[
        Capture::string("pathname", 1),
        // The struct's header and MAX_HANDLE_SZ (128) bytes of handle.
        Capture::output("handle", 2, Len::Fixed(Size::Bytes(136)), Show::Hex),
        Capture::output_struct("mount_id", 3, Struct::Int),
    ])
);
submit!(Handler::new(
    "open_by_handle_at",
    RS,
    &[
        arg("mount_fd", Fd),
        arg("handle", Ptr),
        arg("flags", OpenFlags)
    ],
    Fd,
));
submit!(
    Handler::new(
        "lookup_dcookie",
        RS,
        &[arg("cookie", Hex), arg("buf", Data(0)), arg("len", ULong)],
        Long
    )
    .captures(&[Capture::output("buf", 1, Len::Ret, Show::Str)])
);
