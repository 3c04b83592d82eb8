//! Moving data through descriptors: read, write and their vector, positional and zero-copy
//! forms; pipes; random bytes.

use super::prelude::*;

// --- reading: the content is the syscall's effect ----------------------------------------

submit!(
    Handler::new(
        "read",
        RC,
        &[arg("fd", Fd), arg("buf", Data(0)), arg("count", ULong)],
        Long
    )
    .captures(&[Capture::output("buf", 1, Len::Ret, Show::Text)])
);
submit!(
    Handler::new(
        "pread64",
        RC,
        &[
            arg("fd", Fd),
            arg("buf", Data(0)),
            arg("count", ULong),
            arg("offset", Long)
        ],
        Long,
    )
    .captures(&[Capture::output("buf", 1, Len::Ret, Show::Text)])
);
const IOV_READ: Capture = Capture::output("iov", 1, Len::Arg(2), Show::Text).with_kind(Kind::Iovec);
submit!(
    Handler::new(
        "readv",
        RC,
        &[arg("fd", Fd), arg("iov", Data(0)), arg("iovcnt", Int)],
        Long
    )
    .captures(&[IOV_READ])
);
submit!(
    Handler::new(
        "preadv",
        RC,
        &[
            arg("fd", Fd),
            arg("iov", Data(0)),
            arg("iovcnt", Int),
            arg("pos_l", Long),
            arg("pos_h", Long)
        ],
        Long,
    )
    .captures(&[IOV_READ])
);
submit!(
    Handler::new(
        "preadv2",
        RC,
        &[
            arg("fd", Fd),
            arg("iov", Data(0)),
            arg("iovcnt", Int),
            arg("pos_l", Long),
            arg("pos_h", Long),
            arg(
                "flags",
                Flags(&[
                    (1, "RWF_HIPRI"),
                    (2, "RWF_DSYNC"),
                    (4, "RWF_SYNC"),
                    (8, "RWF_NOWAIT"),
                    (16, "RWF_APPEND")
                ])
            )
        ],
        Long,
    )
    .captures(&[IOV_READ])
);
submit!(Handler::new(
    "readahead",
    WS,
    &[arg("fd", Fd), arg("offset", Long), arg("count", ULong)],
    Long
));

// --- writing: the content is the process's own; captured on request ----------------------

submit!(
    Handler::new(
        "write",
        WC,
        &[arg("fd", Fd), arg("buf", Data(0)), arg("count", ULong)],
        Long
    )
    .captures(&[Capture::content("buf", 1, Len::Arg(2))])
);
submit!(
    Handler::new(
        "pwrite64",
        WC,
        &[
            arg("fd", Fd),
            arg("buf", Data(0)),
            arg("count", ULong),
            arg("offset", Long)
        ],
        Long,
    )
    .captures(&[Capture::content("buf", 1, Len::Arg(2))])
);
const IOV_WRITE: Capture = Capture::content("iov", 1, Len::Arg(2)).with_kind(Kind::Iovec);
submit!(
    Handler::new(
        "writev",
        WC,
        &[arg("fd", Fd), arg("iov", Data(0)), arg("iovcnt", Int)],
        Long
    )
    .captures(&[IOV_WRITE])
);
submit!(
    Handler::new(
        "pwritev",
        WC,
        &[
            arg("fd", Fd),
            arg("iov", Data(0)),
            arg("iovcnt", Int),
            arg("pos_l", Long),
            arg("pos_h", Long)
        ],
        Long,
    )
    .captures(&[IOV_WRITE])
);
submit!(
    Handler::new(
        "pwritev2",
        WC,
        &[
            arg("fd", Fd),
            arg("iov", Data(0)),
            arg("iovcnt", Int),
            arg("pos_l", Long),
            arg("pos_h", Long),
            arg("flags", Hex)
        ],
        Long,
    )
    .captures(&[IOV_WRITE])
);

// --- positions and kernel-side copies ----------------------------------------------------

submit!(Handler::new(
    "lseek",
    RS,
    &[
        arg("fd", Fd),
        arg("offset", Long),
        arg("whence", Enum(SEEK_WHENCE))
    ],
    Long
));
submit!(
    Handler::new(
        "sendfile",
        WS,
        &[
            arg("out_fd", Fd),
            arg("in_fd", Fd),
            arg("offset", Data(0)),
            arg("count", ULong)
        ],
        Long,
    )
    .captures(&[Capture::output_struct("offset", 2, Struct::Long)])
);
submit!(Handler::new(
    "splice",
    WS,
    &[
        arg("fd_in", Fd),
        arg("off_in", Ptr),
        arg("fd_out", Fd),
        arg("off_out", Ptr),
        arg("len", ULong),
        arg("flags", Flags(SPLICE_FLAGS))
    ],
    Long,
));
submit!(Handler::new(
    "tee",
    WS,
    &[
        arg("fd_in", Fd),
        arg("fd_out", Fd),
        arg("len", ULong),
        arg("flags", Flags(SPLICE_FLAGS))
    ],
    Long,
));
submit!(
    Handler::new(
        "vmsplice",
        WC,
        &[
            arg("fd", Fd),
            arg("iov", Data(0)),
            arg("nr_segs", ULong),
            arg("flags", Flags(SPLICE_FLAGS))
        ],
        Long,
    )
    .captures(&[IOV_WRITE])
);
submit!(Handler::new(
    "copy_file_range",
    WS,
    &[
        arg("fd_in", Fd),
        arg("off_in", Ptr),
        arg("fd_out", Fd),
        arg("off_out", Ptr),
        arg("len", ULong),
        arg("flags", UInt)
    ],
    Long,
));

// --- pipes and random bytes --------------------------------------------------------------

submit!(
    Handler::new("pipe", RS, &[arg("pipefd", Data(0))], Int).captures(&[Capture::output_struct(
        "pipefd",
        0,
        Struct::IntPair
    )])
);
submit!(
    Handler::new(
        "pipe2",
        RS,
        &[
            arg("pipefd", Data(0)),
            arg("flags", Flags(CLOEXEC_NONBLOCK))
        ],
        Int
    )
    .captures(&[Capture::output_struct("pipefd", 0, Struct::IntPair)])
);
submit!(
    Handler::new(
        "getrandom",
        RS,
        &[
            arg("buf", Data(0)),
            arg("buflen", ULong),
            arg("flags", Flags(GRND_FLAGS))
        ],
        Long
    )
    .captures(&[Capture::output("buf", 0, Len::Ret, Show::Hex)])
);
