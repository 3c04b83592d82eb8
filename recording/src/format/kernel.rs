//! Kernel chunks: the records the eBPF program wrote into the per-CPU rings, copied into the
//! file as they were, and turned into [`Record`]s when the file is read.
//!
//! The recorder does no per-record work beyond walking the record lengths: it copies whole
//! runs of a ring ("spans") into a chunk. Everything a record needs to be read (thread
//! names, the pairing of an exec's details with its execve, capture names, losses from
//! sequence gaps, time order across CPUs) is worked out here, from state that runs through
//! the chunks of a recording.
//!
//! ```text
//! raw  := item*
//! item := 1:u8 cpu:u32 len:u32 records[len]        a span of one CPU's ring, in sequence order
//!       | 2:u8 pid:u32 tid:u32 len:u8 comm[len]     a thread's name, known before its records
//!       | 3:u8 ts:u64                               every record stamped before ts is in this
//!                                                   chunk or an earlier one
//!       | 4:u8 dev:u32 ino:u64 size:u64 mtime_sec:i64 mtime_nsec:u32 status:u8 len:u8 bytes[len]
//!                                                   an executable's build-id (status 0, the
//!                                                   id), none (1), or why it is not known (2,
//!                                                   a text), after the span of its exec image
//! ```
//! Records are handed out in time order: those stamped before the last watermark (item 3),
//! sorted; the others wait for a later one, or the end of the recording.
//! Records are the `#[repr(C)]` structs of `syscord_common` (little-endian on every
//! architecture syscord supports), each `RecordHeader::len` long.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use syscord_arch::Arch;
use syscord_common::{
    CAPTURE_HEADER_SIZE, CaptureHeader, CommBody, ExecBody, ExecImageBody, ExitBody, ForkBody,
    HEADER_SIZE, MAX_RECORD, RECORD_ALIGN, RecordHeader, SYSCALL_RECORD_SIZE, SignalDeliverBody,
    SignalGenerateBody, SyscallBody, caller_argv, capture_result, exec_image, exec_image_part,
    record_kind, rule_flags, siginfo_source, syscall_captures_at, syscall_layout, syscall_nargs,
};
use syscord_handlers::{Kind, Registry, Role};

use super::{
    BuildId, Capture, ExecImage, Executable, ExecutableId, FormatError, Header, Record, SendResult,
    SignalAction, SyscallEvent, TaskEvent, TaskEventKind,
};

#[cfg(not(target_endian = "little"))]
compile_error!("kernel records are read as the little-endian structs the eBPF program wrote");

/// The name of the new image's argv beside the caller's in an exec syscall's captures.
pub const IMAGE_ARGV: &str = "image_argv";

/// si_code of a signal the kernel sent.
const SI_KERNEL: u32 = 0x80;

/// The rule flags among a syscall record's header flags; the others are its layout.
const RULE_FLAGS_MASK: u16 = 0xff;

const ITEM_SPAN: u8 = 1;
const ITEM_NAME: u8 = 2;
const ITEM_WATERMARK: u8 = 3;
const ITEM_BUILD_ID: u8 = 4;

const BUILD_ID_FOUND: u8 = 0;
const BUILD_ID_NONE: u8 = 1;
const BUILD_ID_UNKNOWN: u8 = 2;

/// The name of an exec syscall's environment capture, which the recorder fills from the
/// new image (`--capture-env`).
pub const ENVP: &str = "envp";

/// Builds the raw bytes of a kernel chunk.
#[derive(Debug, Default)]
pub struct KernelChunk {
    raw: Vec<u8>,
    /// Kernel records in the spans.
    records: u32,
    /// Syscall records among them.
    syscalls: u64,
}

impl KernelChunk {
    pub fn with_capacity(bytes: usize) -> KernelChunk {
        KernelChunk::in_buffer(Vec::with_capacity(bytes))
    }

    /// An empty chunk in `buffer`'s memory (whatever it held is dropped).
    pub fn in_buffer(mut buffer: Vec<u8>) -> KernelChunk {
        buffer.clear();
        KernelChunk {
            raw: buffer,
            ..Default::default()
        }
    }

    /// The chunk's memory, to be used again.
    pub fn into_buffer(self) -> Vec<u8> {
        self.raw
    }

    /// Starts a span of `cpu`'s records; its bytes follow with [`KernelChunk::extend`].
    /// Returns where they start in the chunk.
    pub fn open_span(&mut self, cpu: u32) -> usize {
        self.raw.push(ITEM_SPAN);
        self.raw.extend_from_slice(&cpu.to_le_bytes());
        self.raw.extend_from_slice(&0u32.to_le_bytes());
        self.raw.len()
    }

    pub fn extend(&mut self, bytes: &[u8]) {
        self.raw.extend_from_slice(bytes);
    }

    /// The bytes of the chunk from `at` on.
    pub fn bytes_from(&self, at: usize) -> &[u8] {
        &self.raw[at..]
    }

    /// Ends the span whose bytes start at `at`, keeping `len` of them: `records` whole
    /// records, `syscalls` of which are syscall records. An empty span is taken out.
    pub fn close_span(&mut self, at: usize, len: usize, records: u32, syscalls: u64) {
        self.raw.truncate(at + len);
        if len == 0 {
            self.raw.truncate(at - 9);
            return;
        }
        let len = u32::try_from(len).expect("a span is below 4 GiB");
        self.raw[at - 4..at].copy_from_slice(&len.to_le_bytes());
        self.records += records;
        self.syscalls += syscalls;
    }

    /// Appends a watermark: every record stamped before `ts_ns` is in this chunk or an
    /// earlier one.
    pub fn push_watermark(&mut self, ts_ns: u64) {
        self.raw.push(ITEM_WATERMARK);
        self.raw.extend_from_slice(&ts_ns.to_le_bytes());
    }

    /// Appends a thread's name (at most 255 bytes are kept).
    pub fn push_name(&mut self, pid: u32, tid: u32, comm: &[u8]) {
        let comm = &comm[..comm.len().min(255)];
        self.raw.push(ITEM_NAME);
        self.raw.extend_from_slice(&pid.to_le_bytes());
        self.raw.extend_from_slice(&tid.to_le_bytes());
        self.raw.push(comm.len() as u8);
        self.raw.extend_from_slice(comm);
    }

    /// Appends what the recorder found of an executable's build-id (a reason is cut to
    /// 255 bytes).
    pub fn push_build_id(&mut self, id: &ExecutableId, build_id: &BuildId) {
        let (status, bytes): (u8, &[u8]) = match build_id {
            BuildId::Found(bytes) => (BUILD_ID_FOUND, bytes),
            BuildId::NoNote => (BUILD_ID_NONE, &[]),
            BuildId::Unknown(why) => (BUILD_ID_UNKNOWN, why.as_bytes()),
            BuildId::NotRecorded => return,
        };
        let bytes = &bytes[..bytes.len().min(255)];
        self.raw.push(ITEM_BUILD_ID);
        self.raw.extend_from_slice(&id.dev.to_le_bytes());
        self.raw.extend_from_slice(&id.ino.to_le_bytes());
        self.raw.extend_from_slice(&id.size.to_le_bytes());
        self.raw.extend_from_slice(&id.mtime_sec.to_le_bytes());
        self.raw.extend_from_slice(&id.mtime_nsec.to_le_bytes());
        self.raw.push(status);
        self.raw.push(bytes.len() as u8);
        self.raw.extend_from_slice(bytes);
    }

