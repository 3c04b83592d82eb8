//! A known sequence of syscalls in three threads of control: the main thread, a second
//! thread, and a forked child. Each makes its calls through `syscall(2)` directly, between
//! two marker calls (`close` of an impossible descriptor: -1000 - role to start, -2000 - role
//! to end), and logs number, arguments and raw return value. When all are done, each prints
//! its log as one JSON line: `{"role", "pid", "tid", "calls": [{"nr", "args", "ret"}]}`,
//! the child first.
//!
//! Nothing allocates between the markers (the log has its room reserved), so the syscalls
//! between them are exactly the logged ones.

use std::ffi::CStr;

use serde_json::json;

const MAIN: i64 = 1;
const THREAD: i64 = 2;
const CHILD: i64 = 3;

#[derive(Clone, Copy)]
struct Call {
    nr: libc::c_long,
    args: [u64; 6],
    argc: usize,
    ret: i64,
}

struct Log {
    role: i64,
    /// Of the thread that makes the calls (not the one that prints the log).
    pid: i32,
    tid: i32,
    calls: Vec<Call>,
}

impl Log {
    /// Called by the thread that will make the calls.
    fn new(role: i64) -> Self {
        // SAFETY: getpid/gettid cannot fail.
        let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
        Log {
            role,
            pid,
            tid,
            calls: Vec::with_capacity(64),
        }
    }

    /// Makes a syscall and logs it; returns the raw result (-errno on failure).
    fn call(&mut self, nr: libc::c_long, args: &[u64]) -> i64 {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        // SAFETY: callers pass valid arguments.
        let ret = unsafe { syscord_tests::raw_syscall(nr, args) };
        assert!(
            self.calls.len() < self.calls.capacity(),
            "log room exhausted"
        );
        self.calls.push(Call {
            nr,
            args: a,
            argc: args.len(),
            ret,
        });
        ret
    }

    fn start(&mut self) {
        self.call(libc::SYS_close, &[(-1000 - self.role) as u64]);
    }

    fn end(&mut self) {
        self.call(libc::SYS_close, &[(-2000 - self.role) as u64]);
    }

    fn print(&self, name: &str) {
        let (pid, tid) = (self.pid, self.tid);
        let calls: Vec<_> = self
            .calls
            .iter()
            .map(|c| json!({"nr": c.nr, "args": &c.args[..c.argc], "ret": c.ret}))
            .collect();
        println!(
            "{}",
            json!({"role": name, "pid": pid, "tid": tid, "calls": calls})
        );
    }
}

fn ptr<T>(p: *const T) -> u64 {
    p as u64
}

/// Address of memory the kernel writes.
fn out<T>(p: &mut T) -> u64 {
    p as *mut T as u64
}

fn main_thread(log: &mut Log) {
    let exe: &CStr = c"/proc/self/exe";
    let missing: &CStr = c"/nonexistent/syscord-sequence";
    let mut buf = [0u8; 64];
    let mut fds = [0i32; 2];
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    let at_fdcwd = libc::AT_FDCWD as i64 as u64;

    log.start();
    log.call(libc::SYS_getpid, &[]);
    let fd = log.call(
        libc::SYS_openat,
        &[
            at_fdcwd,
            ptr(exe.as_ptr()),
            (libc::O_RDONLY | libc::O_CLOEXEC) as u64,
        ],
    );
    log.call(libc::SYS_read, &[fd as u64, ptr(buf.as_mut_ptr()), 64]);
    log.call(libc::SYS_lseek, &[fd as u64, 0, libc::SEEK_SET as u64]);
    log.call(
        libc::SYS_pread64,
        &[fd as u64, ptr(buf.as_mut_ptr()), 16, 4],
    );
    log.call(libc::SYS_close, &[fd as u64]);
    log.call(
        libc::SYS_openat,
        &[at_fdcwd, ptr(missing.as_ptr()), libc::O_RDONLY as u64],
    );
    log.call(
        libc::SYS_pipe2,
        &[ptr(fds.as_mut_ptr()), libc::O_CLOEXEC as u64],
    );
    let (r, w) = (fds[0] as u64, fds[1] as u64);
    log.call(libc::SYS_write, &[w, ptr(c"hello".as_ptr()), 5]);
    log.call(libc::SYS_read, &[r, ptr(buf.as_mut_ptr()), 5]);
    log.call(libc::SYS_close, &[r]);
    log.call(libc::SYS_close, &[w]);
    log.call(libc::SYS_getppid, &[]);
    log.call(libc::SYS_uname, &[out(&mut uts)]);
    log.end();
}

fn second_thread(log: &mut Log) {
    let mut cwd = [0u8; 256];
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    let nap = libc::timespec {
        tv_sec: 0,
        tv_nsec: 1000,
    };
    log.start();
    log.call(libc::SYS_gettid, &[]);
    log.call(libc::SYS_getcwd, &[ptr(cwd.as_mut_ptr()), cwd.len() as u64]);
    log.call(
        libc::SYS_clock_gettime,
        &[libc::CLOCK_MONOTONIC as u64, out(&mut ts)],
    );
    log.call(libc::SYS_nanosleep, &[ptr(&nap), 0]);
    log.call(libc::SYS_getuid, &[]);
    // a failure with an unusual errno
    log.call(libc::SYS_dup3, &[0, 0, 0]);
    log.end();
}

fn child(log: &mut Log) {
    let null: &CStr = c"/dev/null";
    let at_fdcwd = libc::AT_FDCWD as i64 as u64;
    log.start();
    log.call(libc::SYS_getpid, &[]);
    log.call(libc::SYS_getppid, &[]);
    let fd = log.call(
        libc::SYS_openat,
        &[at_fdcwd, ptr(null.as_ptr()), libc::O_WRONLY as u64],
    );
    log.call(libc::SYS_write, &[fd as u64, ptr(c"child".as_ptr()), 5]);
    log.call(libc::SYS_close, &[fd as u64]);
    log.end();
}

fn main() {
    let mut main_log = Log::new(MAIN);
    main_thread(&mut main_log);

    let worker = std::thread::spawn(|| {
        let mut log = Log::new(THREAD);
        second_thread(&mut log);
        log
    });
    let thread_log = worker.join().expect("second thread");

    // SAFETY: the process is single-threaded again (the worker was joined).
    match unsafe { libc::fork() } {
        0 => {
            let mut child_log = Log::new(CHILD);
            child(&mut child_log);
            child_log.print("child");
            std::process::exit(0);
        }
        pid if pid > 0 => {
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            assert_eq!(status, 0, "child failed");
        }
        _ => panic!("fork failed"),
    }
    main_log.print("main");
    thread_log.print("thread");
    print_text_mappings();
}

/// `{"text": [[start, end], ...]}`: the executable mappings (program, libc, vDSO), which
/// every syscall's return address must fall into.
fn print_text_mappings() {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    let ranges: Vec<[u64; 2]> = maps
        .lines()
        .filter(|l| l.split_whitespace().nth(1).is_some_and(|p| p.contains('x')))
        .filter_map(|l| {
            let (start, end) = l.split_whitespace().next()?.split_once('-')?;
            Some([
                u64::from_str_radix(start, 16).ok()?,
                u64::from_str_radix(end, 16).ok()?,
            ])
        })
        .collect();
    println!("{}", json!({ "text": ranges }));
}
