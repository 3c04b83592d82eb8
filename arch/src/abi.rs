//! Kernel ABI structs as syscord captures and decodes them: one declarative table per struct
//! and architecture (its size and the offset and width of each field syscord reads), and the
//! constants that differ between the architectures. Sizes are what the 64-bit kernel copies
//! to user memory. `tests/layouts.rs` compiles each table against the architecture's C
//! headers.

use crate::Arch;

/// A struct the kernel writes (or reads) in user memory, as far as syscord captures and
/// decodes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Struct {
    /// `struct stat` (fstat, newfstatat, stat, lstat).
    Stat,
    Statx,
    Statfs,
    Timespec,
    Timeval,
    Timezone,
    Itimerval,
    Itimerspec,
    Utsname,
    Rlimit,
    Rusage,
    Sysinfo,
    Tms,
    Timex,
    /// `struct epoll_event`: packed on x86_64.
    EpollEvent,
    Pollfd,
    /// The kernel's `sigset_t` for the rt_sig* calls.
    Sigset,
    Siginfo,
    /// The kernel's `struct sigaction` for rt_sigaction.
    Sigaction,
    /// `stack_t` (sigaltstack).
    Stack,
    SchedParam,
    /// `struct msghdr`.
    Msghdr,
    /// `struct mmsghdr`.
    Mmsghdr,
    /// `struct iovec`.
    Iovec,
    /// `struct sockaddr_storage`: the largest socket address.
    SockaddrStorage,
    /// `struct __user_cap_data_struct` times two (capability version 3).
    CapData,
    /// `struct open_how` (openat2).
    OpenHow,
    /// `struct rseq`.
    Rseq,
    /// `struct clone_args` (clone3), as far as its version 2.
    CloneArgs,
    /// `struct sched_attr`.
    SchedAttr,
    /// `struct mq_attr`.
    MqAttr,
    /// `struct io_event`.
    IoEvent,
    /// `struct robust_list_head`.
    RobustListHead,
    /// One `int` (getcpu, the uid getters, socklen_t, ...).
    Int,
    /// Two ints (pipe2, socketpair).
    IntPair,
    /// One `long`/pointer-sized value.
    Long,
    /// `struct file_handle` header (name_to_handle_at).
    FileHandle,
    /// `struct utimbuf`.
    Utimbuf,
    /// `struct ustat`.
    Ustat,
    /// `struct perf_event_attr` (its version-8 size).
    PerfEventAttr,
    /// `struct mount_attr`.
    MountAttr,
    /// `struct landlock_ruleset_attr`.
    LandlockRulesetAttr,
    /// `struct cachestat`.
    Cachestat,
    /// `struct futex_waitv`.
    FutexWaitv,
    /// `struct kexec_segment`.
    KexecSegment,
    /// `fd_set` (select): FD_SETSIZE bits.
    FdSet,
    /// `struct iocb` (io_submit).
    Iocb,
    /// `struct io_uring_params`.
    IoUringParams,
    /// `struct msqid64_ds` (msgctl).
    MsqidDs,
    /// `struct shmid64_ds` (shmctl).
    ShmidDs,
    /// `struct sembuf` (semop).
    Sembuf,
    /// `struct sigevent` (timer_create, mq_notify).
    Sigevent,
    /// The kernel's `struct termios` (TCGETS, TCSETS*).
    Termios,
    /// `struct winsize` (TIOCGWINSZ, TIOCSWINSZ).
    Winsize,
    /// `struct flock` (F_GETLK, F_SETLK, F_OFD_*).
    Flock,
    /// `struct f_owner_ex` (F_GETOWN_EX, F_SETOWN_EX).
    FOwnerEx,
    /// `struct ifreq` with the interface's name and index (SIOCGIFNAME, SIOCGIFINDEX).
    Ifreq,
    /// `struct ifreq` with its flags (SIOCGIFFLAGS).
    IfreqFlags,
    /// `struct ifreq` with its MTU (SIOCGIFMTU).
    IfreqMtu,
    /// `struct if_dqblk` (quotactl Q_GETQUOTA, Q_SETQUOTA).
    IfDqblk,
    /// `struct if_nextdqblk` (quotactl Q_GETNEXTQUOTA).
    IfNextdqblk,
    /// `struct if_dqinfo` (quotactl Q_GETINFO, Q_SETINFO).
    IfDqinfo,
    /// `struct keyctl_dh_params` (keyctl KEYCTL_DH_COMPUTE).
    KeyctlDhParams,
    /// `struct sock_fprog` (seccomp's filter).
    SockFprog,
    /// `struct landlock_path_beneath_attr` (packed).
    LandlockPathBeneathAttr,
    /// `struct riscv_hwprobe`.
    RiscvHwprobe,
    /// `struct xattr_args` (the *xattrat calls).
    XattrArgs,
    /// `struct mnt_id_req` (statmount, listmount).
    MntIdReq,
    /// `struct statmount`, what statmount writes.
    Statmount,
    /// `struct __aio_sigset` (io_pgetevents).
    AioSigset,
}

