//! The names of the live recorded threads, for rotated recordings.

use rustc_hash::FxHashMap;
use syscord_common::{CommBody, ExecBody, ForkBody, HEADER_SIZE, RecordHeader, record_kind};
use syscord_recording::format::{c_string, read_struct};

use crate::output::ThreadName;

/// The names of the live recorded threads, kept only for rotated recordings: each part
/// starts with them, so that a part read without the ones before it names its threads.
/// Updated from the rare records (forks, execs, renames, exits), never per syscall.
#[derive(Default)]
pub(super) struct Names {
    by_tid: FxHashMap<u32, (u32, Vec<u8>)>,
    changed: bool,
}

impl Names {
    /// A thread's name read from /proc.
    pub(super) fn insert(&mut self, pid: u32, tid: u32, comm: Vec<u8>) {
        self.by_tid.insert(tid, (pid, comm));
        self.changed = true;
    }

    pub(super) fn note(&mut self, header: &RecordHeader, bytes: &[u8]) {
        let body = HEADER_SIZE as usize;
        match header.kind {
            record_kind::FORK => {
                if let Some(fork) = read_struct::<ForkBody>(bytes, body)
                    && let Some((_, comm)) = self.by_tid.get(&header.tid).cloned()
                {
                    self.by_tid.insert(fork.child_tid, (fork.child_pid, comm));
                }
            }
            record_kind::COMM => {
                if let Some(c) = read_struct::<CommBody>(bytes, body) {
                    self.by_tid
                        .insert(header.tid, (header.pid, c_string(&c.comm)));
                }
            }
            record_kind::EXEC => {
                if let Some(e) = read_struct::<ExecBody>(bytes, body) {
                    self.by_tid.remove(&e.old_tid);
                    self.by_tid
                        .insert(header.tid, (header.pid, c_string(&e.comm)));
                }
            }
            record_kind::EXIT => {
                self.by_tid.remove(&header.tid);
            }
            _ => return,
        }
        self.changed = true;
    }

    pub(super) fn snapshot(&mut self) -> Option<Vec<ThreadName>> {
        if !self.changed {
            return None;
        }
        self.changed = false;
        Some(
            self.by_tid
                .iter()
                .map(|(&tid, (pid, comm))| (*pid, tid, comm.clone()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_forks_execs_renames_and_exits() {
        let mut names = Names::default();
        names.by_tid.insert(10, (10, b"parent".to_vec()));
        let header = |kind, tid| RecordHeader {
            kind,
            tid,
            pid: tid,
            ..Default::default()
        };
        let with_body = |h: RecordHeader, body: &[u8]| {
            let mut bytes = vec![0u8; HEADER_SIZE as usize];
            bytes.extend_from_slice(body);
            (h, bytes)
        };
        let fork = ForkBody {
            child_tid: 11,
            child_pid: 11,
        };
        // SAFETY: plain repr(C) structs viewed as bytes.
        let as_bytes = |p: *const u8, n: usize| unsafe { std::slice::from_raw_parts(p, n) };
        let (h, b) = with_body(
            header(record_kind::FORK, 10),
            as_bytes((&fork as *const ForkBody).cast(), size_of::<ForkBody>()),
        );
        names.note(&h, &b);
        assert_eq!(names.by_tid[&11].1, b"parent");
        let mut comm = CommBody::default();
        comm.comm[..6].copy_from_slice(b"worker");
        let (h, b) = with_body(
            header(record_kind::COMM, 11),
            as_bytes((&comm as *const CommBody).cast(), size_of::<CommBody>()),
        );
        names.note(&h, &b);
        assert_eq!(names.by_tid[&11].1, b"worker");
        let snapshot = names.snapshot().expect("changed");
        assert_eq!(snapshot.len(), 2);
        assert!(names.snapshot().is_none(), "unchanged since");
        let (h, b) = with_body(header(record_kind::EXIT, 11), &[0; 8]);
        names.note(&h, &b);
        assert!(!names.by_tid.contains_key(&11));
    }
}
