//! ioctl: what each request reads or writes at `argp` (terminals, descriptors, network
//! interfaces, block devices). Requests without a struct behind `argp` are named only.
//! The numbers are the generic encoding, which x86_64, arm64 and riscv64 share.

use super::prelude::*;

submit!(
    Handler::new(
        "ioctl",
        RS,
        &[arg("fd", Fd), arg("request", Request), arg("argp", Hex)],
        Long
    )
    .by_request(1)
);

/// A request that writes a struct at argp.
macro_rules! gets {
    ($name:literal, $value:literal, $s:ident) => {
        Request::new("ioctl", $name, $value, RS).captures(&[Capture::output_struct(
            "argp",
            2,
            Struct::$s,
        )])
    };
}

/// A request that reads a struct at argp.
macro_rules! sets {
    ($name:literal, $value:literal, $s:ident) => {
        Request::new("ioctl", $name, $value, WS).captures(&[Capture::input_struct(
            "argp",
            2,
            Struct::$s,
        )])
    };
}

// --- terminals (asm-generic/ioctls.h) ------------------------------------------------------

submit!(gets!("TCGETS", 0x5401, Termios));
submit!(sets!("TCSETS", 0x5402, Termios));
submit!(sets!("TCSETSW", 0x5403, Termios));
submit!(sets!("TCSETSF", 0x5404, Termios));
submit!(Request::new("ioctl", "TCSBRK", 0x5409, WS));
submit!(Request::new("ioctl", "TCXONC", 0x540a, WS));
submit!(Request::new("ioctl", "TCFLSH", 0x540b, WS));
submit!(Request::new("ioctl", "TIOCSCTTY", 0x540e, WS));
submit!(gets!("TIOCGPGRP", 0x540f, Int));
submit!(sets!("TIOCSPGRP", 0x5410, Int));
submit!(gets!("TIOCOUTQ", 0x5411, Int));
submit!(gets!("TIOCGWINSZ", 0x5413, Winsize));
submit!(sets!("TIOCSWINSZ", 0x5414, Winsize));
submit!(gets!("TIOCMGET", 0x5415, Int));
submit!(gets!("FIONREAD", 0x541b, Int));
submit!(Request::new("ioctl", "TIOCNOTTY", 0x5422, WS));
submit!(sets!("FIONBIO", 0x5421, Int));
submit!(gets!("TIOCGSID", 0x5429, Int));
submit!(gets!("TIOCGPTN", 0x8004_5430, Int));
submit!(sets!("TIOCSPTLCK", 0x4004_5431, Int));
submit!(Request::new("ioctl", "FIONCLEX", 0x5450, WS));
submit!(Request::new("ioctl", "FIOCLEX", 0x5451, WS));
submit!(sets!("FIOASYNC", 0x5452, Int));

// --- network interfaces (linux/sockios.h) --------------------------------------------------

submit!(gets!("SIOCGIFNAME", 0x8910, Ifreq));
submit!(gets!("SIOCGIFFLAGS", 0x8913, IfreqFlags));
submit!(gets!("SIOCGIFMTU", 0x8921, IfreqMtu));
submit!(gets!("SIOCGIFINDEX", 0x8933, Ifreq));

// --- block devices (linux/fs.h) ------------------------------------------------------------

submit!(gets!("BLKGETSIZE", 0x1260, Long));
submit!(gets!("BLKSSZGET", 0x1268, Int));
submit!(gets!("BLKGETSIZE64", 0x8008_1272, Long));
