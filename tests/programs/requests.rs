//! Calls whose effect depends on a request argument (ioctl, fcntl, prctl, keyctl, bpf,
//! quotactl), on a pty, a locked file, a socket, a key, a BPF map and a device without
//! quotas, with what the program itself saw, in sc-effects' format:
//! between `close(-1099)` and `close(-2099)` its calls go through `syscall(2)`, then it
//! prints one line per call, `{"nr", "ret", "data": {"<capture name>": "<hex>"}}`, the
//! capture named as syscord names a request's (`TIOCGWINSZ.argp`).
//!
//! It forks: the parent holds a write lock on FILE's first byte and waits; the child, in a
//! session of its own with the pty as its controlling terminal, makes the calls.
//!
//! Usage: `sc-requests FILE` (a file it may create).

use std::{ffi::CString, fmt::Write as _};

use serde_json::json;

const TIOCSWINSZ: u64 = 0x5414;
const TIOCGWINSZ: u64 = 0x5413;
const TCGETS: u64 = 0x5401;
const TIOCSCTTY: u64 = 0x540e;
const TIOCGPGRP: u64 = 0x540f;
const TIOCGSID: u64 = 0x5429;
const TIOCGPTN: u64 = 0x8004_5430;
const FIONREAD: u64 = 0x541b;
const SIOCGIFINDEX: u64 = 0x8933;
const SIOCGIFNAME: u64 = 0x8910;
const SIOCGIFFLAGS: u64 = 0x8913;
const SIOCGIFMTU: u64 = 0x8921;
const F_GETLK: u64 = 5;
const F_SETOWN_EX: u64 = 15;
const F_GETOWN_EX: u64 = 16;
const F_OFD_GETLK: u64 = 36;
const PR_SET_PDEATHSIG: u64 = 1;
const PR_GET_PDEATHSIG: u64 = 2;
const PR_GET_NAME: u64 = 16;
const KEYCTL_DESCRIBE: u64 = 6;
const KEYCTL_READ: u64 = 11;
const KEY_SPEC_PROCESS_KEYRING: i64 = -2;
const BPF_MAP_CREATE: u64 = 0;
const BPF_OBJ_GET_INFO_BY_FD: u64 = 15;
const BPF_MAP_TYPE_ARRAY: u32 = 2;
/// QCMD(Q_SETQUOTA, GRPQUOTA) and QCMD(Q_SETINFO, PRJQUOTA).
const Q_SETQUOTA_GRP: u64 = 0x80_0008 << 8 | 1;
const Q_SETINFO_PRJ: u64 = 0x80_0006 << 8 | 2;

