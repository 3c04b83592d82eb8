//! Mounts and file systems: the classic mount calls, the mount API of file descriptors
//! (fsopen, fsconfig, fsmount, move_mount, ...), mount listings, quotas and swap.

use super::prelude::*;

/// `struct mnt_id_req` (statmount, listmount) starts with its own size.
const MNT_ID_REQ_SIZE: u16 = Struct::MntIdReq.common_offset("size");
/// `struct statmount` starts with the size the kernel filled in.
const STATMOUNT_SIZE: u16 = Struct::Statmount.common_offset("size");

const FSOPEN_FLAGS: Names = &[(1, "FSOPEN_CLOEXEC")];

const FSCONFIG_CMDS: Names = &[
    (0, "FSCONFIG_SET_FLAG"),
    (1, "FSCONFIG_SET_STRING"),
    (2, "FSCONFIG_SET_BINARY"),
    (3, "FSCONFIG_SET_PATH"),
    (4, "FSCONFIG_SET_PATH_EMPTY"),
    (5, "FSCONFIG_SET_FD"),
    (6, "FSCONFIG_CMD_CREATE"),
    (7, "FSCONFIG_CMD_RECONFIGURE"),
    (8, "FSCONFIG_CMD_CREATE_EXCL"),
];

const FSMOUNT_FLAGS: Names = &[(1, "FSMOUNT_CLOEXEC")];

/// MOUNT_ATTR_* (fsmount's attr_flags; the attr_set/attr_clr of `struct mount_attr`).
const MOUNT_ATTRS: Names = &[
    (0x1, "MOUNT_ATTR_RDONLY"),
    (0x2, "MOUNT_ATTR_NOSUID"),
    (0x4, "MOUNT_ATTR_NODEV"),
    (0x8, "MOUNT_ATTR_NOEXEC"),
    (0x10, "MOUNT_ATTR_NOATIME"),
    (0x20, "MOUNT_ATTR_STRICTATIME"),
    (0x80, "MOUNT_ATTR_NODIRATIME"),
    (0x10_0000, "MOUNT_ATTR_IDMAP"),
    (0x20_0000, "MOUNT_ATTR_NOSYMFOLLOW"),
];

const FSPICK_FLAGS: Names = &[
    (1, "FSPICK_CLOEXEC"),
    (2, "FSPICK_SYMLINK_NOFOLLOW"),
    (4, "FSPICK_NO_AUTOMOUNT"),
    (8, "FSPICK_EMPTY_PATH"),
];

const MOVE_MOUNT_FLAGS: Names = &[
    (0x1, "MOVE_MOUNT_F_SYMLINKS"),
    (0x2, "MOVE_MOUNT_F_AUTOMOUNTS"),
    (0x4, "MOVE_MOUNT_F_EMPTY_PATH"),
    (0x10, "MOVE_MOUNT_T_SYMLINKS"),
    (0x20, "MOVE_MOUNT_T_AUTOMOUNTS"),
    (0x40, "MOVE_MOUNT_T_EMPTY_PATH"),
    (0x100, "MOVE_MOUNT_SET_GROUP"),
    (0x200, "MOVE_MOUNT_BENEATH"),
];

const OPEN_TREE_FLAGS: Names = &[
    (1, "OPEN_TREE_CLONE"),
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x8000, "AT_RECURSIVE"),
    (0o2000000, "OPEN_TREE_CLOEXEC"),
];

const LISTMOUNT_FLAGS: Names = &[(1, "LISTMOUNT_REVERSE")];

/// The swap priority is in the low 15 bits, shown in hex.
const SWAP_FLAGS: Names = &[
    (0x8000, "SWAP_FLAG_PREFER"),
    (0x1_0000, "SWAP_FLAG_DISCARD"),
    (0x2_0000, "SWAP_FLAG_DISCARD_ONCE"),
    (0x4_0000, "SWAP_FLAG_DISCARD_PAGES"),
];

/// The `struct mnt_id_req` at argument 0, as long as its size field says.
const MNT_ID_REQ: Capture = Capture {
    name: "req",
    kind: Kind::Bytes,
    ptr: Ptr::Arg(0),
    len: Len::DerefU32 {
        arg: 0,
        offset: MNT_ID_REQ_SIZE,
    },
    role: Role::Input,
    show: Show::Hex,
};

// --- mounting and unmounting -------------------------------------------------------------

