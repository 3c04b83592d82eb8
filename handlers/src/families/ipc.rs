//! Inter-process communication: System V message queues, semaphores and shared memory;
//! POSIX message queues.

use super::prelude::*;

/// Bytes the kernel reads at argument `ptr`, shown in hex.
const fn input_hex(name: &'static str, ptr: u8, len: Len) -> Capture {
    Capture::output(name, ptr, len, Show::Hex).with_role(Role::Input)
}

/// msgget and semget flags; the permission bits below them show as a number.
const IPC_GET_FLAGS: Names = &[(0o1000, "IPC_CREAT"), (0o2000, "IPC_EXCL")];

const SHMGET_FLAGS: Names = &[
    (0o1000, "IPC_CREAT"),
    (0o2000, "IPC_EXCL"),
    (0o4000, "SHM_HUGETLB"),
    (0o10000, "SHM_NORESERVE"),
];

const MSG_IPC_FLAGS: Names = &[
    (0o4000, "IPC_NOWAIT"),
    (0o10000, "MSG_NOERROR"),
    (0o20000, "MSG_EXCEPT"),
    (0o40000, "MSG_COPY"),
];

const SHMAT_FLAGS: Names = &[
    (0o10000, "SHM_RDONLY"),
    (0o20000, "SHM_RND"),
    (0o40000, "SHM_REMAP"),
    (0o100000, "SHM_EXEC"),
];

const MSGCTL_CMDS: Names = &[
    (0, "IPC_RMID"),
    (1, "IPC_SET"),
    (2, "IPC_STAT"),
    (3, "IPC_INFO"),
    (11, "MSG_STAT"),
    (12, "MSG_INFO"),
    (13, "MSG_STAT_ANY"),
];

const SEMCTL_CMDS: Names = &[
    (0, "IPC_RMID"),
    (1, "IPC_SET"),
    (2, "IPC_STAT"),
    (3, "IPC_INFO"),
    (11, "GETPID"),
    (12, "GETVAL"),
    (13, "GETALL"),
    (14, "GETNCNT"),
    (15, "GETZCNT"),
    (16, "SETVAL"),
    (17, "SETALL"),
    (18, "SEM_STAT"),
    (19, "SEM_INFO"),
    (20, "SEM_STAT_ANY"),
];

const SHMCTL_CMDS: Names = &[
    (0, "IPC_RMID"),
    (1, "IPC_SET"),
    (2, "IPC_STAT"),
    (3, "IPC_INFO"),
    (11, "SHM_LOCK"),
    (12, "SHM_UNLOCK"),
    (13, "SHM_STAT"),
    (14, "SHM_INFO"),
    (15, "SHM_STAT_ANY"),
];

const MSQID_DS: Len = Len::Fixed(Size::Of(Struct::MsqidDs));
const SHMID_DS: Len = Len::Fixed(Size::Of(Struct::ShmidDs));
const SEMBUF: Size = Size::Of(Struct::Sembuf);
const SIGEVENT: Len = Len::Fixed(Size::Of(Struct::Sigevent));

// --- System V message queues -------------------------------------------------------------

submit!(Handler::new(
    "msgget",
    RS,
    &[arg("key", Hex), arg("msgflg", Flags(IPC_GET_FLAGS))],
    Int
));
submit!(
    Handler::new(
        "msgsnd",
        WC,
        &[
            arg("msqid", Int),
            arg("msgp", Data(0)),
            arg("msgsz", ULong),
            arg("msgflg", Flags(MSG_IPC_FLAGS))
        ],
        Int,
    )
    // struct msgbuf: the 8-byte mtype, then msgsz bytes of text.
    .captures(&[Capture::content(
        "msgp",
        1,
        Len::ArgPlus(2, Size::Of(Struct::Long))
    )])
);
submit!(
    // Returns the bytes of text received; the capture starts at mtype, 8 bytes before.
    Handler::new(
        "msgrcv",
        RC,
        &[
            arg("msqid", Int),
            arg("msgp", Data(0)),
            arg("msgsz", ULong),
            arg("msgtyp", Long),
            arg("msgflg", Flags(MSG_IPC_FLAGS))
        ],
        Long,
    )
    .captures(&[Capture::output(
        "msgp",
        1,
        Len::RetPlus(Size::Of(Struct::Long)),
        Show::Text
    )])
);
submit!(
    Handler::new(
        "msgctl",
        WS,
        &[
            arg("msqid", Int),
            arg("cmd", Enum(MSGCTL_CMDS)),
            arg("buf", Data(0))
        ],
        Int,
    )
    .captures(&[Capture::output("buf", 2, MSQID_DS, Show::Hex)])
);

