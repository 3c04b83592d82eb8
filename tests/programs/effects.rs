//! Syscalls whose effects syscord captures, with what the program itself saw.
//!
//! Between two marker calls (`close(-1099)` and `close(-2099)`) it makes its calls through
//! `syscall(2)` directly, then prints one JSON line per call:
//! `{"nr", "ret", "data": {"<capture name>": "<hex of what the program saw>"}}`.
//! The test compares those bytes with what the recording captured.
//!
//! Usage: `sc-effects DIR` (a writable directory for its files).

use std::{ffi::CString, fmt::Write as _, os::unix::ffi::OsStrExt};

use serde_json::json;

struct Call {
    nr: libc::c_long,
    ret: i64,
    /// (capture name, range in `Log::seen`)
    data: [Option<(&'static str, usize, usize)>; 2],
}

/// Nothing here allocates between the markers (musl's allocator would mmap): the room for
/// the calls and the bytes they saw is reserved up front.
struct Log {
    calls: Vec<Call>,
    seen: Vec<u8>,
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl Log {
    fn call(&mut self, nr: libc::c_long, args: &[u64]) -> i64 {
        // SAFETY: callers pass valid arguments.
        let ret = unsafe { syscord_tests::raw_syscall(nr, args) };
        assert!(
            self.calls.len() < self.calls.capacity(),
            "log room exhausted"
        );
        self.calls.push(Call {
            nr,
            ret,
            data: [None, None],
        });
        ret
    }

    /// Notes what the program sees in `bytes` after the last call, under a capture's name.
    fn saw(&mut self, name: &'static str, bytes: &[u8]) {
        assert!(
            self.seen.len() + bytes.len() <= self.seen.capacity(),
            "log room exhausted"
        );
        let start = self.seen.len();
        self.seen.extend_from_slice(bytes);
        let call = self.calls.last_mut().expect("a call");
        let slot = call
            .data
            .iter_mut()
            .find(|d| d.is_none())
            .expect("two captures at most");
        *slot = Some((name, start, self.seen.len()));
    }
}

fn ptr<T>(p: *const T) -> u64 {
    p as u64
}

fn out<T>(p: &mut T) -> u64 {
    p as *mut T as u64
}

fn bytes_of<T>(v: &T) -> &[u8] {
    // SAFETY: viewing a plain C struct as bytes.
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, size_of::<T>()) }
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: sc-effects DIR");
    let path = std::path::Path::new(&dir).join("effects.data");
    // Every byte value, so escaping and hex both get exercised.
    let content: Vec<u8> = (0..600u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&path, &content).expect("write the data file");
    let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
    let missing = c"/nonexistent/syscord-effects";

    // Everything the calls use, allocated before the markers.
    let mut log = Log {
        calls: Vec::with_capacity(64),
        seen: Vec::with_capacity(64 * 1024),
    };
    let mut buf = vec![0u8; 4096];
    let mut small = [0u8; 128];
    let mut random = [0u8; 32];
    let mut iov_a = [0u8; 30];
    let mut iov_b = [0u8; 50];
    let iov = [
        libc::iovec {
            iov_base: iov_a.as_mut_ptr().cast(),
            iov_len: iov_a.len(),
        },
        libc::iovec {
            iov_base: iov_b.as_mut_ptr().cast(),
            iov_len: iov_b.len(),
        },
    ];
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    let mut fds = [0i32; 2];
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    let mut peer: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut peer_len: libc::socklen_t = size_of::<libc::sockaddr_in>() as u32;
    let mut bound: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut bound_len: libc::socklen_t = size_of::<libc::sockaddr_in>() as u32;
    let mut from: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut from_len: libc::socklen_t = size_of::<libc::sockaddr_in>() as u32;
    let loopback = libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from_be_bytes([127, 0, 0, 1]).to_be(),
        },
        sin_zero: [0; 8],
    };
    let at_fdcwd = libc::AT_FDCWD as i64 as u64;
    let sin_len = size_of::<libc::sockaddr_in>() as u64;

    log.call(libc::SYS_close, &[(-1099i64) as u64]);

    // file content: read (longer than the default snap length), pread, readv
    let fd = log.call(
        libc::SYS_openat,
        &[at_fdcwd, ptr(c_path.as_ptr()), libc::O_RDONLY as u64],
    ) as u64;
    let n = log.call(libc::SYS_read, &[fd, ptr(buf.as_mut_ptr()), 400]) as usize;
    log.saw("buf", &buf[..n]);
    let n = log.call(libc::SYS_pread64, &[fd, ptr(buf.as_mut_ptr()), 100, 50]) as usize;
    log.saw("buf", &buf[..n]);
    log.call(libc::SYS_lseek, &[fd, 10, libc::SEEK_SET as u64]);
    let n = log.call(libc::SYS_readv, &[fd, ptr(iov.as_ptr()), 2]) as usize;
    let mut gathered = [0u8; 80];
    gathered[..30].copy_from_slice(&iov_a);
    gathered[30..].copy_from_slice(&iov_b);
    log.saw("iov", &gathered[..n]);

    // structs the kernel fills in
    log.call(libc::SYS_fstat, &[fd, out(&mut st)]);
    log.saw("statbuf", bytes_of(&st));
    log.call(
        libc::SYS_statx,
        &[
            at_fdcwd,
            ptr(c_path.as_ptr()),
            0,
            libc::STATX_ALL as u64,
            out(&mut stx),
        ],
    );
    log.saw("statxbuf", bytes_of(&stx));
    log.call(libc::SYS_close, &[fd]);
    log.call(
        libc::SYS_getrandom,
        &[ptr(random.as_mut_ptr()), random.len() as u64, 0],
    );
    log.saw("buf", &random);
    log.call(
        libc::SYS_pipe2,
        &[ptr(fds.as_mut_ptr()), libc::O_CLOEXEC as u64],
    );
    log.saw("pipefd", bytes_of(&fds));
    log.call(
        libc::SYS_clock_gettime,
        &[libc::CLOCK_REALTIME as u64, out(&mut ts)],
    );
    log.saw("tp", bytes_of(&ts));
    let n = log.call(libc::SYS_getcwd, &[ptr(buf.as_mut_ptr()), buf.len() as u64]) as usize;
    log.saw("buf", &buf[..n]);

    // a socket: the peer address accept4 reports, the data recvfrom gets
    let listener = log.call(
        libc::SYS_socket,
        &[libc::AF_INET as u64, libc::SOCK_STREAM as u64, 0],
    ) as u64;
    log.call(libc::SYS_bind, &[listener, ptr(&loopback), sin_len]);
    log.call(libc::SYS_listen, &[listener, 1]);
    log.call(
        libc::SYS_getsockname,
        &[listener, out(&mut bound), out(&mut bound_len)],
    );
    log.saw("addr", &bytes_of(&bound)[..bound_len as usize]);
    let client = log.call(
        libc::SYS_socket,
        &[libc::AF_INET as u64, libc::SOCK_STREAM as u64, 0],
    ) as u64;
    let connected = log.call(libc::SYS_connect, &[client, ptr(&bound), sin_len]);
    // accept4 would wait forever (no loopback interface?): stop here instead.
    assert_eq!(connected, 0, "connect to the loopback listener failed");
    let conn = log.call(
        libc::SYS_accept4,
        &[
            listener,
            out(&mut peer),
            out(&mut peer_len),
            libc::SOCK_CLOEXEC as u64,
        ],
    ) as u64;
    log.saw("addr", &bytes_of(&peer)[..peer_len as usize]);
    log.call(libc::SYS_write, &[client, ptr(c"ping".as_ptr()), 4]);
    log.saw("buf", b"ping");
    let n = log.call(
        libc::SYS_recvfrom,
        &[
            conn,
            ptr(small.as_mut_ptr()),
            small.len() as u64,
            0,
            out(&mut from),
            out(&mut from_len),
        ],
    ) as usize;
    log.saw("buf", &small[..n]);
    for fd in [conn, client, listener, fds[0] as u64, fds[1] as u64] {
        log.call(libc::SYS_close, &[fd]);
    }

    // failures: the errno, and no content
    log.call(libc::SYS_read, &[9999, ptr(buf.as_mut_ptr()), 10]);
    log.call(
        libc::SYS_openat,
        &[at_fdcwd, ptr(missing.as_ptr()), libc::O_RDONLY as u64],
    );

    log.call(libc::SYS_close, &[(-2099i64) as u64]);

    for c in &log.calls {
        let data: serde_json::Map<String, serde_json::Value> = c
            .data
            .iter()
            .flatten()
            .map(|&(name, start, end)| (name.to_owned(), json!(hex(&log.seen[start..end]))))
            .collect();
        println!("{}", json!({"nr": c.nr, "ret": c.ret, "data": data}));
    }
}
