//! Sockets.

use super::prelude::*;

/// `struct msghdr` fields the captures follow.
const MSG_NAME: u16 = Struct::Msghdr.common_offset("msg_name");
const MSG_NAMELEN: u16 = Struct::Msghdr.common_offset("msg_namelen");
const MSG_IOV: u16 = Struct::Msghdr.common_offset("msg_iov");
const MSG_IOVLEN: u16 = Struct::Msghdr.common_offset("msg_iovlen");

/// A socket address the kernel filled in, with its length in the socklen_t at `len_arg`.
const fn peer(name: &'static str, ptr: u8, len_arg: u8) -> Capture {
    Capture::output(
        name,
        ptr,
        Len::DerefU32 {
            arg: len_arg,
            offset: 0,
        },
        Show::Sockaddr,
    )
}

/// A socket address the process passes, `len_arg` bytes long.
const fn address(name: &'static str, ptr: u8, len_arg: u8) -> Capture {
    Capture {
        name,
        kind: Kind::Bytes,
        ptr: Ptr::Arg(ptr),
        len: Len::Arg(len_arg),
        role: Role::Input,
        show: Show::Sockaddr,
    }
}

submit!(Handler::new(
    "socket",
    RS,
    &[
        arg("domain", Enum(ADDRESS_FAMILIES)),
        arg("type", SOCKET_TYPE),
        arg("protocol", Int)
    ],
    Fd,
));
submit!(
    Handler::new(
        "socketpair",
        RS,
        &[
            arg("domain", Enum(ADDRESS_FAMILIES)),
            arg("type", SOCKET_TYPE),
            arg("protocol", Int),
            arg("sv", Data(0))
        ],
        Int,
    )
    .captures(&[Capture::output_struct("sv", 3, Struct::IntPair)])
);
submit!(
    Handler::new(
        "bind",
        WS,
        &[
            arg("sockfd", Fd),
            arg("addr", Data(0)),
            arg("addrlen", UInt)
        ],
        Int
    )
    .captures(&[address("addr", 1, 2)])
);
submit!(
    Handler::new(
        "connect",
        WS,
        &[
            arg("sockfd", Fd),
            arg("addr", Data(0)),
            arg("addrlen", UInt)
        ],
        Int
    )
    .captures(&[address("addr", 1, 2)])
);
submit!(Handler::new(
    "listen",
    WS,
    &[arg("sockfd", Fd), arg("backlog", Int)],
    Int
));
submit!(
    Handler::new(
        "accept",
        RS,
        &[
            arg("sockfd", Fd),
            arg("addr", Data(0)),
            arg("addrlen", Data(1))
        ],
        Fd
    )
    .captures(&[
        peer("addr", 1, 2),
        Capture::output_struct("addrlen", 2, Struct::Int)
    ])
);
submit!(
    Handler::new(
        "accept4",
        RS,
        &[
            arg("sockfd", Fd),
            arg("addr", Data(0)),
            arg("addrlen", Data(1)),
            arg("flags", Flags(SOCKET_FLAGS))
        ],
        Fd,
    )
    .captures(&[
        peer("addr", 1, 2),
        Capture::output_struct("addrlen", 2, Struct::Int)
    ])
);
submit!(
    Handler::new(
        "getsockname",
        RS,
        &[
            arg("sockfd", Fd),
            arg("addr", Data(0)),
            arg("addrlen", Data(1))
        ],
        Int
    )
    .captures(&[
        peer("addr", 1, 2),
        Capture::output_struct("addrlen", 2, Struct::Int)
    ])
);
submit!(
    Handler::new(
        "getpeername",
        RS,
        &[
            arg("sockfd", Fd),
            arg("addr", Data(0)),
            arg("addrlen", Data(1))
        ],
        Int
    )
    .captures(&[
        peer("addr", 1, 2),
        Capture::output_struct("addrlen", 2, Struct::Int)
    ])
);
submit!(
    Handler::new(
        "sendto",
        WC,
        &[
            arg("sockfd", Fd),
            arg("buf", Data(0)),
            arg("len", ULong),
            arg("flags", Flags(MSG_FLAGS)),
            arg("dest_addr", Data(1)),
            arg("addrlen", UInt)
        ],
        Long,
    )
    .captures(&[
        Capture::content("buf", 1, Len::Arg(2)),
        address("dest_addr", 4, 5)
    ])
);
submit!(
    Handler::new(
        "recvfrom",
        RC,
        &[
            arg("sockfd", Fd),
            arg("buf", Data(0)),
            arg("len", ULong),
            arg("flags", Flags(MSG_FLAGS)),
            arg("src_addr", Data(1)),
            arg("addrlen", Ptr)
        ],
        Long,
    )
    .captures(&[
        Capture::output("buf", 1, Len::Ret, Show::Text),
        peer("src_addr", 4, 5)
    ])
);
submit!(
    Handler::new(
        "sendmsg",
        WC,
        &[
            arg("sockfd", Fd),
            arg("msg", Data(0)),
            arg("flags", Flags(MSG_FLAGS))
        ],
        Long
    )
    .captures(&[
        Capture::content(
            "msg",
            1,
            Len::DerefU64 {
                arg: 1,
                offset: MSG_IOVLEN
            }
        )
        .with_kind(Kind::Iovec)
        .with_ptr(Ptr::Field {
            arg: 1,
            offset: MSG_IOV
        }),
        Capture {
            name: "msg_name",
            kind: Kind::Bytes,
            ptr: Ptr::Field {
                arg: 1,
                offset: MSG_NAME
            },
            len: Len::DerefU32 {
                arg: 1,
                offset: MSG_NAMELEN
            },
            role: Role::Input,
            show: Show::Sockaddr,
        },
    ])
);
submit!(
    Handler::new(
        "recvmsg",
        RC,
        &[
            arg("sockfd", Fd),
            arg("msg", Data(0)),
            arg("flags", Flags(MSG_FLAGS))
        ],
        Long
    )
    .captures(&[
        Capture::output(
            "msg",
            1,
            Len::DerefU64 {
                arg: 1,
                offset: MSG_IOVLEN
            },
            Show::Text
        )
        .with_kind(Kind::Iovec)
        .with_ptr(Ptr::Field {
            arg: 1,
            offset: MSG_IOV
        }),
        Capture::output(
            "msg_name",
            1,
            Len::DerefU32 {
                arg: 1,
                offset: MSG_NAMELEN
            },
            Show::Sockaddr
        )
        .with_ptr(Ptr::Field {
            arg: 1,
            offset: MSG_NAME
        }),
    ])
);
submit!(
    Handler::new(
        "sendmmsg",
        WC,
        &[
            arg("sockfd", Fd),
            arg("msgvec", Data(0)),
            arg("vlen", UInt),
            arg("flags", Flags(MSG_FLAGS))
        ],
        Int,
    )
    // The first message's data (an mmsghdr starts with its msghdr).
    .captures(&[Capture::content(
        "msgvec",
        1,
        Len::DerefU64 {
            arg: 1,
            offset: MSG_IOVLEN
        }
    )
    .with_kind(Kind::Iovec)
    .with_ptr(Ptr::Field {
        arg: 1,
        offset: MSG_IOV
    })])
);
submit!(
    Handler::new(
        "recvmmsg",
        RC,
        &[
            arg("sockfd", Fd),
            arg("msgvec", Data(0)),
            arg("vlen", UInt),
            arg("flags", Flags(MSG_FLAGS)),
            arg("timeout", Ptr)
        ],
        Int,
    )
    // The headers of the messages received (their msg_len says how much each got).
    .captures(&[Capture::output(
        "msgvec",
        1,
        Len::RetTimes(Size::Of(Struct::Mmsghdr)),
        Show::Struct(Struct::Mmsghdr)
    )])
);
submit!(
    Handler::new(
        "setsockopt",
        WS,
        &[
            arg("sockfd", Fd),
            arg("level", Enum(SOCKOPT_LEVELS)),
            arg("optname", Int),
            arg("optval", Data(0)),
            arg("optlen", UInt)
        ],
        Int,
    )
    .captures(&[Capture {
        name: "optval",
        kind: Kind::Bytes,
        ptr: Ptr::Arg(3),
        len: Len::Arg(4),
        role: Role::Input,
        show: Show::Hex,
    }])
);
submit!(
    Handler::new(
        "getsockopt",
        RS,
        &[
            arg("sockfd", Fd),
            arg("level", Enum(SOCKOPT_LEVELS)),
            arg("optname", Int),
            arg("optval", Data(0)),
            arg("optlen", Ptr)
        ],
        Int,
    )
    .captures(&[Capture::output(
        "optval",
        3,
        Len::DerefU32 { arg: 4, offset: 0 },
        Show::Hex
    )])
);
submit!(Handler::new(
    "shutdown",
    WS,
    &[arg("sockfd", Fd), arg("how", Enum(SHUTDOWN_HOW))],
    Int
));
