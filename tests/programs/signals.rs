//! Signals with known effects, for the signal tests. Each case prints one JSON line with what
//! the program saw, for the test to compare with the recording:
//!
//! - `sc-signals all`: in this order,
//!   - `handled`: SIGUSR1 sent to itself with kill, run by an SA_SIGINFO handler;
//!   - `queued`: SIGRTMIN sent to itself with sigqueue and the value 42;
//!   - `interrupted`: a read of an empty pipe that a SIGALRM without SA_RESTART interrupts
//!     (the read fails with EINTR); a child sends the alarm once the read waits;
//!   - `restarted`: the same with SA_RESTART: the read goes on, and returns the byte the
//!     child writes once the handler has run;
//!   - `stopped`: a child sleeping in nanosleep is stopped and continued (SIGSTOP, SIGCONT):
//!     its sleep goes on through restart_syscall;
//!   - `group`: a child with a second thread calls exit_group: the kernel ends the thread
//!     with SIGKILL;
//!   - `segv`: a child with no core size limit reads address 8 and dies of SIGSEGV; the
//!     parent's SIGCHLD handler sees how.
//! - `sc-signals wait`: prints its pid, waits for a SIGUSR2 from outside, and prints who sent
//!   it.

use std::{
    io::Write,
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

/// What the last signal's siginfo said.
static SEEN_SIGNO: AtomicI64 = AtomicI64::new(0);
static SEEN_CODE: AtomicI64 = AtomicI64::new(0);
static SEEN_PID: AtomicI64 = AtomicI64::new(0);
static SEEN_UID: AtomicI64 = AtomicI64::new(0);
static SEEN_VALUE: AtomicI64 = AtomicI64::new(0);
static SEEN_STATUS: AtomicI64 = AtomicI64::new(0);

extern "C" fn on_signal(signo: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler; the accessors
    // read the union members the signal's si_code sets (pid and uid for SI_USER and
    // SI_QUEUE, the value for SI_QUEUE), and the others read bytes that are zero.
    unsafe {
        SEEN_SIGNO.store(i64::from(signo), Ordering::SeqCst);
        SEEN_CODE.store(i64::from((*info).si_code), Ordering::SeqCst);
        SEEN_PID.store(i64::from((*info).si_pid()), Ordering::SeqCst);
        SEEN_UID.store(i64::from((*info).si_uid()), Ordering::SeqCst);
        SEEN_VALUE.store((*info).si_value().sival_ptr as i64, Ordering::SeqCst);
        if signo == libc::SIGCHLD {
            SEEN_STATUS.store(i64::from((*info).si_status()), Ordering::SeqCst);
        }
    }
}

fn handle(signo: libc::c_int, flags: libc::c_int) {
    // SAFETY: a zeroed sigaction with a handler of the SA_SIGINFO type.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | flags;
        assert_eq!(libc::sigaction(signo, &action, std::ptr::null_mut()), 0);
    }
}

fn print(line: String) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn seen() -> String {
    format!(
        "\"signo\":{},\"code\":{},\"si_pid\":{},\"si_uid\":{},\"value\":{}",
        SEEN_SIGNO.load(Ordering::SeqCst),
        SEEN_CODE.load(Ordering::SeqCst),
        SEEN_PID.load(Ordering::SeqCst),
        SEEN_UID.load(Ordering::SeqCst),
        SEEN_VALUE.load(Ordering::SeqCst),
    )
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn pipe() -> (i32, i32) {
    let mut fds = [0; 2];
    // SAFETY: a valid array of two ints.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    (fds[0], fds[1])
}

/// Forks; the child runs `child` and exits with what it returns.
fn fork(child: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the program is single-threaded here; the child only makes syscalls.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = child();
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    pid
}

fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: a valid status pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    status
}

/// The state letter of /proc/PID/stat ('S' sleeping, 'T' stopped, ...).
fn state(pid: libc::pid_t) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')')
        .next()
        .and_then(|rest| rest.trim_start().chars().next())
        .unwrap_or('?')
}