    pub fn len(&self) -> usize {
        self.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub(crate) fn records(&self) -> u32 {
        self.records
    }

    pub fn syscalls(&self) -> u64 {
        self.syscalls
    }

    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}

/// The `T` at `offset` of `bytes`, if it fits.
pub fn read<T: Copy>(bytes: &[u8], offset: usize) -> Option<T> {
    let end = offset.checked_add(size_of::<T>())?;
    if end > bytes.len() {
        return None;
    }
    // SAFETY: bounds checked; T is a plain repr(C) type valid for any bytes.
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().add(offset).cast()) })
}

/// The bytes before the first NUL.
pub fn c_string(bytes: &[u8]) -> Vec<u8> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes[..end].to_vec()
}

/// Whether `header` can start a record of a ring (the drain copies nothing else).
pub fn plausible(header: &RecordHeader) -> bool {
    let len = u64::from(header.len);
    len >= HEADER_SIZE
        && len % RECORD_ALIGN == 0
        && len <= MAX_RECORD
        && (record_kind::SYSCALL..=record_kind::LAST).contains(&header.kind)
}

/// A syscall record's parts.
struct SyscallParts<'a> {
    body: SyscallBody,
    entered_ns: Option<u64>,
    args: [u64; 6],
    captures: &'a [u8],
}

/// Splits a syscall record into its parts (see `SyscallBody` for the layout); None if they
/// do not fit in it.
fn syscall_parts<'a>(header: &RecordHeader, bytes: &'a [u8]) -> Option<SyscallParts<'a>> {
    let body: SyscallBody = read(bytes, HEADER_SIZE as usize)?;
    let entered_ns = (header.flags & syscall_layout::TIMED != 0)
        .then(|| read::<u64>(bytes, SYSCALL_RECORD_SIZE as usize))
        .flatten();
    let captures_at = syscall_captures_at(header.flags) as usize;
    let nargs = syscall_nargs(header.flags) as usize;
    if nargs > 6 {
        return None;
    }
    let args_at = captures_at.checked_add(body.data_len as usize)?;
    if args_at + 8 * nargs != bytes.len() {
        return None;
    }
    let mut args = [0u64; 6];
    for (i, arg) in args.iter_mut().take(nargs).enumerate() {
        *arg = read(bytes, args_at + 8 * i)?;
    }
    Some(SyscallParts {
        body,
        entered_ns,
        args,
        captures: bytes.get(captures_at..args_at)?,
    })
}

/// Hands each capture after a syscall body (a header and its bytes, padded to 8) to `f`;
/// None if they do not fit in `data`.
fn each_capture<'a>(mut data: &'a [u8], mut f: impl FnMut(CaptureHeader, &'a [u8])) -> Option<()> {
    while !data.is_empty() {
        let header: CaptureHeader = read(data, 0)?;
        let start = CAPTURE_HEADER_SIZE as usize;
        let end = start.checked_add(header.data_len as usize)?;
        f(header, data.get(start..end)?);
        let padded = end.div_ceil(RECORD_ALIGN as usize) * RECORD_ALIGN as usize;
        data = data.get(padded.min(data.len())..)?;
    }
    Some(())
}

/// What an exec left for its execve record.
#[derive(Debug, Clone)]
struct ExecDetails {
    path: Vec<u8>,
    /// The new image's argv (for a `#!` script, the interpreter's).
    argv: Vec<u8>,
    argv_full_len: u32,
    /// The argv the caller passed, and whether it was cut; None where the recorder could not
    /// take it.
    caller_argv: Option<(Vec<u8>, bool)>,
    /// The environment, from the image record (`--capture-env`), and its full length.
    env: Option<(Vec<u8>, u32)>,
}

/// A kernel record found in a chunk, before time order is restored; owned once it waits
/// for a later chunk.
struct Found<'a> {
    ts_ns: u64,
    cpu: u32,
    seq: u64,
    bytes: std::borrow::Cow<'a, [u8]>,
    /// Sequence numbers missing just before this record: the first and how many.
    gap: Option<(u64, u64)>,
}

/// The state that runs through a recording's kernel chunks.
pub(crate) struct KernelDecoder {
    arch: Arch,
    registry: Option<Registry>,
    /// Capture names by syscall and kernel id: the header's, or for files without them
    /// the reading handlers'.
    capture_names: BTreeMap<u32, Vec<String>>,
    comms: FxHashMap<u32, Vec<u8>>,
    exec_details: FxHashMap<u32, ExecDetails>,
    /// What the recorder found of each executable's build-id.
    build_ids: FxHashMap<ExecutableId, BuildId>,
    /// Per CPU, the last sequence number seen; None until the first, when the recording's
    /// start is not in the files read (its first parts were removed by `--keep`).
    last_seq: Vec<Option<u64>>,
    /// The newest timestamp decoded, for losses at the very end.
    last_ts: u64,
    /// Records stamped at or after the last watermark, waiting for the next one.
    held: Vec<Found<'static>>,
}

impl KernelDecoder {
    /// For the recording `header` heads; its part says whether the first chunk read is the
    /// recording's first (so each CPU's numbers start at 1).
    pub(crate) fn new(header: &Header) -> KernelDecoder {
        KernelDecoder::from_parts(
            header.arch,
            header.cpus,
            header.part <= 1,
            header.captures.clone(),
        )
    }

    /// An empty `capture_names` (a file written before the header had them) means the
    /// reader's own handlers' names.
    fn from_parts(
        arch: Arch,
        cpus: u32,
        from_start: bool,
        capture_names: BTreeMap<u32, Vec<String>>,
    ) -> KernelDecoder {
        let registry = Registry::new(arch).ok();
        let capture_names = match &registry {
            Some(r) if capture_names.is_empty() => r.capture_names(),
            _ => capture_names,
        };
        KernelDecoder {
            arch,
            registry,
            capture_names,
            comms: FxHashMap::default(),
            exec_details: FxHashMap::default(),
            build_ids: FxHashMap::default(),
            last_seq: vec![from_start.then_some(0); cpus as usize],
            last_ts: 0,
            held: Vec::new(),
        }
    }

