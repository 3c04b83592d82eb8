//! Starting the recorded command so that recording is active before its execve.
//!
//! The child is forked and parked on a pipe; the recorder arms it in the kernel, then lets it
//! go. `std::process::Command` cannot do this: its `spawn` only returns once the child has
//! exec'd, and by then the execve is over.

use std::{
    env,
    ffi::{CString, OsStr},
    io,
    os::{
        fd::{AsRawFd, OwnedFd},
        unix::ffi::OsStrExt,
    },
    path::{Path, PathBuf},
};

use nix::{
    fcntl::OFlag,
    sys::wait::{WaitStatus, waitpid},
    unistd::{AccessFlags, ForkResult, Pid, access, fork, pipe2},
};

use crate::error::{Error, Result};

/// A forked child waiting for [`Paused::release`] before it execs the command.
pub struct Paused {
    pid: Pid,
    command: String,
    go: OwnedFd,
    exec_error: OwnedFd,
}

/// Finds `program` like a shell does: as a path if it has a slash, else in `$PATH`.
pub fn resolve(program: &str) -> Result<PathBuf> {
    let executable = |p: &Path| p.is_file() && access(p, AccessFlags::X_OK).is_ok();
    if program.contains('/') {
        let path = PathBuf::from(program);
        if !path.exists() {
            return Err(Error::CommandNotFound(program.to_owned()));
        }
        return Ok(path);
    }
    let search = env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    env::split_paths(&search)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
        .ok_or_else(|| Error::CommandNotFound(program.to_owned()))
}

fn cstring(s: &OsStr) -> Result<CString> {
    CString::new(s.as_bytes())
        .map_err(|_| Error::Usage(format!("argument contains a NUL byte: {s:?}")))
}

impl Paused {
    /// Forks a child that will exec `argv` once released.
    pub fn spawn(argv: &[String]) -> Result<Paused> {
        let program = argv
            .first()
            .ok_or_else(|| Error::Usage("no command given after --".into()))?;
        let path = resolve(program)?;
        // Everything the child needs is allocated before fork: after it, only
        // async-signal-safe calls.
        let c_path = cstring(path.as_os_str())?;
        let c_argv = argv
            .iter()
            .map(|a| cstring(OsStr::new(a)))
            .collect::<Result<Vec<_>>>()?;
        let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
        let (err_read, err_write) = pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;

        // SAFETY: the child only calls async-signal-safe functions (read, write, execv, _exit)
        // on memory prepared above.
        match unsafe { fork() }.map_err(io::Error::from)? {
            ForkResult::Child => {
                drop(go_write);
                drop(err_read);
                let mut byte = [0u8; 1];
                // SAFETY: raw read/write/_exit on valid fds; no allocation.
                unsafe {
                    if libc::read(go_read.as_raw_fd(), byte.as_mut_ptr().cast(), 1) != 1 {
                        // The recorder went away before starting us.
                        libc::_exit(127);
                    }
                }
                let errno = match nix::unistd::execv(&c_path, &c_argv) {
                    Err(e) => e as i32,
                    Ok(never) => match never {},
                };
                let bytes = errno.to_le_bytes();
                // SAFETY: as above.
                unsafe {
                    libc::write(err_write.as_raw_fd(), bytes.as_ptr().cast(), 4);
                    libc::_exit(127);
                }
            }
            ForkResult::Parent { child } => Ok(Paused {
                pid: child,
                command: program.clone(),
                go: go_write,
                exec_error: err_read,
            }),
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// Lets the child exec; returns once the exec succeeded or failed.
    pub fn release(self) -> Result<Pid> {
        let Paused {
            pid,
            command,
            go,
            exec_error,
        } = self;
        nix::unistd::write(&go, &[1]).map_err(io::Error::from)?;
        drop(go);
        let mut errno = [0u8; 4];
        // EOF (0 bytes) means the close-on-exec pipe closed: the exec succeeded.
        let n = loop {
            match nix::unistd::read(&exec_error, &mut errno) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other.map_err(io::Error::from)?,
            }
        };
        if n == 0 {
            return Ok(pid);
        }
        let _ = waitpid(pid, None);
        Err(Error::Exec {
            command,
            source: io::Error::from_raw_os_error(i32::from_le_bytes(errno)),
        })
    }
}

/// Waits for `pid` and returns its status the way a shell reports it (128 + signal).
pub fn wait_exit_code(pid: Pid) -> Result<i32> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(128 + signal as i32),
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e).into()),
        }
    }
}
