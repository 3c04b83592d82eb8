//! Writes the seed corpus of the `reader` fuzz target: small valid recordings, made with the
//! crate's own `Writer` and kernel record builder, and a file of a version 1 syscord, for
//! each of the target's input modes (see fuzz_targets/reader.rs).
//!
//!     cargo run --example seeds -- [DIR]     (default: fuzz/corpus/reader)

use std::path::PathBuf;

use syscord_arch::{Arch, SyscallTable};
use syscord_common::rule_flags;
use syscord_handlers::decode::Decoder;
use syscord_recording::format::{
    CHUNK_END, Capture, Header, KernelChunk, Record, Summary, SyscallEvent, TaskEvent,
    TaskEventKind, Writer, kernel_records,
};

/// Bytes of a file header before its JSON (magic, version, reserved, length).
const FIXED_HEADER_LEN: usize = 16;
/// Bytes of a chunk's head before its compressed payload.
const CHUNK_HEAD_LEN: usize = 24;

fn main() {
    let dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/reader"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("create the corpus folder");
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();

    let files = [
        ("x86_64-finished", recording(Arch::X86_64, 1, true)),
        ("aarch64-killed", recording(Arch::Aarch64, 2, false)),
        ("riscv64-finished", recording(Arch::Riscv64, 1, true)),
        ("riscv64-empty", recording(Arch::Riscv64, 0, true)),
        (
            "x86_64-kernel-finished",
            kernel_recording(Arch::X86_64, true),
        ),
        (
            "aarch64-kernel-killed",
            kernel_recording(Arch::Aarch64, false),
        ),
        (
            "x86_64-version-1",
            include_bytes!("../../recording/tests/data/version-1.rec").to_vec(),
        ),
    ];
    for (name, file) in &files {
        // Mode 0: the file as it is.
        seeds.push((format!("file-{name}"), [&[0u8][..], file].concat()));
        // Mode 2: each chunk's payload, uncompressed, with its kind and count.
        for (i, (kind, count, raw)) in chunks(file).into_iter().enumerate() {
            let count = u8::try_from(count).expect("seed chunks are small");
            seeds.push((
                format!("chunk-{name}-{i}"),
                [&[2, kind, count][..], &raw].concat(),
            ));
        }
    }
    // Mode 1: any bytes choose records; a few different ones to start from.
    for (i, step) in [1u8, 7, 61].into_iter().enumerate() {
        let bytes: Vec<u8> = (0..512u32).map(|b| (b as u8).wrapping_mul(step)).collect();
        seeds.push((format!("records-{i}"), [&[1u8][..], &bytes].concat()));
    }

    for (name, bytes) in &seeds {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write a seed");
    }
    println!("{} seeds in {}", seeds.len(), dir.display());
}

/// The header of the seed recordings: `cat /etc/hostname` on 2 CPUs.
fn header(arch: Arch) -> Header {
    Header {
        arch,
        kernel_release: "6.1.0-seed".into(),
        hostname: "seed".into(),
        start_wall_ns: 1_700_000_000_000_000_000,
        start_boot_ns: 1_000_000,
        snap_len: 256,
        command: vec!["cat".into(), "/etc/hostname".into()],
        target: "command".into(),
        filter: None,
        syscord_version: "0.1.0".into(),
        cpus: 2,
        part: 0,
        captures: syscord_handlers::Registry::new(arch)
            .map(|r| r.capture_names())
            .unwrap_or_default(),
        ring_publish: String::new(),
        exec_argv: String::new(),
    }
}

/// A recording of a short program: `rounds` rounds of typical syscalls, one chunk per round,
/// with or without its end chunk.
fn recording(arch: Arch, rounds: u64, finish: bool) -> Vec<u8> {
    let header = header(arch);
    let mut file = Vec::new();
    let mut writer = Writer::new(&mut file, &header).expect("write to memory");
    let calls = Calls::new(arch);
    let mut ts = 2_000_000;
    for round in 0..rounds {
        let mut chunk = kernel_records::chunk_of(&calls.round(round, &mut ts));
        chunk.push_watermark(ts);
        writer.write_kernel(&chunk).expect("write to memory");
    }
    if finish {
        let summary = Summary {
            records: writer.records(),
            lost_records_per_cpu: vec![3, 0],
            end_wall_ns: 1_700_000_000_100_000_000,
            end_boot_ns: ts,
            exit_status: Some(0),
            ..Default::default()
        };
        writer.finish(&summary).expect("write to memory");
    } else {
        drop(writer);
    }
    file
}

