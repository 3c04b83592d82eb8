//! The threads that run before the recording starts (`-p`, `-a`): what /proc says about
//! them, evaluated with the same conditions the kernel uses for new threads.

use std::{
    fs,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use syscord_common::{PATH_COMPARE_LEN, condition_op, pattern_kind};

use super::{CgroupResolver, Compiled, ProcessCondition};

/// What the filter's process conditions look at, for one thread.
#[derive(Debug, Clone, Default)]
pub struct ThreadInfo {
    pub pid: u32,
    pub tid: u32,
    pub comm: Vec<u8>,
    pub ppid: u32,
    pub pcomm: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
    pub exe: Vec<u8>,
    pub cgroup: u64,
}

fn read_trimmed(path: impl AsRef<Path>) -> Option<Vec<u8>> {
    let mut bytes = fs::read(path).ok()?;
    while bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    Some(bytes)
}

/// A field of /proc/PID/status: the first number after `name:`.
fn status_field(status: &str, name: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The threads of process `pid`, or None if it does not exist.
pub fn threads_of(pid: u32) -> Option<Vec<u32>> {
    let dir = fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    Some(
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
    )
}

/// Every process on the system.
pub fn all_processes() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A process's parent and start time (clock ticks since boot), from /proc/PID/stat.
pub fn parent_and_start(pid: u32) -> Option<(u32, u64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The comm in parentheses may hold spaces and parentheses: fields follow the last ')'.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    // After the comm: state (3), ppid (4), ... starttime (22).
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

/// Now, in the clock ticks of /proc/PID/stat's start times.
pub fn boot_ticks() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) };
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    now.tv_sec as u64 * hz + now.tv_nsec as u64 * hz / 1_000_000_000
}

/// Reads a running thread; None once it has gone.
pub fn read_thread(pid: u32, tid: u32, cgroups: Option<&Cgroup2>) -> Option<ThreadInfo> {
    let task = format!("/proc/{pid}/task/{tid}");
    let comm = read_trimmed(format!("{task}/comm"))?;
    let status = fs::read_to_string(format!("{task}/status")).ok()?;
    let ppid = status_field(&status, "PPid:")?;
    let pcomm = read_trimmed(format!("/proc/{ppid}/comm")).unwrap_or_default();
    let exe = fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_default();
    let cgroup = cgroups.and_then(|c| c.id_of_thread(pid, tid)).unwrap_or(0);
    Some(ThreadInfo {
        pid,
        tid,
        comm,
        ppid,
        pcomm,
        uid: status_field(&status, "Uid:")?,
        gid: status_field(&status, "Gid:")?,
        exe,
        cgroup,
    })
}

fn numbers_hold(op: u8, values: &[u64], value: u64) -> bool {
    match op {
        condition_op::LT => value < values[0],
        condition_op::GT => value > values[0],
        condition_op::LE => value <= values[0],
        condition_op::GE => value >= values[0],
        op => values.contains(&value) == (op == condition_op::ANY),
    }
}

/// The thread's task_state and exe bits under `filter`.
pub fn evaluate(filter: &Compiled, t: &ThreadInfo) -> (u8, u8) {
    let exe_bits = filter
        .exe_patterns
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            // The kernel compares the last PATH_COMPARE_LEN bytes of longer paths: their
            // suffix only.
            if t.exe.len() > PATH_COMPARE_LEN {
                p.kind == pattern_kind::SUFFIX
                    && p.matches(&t.exe[t.exe.len() - PATH_COMPARE_LEN..])
            } else {
                p.matches(&t.exe)
            }
        })
        .fold(0u8, |bits, (i, _)| bits | (1 << i));
    let mut results = 0usize;
    for (i, c) in filter.conditions.iter().enumerate() {
        use syscord_common::condition_field as f;
        let holds = match c {
            ProcessCondition::Number { field, op, values } => {
                let value = match *field {
                    f::PID => t.pid,
                    f::TID => t.tid,
                    f::PPID => t.ppid,
                    f::UID => t.uid,
                    _ => t.gid,
                };
                numbers_hold(*op, values, u64::from(value))
            }
            ProcessCondition::Name {
                field,
                any,
                patterns,
            } => {
                let name = if *field == f::COMM { &t.comm } else { &t.pcomm };
                patterns.iter().any(|p| p.matches(name)) == *any
            }
            ProcessCondition::Exe { any, patterns } => {
                patterns.iter().any(|&p| exe_bits & (1 << p) != 0) == *any
            }
            ProcessCondition::Cgroup { any, ids } => ids.contains(&t.cgroup) == *any,
        };
        if holds {
            results |= 1 << i;
        }
    }
    (filter.state(results), exe_bits)
}

