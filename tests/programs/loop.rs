//! Tight syscall loops for the benchmark: `sc-loop getppid|pread N` runs N calls and prints
//! the mean time per call in ns (measured inside the loop, so process start-up is excluded).

use std::{ffi::CString, process::ExitCode, time::Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(n)) = (args.get(1), args.get(2).and_then(|n| n.parse::<u64>().ok()))
    else {
        eprintln!("usage: sc-loop getppid|pread ITERATIONS");
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
        other => {
            eprintln!("sc-loop: unknown loop {other}");
            return ExitCode::from(2);
        }
    };
    println!("{:.1}", elapsed.as_nanos() as f64 / n as f64);
    ExitCode::SUCCESS
}