/// What a version 2 recorder writes: kernel chunks of ring records from two CPUs (an exec
/// and its execve, calls with captures, a fork, a rename, a gap in CPU 1's numbers, an
/// exit), with a thread name item, and the end chunk or not.
fn kernel_recording(arch: Arch, finish: bool) -> Vec<u8> {
    let header = header(arch);
    let calls = Calls::new(arch);
    let (pid, tid) = (100, 100);
    let at = |seq, ts_ns, mut e: SyscallEvent| {
        (e.seq, e.ts_ns) = (seq, ts_ns);
        kernel_records::syscall(&e)
    };
    let mut execve = calls.call("execve", [1, 2, 3, 0, 0, 0], 0, &[]);
    execve.rule_flags = rule_flags::EXEC;
    let mut read = calls.call("read", [3, 0x4000, 4096, 0, 0, 0], 5, &[b"host\n"]);
    read.duration_ns = Some(50);
    let openat = calls.call(
        "openat",
        [(-100i64) as u64, 0x1000, 0, 0, 0, 0],
        3,
        &[b"/etc/hostname"],
    );
    let cpu0 = [
        kernel_records::exec(1, 2_000, pid, tid, b"/usr/bin/cat", b"cat\0/etc/hostname\0"),
        at(2, 2_100, execve),
        at(3, 2_200, openat),
        at(4, 2_300, read),
        kernel_records::fork(5, 2_400, pid, tid, 101, 101),
    ];
    let getppid = SyscallEvent {
        pid: 101,
        tid: 101,
        ..calls.call("getppid", [0; 6], 100, &[])
    };
    let cpu1 = [
        kernel_records::rename(1, 2_500, 101, 101, b"worker"),
        // Numbers 2 to 4 were lost.
        at(5, 2_600, getppid),
        kernel_records::exit(6, 2_700, 101, 101, 0),
    ];
    let mut chunk = KernelChunk::default();
    chunk.push_name(pid, tid, b"sh");
    kernel_records::span(&mut chunk, 0, &cpu0);
    kernel_records::span(&mut chunk, 1, &cpu1);
    let mut file = Vec::new();
    let mut writer = Writer::new(&mut file, &header).expect("write to memory");
    writer.write_kernel(&chunk).expect("write to memory");
    if finish {
        let summary = Summary {
            records: writer.records(),
            lost_records_per_cpu: vec![0, 3],
            end_wall_ns: 1_700_000_000_100_000_000,
            end_boot_ns: 3_000,
            exit_status: Some(0),
            last_seq_per_cpu: vec![7, 6],
            ..Default::default()
        };
        writer.finish(&summary).expect("write to memory");
    } else {
        drop(writer);
    }
    file
}

/// Syscall records with the captures their handlers describe.
struct Calls {
    table: &'static SyscallTable,
    decoder: Decoder,
}

impl Calls {
    fn new(arch: Arch) -> Calls {
        Calls {
            table: SyscallTable::of(arch),
            decoder: Decoder::new(arch).expect("the built-in handlers are consistent"),
        }
    }

    /// `name(args) = ret`, its handler's captures holding `captured` in order.
    fn call(&self, name: &str, args: [u64; 6], ret: i64, captured: &[&[u8]]) -> SyscallEvent {
        let nr = self
            .table
            .number(name)
            .unwrap_or_else(|| panic!("{name} on {:?}", self.table.arch()));
        let specs = self.decoder.handler(nr).map_or(&[][..], |h| h.captures);
        let captures = specs
            .iter()
            .zip(captured)
            .enumerate()
            .map(|(id, (spec, bytes))| Capture {
                id: Some(id as u8),
                name: spec.name.to_owned(),
                len: bytes.len() as u64,
                truncated: false,
                bytes: bytes.to_vec(),
            })
            .collect();
        SyscallEvent {
            returned: true,
            rule_flags: 0,
            cpu: 0,
            seq: 0,
            ts_ns: 0,
            pid: 100,
            tid: 100,
            nr,
            ret,
            ret_addr: 0x7f00_0000_1000,
            args,
            comm: b"cat".to_vec(),
            captures,
            duration_ns: None,
        }
    }

