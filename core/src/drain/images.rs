//! The build-ids of the executables that new program images run. When exec's tracepoint
//! runs, the kernel has read only the first bytes of the file and mapped none of it, so the
//! ELF notes are out of the eBPF program's reach; the drain reads them from the file,
//! once per executable: through /proc/PID/exe while the process lives, else at the path it
//! was exec'd by (AT_EXECFN, from the working directory), and only from a file that is
//! still the one the kernel identified.

use std::{
    fs::{File, Metadata},
    os::unix::{ffi::OsStrExt, fs::MetadataExt},
    path::{Path, PathBuf},
};

use object::Object as _;
use rustc_hash::FxHashMap;
use syscord_common::{ExecImageBody, HEADER_SIZE, RecordHeader, exec_image, exec_image_part};
use syscord_recording::format::{BuildId, ExecutableId, KernelChunk, read_struct};

/// Build-ids found, by executable, and those to write after the span being copied.
#[derive(Default)]
pub(super) struct Images {
    known: FxHashMap<ExecutableId, BuildId>,
    pending: Vec<(ExecutableId, BuildId)>,
}

impl Images {
    /// An exec image record: its executable's build-id goes into the chunk after the span
    /// (each time, so that any part of a rotated recording holds the ids of its images).
    pub(super) fn note(&mut self, header: &RecordHeader, bytes: &[u8]) {
        let Some(body) = read_struct::<ExecImageBody>(bytes, HEADER_SIZE as usize) else {
            return;
        };
        if body.flags & exec_image::IDENTITY == 0 {
            return;
        }
        let id = ExecutableId {
            dev: body.dev,
            ino: body.ino,
            size: body.size,
            mtime_sec: body.mtime_sec,
            mtime_nsec: body.mtime_nsec,
        };
        let build_id = self
            .known
            .entry(id)
            .or_insert_with(|| {
                let parts = &bytes[HEADER_SIZE as usize + size_of::<ExecImageBody>()..];
                let ranges = body.part_ranges();
                let part = |i: usize| parts.get(ranges[i].clone()).unwrap_or_default();
                find(
                    header.pid,
                    &id,
                    part(exec_image_part::CWD),
                    part(exec_image_part::EXECFN),
                )
            })
            .clone();
        self.pending.push((id, build_id));
    }

    /// Writes the build-ids noted since the last call.
    pub(super) fn write_into(&mut self, chunk: &mut KernelChunk) {
        for (id, build_id) in self.pending.drain(..) {
            chunk.push_build_id(&id, &build_id);
        }
    }
}

/// The build-id of executable `id`, which process `pid` started running.
fn find(pid: u32, id: &ExecutableId, cwd: &[u8], execfn: &[u8]) -> BuildId {
    let mut paths = vec![PathBuf::from(format!("/proc/{pid}/exe"))];
    if !execfn.is_empty() {
        let execfn = Path::new(std::ffi::OsStr::from_bytes(execfn));
        paths.push(Path::new(std::ffi::OsStr::from_bytes(cwd)).join(execfn));
    }
    let mut why = Vec::new();
    for path in paths {
        match File::open(&path) {
            Ok(file) => match file.metadata() {
                Ok(meta) if same_file(&meta, id) => return build_id_of(file),
                Ok(_) => why.push(format!("{} is another file now", path.display())),
                Err(e) => why.push(format!("{}: {e}", path.display())),
            },
            Err(e) => why.push(format!("{}: {e}", path.display())),
        }
    }
    BuildId::Unknown(why.join("; "))
}

/// Whether `meta` is the file the kernel identified. The device is not compared: where a
/// file system reports another `st_dev` than its super block's (btrfs subvolumes, overlay
/// file systems), inode, size and modification time in nanoseconds still tell.
fn same_file(meta: &Metadata, id: &ExecutableId) -> bool {
    meta.ino() == id.ino
        && meta.size() == id.size
        && meta.mtime() == id.mtime_sec
        && meta.mtime_nsec() == i64::from(id.mtime_nsec)
}

fn build_id_of(file: File) -> BuildId {
    let cache = object::ReadCache::new(file);
    match object::File::parse(&cache) {
        Ok(elf) => match elf.build_id() {
            Ok(Some(id)) => BuildId::Found(id.to_vec()),
            Ok(None) => BuildId::NoNote,
            Err(e) => BuildId::Unknown(format!("reading its notes: {e}")),
        },
        Err(e) => BuildId::Unknown(format!("not an ELF file: {e}")),
    }
}