/// The cgroup v2 hierarchy, where cgroup ids are the directories' inode numbers.
pub struct Cgroup2 {
    root: PathBuf,
}

impl Cgroup2 {
    /// The mounted cgroup2 filesystem, from /proc/self/mountinfo.
    pub fn find() -> Option<Cgroup2> {
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
        mountinfo.lines().find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            if right.split_whitespace().next()? != "cgroup2" {
                return None;
            }
            Some(Cgroup2 {
                root: PathBuf::from(left.split_whitespace().nth(4)?),
            })
        })
    }

    /// The cgroup id of a thread (its `0::/path` line).
    pub fn id_of_thread(&self, pid: u32, tid: u32) -> Option<u64> {
        let lines = fs::read_to_string(format!("/proc/{pid}/task/{tid}/cgroup")).ok()?;
        let path = lines.lines().find_map(|l| l.strip_prefix("0::"))?;
        self.id_of(path)
    }

    fn id_of(&self, path: &str) -> Option<u64> {
        fs::metadata(self.root.join(path.trim_start_matches('/')))
            .ok()
            .map(|m| m.ino())
    }

    fn walk(&self, dir: &Path, relative: &str, out: &mut Vec<(String, u64)>) {
        if let Ok(m) = fs::metadata(dir) {
            out.push((
                if relative.is_empty() {
                    "/".into()
                } else {
                    relative.into()
                },
                m.ino(),
            ));
        }
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let name = e.file_name().to_string_lossy().into_owned();
                self.walk(&e.path(), &format!("{relative}/{name}"), out);
            }
        }
    }
}

/// A full glob (`*` anywhere, matching across `/` too; `?` one byte).
fn glob_matches(glob: &[u8], text: &[u8]) -> bool {
    match (glob.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_matches(&glob[1..], text) || (!text.is_empty() && glob_matches(glob, &text[1..]))
        }
        (Some(&g), Some(&t)) if g == b'?' || g == t => glob_matches(&glob[1..], &text[1..]),
        _ => false,
    }
}

impl CgroupResolver for Option<Cgroup2> {
    fn resolve(&self, glob: &str) -> Result<Vec<u64>, String> {
        let Some(cgroups) = self else {
            return Err("no cgroup2 filesystem is mounted".to_owned());
        };
        let glob = if glob.starts_with('/') {
            glob.to_owned()
        } else {
            format!("/{glob}")
        };
        let mut all = Vec::new();
        cgroups.walk(&cgroups.root, "", &mut all);
        Ok(all
            .into_iter()
            .filter(|(path, _)| glob_matches(glob.as_bytes(), path.as_bytes()))
            .map(|(_, id)| id)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches(
            b"/system.slice/*",
            b"/system.slice/foo.service"
        ));
        assert!(glob_matches(b"*/foo*", b"/a/b/foo.scope"));
        assert!(!glob_matches(b"/a", b"/a/b"));
    }

    #[test]
    fn this_thread_reads_back() {
        let pid = std::process::id();
        let t = read_thread(pid, pid, Cgroup2::find().as_ref()).unwrap();
        assert_eq!(t.pid, pid);
        assert!(!t.comm.is_empty());
        assert!(t.ppid > 0);
        assert!(!t.exe.is_empty());
        assert!(threads_of(pid).unwrap().contains(&pid));
        assert!(threads_of(u32::MAX).is_none());
    }
}