fn handled() {
    handle(libc::SIGUSR1, 0);
    // SAFETY: plain syscalls.
    let (pid, uid) = unsafe { (libc::getpid(), libc::getuid()) };
    // SAFETY: a signal to itself, which the handler above takes.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGUSR1) }, 0);
    print(format!(
        "{{\"case\":\"handled\",\"pid\":{pid},\"uid\":{uid},\"handler\":{},{}}}",
        on_signal as *const () as usize,
        seen()
    ));
}

fn queued() {
    let signo = libc::SIGRTMIN();
    handle(signo, 0);
    // SAFETY: as above, with a value.
    let ret = unsafe {
        libc::sigqueue(
            libc::getpid(),
            signo,
            libc::sigval {
                sival_ptr: 42 as *mut libc::c_void,
            },
        )
    };
    assert_eq!(ret, 0);
    print(format!("{{\"case\":\"queued\",{}}}", seen()));
}

/// Whether thread `pid` waits in syscall `nr` (its /proc/PID/syscall).
fn blocked_in(pid: libc::pid_t, nr: libc::c_long) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .is_ok_and(|s| s.split_whitespace().next() == Some(nr.to_string().as_str()))
}

/// A child that sends `parent` SIGALRM once it waits in read, and then, when `go` is given,
/// writes a byte to `go.1` once the parent waits in read again after reading `go.0`'s
/// byte from its handler.
fn alarm_when_reading(parent: libc::pid_t, then_write: Option<(i32, i32)>) -> libc::pid_t {
    fork(move || {
        let wait_for_read = || {
            while !blocked_in(parent, libc::SYS_read) {
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        wait_for_read();
        // SAFETY: a signal to our parent, which handles it.
        unsafe { libc::kill(parent, libc::SIGALRM) };
        if let Some((handled, data)) = then_write {
            let mut byte = [0u8; 1];
            // SAFETY: valid buffers: the handler's byte, then the data the read waits for.
            unsafe { libc::read(handled, byte.as_mut_ptr().cast(), 1) };
            wait_for_read();
            unsafe { libc::write(data, b"x".as_ptr().cast(), 1) };
        }
        0
    })
}

fn interrupted() {
    handle(libc::SIGALRM, 0);
    let (r, w) = pipe();
    // SAFETY: a plain syscall.
    let helper = alarm_when_reading(unsafe { libc::getpid() }, None);
    let mut byte = [0u8; 1];
    // SAFETY: a valid buffer; nobody writes to the pipe, so only the alarm ends the read.
    let ret = unsafe { libc::read(r, byte.as_mut_ptr().cast(), 1) };
    let errno = errno();
    wait(helper);
    print(format!(
        "{{\"case\":\"interrupted\",\"fd\":{r},\"ret\":{ret},\"errno\":{errno},{}}}",
        seen()
    ));
    // SAFETY: the pipe's descriptors.
    unsafe {
        libc::close(r);
        libc::close(w);
    }
}

/// Where the SIGALRM handler of `restarted` says it ran.
static HANDLED_FD: AtomicI64 = AtomicI64::new(-1);

extern "C" fn on_alarm_tell(
    signo: libc::c_int,
    info: *mut libc::siginfo_t,
    ctx: *mut libc::c_void,
) {
    on_signal(signo, info, ctx);
    let fd = HANDLED_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write is async-signal-safe; the descriptor is a pipe's.
        unsafe { libc::write(fd as i32, b"h".as_ptr().cast(), 1) };
    }
}

fn restarted() {
    // SAFETY: as in `handle`, with the handler that tells the helper it ran.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_alarm_tell as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        assert_eq!(
            libc::sigaction(libc::SIGALRM, &action, std::ptr::null_mut()),
            0
        );
    }
    let (r, w) = pipe();
    let (handled_r, handled_w) = pipe();
    HANDLED_FD.store(i64::from(handled_w), Ordering::SeqCst);
    // SAFETY: a plain syscall.
    let helper = alarm_when_reading(unsafe { libc::getpid() }, Some((handled_r, w)));
    let mut byte = [0u8; 1];
    // SAFETY: a valid buffer. The alarm interrupts the read, the handler runs, the read is
    // restarted and gets the helper's byte.
    let ret = unsafe { libc::read(r, byte.as_mut_ptr().cast(), 1) };
    wait(helper);
    HANDLED_FD.store(-1, Ordering::SeqCst);
    print(format!(
        "{{\"case\":\"restarted\",\"fd\":{r},\"ret\":{ret},\"helper\":{helper},{}}}",
        seen()
    ));
    // SAFETY: the pipes' descriptors.
    unsafe {
        for fd in [r, w, handled_r, handled_w] {
            libc::close(fd);
        }
    }
}