submit!(
    Handler::new(
        "mount",
        WS,
        &[
            arg("dev_name", Data(0)),
            arg("dir_name", Data(1)),
            arg("type", Data(2)),
            arg("flags", Flags(MOUNT_FLAGS)),
            arg("data", Data(3))
        ],
        Int,
    )
    // data is a string of options for most file systems.
    .captures(&[
        Capture::string("dev_name", 0),
        Capture::string("dir_name", 1),
        Capture::string("type", 2),
        Capture::string("data", 4),
    ])
);
submit!(
    Handler::new(
        "umount2",
        WS,
        &[arg("name", Data(0)), arg("flags", Flags(UMOUNT_FLAGS))],
        Int
    )
    .captures(&[Capture::string("name", 0)])
);

// --- the mount API -----------------------------------------------------------------------

submit!(
    Handler::new(
        "fsopen",
        RS,
        &[arg("fs_name", Data(0)), arg("flags", Flags(FSOPEN_FLAGS))],
        Fd
    )
    .captures(&[Capture::string("fs_name", 0)])
);
submit!(
    Handler::new(
        "fsconfig",
        WS,
        &[
            arg("fd", Fd),
            arg("cmd", Enum(FSCONFIG_CMDS)),
            arg("key", Data(0)),
            arg("value", Data(1)),
            arg("aux", Int)
        ],
        Int,
    )
    // value is a string for FSCONFIG_SET_STRING and the path commands.
    .captures(&[Capture::string("key", 2), Capture::string("value", 3)])
);
submit!(Handler::new(
    "fsmount",
    RS,
    &[
        arg("fs_fd", Fd),
        arg("flags", Flags(FSMOUNT_FLAGS)),
        arg("attr_flags", Flags(MOUNT_ATTRS))
    ],
    Fd,
));
submit!(
    Handler::new(
        "fspick",
        RS,
        &[
            arg("dfd", DirFd),
            arg("path", Data(0)),
            arg("flags", Flags(FSPICK_FLAGS))
        ],
        Fd
    )
    .captures(&[Capture::string("path", 1)])
);
submit!(
    Handler::new(
        "move_mount",
        WS,
        &[
            arg("from_dfd", DirFd),
            arg("from_pathname", Data(0)),
            arg("to_dfd", DirFd),
            arg("to_pathname", Data(1)),
            arg("flags", Flags(MOVE_MOUNT_FLAGS))
        ],
        Int,
    )
    .captures(&[
        Capture::string("from_pathname", 1),
        Capture::string("to_pathname", 3)
    ])
);
submit!(
    Handler::new(
        "open_tree",
        RS,
        &[
            arg("dfd", DirFd),
            arg("filename", Data(0)),
            arg("flags", Flags(OPEN_TREE_FLAGS))
        ],
        Fd,
    )
    .captures(&[Capture::string("filename", 1)])
);
// It can change the attributes of the mount it opens.
submit!(
    Handler::new(
        "open_tree_attr",
        WS,
        &[
            arg("dfd", DirFd),
            arg("filename", Data(0)),
            arg("flags", Flags(OPEN_TREE_FLAGS)),
            arg("uattr", Data(1)),
            arg("usize", ULong)
        ],
        Fd,
    )
    .captures(&[
        Capture::string("filename", 1),
        Capture::input_struct("uattr", 3, Struct::MountAttr)
    ])
);
submit!(
    Handler::new(
        "mount_setattr",
        WS,
        &[
            arg("dfd", DirFd),
            arg("path", Data(0)),
            arg("flags", Flags(AT_FLAGS)),
            arg("uattr", Data(1)),
            arg("usize", ULong)
        ],
        Int,
    )
    .captures(&[
        Capture::string("path", 1),
        Capture::input_struct("uattr", 3, Struct::MountAttr)
    ])
);

// --- listing mounts ----------------------------------------------------------------------

submit!(
    Handler::new(
        "statmount",
        RS,
        &[
            arg("req", Data(0)),
            arg("buf", Data(1)),
            arg("bufsize", ULong),
            arg("flags", UInt)
        ],
        Int,
    )
    .captures(&[
        MNT_ID_REQ,
        // As long as the size the kernel wrote in it says.
        Capture::output(
            "buf",
            1,
            Len::DerefU32 {
                arg: 1,
                offset: STATMOUNT_SIZE
            },
            Show::Hex
        ),
    ])
);
submit!(
    Handler::new(
        "listmount",
        RS,
        &[
            arg("req", Data(0)),
            arg("mnt_ids", Data(1)),
            arg("nr_mnt_ids", ULong),
            arg("flags", Flags(LISTMOUNT_FLAGS))
        ],
        Long,
    )
    .captures(&[
        MNT_ID_REQ,
        Capture::output(
            "mnt_ids",
            1,
            Len::RetTimes(Size::Of(Struct::Long)),
            Show::Struct(Struct::Long)
        ),
    ])
);