impl Struct {
    /// Every struct, for the checks that go through all of them.
    pub const ALL: &'static [Struct] = &[
        Struct::Stat,
        Struct::Statx,
        Struct::Statfs,
        Struct::Timespec,
        Struct::Timeval,
        Struct::Timezone,
        Struct::Itimerval,
        Struct::Itimerspec,
        Struct::Utsname,
        Struct::Rlimit,
        Struct::Rusage,
        Struct::Sysinfo,
        Struct::Tms,
        Struct::Timex,
        Struct::EpollEvent,
        Struct::Pollfd,
        Struct::Sigset,
        Struct::Siginfo,
        Struct::Sigaction,
        Struct::Stack,
        Struct::SchedParam,
        Struct::Msghdr,
        Struct::Mmsghdr,
        Struct::Iovec,
        Struct::SockaddrStorage,
        Struct::CapData,
        Struct::OpenHow,
        Struct::Rseq,
        Struct::CloneArgs,
        Struct::SchedAttr,
        Struct::MqAttr,
        Struct::IoEvent,
        Struct::RobustListHead,
        Struct::Int,
        Struct::IntPair,
        Struct::Long,
        Struct::FileHandle,
        Struct::Utimbuf,
        Struct::Ustat,
        Struct::PerfEventAttr,
        Struct::MountAttr,
        Struct::LandlockRulesetAttr,
        Struct::Cachestat,
        Struct::FutexWaitv,
        Struct::KexecSegment,
        Struct::FdSet,
        Struct::Iocb,
        Struct::IoUringParams,
        Struct::MsqidDs,
        Struct::ShmidDs,
        Struct::Sembuf,
        Struct::Sigevent,
        Struct::Termios,
        Struct::Winsize,
        Struct::Flock,
        Struct::FOwnerEx,
        Struct::Ifreq,
        Struct::IfreqFlags,
        Struct::IfreqMtu,
        Struct::IfDqblk,
        Struct::IfNextdqblk,
        Struct::IfDqinfo,
        Struct::KeyctlDhParams,
        Struct::SockFprog,
        Struct::LandlockPathBeneathAttr,
        Struct::RiscvHwprobe,
        Struct::XattrArgs,
        Struct::MntIdReq,
        Struct::Statmount,
        Struct::AioSigset,
    ];
}

/// One field of a struct: its C name (a member designator such as `it_value.tv_sec` or
/// `loads[1]`), offset and width in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub offset: u32,
    pub width: u32,
}

/// Where a struct's C definition comes from, for the check against each architecture's C
/// compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CSource {
    /// A type that `header` declares, as C names it (`struct stat`, `siginfo_t`).
    Header {
        header: &'static str,
        c_type: &'static str,
    },
    /// A kernel-internal layout no UAPI header declares: `definition` declares `c_type` from
    /// what `header` does declare (so the check still sees each architecture's macros and
    /// types).
    Defined {
        header: &'static str,
        c_type: &'static str,
        definition: &'static str,
    },
    /// Newer than the C headers of the cross compilers (Debian 12's, kernel 6.1), or sized by
    /// the version syscord reads rather than by a C type: unchecked, for the reason given.
    Unchecked(&'static str),
}

/// A struct's layout on one architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub size: u32,
    pub fields: &'static [Field],
    pub c: CSource,
}

impl Layout {
    /// The field called `name`, if the table lists it.
    pub fn field(&self, name: &str) -> Option<Field> {
        self.fields.iter().copied().find(|f| f.name == name)
    }