struct Call {
    nr: libc::c_long,
    ret: i64,
    /// (capture name, the memory the call left it in, its length)
    data: Option<(&'static str, *const u8, usize)>,
}

/// Room reserved up front: nothing allocates between the markers (musl's allocator would
/// mmap, a call the log would not have).
struct Log {
    calls: Vec<Call>,
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
            data: None,
        });
        ret
    }

    /// Notes where the last call left capture `name`: read after the end marker, each
    /// buffer being written by one call only.
    fn saw(&mut self, name: &'static str, bytes: *const u8, len: usize) {
        self.calls.last_mut().expect("a call").data = Some((name, bytes, len));
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Memory the kernel reads.
fn input<T>(value: &T) -> u64 {
    value as *const T as u64
}

/// Memory the kernel writes.
fn output<T>(value: &mut T) -> u64 {
    value as *mut T as u64
}

fn main() {
    let file = std::env::args().nth(1).expect("usage: sc-requests FILE");
    let c_file = CString::new(file).unwrap();
    // SAFETY: plain syscalls on our own file; the lock is the parent's.
    let fd = unsafe { libc::open(c_file.as_ptr(), libc::O_RDWR | libc::O_CREAT, 0o600) };
    assert!(fd >= 0, "open failed");
    let lock = libc::flock {
        l_type: libc::F_WRLCK as i16,
        l_whence: libc::SEEK_SET as i16,
        l_start: 0,
        l_len: 1,
        l_pid: 0,
    };
    // SAFETY: a valid flock.
    assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETLK, &lock) }, 0);
    // SAFETY: single-threaded; the child makes syscalls only, then exits.
    let child = unsafe { libc::fork() };
    if child != 0 {
        let mut status = 0;
        // SAFETY: waits for the child.
        unsafe { libc::waitpid(child, &mut status, 0) };
        std::process::exit(if status == 0 { 0 } else { 1 });
    }
    let mut log = Log {
        calls: Vec::with_capacity(64),
    };
    let (mut master, mut slave) = (0, 0);
    // SAFETY: valid pointers; the child becomes a session leader with the pty as its
    // controlling terminal, and the pty holds a line to read.
    let sock = unsafe {
        assert!(libc::setsid() > 0);
        assert_eq!(
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null()
            ),
            0
        );
        assert_eq!(libc::ioctl(slave, TIOCSCTTY as _, 0), 0);
        assert_eq!(libc::write(master, b"hello\n".as_ptr().cast(), 6), 6);
        let mut ready = libc::pollfd {
            fd: slave,
            events: libc::POLLIN,
            revents: 0,
        };
        assert_eq!(libc::poll(&mut ready, 1, 5000), 1);
        libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0)
    };
    let (master, slave, sock, fd) = (master as u64, slave as u64, sock as u64, fd as u64);
    let mut ws = [0u16; 4];
    let set_ws: [u16; 4] = [24, 80, 640, 480];
    let mut termios = [0u8; 64];
    let mut int = [0i32; 1];
    let mut pgrp = [0i32; 1];
    let mut sid = [0i32; 1];
    let mut ptn = [0u32; 1];
    let mut name = [0u8; 16];
    let mut sig = [0i32; 1];
    let mut owner = [0i32; 2];
    let set_owner: [i32; 2] = [1, 0]; // F_OWNER_PID, filled below
    let mut flock = [0u8; 32];
    let mut ofd_flock = [0u8; 32];
    let mut ifr_index = [0u8; 40];
    let mut ifr_name = [0u8; 40];
    let mut ifr_flags = [0u8; 40];
    let mut ifr_mtu = [0u8; 40];
    for ifr in [&mut ifr_index, &mut ifr_flags, &mut ifr_mtu] {
        ifr[..2].copy_from_slice(b"lo");
    }
    // The lock to ask about: a write lock on the parent's byte.
    let mut query = [0u8; 32];
    query[..2].copy_from_slice(&(libc::F_WRLCK as i16).to_le_bytes());
    query[16..24].copy_from_slice(&1i64.to_le_bytes());
    flock.copy_from_slice(&query);
    ofd_flock.copy_from_slice(&query);
    // SAFETY: a plain syscall.
    let me = unsafe { libc::getpid() };
    let set_owner = [set_owner[0], me];
    // A key with a 16-byte payload, read back into 8 bytes: keyctl returns the whole size.
    let payload = *b"0123456789abcdef";
    // SAFETY: valid strings and buffer.
    let key = unsafe {
        syscord_tests::raw_syscall(
            libc::SYS_add_key,
            &[
                input(b"user\0"),
                input(b"syscord-test\0"),
                input(&payload),
                16,
                KEY_SPEC_PROCESS_KEYRING as u64,
            ],
        )
    };
    assert!(key > 0, "add_key: {key}");
    let key = key as u64;
    let mut description = [0u8; 128];
    let mut key_start = [0u8; 8];
    let mut key_payload = [0u8; 32];
    // A one-entry array map, and room for its bpf_map_info (the kernel says how much it
    // wrote in info_len).
    let mut map_attr = [0u32; 5];
    map_attr[..4].copy_from_slice(&[BPF_MAP_TYPE_ARRAY, 4, 8, 1]);
    // SAFETY: a valid bpf_attr of 20 bytes.
    let map = unsafe {
        syscord_tests::raw_syscall(libc::SYS_bpf, &[BPF_MAP_CREATE, input(&map_attr), 20])
    };
    assert!(map >= 0, "BPF_MAP_CREATE: {map}");
    let mut map_info = [0u8; 128];
    #[repr(C)]
    struct InfoAttr {
        bpf_fd: u32,
        info_len: u32,
        info: u64,
    }
    let mut info_attr = InfoAttr {
        bpf_fd: map as u32,
        info_len: 128,
        info: output(&mut map_info),
    };
    // Quota changes on a device without quotas: they fail, and the structs they would have
    // set are captured (a failed write-status call shows its inputs).
    let special = c"/dev/null";
    let mut set_dqblk = [0u8; 72];
    for (i, limit) in set_dqblk[..64].chunks_mut(8).enumerate() {
        limit.copy_from_slice(&(i as u64 + 1).to_le_bytes());
    }
    set_dqblk[64..68].copy_from_slice(&0x3fu32.to_le_bytes());
    let mut set_dqinfo = [0u8; 24];
    set_dqinfo[..8].copy_from_slice(&604_800u64.to_le_bytes());
    set_dqinfo[8..16].copy_from_slice(&86_400u64.to_le_bytes());
    set_dqinfo[20..24].copy_from_slice(&3u32.to_le_bytes());

    log.call(libc::SYS_close, &[(-1099i64) as u64]);
    log.call(libc::SYS_ioctl, &[slave, TIOCSWINSZ, input(&set_ws)]);
    log.call(libc::SYS_ioctl, &[slave, TIOCGWINSZ, output(&mut ws)]);
    log.saw("TIOCGWINSZ.argp", ws.as_ptr().cast(), 8);
    log.call(libc::SYS_ioctl, &[slave, TCGETS, output(&mut termios)]);
    log.saw("TCGETS.argp", termios.as_ptr(), 36);
    log.call(libc::SYS_ioctl, &[slave, FIONREAD, output(&mut int)]);
    log.saw("FIONREAD.argp", int.as_ptr().cast(), 4);
    log.call(libc::SYS_ioctl, &[slave, TIOCGPGRP, output(&mut pgrp)]);
    log.saw("TIOCGPGRP.argp", pgrp.as_ptr().cast(), 4);
    log.call(libc::SYS_ioctl, &[slave, TIOCGSID, output(&mut sid)]);
    log.saw("TIOCGSID.argp", sid.as_ptr().cast(), 4);
    log.call(libc::SYS_ioctl, &[master, TIOCGPTN, output(&mut ptn)]);
    log.saw("TIOCGPTN.argp", ptn.as_ptr().cast(), 4);
    log.call(
        libc::SYS_ioctl,
        &[sock, SIOCGIFINDEX, output(&mut ifr_index)],
    );
    log.saw("SIOCGIFINDEX.argp", ifr_index.as_ptr(), 40);
    ifr_name[16..20].copy_from_slice(&ifr_index[16..20]);
    log.call(libc::SYS_ioctl, &[sock, SIOCGIFNAME, output(&mut ifr_name)]);
    log.saw("SIOCGIFNAME.argp", ifr_name.as_ptr(), 40);
    log.call(
        libc::SYS_ioctl,
        &[sock, SIOCGIFFLAGS, output(&mut ifr_flags)],
    );
    log.saw("SIOCGIFFLAGS.argp", ifr_flags.as_ptr(), 40);
    log.call(libc::SYS_ioctl, &[sock, SIOCGIFMTU, output(&mut ifr_mtu)]);
    log.saw("SIOCGIFMTU.argp", ifr_mtu.as_ptr(), 40);
    log.call(libc::SYS_fcntl, &[fd, F_GETLK, output(&mut flock)]);
    log.saw("F_GETLK.arg", flock.as_ptr(), 32);
    log.call(libc::SYS_fcntl, &[fd, F_OFD_GETLK, output(&mut ofd_flock)]);
    log.saw("F_OFD_GETLK.arg", ofd_flock.as_ptr(), 32);
    log.call(libc::SYS_fcntl, &[fd, F_SETOWN_EX, input(&set_owner)]);
    log.call(libc::SYS_fcntl, &[fd, F_GETOWN_EX, output(&mut owner)]);
    log.saw("F_GETOWN_EX.arg", owner.as_ptr().cast(), 8);
    log.call(libc::SYS_prctl, &[PR_GET_NAME, output(&mut name)]);
    log.saw("PR_GET_NAME.arg2", name.as_ptr(), 16);
    log.call(libc::SYS_prctl, &[PR_SET_PDEATHSIG, libc::SIGHUP as u64]);
    log.call(libc::SYS_prctl, &[PR_GET_PDEATHSIG, output(&mut sig)]);
    log.saw("PR_GET_PDEATHSIG.arg2", sig.as_ptr().cast(), 4);
    let ret = log.call(
        libc::SYS_keyctl,
        &[KEYCTL_DESCRIBE, key, output(&mut description), 128],
    );
    log.saw(
        "KEYCTL_DESCRIBE.arg3",
        description.as_ptr(),
        (ret as usize).min(128),
    );
    // Too small: nothing is copied, the size is returned.
    log.call(
        libc::SYS_keyctl,
        &[KEYCTL_READ, key, output(&mut key_start), 8],
    );
    log.call(
        libc::SYS_keyctl,
        &[KEYCTL_READ, key, output(&mut key_payload), 32],
    );
    log.saw("KEYCTL_READ.arg3", key_payload.as_ptr(), 16);
    log.call(
        libc::SYS_bpf,
        &[BPF_OBJ_GET_INFO_BY_FD, output(&mut info_attr), 16],
    );
    // Read after the end marker, as the other buffers: info_len says how much was written.
    let info_len = &info_attr.info_len as *const u32;
    log.saw("BPF_OBJ_GET_INFO_BY_FD.info", map_info.as_ptr(), 0);
    log.call(
        libc::SYS_quotactl,
        &[
            Q_SETQUOTA_GRP,
            special.as_ptr() as u64,
            1000,
            input(&set_dqblk),
        ],
    );
    log.saw("QCMD(Q_SETQUOTA, GRPQUOTA).addr", set_dqblk.as_ptr(), 72);
    log.call(
        libc::SYS_quotactl,
        &[
            Q_SETINFO_PRJ,
            special.as_ptr() as u64,
            0,
            input(&set_dqinfo),
        ],
    );
    log.saw("QCMD(Q_SETINFO, PRJQUOTA).addr", set_dqinfo.as_ptr(), 24);
    log.call(libc::SYS_close, &[(-2099i64) as u64]);
    // SAFETY: written by the kernel before the end marker.
    let info_len = unsafe { *info_len } as usize;
    for c in &mut log.calls {
        if let Some((name, bytes, _)) = c.data
            && name == "BPF_OBJ_GET_INFO_BY_FD.info"
        {
            c.data = Some((name, bytes, info_len));
        }
    }

    for c in &log.calls {
        let mut data = serde_json::Map::new();
        if let Some((name, bytes, len)) = c.data {
            // SAFETY: a buffer of main's, `len` long, alive until main returns.
            let bytes = unsafe { std::slice::from_raw_parts(bytes, len) };
            data.insert(name.to_owned(), json!(hex(bytes)));
        }
        println!("{}", json!({"nr": c.nr, "ret": c.ret, "data": data}));
    }
    // The pty and the descriptors go with the process.
    let _ = (master, slave);
}
