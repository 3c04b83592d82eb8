//! Kernel ABI structs whose size or layout differs between the architectures, and the
//! constants that differ too. Sizes are what the 64-bit kernel copies to user memory.

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
    /// `struct getcpu_cache`-free getcpu: one `unsigned int`.
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
}

impl Struct {
    /// Bytes of the struct on `arch`.
    pub const fn size(self, arch: Arch) -> u32 {
        let generic = !matches!(arch, Arch::X86_64);
        match self {
            Struct::Stat => {
                if generic {
                    128
                } else {
                    144
                }
            }
            Struct::Statx => 256,
            Struct::Statfs => 120,
            Struct::Timespec | Struct::Timeval | Struct::Rlimit | Struct::Iovec => 16,
            Struct::Timezone | Struct::Pollfd | Struct::Sigset | Struct::Long | Struct::IntPair => {
                8
            }
            Struct::Itimerval | Struct::Itimerspec | Struct::Tms | Struct::Rseq => 32,
            Struct::Utsname => 6 * 65,
            Struct::Rusage => 144,
            Struct::Sysinfo => 112,
            Struct::Timex => 208,
            Struct::EpollEvent => {
                if generic {
                    16
                } else {
                    12
                }
            }
            Struct::Siginfo => 128,
            // riscv64 has no sa_restorer
            Struct::Sigaction => match arch {
                Arch::Riscv64 => 24,
                _ => 32,
            },
            Struct::Stack => 24,
            Struct::SchedParam | Struct::Int => 4,
            Struct::Msghdr => 56,
            Struct::Mmsghdr => 64,
            Struct::SockaddrStorage => 128,
            Struct::CapData => 24,
            Struct::OpenHow => 24,
            Struct::CloneArgs => 88,
            Struct::SchedAttr => 56,
            Struct::MqAttr => 64,
            Struct::IoEvent => 32,
            Struct::RobustListHead => 24,
            Struct::FileHandle => 8,
            Struct::Utimbuf => 16,
            Struct::Ustat => 32,
            Struct::PerfEventAttr => 136,
            Struct::MountAttr => 32,
            Struct::LandlockRulesetAttr => 24,
            Struct::Cachestat => 40,
            Struct::FutexWaitv => 24,
            Struct::KexecSegment => 32,
        }
    }
}

/// Field offsets of `struct stat`: x86_64 has its own layout, arm64 and riscv64 share the
/// generic one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatLayout {
    pub dev: (usize, usize),
    pub ino: (usize, usize),
    pub mode: (usize, usize),
    pub nlink: (usize, usize),
    pub uid: (usize, usize),
    pub gid: (usize, usize),
    pub rdev: (usize, usize),
    pub size: (usize, usize),
    pub blksize: (usize, usize),
    pub blocks: (usize, usize),
    /// Seconds and nanoseconds fields follow one another, 8 bytes each.
    pub atime: usize,
    pub mtime: usize,
    pub ctime: usize,
}

impl Arch {
    /// (offset, width) of each `struct stat` field.
    pub const fn stat_layout(self) -> StatLayout {
        match self {
            Arch::X86_64 => StatLayout {
                dev: (0, 8),
                ino: (8, 8),
                nlink: (16, 8),
                mode: (24, 4),
                uid: (28, 4),
                gid: (32, 4),
                rdev: (40, 8),
                size: (48, 8),
                blksize: (56, 8),
                blocks: (64, 8),
                atime: 72,
                mtime: 88,
                ctime: 104,
            },
            Arch::Aarch64 | Arch::Riscv64 => StatLayout {
                dev: (0, 8),
                ino: (8, 8),
                mode: (16, 4),
                nlink: (20, 4),
                uid: (24, 4),
                gid: (28, 4),
                rdev: (32, 8),
                size: (48, 8),
                blksize: (56, 4),
                blocks: (64, 8),
                atime: 72,
                mtime: 88,
                ctime: 104,
            },
        }
    }

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

    /// On the machine running the tests, the sizes agree with the C library's.
    #[test]
    fn host_sizes_match_libc() {
        let arch = Arch::host().unwrap();
        assert_eq!(Struct::Stat.size(arch) as usize, size_of::<libc::stat>());
        assert_eq!(Struct::Statx.size(arch) as usize, size_of::<libc::statx>());
        assert_eq!(
            Struct::Statfs.size(arch) as usize,
            size_of::<libc::statfs>()
        );
        assert_eq!(
            Struct::Timespec.size(arch) as usize,
            size_of::<libc::timespec>()
        );
        assert_eq!(
            Struct::Utsname.size(arch) as usize,
            size_of::<libc::utsname>()
        );
        assert_eq!(
            Struct::Rusage.size(arch) as usize,
            size_of::<libc::rusage>()
        );
        assert_eq!(
            Struct::Sysinfo.size(arch) as usize,
            size_of::<libc::sysinfo>()
        );
        assert_eq!(Struct::Tms.size(arch) as usize, size_of::<libc::tms>());
        assert_eq!(Struct::Timex.size(arch) as usize, size_of::<libc::timex>());
        assert_eq!(
            Struct::EpollEvent.size(arch) as usize,
            size_of::<libc::epoll_event>()
        );
        assert_eq!(
            Struct::Pollfd.size(arch) as usize,
            size_of::<libc::pollfd>()
        );
        assert_eq!(
            Struct::Siginfo.size(arch) as usize,
            size_of::<libc::siginfo_t>()
        );
        assert_eq!(
            Struct::Stack.size(arch) as usize,
            size_of::<libc::stack_t>()
        );
        assert_eq!(
            Struct::Msghdr.size(arch) as usize,
            size_of::<libc::msghdr>()
        );
        assert_eq!(
            Struct::Mmsghdr.size(arch) as usize,
            size_of::<libc::mmsghdr>()
        );
        assert_eq!(
            Struct::SockaddrStorage.size(arch) as usize,
            size_of::<libc::sockaddr_storage>()
        );
        assert_eq!(
            Struct::Itimerspec.size(arch) as usize,
            size_of::<libc::itimerspec>()
        );
        assert_eq!(
            Struct::Rlimit.size(arch) as usize,
            size_of::<libc::rlimit>()
        );
        let st: libc::stat = unsafe { std::mem::zeroed() };
        let base = &st as *const _ as usize;
        let layout = arch.stat_layout();
        assert_eq!(&st.st_size as *const _ as usize - base, layout.size.0);
        assert_eq!(&st.st_mode as *const _ as usize - base, layout.mode.0);
        assert_eq!(&st.st_ino as *const _ as usize - base, layout.ino.0);
        assert_eq!(&st.st_mtime as *const _ as usize - base, layout.mtime);
    }
}