fn stopped() {
    let (ready_r, ready_w) = pipe();
    let sleeper = fork(|| {
        let nap = libc::timespec {
            tv_sec: 0,
            tv_nsec: 600_000_000,
        };
        // SAFETY: valid buffers; the parent waits for the byte, then for the sleep.
        let ret = unsafe {
            libc::write(ready_w, b"r".as_ptr().cast(), 1);
            libc::nanosleep(&nap, std::ptr::null_mut())
        };
        // SAFETY: a plain syscall.
        let pid = unsafe { libc::getpid() };
        print(format!(
            "{{\"case\":\"stopped\",\"pid\":{pid},\"ret\":{ret}}}"
        ));
        0
    });
    let mut byte = [0u8; 1];
    // SAFETY: a valid buffer.
    unsafe { libc::read(ready_r, byte.as_mut_ptr().cast(), 1) };
    // After its byte, the child's next wait is its sleep.
    while state(sleeper) != 'S' {
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: signals to our own child.
    unsafe { libc::kill(sleeper, libc::SIGSTOP) };
    while state(sleeper) != 'T' {
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: as above.
    unsafe { libc::kill(sleeper, libc::SIGCONT) };
    wait(sleeper);
    // SAFETY: the pipe's descriptors.
    unsafe {
        libc::close(ready_r);
        libc::close(ready_w);
    }
}

fn group() {
    let child = fork(|| {
        let (ready_r, ready_w) = pipe();
        std::thread::spawn(move || {
            // SAFETY: plain syscalls; the thread then waits until the process ends.
            let tid = unsafe { libc::gettid() };
            print(format!("{{\"case\":\"group\",\"thread\":{tid}}}"));
            unsafe { libc::write(ready_w, b"r".as_ptr().cast(), 1) };
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        });
        let mut byte = [0u8; 1];
        // SAFETY: a valid buffer; then exit_group ends both threads.
        unsafe {
            libc::read(ready_r, byte.as_mut_ptr().cast(), 1);
            libc::syscall(libc::SYS_exit_group, 3);
        }
        unreachable!("exit_group returned")
    });
    let status = wait(child);
    print(format!(
        "{{\"case\":\"group_exit\",\"child\":{child},\"status\":{status}}}"
    ));
}

fn segv() {
    // The parent's SIGCHLD says how the child ended.
    handle(libc::SIGCHLD, libc::SA_RESTART);
    let child = fork(|| {
        let unlimited = libc::rlimit {
            rlim_cur: libc::RLIM_INFINITY,
            rlim_max: libc::RLIM_INFINITY,
        };
        // SAFETY: a valid rlimit; then a read of an address nothing is mapped at.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &unlimited);
            std::ptr::read_volatile(8 as *const u32) as i32
        }
    });
    let status = wait(child);
    print(format!(
        "{{\"case\":\"segv\",\"child\":{child},\"status\":{status},\"si_status\":{},{}}}",
        SEEN_STATUS.load(Ordering::SeqCst),
        seen()
    ));
}

fn wait_for_usr2() {
    handle(libc::SIGUSR2, 0);
    // SAFETY: plain syscalls; SIGUSR2 is blocked until sigsuspend lets it in, so a signal
    // sent right after the pid line is not lost.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGUSR2);
        libc::sigprocmask(libc::SIG_BLOCK, &block, std::ptr::null_mut());
        print(format!("{{\"case\":\"wait\",\"pid\":{}}}", libc::getpid()));
        let mut open: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut open);
        while SEEN_SIGNO.load(Ordering::SeqCst) != i64::from(libc::SIGUSR2) {
            libc::sigsuspend(&open);
        }
    }
    print(format!("{{\"case\":\"usr2\",{}}}", seen()));
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("all") => {
            handled();
            queued();
            interrupted();
            restarted();
            stopped();
            group();
            segv();
        }
        Some("wait") => wait_for_usr2(),
        _ => {
            eprintln!("usage: sc-signals all|wait");
            std::process::exit(2);
        }
    }
}
