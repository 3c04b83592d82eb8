//! Signals: actions, masks, waiting for and queueing signals, alternate stacks, alarms.

use super::prelude::*;

// --- actions and masks -------------------------------------------------------------------

submit!(
    Handler::new(
        "rt_sigaction",
        WS,
        &[
            arg("sig", Signal),
            arg("act", Data(0)),
            arg("oact", Data(1)),
            arg("sigsetsize", ULong)
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("act", 1, Struct::Sigaction),
        Capture::output_struct("oact", 2, Struct::Sigaction),
    ])
);
submit!(
    Handler::new(
        "rt_sigprocmask",
        WS,
        &[
            arg("how", Enum(SIGPROCMASK_HOW)),
            arg("nset", Data(0)),
            arg("oset", Data(1)),
            arg("sigsetsize", ULong)
        ],
        Int,
    )
    .captures(&[
        Capture::input_struct("nset", 1, Struct::Sigset),
        Capture::output_struct("oset", 2, Struct::Sigset),
    ])
);
submit!(
    Handler::new(
        "rt_sigpending",
        RS,
        &[arg("uset", Data(0)), arg("sigsetsize", ULong)],
        Int
    )
    .captures(&[Capture::output_struct("uset", 0, Struct::Sigset)])
);
submit!(
    // Returns only when a signal is delivered (EINTR), so the mask is captured as a failure's
    // input.
    Handler::new(
        "rt_sigsuspend",
        WS,
        &[arg("unewset", Data(0)), arg("sigsetsize", ULong)],
        Int
    )
    .captures(&[Capture::input_struct("unewset", 0, Struct::Sigset)])
);
submit!(
    // The kernel restores the registers saved in the signal frame; the "return value" is the
    // interrupted code's.
    Handler::new("rt_sigreturn", WS, &[], Long)
);

// --- waiting for signals -----------------------------------------------------------------

submit!(
    Handler::new(
        "rt_sigtimedwait",
        RS,
        &[
            arg("uthese", Data(0)),
            arg("uinfo", Data(1)),
            arg("uts", Data(2)),
            arg("sigsetsize", ULong)
        ],
        Signal,
    )
    .captures(&[
        Capture::input_struct("uthese", 0, Struct::Sigset),
        Capture::output_struct("uinfo", 1, Struct::Siginfo),
        Capture::input_struct("uts", 2, Struct::Timespec),
    ])
);
submit!(Handler::new("pause", WS, &[], Int));

// --- sending signals with data -----------------------------------------------------------

submit!(
    Handler::new(
        "rt_sigqueueinfo",
        WS,
        &[arg("pid", Int), arg("sig", Signal), arg("uinfo", Data(0))],
        Int,
    )
    .captures(&[Capture::input_struct("uinfo", 2, Struct::Siginfo)])
);
submit!(
    Handler::new(
        "rt_tgsigqueueinfo",
        WS,
        &[
            arg("tgid", Int),
            arg("pid", Int),
            arg("sig", Signal),
            arg("uinfo", Data(0))
        ],
        Int,
    )
    .captures(&[Capture::input_struct("uinfo", 3, Struct::Siginfo)])
);

// --- alternate stacks and alarms ---------------------------------------------------------

submit!(
    Handler::new(
        "sigaltstack",
        WS,
        &[arg("uss", Data(0)), arg("uoss", Data(1))],
        Int
    )
    .captures(&[
        Capture::input_struct("uss", 0, Struct::Stack),
        Capture::output_struct("uoss", 1, Struct::Stack),
    ])
);
submit!(
    // Returns the seconds left of the previous alarm.
    Handler::new("alarm", WS, &[arg("seconds", UInt)], UInt)
);