    fn round(&self, round: u64, ts: &mut u64) -> Vec<Record> {
        let mut stat = vec![0u8; 144];
        stat[24..28].copy_from_slice(&0o100644u32.to_le_bytes());
        stat[48..56].copy_from_slice(&42u64.to_le_bytes());
        let sockaddr = [2u8, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut events = vec![
            self.call(
                "execve",
                [0x1000, 0x2000, 0x3000, 0, 0, 0],
                0,
                &[b"/usr/bin/cat\0", b"cat\0/etc/hostname\0"],
            ),
            self.call(
                "openat",
                [(-100i64) as u64, 0x1000, 0o2000000, 0, 0, 0],
                3,
                &[b"/etc/hostname\0"],
            ),
            self.call(
                "newfstatat",
                [3, 0x1000, 0x2000, 0x1000, 0, 0],
                0,
                &[b"\0", &stat],
            ),
            self.call("read", [3, 0x4000, 4096, 0, 0, 0], 5, &[b"host\n"]),
            self.call(
                "openat",
                [(-100i64) as u64, 0x1000, 0, 0, 0, 0],
                -2,
                &[b"/nonexistent\0"],
            ),
            self.call("connect", [4, 0x5000, 16, 0, 0, 0], 0, &[&sockaddr]),
            self.call("write", [1, 0x4000, 5, 0, 0, 0], 5, &[]),
            self.call("close", [3, 0, 0, 0, 0, 0], 0, &[]),
        ];
        let mut exit = self.call("exit_group", [0; 6], 0, &[]);
        exit.returned = false;
        events.push(exit);

        let mut records = Vec::new();
        let mut seq = round * 100;
        let mut next = |ts: &mut u64| {
            *ts += 1_000;
            seq += 1;
            (*ts, seq)
        };
        for mut event in events {
            (event.ts_ns, event.seq) = next(ts);
            records.push(Record::Syscall(event));
        }
        // Thread events on the other CPU, numbered after the calls.
        let task = |(ts_ns, seq), kind| {
            Record::Task(TaskEvent {
                cpu: 1,
                seq,
                ts_ns,
                pid: 100,
                tid: 100,
                kind,
            })
        };
        records.push(task(
            next(ts),
            TaskEventKind::Fork {
                child_tid: 101,
                child_pid: 101,
            },
        ));
        records.push(task(
            next(ts),
            TaskEventKind::Rename {
                comm: b"worker".to_vec(),
            },
        ));
        // Three numbers lost.
        for _ in 0..3 {
            next(ts);
        }
        records.push(task(next(ts), TaskEventKind::Exit { code: 0 }));
        records
    }
}

/// Each chunk of a recording: its kind, record count and uncompressed payload.
fn chunks(file: &[u8]) -> Vec<(u8, u32, Vec<u8>)> {
    let word = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().expect("4 bytes"));
    let json_len = word(12) as usize;
    let mut at = FIXED_HEADER_LEN + json_len + 4;
    let mut chunks = Vec::new();
    while at < file.len() {
        let (kind, raw_len, stored_len, count) =
            (file[at + 4], word(at + 8), word(at + 12), word(at + 16));
        let stored = &file[at + CHUNK_HEAD_LEN..at + CHUNK_HEAD_LEN + stored_len as usize];
        let raw = zstd::bulk::decompress(stored, raw_len as usize).expect("a chunk we wrote");
        chunks.push((kind, if kind == CHUNK_END { 0 } else { count }, raw));
        at += CHUNK_HEAD_LEN + stored_len as usize;
    }
    chunks
}
