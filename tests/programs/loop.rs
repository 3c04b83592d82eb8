//! Tight syscall loops for the benchmark and the buffer tests.
//!
//! `sc-loop getppid|pread|getrandom N` runs N calls and prints the mean time per call in ns
//! (measured inside the loop, so process start-up is excluded). `sc-loop storm SECONDS` runs
//! two threads of getppid and two of 4 KiB preads for that long, then prints how many calls
//! each thread made (`getppid <tid> <calls>`, `pread <tid> <calls>`), so a test can check
//! that the recording holds every one of them. `sc-loop getppid-pair N` runs two threads of
//! N getppid calls each, as fast as they can, and prints the same lines; with a third
//! argument, after sleeping that many milliseconds. `sc-loop unknown N`
//! makes N calls of the first number past syscord's syscall table (one the running kernel
//! may implement while syscord has no name for it) with the arguments 1 to 6, small
//! integers that no syscall takes for valid pointers, and prints `unknown <nr> <ret>` for
//! each (ret as the raw syscall returns it, -errno on failure).

use std::{
    ffi::CString,
    process::ExitCode,
    thread,
    time::{Duration, Instant},
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: sc-loop getppid|pread|getrandom ITERATIONS | sc-loop storm SECONDS");
        return ExitCode::from(2);
    };
    let elapsed = match kind.as_str() {
        "getppid" => {
            let start = Instant::now();
            for _ in 0..n {
                // SAFETY: getppid has no arguments and cannot fail.
                unsafe { libc::syscall(libc::SYS_getppid) };
            }
            start.elapsed()
        }
        "pread" => {
            let path = CString::new(args.get(3).map_or("/proc/self/exe", String::as_str))
                .expect("path without NUL");
            // SAFETY: plain open of a NUL-terminated path.
            let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY) };
            if fd < 0 {
                eprintln!("sc-loop: cannot open {path:?}");
                return ExitCode::from(1);
            }
            let mut buf = [0u8; 256];
            let start = Instant::now();
            for _ in 0..n {
                // SAFETY: buf is 256 writable bytes.
                let r = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
                if r != 256 {
                    eprintln!("sc-loop: pread returned {r}");
                    return ExitCode::from(1);
                }
            }
            start.elapsed()
        }
        "getrandom" => {
            // Random bytes do not compress: a known number of bytes per record on disk.
            let mut buf = [0u8; 256];
            let start = Instant::now();
            for _ in 0..n {
                // SAFETY: buf is 256 writable bytes.
                let r = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
                if r != 256 {
                    eprintln!("sc-loop: getrandom returned {r}");
                    return ExitCode::from(1);
                }
            }
            start.elapsed()
        }
        "storm" => return storm(Duration::from_secs(n)),
        "getppid-pair" => {
            let idle_ms = args
                .get(3)
                .map_or(0, |ms| ms.parse().expect("milliseconds"));
            thread::sleep(Duration::from_millis(idle_ms));
            return getppid_pair(n);
        }
        "unknown" => return unknown(n),
        other => {
            eprintln!("sc-loop: unknown loop {other}");
            return ExitCode::from(2);
        }
    };
    println!("{:.1}", elapsed.as_nanos() as f64 / n as f64);
    ExitCode::SUCCESS
}

/// `n` calls of the first number syscord's table does not have.
fn unknown(n: u64) -> ExitCode {
    let arch = syscord_arch::Arch::host().expect("a supported architecture");
    let nr = syscord_arch::SyscallTable::of(arch).max_nr_exclusive();
    for _ in 0..n {
        // Each argument a c_long: a variadic call passes an i32 with undefined upper bits.
        let args: [libc::c_long; 6] = [1, 2, 3, 4, 5, 6];
        // SAFETY: the arguments are small integers; a syscall given them as pointers fails
        // with EFAULT without touching memory.
        let ret = unsafe {
            libc::syscall(
                libc::c_long::from(nr),
                args[0],
                args[1],
                args[2],
                args[3],
                args[4],
                args[5],
            )
        };
        let ret = if ret < 0 {
            -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            ret
        };
        println!("unknown {nr} {ret}");
    }
    ExitCode::SUCCESS
}

/// Two threads making `n` getppid calls each, at once.
fn getppid_pair(n: u64) -> ExitCode {
    let spawn = || {
        thread::spawn(move || {
            // SAFETY: gettid has no arguments and cannot fail.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) };
            for _ in 0..n {
                // SAFETY: getppid has no arguments and cannot fail.
                unsafe { libc::syscall(libc::SYS_getppid) };
            }
            tid
        })
    };
    let threads = [spawn(), spawn()];
    for thread in threads {
        let tid = thread.join().expect("getppid thread");
        println!("getppid {tid} {n}");
    }
    ExitCode::SUCCESS
}

/// Four threads making syscalls as fast as they can until `length` has passed.
fn storm(length: Duration) -> ExitCode {
    let exe = CString::new("/proc/self/exe").expect("no NUL");
    // SAFETY: plain open of a NUL-terminated path.
    let fd = unsafe { libc::open(exe.as_ptr(), libc::O_RDONLY) };
    if fd < 0 {
        eprintln!("sc-loop: cannot open /proc/self/exe");
        return ExitCode::from(1);
    }
    let deadline = Instant::now() + length;
    let spawn = |kind: &'static str| {
        thread::spawn(move || {
            // SAFETY: gettid has no arguments and cannot fail.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) };
            let mut buf = vec![0u8; 4096];
            let mut calls = 0u64;
            // Check the clock every 1024 calls, so the loop is nearly all syscalls.
            while Instant::now() < deadline {
                for _ in 0..1024 {
                    if kind == "getppid" {
                        // SAFETY: getppid has no arguments and cannot fail.
                        unsafe { libc::syscall(libc::SYS_getppid) };
                    } else {
                        // SAFETY: buf is 4096 writable bytes.
                        let r = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
                        assert_eq!(r, 4096, "pread of /proc/self/exe");
                    }
                }
                calls += 1024;
            }
            (kind, tid, calls)
        })
    };
    let threads = [
        spawn("getppid"),
        spawn("getppid"),
        spawn("pread"),
        spawn("pread"),
    ];
    for thread in threads {
        let (kind, tid, calls) = thread.join().expect("storm thread");
        println!("{kind} {tid} {calls}");
    }
    ExitCode::SUCCESS
}