    /// The records of one kernel chunk and those held from before that its watermark
    /// releases, in time order.
    pub(crate) fn decode(&mut self, raw: &[u8], count: u32) -> Result<Vec<Record>, FormatError> {
        let corrupt = FormatError::Corrupt;
        let mut found: Vec<Found<'_>> = Vec::with_capacity(count as usize);
        let mut watermark = None;
        let mut rest = raw;
        while let Some((&item, after)) = rest.split_first() {
            match item {
                ITEM_SPAN => {
                    let cpu: u32 = read(after, 0).ok_or(corrupt("a span is cut short"))?;
                    let len: u32 = read(after, 4).ok_or(corrupt("a span is cut short"))?;
                    let span = after
                        .get(8..8 + len as usize)
                        .ok_or(corrupt("a span is cut short"))?;
                    rest = &after[8 + len as usize..];
                    self.split_span(cpu, span, &mut found)?;
                }
                ITEM_NAME => {
                    // The pid (offset 0) is for other readers; names go by thread id.
                    let tid: u32 = read(after, 4).ok_or(corrupt("a thread name is cut short"))?;
                    let len = *after.get(8).ok_or(corrupt("a thread name is cut short"))?;
                    let comm = after
                        .get(9..9 + usize::from(len))
                        .ok_or(corrupt("a thread name is cut short"))?;
                    self.comms.insert(tid, comm.to_vec());
                    rest = &after[9 + usize::from(len)..];
                }
                ITEM_WATERMARK => {
                    let ts: u64 = read(after, 0).ok_or(corrupt("a watermark is cut short"))?;
                    watermark = watermark.max(Some(ts));
                    rest = &after[8..];
                }
                ITEM_BUILD_ID => {
                    let cut = || corrupt("a build-id is cut short");
                    let id = ExecutableId {
                        dev: read(after, 0).ok_or_else(cut)?,
                        ino: read(after, 4).ok_or_else(cut)?,
                        size: read(after, 12).ok_or_else(cut)?,
                        mtime_sec: read(after, 20).ok_or_else(cut)?,
                        mtime_nsec: read(after, 28).ok_or_else(cut)?,
                    };
                    let status = *after.get(32).ok_or_else(cut)?;
                    let len = usize::from(*after.get(33).ok_or_else(cut)?);
                    let bytes = after.get(34..34 + len).ok_or_else(cut)?;
                    let build_id = match status {
                        BUILD_ID_FOUND => BuildId::Found(bytes.to_vec()),
                        BUILD_ID_NONE => BuildId::NoNote,
                        BUILD_ID_UNKNOWN => {
                            BuildId::Unknown(String::from_utf8_lossy(bytes).into_owned())
                        }
                        _ => return Err(corrupt("a build-id item has an unknown status")),
                    };
                    self.build_ids.insert(id, build_id);
                    rest = &after[34 + len..];
                }
                _ => return Err(corrupt("unknown item in a kernel chunk")),
            }
        }
        if found.len() != count as usize {
            return Err(corrupt(
                "the chunk holds another number of records than its header says",
            ));
        }
        found.extend(std::mem::take(&mut self.held));
        // Each span is in time order; the spans of different CPUs interleave. Stable, so
        // records of one CPU stamped alike keep their sequence order.
        found.sort_by_key(|f| (f.ts_ns, f.cpu, f.seq));
        let ready = watermark.map_or(0, |w| found.partition_point(|f| f.ts_ns < w));
        self.held = found
            .drain(ready..)
            .map(|f| Found {
                bytes: std::borrow::Cow::Owned(f.bytes.into_owned()),
                ..f
            })
            .collect();
        self.hand_out(found)
    }

    /// The records still held, in time order: at the end of the recording.
    pub(crate) fn flush(&mut self) -> Result<Vec<Record>, FormatError> {
        let held = std::mem::take(&mut self.held);
        self.hand_out(held)
    }

    /// Records, sorted, as file records (with the losses before them).
    fn hand_out(&mut self, found: Vec<Found<'_>>) -> Result<Vec<Record>, FormatError> {
        let mut records = Vec::with_capacity(found.len());
        for f in found {
            if let Some((first_seq, count)) = f.gap {
                records.push(Record::Lost {
                    cpu: f.cpu,
                    first_seq,
                    count,
                    ts_ns: f.ts_ns,
                });
            }
            self.last_ts = self.last_ts.max(f.ts_ns);
            records.push(self.record(f.cpu, &f.bytes)?);
        }
        Ok(records)
    }

    /// Loss markers for the numbers each CPU gave out after its last record read
    /// (`last_seq_per_cpu` from the summary): events lost at the very end.
    pub(crate) fn tail_losses(&mut self, last_seq_per_cpu: &[u64]) -> Vec<Record> {
        let mut losses = Vec::new();
        for (cpu, &last) in last_seq_per_cpu.iter().enumerate() {
            let Some(seen) = self.last_seq.get_mut(cpu) else {
                continue;
            };
            match *seen {
                Some(s) if last > s => {
                    losses.push(Record::Lost {
                        cpu: cpu as u32,
                        first_seq: s + 1,
                        count: last - s,
                        ts_ns: self.last_ts,
                    });
                    *seen = Some(last);
                }
                // Where this CPU's numbers started is not in the files read: nothing to
                // prove about them.
                None => *seen = Some(last),
                Some(_) => {}
            }
        }
        losses
    }