// --- quotas, swap, file system types -----------------------------------------------------

// cmd is QCMD(command, quota type): (command << 8) | type. Some commands read quotas,
// others change them; each (command, type) is a request, as strace names them.
submit!(
    Handler::new(
        "quotactl",
        RS,
        &[
            arg("cmd", Request),
            arg("special", Data(0)),
            arg("id", Int),
            arg("addr", Hex)
        ],
        Int,
    )
    .captures(&[Capture::string("special", 1)])
    .by_request(0)
);
submit!(
    Handler::new(
        "quotactl_fd",
        RS,
        &[
            arg("fd", Fd),
            arg("cmd", Request),
            arg("id", Int),
            arg("addr", Hex)
        ],
        Int
    )
    .by_request(1)
);

/// A quota command of both syscalls, for each quota type (USRQUOTA, GRPQUOTA, PRJQUOTA),
/// with what it does at `addr` (argument 3 of both): `gets S` / `sets S` for a struct the
/// kernel writes / reads there.
macro_rules! quota_command {
    ($command:literal, $value:literal, gets $s:ident) => {
        quota_command!($command, $value, RS, Capture::output_struct("addr", 3, Struct::$s));
    };
    ($command:literal, $value:literal, sets $s:ident) => {
        quota_command!($command, $value, WS, Capture::input_struct("addr", 3, Struct::$s));
    };
    ($command:literal, $value:literal, $class:ident $(, $capture:expr)?) => {
        for_each_quota_type!("quotactl", $command, $value, $class, &[$($capture)?]);
        for_each_quota_type!("quotactl_fd", $command, $value, $class, &[$($capture)?]);
    };
}

/// QCMD(command, type) is (command << 8) | type.
macro_rules! for_each_quota_type {
    ($syscall:literal, $command:literal, $value:literal, $class:ident, $captures:expr) => {
        quota_request!(
            $syscall,
            $command,
            "USRQUOTA",
            $value << 8,
            $class,
            $captures
        );
        quota_request!(
            $syscall,
            $command,
            "GRPQUOTA",
            $value << 8 | 1,
            $class,
            $captures
        );
        quota_request!(
            $syscall,
            $command,
            "PRJQUOTA",
            $value << 8 | 2,
            $class,
            $captures
        );
    };
}

macro_rules! quota_request {
    ($syscall:literal, $command:literal, $type:literal, $value:expr, $class:ident, $captures:expr) => {
        submit!(
            Request::new(
                $syscall,
                concat!("QCMD(", $command, ", ", $type, ")"),
                $value,
                $class
            )
            .captures($captures)
        );
    };
}

quota_command!("Q_SYNC", 0x80_0001, WS);
quota_command!("Q_QUOTAON", 0x80_0002, WS, Capture::string("addr", 3));
quota_command!("Q_QUOTAOFF", 0x80_0003, WS);
quota_command!("Q_GETFMT", 0x80_0004, gets Int);
quota_command!("Q_GETINFO", 0x80_0005, gets IfDqinfo);
quota_command!("Q_SETINFO", 0x80_0006, sets IfDqinfo);
quota_command!("Q_GETQUOTA", 0x80_0007, gets IfDqblk);
quota_command!("Q_SETQUOTA", 0x80_0008, sets IfDqblk);
quota_command!("Q_GETNEXTQUOTA", 0x80_0009, gets IfNextdqblk);
submit!(
    Handler::new(
        "swapon",
        WS,
        &[
            arg("specialfile", Data(0)),
            arg("swap_flags", Flags(SWAP_FLAGS))
        ],
        Int
    )
    .captures(&[Capture::string("specialfile", 0)])
);
submit!(
    Handler::new("swapoff", WS, &[arg("specialfile", Data(0))], Int)
        .captures(&[Capture::string("specialfile", 0)])
);
// x86_64 only. What arg1 and arg2 are depends on option (a name, an index, a buffer).
submit!(Handler::new(
    "sysfs",
    RS,
    &[arg("option", Int), arg("arg1", Hex), arg("arg2", Hex)],
    Int
));
// Removed from the kernel (3.1).
submit!(Handler::new(
    "nfsservctl",
    WS,
    &[arg("cmd", Int), arg("argp", Ptr), arg("resp", Ptr)],
    Long
));