    /// The offset of `name`, at compile time where it is used in a constant (a missing field
    /// is then a build error).
    pub const fn offset_of(&self, name: &str) -> Option<u32> {
        let mut i = 0;
        while i < self.fields.len() {
            if str_eq(self.fields[i].name, name) {
                return Some(self.fields[i].offset);
            }
            i += 1;
        }
        None
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `name @ offset : width` field lists.
macro_rules! fields {
    ($($name:literal @ $offset:literal : $width:literal),* $(,)?) => {
        &[$(Field { name: $name, offset: $offset, width: $width }),*]
    };
}

/// A layout from a UAPI header.
macro_rules! uapi {
    ($header:literal, $c_type:literal, $size:literal $(, $($fields:tt)*)?) => {
        &Layout {
            size: $size,
            fields: fields!($($($fields)*)?),
            c: CSource::Header { header: $header, c_type: $c_type },
        }
    };
}

impl Struct {
    /// Bytes of the struct on `arch`.
    pub const fn size(self, arch: Arch) -> u32 {
        self.layout(arch).size
    }

    /// The offset of field `name` where it is the same on every architecture: for capture
    /// rules, which are architecture-independent constants. A field missing from the table,
    /// or placed differently somewhere, is a build error where the constant is used.
    pub const fn common_offset(self, name: &str) -> u16 {
        let mut offset = None;
        let mut i = 0;
        while i < Arch::ALL.len() {
            let here = self.layout(Arch::ALL[i]).offset_of(name);
            match (here, offset) {
                (None, _) => panic!("no such field in the struct's table"),
                (Some(a), Some(b)) if a != b => {
                    panic!("the field's offset differs by architecture")
                }
                _ => offset = here,
            }
            i += 1;
        }
        match offset {
            Some(o) => o as u16,
            None => panic!("no architectures"),
        }
    }

    /// The struct's layout on `arch`.
    pub const fn layout(self, arch: Arch) -> &'static Layout {
        let x86_64 = matches!(arch, Arch::X86_64);
        match self {
            Struct::Stat if x86_64 => uapi!("asm/stat.h", "struct stat", 144,
                "st_dev" @ 0: 8, "st_ino" @ 8: 8, "st_nlink" @ 16: 8, "st_mode" @ 24: 4,
                "st_uid" @ 28: 4, "st_gid" @ 32: 4, "st_rdev" @ 40: 8, "st_size" @ 48: 8,
                "st_blksize" @ 56: 8, "st_blocks" @ 64: 8, "st_atime" @ 72: 8,
                "st_atime_nsec" @ 80: 8, "st_mtime" @ 88: 8, "st_mtime_nsec" @ 96: 8,
                "st_ctime" @ 104: 8, "st_ctime_nsec" @ 112: 8),
            // arm64 and riscv64: the generic layout.
            Struct::Stat => uapi!("asm/stat.h", "struct stat", 128,
                "st_dev" @ 0: 8, "st_ino" @ 8: 8, "st_mode" @ 16: 4, "st_nlink" @ 20: 4,
                "st_uid" @ 24: 4, "st_gid" @ 28: 4, "st_rdev" @ 32: 8, "st_size" @ 48: 8,
                "st_blksize" @ 56: 4, "st_blocks" @ 64: 8, "st_atime" @ 72: 8,
                "st_atime_nsec" @ 80: 8, "st_mtime" @ 88: 8, "st_mtime_nsec" @ 96: 8,
                "st_ctime" @ 104: 8, "st_ctime_nsec" @ 112: 8),
            Struct::Statx => uapi!("linux/stat.h", "struct statx", 256,
                "stx_mask" @ 0: 4, "stx_blksize" @ 4: 4, "stx_attributes" @ 8: 8,
                "stx_nlink" @ 16: 4, "stx_uid" @ 20: 4, "stx_gid" @ 24: 4, "stx_mode" @ 28: 2,
                "stx_ino" @ 32: 8, "stx_size" @ 40: 8, "stx_blocks" @ 48: 8,
                "stx_mtime.tv_sec" @ 112: 8, "stx_mtime.tv_nsec" @ 120: 4),
            Struct::Statfs => uapi!("asm/statfs.h", "struct statfs", 120,
                "f_type" @ 0: 8, "f_bsize" @ 8: 8, "f_blocks" @ 16: 8, "f_bfree" @ 24: 8,
                "f_bavail" @ 32: 8, "f_files" @ 40: 8, "f_ffree" @ 48: 8, "f_fsid" @ 56: 8,
                "f_namelen" @ 64: 8, "f_frsize" @ 72: 8, "f_flags" @ 80: 8),
            Struct::Timespec => uapi!("linux/time_types.h", "struct __kernel_timespec", 16,
                "tv_sec" @ 0: 8, "tv_nsec" @ 8: 8),
            Struct::Timeval => uapi!("linux/time_types.h", "struct __kernel_old_timeval", 16,
                "tv_sec" @ 0: 8, "tv_usec" @ 8: 8),
            Struct::Timezone => uapi!("linux/time.h", "struct timezone", 8,
                "tz_minuteswest" @ 0: 4, "tz_dsttime" @ 4: 4),
            Struct::Itimerval => uapi!("linux/time_types.h", "struct __kernel_old_itimerval", 32,
                "it_interval.tv_sec" @ 0: 8, "it_interval.tv_usec" @ 8: 8,
                "it_value.tv_sec" @ 16: 8, "it_value.tv_usec" @ 24: 8),
            Struct::Itimerspec => uapi!("linux/time_types.h", "struct __kernel_itimerspec", 32,
                "it_interval.tv_sec" @ 0: 8, "it_interval.tv_nsec" @ 8: 8,
                "it_value.tv_sec" @ 16: 8, "it_value.tv_nsec" @ 24: 8),
            Struct::Utsname => uapi!("linux/utsname.h", "struct new_utsname", 390,
                "sysname" @ 0: 65, "nodename" @ 65: 65, "release" @ 130: 65,
                "version" @ 195: 65, "machine" @ 260: 65, "domainname" @ 325: 65),
            Struct::Rlimit => uapi!("linux/resource.h", "struct rlimit", 16,
                "rlim_cur" @ 0: 8, "rlim_max" @ 8: 8),
            Struct::Rusage => uapi!("linux/resource.h", "struct rusage", 144,
                "ru_utime.tv_sec" @ 0: 8, "ru_utime.tv_usec" @ 8: 8,
                "ru_stime.tv_sec" @ 16: 8, "ru_stime.tv_usec" @ 24: 8, "ru_maxrss" @ 32: 8,
                "ru_minflt" @ 64: 8, "ru_majflt" @ 72: 8, "ru_nvcsw" @ 128: 8,
                "ru_nivcsw" @ 136: 8),
            Struct::Sysinfo => uapi!("linux/sysinfo.h", "struct sysinfo", 112,
                "uptime" @ 0: 8, "loads[0]" @ 8: 8, "loads[1]" @ 16: 8, "loads[2]" @ 24: 8,
                "totalram" @ 32: 8, "freeram" @ 40: 8, "procs" @ 80: 2, "mem_unit" @ 104: 4),
            Struct::Tms => uapi!("linux/times.h", "struct tms", 32,
                "tms_utime" @ 0: 8, "tms_stime" @ 8: 8, "tms_cutime" @ 16: 8,
                "tms_cstime" @ 24: 8),
            Struct::Timex => uapi!("linux/timex.h", "struct __kernel_timex", 208,
                "modes" @ 0: 4, "offset" @ 8: 8, "freq" @ 16: 8, "status" @ 40: 4),
            // EPOLL_PACKED: x86_64 keeps the layout of its 32-bit ABI.
            Struct::EpollEvent if x86_64 => uapi!("linux/eventpoll.h", "struct epoll_event", 12,
                "events" @ 0: 4, "data" @ 4: 8),
            Struct::EpollEvent => uapi!("linux/eventpoll.h", "struct epoll_event", 16,
                "events" @ 0: 4, "data" @ 8: 8),
            Struct::Pollfd => uapi!("linux/poll.h", "struct pollfd", 8,
                "fd" @ 0: 4, "events" @ 4: 2, "revents" @ 6: 2),
            Struct::Sigset => uapi!("asm/signal.h", "sigset_t", 8),
            Struct::Siginfo => uapi!("asm/siginfo.h", "siginfo_t", 128,
                "si_signo" @ 0: 4, "si_errno" @ 4: 4, "si_code" @ 8: 4, "si_pid" @ 16: 4,
                "si_uid" @ 20: 4, "si_status" @ 24: 4, "si_utime" @ 32: 8, "si_stime" @ 40: 8,
                "si_int" @ 24: 4, "si_ptr" @ 24: 8, "si_tid" @ 16: 4, "si_overrun" @ 20: 4,
                "si_addr" @ 16: 8, "si_addr_lsb" @ 24: 2, "si_lower" @ 32: 8,
                "si_upper" @ 40: 8, "si_pkey" @ 32: 4, "si_band" @ 16: 8, "si_fd" @ 24: 4,
                "si_call_addr" @ 16: 8, "si_syscall" @ 24: 4, "si_arch" @ 28: 4),
            // The kernel's own struct (include/linux/signal_types.h), which rt_sigaction
            // copies; x86_64's UAPI header declares an older one. riscv64 has no sa_restorer.
            Struct::Sigaction if matches!(arch, Arch::Riscv64) => &Layout {
                size: 24,
                fields: fields!("sa_handler" @ 0: 8, "sa_flags" @ 8: 8, "sa_mask" @ 16: 8),
                c: KERNEL_SIGACTION,
            },
            Struct::Sigaction => &Layout {
                size: 32,
                fields: fields!("sa_handler" @ 0: 8, "sa_flags" @ 8: 8,
                    "sa_restorer" @ 16: 8, "sa_mask" @ 24: 8),
                c: KERNEL_SIGACTION,
            },
            Struct::Stack => uapi!("asm/signal.h", "stack_t", 24,
                "ss_sp" @ 0: 8, "ss_flags" @ 8: 4, "ss_size" @ 16: 8),
            Struct::SchedParam => uapi!("sched.h", "struct sched_param", 4,
                "sched_priority" @ 0: 4),
            // The kernel's user_msghdr is not in a UAPI header; the C library's msghdr has its
            // layout on 64-bit architectures.
            Struct::Msghdr => uapi!("sys/socket.h", "struct msghdr", 56,
                "msg_name" @ 0: 8, "msg_namelen" @ 8: 4, "msg_iov" @ 16: 8,
                "msg_iovlen" @ 24: 8, "msg_control" @ 32: 8, "msg_controllen" @ 40: 8,
                "msg_flags" @ 48: 4),
            Struct::Mmsghdr => uapi!("sys/socket.h", "struct mmsghdr", 64,
                "msg_hdr" @ 0: 56, "msg_len" @ 56: 4),
            Struct::Iovec => uapi!("linux/uio.h", "struct iovec", 16,
                "iov_base" @ 0: 8, "iov_len" @ 8: 8),
            Struct::SockaddrStorage => uapi!("linux/socket.h",
                "struct __kernel_sockaddr_storage", 128, "ss_family" @ 0: 2),
            // Version 3 passes two of them.
            Struct::CapData => &Layout {
                size: 24,
                fields: fields!("d[0].effective" @ 0: 4, "d[0].permitted" @ 4: 4,
                    "d[0].inheritable" @ 8: 4, "d[1].effective" @ 12: 4,
                    "d[1].permitted" @ 16: 4, "d[1].inheritable" @ 20: 4),
                c: CSource::Defined {
                    header: "linux/capability.h",
                    c_type: "struct cap_data_v3",
                    definition: "struct cap_data_v3 { struct __user_cap_data_struct d[2]; };",
                },
            },
            Struct::OpenHow => uapi!("linux/openat2.h", "struct open_how", 24,
                "flags" @ 0: 8, "mode" @ 8: 8, "resolve" @ 16: 8),
            Struct::Rseq => uapi!("linux/rseq.h", "struct rseq", 32,
                "cpu_id_start" @ 0: 4, "cpu_id" @ 4: 4, "rseq_cs" @ 8: 8, "flags" @ 16: 4),
            Struct::CloneArgs => &Layout {
                size: 88,
                fields: fields!("flags" @ 0: 8, "pidfd" @ 8: 8, "child_tid" @ 16: 8,
                    "parent_tid" @ 24: 8, "exit_signal" @ 32: 8, "stack" @ 40: 8,
                    "stack_size" @ 48: 8, "tls" @ 56: 8, "set_tid" @ 64: 8,
                    "set_tid_size" @ 72: 8, "cgroup" @ 80: 8),
                c: CSource::Header {
                    header: "linux/sched.h",
                    c_type: "struct clone_args",
                },
            },
            Struct::SchedAttr => uapi!("linux/sched/types.h", "struct sched_attr", 56,
                "size" @ 0: 4, "sched_policy" @ 4: 4, "sched_flags" @ 8: 8,
                "sched_nice" @ 16: 4, "sched_priority" @ 20: 4),
            Struct::MqAttr => uapi!("linux/mqueue.h", "struct mq_attr", 64,
                "mq_flags" @ 0: 8, "mq_maxmsg" @ 8: 8, "mq_msgsize" @ 16: 8,
                "mq_curmsgs" @ 24: 8),
            Struct::IoEvent => uapi!("linux/aio_abi.h", "struct io_event", 32,
                "data" @ 0: 8, "obj" @ 8: 8, "res" @ 16: 8, "res2" @ 24: 8),
            Struct::RobustListHead => uapi!("linux/futex.h", "struct robust_list_head", 24,
                "list" @ 0: 8, "futex_offset" @ 8: 8, "list_op_pending" @ 16: 8),
            // asm-generic/termbits.h, which x86_64's asm/termbits.h matches: NCCS is 19.
            Struct::Termios => uapi!("asm/termbits.h", "struct termios", 36,
                "c_iflag" @ 0: 4, "c_oflag" @ 4: 4, "c_cflag" @ 8: 4, "c_lflag" @ 12: 4,
                "c_line" @ 16: 1, "c_cc" @ 17: 19),
            Struct::Winsize => uapi!("asm/termios.h", "struct winsize", 8,
                "ws_row" @ 0: 2, "ws_col" @ 2: 2, "ws_xpixel" @ 4: 2, "ws_ypixel" @ 6: 2),
            Struct::Flock => uapi!("asm/fcntl.h", "struct flock", 32,
                "l_type" @ 0: 2, "l_whence" @ 2: 2, "l_start" @ 8: 8, "l_len" @ 16: 8,
                "l_pid" @ 24: 4),
            Struct::FOwnerEx => uapi!("asm/fcntl.h", "struct f_owner_ex", 8,
                "type" @ 0: 4, "pid" @ 4: 4),
            // One C struct, its union read by the request.
            Struct::Ifreq => uapi!("linux/if.h", "struct ifreq", 40,
                "ifr_name" @ 0: 16, "ifr_ifindex" @ 16: 4),
            Struct::IfreqFlags => uapi!("linux/if.h", "struct ifreq", 40,
                "ifr_name" @ 0: 16, "ifr_flags" @ 16: 2),
            Struct::IfreqMtu => uapi!("linux/if.h", "struct ifreq", 40,
                "ifr_name" @ 0: 16, "ifr_mtu" @ 16: 4),
            Struct::IfDqblk => uapi!("linux/quota.h", "struct if_dqblk", 72,
                "dqb_bhardlimit" @ 0: 8, "dqb_bsoftlimit" @ 8: 8, "dqb_curspace" @ 16: 8,
                "dqb_ihardlimit" @ 24: 8, "dqb_isoftlimit" @ 32: 8, "dqb_curinodes" @ 40: 8,
                "dqb_btime" @ 48: 8, "dqb_itime" @ 56: 8, "dqb_valid" @ 64: 4),
            Struct::IfNextdqblk => uapi!("linux/quota.h", "struct if_nextdqblk", 72,
                "dqb_bhardlimit" @ 0: 8, "dqb_bsoftlimit" @ 8: 8, "dqb_curspace" @ 16: 8,
                "dqb_ihardlimit" @ 24: 8, "dqb_isoftlimit" @ 32: 8, "dqb_curinodes" @ 40: 8,
                "dqb_btime" @ 48: 8, "dqb_itime" @ 56: 8, "dqb_valid" @ 64: 4,
                "dqb_id" @ 68: 4),
            Struct::IfDqinfo => uapi!("linux/quota.h", "struct if_dqinfo", 24,
                "dqi_bgrace" @ 0: 8, "dqi_igrace" @ 8: 8, "dqi_flags" @ 16: 4,
                "dqi_valid" @ 20: 4),
            Struct::KeyctlDhParams => uapi!("linux/keyctl.h", "struct keyctl_dh_params", 12,
                "private" @ 0: 4, "prime" @ 4: 4, "base" @ 8: 4),
            Struct::Int => uapi!("linux/types.h", "int", 4),
            Struct::IntPair => uapi!("linux/types.h", "int[2]", 8),
            Struct::Long => uapi!("linux/types.h", "long", 8),
            Struct::FileHandle => uapi!("fcntl.h", "struct file_handle", 8,
                "handle_bytes" @ 0: 4, "handle_type" @ 4: 4),
            Struct::Utimbuf => uapi!("linux/utime.h", "struct utimbuf", 16,
                "actime" @ 0: 8, "modtime" @ 8: 8),
            // include/linux/types.h, kernel-internal.
            Struct::Ustat => &Layout {
                size: 32,
                fields: fields!("f_tfree" @ 0: 4, "f_tinode" @ 8: 8, "f_fname" @ 16: 6,
                    "f_fpack" @ 22: 6),
                c: CSource::Defined {
                    header: "linux/posix_types.h",
                    c_type: "struct kernel_ustat",
                    definition: "struct kernel_ustat { __kernel_daddr_t f_tfree; \
                        unsigned long f_tinode; char f_fname[6]; char f_fpack[6]; };",
                },
            },
            // PERF_ATTR_SIZE_VER8 (kernel 6.3).
            Struct::PerfEventAttr => uapi!("linux/perf_event.h", "struct perf_event_attr", 136,
                "type" @ 0: 4, "size" @ 4: 4, "config" @ 8: 8),
            Struct::MountAttr => uapi!("linux/mount.h", "struct mount_attr", 32,
                "attr_set" @ 0: 8, "attr_clr" @ 8: 8, "propagation" @ 16: 8,
                "userns_fd" @ 24: 8),
            // With handled_access_net (kernel 6.7) and scoped (6.12).
            Struct::LandlockRulesetAttr => uapi!("linux/landlock.h",
                "struct landlock_ruleset_attr", 24,
                "handled_access_fs" @ 0: 8, "handled_access_net" @ 8: 8, "scoped" @ 16: 8),
            Struct::Cachestat => uapi!("linux/mman.h", "struct cachestat", 40,
                "nr_cache" @ 0: 8, "nr_dirty" @ 8: 8, "nr_writeback" @ 16: 8,
                "nr_evicted" @ 24: 8, "nr_recently_evicted" @ 32: 8),
            Struct::FutexWaitv => uapi!("linux/futex.h", "struct futex_waitv", 24,
                "val" @ 0: 8, "uaddr" @ 8: 8, "flags" @ 16: 4),
            Struct::KexecSegment => uapi!("linux/kexec.h", "struct kexec_segment", 32,
                "buf" @ 0: 8, "bufsz" @ 8: 8, "mem" @ 16: 8, "memsz" @ 24: 8),
            Struct::FdSet => uapi!("linux/posix_types.h", "__kernel_fd_set", 128),
            Struct::Iocb => uapi!("linux/aio_abi.h", "struct iocb", 64,
                "aio_data" @ 0: 8, "aio_lio_opcode" @ 16: 2, "aio_fildes" @ 20: 4,
                "aio_buf" @ 24: 8, "aio_nbytes" @ 32: 8, "aio_offset" @ 40: 8),
            Struct::IoUringParams => uapi!("linux/io_uring.h", "struct io_uring_params", 120,
                "sq_entries" @ 0: 4, "cq_entries" @ 4: 4, "flags" @ 8: 4),
            Struct::MsqidDs => uapi!("linux/msg.h", "struct msqid64_ds", 120),
            Struct::ShmidDs => uapi!("linux/shm.h", "struct shmid64_ds", 112),
            Struct::Sembuf => uapi!("linux/sem.h", "struct sembuf", 6,
                "sem_num" @ 0: 2, "sem_op" @ 2: 2, "sem_flg" @ 4: 2),
            Struct::Sigevent => uapi!("asm/siginfo.h", "sigevent_t", 64,
                "sigev_value" @ 0: 8, "sigev_signo" @ 8: 4, "sigev_notify" @ 12: 4),
            Struct::SockFprog => uapi!("linux/filter.h", "struct sock_fprog", 16,
                "len" @ 0: 2, "filter" @ 8: 8),
            Struct::LandlockPathBeneathAttr => uapi!("linux/landlock.h",
                "struct landlock_path_beneath_attr", 12,
                "allowed_access" @ 0: 8, "parent_fd" @ 8: 4),
            Struct::RiscvHwprobe if matches!(arch, Arch::Riscv64) => uapi!("asm/hwprobe.h",
                "struct riscv_hwprobe", 16, "key" @ 0: 8, "value" @ 8: 8),
            // The same numbers, for decoding on any architecture's reader.
            Struct::RiscvHwprobe => &Layout {
                size: 16,
                fields: fields!("key" @ 0: 8, "value" @ 8: 8),
                c: CSource::Unchecked("only riscv64's headers declare struct riscv_hwprobe"),
            },
            Struct::XattrArgs => &Layout {
                size: 16,
                fields: fields!("value" @ 0: 8, "size" @ 8: 4, "flags" @ 12: 4),
                c: CSource::Unchecked(
                    "struct xattr_args (kernel 6.13) is newer than Debian's headers (6.12)",
                ),
            },
            // MNT_ID_REQ_SIZE_VER1 (kernel 6.11); callers say which size they pass.
            Struct::MntIdReq => uapi!("linux/mount.h", "struct mnt_id_req", 32,
                "size" @ 0: 4, "mnt_ns_fd" @ 4: 4, "mnt_id" @ 8: 8, "param" @ 16: 8,
                "mnt_ns_id" @ 24: 8),
            // The fixed part before the strings; `size` says how much the kernel wrote.
            Struct::Statmount => uapi!("linux/mount.h", "struct statmount", 512,
                "size" @ 0: 4, "mask" @ 8: 8, "mnt_id" @ 40: 8, "mnt_parent_id" @ 48: 8),
            // fs/aio.c, kernel-internal.
            Struct::AioSigset => &Layout {
                size: 16,
                fields: fields!("sigmask" @ 0: 8, "sigsetsize" @ 8: 8),
                c: CSource::Defined {
                    header: "asm/signal.h",
                    c_type: "struct kernel_aio_sigset",
                    definition: "struct kernel_aio_sigset { const sigset_t *sigmask; \
                        __kernel_size_t sigsetsize; };",
                },
            },
        }
    }
}

/// The kernel's `struct sigaction`: sa_restorer where the architecture defines SA_RESTORER.
const KERNEL_SIGACTION: CSource = CSource::Defined {
    header: "asm/signal.h",
    c_type: "struct kernel_sigaction",
    definition: "struct kernel_sigaction { void *sa_handler; unsigned long sa_flags; \
        \n#ifdef SA_RESTORER\n void *sa_restorer;\n#endif\n sigset_t sa_mask; };",
};

impl Arch {
    /// `open(2)` flags whose values differ between architectures (arm64 swaps four of them
    /// around); the others are the same everywhere.
    pub const fn open_flags_specific(self) -> &'static [(u64, &'static str)] {
        match self {
            Arch::Aarch64 => &[
                (0o40000, "O_DIRECTORY"),
                (0o100000, "O_NOFOLLOW"),
                (0o200000, "O_DIRECT"),
                (0o400000, "O_LARGEFILE"),
            ],
            Arch::X86_64 | Arch::Riscv64 => &[
                (0o40000, "O_DIRECT"),
                (0o100000, "O_LARGEFILE"),
                (0o200000, "O_DIRECTORY"),
                (0o400000, "O_NOFOLLOW"),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_that_differ() {
        assert_eq!(Struct::Stat.size(Arch::X86_64), 144);
        assert_eq!(Struct::Stat.size(Arch::Aarch64), 128);
        assert_eq!(Struct::EpollEvent.size(Arch::X86_64), 12);
        assert_eq!(Struct::EpollEvent.size(Arch::Riscv64), 16);
        assert_eq!(Struct::Sigaction.size(Arch::Riscv64), 24);
    }

    #[test]
    fn fields_lie_inside_their_struct() {
        for arch in Arch::ALL {
            for &s in Struct::ALL {
                let layout = s.layout(arch);
                for f in layout.fields {
                    assert!(f.width > 0, "{s:?}.{} on {arch}", f.name);
                    assert!(
                        f.offset + f.width <= layout.size,
                        "{s:?}.{} on {arch}",
                        f.name
                    );
                }
            }
        }
    }

    #[test]
    fn common_offsets() {
        assert_eq!(Struct::Msghdr.common_offset("msg_iov"), 16);
        assert_eq!(Struct::CloneArgs.common_offset("parent_tid"), 24);
    }
}