    /// Splits a span into its records, noting sequence gaps.
    fn split_span<'a>(
        &mut self,
        cpu: u32,
        mut span: &'a [u8],
        found: &mut Vec<Found<'a>>,
    ) -> Result<(), FormatError> {
        let last = self
            .last_seq
            .get_mut(cpu as usize)
            .ok_or(FormatError::Corrupt(
                "a span names a CPU beyond the header's",
            ))?;
        while !span.is_empty() {
            let header: RecordHeader =
                read(span, 0).ok_or(FormatError::Corrupt("a kernel record is cut short"))?;
            if !plausible(&header) || header.len as usize > span.len() {
                return Err(FormatError::BadRecord(format!(
                    "CPU {cpu}: a record header says kind {}, {} bytes, with {} bytes left in its span",
                    header.kind,
                    header.len,
                    span.len()
                )));
            }
            let (bytes, after) = span.split_at(header.len as usize);
            span = after;
            let gap = match *last {
                Some(seen) if header.seq > seen + 1 => Some((seen + 1, header.seq - seen - 1)),
                _ => None,
            };
            *last = Some(last.map_or(header.seq, |seen| seen.max(header.seq)));
            found.push(Found {
                ts_ns: header.ts_ns,
                cpu,
                seq: header.seq,
                bytes: std::borrow::Cow::Borrowed(bytes),
                gap,
            });
        }
        Ok(())
    }

    /// Capture `id` of syscall `nr`, as the recorder numbered it: the reading handler's id
    /// for it, if it has such a capture, and the recorder's name for it, which bridges a
    /// reader whose handlers changed since.
    fn capture(&self, nr: u32, id: u8) -> (Option<u8>, String) {
        match self.capture_names.get(&nr).and_then(|n| n.get(id as usize)) {
            Some(name) => (self.capture_id(nr, name), name.clone()),
            None => (None, format!("capture{id}")),
        }
    }

    /// The id of syscall `nr`'s capture called `name`, for records that carry names.
    pub(crate) fn capture_id(&self, nr: u32, name: &str) -> Option<u8> {
        let index = self
            .registry
            .as_ref()?
            .captures(nr)
            .iter()
            .position(|c| c.name() == name)?;
        u8::try_from(index).ok()
    }

    /// An exec syscall's path and argv captures: id and name of each.
    fn exec_captures(&self, nr: u32) -> [(Option<u8>, &'static str); 2] {
        let handler = self.registry.as_ref().and_then(|r| r.get(nr));
        let find = |pick: &dyn Fn(&syscord_handlers::Capture) -> bool, fallback: &'static str| {
            handler
                .and_then(|h| h.captures.iter().position(pick))
                .map_or((None, fallback), |i| {
                    (
                        u8::try_from(i).ok(),
                        handler.map_or(fallback, |h| h.captures[i].name),
                    )
                })
        };
        [
            find(&|c| c.kind == Kind::CString, "filename"),
            find(&|c| c.role == Role::Exec && c.name == "argv", "argv"),
        ]
    }

    /// A signal record's siginfo as the thread receives it: the copied one, or the one the
    /// kernel makes up for a sender that gave none (`sender`: its pid and uid, for a signal
    /// sent).
    fn siginfo(
        &self,
        signo: u32,
        source: u32,
        copied: &[u8],
        sender: Option<(u32, u32)>,
    ) -> Vec<u8> {
        if source == siginfo_source::COPIED {
            return copied.to_vec();
        }
        let layout = syscord_arch::abi::Struct::Siginfo.layout(self.arch);
        let mut info = vec![0u8; copied.len()];
        let mut put = |name: &str, value: u32| {
            if let Some(f) = layout.field(name) {
                let at = f.offset as usize;
                info[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
        };
        put("si_signo", signo);
        if source == siginfo_source::KERNEL {
            put("si_code", SI_KERNEL);
        } else if let Some((pid, uid)) = sender {
            // SI_USER (0), from the sender.
            put("si_pid", pid);
            put("si_uid", uid);
        }
        info
    }

    fn comm(&self, tid: u32) -> Vec<u8> {
        self.comms.get(&tid).cloned().unwrap_or_default()
    }

    /// One kernel record as a file record, keeping names and exec details up to date.
    fn record(&mut self, cpu: u32, bytes: &[u8]) -> Result<Record, FormatError> {
        let header: RecordHeader =
            read(bytes, 0).ok_or(FormatError::Corrupt("a kernel record is cut short"))?;
        let malformed = || {
            FormatError::BadRecord(format!(
                "kernel record {} of CPU {cpu} (kind {}, {} bytes, flags {:#x}) does not hold what its kind says",
                header.seq, header.kind, header.len, header.flags,
            ))
        };
        let body_at = HEADER_SIZE as usize;
        let task = |kind| {
            Record::Task(TaskEvent {
                cpu,
                seq: header.seq,
                ts_ns: header.ts_ns,
                pid: header.pid,
                tid: header.tid,
                kind,
            })
        };
        match header.kind {
            record_kind::SYSCALL | record_kind::SYSCALL_NO_RETURN => {
                let SyscallParts {
                    body,
                    entered_ns,
                    args,
                    captures: data,
                } = syscall_parts(&header, bytes).ok_or_else(malformed)?;
                let mut captures = Vec::new();
                each_capture(data, |c, bytes| {
                    let (id, name) = self.capture(body.nr, c.id);
                    captures.push(Capture {
                        id,
                        name,
                        len: c.orig_len,
                        truncated: c.flags & capture_result::TRUNCATED != 0,
                        bytes: bytes.to_vec(),
                    })
                })
                .ok_or_else(malformed)?;
                let flags = u32::from(header.flags & RULE_FLAGS_MASK);
                if flags & rule_flags::EXEC != 0
                    && let Some(exec) = self.exec_details.remove(&header.tid)
                {
                    let [(path_id, path_name), (argv_id, argv_name)] = self.exec_captures(body.nr);
                    captures.retain(|c| c.name != path_name);
                    captures.push(Capture {
                        id: path_id,
                        name: path_name.to_owned(),
                        len: exec.path.len() as u64,
                        truncated: false,
                        bytes: exec.path,
                    });
                    let image_argv = Capture {
                        id: argv_id,
                        name: argv_name.to_owned(),
                        len: u64::from(exec.argv_full_len),
                        truncated: (exec.argv.len() as u64) < u64::from(exec.argv_full_len),
                        bytes: exec.argv,
                    };
                    match exec.caller_argv {
                        // The call as its caller made it, as strace shows it; the new
                        // image's argv beside it when it differs (a `#!` script's).
                        Some((bytes, truncated)) => {
                            if bytes != image_argv.bytes {
                                captures.push(Capture {
                                    id: None,
                                    name: IMAGE_ARGV.to_owned(),
                                    ..image_argv.clone()
                                });
                            }
                            captures.push(Capture {
                                len: bytes.len() as u64,
                                truncated,
                                bytes,
                                ..image_argv
                            });
                        }
                        None => captures.push(image_argv),
                    }
                    if let Some((env, full_len)) = exec.env {
                        let envp_id = self.capture_id(body.nr, ENVP);
                        captures.push(Capture {
                            id: envp_id,
                            name: ENVP.to_owned(),
                            len: u64::from(full_len),
                            truncated: (env.len() as u64) < u64::from(full_len),
                            bytes: env,
                        });
                    }
                }
                Ok(Record::Syscall(SyscallEvent {
                    returned: header.kind == record_kind::SYSCALL,
                    rule_flags: flags,
                    cpu,
                    seq: header.seq,
                    ts_ns: header.ts_ns,
                    pid: header.pid,
                    tid: header.tid,
                    nr: body.nr,
                    ret: body.ret,
                    ret_addr: body.ret_addr,
                    args,
                    comm: self.comm(header.tid),
                    captures,
                    // exit and exit_group never return: they have no duration.
                    duration_ns: entered_ns
                        .filter(|&at| {
                            header.kind == record_kind::SYSCALL && at != 0 && at <= header.ts_ns
                        })
                        .map(|at| header.ts_ns - at),
                }))
            }
            record_kind::EXEC => {
                let body: ExecBody = read(bytes, body_at).ok_or_else(malformed)?;
                let strings = body_at + size_of::<ExecBody>();
                let path_end = strings + usize::from(body.path_len);
                let argv_end = path_end + usize::from(body.argv_len);
                let path = bytes.get(strings..path_end).ok_or_else(malformed)?;
                let argv = bytes.get(path_end..argv_end).ok_or_else(malformed)?;
                let caller_argv = if body.caller_argv_flags & caller_argv::CAPTURED != 0 {
                    let end = argv_end + usize::from(body.caller_argv_len);
                    let bytes = bytes.get(argv_end..end).ok_or_else(malformed)?;
                    Some((
                        bytes.to_vec(),
                        body.caller_argv_flags & caller_argv::TRUNCATED != 0,
                    ))
                } else {
                    None
                };
                if body.old_tid != header.tid {
                    self.comms.remove(&body.old_tid);
                }
                self.comms.insert(header.tid, c_string(&body.comm));
                self.exec_details.insert(
                    header.tid,
                    ExecDetails {
                        path: c_string(path),
                        argv: argv.to_vec(),
                        argv_full_len: body.argv_full_len,
                        caller_argv,
                        env: None,
                    },
                );
                Ok(task(TaskEventKind::Exec {
                    old_tid: body.old_tid,
                }))
            }
            record_kind::EXEC_IMAGE => {
                let body: ExecImageBody = read(bytes, body_at).ok_or_else(malformed)?;
                let parts = &bytes[body_at + size_of::<ExecImageBody>()..];
                let ranges = body.part_ranges();
                let part = |i: usize| parts.get(ranges[i].clone()).ok_or_else(malformed);
                let auxv = part(exec_image_part::AUXV)?;
                let cwd = part(exec_image_part::CWD)?;
                let platform = part(exec_image_part::PLATFORM)?;
                let execfn = part(exec_image_part::EXECFN)?;
                let env = part(exec_image_part::ENV)?;
                let auxv = auxv
                    .as_chunks::<8>()
                    .0
                    .as_chunks::<2>()
                    .0
                    .iter()
                    .map(|[kind, value]| (u64::from_le_bytes(*kind), u64::from_le_bytes(*value)))
                    .take_while(|&(kind, _)| kind != 0)
                    .collect();
                let executable = (body.flags & exec_image::IDENTITY != 0).then_some(Executable {
                    id: ExecutableId {
                        dev: body.dev,
                        ino: body.ino,
                        size: body.size,
                        mtime_sec: body.mtime_sec,
                        mtime_nsec: body.mtime_nsec,
                    },
                    mode: body.mode,
                });
                let build_id = executable
                    .and_then(|e| self.build_ids.get(&e.id).cloned())
                    .unwrap_or_default();
                let env =
                    (body.flags & exec_image::ENV != 0).then(|| (env.to_vec(), body.env_full_len));
                if let Some(env) = &env
                    && let Some(details) = self.exec_details.get_mut(&header.tid)
                {
                    details.env = Some(env.clone());
                }
                Ok(task(TaskEventKind::ExecImage(Box::new(ExecImage {
                    executable,
                    build_id,
                    auxv,
                    random: (body.flags & exec_image::RANDOM != 0).then_some(body.random),
                    platform: platform.to_vec(),
                    execfn: execfn.to_vec(),
                    cwd: cwd.to_vec(),
                    cwd_whole: body.flags & exec_image::CWD_WHOLE != 0,
                    env,
                }))))
            }
            record_kind::FORK => {
                let body: ForkBody = read(bytes, body_at).ok_or_else(malformed)?;
                let comm = self.comm(header.tid);
                self.comms.insert(body.child_tid, comm);
                Ok(task(TaskEventKind::Fork {
                    child_tid: body.child_tid,
                    child_pid: body.child_pid,
                }))
            }
            record_kind::COMM => {
                let body: CommBody = read(bytes, body_at).ok_or_else(malformed)?;
                let comm = c_string(&body.comm);
                self.comms.insert(header.tid, comm.clone());
                Ok(task(TaskEventKind::Rename { comm }))
            }
            record_kind::SIGNAL_DELIVER => {
                let body: SignalDeliverBody = read(bytes, body_at).ok_or_else(malformed)?;
                Ok(task(TaskEventKind::SignalDelivered {
                    signo: body.signo,
                    siginfo: self.siginfo(body.signo, body.source, &body.siginfo, None),
                    action: match body.handler {
                        0 => SignalAction::Default,
                        1 => SignalAction::Ignore,
                        address => SignalAction::Handler(address),
                    },
                    sa_flags: body.sa_flags,
                    group_exit: body.source == siginfo_source::NONE,
                }))
            }
            record_kind::SIGNAL_GENERATE => {
                let body: SignalGenerateBody = read(bytes, body_at).ok_or_else(malformed)?;
                Ok(task(TaskEventKind::SignalSent {
                    signo: body.signo,
                    siginfo: self.siginfo(
                        body.signo,
                        body.source,
                        &body.siginfo,
                        Some((body.sender_pid, body.sender_uid)),
                    ),
                    sender_pid: body.sender_pid,
                    sender_tid: body.sender_tid,
                    sender_comm: c_string(&body.sender_comm),
                    to_process: body.group != 0,
                    result: SendResult::from_kernel(body.result),
                }))
            }
            record_kind::EXIT => {
                let body: ExitBody = read(bytes, body_at).ok_or_else(malformed)?;
                self.comms.remove(&header.tid);
                self.exec_details.remove(&header.tid);
                Ok(task(TaskEventKind::Exit {
                    code: body.exit_code,
                }))
            }
            _ => Err(malformed()),
        }
    }
}

/// Kernel records as the eBPF program writes them, built in userspace: for tests and for
/// the fuzzer's seeds, which need chunks the recorder could have written.
pub mod build {
    use syscord_common::{
        CaptureHeader, CommBody, ExecBody, ExecImageBody, ExitBody, ForkBody, HEADER_SIZE,
        KERNEL_SIGINFO_SIZE, RECORD_ALIGN, RecordHeader, SignalDeliverBody, SignalGenerateBody,
        SyscallBody, capture_result, exec_image, record_kind, siginfo_source, syscall_layout,
    };

    use super::{
        ExecImage, KernelChunk, Record, SendResult, SignalAction, SyscallEvent, TaskEventKind,
    };

    fn bytes_of<T: Copy>(value: &T) -> &[u8] {
        // SAFETY: plain repr(C) structs with explicit padding, viewed as bytes.
        unsafe { std::slice::from_raw_parts((value as *const T).cast(), size_of::<T>()) }
    }

    fn pad(bytes: &mut Vec<u8>) {
        while !bytes.len().is_multiple_of(RECORD_ALIGN as usize) {
            bytes.push(0);
        }
    }

    fn record(
        kind: u16,
        flags: u16,
        seq: u64,
        ts_ns: u64,
        pid: u32,
        tid: u32,
        body: &[u8],
    ) -> Vec<u8> {
        let mut bytes = Vec::new();
        let len = (HEADER_SIZE as usize + body.len()).div_ceil(8) * 8;
        let header = RecordHeader {
            len: len as u32,
            kind,
            flags,
            seq,
            ts_ns,
            pid,
            tid,
        };
        bytes.extend_from_slice(bytes_of(&header));
        bytes.extend_from_slice(body);
        pad(&mut bytes);
        bytes
    }

    /// `event` as the eBPF program writes it. Its CPU is the span's and its thread name
    /// comes from the chunk's name items, so neither is in the record. It holds the
    /// arguments up to the last one that is not 0, and each capture under its id.
    ///
    /// Panics on what the kernel cannot write: a capture without an id, rule flags beyond
    /// 8 bits, a duration with no entry time before the record's.
    pub fn syscall(event: &SyscallEvent) -> Vec<u8> {
        let mut data = Vec::new();
        for c in &event.captures {
            let header = CaptureHeader {
                id: c.id.expect("kernel captures go by id"),
                flags: if c.truncated {
                    capture_result::TRUNCATED
                } else {
                    0
                },
                _pad: 0,
                data_len: c.bytes.len() as u32,
                orig_len: c.len,
            };
            data.extend_from_slice(bytes_of(&header));
            data.extend_from_slice(&c.bytes);
            pad(&mut data);
        }
        let body = SyscallBody {
            nr: event.nr,
            data_len: data.len() as u32,
            ret: event.ret,
            ret_addr: event.ret_addr,
        };
        let nargs = event
            .args
            .iter()
            .rposition(|&a| a != 0)
            .map_or(0, |i| i + 1);
        let rule_flags = u16::try_from(event.rule_flags)
            .ok()
            .filter(|&f| u32::from(f) & !u32::from(super::RULE_FLAGS_MASK) == 0)
            .expect("rule flags fit in 8 bits");
        let mut flags = rule_flags | ((nargs as u16) << syscall_layout::ARGS_SHIFT);
        let mut rest = bytes_of(&body).to_vec();
        if let Some(duration) = event.duration_ns {
            let entered = event
                .ts_ns
                .checked_sub(duration)
                .filter(|&at| at != 0)
                .expect("a duration that ends at the record's time");
            flags |= syscall_layout::TIMED;
            rest.extend_from_slice(&entered.to_le_bytes());
        }
        rest.extend_from_slice(&data);
        for a in &event.args[..nargs] {
            rest.extend_from_slice(&a.to_le_bytes());
        }
        let kind = if event.returned {
            record_kind::SYSCALL
        } else {
            record_kind::SYSCALL_NO_RETURN
        };
        record(
            kind,
            flags,
            event.seq,
            event.ts_ns,
            event.pid,
            event.tid,
            &rest,
        )
    }

    /// A returned syscall of no arguments, captures or duration: the rest of a
    /// `SyscallEvent` that tests fill in with `..`.
    pub fn call(seq: u64, ts_ns: u64, pid: u32, tid: u32, nr: u32, ret: i64) -> SyscallEvent {
        SyscallEvent {
            returned: true,
            rule_flags: 0,
            cpu: 0,
            seq,
            ts_ns,
            pid,
            tid,
            nr,
            ret,
            ret_addr: 0x7000_1000,
            args: [0; 6],
            comm: Vec::new(),
            captures: Vec::new(),
            duration_ns: None,
        }
    }

    /// `records` as one kernel chunk: each CPU's records as one span, in the order given
    /// (which must be sequence order), and each thread's name, from its first syscall
    /// record, before them. Losses are gaps in the sequence numbers, so `records` has none;
    /// an exec needs its path and argv, so `records` has none either.
    pub fn chunk_of(records: &[Record]) -> KernelChunk {
        let mut chunk = KernelChunk::default();
        let mut named = std::collections::BTreeSet::new();
        let mut spans: std::collections::BTreeMap<u32, Vec<Vec<u8>>> = Default::default();
        for record in records {
            let (cpu, bytes) = match record {
                Record::Syscall(e) => {
                    if named.insert(e.tid) {
                        chunk.push_name(e.pid, e.tid, &e.comm);
                    }
                    (e.cpu, syscall(e))
                }
                Record::Task(t) => (
                    t.cpu,
                    match &t.kind {
                        TaskEventKind::Exit { code } => exit(t.seq, t.ts_ns, t.pid, t.tid, *code),
                        TaskEventKind::Fork {
                            child_tid,
                            child_pid,
                        } => fork(t.seq, t.ts_ns, t.pid, t.tid, *child_pid, *child_tid),
                        TaskEventKind::Rename { comm } => {
                            rename(t.seq, t.ts_ns, t.pid, t.tid, comm)
                        }
                        TaskEventKind::Exec { .. } => panic!("an exec needs build::exec"),
                        TaskEventKind::ExecImage(image) => {
                            self::exec_image((t.seq, t.ts_ns, t.pid, t.tid), image)
                        }
                        TaskEventKind::SignalDelivered {
                            signo,
                            siginfo,
                            action,
                            sa_flags,
                            ..
                        } => signal_delivered(
                            t.seq, t.ts_ns, t.pid, t.tid, *signo, siginfo, *action, *sa_flags,
                        ),
                        TaskEventKind::SignalSent {
                            signo,
                            siginfo,
                            sender_pid,
                            sender_tid,
                            sender_comm,
                            to_process,
                            result,
                        } => signal_sent(
                            (t.seq, t.ts_ns, t.pid, t.tid),
                            *signo,
                            siginfo,
                            (*sender_pid, *sender_tid, sender_comm),
                            *to_process,
                            *result,
                        ),
                    },
                ),
                Record::Lost { .. } => panic!("losses are gaps in the sequence numbers"),
            };
            spans.entry(cpu).or_default().push(bytes);
        }
        for (cpu, records) in spans {
            span(&mut chunk, cpu, &records);
        }
        chunk
    }

    /// Appends `records` (built here, in sequence order) to `chunk` as one span of `cpu`.
    pub fn span(chunk: &mut KernelChunk, cpu: u32, records: &[Vec<u8>]) {
        let at = chunk.open_span(cpu);
        let bytes = records.concat();
        chunk.extend(&bytes);
        let syscalls = records
            .iter()
            .filter(|r| {
                let kind = u16::from_le_bytes([r[4], r[5]]);
                kind == record_kind::SYSCALL || kind == record_kind::SYSCALL_NO_RETURN
            })
            .count();
        chunk.close_span(at, bytes.len(), records.len() as u32, syscalls as u64);
    }

    pub fn fork(
        seq: u64,
        ts_ns: u64,
        pid: u32,
        tid: u32,
        child_pid: u32,
        child_tid: u32,
    ) -> Vec<u8> {
        let body = ForkBody {
            child_tid,
            child_pid,
        };
        record(record_kind::FORK, 0, seq, ts_ns, pid, tid, bytes_of(&body))
    }

    fn comm_bytes(name: &[u8]) -> [u8; 16] {
        let mut comm = [0u8; 16];
        comm[..name.len().min(15)].copy_from_slice(&name[..name.len().min(15)]);
        comm
    }

    fn siginfo_bytes(siginfo: &[u8]) -> [u8; KERNEL_SIGINFO_SIZE] {
        let mut bytes = [0u8; KERNEL_SIGINFO_SIZE];
        let n = siginfo.len().min(KERNEL_SIGINFO_SIZE);
        bytes[..n].copy_from_slice(&siginfo[..n]);
        bytes
    }

    /// A delivery with its siginfo copied (as the kernel's own siginfo always is).
    #[allow(clippy::too_many_arguments)]
    pub fn signal_delivered(
        seq: u64,
        ts_ns: u64,
        pid: u32,
        tid: u32,
        signo: u32,
        siginfo: &[u8],
        action: SignalAction,
        sa_flags: u64,
    ) -> Vec<u8> {
        let body = SignalDeliverBody {
            signo,
            source: siginfo_source::COPIED,
            handler: match action {
                SignalAction::Default => 0,
                SignalAction::Ignore => 1,
                SignalAction::Handler(address) => address,
            },
            sa_flags,
            siginfo: siginfo_bytes(siginfo),
        };
        record(
            record_kind::SIGNAL_DELIVER,
            0,
            seq,
            ts_ns,
            pid,
            tid,
            bytes_of(&body),
        )
    }

    /// A signal sent, its siginfo copied: `at` is (seq, ts_ns, pid, tid) of the target,
    /// `sender` its (pid, tid, comm).
    pub fn signal_sent(
        at: (u64, u64, u32, u32),
        signo: u32,
        siginfo: &[u8],
        sender: (u32, u32, &[u8]),
        to_process: bool,
        result: SendResult,
    ) -> Vec<u8> {
        let (seq, ts_ns, pid, tid) = at;
        let body = SignalGenerateBody {
            signo,
            source: siginfo_source::COPIED,
            sender_pid: sender.0,
            sender_tid: sender.1,
            sender_uid: 0,
            group: u32::from(to_process),
            result: match result {
                SendResult::Queued => 0,
                SendResult::Ignored => 1,
                SendResult::AlreadyPending => 2,
                SendResult::QueueFull => 3,
                SendResult::LostInfo => 4,
                SendResult::Other(n) => n,
            },
            _pad: 0,
            sender_comm: comm_bytes(sender.2),
            siginfo: siginfo_bytes(siginfo),
        };
        record(
            record_kind::SIGNAL_GENERATE,
            0,
            seq,
            ts_ns,
            pid,
            tid,
            bytes_of(&body),
        )
    }

    pub fn rename(seq: u64, ts_ns: u64, pid: u32, tid: u32, name: &[u8]) -> Vec<u8> {
        let body = CommBody {
            comm: comm_bytes(name),
        };
        record(record_kind::COMM, 0, seq, ts_ns, pid, tid, bytes_of(&body))
    }

    pub fn exec(seq: u64, ts_ns: u64, pid: u32, tid: u32, path: &[u8], argv: &[u8]) -> Vec<u8> {
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        let body = ExecBody {
            old_tid: tid,
            path_len: path.len() as u16,
            argv_len: argv.len() as u16,
            argv_full_len: argv.len() as u32,
            caller_argv_len: 0,
            caller_argv_flags: 0,
            comm: comm_bytes(name),
        };
        let mut rest = bytes_of(&body).to_vec();
        rest.extend_from_slice(path);
        rest.extend_from_slice(argv);
        record(record_kind::EXEC, 0, seq, ts_ns, pid, tid, &rest)
    }

    /// An exec image record of `image` (its build-id goes in a chunk item of its own).
    pub fn exec_image((seq, ts_ns, pid, tid): (u64, u64, u32, u32), image: &ExecImage) -> Vec<u8> {
        let mut auxv = Vec::new();
        for &(kind, value) in image.auxv.iter().chain(&[(0, 0)]) {
            auxv.extend_from_slice(&kind.to_le_bytes());
            auxv.extend_from_slice(&value.to_le_bytes());
        }
        let (env, env_full_len) = image.env.clone().unwrap_or_default();
        let mut flags = 0;
        let executable = image.executable.unwrap_or_default();
        for (on, flag) in [
            (image.executable.is_some(), exec_image::IDENTITY),
            (image.random.is_some(), exec_image::RANDOM),
            (image.cwd_whole, exec_image::CWD_WHOLE),
            (image.env.is_some(), exec_image::ENV),
        ] {
            if on {
                flags |= flag;
            }
        }
        let body = ExecImageBody {
            ino: executable.id.ino,
            size: executable.id.size,
            mtime_sec: executable.id.mtime_sec,
            mtime_nsec: executable.id.mtime_nsec,
            dev: executable.id.dev,
            env_full_len,
            mode: executable.mode,
            flags,
            auxv_len: auxv.len() as u16,
            cwd_len: image.cwd.len() as u16,
            platform_len: image.platform.len() as u16,
            execfn_len: image.execfn.len() as u16,
            env_len: env.len() as u16,
            _pad: [0; 3],
            random: image.random.unwrap_or_default(),
        };
        let mut rest = bytes_of(&body).to_vec();
        for part in [&auxv, &image.cwd, &image.platform, &image.execfn, &env] {
            rest.extend_from_slice(part);
        }
        record(record_kind::EXEC_IMAGE, 0, seq, ts_ns, pid, tid, &rest)
    }

    pub fn exit(seq: u64, ts_ns: u64, pid: u32, tid: u32, code: u32) -> Vec<u8> {
        let body = ExitBody {
            exit_code: code,
            _pad: 0,
        };
        record(record_kind::EXIT, 0, seq, ts_ns, pid, tid, bytes_of(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::{build::*, *};

    const GETPPID: u32 = 110;
    const READ: u32 = 0;
    const EXECVE: u32 = 59;

    fn chunk(spans: &[(u32, Vec<Vec<u8>>)], names: &[(u32, u32, &[u8])]) -> KernelChunk {
        let mut chunk = KernelChunk::default();
        for (pid, tid, comm) in names {
            chunk.push_name(*pid, *tid, comm);
        }
        for (cpu, records) in spans {
            span(&mut chunk, *cpu, records);
        }
        chunk
    }

    /// Capture `id`, all of `bytes` kept.
    fn kept(id: u8, bytes: &[u8]) -> Capture {
        Capture {
            id: Some(id),
            name: String::new(),
            len: bytes.len() as u64,
            truncated: false,
            bytes: bytes.to_vec(),
        }
    }

    /// getppid of thread `tid` of process 7, returning 1.
    fn getppid(seq: u64, ts_ns: u64, tid: u32) -> Vec<u8> {
        syscall(&call(seq, ts_ns, 7, tid, GETPPID, 1))
    }

    /// The records of `chunk` (which has no watermark), and with them all held ones.
    fn decode(decoder: &mut KernelDecoder, chunk: &KernelChunk) -> Vec<Record> {
        let mut records = decoder
            .decode(chunk.raw(), chunk.records())
            .expect("a valid chunk");
        records.extend(decoder.flush().expect("valid records"));
        records
    }

    fn times(records: &[Record]) -> Vec<u64> {
        records.iter().map(Record::ts_ns).collect()
    }

    #[test]
    fn records_wait_for_the_watermark_that_says_nothing_older_will_come() {
        let mut d = KernelDecoder::from_parts(Arch::X86_64, 2, true, BTreeMap::new());
        // A pass: CPU 0 up to 100, CPU 1 up to 300, everything before 200 is in.
        let mut first = chunk(
            &[(0, vec![getppid(1, 100, 7)]), (1, vec![getppid(1, 300, 8)])],
            &[(7, 7, b"a"), (7, 8, b"b")],
        );
        first.push_watermark(200);
        let out = d.decode(first.raw(), first.records()).unwrap();
        assert_eq!(times(&out), [100]);
        // The next pass brings CPU 0's record of 250, older than CPU 1's held one.
        let mut second = chunk(&[(0, vec![getppid(2, 250, 7)])], &[]);
        second.push_watermark(400);
        let out = d.decode(second.raw(), second.records()).unwrap();
        assert_eq!(times(&out), [250, 300]);
        assert!(d.flush().unwrap().is_empty());
        // Without a watermark, records wait for the end.
        let third = chunk(&[(1, vec![getppid(2, 500, 8)])], &[]);
        assert!(d.decode(third.raw(), third.records()).unwrap().is_empty());
        assert_eq!(times(&d.flush().unwrap()), [500]);
    }

    #[test]
    fn cpus_merge_by_time_and_gaps_become_loss_markers() {
        let mut d = KernelDecoder::from_parts(Arch::X86_64, 2, true, BTreeMap::new());
        let c = chunk(
            &[
                (
                    0,
                    vec![
                        getppid(1, 100, 7),
                        // 2 and 3 were lost on CPU 0.
                        getppid(4, 300, 7),
                    ],
                ),
                (1, vec![getppid(1, 200, 8)]),
            ],
            &[(7, 7, b"main"), (7, 8, b"worker")],
        );
        let records = decode(&mut d, &c);
        let summary: Vec<(u64, Option<(u32, u64)>)> = records
            .iter()
            .map(|r| match r {
                Record::Syscall(e) => (e.ts_ns, Some((e.tid, e.seq))),
                Record::Lost { ts_ns, .. } => (*ts_ns, None),
                Record::Task(_) => panic!("no task events here"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                (100, Some((7, 1))),
                (200, Some((8, 1))),
                (300, None),
                (300, Some((7, 4)))
            ]
        );
        assert!(matches!(
            records[2],
            Record::Lost {
                cpu: 0,
                first_seq: 2,
                count: 2,
                ..
            }
        ));
        let Record::Syscall(worker) = &records[1] else {
            unreachable!()
        };
        assert_eq!(worker.comm, b"worker");
        // The kernel numbered two more on CPU 1 before recording ended: lost at the end.
        let tail = d.tail_losses(&[4, 3]);
        assert_eq!(tail.len(), 1);
        assert!(matches!(
            tail[0],
            Record::Lost {
                cpu: 1,
                first_seq: 2,
                count: 2,
                ..
            }
        ));
    }

    #[test]
    fn arguments_captures_and_entry_times_come_back() {
        let mut d = KernelDecoder::from_parts(Arch::X86_64, 1, true, BTreeMap::new());
        let c = chunk(
            &[(
                0,
                vec![syscall(&SyscallEvent {
                    args: [3, 0x1000, 4096, 0, 0, 0],
                    captures: vec![kept(0, b"abc")],
                    duration_ns: Some(600),
                    ..call(1, 1_000, 7, 7, READ, 3)
                })],
            )],
            &[],
        );
        let records = decode(&mut d, &c);
        let Record::Syscall(e) = &records[0] else {
            panic!("{records:?}")
        };
        assert_eq!(e.args, [3, 0x1000, 4096, 0, 0, 0]);
        assert_eq!(e.ret, 3);
        assert_eq!(e.duration_ns, Some(600));
        assert_eq!(e.captures.len(), 1);
        assert_eq!(e.captures[0].name, "buf");
        assert_eq!(e.captures[0].id, Some(0));
        assert_eq!(e.captures[0].bytes, b"abc");
        assert!(!e.captures[0].truncated);
    }

    /// The recorder's capture names (the header's) say what its ids meant: here a recorder
    /// whose read had a capture before "buf". The reader's own handler then gives the ids.
    #[test]
    fn capture_ids_mean_what_the_recorders_names_say() {
        let names = BTreeMap::from([(READ, vec!["before".to_owned(), "buf".to_owned()])]);
        let mut d = KernelDecoder::from_parts(Arch::X86_64, 1, true, names);
        let read = syscall(&SyscallEvent {
            args: [3, 0x1000, 1, 0, 0, 0],
            captures: vec![kept(0, b"x"), kept(1, b"x")],
            ..call(1, 1_000, 7, 7, READ, 1)
        });
        let records = decode(&mut d, &chunk(&[(0, vec![read])], &[]));
        let Record::Syscall(e) = &records[0] else {
            panic!("{records:?}")
        };
        let got: Vec<(Option<u8>, &str)> =
            e.captures.iter().map(|c| (c.id, c.name.as_str())).collect();
        assert_eq!(got, [(None, "before"), (Some(0), "buf")]);
    }

    #[test]
    fn execs_name_the_thread_and_give_execve_its_path_and_argv() {
        let mut d = KernelDecoder::from_parts(Arch::X86_64, 1, true, BTreeMap::new());
        let c = chunk(
            &[(
                0,
                vec![
                    exec(1, 10, 7, 7, b"/bin/ls", b"ls\0-l\0"),
                    syscall(&SyscallEvent {
                        rule_flags: rule_flags::EXEC,
                        ..call(2, 11, 7, 7, EXECVE, 0)
                    }),
                    fork(3, 12, 7, 7, 9, 9),
                    rename(4, 13, 7, 7, b"renamed"),
                    getppid(5, 14, 7),
                    exit(6, 15, 7, 7, 0),
                ],
            )],
            &[],
        );
        let records = decode(&mut d, &c);
        let Record::Syscall(execve) = &records[1] else {
            panic!("{records:?}")
        };
        assert_eq!(execve.comm, b"ls");
        assert_eq!(execve.rule_flags, rule_flags::EXEC);
        let names: Vec<&str> = execve.captures.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["filename", "argv"]);
        assert_eq!(execve.captures[0].bytes, b"/bin/ls");
        assert_eq!(execve.captures[1].bytes, b"ls\0-l\0");
        let Record::Syscall(after) = &records[4] else {
            panic!("{records:?}")
        };
        assert_eq!(after.comm, b"renamed");
        // The child took its parent's name at the fork.
        assert_eq!(d.comm(9), b"ls");
        assert!(matches!(
            records[5],
            Record::Task(TaskEvent {
                kind: TaskEventKind::Exit { code: 0 },
                ..
            })
        ));
    }

    #[test]
    fn a_recording_read_from_a_later_part_has_no_gap_at_its_start() {
        let mut d = KernelDecoder::from_parts(Arch::X86_64, 1, false, BTreeMap::new());
        let c = chunk(&[(0, vec![getppid(500, 10, 7)])], &[]);
        let records = decode(&mut d, &c);
        assert_eq!(records.len(), 1, "{records:?}");
    }

    #[test]
    fn damaged_chunks_are_errors_not_panics() {
        let mut d = KernelDecoder::from_parts(Arch::X86_64, 2, true, BTreeMap::new());
        let c = chunk(
            &[(
                1,
                vec![
                    syscall(&SyscallEvent {
                        args: [3, 0, 9, 0, 0, 0],
                        ..call(1, 10, 7, 7, READ, 3)
                    }),
                    exit(2, 11, 7, 7, 0),
                ],
            )],
            &[(7, 7, b"x")],
        );
        let raw = c.raw();
        for cut in 0..raw.len() {
            assert!(d.decode(&raw[..cut], c.records()).is_err(), "cut at {cut}");
        }
        assert!(d.decode(raw, c.records() + 1).is_err(), "another count");
        for at in 0..raw.len() {
            let mut bad = raw.to_vec();
            bad[at] ^= 0xff;
            let mut d = KernelDecoder::from_parts(Arch::X86_64, 2, true, BTreeMap::new());
            // Anything but a panic.
            let _ = d.decode(&bad, c.records());
        }
        // A span of a CPU the header does not have.
        let other = chunk(&[(5, vec![exit(1, 1, 7, 7, 0)])], &[]);
        assert!(d.decode(other.raw(), 1).is_err());
    }
}
