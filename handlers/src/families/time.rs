//! Time: clocks, the time of day, sleeping, interval timers and POSIX timers.

use super::prelude::*;

/// The clock state adjtimex and clock_adjtime return.
const TIME_STATES: Names = &[
    (0, "TIME_OK"),
    (1, "TIME_INS"),
    (2, "TIME_DEL"),
    (3, "TIME_OOP"),
    (4, "TIME_WAIT"),
    (5, "TIME_ERROR"),
];

const SIGEVENT: Len = Len::Fixed(Size::Of(Struct::Sigevent));

// --- reading and setting clocks ----------------------------------------------------------

submit!(
    Handler::new("time", RS, &[arg("tloc", Data(0))], Long).captures(&[Capture::output_struct(
        "tloc",
        0,
        Struct::Long
    )])
);
submit!(
    Handler::new(
        "gettimeofday",
        RS,
        &[arg("tv", Data(0)), arg("tz", Data(1))],
        Int
    )
    .captures(&[
        Capture::output_struct("tv", 0, Struct::Timeval),
        Capture::output_struct("tz", 1, Struct::Timezone),
    ])
);
submit!(
    Handler::new(
        "settimeofday",
        WS,
        &[arg("tv", Data(0)), arg("tz", Data(1))],
        Int
    )
    .captures(&[
        Capture::input_struct("tv", 0, Struct::Timeval),
        Capture::input_struct("tz", 1, Struct::Timezone),
    ])
);
submit!(
    Handler::new(
        "clock_gettime",
        RS,
        &[arg("which_clock", Enum(CLOCKS)), arg("tp", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("tp", 1, Struct::Timespec)])
);
submit!(
    Handler::new(
        "clock_getres",
        RS,
        &[arg("which_clock", Enum(CLOCKS)), arg("tp", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("tp", 1, Struct::Timespec)])
);
submit!(
    Handler::new(
        "clock_settime",
        WS,
        &[arg("which_clock", Enum(CLOCKS)), arg("tp", Data(0))],
        Int
    )
    .captures(&[Capture::input_struct("tp", 1, Struct::Timespec)])
);
submit!(
    // Adjusts the clock when modes is set, only reads it otherwise; the kernel writes the
    // timex back either way.
    Handler::new("adjtimex", WS, &[arg("txc_p", Data(0))], Enum(TIME_STATES))
        .captures(&[Capture::output_struct("txc_p", 0, Struct::Timex)])
);
submit!(
    Handler::new(
        "clock_adjtime",
        WS,
        &[arg("which_clock", Enum(CLOCKS)), arg("utx", Data(0))],
        Enum(TIME_STATES)
    )
    .captures(&[Capture::output_struct("utx", 1, Struct::Timex)])
);

// --- sleeping ----------------------------------------------------------------------------

submit!(
    // The kernel writes the remaining time when a signal interrupts the sleep (EINTR).
    Handler::new(
        "nanosleep",
        RS,
        &[arg("rqtp", Data(0)), arg("rmtp", Data(1))],
        Int
    )
    .captures(&[
        Capture::input_struct("rqtp", 0, Struct::Timespec),
        Capture::output_struct("rmtp", 1, Struct::Timespec),
    ])
);
submit!(
    Handler::new(
        "clock_nanosleep",
        RS,
        &[
            arg("which_clock", Enum(CLOCKS)),
            arg("flags", Flags(TIMER_FLAGS)),
            arg("rqtp", Data(0)),
            arg("rmtp", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("rqtp", 2, Struct::Timespec),
        Capture::output_struct("rmtp", 3, Struct::Timespec),
    ])
);

// --- interval timers ---------------------------------------------------------------------

submit!(
    Handler::new(
        "getitimer",
        RS,
        &[arg("which", Enum(ITIMERS)), arg("value", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("value", 1, Struct::Itimerval)])
);
submit!(
    Handler::new(
        "setitimer",
        WS,
        &[
            arg("which", Enum(ITIMERS)),
            arg("value", Data(0)),
            arg("ovalue", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("value", 1, Struct::Itimerval),
        Capture::output_struct("ovalue", 2, Struct::Itimerval),
    ])
);

// --- POSIX timers ------------------------------------------------------------------------

submit!(
    Handler::new(
        "timer_create",
        RS,
        &[
            arg("which_clock", Enum(CLOCKS)),
            arg("timer_event_spec", Data(0)),
            arg("created_timer_id", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::output("timer_event_spec", 1, SIGEVENT, Show::Hex).with_role(Role::Input),
        Capture::output_struct("created_timer_id", 2, Struct::Int),
    ])
);
submit!(
    Handler::new(
        "timer_settime",
        WS,
        &[
            arg("timer_id", Int),
            arg("flags", Flags(TIMER_FLAGS)),
            arg("new_setting", Data(0)),
            arg("old_setting", Data(1))
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("new_setting", 2, Struct::Itimerspec),
        Capture::output_struct("old_setting", 3, Struct::Itimerspec),
    ])
);
submit!(
    Handler::new(
        "timer_gettime",
        RS,
        &[arg("timer_id", Int), arg("setting", Data(0))],
        Int
    )
    .captures(&[Capture::output_struct("setting", 1, Struct::Itimerspec)])
);
submit!(Handler::new(
    "timer_getoverrun",
    RS,
    &[arg("timer_id", Int)],
    Int
));
submit!(Handler::new(
    "timer_delete",
    WS,
    &[arg("timer_id", Int)],
    Int
));