// --- System V semaphores -----------------------------------------------------------------

submit!(Handler::new(
    "semget",
    RS,
    &[
        arg("key", Hex),
        arg("nsems", Int),
        arg("semflg", Flags(IPC_GET_FLAGS))
    ],
    Int,
));
submit!(
    Handler::new(
        "semop",
        WS,
        &[arg("semid", Int), arg("tsops", Data(0)), arg("nsops", UInt)],
        Int
    )
    .captures(&[input_hex("tsops", 1, Len::ArgTimes(2, SEMBUF))])
);
submit!(
    Handler::new(
        "semtimedop",
        WS,
        &[
            arg("semid", Int),
            arg("tsops", Data(0)),
            arg("nsops", UInt),
            arg("timeout", Data(1))
        ],
        Int,
    )
    .captures(&[
        input_hex("tsops", 1, Len::ArgTimes(2, SEMBUF)),
        Capture::input_struct("timeout", 3, Struct::Timespec),
    ])
);
submit!(
    // arg is a union semun: a value or a pointer, depending on cmd.
    Handler::new(
        "semctl",
        WS,
        &[
            arg("semid", Int),
            arg("semnum", Int),
            arg("cmd", Enum(SEMCTL_CMDS)),
            arg("arg", Hex)
        ],
        Int,
    )
);

// --- System V shared memory --------------------------------------------------------------

submit!(Handler::new(
    "shmget",
    RS,
    &[
        arg("key", Hex),
        arg("size", ULong),
        arg("shmflg", Flags(SHMGET_FLAGS))
    ],
    Int,
));
submit!(Handler::new(
    "shmat",
    WS,
    &[
        arg("shmid", Int),
        arg("shmaddr", Ptr),
        arg("shmflg", Flags(SHMAT_FLAGS))
    ],
    Ptr,
));
submit!(Handler::new("shmdt", WS, &[arg("shmaddr", Ptr)], Int));
submit!(
    Handler::new(
        "shmctl",
        WS,
        &[
            arg("shmid", Int),
            arg("cmd", Enum(SHMCTL_CMDS)),
            arg("buf", Data(0))
        ],
        Int,
    )
    .captures(&[Capture::output("buf", 2, SHMID_DS, Show::Hex)])
);

// --- POSIX message queues ----------------------------------------------------------------

submit!(
    Handler::new(
        "mq_open",
        RS,
        &[
            arg("u_name", Data(0)),
            arg("oflag", OpenFlags),
            arg("mode", Mode),
            arg("u_attr", Data(1))
        ],
        Fd,
    )
    .captures(&[
        Capture::string("u_name", 0),
        Capture::input_struct("u_attr", 3, Struct::MqAttr)
    ])
);
submit!(
    Handler::new("mq_unlink", WS, &[arg("u_name", Data(0))], Int)
        .captures(&[Capture::string("u_name", 0)])
);
submit!(
    Handler::new(
        "mq_timedsend",
        WC,
        &[
            arg("mqdes", Fd),
            arg("u_msg_ptr", Data(0)),
            arg("msg_len", ULong),
            arg("msg_prio", UInt),
            arg("u_abs_timeout", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::content("u_msg_ptr", 1, Len::Arg(2)),
        Capture::input_struct("u_abs_timeout", 4, Struct::Timespec),
    ])
);
submit!(
    Handler::new(
        "mq_timedreceive",
        RC,
        &[
            arg("mqdes", Fd),
            arg("u_msg_ptr", Data(0)),
            arg("msg_len", ULong),
            arg("u_msg_prio", Data(1)),
            arg("u_abs_timeout", Data(2))
        ],
        Long,
    )
    .captures(&[
        Capture::output("u_msg_ptr", 1, Len::Ret, Show::Text),
        Capture::output_struct("u_msg_prio", 3, Struct::Int),
        Capture::input_struct("u_abs_timeout", 4, Struct::Timespec),
    ])
);
submit!(
    Handler::new(
        "mq_notify",
        WS,
        &[arg("mqdes", Fd), arg("u_notification", Data(0))],
        Int
    )
    .captures(&[input_hex("u_notification", 1, SIGEVENT)])
);
submit!(
    // mq_getattr (u_mqstat NULL) and mq_setattr (only O_NONBLOCK can change).
    Handler::new(
        "mq_getsetattr",
        RS,
        &[
            arg("mqdes", Fd),
            arg("u_mqstat", Data(0)),
            arg("u_omqstat", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("u_mqstat", 1, Struct::MqAttr),
        Capture::output_struct("u_omqstat", 2, Struct::MqAttr),
    ])
);
