//! A family of processes and threads for the filter tests, each with known attributes:
//!
//! - `sc-family MS CHILD_PATH`: the main thread ("main") starts a second thread ("thread")
//!   and a child process that execs CHILD_PATH (a copy of this program, so that its comm and
//!   exe differ) as `CHILD_PATH child MS`. On SIGUSR1 the main process forks a "late" child
//!   that does not exec.
//! - `... child MS`: the child ("child") starts its own thread ("child-thread").
//!
//! With `--uid N` before MS, the child drops to uid and gid N before anything else.
//!
//! Every thread prints `{"role", "pid", "tid", "ppid"}` once, then until MS milliseconds
//! have passed calls getppid (which succeeds) and close(-1) (which fails with EBADF) every
//! millisecond, so that any filter has something to select.

use std::{
    ffi::CString,
    io::Write,
    process::ExitCode,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

static LATE_CHILD_WANTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_usr1(_: libc::c_int) {
    LATE_CHILD_WANTED.store(true, Ordering::SeqCst);
}

fn announce(role: &str) {
    // SAFETY: plain syscalls without arguments.
    let (pid, tid, ppid) = unsafe { (libc::getpid(), libc::gettid(), libc::getppid()) };
    let line = format!("{{\"role\":\"{role}\",\"pid\":{pid},\"tid\":{tid},\"ppid\":{ppid}}}\n");
    // One write per line: the processes share the pipe and lines must not interleave.
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
    let _ = std::io::stdout().flush();
}

fn work_until(deadline: Instant, role: &str, parent: libc::pid_t) {
    announce(role);
    while Instant::now() < deadline {
        // SAFETY: getppid cannot fail; close(-1) only fails.
        let ppid = unsafe {
            libc::close(-1);
            libc::getppid()
        };
        if ppid != parent {
            return; // orphaned: the test is over
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut uid = None;
    if args.first().map(String::as_str) == Some("--uid") {
        uid = args.get(1).and_then(|u| u.parse::<u32>().ok());
        args.drain(..2);
    }
    let usage = || {
        eprintln!("usage: sc-family [--uid N] MS CHILD_PATH | sc-family [--uid N] child MS");
        ExitCode::from(2)
    };
    if args.first().map(String::as_str) == Some("child") {
        let Some(ms) = args.get(1).and_then(|m| m.parse::<u64>().ok()) else {
            return usage();
        };
        if let Some(id) = uid {
            // SAFETY: plain credential syscalls, before any other thread exists.
            let dropped = unsafe { libc::setgid(id) == 0 && libc::setuid(id) == 0 };
            if !dropped {
                eprintln!("sc-family: cannot drop to uid {id}");
                return ExitCode::from(1);
            }
        }
        return run("child", ms, None);
    }
    let (Some(ms), Some(child)) = (args.first().and_then(|m| m.parse().ok()), args.get(1)) else {
        return usage();
    };
    run("main", ms, Some((child.clone(), uid)))
}

fn run(role: &str, ms: u64, child: Option<(String, Option<u32>)>) -> ExitCode {
    let deadline = Instant::now() + Duration::from_millis(ms);
    // SAFETY: getppid cannot fail.
    let parent = unsafe { libc::getppid() };
    // SAFETY: as above.
    let me = unsafe { libc::getpid() };
    let thread_role = format!("{}thread", if role == "child" { "child-" } else { "" });
    let thread = std::thread::spawn(move || work_until(deadline, &thread_role, parent));
    let mut children = Vec::new();
    if let Some((path, uid)) = child {
        let mut argv = vec![path.clone()];
        if let Some(id) = uid {
            argv.extend(["--uid".to_owned(), id.to_string()]);
        }
        argv.extend(["child".to_owned(), ms.to_string()]);
        let argv: Vec<CString> = argv.into_iter().map(|a| CString::new(a).unwrap()).collect();
        let mut pointers: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        pointers.push(std::ptr::null());
        // SAFETY: fork, then in the child only execv (async-signal-safe) or _exit.
        match unsafe { libc::fork() } {
            0 => unsafe {
                libc::execv(pointers[0], pointers.as_ptr());
                libc::_exit(127);
            },
            -1 => {
                eprintln!("sc-family: fork failed");
                return ExitCode::from(1);
            }
            pid => children.push(pid),
        }
        // SAFETY: installing a handler that only stores to an atomic.
        unsafe { libc::signal(libc::SIGUSR1, on_usr1 as *const () as libc::sighandler_t) };
    }
    announce(role);
    while Instant::now() < deadline {
        if LATE_CHILD_WANTED.swap(false, Ordering::SeqCst) {
            // SAFETY: the forked child runs the work loop; the other thread neither allocates
            // nor prints in its own loop, so no lock it could hold is copied locked.
            match unsafe { libc::fork() } {
                0 => {
                    work_until(deadline, "late", me);
                    // SAFETY: leaving the forked child without running the parent's exit.
                    unsafe { libc::_exit(0) };
                }
                -1 => eprintln!("sc-family: fork failed"),
                pid => children.push(pid),
            }
        }
        // SAFETY: as in work_until.
        unsafe {
            libc::close(-1);
            if libc::getppid() != parent {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = thread.join();
    for pid in children {
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    }
    ExitCode::SUCCESS
}
