//! The `syscalls` tracepoints of single syscalls (`syscalls:sys_enter_execve`): what syscord
//! hooks at a syscall's entry where the kernel refuses BPF trampolines. Their ids and
//! formats are in tracefs. Where tracefs is not mounted, a thread of syscord's mounts it in
//! a mount namespace of its own, reads them, and ends, taking the namespace with it: the
//! system's mounts do not change. The programs are attached through perf events by id.

use std::{
    fs, io,
    os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd},
    path::Path,
};

const TRACEFS: &str = "/sys/kernel/tracing";

/// A tracepoint of tracefs's `events/syscalls/`.
pub struct SyscallTracepoint {
    pub id: u64,
    /// Its `format` file.
    pub format: String,
}

/// The `syscalls:NAME` tracepoints for each of `names`, in order.
pub fn find(names: &[&str]) -> Result<Vec<SyscallTracepoint>, String> {
    let read_all = |root: &Path| -> io::Result<Vec<SyscallTracepoint>> {
        names
            .iter()
            .map(|name| {
                let dir = root.join("events/syscalls").join(name);
                let id = fs::read_to_string(dir.join("id"))?;
                Ok(SyscallTracepoint {
                    id: id.trim().parse().map_err(io::Error::other)?,
                    format: fs::read_to_string(dir.join("format"))?,
                })
            })
            .collect()
    };
    let root = Path::new(TRACEFS);
    if root.join("events").is_dir() {
        return read_all(root).map_err(|e| format!("{TRACEFS}: {e}"));
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("syscord-tracefs".into())
            .spawn_scoped(scope, || {
                // SAFETY: plain syscalls on this thread's own mount namespace (unsharing it
                // unshares the thread's file system attributes too, so the other threads keep
                // theirs).
                unsafe {
                    if libc::unshare(libc::CLONE_NEWNS) != 0 {
                        return Err(format!("unshare: {}", io::Error::last_os_error()));
                    }
                    let none = c"none";
                    if libc::mount(
                        none.as_ptr(),
                        c"/".as_ptr(),
                        std::ptr::null(),
                        libc::MS_REC | libc::MS_PRIVATE,
                        std::ptr::null(),
                    ) != 0
                    {
                        return Err(format!(
                            "a private mount namespace: {}",
                            io::Error::last_os_error()
                        ));
                    }
                    if libc::mount(
                        c"tracefs".as_ptr(),
                        c"/sys/kernel/tracing".as_ptr(),
                        c"tracefs".as_ptr(),
                        0,
                        std::ptr::null(),
                    ) != 0
                    {
                        return Err(format!("mounting tracefs: {}", io::Error::last_os_error()));
                    }
                }
                read_all(root).map_err(|e| format!("{TRACEFS} (mounted privately): {e}"))
            })
            .map_err(|e| format!("starting a thread: {e}"))?
            .join()
            .map_err(|_| "the tracefs thread panicked".to_owned())?
    })
}

/// The byte offset of field `name` in a tracepoint's records, from its format
/// (`field:const char *const * argv; offset:24; size:8; signed:0;`).
pub fn field_offset(format: &str, name: &str) -> Option<u32> {
    format.lines().find_map(|line| {
        let line = line.trim();
        let declaration = line.strip_prefix("field:")?.split(';').next()?;
        let field = declaration.rsplit([' ', '*']).next()?;
        if field != name {
            return None;
        }
        let offset = line.split("offset:").nth(1)?.split(';').next()?;
        offset.trim().parse().ok()
    })
}

/// Attaches the tracepoint program `program` to tracepoint `id`: it stays attached while
/// the returned perf event is open.
pub fn attach(program: BorrowedFd<'_>, id: u64) -> io::Result<OwnedFd> {
    const PERF_TYPE_TRACEPOINT: u64 = 2;
    const PERF_SAMPLE_RAW: u64 = 1 << 10;
    const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
    const PERF_EVENT_IOC_ENABLE: libc::Ioctl = 0x2400;
    const PERF_EVENT_IOC_SET_BPF: libc::Ioctl = 0x4004_2408;
    const ATTR_SIZE: u64 = 128;
    // struct perf_event_attr, as u64 words: type and size, config (the tracepoint), the
    // sample period, the sample type, the read format, the flags (enabled), then the
    // wakeup count.
    let mut attr = [0u64; ATTR_SIZE as usize / 8];
    attr[0] = PERF_TYPE_TRACEPOINT | (ATTR_SIZE << 32);
    attr[1] = id;
    attr[2] = 1;
    attr[3] = PERF_SAMPLE_RAW;
    attr[6] = 1;
    // SAFETY: a valid perf_event_attr for any process on CPU 0 (a tracepoint's BPF
    // program runs on every CPU).
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr.as_ptr(),
            -1,
            0,
            -1,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor perf_event_open just returned.
    let event = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // SAFETY: ioctls of that perf event, with a program descriptor.
    unsafe {
        if libc::ioctl(
            event.as_raw_fd(),
            PERF_EVENT_IOC_SET_BPF,
            program.as_raw_fd(),
        ) != 0
            || libc::ioctl(event.as_raw_fd(), PERF_EVENT_IOC_ENABLE, 0) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_offsets_come_from_the_format() {
        let format = "name: sys_enter_execve\nID: 777\nformat:\n\
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
            \tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
            \tfield:const char * filename;\toffset:16;\tsize:8;\tsigned:0;\n\
            \tfield:const char *const * argv;\toffset:24;\tsize:8;\tsigned:0;\n\
            \tfield:const char *const * envp;\toffset:32;\tsize:8;\tsigned:0;\n";
        assert_eq!(field_offset(format, "argv"), Some(24));
        assert_eq!(field_offset(format, "filename"), Some(16));
        assert_eq!(field_offset(format, "__syscall_nr"), Some(8));
        assert_eq!(field_offset(format, "argp"), None);
    }
}
