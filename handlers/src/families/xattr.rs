//! Extended attributes: setting, getting, listing and removing them, by path, by
//! descriptor, and relative to a directory descriptor (the *xattrat calls).

use super::prelude::*;

/// `struct xattr_args` (the *xattrat calls): the value pointer, then its size.
const XATTR_ARGS_VALUE: u16 = Struct::XattrArgs.common_offset("value");
const XATTR_ARGS_SIZE: u16 = Struct::XattrArgs.common_offset("size");

/// The attribute name at argument `ptr`.
const fn name(ptr: u8) -> Capture {
    Capture::string("name", ptr)
}

/// The value the process sets, `len_arg` bytes long.
const fn value_in(ptr: u8, len_arg: u8) -> Capture {
    Capture {
        name: "value",
        kind: Kind::Bytes,
        ptr: Ptr::Arg(ptr),
        len: Len::Arg(len_arg),
        role: Role::Input,
        show: Show::Text,
    }
}

/// The value the kernel wrote: as many bytes as returned.
const fn value_out(ptr: u8) -> Capture {
    Capture::output("value", ptr, Len::Ret, Show::Text)
}

/// The NUL-separated list of names the kernel wrote.
const fn list(ptr: u8) -> Capture {
    Capture::output("list", ptr, Len::Ret, Show::StrList)
}

// --- setting -----------------------------------------------------------------------------

submit!(
    Handler::new(
        "setxattr",
        WS,
        &[
            arg("pathname", Data(0)),
            arg("name", Data(1)),
            arg("value", Data(2)),
            arg("size", ULong),
            arg("flags", Flags(XATTR_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 0), name(1), value_in(2, 3)])
);
submit!(
    Handler::new(
        "lsetxattr",
        WS,
        &[
            arg("pathname", Data(0)),
            arg("name", Data(1)),
            arg("value", Data(2)),
            arg("size", ULong),
            arg("flags", Flags(XATTR_FLAGS))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 0), name(1), value_in(2, 3)])
);
submit!(
    Handler::new(
        "fsetxattr",
        WS,
        &[
            arg("fd", Fd),
            arg("name", Data(0)),
            arg("value", Data(1)),
            arg("size", ULong),
            arg("flags", Flags(XATTR_FLAGS))
        ],
        Int,
    )
    .captures(&[name(1), value_in(2, 3)])
);
submit!(
    Handler::new(
        "setxattrat",
        WS,
        &[
            arg("dfd", DirFd),
            arg("pathname", Data(0)),
            arg("at_flags", Flags(AT_FLAGS)),
            arg("name", Data(1)),
            arg("uargs", Data(2)),
            arg("usize", ULong)
        ],
        Int,
    )
    .captures(&[
        Capture::string("pathname", 1),
        name(3),
        // The value uargs points to, uargs->size bytes long.
        Capture {
            name: "value",
            kind: Kind::Bytes,
            ptr: Ptr::Field {
                arg: 4,
                offset: XATTR_ARGS_VALUE
            },
            len: Len::DerefU32 {
                arg: 4,
                offset: XATTR_ARGS_SIZE
            },
            role: Role::Input,
            show: Show::Text,
        },
    ])
);

// --- getting -----------------------------------------------------------------------------

submit!(
    Handler::new(
        "getxattr",
        RS,
        &[
            arg("pathname", Data(0)),
            arg("name", Data(1)),
            arg("value", Data(2)),
            arg("size", ULong)
        ],
        Long,
    )
    .captures(&[Capture::string("pathname", 0), name(1), value_out(2)])
);
submit!(
    Handler::new(
        "lgetxattr",
        RS,
        &[
            arg("pathname", Data(0)),
            arg("name", Data(1)),
            arg("value", Data(2)),
            arg("size", ULong)
        ],
        Long,
    )
    .captures(&[Capture::string("pathname", 0), name(1), value_out(2)])
);
submit!(
    Handler::new(
        "fgetxattr",
        RS,
        &[
            arg("fd", Fd),
            arg("name", Data(0)),
            arg("value", Data(1)),
            arg("size", ULong)
        ],
        Long,
    )
    .captures(&[name(1), value_out(2)])
);
submit!(
    Handler::new(
        "getxattrat",
        RS,
        &[
            arg("dfd", DirFd),
            arg("pathname", Data(0)),
            arg("at_flags", Flags(AT_FLAGS)),
            arg("name", Data(1)),
            arg("uargs", Data(2)),
            arg("usize", ULong)
        ],
        Long,
    )
    .captures(&[
        Capture::string("pathname", 1),
        name(3),
        // The value the kernel wrote where uargs->value points.
        value_out(4).with_ptr(Ptr::Field {
            arg: 4,
            offset: XATTR_ARGS_VALUE
        }),
    ])
);

// --- listing -----------------------------------------------------------------------------

submit!(
    Handler::new(
        "listxattr",
        RS,
        &[
            arg("pathname", Data(0)),
            arg("list", Data(1)),
            arg("size", ULong)
        ],
        Long
    )
    .captures(&[Capture::string("pathname", 0), list(1)])
);
submit!(
    Handler::new(
        "llistxattr",
        RS,
        &[
            arg("pathname", Data(0)),
            arg("list", Data(1)),
            arg("size", ULong)
        ],
        Long
    )
    .captures(&[Capture::string("pathname", 0), list(1)])
);
submit!(
    Handler::new(
        "flistxattr",
        RS,
        &[arg("fd", Fd), arg("list", Data(0)), arg("size", ULong)],
        Long
    )
    .captures(&[list(1)])
);
submit!(
    Handler::new(
        "listxattrat",
        RS,
        &[
            arg("dfd", DirFd),
            arg("pathname", Data(0)),
            arg("at_flags", Flags(AT_FLAGS)),
            arg("list", Data(1)),
            arg("size", ULong)
        ],
        Long,
    )
    .captures(&[Capture::string("pathname", 1), list(3)])
);

// --- removing ----------------------------------------------------------------------------

submit!(
    Handler::new(
        "removexattr",
        WS,
        &[arg("pathname", Data(0)), arg("name", Data(1))],
        Int
    )
    .captures(&[Capture::string("pathname", 0), name(1)])
);
submit!(
    Handler::new(
        "lremovexattr",
        WS,
        &[arg("pathname", Data(0)), arg("name", Data(1))],
        Int
    )
    .captures(&[Capture::string("pathname", 0), name(1)])
);
submit!(
    Handler::new(
        "fremovexattr",
        WS,
        &[arg("fd", Fd), arg("name", Data(0))],
        Int
    )
    .captures(&[name(1)])
);
submit!(
    Handler::new(
        "removexattrat",
        WS,
        &[
            arg("dfd", DirFd),
            arg("pathname", Data(0)),
            arg("at_flags", Flags(AT_FLAGS)),
            arg("name", Data(1))
        ],
        Int,
    )
    .captures(&[Capture::string("pathname", 1), name(3)])
);
